//! `--mouse`: a mouse event, read against what the last frame drew where
//! ([`crate::views::hits::Hits`]), becomes the action a key would have given.

use super::actions::Action;
use super::state::{App, Mode};
use crate::views::hits::Hits;
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

/// Rows the wheel moves per notch.
pub const WHEEL_ROWS: isize = 3;

/// The action for a mouse event, if any.
pub fn action_for(app: &App, hits: &Hits, ev: &MouseEvent) -> Option<Action> {
    // Typing owns the screen: no clicks into a half-typed filter or command.
    if app.mode != Mode::Normal {
        return None;
    }
    let at = Position::new(ev.column, ev.row);
    match ev.kind {
        MouseEventKind::ScrollDown => Some(Action::Scroll(WHEEL_ROWS)),
        MouseEventKind::ScrollUp => Some(Action::Scroll(-WHEEL_ROWS)),
        MouseEventKind::Down(MouseButton::Left) if !app.help => {
            if let Some(p) = hits.tab_at(at) {
                return (p != app.pane || !app.details.is_empty()).then_some(Action::GotoPane(p));
            }
            let key = hits.row_at(at)?;
            // The pane shows its first row selected until something else is chosen.
            let selected = app
                .view()
                .selected
                .as_ref()
                .filter(|k| hits.rows.iter().any(|(_, r)| r == *k))
                .or_else(|| (hits.offset.unwrap_or(0) == 0).then(|| &hits.rows[0].1));
            if selected == Some(key) {
                Some(Action::Enter)
            } else {
                Some(Action::Select {
                    key: key.clone(),
                    offset: hits.offset,
                })
            }
        }
        _ => None,
    }
}

impl App {
    /// Apply a mouse event as `handle_key` applies a key; `None` when it means nothing.
    pub fn handle_mouse(
        &mut self,
        ev: &MouseEvent,
        hits: &Hits,
    ) -> Option<Vec<crate::bpf::collector::Request>> {
        let action = action_for(self, hits, ev)?;
        if self.message.as_ref().is_some_and(|m| !m.error) {
            self.message = None;
        }
        Some(self.update(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::RowKey;
    use crate::app::UiOptions;
    use crate::model::{PaneId, Snapshot};
    use crossterm::event::KeyModifiers;
    use ratatui::layout::Rect;

    fn ev(kind: MouseEventKind, x: u16, y: u16) -> MouseEvent {
        MouseEvent {
            kind,
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }
    }

    fn hits() -> Hits {
        Hits {
            tabs: vec![
                (Rect::new(1, 3, 10, 1), PaneId::Programs),
                (Rect::new(12, 3, 8, 1), PaneId::Maps),
            ],
            rows: vec![
                (Rect::new(1, 6, 70, 1), RowKey::Id(7)),
                (Rect::new(1, 7, 70, 1), RowKey::Id(9)),
            ],
            offset: Some(0),
        }
    }

    #[test]
    fn clicks_and_the_wheel_become_the_actions_a_key_would_give() {
        let mut app = App::with_snapshot(Snapshot::empty(), &UiOptions::default());
        let h = hits();
        let left = MouseEventKind::Down(MouseButton::Left);
        assert_eq!(
            action_for(&app, &h, &ev(left, 14, 3)),
            Some(Action::GotoPane(PaneId::Maps))
        );
        // The tab already shown: nothing to do.
        assert_eq!(action_for(&app, &h, &ev(left, 2, 3)), None);
        let sel9 = Action::Select {
            key: RowKey::Id(9),
            offset: Some(0),
        };
        assert_eq!(action_for(&app, &h, &ev(left, 30, 7)), Some(sel9.clone()));
        // The first row is the selected one until another is chosen: a click opens it.
        assert_eq!(action_for(&app, &h, &ev(left, 30, 6)), Some(Action::Enter));
        let _ = app.update(sel9);
        assert_eq!(action_for(&app, &h, &ev(left, 30, 7)), Some(Action::Enter));
        // Between rows, on borders, other buttons: nothing.
        assert_eq!(action_for(&app, &h, &ev(left, 30, 8)), None);
        let right = MouseEventKind::Down(MouseButton::Right);
        assert_eq!(action_for(&app, &h, &ev(right, 30, 6)), None);
        let down = action_for(&app, &h, &ev(MouseEventKind::ScrollDown, 0, 0));
        assert_eq!(down, Some(Action::Scroll(WHEEL_ROWS)));
        let up = action_for(&app, &h, &ev(MouseEventKind::ScrollUp, 0, 0));
        assert_eq!(up, Some(Action::Scroll(-WHEEL_ROWS)));
        // While typing a filter, the mouse does nothing.
        app.mode = Mode::Filter;
        assert_eq!(action_for(&app, &h, &ev(left, 14, 3)), None);
    }
}
