//! View snapshot tests: every pane and detail view rendered on `TestBackend` from fixture
//! snapshots, plus key-driven behaviour through `App::update`.

// Test code: a failed assumption is a failed test (Cargo.toml [lints] deny these elsewhere).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use dpscope::app::state::{Detail, Mode};
use dpscope::app::{Action, App, UiOptions};
use dpscope::bpf::collector::Request;
use dpscope::model::{PaneId, Snapshot, Unavailable};
use dpscope::pane::RowKey;
use dpscope::views;
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use ratatui::Terminal;

fn fixture(name: &str) -> Snapshot {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    dpscope::model::io::load(&path).unwrap().snapshots.remove(0)
}

fn opts() -> UiOptions {
    UiOptions {
        no_color: false,
        theme: String::new(),
        interval_ms: 1000,
        ..Default::default()
    }
}

/// The rich fixture with its predecessor one second earlier, so rates show.
fn rich() -> App {
    let mut app = App::with_snapshot(fixture("rich_prev.json"), &opts());
    app.update(Action::Snapshot(Box::new(fixture("rich.json"))));
    app
}

fn terminal(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        views::draw(f, app);
    })
    .unwrap();
    t
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let t = terminal(app, w, h);
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn press(app: &mut App, keys: &[KeyEvent]) -> Vec<Request> {
    keys.iter().flat_map(|k| app.handle_key(*k)).collect()
}

fn goto(app: &mut App, pane: &str) {
    app.update(Action::GotoPane(PaneId::parse(pane).unwrap()));
}

macro_rules! both_sizes {
    ($name:ident, $app:expr) => {
        #[test]
        fn $name() {
            let app = $app;
            insta::assert_snapshot!(concat!(stringify!($name), "_80x24"), screen(&app, 80, 24));
            insta::assert_snapshot!(concat!(stringify!($name), "_120x40"), screen(&app, 120, 40));
        }
    };
}

both_sizes!(programs_pane, rich());
both_sizes!(maps_pane, {
    let mut a = rich();
    goto(&mut a, "maps");
    a
});
both_sizes!(attachments_pane, {
    let mut a = rich();
    goto(&mut a, "attachments");
    a
});
both_sizes!(node_pane, {
    let mut a = rich();
    goto(&mut a, "node");
    a
});
both_sizes!(program_detail, {
    let mut a = rich();
    a.open_program(41, &mut Vec::new());
    a
});
both_sizes!(map_detail, {
    let mut a = rich();
    a.open_map(102, &mut Vec::new());
    a
});
both_sizes!(map_detail_per_cpu, {
    let mut a = rich();
    a.open_map(106, &mut Vec::new());
    a.update(Action::TogglePerCpu);
    a
});
both_sizes!(help_overlay, {
    let mut a = rich();
    a.update(Action::ToggleHelp);
    a
});
both_sizes!(presentation_mode, {
    let mut a = rich();
    a.handle_key(key('p'));
    a
});
// On a short terminal the help scrolls: the end of the key table is reachable.
both_sizes!(help_overlay_scrolled_to_the_end, {
    let mut a = rich();
    a.update(Action::ToggleHelp);
    a.update(Action::Bottom);
    a
});
both_sizes!(
    empty_snapshot_programs,
    App::with_snapshot(Snapshot::empty(), &opts())
);
both_sizes!(empty_snapshot_maps, {
    let mut a = App::with_snapshot(Snapshot::empty(), &opts());
    goto(&mut a, "maps");
    a
});
both_sizes!(empty_snapshot_attachments, {
    let mut a = App::with_snapshot(Snapshot::empty(), &opts());
    goto(&mut a, "attachments");
    a
});
both_sizes!(empty_snapshot_node, {
    let mut a = App::with_snapshot(Snapshot::empty(), &opts());
    goto(&mut a, "node");
    a
});

fn unavailable_app() -> App {
    let mut s = fixture("rich.json");
    s.programs.clear();
    s.attachments.clear();
    s.links.clear();
    s.node.unavailable = vec![
        Unavailable {
            pane: "programs".into(),
            reason: "missing CAP_SYS_ADMIN: cannot enumerate programs (run as root)".into(),
        },
        Unavailable {
            pane: "attachments".into(),
            reason: "netlink: operation not permitted (CAP_NET_ADMIN missing)".into(),
        },
    ];
    App::with_snapshot(s, &opts())
}

#[test]
fn unavailable_states() {
    let mut a = unavailable_app();
    insta::assert_snapshot!("unavailable_programs_80x24", screen(&a, 80, 24));
    goto(&mut a, "attachments");
    insta::assert_snapshot!("unavailable_attachments_80x24", screen(&a, 80, 24));
}

#[test]
fn waiting_for_first_snapshot() {
    let a = App::live(&opts());
    insta::assert_snapshot!("waiting_80x24", screen(&a, 80, 24));
}

#[test]
fn paused() {
    let mut a = rich();
    let req = a.update(Action::TogglePause);
    assert_eq!(req, vec![Request::Pause(true)]);
    insta::assert_snapshot!("paused_80x24", screen(&a, 80, 24));
}

#[test]
fn replay_marker_and_missing_details() {
    let snaps = vec![fixture("rich_prev.json"), fixture("rich.json")];
    let mut a = App::replay(
        "incident-0312.jsonl".into(),
        snaps,
        &[(3, "EOF while parsing".into())],
        &opts(),
    );
    a.update(Action::ReplayStep(1));
    insta::assert_snapshot!("replay_80x24", screen(&a, 80, 24));
    a.open_program(57, &mut Vec::new());
    insta::assert_snapshot!(
        "replay_program_detail_not_captured_120x40",
        screen(&a, 120, 40)
    );
}

