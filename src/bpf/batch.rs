//! The one `BPF_MAP_LOOKUP_BATCH` loop: a cursor that walks a map a batch at a time, shared by
//! the Cilium map reader (`cilium::read`), the map entry counter (`maps`) and the probes'
//! hash-map reads (`probes`). Each caller keeps its own policy for a refused first batch (fall
//! back to a key walk, or count nothing).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// A bucket that holds more entries than a batch is retried with batches this many times
/// bigger, up to `MAX_CHUNK` entries.
const GROW: u32 = 4;
const MAX_CHUNK: u32 = 1 << 20;

/// One batch call's entries, in buffers that can be reused (and passed between threads).
#[derive(Debug, Default)]
pub struct Chunk {
    pub keys: Vec<u8>,
    pub vals: Vec<u8>,
    /// Entries in this chunk: `keys`/`vals` hold `count` × key size / value stride bytes.
    pub count: usize,
    /// The kernel said the walk is complete (no call after this one).
    pub last: bool,
}

impl Chunk {
    /// Entry `i` as (key, value) slices of the cursor's sizes.
    pub fn entry(&self, i: usize, ks: usize, vstride: usize) -> (&[u8], &[u8]) {
        (
            self.keys.get(i * ks..(i + 1) * ks).unwrap_or(&[]),
            self.vals.get(i * vstride..(i + 1) * vstride).unwrap_or(&[]),
        )
    }
}

/// Where a batch walk is in the map.
#[derive(Debug)]
pub struct Cursor {
    ks: usize,
    vstride: usize,
    chunk: u32,
    in_tok: Vec<u8>,
    out_tok: Vec<u8>,
    first: bool,
}

impl Cursor {
    /// A walk from the start of a map with keys of `ks` bytes and values of `vstride` bytes
    /// (per-CPU maps: the value rounded up to 8, times the possible CPUs), `chunk` entries a
    /// call.
    pub fn new(ks: usize, vstride: usize, chunk: u32) -> Cursor {
        Cursor {
            ks,
            vstride,
            chunk: chunk.max(1),
            // The kernel's token for hash maps is a u32 bucket index; key-sized and ≥ 8 bytes
            // covers every map type.
            in_tok: vec![0u8; ks.max(8)],
            out_tok: vec![0u8; ks.max(8)],
            first: true,
        }
    }

    /// No batch has been read yet.
    pub fn at_start(&self) -> bool {
        self.first
    }

    /// The next batch of entries into `c`. A bucket bigger than the batch grows the batch and
    /// retries; ENOENT (the end) is `c.last`; any other error is returned as the errno.
    pub fn next(&mut self, fd: BorrowedFd<'_>, c: &mut Chunk) -> io::Result<()> {
        let opts = libbpf_sys::bpf_map_batch_opts {
            sz: std::mem::size_of::<libbpf_sys::bpf_map_batch_opts>() as _,
            ..Default::default()
        };
        loop {
            c.keys.resize(self.ks * self.chunk as usize, 0);
            c.vals.resize(self.vstride * self.chunk as usize, 0);
            let mut count = self.chunk;
            let in_ptr = if self.first {
                std::ptr::null_mut()
            } else {
                self.in_tok.as_mut_ptr() as *mut _
            };
            // SAFETY: key/value buffers hold `chunk` entries of the map's (per-CPU) sizes,
            // tokens are at least key_size and 8 bytes (≥ the kernel's batch token), count is
            // in/out, and the fd stays open for the call.
            let ret = unsafe {
                libbpf_sys::bpf_map_lookup_batch(
                    fd.as_raw_fd(),
                    in_ptr,
                    self.out_tok.as_mut_ptr() as *mut _,
                    c.keys.as_mut_ptr() as *mut _,
                    c.vals.as_mut_ptr() as *mut _,
                    &mut count,
                    &opts,
                )
            };
            c.count = (count as usize).min(self.chunk as usize);
            c.last = false;
            if ret < 0 {
                // libbpf returns -errno.
                match ret.saturating_neg() {
                    libc::ENOSPC if count == 0 && self.chunk < MAX_CHUNK => {
                        // One bucket holds more entries than the chunk: grow and retry.
                        self.chunk = self.chunk.saturating_mul(GROW);
                        continue;
                    }
                    libc::ENOENT => c.last = true,
                    code => return Err(io::Error::from_raw_os_error(code)),
                }
            }
            self.first = false;
            std::mem::swap(&mut self.in_tok, &mut self.out_tok);
            return Ok(());
        }
    }
}
