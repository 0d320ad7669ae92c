//! Program details: every field, where it is attached, its maps (Enter opens one), processes,
//! helpers/kfuncs (packet-rewriting ones marked `!`), and the scrollable disassembly.

use super::theme::Theme;
use crate::app::state::{App, ProgramDetailView};
use crate::pane::attachments::{attachment_detail, attachment_flags, hook_label, link_target};
use crate::pane::format;
use crate::pane::rates::overall_avg_ns;
use crate::text;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

fn kv<'a>(k: &str, v: String, theme: &Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{k:<7}"), theme.label()),
        Span::raw(v),
    ])
}

/// Info lines, and the index of the selected map's line (to keep it in view).
fn info(
    app: &App,
    d: &ProgramDetailView,
    width: usize,
    theme: &Theme,
) -> (Vec<Line<'static>>, usize) {
    let s = &app.snapshot;
    let Some(p) = s.program(d.id) else {
        return (
            vec![Line::from(Span::styled(
                format!("program {} is gone (unloaded since)", d.id),
                theme.warn(),
            ))],
            0,
        );
    };
    let rate = app.derived.rates.get(p.id);
    let procs: Vec<String> = p
        .pids
        .iter()
        .map(|r| format!("{}[{}]", r.comm, r.pid))
        .collect();
    let own = if p.dpscope_owned {
        format!("  {}", text::OWN_LEGEND)
    } else {
        String::new()
    };
    let mut l = vec![
        kv(
            "name",
            format!("{}  (kernel: {}){own}", p.name, p.kernel_name),
            theme,
        ),
        kv(
            "type",
            format!(
                "{}  tag {}  uid {}  btf {}  gpl {}",
                p.prog_type,
                p.tag,
                p.uid,
                p.btf_id,
                if p.gpl_compatible { "yes" } else { "no" }
            ),
            theme,
        ),
        kv(
            "rate",
            format!(
                "{}  avg {} (last) {} (all)  CPU {}",
                format::per_sec(rate.map(|r| r.events_per_s)),
                format::nanos(rate.and_then(|r| r.avg_ns)),
                format::nanos(overall_avg_ns(p)),
                format::percent(rate.map(|r| r.cpu_pct)),
            ),
            theme,
        ),
        kv(
            "loaded",
            format!(
                "{} ({} ago) by {}",
                p.load_time.clone().unwrap_or_else(|| format::NONE.into()),
                format::age_since(p.load_time_ns, s.boottime_ns),
                if procs.is_empty() {
                    text::NO_PROCESS.to_string()
                } else {
                    procs.join(", ")
                }
            ),
            theme,
        ),
        kv(
            "runs",
            format!(
                "{} runs, {} ns, {} recursion misses",
                p.run_cnt, p.run_time_ns, p.recursion_misses
            ),
            theme,
        ),
        kv(
            "size",
            format!(
                "xlated {}  jited {}  verified insns {}",
                format::bytes(p.xlated_size.into()),
                format::bytes(p.jited_size.into()),
                p.verified_insns
            ),
            theme,
        ),
    ];
    l.push(Line::from(Span::styled("Attached", theme.title())));
    let mut attached = 0;
    for a in s.attachments.iter().filter(|a| a.prog_id == p.id) {
        attached += 1;
        let mut spans = vec![Span::raw(format!(
            "  {} {} #{} {}",
            a.ifname,
            hook_label(&a.hook),
            a.position,
            attachment_detail(a)
        ))];
        let flags = attachment_flags(a);
        if !flags.is_empty() {
            spans.push(Span::styled(format!("  {flags}"), theme.warn()));
        }
        l.push(Line::from(spans));
    }
    for k in s.links.iter().filter(|k| k.prog_id == p.id) {
        attached += 1;
        l.push(Line::from(format!(
            "  link {} {} → {}",
            k.id,
            k.link_type,
            link_target(k)
        )));
    }
    if attached == 0 {
        l.push(Line::from(Span::styled(text::NOT_ATTACHED, theme.dim())));
    }

    l.push(Line::from(Span::styled(
        format!("Maps ({}) — Enter opens", p.map_ids.len()),
        theme.title(),
    )));
    let mut sel_line = l.len();
    for (i, id) in p.map_ids.iter().enumerate() {
        let desc = match s.map(*id) {
            Some(m) => format!(
                "{id} {} {} {}",
                m.map_type,
                crate::pane::maps::name(m),
                crate::pane::maps::pressure(m).trim_end()
            ),
            None => format!("{id} (not in this snapshot)"),
        };
        if i == d.map_cursor {
            sel_line = l.len();
            l.push(Line::from(Span::styled(
                format!("▶ {desc}"),
                theme.selected(),
            )));
        } else {
            l.push(Line::from(format!("  {desc}")));
        }
    }
    if p.map_ids.is_empty() {
        l.push(Line::from(Span::styled(text::NO_MAPS_USED, theme.dim())));
    }

    for (title, names) in [("Helpers", &p.helpers), ("Kfuncs", &p.kfuncs)] {
        if names.is_empty() && title == "Kfuncs" {
            continue;
        }
        l.push(Line::from(Span::styled(
            format!("{title} ({})  {}", names.len(), text::REWRITE_LEGEND),
            theme.title(),
        )));
        // Wrapped by hand (no paragraph wrap) so line positions stay exact for scrolling.
        let mut spans = vec![Span::raw("  ")];
        let mut used = 2;
        for (i, h) in names.iter().enumerate() {
            let marked = text::rewrites(h);
            let word = if marked { format!("{h}!") } else { h.clone() };
            let sep = if i + 1 < names.len() { ", " } else { "" };
            let w = word.chars().count() + sep.len();
            if used + w > width && used > 2 {
                l.push(Line::from(std::mem::replace(
                    &mut spans,
                    vec![Span::raw("  ")],
                )));
                used = 2;
            }
            used += w;
            spans.push(if marked {
                Span::styled(word, theme.warn())
            } else {
                Span::raw(word)
            });
            spans.push(Span::raw(sep));
        }
        l.push(Line::from(spans));
    }
    (l, sel_line)
}