/// `[` `]` step, `{` `}` jump 10, Home/End go to the ends; rates always come from the shown
/// snapshot and the one recorded just before it.
#[test]
fn replay_time_travel_keys_and_rates_between_neighbours() {
    let base = fixture("rich.json");
    let snaps: Vec<Snapshot> = (0..25u64)
        .map(|i| {
            let mut s = base.clone();
            s.monotonic_ns = 1_000_000_000 * (i + 1);
            s.taken_at = format!("2026-03-12T09:00:{i:02}Z");
            // Program 57 runs i*i times by snapshot i: the rate between neighbours is 2i-1/s.
            if let Some(p) = s.programs.iter_mut().find(|p| p.id == 57) {
                p.run_cnt = i * i;
                p.run_time_ns = i * i * 100;
            }
            s
        })
        .collect();
    let mut a = App::replay("rec.jsonl".into(), snaps, &[], &opts());
    let at = |a: &App| a.replay.as_ref().unwrap().index;
    let rate = |a: &App| a.derived.rates.get(57).map(|r| r.events_per_s);
    assert_eq!(at(&a), 24, "a recording opens at its newest snapshot");
    a.handle_key(KeyEvent::new(KeyCode::Home, KeyModifiers::NONE));
    assert_eq!(at(&a), 0);
    assert_eq!(rate(&a), None, "the first snapshot has nothing before it");
    a.handle_key(key('}'));
    assert_eq!(
        (at(&a), a.snapshot.taken_at.as_str()),
        (10, "2026-03-12T09:00:10Z")
    );
    assert_eq!(rate(&a), Some(19.0));
    a.handle_key(key('['));
    assert_eq!((at(&a), rate(&a)), (9, Some(17.0)));
    a.handle_key(key('{'));
    assert_eq!(at(&a), 0, "a jump stops at the first snapshot");
    a.handle_key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE));
    assert_eq!((at(&a), rate(&a)), (24, Some(47.0)));
    a.handle_key(key('}'));
    assert_eq!(at(&a), 24);
    assert!(a.message.as_ref().unwrap().text.contains("25 of 25"));
    a.handle_key(key('{'));
    assert_eq!(at(&a), 14);
    let s = screen(&a, 120, 40);
    let header = s.lines().next().unwrap();
    assert!(header.contains("REPLAY rec.jsonl (15/25)"), "{header}");
    assert!(
        header.contains("━●─") && header.contains("+14s"),
        "{header}"
    );
    // g/G still move in the table while replaying.
    a.handle_key(key('G'));
    assert_eq!(at(&a), 14);
}

