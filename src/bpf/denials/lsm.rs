//! The BPF LSM denial probe (`lsm`): fexit programs on the `bpf_lsm_<hook>` functions, which
//! receive the BPF LSM chain's final verdict as `ret` and cannot change it; nonzero verdicts
//! are recorded (probes/denials_lsm.bpf.c explains why not `lsm/*`).

use super::Loaded;

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/denials_lsm.bpf.o"));

pub struct LsmProbe {
    pub loaded: Loaded,
}

impl LsmProbe {
    pub fn load() -> Result<LsmProbe, String> {
        Ok(LsmProbe {
            loaded: Loaded::load(OBJ)?,
        })
    }
}
