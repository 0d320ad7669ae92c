//! One page of a map's entries for the drill-down view, read without ever writing to the map.
//!
//! Keys are walked with `BPF_MAP_GET_NEXT_KEY` (an `offset` is skipped key by key, then `limit`
//! entries are read), so a page of a million-entry map costs `offset + limit` syscalls, never
//! a full read. Keys and values are decoded by the map's BTF when it has one, else shown as hex.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::raw::c_void;

use anyhow::{bail, Result};
use libbpf_sys as sys;

use super::btf_fmt::{hex, Btf};
use super::xlated::{prog_fd_by_id, prog_info, prog_name};
use crate::model::{MapDump, MapEntry};

/// How values of a map type are read and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Plain key/value map.
    Plain,
    /// Key/value map whose slots may be empty (array-like fd/device maps): an entry exists
    /// only where a lookup succeeds.
    Sparse,
    /// One value per possible CPU.
    PerCpu,
    /// `prog_array`: values read back as program ids.
    ProgArray,
    /// `array_of_maps` / `hash_of_maps`: values read back as map ids.
    MapInMap,
}

/// How map type `map_type` is dumped, or why it cannot be.
pub fn classify(map_type: u32) -> Result<ValueKind, &'static str> {
    Ok(match map_type {
        sys::BPF_MAP_TYPE_PERCPU_HASH
        | sys::BPF_MAP_TYPE_PERCPU_ARRAY
        | sys::BPF_MAP_TYPE_LRU_PERCPU_HASH
        | sys::BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE => ValueKind::PerCpu,
        sys::BPF_MAP_TYPE_PROG_ARRAY => ValueKind::ProgArray,
        sys::BPF_MAP_TYPE_ARRAY_OF_MAPS | sys::BPF_MAP_TYPE_HASH_OF_MAPS => ValueKind::MapInMap,
        sys::BPF_MAP_TYPE_DEVMAP
        | sys::BPF_MAP_TYPE_CPUMAP
        | sys::BPF_MAP_TYPE_SOCKMAP
        | sys::BPF_MAP_TYPE_REUSEPORT_SOCKARRAY => ValueKind::Sparse,
        sys::BPF_MAP_TYPE_PERF_EVENT_ARRAY => {
            return Err("perf event arrays hold per-CPU event file descriptors; their slots cannot be read from user space")
        }
        sys::BPF_MAP_TYPE_RINGBUF | sys::BPF_MAP_TYPE_USER_RINGBUF => {
            return Err("ring buffers are a stream of records, not key/value entries")
        }
        sys::BPF_MAP_TYPE_STRUCT_OPS => {
            return Err("struct_ops maps hold a kernel operations table, not entries")
        }
        sys::BPF_MAP_TYPE_BLOOM_FILTER => {
            return Err("bloom filters can only be asked about membership; they cannot be listed")
        }
        sys::BPF_MAP_TYPE_QUEUE | sys::BPF_MAP_TYPE_STACK => {
            return Err("queue/stack maps can only be peeked or popped, not listed (dpscope never pops)")
        }
        sys::BPF_MAP_TYPE_SK_STORAGE
        | sys::BPF_MAP_TYPE_INODE_STORAGE
        | sys::BPF_MAP_TYPE_TASK_STORAGE
        | sys::BPF_MAP_TYPE_CGRP_STORAGE => {
            return Err("local storage maps are keyed by socket/inode/task/cgroup file descriptors and cannot be listed")
        }
        sys::BPF_MAP_TYPE_CGROUP_ARRAY => {
            return Err("cgroup arrays hold cgroup file descriptors; their slots cannot be read from user space")
        }
        sys::BPF_MAP_TYPE_XSKMAP => {
            return Err("XSK maps hold AF_XDP sockets; their slots cannot be read from user space")
        }
        sys::BPF_MAP_TYPE_ARENA => return Err("arena maps are shared memory regions, not entries"),
        _ => ValueKind::Plain,
    })
}

fn errno(rc: i32) -> io::Error {
    io::Error::from_raw_os_error(rc.unsigned_abs() as i32)
}

