//! What can happen to the app: key actions (from the key table) and outside events.

use crate::model::Snapshot;

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Quit,
    ToggleHelp,
    NextPane,
    PrevPane,
    /// Go to this pane (keys `1`..`9`: the first nine tabs).
    GotoPane(crate::model::PaneId),
    OpenPalette,
    OpenFilter,
    TogglePause,
    /// Collect now instead of waiting for the interval.
    Refresh,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// Move the selection (or scroll help and details) by this many rows: the mouse wheel.
    Scroll(isize),
    /// Select the row with this key, shown with the list starting at `offset` (a click).
    Select {
        key: crate::pane::RowKey,
        offset: Option<usize>,
    },
    Enter,
    Back,
    /// Open the selected row's children (services: backends).
    Expand,
    /// Close the selected row, or the row the selected child belongs to.
    Collapse,
    /// Next/previous group of a grouped pane (policy: endpoint).
    NextGroup,
    PrevGroup,
    SortNext,
    SortFlip,
    ScrollUp,
    ScrollDown,
    TogglePerCpu,
    /// Retransmits pane: group by flow → destination → process.
    CycleGroup,
    /// Mark the snapshot on screen as the baseline, or clear it.
    ToggleBaseline,
    /// Tables: only rows new or changed since the baseline.
    ToggleChangesOnly,
    /// Presentation mode on/off (banner, fewer and wider columns, double spacing).
    TogglePresentation,
    /// Mark or unmark the selected row (pinned at the top, highlighted).
    ToggleMark,
    /// Write snapshot, pane and screen into the dump directory.
    Export,
    /// An export finished (written on its own thread): the files, or why not.
    Exported(Result<Box<super::work::Exported>, String>),
    /// The comparison with the baseline finished (computed on the diff worker).
    BaselineDiff(Box<super::work::DiffDone>),
    /// Live: start or stop appending every snapshot to a recording in the dump directory.
    ToggleRecording,
    /// The collector's report on the live recording.
    Recording(crate::bpf::collector::RecordingStatus),
    /// Replay: move this many snapshots (negative: back in time), stopping at the ends.
    ReplayStep(i32),
    /// Replay: the first (`false`) or the last (`true`) snapshot of the recording.
    ReplayEnd(bool),
    /// Bundle: show the node this many steps away (among nodes with a snapshot, wrapping).
    NodeStep(i32),
    /// Bundle: which nodes have rows matching this pane's filter? (the Cluster pane answers)
    AskNodes,
    /// A character typed into the filter or palette line, at the cursor (control characters
    /// are dropped).
    InputChar(char),
    /// Text pasted into the filter or palette line (bracketed paste): inserted at the cursor,
    /// control characters dropped, line breaks and tabs as spaces.
    InputPaste(String),
    /// Move the cursor in, or delete from, the filter or palette line.
    InputEdit(Edit),
    InputSubmit,
    InputCancel,
    InputComplete,
    InputNext,
    InputPrev,
    /// A new snapshot from the collector.
    Snapshot(Box<Snapshot>),
    /// The collector failed; keep the last snapshot and say so.
    CollectorError(String),
    Resize(u16, u16),
}

/// An edit of the filter or palette line other than typing: the readline keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// ←
    Left,
    /// →
    Right,
    /// Ctrl-← (to the start of the word)
    WordLeft,
    /// Ctrl-→ (past the end of the word)
    WordRight,
    /// Home, Ctrl-A
    Home,
    /// End, Ctrl-E
    End,
    /// Backspace: the character before the cursor.
    DeletePrev,
    /// Delete: the character under the cursor.
    DeleteNext,
    /// Ctrl-W: the word before the cursor.
    DeleteWord,
    /// Ctrl-U: everything before the cursor.
    DeleteToStart,
    /// Ctrl-K: everything from the cursor on.
    DeleteToEnd,
}

impl Edit {
    /// The same edit for the line editor.
    pub fn request(self) -> tui_input::InputRequest {
        use tui_input::InputRequest as R;
        match self {
            Edit::Left => R::GoToPrevChar,
            Edit::Right => R::GoToNextChar,
            Edit::WordLeft => R::GoToPrevWord,
            Edit::WordRight => R::GoToNextWord,
            Edit::Home => R::GoToStart,
            Edit::End => R::GoToEnd,
            Edit::DeletePrev => R::DeletePrevChar,
            Edit::DeleteNext => R::DeleteNextChar,
            Edit::DeleteWord => R::DeletePrevWord,
            Edit::DeleteToStart => R::DeleteFromStart,
            Edit::DeleteToEnd => R::DeleteTillEnd,
        }
    }
}
