//! Conntrack pane: Cilium CT entries (ct4/ct6 TCP, any4/any6 others) as a table. Big tables
//! (half a million entries) stay fast: sorting uses cheap keys, rows are keyed by a hash of the
//! tuple, and only the rows on screen are formatted.

use super::cilium;
use super::format;
use super::registry::PaneDef;
use super::table::{no_emphasis, Align, Column, Ctx, Emphasis, SortKey, TableDef, TablePane};
use super::text;
use super::theme::Theme;
use crate::app::state::{App, RowKey, TableView};
use crate::model::{CtEntry, Snapshot};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::Frame;
use std::collections::HashMap;

/// `ct4_global` → `ct4`, `ct_any6_global` → `any6`.
pub fn table_short(t: &str) -> String {
    let t = t.trim_start_matches("cilium_").trim_end_matches("_global");
    t.strip_prefix("ct_").unwrap_or(t).to_string()
}

/// `OUT`, `IN`, `SVC`, with ` rel` for related entries (ICMP errors of a flow).
pub fn direction(e: &CtEntry) -> String {
    if e.related {
        format!("{} rel", e.direction)
    } else {
        e.direction.to_string()
    }
}

/// `10.0.1.23:48526 → 10.96.0.10:53` in the order the connection was made.
pub fn connection(e: &CtEntry) -> String {
    format!(
        "{} → {}",
        cilium::host_port(&e.src.text(), e.src_port),
        cilium::host_port(&e.dst.text(), e.dst_port)
    )
}

pub fn expires(e: &CtEntry) -> String {
    if e.expires_in_s < 0 {
        format!("expired {}s", -e.expires_in_s)
    } else {
        format!("{}s", e.expires_in_s)
    }
}

/// `5 10.96.0.10:53/UDP` when the rev-NAT id names a service, the bare id otherwise.
pub fn service(e: &CtEntry, snap: &Snapshot) -> String {
    let fe = snap
        .services
        .iter()
        .find(|s| s.rev_nat_id == e.rev_nat_id)
        .map(super::services::frontend_text);
    service_with(e, fe)
}

fn service_with(e: &CtEntry, fe: Option<String>) -> String {
    if e.rev_nat_id == 0 {
        return format::NONE.into();
    }
    let mut t = match fe {
        Some(f) => format!("{} {f}", e.rev_nat_id),
        None => e.rev_nat_id.to_string(),
    };
    if let Some(b) = e.backend_id.filter(|b| *b != 0) {
        t.push_str(&format!(" be {b}"));
    }
    t
}