/// Opens a map by id.
pub(crate) fn map_fd_by_id(id: u32) -> Result<OwnedFd> {
    // SAFETY: plain syscall wrapper; no pointers passed.
    let fd = unsafe { sys::bpf_map_get_fd_by_id(id) };
    if fd < 0 {
        bail!("cannot open map {id}: {}", errno(fd));
    }
    // SAFETY: `fd` is a fresh descriptor owned by us and closed once by `OwnedFd`.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `bpf_map_info` of an open map.
pub(crate) fn map_info(fd: &OwnedFd) -> Result<sys::bpf_map_info> {
    let mut info = sys::bpf_map_info::default();
    let mut len = std::mem::size_of::<sys::bpf_map_info>() as u32;
    // SAFETY: `info`/`len` are valid for writes and `len` is the size of `info`.
    let rc = unsafe { sys::bpf_map_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) };
    if rc < 0 {
        bail!("cannot read map info: {}", errno(rc));
    }
    Ok(info)
}

fn c_name(name: &[std::os::raw::c_char]) -> String {
    let bytes: Vec<u8> = name
        .iter()
        .map(|&c| c as u8)
        .take_while(|&c| c != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Next key after `key` (first key when `None`); `Ok(None)` at the end.
fn next_key(fd: &OwnedFd, key: Option<&[u8]>, out: &mut [u8]) -> Result<bool> {
    let kp = key.map_or(std::ptr::null(), |k| k.as_ptr() as *const c_void);
    // SAFETY: `kp` is null or points at a key of the map's key size; `out` has room for one
    // key (both sized from the map's key_size by the caller).
    let rc =
        unsafe { sys::bpf_map_get_next_key(fd.as_raw_fd(), kp, out.as_mut_ptr() as *mut c_void) };
    if rc == 0 {
        Ok(true)
    } else if -rc == libc::ENOENT {
        Ok(false)
    } else {
        bail!("cannot walk keys: {}", errno(rc))
    }
}

/// Looks `key` up into `value`; `Ok(false)` when the entry does not exist (empty slot or
/// deleted meanwhile).
fn lookup(fd: &OwnedFd, key: &[u8], value: &mut [u8]) -> Result<bool> {
    // SAFETY: `key` has the map's key size and `value` has room for the map's value size
    // (times the CPU count, rounded to 8 bytes per CPU, for per-CPU maps): sized by the caller.
    let rc = unsafe {
        sys::bpf_map_lookup_elem(
            fd.as_raw_fd(),
            key.as_ptr() as *const c_void,
            value.as_mut_ptr() as *mut c_void,
        )
    };
    if rc == 0 {
        Ok(true)
    } else if -rc == libc::ENOENT {
        Ok(false)
    } else {
        bail!("cannot look up an entry: {}", errno(rc))
    }
}

fn u32_at(b: &[u8]) -> Option<u32> {
    crate::bytes::array(b, 0).map(u32::from_ne_bytes)
}

fn prog_label(id: u32) -> String {
    match prog_fd_by_id(id).and_then(|fd| prog_info(&fd)) {
        Ok(info) => format!("prog {id} {}", prog_name(&info)),
        Err(_) => format!("prog {id} ?"),
    }
}

fn map_label(id: u32) -> String {
    match map_fd_by_id(id).and_then(|fd| map_info(&fd)) {
        Ok(info) => format!("map {id} {}", c_name(&info.name)),
        Err(_) => format!("map {id} ?"),
    }
}

/// Decoding state for one map.
struct Decoder {
    kind: ValueKind,
    btf: Option<Btf>,
    key_tid: u32,
    value_tid: u32,
    value_size: usize,
    ncpus: usize,
}

impl Decoder {
    fn key(&self, key: &[u8]) -> String {
        match (&self.btf, self.key_tid) {
            (Some(b), t) if t != 0 => b.format(t, key),
            _ => match self.kind {
                ValueKind::ProgArray | ValueKind::MapInMap if key.len() == 4 => {
                    u32_at(key).map_or_else(|| hex(key), |i| i.to_string())
                }
                _ => hex(key),
            },
        }
    }

    fn one_value(&self, v: &[u8]) -> String {
        match (&self.btf, self.value_tid) {
            (Some(b), t) if t != 0 => b.format(t, v),
            _ => hex(v),
        }
    }

    fn entry(&self, key: &[u8], value: &[u8]) -> MapEntry {
        let key_s = self.key(key);
        match self.kind {
            ValueKind::ProgArray => MapEntry {
                key: key_s,
                value: u32_at(value).map_or_else(|| hex(value), prog_label),
                per_cpu: Vec::new(),
            },
            ValueKind::MapInMap => MapEntry {
                key: key_s,
                value: u32_at(value).map_or_else(|| hex(value), map_label),
                per_cpu: Vec::new(),
            },
            ValueKind::PerCpu => {
                let stride = self.value_size.div_ceil(8) * 8;
                let cpus: Vec<&[u8]> = (0..self.ncpus)
                    .filter_map(|c| value.get(c * stride..c * stride + self.value_size))
                    .collect();
                let per_cpu: Vec<String> = cpus.iter().map(|v| self.one_value(v)).collect();
                let summed = match (&self.btf, self.value_tid) {
                    (Some(b), t) if t != 0 => b.sum_values(t, &cpus).map(|s| b.format(t, &s)),
                    _ => None,
                };
                let value = match summed {
                    Some(s) => s,
                    None => {
                        let why = if self.btf.is_some() && self.value_tid != 0 {
                            "value is not made of plain integers"
                        } else {
                            "no BTF to sum by"
                        };
                        format!(
                            "{} (CPU 0 of {}; not summed: {why})",
                            per_cpu.first().cloned().unwrap_or_default(),
                            self.ncpus
                        )
                    }
                };
                MapEntry {
                    key: key_s,
                    value,
                    per_cpu,
                }
            }
            ValueKind::Plain | ValueKind::Sparse => MapEntry {
                key: key_s,
                value: self.one_value(value),
                per_cpu: Vec::new(),
            },
        }
    }
}

/// Reads entries `offset .. offset + limit` of map `map_id`. Failures become `error`.
pub fn dump_page(map_id: u32, offset: u64, limit: usize) -> MapDump {
    let mut dump = MapDump {
        map_id,
        offset,
        ..Default::default()
    };
    if let Err(e) = dump_into(&mut dump, offset, limit) {
        dump.error = Some(format!("{e:#}"));
    }
    dump
}

fn dump_into(dump: &mut MapDump, offset: u64, limit: usize) -> Result<()> {
    let fd = map_fd_by_id(dump.map_id)?;
    let info = map_info(&fd)?;
    let kind = match classify(info.type_) {
        Ok(k) => k,
        Err(reason) => bail!("{reason}"),
    };
    if info.key_size == 0 {
        bail!("this map has no keys to list");
    }
    let ncpus = if kind == ValueKind::PerCpu {
        libbpf_rs::num_possible_cpus().map_err(|e| anyhow::anyhow!("possible CPUs: {e}"))?
    } else {
        1
    };
    let has_btf = info.btf_id != 0 && (info.btf_key_type_id != 0 || info.btf_value_type_id != 0);
    let mut btf_note = None;
    let btf = if has_btf {
        match super::btf_cache::KernelBtf::load_parsed(info.btf_id) {
            Ok(b) => Some(b),
            Err(e) => {
                btf_note = Some(format!("{e:#}"));
                None
            }
        }
    } else {
        None
    };
    dump.format = match kind {
        ValueKind::ProgArray => "prog_array",
        ValueKind::MapInMap => "map_in_map",
        _ if btf.is_some() => "btf",
        _ => "hex",
    }
    .to_string();
    let dec = Decoder {
        kind,
        btf,
        key_tid: info.btf_key_type_id,
        value_tid: info.btf_value_type_id,
        value_size: info.value_size as usize,
        ncpus,
    };
    let key_size = info.key_size as usize;
    let value_len = if kind == ValueKind::PerCpu {
        (info.value_size as usize).div_ceil(8) * 8 * ncpus
    } else {
        info.value_size as usize
    };
    // Keys may be empty slots (array-like fd maps) or vanish while we walk.
    let sparse = matches!(
        kind,
        ValueKind::Sparse | ValueKind::ProgArray | ValueKind::MapInMap
    );
    let mut cur: Vec<u8> = vec![0; key_size];
    let mut next: Vec<u8> = vec![0; key_size];
    let mut value: Vec<u8> = vec![0; value_len.max(1)];
    let mut have_cur = false;
    // A hash walk restarts from the first key if the current key was deleted meanwhile;
    // bound the walk so a churning map cannot keep us here.
    let mut budget = (info.max_entries as u64)
        .saturating_mul(2)
        .saturating_add(offset)
        .saturating_add(limit as u64)
        .saturating_add(16);
    let mut skipped = 0u64;
    while skipped < offset {
        if budget == 0 || !next_key(&fd, have_cur.then_some(&cur[..]), &mut next)? {
            dump.more = false;
            return Ok(());
        }
        budget -= 1;
        std::mem::swap(&mut cur, &mut next);
        have_cur = true;
        if !sparse || lookup(&fd, &cur, &mut value)? {
            skipped += 1;
        }
    }
    while budget > 0 && next_key(&fd, have_cur.then_some(&cur[..]), &mut next)? {
        budget -= 1;
        std::mem::swap(&mut cur, &mut next);
        have_cur = true;
        if !lookup(&fd, &cur, &mut value)? {
            continue;
        }
        if dump.entries.len() >= limit {
            dump.more = true;
            break;
        }
        dump.entries.push(dec.entry(&cur, &value[..value_len]));
    }
    if let Some(n) = btf_note {
        dump.error = Some(format!("shown as hex: {n}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_btf() -> Btf {
        let path = concat!(env!("OUT_DIR"), "/detail_fixture.bpf.o");
        match Btf::from_elf(std::path::Path::new(path)) {
            Ok(b) => b,
            Err(e) => panic!("fixture BTF: {e:#}"),
        }
    }

    fn decoder(kind: ValueKind, btf: Option<Btf>, key: &str, value: &str, size: usize) -> Decoder {
        let id = |n: &str| btf.as_ref().and_then(|b| b.id_by_name(n)).unwrap_or(0);
        let (key_tid, value_tid) = (id(key), id(value));
        Decoder {
            kind,
            btf,
            key_tid,
            value_tid,
            value_size: size,
            ncpus: 2,
        }
    }

    #[test]
    fn per_cpu_values_are_summed_when_plain_integers() {
        let d = decoder(
            ValueKind::PerCpu,
            Some(fixture_btf()),
            "__u32",
            "detail_counters",
            24,
        );
        let mut v = vec![0u8; 48];
        v[0] = 1; // cpu0 hits
        v[8] = 2; // cpu0 misses
        v[24] = 10; // cpu1 hits
        v[40] = 3; // cpu1 small
        let e = d.entry(&[7, 0, 0, 0], &v);
        assert_eq!(e.key, "7");
        assert_eq!(e.value, "{hits: 11, misses: 2, small: 3, pad: 0}");
        assert_eq!(
            e.per_cpu,
            vec![
                "{hits: 1, misses: 2, small: 0, pad: 0}",
                "{hits: 10, misses: 0, small: 3, pad: 0}"
            ]
        );
    }

    #[test]
    fn per_cpu_values_not_summable_show_cpu0_and_say_so() {
        let d = decoder(
            ValueKind::PerCpu,
            Some(fixture_btf()),
            "",
            "detail_value",
            48,
        );
        let v = vec![0u8; 96];
        let e = d.entry(&[1, 0, 0, 0], &v);
        assert_eq!(e.key, "01 00 00 00");
        assert!(e
            .value
            .ends_with("(CPU 0 of 2; not summed: value is not made of plain integers)"));
        assert_eq!(e.per_cpu.len(), 2);

        let d = decoder(ValueKind::PerCpu, None, "", "", 4);
        let v = [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0];
        let e = d.entry(&[1, 0, 0, 0], &v);
        assert_eq!(
            e.value,
            "01 00 00 00 (CPU 0 of 2; not summed: no BTF to sum by)"
        );
        assert_eq!(e.per_cpu, vec!["01 00 00 00", "02 00 00 00"]);
        // A short buffer never panics: missing CPUs are left out.
        let e = d.entry(&[], &v[..4]);
        assert_eq!(e.per_cpu, vec!["01 00 00 00"]);
    }

    #[test]
    fn unreadable_types_have_reasons() {
        for t in [
            sys::BPF_MAP_TYPE_RINGBUF,
            sys::BPF_MAP_TYPE_PERF_EVENT_ARRAY,
            sys::BPF_MAP_TYPE_STRUCT_OPS,
            sys::BPF_MAP_TYPE_BLOOM_FILTER,
            sys::BPF_MAP_TYPE_QUEUE,
            sys::BPF_MAP_TYPE_STACK,
            sys::BPF_MAP_TYPE_SK_STORAGE,
        ] {
            assert!(classify(t).is_err(), "type {t}");
        }
        assert_eq!(classify(sys::BPF_MAP_TYPE_HASH), Ok(ValueKind::Plain));
        assert_eq!(
            classify(sys::BPF_MAP_TYPE_PERCPU_ARRAY),
            Ok(ValueKind::PerCpu)
        );
        assert_eq!(
            classify(sys::BPF_MAP_TYPE_PROG_ARRAY),
            Ok(ValueKind::ProgArray)
        );
        assert_eq!(
            classify(sys::BPF_MAP_TYPE_HASH_OF_MAPS),
            Ok(ValueKind::MapInMap)
        );
    }
}
