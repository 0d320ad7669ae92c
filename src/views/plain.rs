//! Placeholder until the views land.
use crate::model::Snapshot;
pub enum Format {
    Text,
    Csv,
    Markdown,
}
pub struct PlainTable {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}
pub fn pane_table(_p: &str, _s: &Snapshot, _prev: Option<&Snapshot>) -> Option<PlainTable> {
    None
}
pub fn render(_t: &PlainTable, _f: Format) -> String {
    String::new()
}