/// `m` pins the selected row on top (★, highlighted) and it stays there across refreshes;
/// `m` again puts it back in sort order.
#[test]
fn marked_rows_are_pinned_on_top_across_refreshes() {
    let mut a = rich();
    let before = a.pane_keys();
    a.handle_key(key('G'));
    a.handle_key(key('m'));
    let last = before.last().cloned().unwrap();
    let pinned = a.pane_keys();
    assert_eq!(pinned[0], last);
    assert_eq!(&pinned[1..], &before[..before.len() - 1]);
    a.update(Action::Snapshot(Box::new(fixture("rich.json"))));
    assert_eq!(a.pane_keys()[0], last, "still pinned after a refresh");
    let s = screen(&a, 120, 40);
    let row = s.lines().find(|l| l.contains('★')).expect("a ★ row");
    let id = match &last {
        RowKey::Id(id) => id.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(row.contains(&format!(" {id} ")), "{row}");
    insta::assert_snapshot!("marked_row_120x40", s);
    let mut unmarked = a.clone();
    unmarked.view_mut().marked.clear();
    a.handle_key(key('m'));
    assert!(a.view().marked.is_empty());
    assert_eq!(a.pane_keys(), unmarked.pane_keys());
    assert!(!screen(&a, 120, 40).contains('★'));
}

/// Is `k` the tree node `root` or a node below it?
fn under(k: &RowKey, root: &str) -> bool {
    matches!(k, RowKey::Path(p) if p == root || p.starts_with(&format!("{root}/")))
}

/// The lines of a screen that carry a mark (★).
fn starred(s: &str) -> Vec<&str> {
    s.lines().filter(|l| l.contains('★')).collect()
}

/// `m` on a tree node: it is starred and highlighted and its interface is pinned on top; the
/// mark follows the program (not its position) across a refresh that would reorder the tree,
/// outlives refreshes and replay steps where the program is gone, and `m` again unmarks.
#[test]
fn marked_tree_node_pins_its_interface_across_refreshes_and_replay() {
    let mut a = rich();
    goto(&mut a, "attachments");
    let before = a.pane_keys();
    let target = RowKey::Path("if14/tc_ingress/p41".into());
    let steps = before.iter().position(|k| *k == target).unwrap();
    press(&mut a, &vec![key('j'); steps]);
    press(&mut a, &[key('m')]);
    assert_eq!(a.view().marked, vec![target.clone()]);
    let pinned = a.pane_keys();
    let (lxc, rest): (Vec<RowKey>, Vec<RowKey>) =
        before.iter().cloned().partition(|k| under(k, "if14"));
    assert_eq!(
        pinned,
        [lxc.clone(), rest].concat(),
        "if14's subtree on top"
    );
    let s = screen(&a, 120, 40);
    assert!(s.lines().nth(4).unwrap().contains("lxc8a3f1c2e7d"), "{s}");
    let star = starred(&s);
    assert_eq!(star.len(), 1, "{s}");
    assert!(star[0].contains("★ #0 cil_from_container id 41"), "{s}");
    insta::assert_snapshot!("marked_tree_node_120x40", s);
    // The marked node is drawn in the marked-row style, as in tables: the text of its line
    // is coloured where an unmarked node's is not.
    let t = terminal(&a, 120, 40);
    let buf = t.backend().buffer();
    let line_of = |needle: &str| s.lines().position(|l| l.contains(needle)).unwrap() as u16;
    let x = 14; // inside the leaf text of both lines
    let (marked_y, plain_y) = (line_of("id 41"), line_of("id 42"));
    assert_ne!(buf[(x, marked_y)].fg, buf[(x, plain_y)].fg);
    assert!(buf[(x, marked_y)].modifier.contains(Modifier::BOLD));

    // A refresh that would reorder the tree: a new interface sorts first (lower ifindex) and
    // another program goes in ahead of 41 on its hook. The mark stays on program 41, now #1.
    let mut next = fixture("rich.json");
    next.taken_at = "2026-11-21T03:12:45Z".into();
    let lxc_ingress = |prog_id: u32, position: u32| dpscope::model::Attachment {
        ifindex: 14,
        ifname: "lxc8a3f1c2e7d".into(),
        hook: "tc_ingress".into(),
        position,
        prog_id,
        ..Default::default()
    };
    for att in &mut next.attachments {
        if att.prog_id == 41 {
            att.position = 1;
        }
    }
    next.attachments.push(lxc_ingress(42, 0));
    next.attachments.push(dpscope::model::Attachment {
        ifindex: 1,
        ifname: "lo".into(),
        hook: "xdp".into(),
        prog_id: 60,
        ..Default::default()
    });
    a.update(Action::Snapshot(Box::new(next.clone())));
    let keys = a.pane_keys();
    assert_eq!(keys[0], RowKey::Path("if14".into()), "{keys:?}");
    assert_eq!(a.view().selected, Some(target.clone()));
    let s = screen(&a, 120, 40);
    let star = starred(&s);
    assert_eq!(star.len(), 1, "{s}");
    assert!(star[0].contains("★ #1 cil_from_container id 41"), "{s}");
    let mut unmarked = a.clone();
    unmarked.view_mut().marked.clear();
    assert_eq!(
        unmarked.pane_keys()[0],
        RowKey::Path("if1".into()),
        "without the mark, lo would come first"
    );
    // Export: the rows of the pinned interface first, as on screen.
    let table =
        dpscope::pane::plain::pane_table_as(PaneId::Attachments, &a.snapshot, None, a.view());
    let targets: Vec<&str> = table.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        targets[..4],
        ["lxc8a3f1c2e7d", "lxc8a3f1c2e7d", "lxc8a3f1c2e7d", "lo"],
        "{targets:?}"
    );

    // The program goes away: nothing is starred or pinned, but the mark is remembered...
    let mut gone = next.clone();
    gone.attachments.retain(|att| att.prog_id != 41);
    a.update(Action::Snapshot(Box::new(gone.clone())));
    assert!(starred(&screen(&a, 120, 40)).is_empty());
    let mut gone_unmarked = a.clone();
    gone_unmarked.view_mut().marked.clear();
    assert_eq!(a.pane_keys(), gone_unmarked.pane_keys(), "nothing pinned");
    assert_eq!(a.view().marked, vec![target.clone()]);
    // ...and it is marked and pinned again when it comes back.
    a.update(Action::Snapshot(Box::new(next.clone())));
    assert_eq!(a.pane_keys()[0], RowKey::Path("if14".into()));
    assert_eq!(starred(&screen(&a, 120, 40)).len(), 1);

    // Replay steps keep the mark the same way.
    let mut r = App::replay(
        "rec.jsonl".into(),
        vec![next.clone(), gone, next],
        &[],
        &opts(),
    );
    goto(&mut r, "attachments");
    r.view_mut().selected = Some(target.clone());
    press(&mut r, &[key('m')]);
    press(&mut r, &[key('[')]);
    assert!(starred(&screen(&r, 120, 40)).is_empty());
    assert_eq!(r.pane_keys()[0], RowKey::Path("if1".into()));
    press(&mut r, &[key('[')]);
    assert_eq!(r.pane_keys()[0], RowKey::Path("if14".into()));
    assert!(starred(&screen(&r, 120, 40))[0].contains("id 41"));

    // `m` again unmarks: the tree's own order, no star.
    a.view_mut().selected = Some(target);
    press(&mut a, &[key('m')]);
    assert!(a.view().marked.is_empty());
    assert_eq!(a.pane_keys(), unmarked.pane_keys());
    assert!(starred(&screen(&a, 120, 40)).is_empty());
}

#[test]
fn live_program_detail_requesting() {
    let mut a = rich();
    let mut req = Vec::new();
    a.open_program(57, &mut req);
    assert_eq!(req, vec![Request::ProgramDetail(57)]);
    insta::assert_snapshot!("program_detail_requesting_80x24", screen(&a, 80, 24));
}

#[test]
fn filtered_tables() {
    let mut a = rich();
    press(&mut a, &[key('/'), key('C'), key('I'), key('L'), key('_')]);
    assert_eq!(a.view().filter, "CIL_");
    insta::assert_snapshot!("filtered_programs_typing_80x24", screen(&a, 80, 24));
    press(&mut a, &[code(KeyCode::Enter)]);
    goto(&mut a, "maps");
    press(
        &mut a,
        &[
            key('/'),
            key('!'),
            key('c'),
            key('i'),
            key('l'),
            code(KeyCode::Enter),
        ],
    );
    insta::assert_snapshot!("filtered_maps_inverted_120x40", screen(&a, 120, 40));
    goto(&mut a, "attachments");
    press(
        &mut a,
        &[
            key('/'),
            key('s'),
            key('t'),
            key('a'),
            key('l'),
            key('e'),
            code(KeyCode::Enter),
        ],
    );
    insta::assert_snapshot!("filtered_attachments_120x40", screen(&a, 120, 40));
}

/// Column and row of the first cell where `text` starts on screen.
fn cell_of(buf: &ratatui::buffer::Buffer, text: &str) -> Option<(u16, u16)> {
    let want: Vec<String> = text.chars().map(String::from).collect();
    let (w, h) = (buf.area.width, buf.area.height);
    (0..h).find_map(|y| {
        (0..w)
            .find(|&x| {
                want.iter()
                    .enumerate()
                    .all(|(i, c)| x + (i as u16) < w && buf[(x + i as u16, y)].symbol() == c)
            })
            .map(|x| (x, y))
    })
}

