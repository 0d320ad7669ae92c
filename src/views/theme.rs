//! Every style in one place. With `no_color` (NO_COLOR) no colour is used at all; meaning is
//! always carried by text or symbols too, and selection by reverse + bold.

use crate::pane::table::Emphasis;
use ratatui::style::{Color, Modifier, Style};

/// Theme names accepted by `--theme`.
pub const THEMES: &[&str] = &["default", "high-contrast", "colorblind"];

/// The colours a theme assigns to each meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Palette {
    accent: Color,
    header: Color,
    label: Color,
    warn: Color,
    error: Color,
    ok: Color,
    dim: Color,
    marker_bg: Color,
}

const DEFAULT: Palette = Palette {
    accent: Color::Cyan,
    header: Color::White,
    label: Color::Gray,
    warn: Color::Yellow,
    error: Color::Red,
    ok: Color::Green,
    dim: Color::DarkGray,
    marker_bg: Color::Yellow,
};

/// Bright colours only (no dark grey that disappears on a projector or a compressed stream).
const HIGH_CONTRAST: Palette = Palette {
    accent: Color::LightCyan,
    header: Color::White,
    label: Color::White,
    warn: Color::LightYellow,
    error: Color::LightRed,
    ok: Color::LightGreen,
    dim: Color::Gray,
    marker_bg: Color::LightYellow,
};

/// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies (no red/green
/// pair carries a difference in meaning).
const COLORBLIND: Palette = Palette {
    accent: Color::Rgb(86, 180, 233),
    header: Color::White,
    label: Color::Gray,
    warn: Color::Rgb(230, 159, 0),
    error: Color::Rgb(213, 94, 0),
    ok: Color::Rgb(0, 114, 178),
    dim: Color::Gray,
    marker_bg: Color::Rgb(240, 228, 66),
};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
    pal: Palette,
}

impl Theme {
    pub fn new(no_color: bool) -> Theme {
        Theme {
            color: !no_color,
            pal: DEFAULT,
        }
    }

    /// A named theme (`THEMES`); unknown names fall back to the default (the CLI refuses them).
    pub fn named(name: &str, no_color: bool) -> Theme {
        let pal = match name {
            "high-contrast" => HIGH_CONTRAST,
            "colorblind" => COLORBLIND,
            _ => DEFAULT,
        };
        Theme {
            color: !no_color,
            pal,
        }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn base(&self) -> Style {
        Style::new()
    }
    pub fn title(&self) -> Style {
        self.fg(self.pal.accent).add_modifier(Modifier::BOLD)
    }
    pub fn header_bar(&self) -> Style {
        self.fg(self.pal.header).add_modifier(Modifier::BOLD)
    }
    pub fn label(&self) -> Style {
        self.fg(self.pal.label)
    }
    pub fn tab(&self) -> Style {
        self.fg(self.pal.label)
    }
    pub fn tab_active(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }
    pub fn table_header(&self) -> Style {
        self.fg(self.pal.accent)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }
    /// Rows marked with `m` (the ★ column says it without colour).
    pub fn pinned(&self) -> Style {
        self.fg(self.pal.warn).add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }
    pub fn warn(&self) -> Style {
        self.fg(self.pal.warn).add_modifier(Modifier::BOLD)
    }
    pub fn error(&self) -> Style {
        self.fg(self.pal.error).add_modifier(Modifier::BOLD)
    }
    pub fn ok(&self) -> Style {
        self.fg(self.pal.ok)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(self.pal.dim)
        } else {
            Style::new()
        }
    }
    pub fn key(&self) -> Style {
        self.fg(self.pal.accent).add_modifier(Modifier::BOLD)
    }
    pub fn marker(&self) -> Style {
        self.fg(Color::Black)
            .bg(if self.color {
                self.pal.marker_bg
            } else {
                Color::Reset
            })
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }
    pub fn emphasis(&self, e: Emphasis) -> Style {
        match e {
            Emphasis::Normal => Style::new(),
            Emphasis::Warn => self.warn(),
            Emphasis::Dim => self.dim(),
        }
    }
}

#[cfg(test)]
mod theme_tests {
    use super::*;

    #[test]
    fn themes_differ_and_no_color_has_no_colours() {
        let d = Theme::named("default", false);
        let h = Theme::named("high-contrast", false);
        let c = Theme::named("colorblind", false);
        assert_ne!(d.warn(), c.warn());
        assert_ne!(d.dim(), h.dim(), "high contrast has no dark grey");
        // Colour-blind safe: warning and error are not a red/green pair, and ok is not green.
        assert_ne!(c.ok().fg, Some(Color::Green));
        for name in THEMES {
            let t = Theme::named(name, true);
            for s in [
                t.title(),
                t.warn(),
                t.error(),
                t.ok(),
                t.dim(),
                t.key(),
                t.label(),
            ] {
                assert_eq!(s.fg, None, "{name}: no colour with NO_COLOR");
                assert_eq!(s.bg, None, "{name}: no colour with NO_COLOR");
            }
        }
    }
}
