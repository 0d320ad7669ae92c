//! Loading a BPF object with the kernel doing the work libbpf would do in this process.
//!
//! libbpf's ordinary load of a tracing program (an iterator) parses the whole kernel BTF
//! (`/sys/kernel/btf/vmlinux`, several MB) to find the attach target and to search candidates
//! for every CO-RE relocation, and probes the kernel's features first: 15–30 ms of a one-shot
//! `show`. libbpf's *loader generator* (what `bpftool gen skeleton -L` uses) records the same
//! load as a small `BPF_PROG_TYPE_SYSCALL` program instead; run once with `BPF_PROG_RUN`, it
//! creates the maps, loads the object's BTF and programs and lets the kernel resolve the attach
//! targets, kfuncs and CO-RE relocations against the BTF it already holds. Recording the loader
//! is pure computation (no syscall); running it costs the kernel a verification or two.
//!
//! Needs kernel 5.18+ (syscall programs, kernel-side CO-RE, `bpf_btf_find_by_name_kind`).
//! Callers keep libbpf's ordinary load as the fallback: it gives the better error message.

use std::ffi::{CStr, CString};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::raw::{c_char, c_void};

/// Header of the loader's context (`struct bpf_loader_ctx` of libbpf's skel_internal.h):
/// sz, flags, log_level, log_size, log_buf.
const CTX_HEADER: usize = 24;
/// One `struct bpf_map_desc` (map_fd, max_entries, initial_value).
const MAP_DESC: usize = 16;
/// One `struct bpf_prog_desc` (prog_fd).
const PROG_DESC: usize = 4;

/// The programs (and maps) of an object loaded by the kernel-side loader, with their names.
#[derive(Debug)]
pub struct Loaded {
    pub progs: Vec<(String, OwnedFd)>,
    pub maps: Vec<(String, OwnedFd)>,
}

impl Loaded {
    /// Takes the program called `name` out of the set.
    pub fn take_prog(&mut self, name: &str) -> Option<OwnedFd> {
        let i = self.progs.iter().position(|(n, _)| n == name)?;
        Some(self.progs.swap_remove(i).1)
    }
}

/// A recorded loader: the syscall program's instructions, its data blob, and the names of the
/// maps and programs it creates, in the order of their descriptors in the context.
struct Recorded {
    insns: Vec<u8>,
    data: Vec<u8>,
    maps: Vec<String>,
    progs: Vec<String>,
}

/// A libbpf object handle closed on drop.
struct ObjHandle(*mut libbpf_sys::bpf_object);

impl Drop for ObjHandle {
    fn drop(&mut self) {
        // SAFETY: the pointer came from bpf_object__open_mem and is closed exactly once here.
        unsafe { libbpf_sys::bpf_object__close(self.0) }
    }
}

fn name_of(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: libbpf returns NUL-terminated names owned by the object, alive while it is.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Records the loader for the programs of `obj` that `wanted` accepts (and every map).
fn record(obj: &[u8], wanted: &dyn Fn(&str) -> bool) -> Result<Recorded, String> {
    // The object's name prefixes its internal maps' names (`dpscope.rodata`), so that they
    // read as dpscope's wherever they are seen.
    let obj_name = CString::new("dpscope").unwrap_or_default();
    let opts = libbpf_sys::bpf_object_open_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_object_open_opts>() as _,
        object_name: obj_name.as_ptr(),
        ..Default::default()
    };
    // SAFETY: obj outlives the call (libbpf copies the ELF image it needs); opts is a valid,
    // sized options struct.
    let raw = unsafe {
        libbpf_sys::bpf_object__open_mem(obj.as_ptr() as *const c_void, obj.len() as _, &opts)
    };
    if raw.is_null() {
        return Err(format!("open: {}", std::io::Error::last_os_error()));
    }
    let handle = ObjHandle(raw);
    let mut progs = Vec::new();
    // SAFETY: walking the object's programs with libbpf's own iterator; every pointer is
    // owned by the object, which `handle` keeps open.
    unsafe {
        let mut p = libbpf_sys::bpf_object__next_program(handle.0, std::ptr::null_mut());
        while !p.is_null() {
            let name = name_of(libbpf_sys::bpf_program__name(p));
            if wanted(&name) {
                progs.push(name);
            } else {
                libbpf_sys::bpf_program__set_autoload(p, false);
            }
            p = libbpf_sys::bpf_object__next_program(handle.0, p);
        }
    }
    let mut maps = Vec::new();
    // SAFETY: as above, for the object's maps.
    unsafe {
        let mut m = libbpf_sys::bpf_object__next_map(handle.0, std::ptr::null());
        while !m.is_null() {
            maps.push(name_of(libbpf_sys::bpf_map__name(m)));
            m = libbpf_sys::bpf_object__next_map(handle.0, m);
        }
    }
    let mut gen = libbpf_sys::gen_loader_opts {
        sz: std::mem::size_of::<libbpf_sys::gen_loader_opts>() as _,
        ..Default::default()
    };
    // SAFETY: the object is open and not loaded; `gen` lives until the copies below.
    let ret = unsafe { libbpf_sys::bpf_object__gen_loader(handle.0, &mut gen) };
    if ret != 0 {
        return Err(format!("loader generator: error {ret}"));
    }
    // With a generator set, "load" records the syscalls instead of making them.
    // SAFETY: as above.
    let ret = unsafe { libbpf_sys::bpf_object__load(handle.0) };
    if ret != 0 || gen.insns.is_null() || gen.data.is_null() {
        return Err(format!("recording the loader: error {ret}"));
    }
    // SAFETY: libbpf set insns/data to buffers of insns_sz/data_sz bytes, owned by the object
    // (freed by bpf_object__close when `handle` drops, after these copies).
    let (insns, data) = unsafe {
        (
            std::slice::from_raw_parts(gen.insns as *const u8, gen.insns_sz as usize).to_vec(),
            std::slice::from_raw_parts(gen.data as *const u8, gen.data_sz as usize).to_vec(),
        )
    };
    drop(handle);
    Ok(Recorded {
        insns,
        data,
        maps,
        progs,
    })
}