/// The filter line edits mid-string from the keys (←, typing, Backspace, Delete, Home/End,
/// Ctrl-a/e/w/u) and draws its cursor on the character under it, in reverse video.
#[test]
fn the_filter_line_edits_mid_string_and_draws_its_cursor_there() {
    let ctrl = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    let typed = |a: &mut App, s: &str| {
        for c in s.chars() {
            press(a, &[key(c)]);
        }
    };
    let mut a = rich();
    press(&mut a, &[key('/')]);
    typed(&mut a, "agre_hash");
    press(&mut a, &[code(KeyCode::Left); 5]);
    typed(&mut a, "e");
    assert_eq!(a.view().filter, "agree_hash");
    // The cursor is on the `_`: the footer shows the whole line and no end-of-line block.
    let t = terminal(&a, 80, 24);
    let buf = t.backend().buffer();
    let (at, y) = cell_of(buf, "/agree_hash").expect("filter line on screen");
    let footer: String = (0..80).map(|x| buf[(x, y)].symbol()).collect();
    assert!(!footer.contains('█'), "{footer}");
    let cursor = &buf[(at + 6, y)];
    assert_eq!(cursor.symbol(), "_");
    assert!(cursor.modifier.contains(Modifier::REVERSED), "{cursor:?}");
    let before = &buf[(at + 5, y)];
    assert!(!before.modifier.contains(Modifier::REVERSED), "{before:?}");
    // Backspace and Delete at the cursor, Home/End and Ctrl-a/Ctrl-e.
    press(&mut a, &[code(KeyCode::Backspace), code(KeyCode::Delete)]);
    assert_eq!(a.view().filter, "agrehash");
    press(&mut a, &[code(KeyCode::Home)]);
    typed(&mut a, "x");
    press(&mut a, &[ctrl('e')]);
    typed(&mut a, "y");
    press(
        &mut a,
        &[ctrl('a'), code(KeyCode::Delete), code(KeyCode::End)],
    );
    typed(&mut a, " z");
    assert_eq!(a.view().filter, "agrehashy z");
    // Ctrl-w: the word before the cursor; Ctrl-u: all before it.
    press(&mut a, &[ctrl('w')]);
    assert_eq!(a.view().filter, "agrehashy ");
    press(&mut a, &[code(KeyCode::Left), ctrl('u')]);
    assert_eq!(a.view().filter, " ");
    assert_eq!(a.input.cursor(), 0);
    // Enter keeps the filter; Esc in a new edit clears it.
    press(&mut a, &[code(KeyCode::Enter)]);
    assert_eq!(a.mode, Mode::Normal);
    assert_eq!(a.view().filter, " ");
}

/// The palette line takes the same edits; its cursor is drawn where it is.
#[test]
fn the_palette_line_edits_mid_string() {
    let mut a = rich();
    press(&mut a, &[key(':'), key('m'), key('p'), key('s')]);
    press(
        &mut a,
        &[code(KeyCode::Left), code(KeyCode::Left), key('a')],
    );
    assert_eq!(a.input.value(), "maps");
    let t = terminal(&a, 80, 24);
    let buf = t.backend().buffer();
    let (x, y) = cell_of(buf, ":maps").expect("palette line on screen");
    // `:` `m` `a` then the cursor on `p`.
    let cursor = &buf[(x + 3, y)];
    assert_eq!(cursor.symbol(), "p");
    assert!(cursor.modifier.contains(Modifier::REVERSED), "{cursor:?}");
    press(&mut a, &[code(KeyCode::Enter)]);
    assert_eq!(a.pane, PaneId::Maps);
}

#[test]
fn palette_with_suggestions() {
    let mut a = rich();
    press(&mut a, &[key(':'), key('a')]);
    assert_eq!(a.mode, Mode::Palette);
    insta::assert_snapshot!("palette_80x24", screen(&a, 80, 24));
}

#[test]
fn no_color_keeps_meaning_in_text_and_selection_is_reversed() {
    let mut s = fixture("rich.json");
    s.node.hostname = "nc".into();
    let mut a = App::with_snapshot(
        s,
        &UiOptions {
            no_color: true,
            ..opts()
        },
    );
    goto(&mut a, "maps");
    let t = terminal(&a, 120, 40);
    let buf = t.backend().buffer();
    for y in 0..40 {
        for x in 0..120 {
            let c = &buf[(x, y)];
            assert_eq!(c.fg, ratatui::style::Color::Reset, "colour at {x},{y}");
        }
    }
    let text = screen(&a, 120, 40);
    assert!(text.contains("92% !"), "pressure marker missing:\n{text}");
    // The selected (first) row: reversed and bold.
    let row_y = (0..40).find(|&y| buf[(1, y)].symbol() == "▶").unwrap();
    assert!(buf[(5, row_y)]
        .modifier
        .contains(Modifier::REVERSED | Modifier::BOLD));
}

