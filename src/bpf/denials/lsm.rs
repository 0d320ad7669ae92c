//! The BPF LSM denial probe (`lsm`): `lsm/*` observers that return the `ret` they received,
//! so they never deny, and record nonzero ones (probes/denials_lsm.bpf.c).

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
