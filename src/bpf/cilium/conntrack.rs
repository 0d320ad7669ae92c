//! Conntrack tables `cilium_ct{4,6}_global` and `cilium_ct_any{4,6}_global`
//! (cilium-maps.md §3.5, §3.6, §4.1, §4.2).
//!
//! The stored tuple names addresses for the reply direction and ports for the original one;
//! entries are turned back into connection order here, as `cilium-dbg bpf ct list` prints them.

use super::bytes::*;
use super::layout::Layout;
use crate::model::{Addr, CtEntry, CtFlags, TcpFlags, Word};

/// The clock `lifetime` is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// Seconds of CLOCK_MONOTONIC (Cilium's default).
    Ktime,
    /// `jiffies64 >> 8` (`--enable-bpf-clock-probe`), with the kernel's HZ.
    Jiffies { hz: u32 },
}

/// "Now" in both clocks, taken once per collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub mode: ClockMode,
    /// CLOCK_MONOTONIC seconds.
    pub mono_s: u64,
    /// Current jiffies64 (from /proc/schedstat), when known.
    pub jiffies: Option<u64>,
}

/// Seconds until `lifetime`, negative when past (entries linger until Cilium's GC runs).
pub fn remaining_s(lifetime: u32, now: &Now) -> i64 {
    match now.mode {
        ClockMode::Ktime => i64::from(lifetime) - now.mono_s as i64,
        ClockMode::Jiffies { hz } => {
            let cur = (now.jiffies.unwrap_or(0) >> 8) as u32;
            let diff = i64::from(lifetime.wrapping_sub(cur) as i32);
            diff * 256 / i64::from(hz.max(1))
        }
    }
}

const HZ_CANDIDATES: [u32; 4] = [100, 250, 300, 1000];

/// Kernel HZ from jiffies64 and uptime: jiffies64 starts at 2^32 − 300·HZ on 64-bit kernels.
pub fn guess_hz(jiffies: u64, mono_s: u64) -> u32 {
    let mut best = (u64::MAX, 250);
    for hz in HZ_CANDIDATES {
        let expect = (1u64 << 32) as i128 + (mono_s as i128 - 300) * i128::from(hz);
        let err = (expect - jiffies as i128).unsigned_abs() as u64;
        if err < best.0 {
            best = (err, hz);
        }
    }
    best.1
}

/// Which clock the lifetimes were written with: seconds since boot are small, `jiffies >> 8`
/// on a 64-bit kernel is ≥ 2^24. Lifetimes near `jiffies >> 8` mean jiffies mode.
pub fn detect_clock(lifetimes: &[u32], mono_s: u64, jiffies: Option<u64>) -> ClockMode {
    let Some(j) = jiffies else {
        return ClockMode::Ktime;
    };
    let jnow = j >> 8;
    let mut votes_j = 0usize;
    let mut votes_k = 0usize;
    for &l in lifetimes.iter().take(1000) {
        let l = u64::from(l);
        if l.abs_diff(jnow) < l.abs_diff(mono_s) {
            votes_j += 1;
        } else {
            votes_k += 1;
        }
    }
    if votes_j > votes_k {
        ClockMode::Jiffies {
            hz: guess_hz(j, mono_s),
        }
    } else {
        ClockMode::Ktime
    }
}

/// The decoded tuple, still in stored order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtTuple {
    pub daddr: Addr,
    pub saddr: Addr,
    pub dport: u16,
    pub sport: u16,
    pub nexthdr: u8,
    pub flags: u8,
}

fn addr(b: &[u8], off: usize, v6: bool) -> Addr {
    if v6 {
        Addr::from(ip6(b, off))
    } else {
        Addr::from(ip4(b, off))
    }
}

pub fn decode_key(b: &[u8], v6: bool) -> Result<CtTuple> {
    let (n, a) = if v6 { (38, 16) } else { (14, 4) };
    exact("ct key", b, n)?;
    Ok(CtTuple {
        daddr: addr(b, 0, v6),
        saddr: addr(b, a, v6),
        dport: be16(b, 2 * a),
        sport: be16(b, 2 * a + 2),
        nexthdr: u8_at(b, 2 * a + 4),
        flags: u8_at(b, 2 * a + 5),
    })
}

/// CLI labels of the CT entry flag bits (bit 9 is ignored by the CLI as well); releases up to
/// 1.15 call bit 7 `DSR`, later ones `DSRInternal`.
pub fn ct_flags(flags: u16, layout: Layout) -> CtFlags {
    CtFlags::from_bits(flags, layout <= Layout::V1_15)
}

