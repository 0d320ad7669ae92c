//! Enumerates every loaded BPF program (`bpf_prog_get_next_id` + info by fd).
//!
//! Programs are immutable once loaded, so everything but the run counters is cached per
//! (id, load time, tag): a refresh of 1,000 programs costs ~3 syscalls each.

use super::btf_cache::KernelBtf;
use super::names;
use super::sys::{self, ObjKind};
use crate::model::Program;
use std::collections::HashMap;

/// Per-program facts that never change after load.
#[derive(Debug, Clone, Default)]
struct Static {
    /// The info as first read (everything in it but the run-time counters is fixed at load).
    info: libbpf_sys::bpf_prog_info,
    load_time_ns: u64,
    tag: [u8; 8],
    name: String,
    map_ids: Vec<u32>,
    helpers: Vec<String>,
    kfuncs: Vec<String>,
    /// Helpers/kfuncs have been read (they are skipped when not wanted, and filled in later).
    calls_loaded: bool,
}

/// Cache of immutable program facts across refreshes.
#[derive(Default)]
pub struct ProgramCache {
    statics: HashMap<u32, Static>,
    /// Programs the last [`ProgramCache::list`] found without helper lists, with their
    /// translated instructions, for [`ProgramCache::name_calls`].
    pending: Vec<(u32, Vec<u8>)>,
    /// Programs the last list found without helper lists whose instructions cannot be read.
    unreadable: Vec<u32>,
}

/// Names the helpers/kfuncs that programs call, given their translated instructions by id,
/// all in one call so that their call targets are named together; a program left out of the
/// answer gets empty lists. `None` as the whole argument means "not now" (cheap refresh): the
/// lists stay empty until wanted.
pub type CallsFn<'a> =
    dyn FnMut(&[(u32, Vec<u8>)]) -> HashMap<u32, (Vec<String>, Vec<String>)> + 'a;

impl ProgramCache {
    /// Whether programs were read before (a refresh can then skip the ones it knows).
    pub fn is_warm(&self) -> bool {
        !self.statics.is_empty()
    }

    /// Enumerate all programs. Objects that vanish mid-walk are skipped; other errors are warnings.
    /// With `stats` (one read of dpscope's program iterator: every program's id, load time,
    /// tag and counters), a program seen before is not opened at all.
    pub fn collect(
        &mut self,
        calls: Option<&mut CallsFn<'_>>,
        stats: Option<&super::iters::ProgStats>,
        warnings: &mut Vec<String>,
    ) -> Vec<Program> {
        let mut out = self.list(calls.is_some(), stats, warnings);
        if let Some(calls) = calls {
            self.name_calls(&mut out, calls);
        }
        out
    }

    /// [`ProgramCache::collect`] without naming helpers: with `calls`, the programs whose
    /// helper lists are missing keep their translated instructions (read through the
    /// descriptor the walk opens anyway) for a later [`ProgramCache::name_calls`].
    pub fn list(
        &mut self,
        calls: bool,
        stats: Option<&super::iters::ProgStats>,
        warnings: &mut Vec<String>,
    ) -> Vec<Program> {
        let ids = match stats {
            Some(st) => {
                let mut ids: Vec<u32> = st.keys().copied().collect();
                ids.sort_unstable();
                ids
            }
            None => {
                let (ids, err) = sys::all_ids(ObjKind::Prog);
                if let Some(e) = err {
                    warnings.push(format!("listing programs stopped early: {e}"));
                }
                ids
            }
        };
        let mut out = Vec::with_capacity(ids.len());
        let mut btf_cache = KernelBtf::new();
        let mut denied = 0usize;
        self.pending.clear();
        self.unreadable.clear();
        for id in ids {
            let known = stats
                .and_then(|st| st.get(&id).copied().flatten())
                .and_then(|st| {
                    let s = self.statics.get(&id)?;
                    let same = s.load_time_ns == st.load_time_ns && s.tag == st.tag;
                    let calls_done = s.calls_loaded || !calls;
                    (same && calls_done).then(|| program(id, s, &s.info, &st))
                });
            if let Some(p) = known {
                out.push(p);
                continue;
            }
            match self.one(id, calls, &mut btf_cache) {
                Ok(Some((p, insns))) => {
                    match insns {
                        Some(Some(i)) => self.pending.push((id, i)),
                        Some(None) => self.unreadable.push(id),
                        None => {}
                    }
                    out.push(p)
                }
                Ok(None) => {} // vanished
                Err(e) if e.raw_os_error() == Some(libc::EPERM) => denied += 1,
                Err(e) => warnings.push(format!("program {id}: {e}")),
            }
        }
        if denied > 0 {
            warnings.push(format!(
                "{denied} programs not readable: permission denied (needs CAP_SYS_ADMIN)"
            ));
        }
        let live: std::collections::HashSet<u32> = out.iter().map(|p| p.id).collect();
        self.statics.retain(|id, _| live.contains(id));
        out
    }

    /// Names the helper lists the last [`ProgramCache::list`] left missing, all in one call of
    /// `calls`, and fills them into `progs` (that list's programs) and the cache.
    pub fn name_calls(&mut self, progs: &mut [Program], calls: &mut CallsFn<'_>) {
        let pending = std::mem::take(&mut self.pending);
        let unreadable = std::mem::take(&mut self.unreadable);
        if pending.is_empty() && unreadable.is_empty() {
            return;
        }
        let mut found = if pending.is_empty() {
            HashMap::new()
        } else {
            calls(&pending)
        };
        let at: HashMap<u32, usize> = progs.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        for id in pending.iter().map(|(id, _)| *id).chain(unreadable) {
            let (helpers, kfuncs) = found.remove(&id).unwrap_or_default();
            if let Some(p) = at.get(&id).and_then(|&i| progs.get_mut(i)) {
                p.helpers.clone_from(&helpers);
                p.kfuncs.clone_from(&kfuncs);
            }
            if let Some(st) = self.statics.get_mut(&id) {
                st.helpers = helpers;
                st.kfuncs = kfuncs;
                st.calls_loaded = true;
            }
        }
    }