/// FNV-1a over the tuple: a stable row identity that costs no allocation.
pub fn row_key(e: &CtEntry) -> RowKey {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: &[u8]| {
        for x in b {
            h ^= u64::from(*x);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    eat(e.table.as_bytes());
    eat(e.protocol.as_bytes());
    eat(e.direction.as_bytes());
    eat(&[u8::from(e.related)]);
    eat(e.src.text().as_bytes());
    eat(&e.src_port.to_be_bytes());
    eat(e.dst.text().as_bytes());
    eat(&e.dst_port.to_be_bytes());
    RowKey::Id(h)
}

fn num(v: f64) -> SortKey {
    SortKey::Num(Some(v))
}

fn opt(v: Option<u64>) -> SortKey {
    SortKey::Num(v.map(|n| n as f64))
}

pub const EXPIRES_COLUMN: usize = 5;

pub const COLUMNS: &[Column<CtEntry>] = &[
    Column {
        header: "TABLE",
        width: 5,
        flex: false,
        priority: 3,
        align: Align::Left,
        sort: |e, _| SortKey::Text(e.table.to_string()),
        cell: |e, _| table_short(&e.table),
        emphasis: no_emphasis,
    },
    Column {
        header: "PROTO",
        width: 6,
        flex: false,
        priority: 1,
        align: Align::Left,
        sort: |e, _| SortKey::Text(e.protocol.to_string()),
        cell: |e, _| e.protocol.to_string(),
        emphasis: no_emphasis,
    },
    Column {
        header: "DIR",
        width: 7,
        flex: false,
        priority: 0,
        align: Align::Left,
        sort: |e, _| SortKey::Text(direction(e)),
        cell: |e, _| direction(e),
        emphasis: no_emphasis,
    },
    Column {
        header: "CONNECTION",
        width: 33,
        flex: true,
        priority: 0,
        align: Align::Left,
        sort: |e, _| SortKey::Text(cilium::addr_sort_key(&e.src.text())),
        cell: |e, _| connection(e),
        emphasis: no_emphasis,
    },
    Column {
        header: "FLAGS",
        width: 18,
        flex: false,
        priority: 3,
        align: Align::Left,
        sort: |e, _| SortKey::Text(e.flags.join(" ")),
        cell: |e, _| e.flags.join(" "),
        emphasis: no_emphasis,
    },
    Column {
        header: "EXPIRES",
        width: 11,
        flex: false,
        priority: 0,
        align: Align::Right,
        sort: |e, _| num(e.expires_in_s as f64),
        cell: |e, _| expires(e),
        emphasis: |e, _| {
            if e.expires_in_s < 0 {
                Emphasis::Dim
            } else {
                Emphasis::Normal
            }
        },
    },
    Column {
        header: "SERVICE (REVNAT)",
        width: 24,
        flex: false,
        priority: 2,
        align: Align::Left,
        sort: |e, _| num(f64::from(e.rev_nat_id)),
        cell: |e, c| service(e, c.snap),
        emphasis: no_emphasis,
    },
    Column {
        header: "SRC IDENTITY",
        width: 14,
        flex: false,
        priority: 1,
        align: Align::Left,
        sort: |e, _| num(f64::from(e.src_identity)),
        cell: |e, _| cilium::identity_text(e.src_identity),
        emphasis: no_emphasis,
    },
    Column {
        header: "PACKETS",
        width: 8,
        flex: false,
        priority: 3,
        align: Align::Right,
        sort: |e, _| opt(e.packets),
        cell: |e, _| cilium::count(e.packets),
        emphasis: no_emphasis,
    },
    Column {
        header: "BYTES",
        width: 9,
        flex: false,
        priority: 1,
        align: Align::Right,
        sort: |e, _| opt(e.bytes),
        cell: |e, _| cilium::count(e.bytes),
        emphasis: no_emphasis,
    },
];

pub const TABLE: TableDef<CtEntry> = TableDef {
    columns: COLUMNS,
    key: row_key,
    default_sort: EXPIRES_COLUMN,
    default_desc: false,
};

/// A numeric sort value: `None` sorts last in both directions, like the generic table.
fn num_key(e: &CtEntry, col: usize) -> Option<Option<i128>> {
    Some(match COLUMNS.get(col)?.header {
        "EXPIRES" => Some(i128::from(e.expires_in_s)),
        "SERVICE (REVNAT)" => Some(i128::from(e.rev_nat_id)),
        "SRC IDENTITY" => Some(i128::from(e.src_identity)),
        "PACKETS" => e.packets.map(i128::from),
        "BYTES" => e.bytes.map(i128::from),
        _ => return None,
    })
}

fn row_hash(e: &CtEntry) -> u64 {
    match row_key(e) {
        RowKey::Id(h) => h,
        RowKey::Path(_) => 0,
    }
}

/// Does the row match the filter? The same cells as the table, with the service and identity
/// lookups prepared once instead of per row.
fn matcher<'a>(snap: &'a Snapshot, filter: &str) -> impl Fn(&CtEntry) -> bool + 'a {
    let (invert, needle) = match filter.strip_prefix('!') {
        Some(rest) => (true, rest.to_lowercase()),
        None => (false, filter.to_lowercase()),
    };
    let frontends: HashMap<u16, String> = snap
        .services
        .iter()
        .rev()
        .map(|s| (s.rev_nat_id, super::services::frontend_text(s)))
        .collect();
    move |e: &CtEntry| {
        if needle.is_empty() {
            return true;
        }
        let cells = [
            table_short(&e.table),
            e.protocol.to_string(),
            direction(e),
            connection(e),
            e.flags.join(" "),
            expires(e),
            service_with(e, frontends.get(&e.rev_nat_id).cloned()),
            cilium::identity_text(e.src_identity),
            cilium::count(e.packets),
            cilium::count(e.bytes),
        ];
        cells.iter().any(|c| c.to_lowercase().contains(&needle)) != invert
    }
}

/// Visible rows in order. Numeric columns sort on plain integers (half a million rows in a
/// frame); text columns use the generic table order.
pub fn order(rows: &[CtEntry], ctx: &Ctx, view: &TableView) -> Vec<usize> {
    let col = view.sort.unwrap_or(TABLE.default_sort);
    let desc = view.sort_desc.unwrap_or(TABLE.default_desc);
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    if num_key(first, col).is_none() {
        return TABLE.order(rows, ctx, view);
    }
    let keep = matcher(ctx.snap, &view.filter);
    let mut keyed: Vec<(bool, i128, u64, usize)> = rows
        .iter()
        .enumerate()
        .filter(|(_, e)| view.filter.is_empty() || keep(e))
        .filter(|(_, e)| super::table::passes_changes_only(*e, ctx))
        .map(|(i, e)| {
            let v = num_key(e, col).flatten();
            let k = v.unwrap_or(0);
            (v.is_none(), if desc { -k } else { k }, row_hash(e), i)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, _, _, i)| i).collect()
}

