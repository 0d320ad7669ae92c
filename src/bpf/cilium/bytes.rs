//! Bounds-checked little helpers shared by the Cilium decoders, and their error type.
//!
//! Every decoder checks the exact size first and then reads through these helpers, so no
//! decoder can index out of bounds whatever bytes it is given.

use std::net::{Ipv4Addr, Ipv6Addr};
use thiserror::Error;

/// Why a key or value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("{what}: expected {expected} bytes, got {got}")]
    Size {
        what: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

pub type Result<T> = std::result::Result<T, DecodeError>;

/// Fails unless `b` is exactly `n` bytes long.
pub fn exact(what: &'static str, b: &[u8], n: usize) -> Result<()> {
    if b.len() == n {
        Ok(())
    } else {
        Err(DecodeError::Size {
            what,
            expected: n,
            got: b.len(),
        })
    }
}

pub fn invalid(what: &'static str, detail: impl Into<String>) -> DecodeError {
    DecodeError::Invalid {
        what,
        detail: detail.into(),
    }
}

fn arr<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
    crate::bytes::array(b, off).unwrap_or([0u8; N])
}

// Cilium's maps are little-endian on every node dpscope runs on; ports and some ids are in
// network order. Short buffers read as zeros (crate::bytes).
pub use crate::bytes::{be_u16 as be16, le_u16 as le16, le_u32 as le32, le_u64 as le64, u8_at};

pub fn ip4(b: &[u8], off: usize) -> Ipv4Addr {
    Ipv4Addr::from(arr::<4>(b, off))
}
pub fn ip6(b: &[u8], off: usize) -> Ipv6Addr {
    Ipv6Addr::from(arr::<16>(b, off))
}

/// `addr:port` with IPv6 in brackets.
pub fn host_port(addr: &str, port: u16) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

/// Cilium's u8proto names (`ANY`, `TCP`, ...), else the number.
pub fn proto_name(p: u8) -> String {
    match p {
        0 => "ANY".into(),
        1 => "ICMP".into(),
        2 => "IGMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "ICMPv6".into(),
        112 => "VRRP".into(),
        132 => "SCTP".into(),
        n => n.to_string(),
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `AA:BB:CC:DD:EE:FF` from six wire-order octets.
pub fn mac(b: &[u8], off: usize) -> String {
    let m = arr::<6>(b, off);
    m.iter()
        .map(|x| format!("{x:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
pub mod testutil {
    /// xorshift64*: a tiny deterministic PRNG for garbage-input tests (no extra crates).
    pub struct XorShift(pub u64);
    impl XorShift {
        pub fn next_u64(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.0 = x;
            x.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        pub fn bytes(&mut self, max_len: usize) -> Vec<u8> {
            let len = (self.next_u64() as usize) % (max_len + 1);
            (0..len).map(|_| self.next_u64() as u8).collect()
        }
    }

    /// Feed `rounds` random inputs (random lengths around `sizes`) to `f`; it must not panic.
    pub fn fuzz_pairs(seed: u64, sizes: &[usize], mut f: impl FnMut(&[u8], &[u8])) {
        let mut r = XorShift(seed);
        let max = sizes.iter().copied().max().unwrap_or(8) + 8;
        for i in 0..4000 {
            let k = if i % 2 == 0 {
                let n = sizes[(r.next_u64() as usize) % sizes.len()];
                (0..n).map(|_| r.next_u64() as u8).collect()
            } else {
                r.bytes(max)
            };
            let v = if i % 3 != 2 {
                let n = sizes[(r.next_u64() as usize) % sizes.len()];
                (0..n).map(|_| r.next_u64() as u8).collect()
            } else {
                r.bytes(max)
            };
            f(&k, &v);
        }
    }
}