#[test]
fn keys_drive_the_app() {
    let mut a = rich();
    // Programs pane, default sort CPU % desc: cil_from_netdev (id 57) uses the most CPU.
    assert_eq!(a.pane_keys()[0], RowKey::Id(57));
    // Switch panes with Tab, digits and the palette.
    press(&mut a, &[code(KeyCode::Tab)]);
    assert_eq!(a.pane, PaneId::Maps);
    press(&mut a, &[key('4')]);
    assert_eq!(a.pane, PaneId::Drops);
    press(
        &mut a,
        &[
            key(':'),
            key('p'),
            key('r'),
            key('o'),
            key('g'),
            key('s'),
            code(KeyCode::Enter),
        ],
    );
    assert_eq!(a.pane, PaneId::Programs);
    assert_eq!(a.mode, Mode::Normal);
    // Filter, move, drill down.
    press(
        &mut a,
        &[
            key('/'),
            key('n'),
            key('e'),
            key('t'),
            key('d'),
            key('e'),
            key('v'),
            code(KeyCode::Enter),
        ],
    );
    let keys = a.pane_keys();
    assert_eq!(keys.len(), 3, "{keys:?}"); // cil_from_netdev ×2, cil_to_netdev
    press(&mut a, &[key('j')]);
    assert_eq!(a.view().selected, Some(keys[1].clone()));
    let req = press(&mut a, &[code(KeyCode::Enter)]);
    let RowKey::Id(id) = keys[1] else { panic!() };
    assert_eq!(req, vec![Request::ProgramDetail(id as u32)]);
    assert!(matches!(a.details.last(), Some(Detail::Program(p)) if p.id as u64 == id));
    // Enter on the program's first map opens its details and asks for the first page.
    let first_map = a.snapshot.program(id as u32).unwrap().map_ids[0];
    let req = press(&mut a, &[code(KeyCode::Enter)]);
    assert_eq!(
        req,
        vec![Request::MapPage {
            map_id: first_map,
            offset: 0,
            limit: 200
        }]
    );
    // Back twice: to the program, then to the table (details cleared).
    let req = press(&mut a, &[code(KeyCode::Esc)]);
    assert_eq!(req, vec![Request::ProgramDetail(id as u32)]);
    let req = press(&mut a, &[code(KeyCode::Esc)]);
    assert_eq!(req, vec![Request::ClearDetails]);
    assert!(a.details.is_empty());
    // Esc again clears the filter.
    press(&mut a, &[code(KeyCode::Esc)]);
    assert_eq!(a.view().filter, "");
    // Pause and resume.
    assert_eq!(press(&mut a, &[key(' ')]), vec![Request::Pause(true)]);
    assert!(a.paused);
    assert_eq!(press(&mut a, &[key(' ')]), vec![Request::Pause(false)]);
    // Sort: next column, flip.
    press(&mut a, &[key('s')]);
    assert_eq!(a.view().sort, Some(7));
    press(&mut a, &[key('S')]);
    assert_eq!(a.view().sort_desc, Some(false));
    // Help toggles; q quits.
    press(&mut a, &[key('?')]);
    assert!(a.help);
    press(&mut a, &[code(KeyCode::Esc)]);
    assert!(!a.help);
    press(&mut a, &[key('q')]);
    assert!(a.quit);
}

#[test]
fn map_pgdn_past_the_page_requests_the_next_page() {
    let mut a = rich();
    a.open_map(102, &mut Vec::new());
    press(&mut a, &[key('G')]);
    let req = press(&mut a, &[code(KeyCode::PageDown)]);
    assert_eq!(
        req,
        vec![Request::MapPage {
            map_id: 102,
            offset: 5,
            limit: 200
        }]
    );
    // Until that page arrives the view says it is being requested.
    assert!(screen(&a, 80, 24).contains("requesting"));
}

#[test]
fn selection_follows_the_object_across_refresh_and_resort() {
    let mut a = rich();
    press(&mut a, &[key('j'), key('j')]);
    let chosen = a.view().selected.clone().unwrap();
    let RowKey::Id(id) = chosen else { panic!() };
    // Next snapshot: the chosen program suddenly burns far more CPU, so it sorts first.
    let mut next = fixture("rich.json");
    next.monotonic_ns += 1_000_000_000;
    for p in &mut next.programs {
        p.run_cnt += 10;
        p.run_time_ns += if p.id as u64 == id {
            900_000_000
        } else {
            1_000
        };
    }
    a.update(Action::Snapshot(Box::new(next)));
    assert_eq!(a.pane_keys()[0], RowKey::Id(id));
    assert_eq!(a.view().selected, Some(RowKey::Id(id)));
    // Moving down goes to what is now below it, not to the old row index.
    press(&mut a, &[key('j')]);
    assert_eq!(a.view().selected, Some(a.pane_keys()[1].clone()));
}

#[test]
fn plain_show_programs_text_and_csv() {
    let cur = fixture("rich.json");
    let prev = fixture("rich_prev.json");
    let t = dpscope::pane::plain::pane_table(PaneId::Programs, &cur, Some(&prev));
    insta::assert_snapshot!(
        "plain_programs_text",
        dpscope::pane::plain::render(&t, dpscope::pane::plain::Format::Text)
    );
    let t = dpscope::pane::plain::pane_table(PaneId::Maps, &cur, None);
    insta::assert_snapshot!(
        "plain_maps_csv",
        dpscope::pane::plain::render(&t, dpscope::pane::plain::Format::Csv)
    );
    let t = dpscope::pane::plain::pane_table(PaneId::Attachments, &cur, None);
    insta::assert_snapshot!(
        "plain_attachments_md",
        dpscope::pane::plain::render(&t, dpscope::pane::plain::Format::Markdown)
    );
    let t = dpscope::pane::plain::pane_table(PaneId::Node, &cur, None);
    insta::assert_snapshot!(
        "plain_node_text",
        dpscope::pane::plain::render(&t, dpscope::pane::plain::Format::Text)
    );
}

#[test]
fn large_tables_render_quickly() {
    let base = fixture("rich.json");
    let mut s = base.clone();
    s.programs = (0..5_000u32)
        .map(|i| {
            let mut p = base.programs[(i as usize) % base.programs.len()].clone();
            p.id = 10_000 + i;
            p
        })
        .collect();
    s.maps = (0..100_000u32)
        .map(|i| {
            let mut m = base.maps[(i as usize) % base.maps.len()].clone();
            m.id = 100_000 + i;
            m
        })
        .collect();
    let mut a = App::with_snapshot(s, &opts());
    let start = std::time::Instant::now();
    screen(&a, 120, 40);
    goto(&mut a, "maps");
    screen(&a, 120, 40);
    press(&mut a, &[key('j'), key('j'), code(KeyCode::PageDown)]);
    screen(&a, 120, 40);
    let took = start.elapsed();
    // Debug build on a 2-core machine: generous, but catches formatting every row.
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    eprintln!("5k programs + 100k maps, 3 frames and 3 moves: {took:?}");
}

