//! Where a program tail-calls: every `bpf_tail_call` in its translated instructions, with the
//! prog array in r2 and the index in r3 when the code fixes them.
//!
//! Register contents are tracked per basic block and forgotten at every branch target: a
//! constant assigned before a branch that joins again (`r3 = 29; if .. goto L; r3 = 30;
//! L: call`) is not the index at the call, and reporting it would invent a "called but empty"
//! slot. An index is reported only when it is certain; otherwise it is `None` (not known
//! statically). Pure: bytes in, sites out, total on any input.

use super::xlated::Insn;

/// One `bpf_tail_call` in a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Site {
    /// Instruction index of the call.
    pub insn: usize,
    /// The prog array in r2 (`r2 = map[id:N]` in the same basic block).
    pub map_id: Option<u32>,
    /// The index in r3, when it is a constant fixed in the same basic block.
    pub index: Option<u32>,
}

const BPF_LD: u8 = 0x00;
const BPF_LDX: u8 = 0x01;
const BPF_STX: u8 = 0x03;
const BPF_ALU: u8 = 0x04;
const BPF_JMP: u8 = 0x05;
const BPF_JMP32: u8 = 0x06;
const BPF_ALU64: u8 = 0x07;
const BPF_X: u8 = 0x08;

const BPF_JA: u8 = 0x00;
const BPF_CALL: u8 = 0x80;
const BPF_EXIT: u8 = 0x90;
const BPF_TAIL_CALL: u8 = 0xf0;
const BPF_PSEUDO_CALL: u8 = 1;
const BPF_PSEUDO_MAP_FD: u8 = 1;
const BPF_FUNC_TAIL_CALL: i32 = 12;
const BPF_ATOMIC: u8 = 0xc0;
const BPF_FETCH: i32 = 0x01;
const BPF_CMPXCHG: i32 = 0xf0 | BPF_FETCH;

/// What a register is known to hold inside the current basic block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Val {
    Unknown,
    Const(u64),
    Map(u32),
}

/// Instructions as (slot index, insn, second slot of ld_imm64 if any).
fn decode(insns: &[u8]) -> Vec<(usize, Insn, Option<Insn>)> {
    let n = insns.len() / 8;
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let Some(a) = Insn::at(insns, i) else { break };
        if a.code == (BPF_LD | 0x18) {
            out.push((i, a, Insn::at(insns, i + 1)));
            i += 2;
        } else {
            out.push((i, a, None));
            i += 1;
        }
    }
    out
}

fn is_tail_call(x: &Insn) -> bool {
    x.code == (BPF_JMP | BPF_TAIL_CALL)
        || (x.code == (BPF_JMP | BPF_CALL) && x.src == 0 && x.imm == BPF_FUNC_TAIL_CALL)
}

/// Slots where a basic block starts other than by falling through from a straight-line
/// instruction: branch targets, and whatever follows an unconditional jump or an exit.
fn block_starts(code: &[(usize, Insn, Option<Insn>)]) -> std::collections::HashSet<usize> {
    let mut starts = std::collections::HashSet::new();
    let target = |i: usize, rel: i64| -> Option<usize> {
        usize::try_from((i as i64).checked_add(1)?.checked_add(rel)?).ok()
    };
    for &(i, x, _) in code {
        let class = x.code & 0x07;
        if class != BPF_JMP && class != BPF_JMP32 {
            continue;
        }
        let op = x.code & 0xf0;
        match op {
            BPF_CALL if class == BPF_JMP => {
                // bpf-to-bpf call: the callee's first instruction starts a block. JITed
                // programs keep the pc-relative target in `off`, others in `imm`.
                if x.src == BPF_PSEUDO_CALL {
                    let rel = if x.off != 0 {
                        i64::from(x.off)
                    } else {
                        i64::from(x.imm)
                    };
                    starts.extend(target(i, rel));
                }
            }
            BPF_EXIT | BPF_TAIL_CALL if class == BPF_JMP => {
                starts.insert(i + 1);
            }
            BPF_JA => {
                let rel = if class == BPF_JMP32 {
                    i64::from(x.imm)
                } else {
                    i64::from(x.off)
                };
                starts.extend(target(i, rel));
                starts.insert(i + 1);
            }
            _ => {
                starts.extend(target(i, i64::from(x.off)));
            }
        }
    }
    starts
}