fn disasm(
    app: &App,
    d: &ProgramDetailView,
    height: usize,
    theme: &Theme,
) -> (Vec<Line<'static>>, String) {
    match app.snapshot.details.programs.iter().find(|x| x.id == d.id) {
        Some(x) if !x.insns.is_empty() => {
            let end = (d.scroll + height).min(x.insns.len());
            let start = d.scroll.min(end);
            let lines = x.insns[start..end]
                .iter()
                .map(|s| Line::from(s.clone()))
                .collect();
            (
                lines,
                format!(
                    " Disassembly {}–{} of {} (PgUp/PgDn) ",
                    start + 1,
                    end,
                    x.insns.len()
                ),
            )
        }
        Some(x) => {
            let why = x
                .insns_unavailable
                .clone()
                .unwrap_or_else(|| text::NO_INSNS.into());
            (
                vec![Line::from(Span::styled(
                    format!("unavailable: {why}"),
                    theme.warn(),
                ))],
                " Disassembly ".into(),
            )
        }
        None => {
            let msg = if app.is_live() {
                text::REQUESTING
            } else {
                text::NOT_CAPTURED
            };
            (
                vec![Line::from(Span::styled(msg, theme.dim()))],
                " Disassembly ".into(),
            )
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, d: &ProgramDetailView, theme: &Theme) {
    let name = app
        .snapshot
        .program(d.id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let wide = area.width >= 110;
    let [top, bottom] = if wide {
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area)
    } else {
        Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area)
    };
    let (lines, sel) = info(app, d, usize::from(top.width.saturating_sub(2)), theme);
    let h = usize::from(top.height.saturating_sub(2)).max(1);
    let scroll = if sel < h { 0 } else { sel + 1 - h };
    let p = Paragraph::new(lines)
        .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0))
        .block(super::block(
            format!(" Program {} {} (Esc back) ", d.id, name),
            theme,
        ));
    frame.render_widget(p, top);
    let dh = usize::from(bottom.height.saturating_sub(2)).max(1);
    let (dl, title) = disasm(app, d, dh, theme);
    frame.render_widget(Paragraph::new(dl).block(super::block(title, theme)), bottom);
}
