//! The screen a user would see: the app drawn into a test backend, one text line per row,
//! trailing blanks dropped.

use dpscope::app::App;
use dpscope::views;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

pub fn screen(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        views::draw(f, app);
    })
    .unwrap();
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let line: String = (0..w).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
