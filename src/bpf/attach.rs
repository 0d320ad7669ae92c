//! Placeholder until the attach module lands.
use crate::model::{Attachment, LinkInfo, Program};
pub struct Collected {
    pub attachments: Vec<Attachment>,
    pub links: Vec<LinkInfo>,
    pub warnings: Vec<String>,
}
pub fn collect(_programs: &[Program]) -> Collected {
    Collected {
        attachments: vec![],
        links: vec![],
        warnings: vec![],
    }
}