use super::sys::call_error as last_err;

/// Runs a syscall program once with `ctx` as its context (`BPF_PROG_RUN`); the kernel copies
/// a syscall program's context back into `ctx`. Returns the program's return value.
pub fn run_syscall_prog(prog: &OwnedFd, ctx: &mut [u8], what: &str) -> Result<i32, String> {
    use std::os::fd::AsRawFd;
    let mut run = libbpf_sys::bpf_test_run_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_test_run_opts>() as _,
        ctx_in: ctx.as_mut_ptr() as *const c_void,
        ctx_size_in: ctx.len() as u32,
        ..Default::default()
    };
    // SAFETY: the kernel reads ctx_size_in bytes of ctx and writes the program's context back
    // into the same buffer, which outlives the call.
    let ret = unsafe { libbpf_sys::bpf_prog_test_run_opts(prog.as_raw_fd(), &mut run) };
    if ret != 0 {
        return Err(last_err(what, ret));
    }
    Ok(run.retval as i32)
}

/// Takes ownership of a descriptor the loader wrote into the context (`None` when unset).
fn take_fd(ctx: &[u8], at: usize) -> Option<OwnedFd> {
    let b = ctx.get(at..at + 4)?;
    let fd = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
    // Descriptor 0 is stdin here, never an object the loader made.
    (fd > 0).then(|| {
        // SAFETY: the loader opened this descriptor in this process and handed it to us in
        // its context; nothing else owns it.
        unsafe { OwnedFd::from_raw_fd(fd) }
    })
}

/// Loads the programs of `obj` that `wanted` accepts (and the object's maps) through the
/// kernel-side loader. Every descriptor it returns is owned by the caller; on error nothing
/// is left behind (the loader closes what it made).
pub fn load(obj: &[u8], wanted: &dyn Fn(&str) -> bool) -> Result<Loaded, String> {
    let rec = record(obj, wanted)?;
    let map_name = CString::new("dpscope_loader").unwrap_or_default();
    // SAFETY: a plain array-map create; the name is a valid C string.
    let map_fd = unsafe {
        libbpf_sys::bpf_map_create(
            libbpf_sys::BPF_MAP_TYPE_ARRAY,
            map_name.as_ptr(),
            4,
            rec.data.len() as u32,
            1,
            std::ptr::null(),
        )
    };
    if map_fd < 0 {
        return Err(last_err("loader map", map_fd));
    }
    // SAFETY: map_fd was just created by this process and is owned here.
    let map = unsafe { OwnedFd::from_raw_fd(map_fd) };
    remember_loader_map(&map);
    let key = 0u32;
    // SAFETY: key is 4 bytes and data is exactly the map's value size.
    let ret = unsafe {
        libbpf_sys::bpf_map_update_elem(
            map_fd,
            &key as *const u32 as *const c_void,
            rec.data.as_ptr() as *const c_void,
            0,
        )
    };
    if ret != 0 {
        return Err(last_err("loader data", ret));
    }
    let fd_array = [map_fd];
    let mut popts = libbpf_sys::bpf_prog_load_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_prog_load_opts>() as _,
        prog_flags: libbpf_sys::BPF_F_SLEEPABLE,
        fd_array: fd_array.as_ptr(),
        ..Default::default()
    };
    let name = CString::new("dpscope_loader").unwrap_or_default();
    let license = CString::new("Dual BSD/GPL").unwrap_or_default();
    // SAFETY: insns holds whole 8-byte instructions; fd_array, the names and opts outlive the
    // call.
    let prog_fd = unsafe {
        libbpf_sys::bpf_prog_load(
            libbpf_sys::BPF_PROG_TYPE_SYSCALL,
            name.as_ptr(),
            license.as_ptr(),
            rec.insns.as_ptr() as *const libbpf_sys::bpf_insn,
            (rec.insns.len() / 8) as _,
            &mut popts,
        )
    };
    if prog_fd < 0 {
        return Err(last_err("loader program", prog_fd));
    }
    // SAFETY: prog_fd was just created by this process and is owned here.
    let loader = unsafe { OwnedFd::from_raw_fd(prog_fd) };
    let mut ctx = vec![0u8; CTX_HEADER + MAP_DESC * rec.maps.len() + PROG_DESC * rec.progs.len()];
    let sz = ctx.len() as u32;
    ctx[0..4].copy_from_slice(&sz.to_ne_bytes());
    let retval = run_syscall_prog(&loader, &mut ctx, "running the loader");
    drop(loader);
    drop(map);
    let retval = retval?;
    if retval < 0 {
        return Err(format!(
            "the loader failed: {}",
            std::io::Error::from_raw_os_error(-retval)
        ));
    }
    let mut out = Loaded {
        progs: Vec::new(),
        maps: Vec::new(),
    };
    for (i, n) in rec.maps.iter().enumerate() {
        if let Some(fd) = take_fd(&ctx, CTX_HEADER + MAP_DESC * i) {
            out.maps.push((n.clone(), fd));
        }
    }
    let progs_at = CTX_HEADER + MAP_DESC * rec.maps.len();
    for (i, n) in rec.progs.iter().enumerate() {
        if let Some(fd) = take_fd(&ctx, progs_at + PROG_DESC * i) {
            out.progs.push((n.clone(), fd));
        }
    }
    if out.progs.len() != rec.progs.len() {
        return Err("the loader returned no descriptor for a program".into());
    }
    Ok(out)
}