fn alu(op: u8, a: u64, b: u64, is64: bool) -> Option<u64> {
    let v = match op {
        0x00 => a.wrapping_add(b),
        0x10 => a.wrapping_sub(b),
        0x40 => a | b,
        0x50 => a & b,
        0xa0 => a ^ b,
        0x60 => a.checked_shl(u32::try_from(b).ok()?)?,
        0x70 => a.checked_shr(u32::try_from(b).ok()?)?,
        _ => return None,
    };
    Some(if is64 { v } else { v & 0xffff_ffff })
}

/// Every tail call of a program, in instruction order.
pub fn sites(insns: &[u8]) -> Vec<Site> {
    let code = decode(insns);
    let starts = block_starts(&code);
    let mut regs = [Val::Unknown; 11];
    let mut out = Vec::new();
    let clobber_call = |regs: &mut [Val; 11]| {
        for r in regs.iter_mut().take(6) {
            *r = Val::Unknown;
        }
    };
    for &(i, x, second) in &code {
        if starts.contains(&i) {
            regs = [Val::Unknown; 11];
        }
        let dst = usize::from(x.dst);
        let class = x.code & 0x07;
        if is_tail_call(&x) {
            let map_id = match regs[2] {
                Val::Map(m) => Some(m),
                _ => None,
            };
            let index = match regs[3] {
                Val::Const(k) => u32::try_from(k).ok(),
                _ => None,
            };
            out.push(Site {
                insn: i,
                map_id,
                index,
            });
            clobber_call(&mut regs);
            continue;
        }
        let set = |regs: &mut [Val; 11], r: usize, v: Val| {
            if let Some(slot) = regs.get_mut(r) {
                *slot = v;
            }
        };
        match class {
            BPF_LD if x.code == (BPF_LD | 0x18) => {
                let v = match (x.src, second) {
                    (BPF_PSEUDO_MAP_FD, _) => Val::Map(x.imm as u32),
                    (0, Some(hi)) => {
                        Val::Const(u64::from(x.imm as u32) | (u64::from(hi.imm as u32) << 32))
                    }
                    _ => Val::Unknown,
                };
                set(&mut regs, dst, v);
            }
            // Legacy packet loads write r0.
            BPF_LD => regs[0] = Val::Unknown,
            BPF_LDX => set(&mut regs, dst, Val::Unknown),
            BPF_STX if x.code & 0xe0 == BPF_ATOMIC => {
                if x.imm == BPF_CMPXCHG {
                    regs[0] = Val::Unknown;
                } else if x.imm & BPF_FETCH != 0 {
                    set(&mut regs, usize::from(x.src), Val::Unknown);
                }
            }
            BPF_ALU | BPF_ALU64 => {
                let is64 = class == BPF_ALU64;
                let op = x.code & 0xf0;
                let src_val = if x.code & BPF_X != 0 {
                    regs.get(usize::from(x.src))
                        .copied()
                        .unwrap_or(Val::Unknown)
                } else if is64 {
                    Val::Const(i64::from(x.imm) as u64)
                } else {
                    Val::Const(u64::from(x.imm as u32))
                };
                let v = if op == 0xb0 && x.off == 0 {
                    // mov (off != 0 is a sign-extending move: unknown here).
                    match src_val {
                        Val::Const(k) if !is64 => Val::Const(k & 0xffff_ffff),
                        Val::Map(_) if !is64 => Val::Unknown,
                        v => v,
                    }
                } else {
                    match (regs.get(dst).copied().unwrap_or(Val::Unknown), src_val) {
                        (Val::Const(a), Val::Const(b)) if x.off == 0 => {
                            alu(op, a, b, is64).map_or(Val::Unknown, Val::Const)
                        }
                        _ => Val::Unknown,
                    }
                };
                set(&mut regs, dst, v);
            }
            BPF_JMP if x.code & 0xf0 == BPF_CALL => clobber_call(&mut regs),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn i(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Vec<u8> {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
        .encode()
        .to_vec()
    }
    fn map(dst: u8, id: i32) -> Vec<u8> {
        let mut v = i(0x18, dst, 1, 0, id);
        v.extend(i(0, 0, 0, 0, 0));
        v
    }
    fn call() -> Vec<u8> {
        i(0x85, 0, 0, 0, 12)
    }
    fn got(p: &[u8]) -> Vec<(Option<u32>, Option<u32>)> {
        sites(p).iter().map(|s| (s.map_id, s.index)).collect()
    }

    #[test]
    fn constant_index_in_the_calls_block() {
        let mut p = map(2, 42);
        p.extend(i(0xb4, 3, 0, 0, 7)); // w3 = 7
        p.extend(call());
        p.extend(map(2, 43));
        p.extend(i(0xb7, 3, 0, 0, 30)); // r3 = 30
        p.extend(i(0xf5, 0, 0, 0, 0)); // rewritten tail call
        assert_eq!(got(&p), vec![(Some(42), Some(7)), (Some(43), Some(30))]);
    }

    #[test]
    fn index_set_on_one_branch_is_not_known() {
        // r3 = 29; if r2 == 0x1234 goto +1; r3 = 30; L: r2 = map; call  (clang's merge).
        let mut p = i(0xb7, 3, 0, 0, 29);
        p.extend(i(0x15, 2, 0, 1, 0x1234));
        p.extend(i(0xb7, 3, 0, 0, 30));
        p.extend(map(2, 44));
        p.extend(call());
        assert_eq!(got(&p), vec![(Some(44), None)]);
    }

    #[test]
    fn constants_do_not_survive_a_branch_target() {
        // w3 = 0 before a join (the 1.18 phantom), the real index set after it.
        let mut p = i(0xb4, 3, 0, 0, 0);
        p.extend(i(0x55, 1, 0, 1, 0)); // if r1 != 0 goto +1
        p.extend(i(0xb7, 0, 0, 0, 1)); // r0 = 1
        p.extend(map(2, 45)); // L:
        p.extend(call());
        p.extend(map(2, 45));
        p.extend(i(0xb7, 3, 0, 0, 30));
        p.extend(call());
        assert_eq!(got(&p), vec![(Some(45), None), (Some(45), Some(30))]);
        // The fall-through of a conditional jump keeps what it knew (one predecessor).
        let mut p = map(2, 46);
        p.extend(i(0xb7, 3, 0, 0, 5));
        p.extend(i(0x15, 1, 0, 2, 0)); // if r1 == 0 goto +2
        p.extend(call());
        p.extend(i(0x95, 0, 0, 0, 0));
        p.extend(i(0x95, 0, 0, 0, 0));
        assert_eq!(got(&p), vec![(Some(46), Some(5))]);
    }

    #[test]
    fn copies_and_arithmetic_are_followed_calls_clobber() {
        let mut p = i(0xb7, 6, 0, 0, 26); // r6 = 26
        p.extend(map(7, 47)); // r7 = map
        p.extend(i(0xbf, 3, 6, 0, 0)); // r3 = r6
        p.extend(i(0x07, 3, 0, 0, 1)); // r3 += 1
        p.extend(i(0xbf, 2, 7, 0, 0)); // r2 = r7
        p.extend(call());
        p.extend(call()); // r2, r3 clobbered by the first call
        p.extend(i(0x61, 3, 1, 0, 0)); // r3 = *(u32 *)(r1 + 0)
        p.extend(map(2, 47));
        p.extend(call());
        assert_eq!(
            got(&p),
            vec![(Some(47), Some(27)), (None, None), (Some(47), None)]
        );
    }

    #[test]
    fn bpf_to_bpf_callee_starts_a_block() {
        // call pc+2 (JITed form: off holds the target), then the callee at slot 3.
        let mut p = i(0xb7, 3, 0, 0, 9);
        p.extend(i(0x85, 0, 1, 2, 1)); // call pc+2 (subprog 1)
        p.extend(i(0x95, 0, 0, 0, 0));
        p.extend(i(0x95, 0, 0, 0, 0));
        p.extend(map(2, 48)); // callee: r3 is the caller's, unknown here
        p.extend(call());
        assert_eq!(got(&p), vec![(Some(48), None)]);
    }

    #[test]
    fn garbage_never_panics() {
        let mut r = crate::bpf::cilium::bytes::testutil::XorShift(77);
        for _ in 0..2000 {
            let _ = sites(&r.bytes(256));
        }
        let _ = sites(&[0x18, 0x21, 0, 0, 1, 0, 0, 0]);
        let _ = sites(&i(0x05, 0, 0, i16::MIN, 0));
        let _ = sites(&i(0x06, 0, 0, 0, i32::MIN));
    }
}