#[test]
fn enter_on_an_attached_program_opens_it() {
    let mut a = rich();
    goto(&mut a, "attachments");
    // eth0 → xdp → cil_xdp_entry → tcx ingress → dpscope_tc_flow → tc ingress → #0 cil_from_netdev
    // (tcx runs before legacy tc, so it is listed first)
    press(
        &mut a,
        &[key('j'), key('j'), key('j'), key('j'), key('j'), key('j')],
    );
    let req = press(&mut a, &[code(KeyCode::Enter)]);
    assert_eq!(req, vec![Request::ProgramDetail(57)]);
    insta::assert_snapshot!("program_detail_from_attachments_80x24", screen(&a, 80, 24));
}

#[test]
fn replay_does_not_ask_the_collector_for_pages() {
    let mut a = App::replay("r.json".into(), vec![fixture("rich.json")], &[], &opts());
    a.open_map(102, &mut Vec::new());
    press(&mut a, &[key('G')]);
    press(&mut a, &[code(KeyCode::PageDown)]);
    let Some(Detail::Map(m)) = a.details.last() else {
        panic!()
    };
    assert_eq!((m.offset, m.cursor), (0, 4));
    assert!(screen(&a, 80, 24).contains("only the captured page"));
}

#[test]
fn viewport_stays_still_while_the_cursor_moves_inside_it() {
    let base = fixture("rich.json");
    let mut s = base.clone();
    s.maps = (0..200u32)
        .map(|i| {
            let mut m = base.maps[0].clone();
            m.id = 1000 + i;
            m.memory_bytes = 1_000_000 - u64::from(i);
            m
        })
        .collect();
    let mut a = App::with_snapshot(s, &opts());
    a.update(Action::Resize(80, 24));
    goto(&mut a, "maps");
    // 16 rows visible: going down 20 scrolls by 5; going back up 3 keeps the viewport.
    for _ in 0..20 {
        press(&mut a, &[key('j')]);
    }
    let first_visible = |a: &App| {
        let text = screen(a, 80, 24);
        text.lines()
            .nth(5)
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    assert_eq!(first_visible(&a), "1005");
    press(&mut a, &[key('k'), key('k'), key('k')]);
    assert_eq!(first_visible(&a), "1005");
    insta::assert_snapshot!("maps_scrolled_80x24", screen(&a, 80, 24));
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut apps = Vec::new();
    for pane in ["programs", "maps", "attachments", "node"] {
        let mut a = rich();
        goto(&mut a, pane);
        apps.push(a);
    }
    let mut a = rich();
    a.open_program(41, &mut Vec::new());
    apps.push(a.clone());
    a.open_map(106, &mut Vec::new());
    a.update(Action::TogglePerCpu);
    apps.push(a.clone());
    a.update(Action::ToggleHelp);
    apps.push(a.clone());
    let mut p = rich();
    p.update(Action::OpenPalette);
    apps.push(p);
    apps.push(App::live(&opts()));
    for a in &apps {
        for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 10), (60, 12), (200, 60)] {
            screen(a, w, h);
        }
    }
}

#[test]
fn stale_attachment_row_is_explained_in_full() {
    let mut a = rich();
    goto(&mut a, "attachments");
    // eth0 → xdp → cil_xdp_entry → tcx ingress → dpscope_tc_flow → tc ingress → #0 → #1 (stale)
    press(&mut a, &[key('j'); 7]);
    let s = screen(&a, 120, 40);
    assert!(s.contains("Why this row is flagged"), "{s}");
    assert!(s.contains("likely stale"), "{s}");
    insta::assert_snapshot!("attachments_stale_row_explained_120x40", s);
}

/// Rows of a table screen whose baseline marker (after the border and the selection column) is `m`.
fn marked_rows(screen: &str, m: char) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| l.starts_with('│') && l.chars().nth(2) == Some(m))
        .collect()
}

/// The rich fixture marked as the baseline (`d`), then a newer snapshot in which program 130
/// was reloaded under the same id, program 140 appeared and map 102 grew.
fn with_baseline() -> App {
    let mut app = rich();
    press(&mut app, &[key('d')]);
    app.update(Action::Snapshot(Box::new(changed_since_baseline())));
    app
}

/// `rich.json` a second later with a reloaded program (130), a new one (140) and a map whose
/// entry count moved (102).
fn changed_since_baseline() -> Snapshot {
    let mut next = fixture("rich.json");
    next.taken_at = "2026-11-21T03:12:45Z".into();
    next.monotonic_ns += 1_000_000_000;
    for p in &mut next.programs {
        if p.id == 130 {
            p.tag = "feedfacefeedface".into();
            p.load_time_ns += 1_000_000_000;
        }
    }
    let mut new = next.programs[0].clone();
    new.id = 140;
    new.name = "new_since_baseline".into();
    new.kernel_name = "new_since_basel".into();
    new.tag = "1111222233334444".into();
    next.programs.push(new);
    for m in &mut next.maps {
        if m.id == 102 {
            m.entries = Some(490_000);
        }
    }
    next
}

/// The app as the event loop runs it: the baseline compared (and exports written) on other
/// threads, their results on the returned channel.
fn with_jobs(app: &mut App) -> tokio::sync::mpsc::UnboundedReceiver<Action> {
    let (jobs, rx) = dpscope::tui::jobs::Jobs::start();
    app.jobs = Some(std::sync::Arc::new(jobs));
    rx
}

/// Apply the worker's results until the snapshot on screen is compared (at most 10 s).
fn wait_compared(app: &mut App, rx: &mut tokio::sync::mpsc::UnboundedReceiver<Action>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.comparing() {
        assert!(std::time::Instant::now() < deadline, "not compared in 10 s");
        match rx.try_recv() {
            Ok(a) => {
                app.update(a);
            }
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(2)),
        }
    }
}