fn keys(app: &App) -> Vec<RowKey> {
    let rows = &app.snapshot.conntrack;
    order(rows, &Ctx::of(app), app.view())
        .into_iter()
        .map(|i| row_key(&rows[i]))
        .collect()
}

/// `showing N of M (read capped)` when the collector stopped at its cap.
pub fn capped_note(snap: &Snapshot) -> Option<String> {
    let total = snap.cilium.as_ref().and_then(|c| c.ct_total)?;
    (total > snap.conntrack.len() as u64).then(|| text::capped(snap.conntrack.len(), total))
}

fn draw(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let snap = &app.snapshot;
    let mut legend = cilium::layout_suffix(snap);
    if let Some(n) = capped_note(snap) {
        legend = format!("· {n} {legend}");
    }
    if snap.conntrack.is_empty() {
        let mut title = super::table_title("Conntrack", 0, 0, &app.view().filter);
        title.push_str(&legend);
        cilium::draw_empty(
            frame,
            area,
            Line::from(title),
            snap,
            "conntrack",
            app.waiting,
            theme,
        );
        return;
    }
    let c = Ctx::of(app);
    let rows = order(&snap.conntrack, &c, app.view());
    TablePane {
        def: &TABLE,
        rows: &snap.conntrack,
        ctx: &c,
        view: app.view(),
        name: "Conntrack",
        empty: "",
        empty_warn: false,
        sortable: true,
        legend: &legend,
    }
    .draw_ordered(frame, area, theme, &rows);
}

fn plain(snap: &Snapshot, prev: Option<&Snapshot>) -> super::plain::PlainTable {
    super::plain::from_snapshot(&TABLE, &snap.conntrack, snap, prev)
}

pub const PANE: PaneDef = PaneDef {
    name: "conntrack",
    title: "Conntrack",
    aliases: &["ct", "conn"],
    count: |s| s.conntrack.len(),
    columns: COLUMNS.len(),
    default_sort: EXPIRES_COLUMN,
    default_desc: false,
    keys,
    open: super::registry::opens_nothing,
    draw,
    groups: super::registry::no_groups,
    plain,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> (Snapshot, Vec<CtEntry>) {
        let mut s = Snapshot::empty();
        s.services = vec![crate::model::Service {
            frontend: "10.96.0.10:53/UDP".into(),
            rev_nat_id: 2,
            ..Default::default()
        }];
        let rows = (0..40)
            .map(|i| CtEntry {
                table: "ct4_global".into(),
                protocol: if i % 3 == 0 { "UDP" } else { "TCP" }.into(),
                direction: "OUT".into(),
                src: format!("10.0.0.{i}").into(),
                src_port: 1000 + i as u16,
                dst: "10.0.1.1".into(),
                dst_port: 53,
                expires_in_s: (i * 7 % 11) as i64 - 2,
                rev_nat_id: (i % 3) as u16,
                src_identity: (i % 5) as u32,
                packets: (i % 4 != 0).then_some(i as u64),
                bytes: (i % 4 != 0).then_some(i as u64 * 100 % 370),
                ..Default::default()
            })
            .collect();
        (s, rows)
    }

    /// The fast order agrees with the generic table order on every column, both directions,
    /// with and without filters.
    #[test]
    fn fast_order_matches_the_generic_order() {
        let (s, rows) = rows();
        let rates = crate::app::rates::Rates::default();
        let ctx = Ctx {
            snap: &s,
            rates: &rates,
            baseline: None,
        };
        for (col, column) in COLUMNS.iter().enumerate() {
            for desc in [false, true] {
                for filter in ["", "udp", "!10.96.0.10", "2 world", "expired"] {
                    let view = TableView {
                        sort: Some(col),
                        sort_desc: Some(desc),
                        filter: filter.into(),
                        ..Default::default()
                    };
                    assert_eq!(
                        order(&rows, &ctx, &view),
                        TABLE.order(&rows, &ctx, &view),
                        "column {} desc {desc} filter {filter:?}",
                        column.header
                    );
                }
            }
        }
    }

    #[test]
    fn text_forms() {
        assert_eq!(table_short("ct4_global"), "ct4");
        assert_eq!(table_short("ct_any6_global"), "any6");
        assert_eq!(table_short("cilium_ct_any4_global"), "any4");
        let e = CtEntry {
            direction: "OUT".into(),
            related: true,
            src: "fd00::1".into(),
            src_port: 1,
            dst: "10.0.0.1".into(),
            dst_port: 80,
            expires_in_s: -3,
            ..Default::default()
        };
        assert_eq!(direction(&e), "OUT rel");
        assert_eq!(connection(&e), "[fd00::1]:1 → 10.0.0.1:80");
        assert_eq!(expires(&e), "expired 3s");
        assert_ne!(row_key(&e), row_key(&CtEntry::default()));
    }
}
