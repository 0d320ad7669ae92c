//! Map details: fields and a page of entries (PgDn past the end asks for the next page).

use super::theme::Theme;
use crate::app::state::{App, MapDetailView};
use crate::pane::format;
use crate::text;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, d: &MapDetailView, theme: &Theme) {
    let s = &app.snapshot;
    let Some(m) = s.map(d.id) else {
        super::empty_state(
            frame,
            area,
            Line::from(format!(" Map {} ", d.id)),
            &format!("map {} is gone (freed since)", d.id),
            theme,
            true,
        );
        return;
    };
    let users: Vec<String> = m
        .prog_ids
        .iter()
        .map(|id| match s.program(*id) {
            Some(p) => format!("{id} {}", p.name),
            None => id.to_string(),
        })
        .collect();
    let label = |k: &str| Span::styled(format!("{k:<9}"), theme.label());
    let pressure = crate::pane::maps::pressure(m);
    let warn = m
        .pressure()
        .is_some_and(|p| p > crate::pane::maps::PRESSURE_WARN);
    let mut info = vec![
        Line::from(vec![
            label("type"),
            Span::raw(format!(
                "{}  key {} B  value {} B  flags 0x{:x}  btf {}",
                m.map_type, m.key_size, m.value_size, m.map_flags, m.btf_id
            )),
        ]),
        Line::from(vec![
            label("entries"),
            Span::raw(format!(
                "{} of max {}  ",
                crate::pane::maps::entries(m),
                m.max_entries
            )),
            Span::styled(
                format!("use {}", pressure.trim_end()),
                if warn { theme.warn() } else { theme.base() },
            ),
            Span::raw(format!("  memory {}", format::bytes(m.memory_bytes))),
        ]),
        Line::from(vec![
            label("pinned"),
            Span::raw(if m.pinned.is_empty() {
                format::NONE.into()
            } else {
                m.pinned.join(", ")
            }),
        ]),
        Line::from(vec![
            label("used by"),
            Span::raw(if users.is_empty() {
                format::NONE.into()
            } else {
                users.join(", ")
            }),
        ]),
    ];
    if warn {
        info.push(Line::from(Span::styled(
            text::PRESSURE_LEGEND,
            theme.warn(),
        )));
    }
    let info_h = info.len() as u16 + 2;
    let [top, bottom] =
        Layout::vertical([Constraint::Length(info_h), Constraint::Min(3)]).areas(area);
    frame.render_widget(
        Paragraph::new(info)
            .wrap(Wrap { trim: false })
            .block(super::block(
                format!(" Map {} {} (Esc back) ", m.id, crate::pane::maps::name(m)),
                theme,
            )),
        top,
    );

    let dump = app.map_page(d.id);
    let Some(dump) = dump.filter(|x| x.offset == d.offset || !app.is_live()) else {
        let msg = if app.is_live() {
            text::REQUESTING
        } else {
            text::NOT_CAPTURED
        };
        super::empty_state(frame, bottom, Line::from(" Entries "), msg, theme, false);
        return;
    };
    if let Some(e) = &dump.error {
        super::empty_state(
            frame,
            bottom,
            Line::from(" Entries "),
            &format!("cannot read entries: {e}"),
            theme,
            true,
        );
        return;
    }
    let n = dump.entries.len();
    let more = if dump.more { ", more: PgDn" } else { "" };
    let percpu = if dump.entries.iter().any(|e| !e.per_cpu.is_empty()) {
        if d.per_cpu {
            "  c: sum"
        } else {
            "  c: per-CPU"
        }
    } else {
        ""
    };
    let title = format!(
        " Entries {}–{} of {} ({}{more}){percpu} ",
        if n == 0 { dump.offset } else { dump.offset + 1 },
        dump.offset + n as u64,
        crate::pane::maps::entries(m),
        dump.format
    );
    if n == 0 {
        super::empty_state(
            frame,
            bottom,
            Line::from(title),
            text::MAP_EMPTY,
            theme,
            false,
        );
        return;
    }
    let h = usize::from(bottom.height.saturating_sub(3)).max(1);
    let sel = d.cursor.min(n - 1);
    let off = if sel < h { 0 } else { sel + 1 - h };
    let rows: Vec<Row> = dump.entries[off..(off + h).min(n)]
        .iter()
        .map(|e| {
            let v = if d.per_cpu && !e.per_cpu.is_empty() {
                e.per_cpu
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("cpu{i} {v}"))
                    .collect::<Vec<_>>()
                    .join(" │ ")
            } else {
                e.value.clone()
            };
            Row::new([Cell::from(e.key.clone()), Cell::from(v)])
        })
        .collect();
    let table = Table::new(
        rows,
        [Constraint::Percentage(45), Constraint::Percentage(55)],
    )
    .header(
        Row::new([
            "KEY",
            if d.per_cpu {
                "VALUE (per CPU)"
            } else {
                "VALUE"
            },
        ])
        .style(theme.table_header()),
    )
    .row_highlight_style(theme.selected())
    .highlight_symbol("▶")
    .block(super::block(title, theme));
    let mut state = TableState::default().with_selected(Some(sel - off));
    frame.render_stateful_widget(table, bottom, &mut state);
}