/// With the diff worker, as the event loop runs it, a new snapshot is compared with the
/// baseline off the UI task: until the result arrives the badge says `comparing…` and the
/// marks are the previous ones; the marks that arrive are exactly those computed in place,
/// live and when stepping through a replay; a late result for a cleared baseline is dropped.
#[test]
fn baseline_compared_on_the_worker_gives_the_same_marks() {
    let in_place = with_baseline();
    let mut app = rich();
    let mut rx = with_jobs(&mut app);
    press(&mut app, &[key('d')]);
    assert!(!app.comparing(), "setting the baseline compares nothing");
    app.update(Action::Snapshot(Box::new(changed_since_baseline())));
    assert!(app.comparing());
    assert!(app.baseline.as_ref().unwrap().marks.is_empty());
    let s = screen(&app, 120, 40);
    assert!(
        s.contains("BASELINE 2026-11-21T03:12:44Z comparing…"),
        "{s}"
    );
    wait_compared(&mut app, &mut rx);
    let (a, b) = (
        app.baseline.as_ref().unwrap(),
        in_place.baseline.as_ref().unwrap(),
    );
    assert_eq!((&a.diff, &a.marks), (&b.diff, &b.marks));
    assert_eq!(screen(&app, 80, 24), screen(&in_place, 80, 24));

    // Replay: every step is compared on the worker; quick steps are compared up to the last.
    let snaps = vec![
        fixture("rich_prev.json"),
        fixture("rich.json"),
        changed_since_baseline(),
    ];
    let mut r = App::replay("rec.jsonl".into(), snaps.clone(), &[], &opts());
    let mut rx = with_jobs(&mut r);
    r.update(Action::ReplayEnd(false));
    press(&mut r, &[key('d')]);
    for i in 1..snaps.len() {
        press(&mut r, &[key(']')]);
        wait_compared(&mut r, &mut rx);
        let want = dpscope::model::diff::diff(&snaps[0], &snaps[i]);
        assert_eq!(r.baseline.as_ref().unwrap().diff, want, "step to {i}");
        assert_eq!(r.baseline.as_ref().unwrap().marks, want.marks());
    }
    press(&mut r, &[key('['), key('['), key(']')]);
    wait_compared(&mut r, &mut rx);
    let want = dpscope::model::diff::diff(&snaps[0], &snaps[1]);
    assert_eq!(r.baseline.as_ref().unwrap().diff, want);

    // A new baseline while a comparison with the old one is under way: its result is dropped.
    press(&mut r, &[key(']')]);
    assert!(r.comparing());
    press(&mut r, &[key('d'), key('d')]);
    assert!(!r.comparing());
    std::thread::sleep(std::time::Duration::from_millis(50));
    while let Ok(a) = rx.try_recv() {
        r.update(a);
    }
    assert!(r.baseline.as_ref().unwrap().marks.is_empty());
}

#[test]
fn baseline_marks_new_rows_and_changes_only_filters() {
    let mut app = with_baseline();
    goto(&mut app, "programs");
    let s = screen(&app, 80, 24);
    insta::assert_snapshot!("baseline_programs_80x24", s);
    assert!(s.contains("BASELINE 2026-11-21T03:12:44Z"), "{s}");
    let marked = marked_rows(&s, '+');
    assert_eq!(marked.len(), 2, "{s}");
    assert!(marked.iter().any(|l| l.contains("140")), "{s}");
    assert!(marked.iter().any(|l| l.contains("130")), "{s}");

    press(&mut app, &[key('D')]);
    let s = screen(&app, 80, 24);
    insta::assert_snapshot!("baseline_programs_changes_only_80x24", s);
    assert!(s.contains("changes only"), "{s}");
    assert!(s.contains("(2 of 14) changed since baseline"), "{s}");
    assert_eq!(marked_rows(&s, '+').len(), 2, "{s}");

    // Maps: a moved entry count is a change (`~`).
    goto(&mut app, "maps");
    let s = screen(&app, 120, 40);
    let changed = marked_rows(&s, '~');
    assert_eq!(changed.len(), 1, "{s}");
    assert!(changed[0].contains("102"), "{s}");

    // `d` again clears the baseline: no markers, no header badge.
    press(&mut app, &[key('d')]);
    let s = screen(&app, 80, 24);
    assert!(!s.contains("BASELINE"), "{s}");
    assert!(s.contains("baseline cleared"), "{s}");
    assert!(marked_rows(&s, '+').is_empty(), "{s}");
}

#[test]
fn changes_only_without_a_baseline_says_so() {
    let mut app = rich();
    press(&mut app, &[key('D')]);
    let s = screen(&app, 80, 24);
    assert!(s.contains("press d first"), "{s}");
}

#[test]
fn baseline_marks_attachments_and_services() {
    // Attachments: the first program on a hook moved (`~`); changes only keeps just it.
    let mut app = rich();
    goto(&mut app, "attachments");
    press(&mut app, &[key('d')]);
    let mut next = fixture("rich.json");
    next.taken_at = "2026-11-21T03:12:45Z".into();
    let moved = next.attachments[0].prog_id;
    next.attachments[0].position += 7;
    app.update(Action::Snapshot(Box::new(next)));
    let s = screen(&app, 120, 40);
    let tilde: Vec<&str> = s.lines().filter(|l| l.contains("~ #")).collect();
    assert_eq!(tilde.len(), 1, "{s}");
    assert!(tilde[0].contains(&format!("id {moved}")), "{s}");
    assert!(
        s.contains("Other BPF links") || app.snapshot.links.is_empty(),
        "{s}"
    );
    press(&mut app, &[key('D')]);
    let s = screen(&app, 120, 40);
    assert!(s.contains("~ #"), "{s}");
    assert!(!s.contains("Other BPF links"), "{s}");

    // Services: a frontend whose backends changed gets `~` in the marker column.
    let mut app = App::with_snapshot(fixture("cilium.json"), &opts());
    goto(&mut app, "services");
    press(&mut app, &[key('d')]);
    let mut next = fixture("cilium.json");
    let fe = next.services[0].frontend.clone();
    next.services[0].backends.pop();
    app.update(Action::Snapshot(Box::new(next)));
    let s = screen(&app, 140, 40);
    let changed = marked_rows(&s, '~');
    assert_eq!(changed.len(), 1, "{s}");
    assert!(changed[0].contains(&fe), "{s}");
    press(&mut app, &[key('D')]);
    let s = screen(&app, 140, 40);
    assert!(s.contains("(1 of "), "{s}");
}

