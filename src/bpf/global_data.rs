//! A program's global variables: the `.rodata`, `.rodata.config`, `.data` and `.bss` maps a
//! loader creates for an object, found among the program's maps by their BTF (an ARRAY of one
//! entry whose value type is a DATASEC) and read by variable name. Read-only: the maps are
//! opened `BPF_F_RDONLY` and read with one lookup of key 0.
//!
//! Cilium keeps per-endpoint settings there since its CONFIG() variables (1.17+):
//! `__config_endpoint_id` is `LXC_ID`, `__config_interface_ifindex` is
//! `THIS_INTERFACE_IFINDEX`.

use super::btf_cache::KernelBtf;
use super::btf_fmt::{Btf, Type};
use super::sys;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Variables Cilium's bpf_lxc keeps its endpoint id in, by release.
pub const ENDPOINT_ID_VARS: &[&str] = &["__config_endpoint_id", "LXC_ID"];

/// Largest section read (a config section is a few hundred bytes).
const MAX_SECTION: u32 = 1 << 20;

/// A global variable's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    pub name: String,
    pub map_id: u32,
    pub value: u64,
}

fn map_fd_rdonly(id: u32) -> io::Result<OwnedFd> {
    let opts = libbpf_sys::bpf_get_fd_by_id_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_get_fd_by_id_opts>() as _,
        open_flags: libbpf_sys::BPF_F_RDONLY,
        ..Default::default()
    };
    // SAFETY: opts is sized and initialised; the call returns a new fd or a negative errno.
    let fd = unsafe { libbpf_sys::bpf_map_get_fd_by_id_opts(id, &opts) };
    if fd < 0 {
        return Err(io::Error::from_raw_os_error(-fd));
    }
    // SAFETY: a fresh fd owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Where a variable lives in a section: byte offset and size.
pub fn find_var(btf: &Btf, section_type: u32, names: &[&str]) -> Option<(String, u32, u32)> {
    let (_, Type::Datasec { vars, .. }) = btf.resolve(section_type)? else {
        return None;
    };
    for name in names {
        for &(ty, off, size) in vars {
            if btf.name_of(ty) == Some(name) {
                return Some((name.to_string(), off, size));
            }
        }
    }
    None
}

/// A little-endian unsigned integer of 1, 2, 4 or 8 bytes at `off`.
pub fn read_uint(section: &[u8], off: u32, size: u32) -> Option<u64> {
    let start = usize::try_from(off).ok()?;
    let b = section.get(start..start.checked_add(usize::try_from(size).ok()?)?)?;
    use crate::bytes::{le_u16, le_u32, le_u64, u8_at};
    Some(match b.len() {
        1 => u64::from(u8_at(b, 0)),
        2 => u64::from(le_u16(b, 0)),
        4 => u64::from(le_u32(b, 0)),
        8 => le_u64(b, 0),
        _ => return None,
    })
}

/// The first of `names` found in the global data of a program whose maps are `map_ids`.
pub fn find_uint(map_ids: &[u32], names: &[&str], btfs: &mut KernelBtf) -> Option<Var> {
    for &id in map_ids {
        let Ok(fd) = map_fd_rdonly(id) else {
            continue;
        };
        let mut info = libbpf_sys::bpf_map_info::default();
        // SAFETY: a map fd and a bpf_map_info without buffer pointers.
        if unsafe { sys::info_by_fd(&fd, &mut info) }.is_err() {
            continue;
        }
        let global = info.type_ == libbpf_sys::BPF_MAP_TYPE_ARRAY
            && info.max_entries == 1
            && info.key_size == 4
            && info.btf_id != 0
            && info.btf_value_type_id != 0
            && info.value_size <= MAX_SECTION;
        if !global {
            continue;
        }
        let Ok(btf) = btfs.parsed(info.btf_id) else {
            continue;
        };
        let Some((name, off, size)) = find_var(btf, info.btf_value_type_id, names) else {
            continue;
        };
        let mut section = vec![0u8; info.value_size as usize];
        let key = 0u32;
        // SAFETY: 4-byte key; the value buffer holds value_size bytes of this ARRAY map.
        let rc = unsafe {
            libbpf_sys::bpf_map_lookup_elem(
                fd.as_raw_fd(),
                &key as *const u32 as *const _,
                section.as_mut_ptr() as *mut _,
            )
        };
        if rc != 0 {
            continue;
        }
        if let Some(value) = read_uint(&section, off, size) {
            return Some(Var {
                name,
                map_id: id,
                value,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_of_each_width_and_nothing_out_of_bounds() {
        let s = [0xb5, 0x06, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(read_uint(&s, 0, 2), Some(1717));
        assert_eq!(read_uint(&s, 0, 4), Some(1717));
        assert_eq!(read_uint(&s, 4, 1), Some(1));
        assert_eq!(read_uint(&s, 4, 8), Some(0x0807060504030201));
        assert_eq!(read_uint(&s, 4, 3), None);
        assert_eq!(read_uint(&s, 10, 4), None);
        assert_eq!(read_uint(&s, u32::MAX, 4), None);
    }
}
