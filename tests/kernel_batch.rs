//! The one `BPF_MAP_LOOKUP_BATCH` cursor (`dpscope::bpf::batch`) on real kernel maps: every
//! entry exactly once whatever the batch size (a batch of one entry forces the grow-and-retry
//! path on every bucket holding two keys), and a map type the kernel cannot batch is refused
//! at the start. The maps are the test's own fds, freed when it ends, also on failure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use dpscope::bpf::batch::{Chunk, Cursor};
use std::collections::HashSet;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};

fn create_map(ty: u32, key: u32, value: u32, max: u32) -> OwnedFd {
    // SAFETY: NULL name and options are allowed.
    let fd = unsafe {
        libbpf_sys::bpf_map_create(ty, std::ptr::null(), key, value, max, std::ptr::null())
    };
    assert!(
        fd >= 0,
        "create: {}",
        std::io::Error::from_raw_os_error(-fd)
    );
    // SAFETY: a fresh descriptor we own.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn walk(fd: &OwnedFd, chunk: u32) -> Vec<(u32, u64)> {
    let mut cursor = Cursor::new(4, 8, chunk);
    let mut c = Chunk::default();
    let mut out = Vec::new();
    loop {
        cursor.next(fd.as_fd(), &mut c).unwrap();
        assert!(!cursor.at_start());
        for i in 0..c.count {
            let (k, v) = c.entry(i, 4, 8);
            out.push((
                u32::from_ne_bytes(k.try_into().unwrap()),
                u64::from_ne_bytes(v.try_into().unwrap()),
            ));
        }
        if c.last {
            return out;
        }
    }
}

#[test]
fn every_entry_comes_once_whatever_the_batch_size() {
    if !common::require_priv("every_entry_comes_once_whatever_the_batch_size") {
        return;
    }
    let n = 5000u32;
    let map = create_map(libbpf_sys::BPF_MAP_TYPE_HASH, 4, 8, n);
    for k in 0..n {
        let v = u64::from(k) * 7;
        // SAFETY: 4-byte key and 8-byte value, as the map was created.
        let rc = unsafe {
            libbpf_sys::bpf_map_update_elem(
                map.as_raw_fd(),
                &k as *const u32 as *const _,
                &v as *const u64 as *const _,
                0,
            )
        };
        assert_eq!(rc, 0);
    }
    for chunk in [1, 3, 64, 4096, 8192] {
        let got = walk(&map, chunk);
        assert_eq!(got.len(), n as usize, "chunk {chunk}");
        let keys: HashSet<u32> = got.iter().map(|e| e.0).collect();
        assert_eq!(keys.len(), n as usize, "chunk {chunk}: a key came twice");
        assert!(got.iter().all(|(k, v)| *v == u64::from(*k) * 7));
    }
    // An empty map ends at the first call.
    let empty = create_map(libbpf_sys::BPF_MAP_TYPE_HASH, 4, 8, 16);
    assert!(walk(&empty, 64).is_empty());
}

#[test]
fn a_map_the_kernel_cannot_batch_is_refused_at_the_start() {
    if !common::require_priv("a_map_the_kernel_cannot_batch_is_refused_at_the_start") {
        return;
    }
    // Ring buffers have no lookups at all.
    let rb = create_map(libbpf_sys::BPF_MAP_TYPE_RINGBUF, 0, 0, 4096);
    let mut cursor = Cursor::new(4, 8, 64);
    let mut c = Chunk::default();
    let e = cursor.next(rb.as_fd(), &mut c).unwrap_err();
    assert!(e.raw_os_error().is_some(), "{e}");
    assert!(cursor.at_start());
}
