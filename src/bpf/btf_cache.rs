//! Kernel BTF objects by id, each loaded once and freed together: the one loader behind
//! program names (`func_info`), link targets (tracing links into vmlinux or a module), the
//! values of map pages and global data (parsed by `btf_fmt`), and vmlinux's own types (drop
//! reasons). One `KernelBtf` lives for one collection (or one request).

use super::btf_fmt;
use libbpf_rs::btf::Btf as LibbpfBtf;
use libbpf_rs::AsRawLibbpf;
use std::collections::HashMap;
use std::ffi::CStr;
use std::ptr::NonNull;

/// A `struct btf` libbpf loaded for us, freed on drop.
struct Loaded(NonNull<libbpf_sys::btf>);

impl Drop for Loaded {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a libbpf load, is owned here and freed exactly once.
        unsafe { libbpf_sys::btf__free(self.0.as_ptr()) }
    }
}

/// libbpf returns NULL (libbpf 1.x) or, in legacy mode, an error-encoded pointer.
fn loaded_ptr_err(p: *mut libbpf_sys::btf) -> bool {
    p.is_null() || (p as usize) >= (-4095isize) as usize
}

fn loaded(p: *mut libbpf_sys::btf) -> Option<Loaded> {
    (!loaded_ptr_err(p))
        .then_some(p)
        .and_then(NonNull::new)
        .map(Loaded)
}

/// BTF objects by kernel id, loaded on first use.
#[derive(Default)]
pub struct KernelBtf {
    /// libbpf's objects (`None`: could not be loaded). Declared before `vmlinux`: fields drop in
    /// order, and module BTF is split over vmlinux, so these go first.
    by_id: HashMap<u32, Option<Loaded>>,
    /// Parsed by `btf_fmt` (program and map BTF, never split), or why not.
    parsed: HashMap<u32, Result<btf_fmt::Btf, String>>,
    /// The running kernel's BTF, the base of module BTF; loaded when first needed.
    vmlinux: Option<Result<LibbpfBtf<'static>, String>>,
}

impl KernelBtf {
    pub fn new() -> Self {
        Self::default()
    }

    /// The running kernel's BTF (libbpf-rs's typed view), or why not.
    pub fn vmlinux(&mut self) -> Result<&LibbpfBtf<'static>, String> {
        self.vmlinux
            .get_or_insert_with(|| {
                LibbpfBtf::from_vmlinux().map_err(|e| format!("vmlinux BTF: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// BTF object `id` as libbpf holds it: standalone, or split over vmlinux (a module's).
    fn load(&mut self, id: u32) -> Option<NonNull<libbpf_sys::btf>> {
        if !self.by_id.contains_key(&id) {
            // SAFETY: returns a new btf object owned by the caller, or NULL with errno set.
            let mut b = loaded(unsafe { libbpf_sys::btf__load_from_kernel_by_id(id) });
            let vanished = std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOENT);
            if b.is_none() && !vanished {
                if let Ok(base) = self.vmlinux().map(|v| v.as_libbpf_object()) {
                    // SAFETY: `base` stays valid while `self` lives and outlives the split
                    // object (`by_id` drops before `vmlinux`); libbpf only reads it.
                    b = loaded(unsafe {
                        libbpf_sys::btf__load_from_kernel_by_id_split(id, base.as_ptr())
                    });
                }
            }
            self.by_id.insert(id, b);
        }
        self.by_id.get(&id)?.as_ref().map(|b| b.0)
    }

    /// Name of type `type_id` in BTF object `id`; None for an anonymous or unknown type.
    pub fn type_name(&mut self, id: u32, type_id: u32) -> Option<String> {
        let btf = self.load(id)?.as_ptr();
        // SAFETY: `btf` is a valid object owned by this cache; libbpf bounds-checks `type_id`
        // and returns NULL when it is out of range.
        let t = unsafe { libbpf_sys::btf__type_by_id(btf, type_id) };
        // SAFETY: a non-NULL `t` points into btf's type data, valid while btf lives; libbpf
        // bounds-checks the name offset and returns NULL when it is invalid.
        let n = unsafe { libbpf_sys::btf__name_by_offset(btf, t.as_ref()?.name_off) };
        if n.is_null() {
            return None;
        }
        // SAFETY: non-NULL names point at NUL-terminated strings in btf's string section.
        let s = unsafe { CStr::from_ptr(n) }.to_string_lossy().into_owned();
        (!s.is_empty()).then_some(s)
    }

    /// BTF object `id` parsed by `btf_fmt` (a map's or a program's; module BTF is not).
    pub fn parsed(&mut self, id: u32) -> Result<&btf_fmt::Btf, String> {
        match self
            .parsed
            .entry(id)
            .or_insert_with(|| Self::load_parsed(id))
        {
            Ok(b) => Ok(b),
            Err(e) => Err(e.clone()),
        }
    }

    /// BTF object `id` loaded and parsed once, without keeping libbpf's copy (a collection may
    /// parse hundreds).
    pub fn load_parsed(id: u32) -> Result<btf_fmt::Btf, String> {
        // SAFETY: returns a new btf object owned by the caller, or NULL with errno set.
        let p = unsafe { libbpf_sys::btf__load_from_kernel_by_id(id) };
        if loaded_ptr_err(p) {
            let e = std::io::Error::last_os_error();
            return Err(format!("cannot load BTF object {id}: {e}"));
        }
        // SAFETY: `p` is a valid btf object owned here; from_libbpf_owned frees it.
        unsafe { btf_fmt::Btf::from_libbpf_owned(p) }.map_err(|e| format!("BTF object {id}: {e:#}"))
    }
}