    /// Only the programs `ids` (the ones the attachments name): one descriptor each, nothing
    /// enumerated. Programs that vanished meanwhile are left out.
    pub fn collect_ids(&mut self, ids: &[u32], warnings: &mut Vec<String>) -> Vec<Program> {
        let mut btf_cache = KernelBtf::new();
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            match self.one(id, false, &mut btf_cache) {
                Ok(Some((p, _))) => out.push(p),
                Ok(None) => {}
                Err(e) => warnings.push(format!("program {id}: {e}")),
            }
        }
        out
    }

    /// One program by id. With `insns`, a program whose helper lists are still missing also
    /// comes with its translated instructions (`Some(None)` when they cannot be read).
    #[allow(clippy::type_complexity)]
    fn one(
        &mut self,
        id: u32,
        insns: bool,
        btf_cache: &mut KernelBtf,
    ) -> std::io::Result<Option<(Program, Option<Option<Vec<u8>>>)>> {
        let fd = match sys::fd_by_id(ObjKind::Prog, id) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut info = libbpf_sys::bpf_prog_info::default();
        // SAFETY: bpf_prog_info for a program fd, no buffers set.
        unsafe { sys::info_by_fd(&fd, &mut info)? };

        let fresh = match self.statics.get(&id) {
            Some(s) => s.load_time_ns != info.load_time || s.tag != info.tag,
            None => true,
        };
        if fresh {
            let st = load_static(&fd, &info, btf_cache)?;
            self.statics.insert(id, st);
        }
        let Some(st) = self.statics.get(&id) else {
            return Ok(None);
        };
        let counters = super::iters::ProgStat {
            load_time_ns: info.load_time,
            tag: info.tag,
            run_cnt: info.run_cnt,
            run_time_ns: info.run_time_ns,
            recursion_misses: info.recursion_misses,
        };
        let insns = (insns && !st.calls_loaded)
            .then(|| super::xlated::fetch_insns(&fd, info.xlated_prog_len).ok());
        Ok(Some((program(id, st, &info, &counters), insns)))
    }
}

/// A program from its fixed facts and its counters now.
fn program(
    id: u32,
    st: &Static,
    info: &libbpf_sys::bpf_prog_info,
    now: &super::iters::ProgStat,
) -> Program {
    let kernel_name = names::c_name(&info.name);
    let name = if st.name.is_empty() {
        kernel_name.clone()
    } else {
        st.name.clone()
    };
    Program {
        id,
        name,
        kernel_name,
        prog_type: names::prog_type(info.type_),
        tag: names::hex(&info.tag),
        load_time: None,
        load_time_ns: info.load_time,
        uid: info.created_by_uid,
        run_cnt: now.run_cnt,
        run_time_ns: now.run_time_ns,
        recursion_misses: now.recursion_misses,
        map_ids: st.map_ids.clone(),
        pids: vec![],
        xlated_size: info.xlated_prog_len,
        jited_size: info.jited_prog_len,
        verified_insns: info.verified_insns,
        btf_id: info.btf_id,
        gpl_compatible: info.gpl_compatible() != 0,
        helpers: st.helpers.clone(),
        kfuncs: st.kfuncs.clone(),
        dpscope_owned: false,
    }
}

fn load_static(
    fd: &std::os::fd::OwnedFd,
    base: &libbpf_sys::bpf_prog_info,
    btf_cache: &mut KernelBtf,
) -> std::io::Result<Static> {
    let mut map_ids = vec![0u32; base.nr_map_ids as usize];
    let rec_size =
        (base.func_info_rec_size as usize).max(std::mem::size_of::<libbpf_sys::bpf_func_info>());
    // Only the first func_info record (the entry function) is needed for the name.
    let want_func = base.nr_func_info > 0 && base.btf_id != 0;
    let mut func_buf = vec![0u8; if want_func { rec_size } else { 0 }];
    let mut info = libbpf_sys::bpf_prog_info {
        nr_map_ids: map_ids.len() as u32,
        map_ids: map_ids.as_mut_ptr() as u64,
        ..Default::default()
    };
    if want_func {
        info.nr_func_info = 1;
        info.func_info_rec_size = rec_size as u32;
        info.func_info = func_buf.as_mut_ptr() as u64;
    }
    // SAFETY: map_ids/func_info point to buffers sized by nr_map_ids/nr_func_info*rec_size.
    unsafe { sys::info_by_fd(fd, &mut info)? };
    map_ids.truncate((info.nr_map_ids as usize).min(map_ids.len()));

    let mut name = String::new();
    if want_func && func_buf.len() >= 8 {
        let type_id = crate::bytes::ne_u32(&func_buf, 4);
        name = btf_cache
            .type_name(base.btf_id, type_id)
            .unwrap_or_default();
    }
    Ok(Static {
        info: *base,
        load_time_ns: base.load_time,
        tag: base.tag,
        name,
        map_ids,
        helpers: vec![],
        kfuncs: vec![],
        calls_loaded: false,
    })
}
