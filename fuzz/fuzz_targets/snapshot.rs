#![no_main]
//! Snapshot files and recordings: any bytes are loaded as `replay`, `show --from` and `diff` load
//! them (single object or JSON lines, compact lines rebuilt from keyframes, with a small window
//! budget so that dropping old snapshots is exercised too). What loads is then shown as `show`
//! shows it, every pane in every text format, and diffed first against last. Nothing may panic.
use dpscope::model::{diff, io, PaneId};
use dpscope::pane::plain::{self, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (&budget, rest) = match data.split_first() {
        Some(x) => x,
        None => return,
    };
    let text = String::from_utf8_lossy(rest);
    let budget = if budget == 0 {
        io::MAX_RECORDING_BYTES
    } else {
        usize::from(budget) << 12
    };
    let Ok(loaded) = io::parse_within("fuzz.jsonl", &text, budget) else {
        return;
    };
    let _ = loaded.skipped_summary();
    let _ = loaded.dropped_summary();
    let (Some(first), Some(last)) = (loaded.snapshots.first(), loaded.snapshots.last()) else {
        panic!("loaded without a snapshot");
    };
    for pane in PaneId::ALL {
        let t = plain::pane_table(pane, last, Some(first));
        for f in [Format::Text, Format::Csv, Format::Markdown] {
            // Rows end in `\n` (CSV: `\r\n`, RFC 4180); no other control is raw.
            let out = plain::render(&t, f).replace("\r\n", "\n");
            assert!(
                !out.chars().any(|c| c != '\n' && dpscope::sanitize::is_unsafe(c)),
                "{pane}: raw control in {out:?}"
            );
        }
        let mut json = Vec::new();
        let _ = dpscope::pane::get(pane).json(last, &mut json);
    }
    let _ = diff::diff(first, last).to_text();
});
