//! Header (node facts, data time, PAUSED/REPLAY), tabs row, and footer (key hints, messages).

use super::theme::Theme;
use crate::app::keys;
use crate::app::mouse::Hits;
use crate::app::state::{App, Mode};
use crate::model::PaneId;
use crate::pane::format;
use crate::text;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn jit(v: Option<i64>) -> &'static str {
    match v {
        Some(0) => "off",
        Some(1) => "on",
        Some(2) => "on+debug",
        Some(_) => "?",
        None => "unknown",
    }
}

/// Presentation mode's banner: which node and when the data was taken, big enough to read on
/// a shared screen, then a blank line.
pub fn draw_banner(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let n = &app.snapshot.node;
    let host = if n.hostname.is_empty() {
        format::NONE
    } else {
        n.hostname.as_str()
    };
    let taken = if app.waiting {
        text::WAITING.to_string()
    } else {
        app.snapshot
            .taken_at
            .replacen('T', " ", 1)
            .replace('Z', " UTC")
    };
    let line = Line::from(Span::styled(
        format!("  {host}   ·   data taken {taken}  "),
        theme.marker(),
    ))
    .centered();
    frame.render_widget(Paragraph::new(vec![line]), area);
}

pub fn draw_header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let n = &app.snapshot.node;
    let sep = || Span::styled(" │ ", theme.dim());
    let kv = |k: &'static str, v: String| {
        vec![
            Span::styled(k, theme.label()),
            Span::styled(v, theme.header_bar()),
        ]
    };
    let or_dash = |s: &str| {
        if s.is_empty() {
            format::NONE.to_string()
        } else {
            s.to_string()
        }
    };

    let mut l1 = vec![Span::styled(format!(" {} ", text::APP), theme.title())];
    // Markers first: they must survive a narrow terminal.
    if app.paused {
        l1.push(Span::styled(text::PAUSED, theme.marker()));
        l1.push(Span::raw(" "));
    }
    if let Some(c) = &app.cluster {
        // Which node every pane shows: the first thing to read on a bundle's screen.
        let name = c.node().map_or(format::NONE, |n| n.name.as_str());
        l1.push(Span::styled(
            format!(" NODE {name} ({}/{}) ", c.selected + 1, c.nodes.len()),
            theme.marker(),
        ));
        l1.push(Span::raw(" "));
        l1.push(Span::styled(
            format!("bundle {}", c.dir),
            theme.header_bar(),
        ));
        l1.push(sep());
    } else if let Some(r) = &app.replay {
        l1.push(Span::styled(
            format!(
                " REPLAY {} ({}/{}) ",
                r.path,
                r.index + 1,
                r.snapshots.len()
            ),
            theme.marker(),
        ));
        if r.snapshots.len() > 1 {
            l1.push(Span::raw(" "));
            l1.push(Span::styled(
                timeline(r.index, r.snapshots.len(), 16),
                theme.header_bar(),
            ));
            // Time into the recording, on the collector's monotonic clock.
            if let (Some(t0), Some(t)) = (r.snapshots.first(), r.snapshots.get(r.index)) {
                if t0.monotonic_ns > 0 && t.monotonic_ns >= t0.monotonic_ns {
                    l1.push(Span::styled(
                        format!(" +{}", format::age(t.monotonic_ns - t0.monotonic_ns)),
                        theme.header_bar(),
                    ));
                }
            }
        }
        l1.push(Span::raw(" "));
    }
    if let Some(r) = app.recording.as_ref().filter(|r| r.active) {
        l1.push(Span::styled(format!(" ● REC {} ", r.lines), theme.marker()));
        l1.push(Span::raw(" "));
    }
    if let Some(b) = &app.baseline {
        let only = if b.changes_only { " changes only" } else { "" };
        // The marks shown are still those of the previous snapshot.
        let comparing = if app.comparing() { text::COMPARING } else { "" };
        l1.push(Span::styled(
            format!(" BASELINE {}{only}{comparing} ", or_dash(b.taken_at())),
            theme.marker(),
        ));
        l1.push(Span::raw(" "));
    }
    l1.push(Span::styled(or_dash(&n.hostname), theme.header_bar()));
    l1.push(sep());
    let taken = if app.waiting {
        text::WAITING.to_string()
    } else {
        or_dash(&app.snapshot.taken_at)
    };
    l1.extend(kv("data ", taken));
    l1.push(sep());
    l1.extend(kv("map mem ", format::bytes(n.map_memory_bytes)));

    let stats_style = if n.stats_enabled {
        theme.ok()
    } else {
        theme.warn()
    };
    let interval = if app.interval_ms > 0 {
        app.interval_ms
    } else {
        n.interval_ms
    };
    let mut l2 = vec![Span::raw(" ")];
    l2.extend(kv("kernel ", or_dash(&n.kernel_release)));
    l2.push(sep());
    l2.extend(kv("BTF ", yes_no(n.btf).to_string()));
    l2.push(sep());
    l2.extend(kv("JIT ", jit(n.jit_enabled).to_string()));
    l2.push(sep());
    l2.push(Span::styled(
        if n.stats_enabled {
            "stats on"
        } else {
            "stats off"
        },
        stats_style,
    ));
    l2.push(sep());
    let every = if interval == 0 {
        format::NONE.to_string()
    } else if interval % 1000 == 0 {
        format!("{}s", interval / 1000)
    } else {
        format!("{interval}ms")
    };
    l2.extend(kv("every ", every));
    if let Some(wait) = n.stretched_ms {
        // The collection took longer than the interval: the interval stretched.
        l2.push(Span::styled(format!(" (slow: {wait}ms)"), theme.warn()));
    }
    l2.push(sep());
    l2.extend(kv(
        "lockdown ",
        n.lockdown.clone().unwrap_or_else(|| format::NONE.into()),
    ));
    l2.push(sep());
    let lsms = if n.lsms.is_empty() {
        format::NONE.to_string()
    } else {
        n.lsms.join(",")
    };
    l2.extend(kv("LSMs ", lsms));
    frame.render_widget(Paragraph::new(vec![Line::from(l1), Line::from(l2)]), area);
}

