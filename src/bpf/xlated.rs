//! Placeholder until the xlated module lands.
use super::kallsyms::Kallsyms;
pub struct Calls {
    pub helpers: Vec<String>,
    pub kfuncs: Vec<String>,
}
pub fn program_calls(_id: u32, _s: &Kallsyms) -> anyhow::Result<Calls> {
    anyhow::bail!("not built")
}
pub fn program_detail(id: u32, _s: &Kallsyms) -> crate::model::ProgramDetail {
    crate::model::ProgramDetail {
        id,
        ..Default::default()
    }
}