/// Draw and return the screen text plus what the frame drew where.
fn screen_and_hits(app: &App, w: u16, h: u16) -> (Vec<String>, dpscope::app::mouse::Hits) {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut hits = Default::default();
    t.draw(|f| hits = views::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    let lines = (0..h)
        .map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>())
        .collect();
    (lines, hits)
}

fn click(app: &mut App, hits: &dpscope::app::mouse::Hits, x: u16, y: u16) -> bool {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let ev = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    };
    app.handle_mouse(&ev, hits).is_some()
}

#[test]
fn mouse_clicks_land_on_what_the_frame_shows() {
    let base = fixture("rich.json");
    let mut big = base.clone();
    big.maps = (0..200u32)
        .map(|i| {
            let mut m = base.maps[0].clone();
            m.id = 1000 + i;
            m.memory_bytes = 1_000_000 - u64::from(i);
            m
        })
        .collect();
    let mut checked_rows = 0;
    let mut all = vec![(base.clone(), false), (base, true), (big, false)];
    for f in ["cilium.json", "probes.json", "denials.json"] {
        all.push((fixture(f), false));
        all.push((fixture(f), true));
    }
    let mut panes_clicked = std::collections::BTreeSet::new();
    for (snap, presentation) in all {
        for p in PaneId::ALL {
            let mut a = App::with_snapshot(snap.clone(), &opts());
            a.update(Action::Resize(120, 40));
            a.presentation = presentation;
            a.update(Action::GotoPane(p));
            // Scrolled: the viewport must not move under the click.
            for _ in 0..40 {
                press(&mut a, &[key('j')]);
            }
            let (lines, hits) = screen_and_hits(&a, 120, 40);
            // Every tab is clickable where its title is written.
            for (r, i) in &hits.tabs {
                let text: String = lines[r.y as usize]
                    .chars()
                    .skip(r.x as usize)
                    .take(r.width as usize)
                    .collect();
                let arrow = text == "‹" || text == "›";
                assert!(
                    arrow || text.contains(dpscope::pane::get(*i).title()),
                    "{text:?}"
                );
            }
            assert!(
                hits.tabs.iter().any(|&(_, i)| i == p),
                "the open pane's tab is on screen"
            );
            // Click each row that is not selected: the ▶ moves to exactly that line.
            for (r, _) in hits
                .rows
                .iter()
                .filter(|(r, _)| !lines[r.y as usize].contains('▶'))
                .take(3)
            {
                let mut b = App::with_snapshot((*a.snapshot).clone(), &opts());
                b.update(Action::Resize(120, 40));
                b.presentation = presentation;
                b.update(Action::GotoPane(p));
                for _ in 0..40 {
                    press(&mut b, &[key('j')]);
                }

                assert!(click(&mut b, &hits, r.x + 5, r.y), "{p}: click at {r:?}");
                let after = screen_and_hits(&b, 120, 40).0;
                let marked: Vec<usize> = (0..after.len())
                    .filter(|&y| after[y].contains('▶'))
                    .collect();
                assert_eq!(
                    marked,
                    vec![r.y as usize],
                    "{p} (presentation {presentation}):\n{}",
                    after.join("\n")
                );
                // The viewport did not move: the same rows sit on the same lines.
                let (_, after_hits) = screen_and_hits(&b, 120, 40);
                let n = after_hits.rows.len().min(hits.rows.len());
                assert!(
                    n > 0 && after_hits.rows[..n] == hits.rows[..n],
                    "{p}: rows moved"
                );
                checked_rows += 1;
                panes_clicked.insert(p);
            }
        }
    }
    let unclicked: Vec<_> = PaneId::ALL
        .into_iter()
        .filter(|p| !panes_clicked.contains(p))
        .collect();
    assert!(
        unclicked.is_empty(),
        "no rows clicked in {unclicked:?} ({checked_rows} in all)"
    );
    // A tab click opens that pane; a click on the selected row opens its details.
    let mut a = App::with_snapshot(fixture("rich.json"), &opts());
    a.update(Action::Resize(120, 40));
    let (_, hits) = screen_and_hits(&a, 120, 40);
    let maps = PaneId::Maps;
    let tab = hits.tabs.iter().find(|(_, i)| *i == maps).unwrap().0;
    assert!(click(&mut a, &hits, tab.x + 1, tab.y));
    assert_eq!(a.pane, maps);
    let (_, hits) = screen_and_hits(&a, 120, 40);
    let first = hits.rows[0].0;
    assert!(click(&mut a, &hits, first.x + 3, first.y));
    assert!(
        matches!(a.details.last(), Some(Detail::Map(_))),
        "{:?}",
        a.details
    );
    // `›` opens the first tab out of sight, which then shows.
    let mut a = App::with_snapshot(fixture("rich.json"), &opts());
    let (lines, hits) = screen_and_hits(&a, 120, 40);
    let (r, next) = *hits
        .tabs
        .iter()
        .find(|(r, _)| lines[r.y as usize].chars().nth(r.x as usize) == Some('›'))
        .expect("› at 120 columns");
    assert!(click(&mut a, &hits, r.x, r.y));
    assert_eq!(a.pane, next);
    let (_, hits) = screen_and_hits(&a, 120, 40);
    assert!(hits.tabs.iter().any(|&(r, i)| i == next && r.width > 1));
}