pub fn draw_tabs(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, hits: &mut Hits) {
    let ctx = app.ctx();
    // Counts of inactive tabs go first when the tabs do not fit; then a window keeps the
    // active tab visible.
    let all = app.tabs();
    let active = all.iter().position(|p| *p == app.pane).unwrap_or(0);
    let labels = |counts: bool| -> Vec<String> {
        all.iter()
            .enumerate()
            .map(|(i, &id)| {
                let p = crate::pane::get(id);
                if id == PaneId::Node || !(counts || id == app.pane) {
                    format!(" {} {} ", i + 1, p.title())
                } else {
                    format!(" {} {} ({}) ", i + 1, p.title(), p.count(&ctx))
                }
            })
            .collect()
    };
    let width = |v: &[String]| -> usize {
        v.iter()
            .map(|l| Span::raw(l.as_str()).width() + 1)
            .sum::<usize>()
            + 1
    };
    let avail = usize::from(area.width);
    let mut tabs = labels(true);
    if width(&tabs) > avail {
        tabs = labels(false);
    }
    let (first, last) = tab_window(&tabs, active, avail);
    let mut spans = vec![Span::styled(if first > 0 { "‹" } else { " " }, theme.dim())];
    if first > 0 {
        // The `‹` opens the tab just out of sight.
        super::hits::tab(hits, Rect::new(area.x, area.y, 1, 1), all[first - 1]);
    }
    let mut x = area.x.saturating_add(1);
    for (i, label) in tabs.iter().enumerate().take(last + 1).skip(first) {
        let style = if i == active {
            theme.tab_active()
        } else {
            theme.tab()
        };
        let w = Span::raw(label.as_str()).width() as u16;
        let right = area.x.saturating_add(area.width);
        let tab = Rect::new(x, area.y, w.min(right.saturating_sub(x)), 1);
        super::hits::tab(hits, tab, all[i]);
        x = x.saturating_add(w + 1);
        spans.push(Span::styled(label.clone(), style));
        spans.push(Span::raw(" "));
    }
    if last + 1 < tabs.len() {
        super::hits::tab(hits, Rect::new(x, area.y, 1, 1), all[last + 1]);
        spans.push(Span::styled("›", theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// First and last tab shown so that the active one is visible within `avail` columns.
fn tab_window(tabs: &[String], active: usize, avail: usize) -> (usize, usize) {
    let w = |i: usize| Span::raw(tabs[i].as_str()).width() + 1;
    let n = tabs.len();
    if n == 0 {
        return (0, 0);
    }
    let active = active.min(n - 1);
    // Two columns for the `‹` and `›` markers.
    let budget = avail.saturating_sub(2);
    let (mut first, mut last) = (active, active);
    let mut used = w(active);
    loop {
        let mut grew = false;
        if last + 1 < n && used + w(last + 1) <= budget {
            last += 1;
            used += w(last);
            grew = true;
        }
        if first > 0 && used + w(first - 1) <= budget {
            first -= 1;
            used += w(first);
            grew = true;
        }
        if !grew {
            return (first, last);
        }
    }
}

/// The line being typed (filter or palette) in at most `width` columns, scrolled so the
/// cursor shows: the cursor is the character under it in reverse video, or `█` after the
/// last character. The line holds no control characters (the reducer drops them).
pub fn typed_line(input: &tui_input::Input, width: usize, theme: &Theme) -> Vec<Span<'static>> {
    use unicode_width::UnicodeWidthChar;
    let width = width.max(1);
    // One column is kept for the cursor after the last character.
    let scroll = input.visual_scroll(width - 1);
    let cursor = input.cursor();
    let (mut before, mut under, mut after) = (String::new(), None, String::new());
    let mut col = 0;
    for (n, c) in input.value().chars().enumerate() {
        let start = col;
        col += c.width().unwrap_or(0);
        if start < scroll || col > scroll + width {
            continue;
        }
        match n.cmp(&cursor) {
            std::cmp::Ordering::Less => before.push(c),
            std::cmp::Ordering::Equal => under = Some(c),
            std::cmp::Ordering::Greater => after.push(c),
        }
    }
    let text = theme.header_bar();
    let mut out = vec![Span::styled(before, text)];
    match under {
        Some(c) => out.push(Span::styled(
            c.to_string(),
            text.add_modifier(ratatui::style::Modifier::REVERSED),
        )),
        None => out.push(Span::styled("█", theme.dim())),
    }
    if !after.is_empty() {
        out.push(Span::styled(after, text));
    }
    out
}

pub fn draw_footer(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut hint = vec![Span::raw(" ")];
    match app.mode {
        Mode::Filter => {
            hint.push(Span::styled("/", theme.key()));
            // The whole line but the margins: hints that no longer fit are left out.
            let width = usize::from(area.width).saturating_sub(4);
            hint.extend(typed_line(&app.input, width, theme));
            hint.push(Span::raw("  "));
        }
        Mode::Palette | Mode::Normal => {}
    }
    // Only whole hints: a cut-off hint reads as a different key.
    let mut used: usize = hint.iter().map(Span::width).sum();
    for (k, d) in keys::hints(app) {
        let rest = format!(" {d}  ");
        let w = Span::raw(k).width() + Span::raw(rest.as_str()).width();
        if used + w > usize::from(area.width) + 2 {
            break;
        }
        used += w;
        hint.push(Span::styled(k, theme.key()));
        hint.push(Span::styled(rest, theme.dim()));
    }
    let status = match &app.message {
        Some(m) if m.error => Line::from(Span::styled(format!(" {}", m.text), theme.error())),
        Some(m) => Line::from(Span::styled(format!(" {}", m.text), theme.warn())),
        None => {
            let w = app.snapshot.node.warnings.len();
            if w > 0 {
                Line::from(Span::styled(
                    format!(" {w} collector warning(s): see the Node pane"),
                    theme.warn(),
                ))
            } else {
                Line::default()
            }
        }
    };
    frame.render_widget(Paragraph::new(vec![Line::from(hint), status]), area);
}

/// `━━━━●───────`: where snapshot `i` of `n` sits in the recording (symbols, not colour).
pub fn timeline(i: usize, n: usize, width: usize) -> String {
    let width = width.max(2);
    let pos = if n <= 1 {
        0
    } else {
        (i.min(n - 1) * (width - 1) + (n - 1) / 2) / (n - 1)
    };
    (0..width)
        .map(|c| match c.cmp(&pos) {
            std::cmp::Ordering::Less => '━',
            std::cmp::Ordering::Equal => '●',
            std::cmp::Ordering::Greater => '─',
        })
        .collect()
}

#[cfg(test)]
mod timeline_tests {
    use super::timeline;

    #[test]
    fn the_dot_is_at_the_ends_and_moves_monotonically() {
        assert_eq!(timeline(0, 10, 8), "●───────");
        assert_eq!(timeline(9, 10, 8), "━━━━━━━●");
        assert_eq!(timeline(0, 1, 4), "●───");
        let mut last = 0;
        for i in 0..50 {
            let p = timeline(i, 50, 16).chars().position(|c| c == '●').unwrap();
            assert!(p >= last);
            last = p;
        }
        assert_eq!(last, 15);
    }
}
