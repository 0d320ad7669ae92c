//! The fallback denial probe (`syscall_denials`): syscall enter/exit tracepoints that record
//! calls failing with EPERM/EACCES, whatever refused them (probes/denials_syscalls.bpf.c).

use super::Loaded;

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/denials_syscalls.bpf.o"));

pub struct SyscallProbe {
    pub loaded: Loaded,
}

impl SyscallProbe {
    pub fn load() -> Result<SyscallProbe, String> {
        Ok(SyscallProbe {
            loaded: Loaded::load(OBJ)?,
        })
    }

    /// Syscalls whose exit is watched (from the attached `dp_exit_*` programs).
    pub fn syscalls(&self) -> Vec<String> {
        self.loaded
            .attached
            .iter()
            .filter_map(|n| n.strip_prefix("dp_exit_"))
            .map(str::to_string)
            .collect()
    }
}