/// Ids of the loader maps this process made, newest last (at most [`LOADER_MAPS_KEPT`]).
static LOADER_MAPS: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());
const LOADER_MAPS_KEPT: usize = 64;

/// The loader's data map outlives its descriptor for a moment: the loader program holds it
/// until a grace period of sleepable programs ends, so a map list taken right after a load can
/// still see it. Its id is kept so that the list can name it dpscope's own. The same holds for
/// the maps of any sleepable program this process loads and drops (the symbolizer's).
pub fn remember_loader_map(map: &OwnedFd) {
    use std::os::fd::AsRawFd;
    let mut info = libbpf_sys::bpf_map_info::default();
    let mut len = std::mem::size_of::<libbpf_sys::bpf_map_info>() as u32;
    // SAFETY: a map descriptor and a bpf_map_info without buffers.
    let rc = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(map.as_raw_fd(), &mut info as *mut _ as *mut _, &mut len)
    };
    if rc != 0 {
        return;
    }
    let mut ids = LOADER_MAPS.lock().unwrap_or_else(|e| e.into_inner());
    if ids.len() >= LOADER_MAPS_KEPT {
        ids.remove(0);
    }
    ids.push(info.id);
}

/// Whether map `id` is one of the loader maps this process made.
pub fn is_loader_map(id: u32) -> bool {
    LOADER_MAPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&id)
}

/// Attaches an iterator program (`iter/...` with no parameters) and returns the link.
pub fn attach_iter(prog: &OwnedFd) -> Result<OwnedFd, String> {
    use std::os::fd::AsRawFd;
    // SAFETY: prog is an open program descriptor; no options.
    let fd = unsafe {
        libbpf_sys::bpf_link_create(
            prog.as_raw_fd(),
            0,
            libbpf_sys::BPF_TRACE_ITER,
            std::ptr::null(),
        )
    };
    if fd < 0 {
        return Err(last_err("attach iterator", fd));
    }
    // SAFETY: fd was just created by this process and is owned here.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Runs an iterator link once and returns everything it wrote.
pub fn read_iter(link: &OwnedFd) -> Result<Vec<u8>, String> {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    // SAFETY: link is an open iterator link descriptor.
    let fd = unsafe { libbpf_sys::bpf_iter_create(link.as_raw_fd()) };
    if fd < 0 {
        return Err(last_err("create iterator", fd));
    }
    // SAFETY: fd was just created by this process and is owned by the File.
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    // Reads of 256 KiB: each read runs the iterator until the buffer is full, so a node's
    // whole output takes a few calls (read_to_end starts at 8 KiB).
    const CHUNK: usize = 256 * 1024;
    let mut buf = vec![0u8; CHUNK];
    let mut len = 0;
    loop {
        if buf.len() - len < CHUNK / 4 {
            buf.resize(buf.len() + CHUNK, 0);
        }
        let n = match f.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("read iterator: {e}")),
        };
        if n == 0 {
            break;
        }
        len += n;
    }
    buf.truncate(len);
    Ok(buf)
}