/// Protocol name, shared for the common ones (`proto_name` otherwise).
fn proto_word(p: u8) -> Word {
    match p {
        0 => Word::ANY,
        1 => Word::ICMP,
        2 => Word::IGMP,
        6 => Word::TCP,
        17 => Word::UDP,
        58 => Word::ICMPV6,
        112 => Word::VRRP,
        132 => Word::SCTP,
        n => Word::from(proto_name(n)),
    }
}

/// The layout's label as a shared word, looked up once.
fn layout_word(l: Layout) -> Word {
    static WORDS: std::sync::LazyLock<[Word; 6]> =
        std::sync::LazyLock::new(|| Layout::ALL.map(|l| Word::from(l.label())));
    WORDS
        .iter()
        .zip(Layout::ALL)
        .find(|(_, x)| *x == l)
        .map_or_else(|| Word::from(l.label()), |(w, _)| w.clone())
}

/// Decode one entry of `table` (`ct4_global`, `ct_any6_global`...) in connection order.
/// Allocates nothing for a decodable entry (one table name is shared by every entry).
pub fn decode_entry(
    table: &Word,
    key: &[u8],
    value: &[u8],
    v6: bool,
    layout: Layout,
    now: &Now,
) -> Result<CtEntry> {
    let t = decode_key(key, v6)?;
    exact("ct value", value, 56)?;
    let svc = t.flags & 4 != 0;
    let (nexthdr, tflags, tsport, tdport) = (t.nexthdr, t.flags, t.sport, t.dport);
    let (direction, src, src_port, dst, dst_port) = if svc {
        (Word::SVC, t.saddr, tdport, t.daddr, tsport)
    } else if tflags & 1 != 0 {
        (Word::IN, t.daddr, tsport, t.saddr, tdport)
    } else {
        (Word::OUT, t.daddr, tsport, t.saddr, tdport)
    };
    let lifetime = le32(value, 32);
    let flags = le16(value, 36);
    let old = layout <= Layout::V1_15;
    let (packets, bytes) = if old {
        // rx/tx pairs; service entries reuse rx_bytes for the backend id.
        let rx_bytes = if svc { 0 } else { le64(value, 8) };
        (
            le64(value, 0).wrapping_add(le64(value, 16)),
            rx_bytes.wrapping_add(le64(value, 24)),
        )
    } else {
        (le64(value, 16), le64(value, 24))
    };
    let nat_addr = if layout == Layout::Main && !svc {
        let n = if v6 { 16 } else { 4 };
        let zero = value.get(..n).is_none_or(|b| b.iter().all(|&x| x == 0));
        (!zero).then(|| addr(value, 0, v6))
    } else {
        None
    };
    Ok(CtEntry {
        table: table.clone(),
        protocol: proto_word(nexthdr),
        direction,
        related: tflags & 2 != 0,
        src,
        src_port,
        dst,
        dst_port,
        flags: ct_flags(flags, layout),
        expires_in_s: remaining_s(lifetime, now),
        rev_nat_id: be16(value, 38),
        src_identity: le32(value, 44),
        packets: Some(packets),
        bytes: Some(bytes),
        tx_flags_seen: TcpFlags::from_bits(u8_at(value, 42)),
        rx_flags_seen: TcpFlags::from_bits(u8_at(value, 43)),
        lifetime,
        backend_id: svc.then(|| le64(value, 8)),
        ifindex: (layout <= Layout::V1_17).then(|| le16(value, 40)),
        nat_port: (layout == Layout::Main).then(|| be16(value, 40)),
        nat_addr,
        layout: Some(layout_word(layout)),
        raw: None,
        flags_word: Some(flags),
        last_tx_report: le32(value, 48),
        last_rx_report: le32(value, 52),
        tx_counters: old.then(|| Box::new([le64(value, 16), le64(value, 24)])),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::cilium::bytes::testutil::fuzz_pairs;

    const NOW: Now = Now {
        mode: ClockMode::Ktime,
        mono_s: 17412,
        jiffies: None,
    };

    pub fn key4(d: [u8; 4], s: [u8; 4], dport: u16, sport: u16, proto: u8, flags: u8) -> Vec<u8> {
        let mut k = d.to_vec();
        k.extend(s);
        k.extend(dport.to_be_bytes());
        k.extend(sport.to_be_bytes());
        k.extend([proto, flags]);
        k
    }

    fn value(w: &[(usize, &[u8])]) -> Vec<u8> {
        let mut v = vec![0u8; 56];
        for (off, b) in w {
            v[*off..*off + b.len()].copy_from_slice(b);
        }
        v
    }

    #[test]
    fn out_entry_is_printed_in_connection_order() {
        // Pod 10.244.1.23:48526 → 10.244.2.17:80, stored daddr=A saddr=B dport=b sport=a.
        let k = key4([10, 244, 1, 23], [10, 244, 2, 17], 80, 48526, 6, 0);
        let v = value(&[
            (16, &5u64.to_le_bytes()),
            (24, &300u64.to_le_bytes()),
            (32, &17432u32.to_le_bytes()),
            (36, &0x0013u16.to_le_bytes()),
            (38, &5u16.to_be_bytes()),
            (40, &12u16.to_le_bytes()),
            (42, &[0x1b, 0x1b]),
            (44, &28461u32.to_le_bytes()),
            (48, &17400u32.to_le_bytes()),
        ]);
        let e = decode_entry(&"ct4_global".into(), &k, &v, false, Layout::V1_17, &NOW).unwrap();
        assert_eq!((e.direction.as_ref(), e.related), ("OUT", false));
        assert_eq!((e.last_tx_report, e.last_rx_report), (17400, 0));
        assert_eq!(
            (e.src.to_string().as_str(), e.src_port),
            ("10.244.1.23", 48526)
        );
        assert_eq!(
            (e.dst.to_string().as_str(), e.dst_port),
            ("10.244.2.17", 80)
        );
        assert_eq!(e.protocol, "TCP");
        assert_eq!(e.flags, vec!["RxClosing", "TxClosing", "SeenNonSyn"]);
        assert_eq!(e.tx_flags_seen, vec!["FIN", "SYN", "PSH", "ACK"]);
        assert_eq!((e.expires_in_s, e.lifetime), (20, 17432));
        assert_eq!((e.rev_nat_id, e.src_identity), (5, 28461));
        assert_eq!((e.packets, e.bytes), (Some(5), Some(300)));
        assert_eq!(
            (e.ifindex, e.nat_port, e.backend_id),
            (Some(12), None, None)
        );
        // Same bytes read as 1.18: offset 40 is reserved.
        let e = decode_entry(&"ct4_global".into(), &k, &v, false, Layout::V1_18, &NOW).unwrap();
        assert_eq!((e.ifindex, e.nat_port), (None, None));
        // main: offset 40 is the NAT port in network order.
        let e = decode_entry(&"ct4_global".into(), &k, &v, false, Layout::Main, &NOW).unwrap();
        assert_eq!(e.nat_port, Some(12u16.swap_bytes()));
    }

    #[test]
    fn service_and_related_entries() {
        // SVC: daddr=VIP saddr=client dport=client port sport=service port.
        let k = key4([10, 96, 0, 10], [10, 244, 1, 23], 40000, 53, 17, 4 | 2);
        let v = value(&[(8, &42u64.to_le_bytes()), (38, &3u16.to_be_bytes())]);
        let e = decode_entry(&"ct_any4_global".into(), &k, &v, false, Layout::V1_16, &NOW).unwrap();
        assert_eq!((e.direction.as_ref(), e.related), ("SVC", true));
        assert_eq!(
            (e.src.to_string().as_str(), e.src_port),
            ("10.244.1.23", 40000)
        );
        assert_eq!((e.dst.to_string().as_str(), e.dst_port), ("10.96.0.10", 53));
        assert_eq!((e.backend_id, e.rev_nat_id), (Some(42), 3));
        let k = key4([10, 0, 0, 1], [10, 0, 0, 2], 80, 1234, 1, 1);
        let e = decode_entry(&"ct_any4_global".into(), &k, &v, false, Layout::V1_16, &NOW).unwrap();
        assert_eq!(e.direction, "IN");
        assert_eq!(
            (
                e.src.to_string().as_str(),
                e.src_port,
                e.dst.to_string().as_str(),
                e.dst_port
            ),
            ("10.0.0.1", 1234, "10.0.0.2", 80)
        );
        assert_eq!(e.protocol, "ICMP");
    }

    #[test]
    fn old_layout_sums_rx_and_tx_counters() {
        let k = key4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 6, 0);
        let v = value(&[
            (0, &1u64.to_le_bytes()),
            (8, &100u64.to_le_bytes()),
            (16, &2u64.to_le_bytes()),
            (24, &200u64.to_le_bytes()),
            (36, &0x0080u16.to_le_bytes()),
        ]);
        for l in [Layout::V1_14, Layout::V1_15] {
            let e = decode_entry(&"ct4_global".into(), &k, &v, false, l, &NOW).unwrap();
            assert_eq!((e.packets, e.bytes), (Some(3), Some(300)));
            assert_eq!(e.flags, vec!["DSR"]);
            assert_eq!(e.ifindex, Some(0));
        }
        let e = decode_entry(&"ct4_global".into(), &k, &v, false, Layout::V1_16, &NOW).unwrap();
        assert_eq!((e.packets, e.bytes), (Some(2), Some(200)));
        assert_eq!(e.flags, vec!["DSRInternal"]);
    }

    #[test]
    fn main_nat_addr_and_ipv6_key() {
        let mut k = vec![0u8; 38];
        k[0] = 0xfd;
        k[15] = 1;
        k[16] = 0xfd;
        k[31] = 2;
        k[32..34].copy_from_slice(&443u16.to_be_bytes());
        k[34..36].copy_from_slice(&5555u16.to_be_bytes());
        k[36] = 6;
        let mut natv6 = [0u8; 16];
        natv6[0] = 0x20;
        natv6[1] = 0x01;
        natv6[15] = 9;
        let v = value(&[(0, &natv6), (36, &0x0800u16.to_le_bytes())]);
        let e = decode_entry(&"ct6_global".into(), &k, &v, true, Layout::Main, &NOW).unwrap();
        assert_eq!((e.src.to_string().as_str(), e.src_port), ("fd00::1", 5555));
        assert_eq!((e.dst.to_string().as_str(), e.dst_port), ("fd00::2", 443));
        assert_eq!(
            e.nat_addr.map(|a| a.to_string()).as_deref(),
            Some("2001::9")
        );
        assert_eq!(e.flags, vec!["Unknown=0x0800"]);
        assert_eq!(e.expires_in_s, -17412);
    }

    #[test]
    fn clocks() {
        assert_eq!(
            remaining_s(
                100,
                &Now {
                    mode: ClockMode::Ktime,
                    mono_s: 40,
                    jiffies: None
                }
            ),
            60
        );
        let j: u64 = (1u64 << 32) + 1000 * 250;
        let now = Now {
            mode: ClockMode::Jiffies { hz: 250 },
            mono_s: 1300,
            jiffies: Some(j),
        };
        let life = ((j >> 8) as u32) + 10; // 10 << 8 jiffies = 2560 / 250 ≈ 10 s
        assert_eq!(remaining_s(life, &now), 10);
        assert_eq!(guess_hz(j, 1300), 250);
        assert_eq!(guess_hz((1u64 << 32) + 700 * 1000, 1000), 1000);
        assert_eq!(
            detect_clock(&[life, life + 5], 1300, Some(j)),
            ClockMode::Jiffies { hz: 250 }
        );
        assert_eq!(detect_clock(&[1400, 9000], 1300, Some(j)), ClockMode::Ktime);
        assert_eq!(detect_clock(&[life], 1300, None), ClockMode::Ktime);
    }

    #[test]
    fn wrong_sizes_are_errors() {
        let k = key4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 6, 0);
        assert!(decode_entry(&"t".into(), &k, &[0; 55], false, Layout::Main, &NOW).is_err());
        assert!(decode_entry(&"t".into(), &k, &[0; 57], false, Layout::Main, &NOW).is_err());
        assert!(decode_entry(&"t".into(), &k[..13], &[0; 56], false, Layout::Main, &NOW).is_err());
        assert!(decode_entry(&"t".into(), &k, &[0; 56], true, Layout::Main, &NOW).is_err());
    }

    #[test]
    fn garbage_never_panics() {
        fuzz_pairs(0xc7, &[14, 38, 56], |k, v| {
            for l in Layout::ALL {
                let _ = decode_entry(&"t".into(), k, v, false, l, &NOW);
                let _ = decode_entry(&"t".into(), k, v, true, l, &NOW);
            }
            let _ = remaining_s(
                le32(v, 0),
                &Now {
                    mode: ClockMode::Jiffies { hz: 0 },
                    mono_s: 0,
                    jiffies: Some(le64(k, 0)),
                },
            );
        });
    }
}
