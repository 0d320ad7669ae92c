//! A program's translated (post-verifier) instructions: fetching them, disassembling them in the
//! kernel's / bpftool's `print_bpf_insn` notation, and listing the helpers and kfuncs they call.
//!
//! In xlated dumps the kernel stores a helper call's `imm` as the offset of the helper from
//! `__bpf_call_base`, so names come from kallsyms; map loads carry map ids.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use anyhow::{bail, Result};

use super::kallsyms::Kallsyms;
use crate::model::ProgramDetail;

// Instruction classes and fields (include/uapi/linux/bpf_common.h, bpf.h).
const BPF_LD: u8 = 0x00;
const BPF_LDX: u8 = 0x01;
const BPF_ST: u8 = 0x02;
const BPF_STX: u8 = 0x03;
const BPF_ALU: u8 = 0x04;
const BPF_JMP: u8 = 0x05;
const BPF_JMP32: u8 = 0x06;
const BPF_ALU64: u8 = 0x07;

const BPF_X: u8 = 0x08;

const BPF_IMM: u8 = 0x00;
const BPF_ABS: u8 = 0x20;
const BPF_IND: u8 = 0x40;
const BPF_MEM: u8 = 0x60;
const BPF_MEMSX: u8 = 0x80;
const BPF_ATOMIC: u8 = 0xc0;
// Kernel-internal modes that can show up in translated instructions.
const BPF_PROBE_MEM: u8 = 0x20;
const BPF_PROBE_MEMSX: u8 = 0x40;
const BPF_PROBE_MEM32: u8 = 0xa0;
const BPF_PROBE_ATOMIC: u8 = 0xe0;
const BPF_NOSPEC: u8 = 0xc0;

const BPF_DW: u8 = 0x18;

const BPF_MOV: u8 = 0xb0;
const BPF_NEG: u8 = 0x80;
const BPF_END: u8 = 0xd0;
const BPF_DIV: u8 = 0x30;
const BPF_MOD: u8 = 0x90;

const BPF_JA: u8 = 0x00;
const BPF_CALL: u8 = 0x80;
const BPF_EXIT: u8 = 0x90;
const BPF_JCOND: u8 = 0xe0;
const BPF_TAIL_CALL: u8 = 0xf0;

const BPF_PSEUDO_CALL: u8 = 1;
const BPF_PSEUDO_KFUNC_CALL: u8 = 2;

const BPF_PSEUDO_MAP_FD: u8 = 1;
const BPF_PSEUDO_MAP_VALUE: u8 = 2;
const BPF_PSEUDO_FUNC: u8 = 4;
const BPF_PSEUDO_MAP_IDX: u8 = 5;
const BPF_PSEUDO_MAP_IDX_VALUE: u8 = 6;

const BPF_FETCH: i32 = 0x01;
const BPF_XCHG: i32 = 0xe0 | BPF_FETCH;
const BPF_CMPXCHG: i32 = 0xf0 | BPF_FETCH;
const BPF_LOAD_ACQ: i32 = 0x100;
const BPF_STORE_REL: i32 = 0x110;

/// Size of one instruction slot.
pub const INSN_SIZE: usize = 8;

/// One decoded instruction slot (host byte order, as the kernel hands them out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u8,
    pub dst: u8,
    pub src: u8,
    pub off: i16,
    pub imm: i32,
}

impl Insn {
    /// Decodes slot `idx` of `insns`, if it is complete.
    pub fn at(insns: &[u8], idx: usize) -> Option<Insn> {
        let start = idx.checked_mul(INSN_SIZE)?;
        let b = insns.get(start..start.checked_add(INSN_SIZE)?)?;
        let regs = b[1];
        let (dst, src) = if cfg!(target_endian = "little") {
            (regs & 0x0f, regs >> 4)
        } else {
            (regs >> 4, regs & 0x0f)
        };
        Some(Insn {
            code: b[0],
            dst,
            src,
            off: i16::from_ne_bytes([b[2], b[3]]),
            imm: i32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
        })
    }

    /// Encodes into 8 bytes (host byte order). Handy for tests and fixtures.
    pub fn encode(&self) -> [u8; 8] {
        let regs = if cfg!(target_endian = "little") {
            (self.dst & 0x0f) | (self.src << 4)
        } else {
            (self.dst << 4) | (self.src & 0x0f)
        };
        let off = self.off.to_ne_bytes();
        let imm = self.imm.to_ne_bytes();
        [
            self.code, regs, off[0], off[1], imm[0], imm[1], imm[2], imm[3],
        ]
    }

    fn class(&self) -> u8 {
        self.code & 0x07
    }
}

/// Helpers and kfuncs a program calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calls {
    /// Helper (and inlined map-op) kernel symbols, deduplicated and sorted.
    pub helpers: Vec<String>,
    /// kfunc names, deduplicated and sorted.
    pub kfuncs: Vec<String>,
    /// Set when some calls could not be named (addresses hidden by the kernel, no symbol).
    pub note: Option<String>,
}

/// How a call instruction resolved.
enum CallTarget {
    Helper(String),
    Kfunc(String),
    Subprog(i32),
    /// The kernel zeroed the call address (raw dumps not allowed for this reader).
    Hidden,
    /// Could not name it; text to show.
    Unknown(String),
}

fn helper_id_name(imm: i32) -> Option<String> {
    let i = usize::try_from(imm).ok()?;
    if i == 0 {
        return None;
    }
    HELPER_NAMES.get(i).map(|n| format!("bpf_{n}"))
}

fn resolve_call(
    insn: &Insn,
    syms: &Kallsyms,
    kfunc_btf_name: &dyn Fn(u32) -> Option<String>,
) -> CallTarget {
    let by_addr = || -> Option<String> {
        let base = syms.address_of("__bpf_call_base")?;
        let addr = base.wrapping_add(insn.imm as i64 as u64);
        syms.lookup_exact(addr).map(str::to_string)
    };
    match insn.src {
        BPF_PSEUDO_CALL => CallTarget::Subprog(insn.imm),
        BPF_PSEUDO_KFUNC_CALL => {
            if insn.imm == 0 {
                return CallTarget::Hidden;
            }
            if let Some(n) = by_addr() {
                return CallTarget::Kfunc(n);
            }
            match u32::try_from(insn.imm).ok().and_then(kfunc_btf_name) {
                Some(n) => CallTarget::Kfunc(n),
                None => CallTarget::Unknown(format!("kfunc#{}", insn.imm)),
            }
        }
        0 => {
            if insn.imm == 0 {
                return CallTarget::Hidden;
            }
            if let Some(n) = by_addr() {
                return CallTarget::Helper(n);
            }
            // Helper ids (tail calls are shown as `call bpf_tail_call#12`, and untranslated
            // instructions carry plain ids).
            if let Some(n) = helper_id_name(insn.imm) {
                return CallTarget::Helper(n);
            }
            match syms.address_of("__bpf_call_base") {
                Some(base) => {
                    CallTarget::Unknown(format!("{:#x}", base.wrapping_add(insn.imm as i64 as u64)))
                }
                None => CallTarget::Unknown("unknown".to_string()),
            }
        }
        other => CallTarget::Unknown(format!("(call src_reg {other})")),
    }
}

/// Helpers and kfuncs called by `insns` (translated instructions). kfuncs not found in
/// kallsyms are named from the vmlinux BTF when their `imm` is a BTF id.
pub fn calls(insns: &[u8], syms: &Kallsyms) -> Calls {
    calls_with(insns, syms, &vmlinux_btf_name)
}

/// [`calls`] with an explicit kfunc BTF-id → name resolver (pure).
pub fn calls_with(
    insns: &[u8],
    syms: &Kallsyms,
    kfunc_btf_name: &dyn Fn(u32) -> Option<String>,
) -> Calls {
    let mut out = Calls::default();
    let mut hidden = 0usize;
    let mut unknown = 0usize;
    for insn in call_insns(insns) {
        match resolve_call(&insn, syms, kfunc_btf_name) {
            CallTarget::Helper(n) => out.helpers.push(n),
            CallTarget::Kfunc(n) => out.kfuncs.push(n),
            CallTarget::Subprog(_) => {}
            CallTarget::Hidden => hidden += 1,
            CallTarget::Unknown(_) => unknown += 1,
        }
    }
    out.helpers.sort();
    out.helpers.dedup();
    out.kfuncs.sort();
    out.kfuncs.dedup();
    let mut notes = Vec::new();
    if hidden > 0 {
        notes.push(format!(
            "{hidden} call(s) not named: the kernel hid their addresses (kernel.kptr_restrict / no CAP_SYSLOG)"
        ));
    }
    if unknown > 0 {
        let why = syms
            .unavailable_reason()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        notes.push(format!(
            "{unknown} call(s) not found in kernel symbols{why}"
        ));
    }
    if !notes.is_empty() {
        out.note = Some(notes.join("; "));
    }
    out
}

/// The `imm` of every helper and kfunc call in `insns` that is named from kernel symbols:
/// the target's offset from `__bpf_call_base`. Calls whose address the kernel hid (`imm` 0)
/// and subprogram calls are left out; repeats are kept.
pub fn call_offsets(insns: &[u8]) -> Vec<i32> {
    call_insns(insns)
        .filter(|c| (c.src == 0 || c.src == BPF_PSEUDO_KFUNC_CALL) && c.imm != 0)
        .map(|c| c.imm)
        .collect()
}

/// The call instructions of `insns`, in order (the second half of a 16-byte load is skipped).
fn call_insns(insns: &[u8]) -> impl Iterator<Item = Insn> + '_ {
    let n = insns.len() / INSN_SIZE;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < n {
            let insn = Insn::at(insns, i)?;
            i += if insn.code == BPF_LD | BPF_IMM | BPF_DW {
                2
            } else {
                1
            };
            if insn.code == BPF_JMP | BPF_CALL {
                return Some(insn);
            }
        }
        None
    })
}

/// Gives the symbols needed to name calls at these offsets from `__bpf_call_base` (a small
/// table of just those, or the whole kallsyms table), or why there are none.
pub type CallTableFn<'a, 'k> =
    dyn FnMut(&[i32]) -> Result<std::borrow::Cow<'k, Kallsyms>, String> + 'a;

/// Helpers and kfuncs of several programs (translated instructions by id), with the call
/// targets of all of them named in one go: `table` is asked once for the symbols of the
/// distinct offsets from `__bpf_call_base` ([`call_offsets`]), then each program's calls are
/// decoded as [`calls`] does. When `table` fails, the error (and no calls) is returned.
pub fn programs_calls<'k>(
    progs: &[(u32, Vec<u8>)],
    table: &mut CallTableFn<'_, 'k>,
) -> Result<std::collections::HashMap<u32, Calls>, String> {
    let mut offsets: Vec<i32> = progs.iter().flat_map(|(_, i)| call_offsets(i)).collect();
    offsets.sort_unstable();
    offsets.dedup();
    let syms = table(&offsets)?;
    Ok(progs
        .iter()
        .map(|(id, insns)| (*id, calls(insns, &syms)))
        .collect())
}

fn size_name(code: u8) -> &'static str {
    match code & 0x18 {
        0x00 => "u32",
        0x08 => "u16",
        0x10 => "u8",
        _ => "u64",
    }
}

fn sx_size_name(code: u8) -> Option<&'static str> {
    match code & 0x18 {
        0x00 => Some("s32"),
        0x08 => Some("s16"),
        0x10 => Some("s8"),
        _ => None,
    }
}

fn alu_op(op: u8) -> Option<&'static str> {
    Some(match op {
        0x00 => "+=",
        0x10 => "-=",
        0x20 => "*=",
        0x30 => "/=",
        0x40 => "|=",
        0x50 => "&=",
        0x60 => "<<=",
        0x70 => ">>=",
        0x90 => "%=",
        0xa0 => "^=",
        0xb0 => "=",
        0xc0 => "s>>=",
        _ => return None,
    })
}

fn jmp_op(op: u8) -> Option<&'static str> {
    Some(match op {
        0x10 => "==",
        0x20 => ">",
        0x30 => ">=",
        0x40 => "&",
        0x50 => "!=",
        0x60 => "s>",
        0x70 => "s>=",
        0xa0 => "<",
        0xb0 => "<=",
        0xc0 => "s<",
        0xd0 => "s<=",
        _ => return None,
    })
}

fn atomic_op(op: i32) -> Option<&'static str> {
    Some(match op {
        0x00 => "add",
        0x40 => "or",
        0x50 => "and",
        0xa0 => "xor",
        _ => return None,
    })
}

fn bad(insn: &Insn) -> String {
    format!("(bad insn {:#04x})", insn.code)
}

fn mem(code: u8, reg: u8, off: i16) -> String {
    format!("*({} *)(r{reg} {off:+})", size_name(code))
}

fn disasm_alu(insn: &Insn) -> String {
    let is64 = insn.class() == BPF_ALU64;
    let r = if is64 { 'r' } else { 'w' };
    let op = insn.code & 0xf0;
    let x = insn.code & BPF_X != 0;
    let (d, s) = (insn.dst, insn.src);
    if d > 10 || (x && s > 10) {
        return bad(insn);
    }
    match op {
        BPF_END => {
            if !matches!(insn.imm, 16 | 32 | 64) {
                return bad(insn);
            }
            if is64 {
                if x {
                    return bad(insn);
                }
                format!("r{d} = bswap{} r{d}", insn.imm)
            } else {
                let e = if x { "be" } else { "le" };
                format!("r{d} = {e}{} r{d}", insn.imm)
            }
        }
        BPF_NEG => {
            if x {
                return bad(insn);
            }
            format!("{r}{d} = -{r}{d}")
        }
        _ => {
            let Some(mut sym) = alu_op(op) else {
                return bad(insn);
            };
            if insn.off == 1 && (op == BPF_DIV || op == BPF_MOD) {
                sym = if op == BPF_DIV { "s/=" } else { "s%=" };
            }
            if x {
                if op == BPF_MOV {
                    match insn.off {
                        0 => {}
                        8 | 16 | 32 => {
                            return format!("{r}{d} = (s{}){r}{s}", insn.off);
                        }
                        // BPF_MOV64_PERCPU_REG (kernel-internal, inlined per-CPU lookups).
                        -1 if is64 => {
                            return format!("r{d} = &(void __percpu *)(r{s})");
                        }
                        1 if is64 => {
                            return format!(
                                "r{d} = addr_space_cast(r{s}, {}, {})",
                                (insn.imm as u32) >> 16,
                                insn.imm as u32 & 0xffff
                            );
                        }
                        _ => return bad(insn),
                    }
                }
                format!("{r}{d} {sym} {r}{s}")
            } else {
                format!("{r}{d} {sym} {}", insn.imm)
            }
        }
    }
}

fn disasm_jmp(
    insn: &Insn,
    syms: &Kallsyms,
    kfunc_btf_name: &dyn Fn(u32) -> Option<String>,
    subprogs: &[String],
) -> String {
    let is64 = insn.class() == BPF_JMP;
    let r = if is64 { 'r' } else { 'w' };
    let op = insn.code & 0xf0;
    let x = insn.code & BPF_X != 0;
    match op {
        BPF_JA if !x => {
            if is64 {
                format!("goto pc{:+}", insn.off)
            } else {
                format!("gotol pc{:+}", insn.imm)
            }
        }
        BPF_CALL if is64 => {
            if x {
                return format!("callx r{}", insn.dst);
            }
            match resolve_call(insn, syms, kfunc_btf_name) {
                CallTarget::Helper(n) | CallTarget::Kfunc(n) => {
                    format!("call {n}#{}", insn.imm)
                }
                // JITed programs: `off` is the pc-relative target and `imm` the subprogram
                // index (named like bpftool, from the program's jited ksyms); interpreted
                // ones keep the target in `imm` (a call never targets pc+0).
                CallTarget::Subprog(_) if insn.off != 0 => {
                    match usize::try_from(insn.imm).ok().and_then(|i| subprogs.get(i)) {
                        Some(n) => format!("call pc{:+}#{n}", insn.off),
                        None => format!("call pc{:+}", insn.off),
                    }
                }
                CallTarget::Subprog(o) => format!("call pc{o:+}"),
                CallTarget::Hidden => "call unknown#0 (address hidden by the kernel)".to_string(),
                CallTarget::Unknown(t) => format!("call {t}#{}", insn.imm),
            }
        }
        BPF_EXIT if is64 && !x => "exit".to_string(),
        BPF_JCOND if is64 && !x && insn.src == 0 => format!("may_goto pc{:+}", insn.off),
        BPF_TAIL_CALL if is64 && !x => "tail_call".to_string(),
        _ => {
            let Some(sym) = jmp_op(op) else {
                return bad(insn);
            };
            if insn.dst > 10 || (x && insn.src > 10) {
                return bad(insn);
            }
            if x {
                format!(
                    "if {r}{} {sym} {r}{} goto pc{:+}",
                    insn.dst, insn.src, insn.off
                )
            } else {
                format!(
                    "if {r}{} {sym} {:#x} goto pc{:+}",
                    insn.dst, insn.imm as u32, insn.off
                )
            }
        }
    }
}

fn disasm_stx(insn: &Insn) -> String {
    let mode = insn.code & 0xe0;
    let (d, s) = (insn.dst, insn.src);
    if d > 10 || s > 10 {
        return bad(insn);
    }
    let size = size_name(insn.code);
    let is_dw = insn.code & 0x18 == BPF_DW;
    match mode {
        BPF_MEM | BPF_PROBE_MEM32 => format!("{} = r{s}", mem(insn.code, d, insn.off)),
        BPF_ATOMIC | BPF_PROBE_ATOMIC => {
            let bits = if is_dw { "64" } else { "" };
            let imm = insn.imm;
            let off = insn.off;
            if atomic_op(imm).is_some() {
                let sym = alu_op(imm as u8).unwrap_or("?");
                format!("lock *({size} *)(r{d} {off:+}) {sym} r{s}")
            } else if imm & BPF_FETCH != 0 && atomic_op(imm & !BPF_FETCH).is_some() {
                let name = atomic_op(imm & !BPF_FETCH).unwrap_or("?");
                format!("r{s} = atomic{bits}_fetch_{name}(({size} *)(r{d} {off:+}), r{s})")
            } else if imm == BPF_CMPXCHG {
                format!("r0 = atomic{bits}_cmpxchg(({size} *)(r{d} {off:+}), r0, r{s})")
            } else if imm == BPF_XCHG {
                format!("r{s} = atomic{bits}_xchg(({size} *)(r{d} {off:+}), r{s})")
            } else if imm == BPF_STORE_REL {
                format!("store_release(({size} *)(r{d} {off:+}), r{s})")
            } else if imm == BPF_LOAD_ACQ {
                // Encoded in BPF_STX class by the kernel: dst is the address register.
                format!("r{s} = load_acquire(({size} *)(r{d} {off:+}))")
            } else {
                bad(insn)
            }
        }
        _ => bad(insn),
    }
}

fn disasm_one(
    insn: &Insn,
    syms: &Kallsyms,
    kfunc_btf_name: &dyn Fn(u32) -> Option<String>,
    subprogs: &[String],
) -> String {
    match insn.class() {
        BPF_ALU | BPF_ALU64 => disasm_alu(insn),
        BPF_JMP | BPF_JMP32 => disasm_jmp(insn, syms, kfunc_btf_name, subprogs),
        BPF_STX => disasm_stx(insn),
        BPF_ST => {
            let mode = insn.code & 0xe0;
            if insn.dst > 10 {
                return bad(insn);
            }
            match mode {
                BPF_MEM | BPF_PROBE_MEM32 => {
                    format!("{} = {}", mem(insn.code, insn.dst, insn.off), insn.imm)
                }
                BPF_NOSPEC if insn.code == BPF_ST | BPF_NOSPEC => "nospec".to_string(),
                _ => bad(insn),
            }
        }
        BPF_LDX => {
            let mode = insn.code & 0xe0;
            if insn.dst > 10 || insn.src > 10 {
                return bad(insn);
            }
            match mode {
                BPF_MEM | BPF_PROBE_MEM | BPF_PROBE_MEM32 => {
                    format!("r{} = {}", insn.dst, mem(insn.code, insn.src, insn.off))
                }
                BPF_MEMSX | BPF_PROBE_MEMSX => match sx_size_name(insn.code) {
                    Some(sz) => format!("r{} = *({sz} *)(r{} {:+})", insn.dst, insn.src, insn.off),
                    None => bad(insn),
                },
                _ => bad(insn),
            }
        }
        _ => {
            // BPF_LD (ld_imm64 handled by the caller).
            let mode = insn.code & 0xe0;
            let size = size_name(insn.code);
            match mode {
                BPF_ABS if insn.code & 0x18 != BPF_DW => {
                    format!("r0 = *({size} *)skb[{}]", insn.imm)
                }
                BPF_IND if insn.code & 0x18 != BPF_DW && insn.src <= 10 => {
                    format!("r0 = *({size} *)skb[r{} + {}]", insn.src, insn.imm)
                }
                _ => bad(insn),
            }
        }
    }
}

fn disasm_ld_imm64(first: &Insn, second: &Insn) -> String {
    if first.dst > 10 || second.code != 0 {
        return bad(first);
    }
    let full = ((second.imm as u32 as u64) << 32) | first.imm as u32 as u64;
    let text = match first.src {
        BPF_PSEUDO_MAP_FD => format!("map[id:{}]", first.imm as u32),
        BPF_PSEUDO_MAP_VALUE => format!("map[id:{}][0]+{}", first.imm as u32, second.imm as u32),
        BPF_PSEUDO_MAP_IDX => format!("map[idx:{}]", first.imm as u32),
        BPF_PSEUDO_MAP_IDX_VALUE => {
            format!("map[idx:{}]+{}", first.imm as u32, second.imm as u32)
        }
        BPF_PSEUDO_FUNC => format!("subprog[{:+}]", first.imm),
        _ => format!("{full:#x}"),
    };
    format!("r{} = {text}", first.dst)
}

/// Disassembles translated instructions: one `(index, text)` per instruction (a 16-byte
/// `ld_imm64` is one entry). Total: garbage gives `(bad insn ...)` entries, never a panic.
pub fn disassemble_indexed(insns: &[u8], syms: &Kallsyms) -> Vec<(usize, String)> {
    disassemble_indexed_with(insns, syms, &vmlinux_btf_name, &[])
}

fn vmlinux_btf_name(id: u32) -> Option<String> {
    super::btf_fmt::Btf::vmlinux().and_then(|b| b.name_of(id).map(str::to_string))
}

/// [`disassemble_indexed`] with an explicit kfunc BTF-id → name resolver and the names of the
/// program's JITed subprograms (index = subprogram number, e.g. `bpf_prog_<tag>_<name>`).
pub fn disassemble_indexed_with(
    insns: &[u8],
    syms: &Kallsyms,
    kfunc_btf_name: &dyn Fn(u32) -> Option<String>,
    subprogs: &[String],
) -> Vec<(usize, String)> {
    let n = insns.len() / INSN_SIZE;
    let mut out = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let Some(insn) = Insn::at(insns, i) else {
            break;
        };
        if insn.code == BPF_LD | BPF_IMM | BPF_DW {
            match Insn::at(insns, i + 1) {
                Some(second) => {
                    out.push((i, disasm_ld_imm64(&insn, &second)));
                    i += 2;
                }
                None => {
                    out.push((
                        i,
                        format!("(bad insn {:#04x}: truncated ld_imm64)", insn.code),
                    ));
                    i += 1;
                }
            }
            continue;
        }
        out.push((i, disasm_one(&insn, syms, kfunc_btf_name, subprogs)));
        i += 1;
    }
    let rest = insns.len() % INSN_SIZE;
    if rest != 0 {
        out.push((n, format!("(bad insn: {rest} trailing bytes)")));
    }
    out
}

/// Disassembles translated instructions into display lines `"{idx:>5}: {text}"`.
pub fn disassemble(insns: &[u8], syms: &Kallsyms) -> Vec<String> {
    disassemble_prog(insns, syms, &[])
}

/// [`disassemble`] naming bpf-to-bpf calls after the program's JITed subprograms.
pub fn disassemble_prog(insns: &[u8], syms: &Kallsyms, subprogs: &[String]) -> Vec<String> {
    disassemble_indexed_with(insns, syms, &vmlinux_btf_name, subprogs)
        .into_iter()
        .map(|(i, t)| format!("{i:>5}: {t}"))
        .collect()
}

fn errno_text(rc: i32) -> io::Error {
    io::Error::from_raw_os_error(rc.unsigned_abs() as i32)
}

/// Opens a program by id.
pub(crate) fn prog_fd_by_id(id: u32) -> Result<OwnedFd> {
    // SAFETY: plain syscall wrapper; no pointers passed.
    let fd = unsafe { libbpf_sys::bpf_prog_get_fd_by_id(id) };
    if fd < 0 {
        bail!("cannot open program {id}: {}", errno_text(fd));
    }
    // SAFETY: `fd` is a fresh descriptor we own and close exactly once through `OwnedFd`.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `bpf_prog_info` of an open program (no arrays requested).
pub(crate) fn prog_info(fd: &OwnedFd) -> Result<libbpf_sys::bpf_prog_info> {
    // SAFETY: bpf_prog_info is plain old data; all-zero is a valid value.
    let mut info: libbpf_sys::bpf_prog_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: `info` and `len` are valid for writes and `len` is the size of `info`.
    let rc = unsafe { libbpf_sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut len) };
    if rc < 0 {
        bail!("cannot read program info: {}", errno_text(rc));
    }
    Ok(info)
}

/// The kernel name (up to 15 chars) of an open program.
pub(crate) fn prog_name(info: &libbpf_sys::bpf_prog_info) -> String {
    let bytes: Vec<u8> = info
        .name
        .iter()
        .map(|&c| c as u8)
        .take_while(|&c| c != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A program's translated instructions and the kernel addresses of its JITed subprograms.
#[derive(Debug, Clone, Default)]
pub struct Xlated {
    pub insns: Vec<u8>,
    /// One address per subprogram when JITed (empty when interpreted or hidden).
    pub jited_ksyms: Vec<u64>,
}

/// The translated instructions of an open program whose info reported `len` bytes of them
/// (one info call).
pub fn fetch_insns(fd: &OwnedFd, len: u32) -> Result<Vec<u8>> {
    if len == 0 {
        bail!("the kernel returned no translated instructions");
    }
    let mut buf = vec![0u8; len as usize];
    let mut info = libbpf_sys::bpf_prog_info {
        xlated_prog_len: len,
        xlated_prog_insns: buf.as_mut_ptr() as u64,
        ..Default::default()
    };
    let mut ilen = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: `xlated_prog_insns` points at `buf`, room for `xlated_prog_len` bytes, which
    // outlives the call; the kernel writes at most that.
    let rc = unsafe { libbpf_sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info, &mut ilen) };
    if rc < 0 {
        bail!("cannot read translated instructions: {}", errno_text(rc));
    }
    if info.xlated_prog_insns == 0 {
        bail!("the kernel withheld the translated instructions");
    }
    buf.truncate(info.xlated_prog_len.min(len) as usize);
    Ok(buf)
}

/// Fetches program `id`'s translated instructions.
pub fn fetch_xlated(id: u32) -> Result<Vec<u8>> {
    fetch(id).map(|x| x.insns)
}

/// Fetches program `id`'s translated instructions and JITed subprogram addresses.
pub fn fetch(id: u32) -> Result<Xlated> {
    let fd = prog_fd_by_id(id)?;
    let info = prog_info(&fd)?;
    let len = info.xlated_prog_len;
    if len == 0 {
        bail!(
            "the kernel returned no translated instructions for program {id} \
             (raw dumps not allowed: constant blinding with kernel.kptr_restrict, or lockdown)"
        );
    }
    let mut buf = vec![0u8; len as usize];
    let nksyms = info.nr_jited_ksyms.min(4096);
    let mut ksyms = vec![0u64; nksyms as usize];
    // SAFETY: as above, all-zero is valid.
    let mut info2: libbpf_sys::bpf_prog_info = unsafe { std::mem::zeroed() };
    info2.xlated_prog_len = len;
    info2.xlated_prog_insns = buf.as_mut_ptr() as u64;
    info2.nr_jited_ksyms = nksyms;
    info2.jited_ksyms = if nksyms > 0 {
        ksyms.as_mut_ptr() as u64
    } else {
        0
    };
    let mut ilen = std::mem::size_of::<libbpf_sys::bpf_prog_info>() as u32;
    // SAFETY: `xlated_prog_insns` points at `buf` (room for `xlated_prog_len` bytes) and
    // `jited_ksyms` at `ksyms` (room for `nr_jited_ksyms` u64s); both outlive the call and the
    // kernel writes at most those sizes.
    let rc = unsafe { libbpf_sys::bpf_prog_get_info_by_fd(fd.as_raw_fd(), &mut info2, &mut ilen) };
    if rc < 0 {
        bail!("cannot read translated instructions: {}", errno_text(rc));
    }
    buf.truncate((info2.xlated_prog_len.min(len)) as usize);
    ksyms.truncate(info2.nr_jited_ksyms.min(nksyms) as usize);
    if ksyms.iter().all(|&a| a == 0) {
        ksyms.clear();
    }
    Ok(Xlated {
        insns: buf,
        jited_ksyms: ksyms,
    })
}

/// Helpers and kfuncs program `id` calls.
pub fn program_calls(id: u32, syms: &Kallsyms) -> Result<Calls> {
    let insns = fetch_xlated(id)?;
    Ok(calls(&insns, syms))
}

/// Disassembly of program `id` for the drill-down view; failures become `insns_unavailable`.
pub fn program_detail(id: u32, syms: &Kallsyms) -> ProgramDetail {
    match fetch(id) {
        Ok(x) => {
            let subprogs: Vec<String> = x
                .jited_ksyms
                .iter()
                .map(|&a| {
                    syms.lookup_exact(a)
                        .map_or_else(|| format!("{a:#x}"), str::to_string)
                })
                .collect();
            ProgramDetail {
                id,
                insns: disassemble_prog(&x.insns, syms, &subprogs),
                insns_unavailable: None,
            }
        }
        Err(e) => ProgramDetail {
            id,
            insns: Vec::new(),
            insns_unavailable: Some(format!("{e:#}")),
        },
    }
}

/// Helper names by BPF_FUNC_* id (from the kernel's `enum bpf_func_id`), without the `bpf_` prefix.
const HELPER_NAMES: &[&str] = &[
    "unspec",
    "map_lookup_elem",
    "map_update_elem",
    "map_delete_elem",
    "probe_read",
    "ktime_get_ns",
    "trace_printk",
    "get_prandom_u32",
    "get_smp_processor_id",
    "skb_store_bytes",
    "l3_csum_replace",
    "l4_csum_replace",
    "tail_call",
    "clone_redirect",
    "get_current_pid_tgid",
    "get_current_uid_gid",
    "get_current_comm",
    "get_cgroup_classid",
    "skb_vlan_push",
    "skb_vlan_pop",
    "skb_get_tunnel_key",
    "skb_set_tunnel_key",
    "perf_event_read",
    "redirect",
    "get_route_realm",
    "perf_event_output",
    "skb_load_bytes",
    "get_stackid",
    "csum_diff",
    "skb_get_tunnel_opt",
    "skb_set_tunnel_opt",
    "skb_change_proto",
    "skb_change_type",
    "skb_under_cgroup",
    "get_hash_recalc",
    "get_current_task",
    "probe_write_user",
    "current_task_under_cgroup",
    "skb_change_tail",
    "skb_pull_data",
    "csum_update",
    "set_hash_invalid",
    "get_numa_node_id",
    "skb_change_head",
    "xdp_adjust_head",
    "probe_read_str",
    "get_socket_cookie",
    "get_socket_uid",
    "set_hash",
    "setsockopt",
    "skb_adjust_room",
    "redirect_map",
    "sk_redirect_map",
    "sock_map_update",
    "xdp_adjust_meta",
    "perf_event_read_value",
    "perf_prog_read_value",
    "getsockopt",
    "override_return",
    "sock_ops_cb_flags_set",
    "msg_redirect_map",
    "msg_apply_bytes",
    "msg_cork_bytes",
    "msg_pull_data",
    "bind",
    "xdp_adjust_tail",
    "skb_get_xfrm_state",
    "get_stack",
    "skb_load_bytes_relative",
    "fib_lookup",
    "sock_hash_update",
    "msg_redirect_hash",
    "sk_redirect_hash",
    "lwt_push_encap",
    "lwt_seg6_store_bytes",
    "lwt_seg6_adjust_srh",
    "lwt_seg6_action",
    "rc_repeat",
    "rc_keydown",
    "skb_cgroup_id",
    "get_current_cgroup_id",
    "get_local_storage",
    "sk_select_reuseport",
    "skb_ancestor_cgroup_id",
    "sk_lookup_tcp",
    "sk_lookup_udp",
    "sk_release",
    "map_push_elem",
    "map_pop_elem",
    "map_peek_elem",
    "msg_push_data",
    "msg_pop_data",
    "rc_pointer_rel",
    "spin_lock",
    "spin_unlock",
    "sk_fullsock",
    "tcp_sock",
    "skb_ecn_set_ce",
    "get_listener_sock",
    "skc_lookup_tcp",
    "tcp_check_syncookie",
    "sysctl_get_name",
    "sysctl_get_current_value",
    "sysctl_get_new_value",
    "sysctl_set_new_value",
    "strtol",
    "strtoul",
    "sk_storage_get",
    "sk_storage_delete",
    "send_signal",
    "tcp_gen_syncookie",
    "skb_output",
    "probe_read_user",
    "probe_read_kernel",
    "probe_read_user_str",
    "probe_read_kernel_str",
    "tcp_send_ack",
    "send_signal_thread",
    "jiffies64",
    "read_branch_records",
    "get_ns_current_pid_tgid",
    "xdp_output",
    "get_netns_cookie",
    "get_current_ancestor_cgroup_id",
    "sk_assign",
    "ktime_get_boot_ns",
    "seq_printf",
    "seq_write",
    "sk_cgroup_id",
    "sk_ancestor_cgroup_id",
    "ringbuf_output",
    "ringbuf_reserve",
    "ringbuf_submit",
    "ringbuf_discard",
    "ringbuf_query",
    "csum_level",
    "skc_to_tcp6_sock",
    "skc_to_tcp_sock",
    "skc_to_tcp_timewait_sock",
    "skc_to_tcp_request_sock",
    "skc_to_udp6_sock",
    "get_task_stack",
    "load_hdr_opt",
    "store_hdr_opt",
    "reserve_hdr_opt",
    "inode_storage_get",
    "inode_storage_delete",
    "d_path",
    "copy_from_user",
    "snprintf_btf",
    "seq_printf_btf",
    "skb_cgroup_classid",
    "redirect_neigh",
    "per_cpu_ptr",
    "this_cpu_ptr",
    "redirect_peer",
    "task_storage_get",
    "task_storage_delete",
    "get_current_task_btf",
    "bprm_opts_set",
    "ktime_get_coarse_ns",
    "ima_inode_hash",
    "sock_from_file",
    "check_mtu",
    "for_each_map_elem",
    "snprintf",
    "sys_bpf",
    "btf_find_by_name_kind",
    "sys_close",
    "timer_init",
    "timer_set_callback",
    "timer_start",
    "timer_cancel",
    "get_func_ip",
    "get_attach_cookie",
    "task_pt_regs",
    "get_branch_snapshot",
    "trace_vprintk",
    "skc_to_unix_sock",
    "kallsyms_lookup_name",
    "find_vma",
    "loop",
    "strncmp",
    "get_func_arg",
    "get_func_ret",
    "get_func_arg_cnt",
    "get_retval",
    "set_retval",
    "xdp_get_buff_len",
    "xdp_load_bytes",
    "xdp_store_bytes",
    "copy_from_user_task",
    "skb_set_tstamp",
    "ima_file_hash",
    "kptr_xchg",
    "map_lookup_percpu_elem",
    "skc_to_mptcp_sock",
    "dynptr_from_mem",
    "ringbuf_reserve_dynptr",
    "ringbuf_submit_dynptr",
    "ringbuf_discard_dynptr",
    "dynptr_read",
    "dynptr_write",
    "dynptr_data",
    "tcp_raw_gen_syncookie_ipv4",
    "tcp_raw_gen_syncookie_ipv6",
    "tcp_raw_check_syncookie_ipv4",
    "tcp_raw_check_syncookie_ipv6",
    "ktime_get_tai_ns",
    "user_ringbuf_drain",
    "cgrp_storage_get",
    "cgrp_storage_delete",
];

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0xffff_ffff_814c_c810;
    const STORE: u64 = 0xffff_ffff_81e9_b040;
    const REDIRECT: u64 = 0xffff_ffff_81e9_d210;
    const HTAB: u64 = 0xffff_ffff_8151_ed40;
    const KFUNC: u64 = 0xffff_ffff_8160_0000;

    fn syms() -> Kallsyms {
        Kallsyms::from_symbols([
            (BASE, "__bpf_call_base"),
            (STORE, "bpf_skb_store_bytes"),
            (REDIRECT, "bpf_redirect"),
            (HTAB, "htab_map_lookup_elem"),
            (KFUNC, "bpf_dynptr_from_skb"),
        ])
    }

    fn i(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
        Insn {
            code,
            dst,
            src,
            off,
            imm,
        }
    }

    fn bytes(insns: &[Insn]) -> Vec<u8> {
        insns.iter().flat_map(|x| x.encode()).collect()
    }

    fn rel(addr: u64) -> i32 {
        (addr as i64 - BASE as i64) as i32
    }

    fn no_btf(_: u32) -> Option<String> {
        None
    }

    fn one(insn: Insn) -> String {
        let v = disassemble_indexed_with(&insn.encode(), &syms(), &no_btf, &[]);
        assert_eq!(v.len(), 1, "{v:?}");
        v[0].1.clone()
    }

    #[test]
    fn encode_decode_roundtrip() {
        let x = i(0x61, 1, 6, 76, -3);
        assert_eq!(Insn::at(&x.encode(), 0), Some(x));
        assert_eq!(Insn::at(&[0u8; 7], 0), None);
    }

    #[test]
    fn alu() {
        assert_eq!(one(i(0xbf, 6, 1, 0, 0)), "r6 = r1");
        assert_eq!(one(i(0xb7, 0, 0, 0, -1)), "r0 = -1");
        assert_eq!(one(i(0xb4, 1, 0, 0, 5)), "w1 = 5");
        assert_eq!(one(i(0x07, 10, 0, 0, -8)), "r10 += -8");
        assert_eq!(one(i(0x0f, 1, 2, 0, 0)), "r1 += r2");
        assert_eq!(one(i(0x1c, 1, 2, 0, 0)), "w1 -= w2");
        assert_eq!(one(i(0x67, 1, 0, 0, 32)), "r1 <<= 32");
        assert_eq!(one(i(0x77, 1, 0, 0, 32)), "r1 >>= 32");
        assert_eq!(one(i(0xc7, 1, 0, 0, 32)), "r1 s>>= 32");
        assert_eq!(one(i(0x57, 1, 0, 0, 255)), "r1 &= 255");
        assert_eq!(one(i(0xa7, 1, 0, 0, 1)), "r1 ^= 1");
        assert_eq!(one(i(0x87, 3, 0, 0, 0)), "r3 = -r3");
        assert_eq!(one(i(0x84, 3, 0, 0, 0)), "w3 = -w3");
        // cpu v4: sdiv/smod, movsx, bswap
        assert_eq!(one(i(0x3f, 1, 2, 1, 0)), "r1 s/= r2");
        assert_eq!(one(i(0x97, 1, 0, 1, 3)), "r1 s%= 3");
        assert_eq!(one(i(0x3f, 1, 2, 0, 0)), "r1 /= r2");
        assert_eq!(one(i(0xbf, 1, 2, 8, 0)), "r1 = (s8)r2");
        assert_eq!(one(i(0xbc, 1, 2, 16, 0)), "w1 = (s16)w2");
        assert_eq!(one(i(0xbf, 1, 2, 3, 0)), "(bad insn 0xbf)");
        assert_eq!(one(i(0xbf, 0, 0, -1, 0)), "r0 = &(void __percpu *)(r0)");
        assert_eq!(one(i(0xbc, 0, 0, -1, 0)), "(bad insn 0xbc)");
        assert_eq!(one(i(0xbf, 1, 2, 1, 1)), "r1 = addr_space_cast(r2, 0, 1)");
        // endianness
        assert_eq!(one(i(0xdc, 1, 0, 0, 16)), "r1 = be16 r1");
        assert_eq!(one(i(0xd4, 1, 0, 0, 32)), "r1 = le32 r1");
        assert_eq!(one(i(0xd7, 1, 0, 0, 64)), "r1 = bswap64 r1");
        assert_eq!(one(i(0xdc, 1, 0, 0, 17)), "(bad insn 0xdc)");
    }

    #[test]
    fn loads_and_stores() {
        assert_eq!(one(i(0x61, 1, 6, 76, 0)), "r1 = *(u32 *)(r6 +76)");
        assert_eq!(one(i(0x79, 2, 1, 0, 0)), "r2 = *(u64 *)(r1 +0)");
        assert_eq!(one(i(0x69, 2, 1, 2, 0)), "r2 = *(u16 *)(r1 +2)");
        assert_eq!(one(i(0x71, 2, 1, 1, 0)), "r2 = *(u8 *)(r1 +1)");
        assert_eq!(one(i(0x91, 2, 1, -4, 0)), "r2 = *(s8 *)(r1 -4)");
        assert_eq!(one(i(0x81, 2, 1, 0, 0)), "r2 = *(s32 *)(r1 +0)");
        assert_eq!(one(i(0x99, 2, 1, 0, 0)), "(bad insn 0x99)");
        assert_eq!(one(i(0x63, 10, 1, -4, 0)), "*(u32 *)(r10 -4) = r1");
        assert_eq!(one(i(0x7b, 10, 1, -16, 0)), "*(u64 *)(r10 -16) = r1");
        assert_eq!(one(i(0x62, 10, 0, -4, 7)), "*(u32 *)(r10 -4) = 7");
        assert_eq!(one(i(0x72, 10, 0, -1, 0)), "*(u8 *)(r10 -1) = 0");
        assert_eq!(one(i(0xc2, 0, 0, 0, 0)), "nospec");
        assert_eq!(one(i(0x30, 0, 0, 0, 12)), "r0 = *(u8 *)skb[12]");
        assert_eq!(one(i(0x48, 0, 3, 0, 2)), "r0 = *(u16 *)skb[r3 + 2]");
    }

    #[test]
    fn atomics() {
        assert_eq!(one(i(0xdb, 1, 2, 0, 0x00)), "lock *(u64 *)(r1 +0) += r2");
        assert_eq!(one(i(0xc3, 1, 2, 8, 0x50)), "lock *(u32 *)(r1 +8) &= r2");
        assert_eq!(
            one(i(0xdb, 1, 2, 0, 0x01)),
            "r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)"
        );
        assert_eq!(
            one(i(0xc3, 1, 2, 0, 0xa1)),
            "r2 = atomic_fetch_xor((u32 *)(r1 +0), r2)"
        );
        assert_eq!(
            one(i(0xdb, 1, 2, 0, 0xe1)),
            "r2 = atomic64_xchg((u64 *)(r1 +0), r2)"
        );
        assert_eq!(
            one(i(0xdb, 1, 2, -8, 0xf1)),
            "r0 = atomic64_cmpxchg((u64 *)(r1 -8), r0, r2)"
        );
        assert_eq!(
            one(i(0xdb, 1, 2, 0, 0x110)),
            "store_release((u64 *)(r1 +0), r2)"
        );
        assert_eq!(one(i(0xdb, 1, 2, 0, 0x77)), "(bad insn 0xdb)");
    }

    #[test]
    fn jumps_and_calls() {
        assert_eq!(one(i(0x05, 0, 0, 5, 0)), "goto pc+5");
        assert_eq!(one(i(0x06, 0, 0, 0, -300)), "gotol pc-300");
        assert_eq!(one(i(0x2d, 1, 2, 5, 0)), "if r1 > r2 goto pc+5");
        assert_eq!(one(i(0x15, 0, 0, -3, 0)), "if r0 == 0x0 goto pc-3");
        assert_eq!(one(i(0x55, 1, 0, 1, -1)), "if r1 != 0xffffffff goto pc+1");
        assert_eq!(one(i(0x6e, 1, 2, 2, 0)), "if w1 s> w2 goto pc+2");
        assert_eq!(one(i(0xa6, 1, 0, 2, 10)), "if w1 < 0xa goto pc+2");
        assert_eq!(one(i(0xd5, 1, 0, 2, 10)), "if r1 s<= 0xa goto pc+2");
        assert_eq!(one(i(0x45, 1, 0, 2, 4)), "if r1 & 0x4 goto pc+2");
        assert_eq!(one(i(0x95, 0, 0, 0, 0)), "exit");
        assert_eq!(one(i(0x96, 0, 0, 0, 0)), "(bad insn 0x96)");
        assert_eq!(one(i(0xe5, 0, 0, 4, 0)), "may_goto pc+4");
        assert_eq!(one(i(0x85, 0, 1, 0, 7)), "call pc+7");
        // JITed form: off = target, imm = subprogram index.
        let names = vec![
            "bpf_prog_aa_main".to_string(),
            "bpf_prog_bb_sub".to_string(),
        ];
        let v = disassemble_indexed_with(&i(0x85, 0, 1, 8, 1).encode(), &syms(), &no_btf, &names);
        assert_eq!(v[0].1, "call pc+8#bpf_prog_bb_sub");
        let v = disassemble_indexed_with(&i(0x85, 0, 1, 8, 9).encode(), &syms(), &no_btf, &names);
        assert_eq!(v[0].1, "call pc+8");
        assert_eq!(one(i(0x8d, 3, 0, 0, 0)), "callx r3");
        assert_eq!(
            one(i(0x85, 0, 0, 0, rel(STORE))),
            format!("call bpf_skb_store_bytes#{}", rel(STORE))
        );
        assert_eq!(one(i(0x85, 0, 0, 0, 12)), "call bpf_tail_call#12");
        assert_eq!(
            one(i(0x85, 0, 0, 0, 0)),
            "call unknown#0 (address hidden by the kernel)"
        );
        assert_eq!(
            one(i(0x85, 0, 2, 0, rel(KFUNC))),
            format!("call bpf_dynptr_from_skb#{}", rel(KFUNC))
        );
    }

    #[test]
    fn ld_imm64_forms() {
        let d = |a: Insn, b: Insn| {
            let v = disassemble_indexed_with(&bytes(&[a, b]), &syms(), &no_btf, &[]);
            assert_eq!(v.len(), 1);
            v[0].1.clone()
        };
        let hi = i(0, 0, 0, 0, 0);
        assert_eq!(d(i(0x18, 1, 1, 0, 12), hi), "r1 = map[id:12]");
        assert_eq!(
            d(i(0x18, 2, 2, 0, 7), i(0, 0, 0, 0, 16)),
            "r2 = map[id:7][0]+16"
        );
        assert_eq!(d(i(0x18, 1, 5, 0, 3), hi), "r1 = map[idx:3]");
        assert_eq!(
            d(i(0x18, 1, 6, 0, 3), i(0, 0, 0, 0, 4)),
            "r1 = map[idx:3]+4"
        );
        assert_eq!(d(i(0x18, 1, 4, 0, -5), hi), "r1 = subprog[-5]");
        assert_eq!(
            d(i(0x18, 1, 0, 0, -1), i(0, 0, 0, 0, 0x1234)),
            "r1 = 0x1234ffffffff"
        );
        assert_eq!(d(i(0x18, 1, 0, 0, 0), hi), "r1 = 0x0");
        // Truncated: only the first half.
        let v = disassemble_indexed_with(&i(0x18, 1, 1, 0, 1).encode(), &syms(), &no_btf, &[]);
        assert_eq!(
            v,
            vec![(0, "(bad insn 0x18: truncated ld_imm64)".to_string())]
        );
    }

    #[test]
    fn indexes_skip_the_second_ld_imm64_slot_and_report_trailing_bytes() {
        let mut b = bytes(&[
            i(0x18, 1, 1, 0, 3),
            i(0, 0, 0, 0, 0),
            i(0xb7, 0, 0, 0, 0),
            i(0x95, 0, 0, 0, 0),
        ]);
        b.extend_from_slice(&[1, 2, 3]);
        let lines = disassemble(&b, &syms());
        assert_eq!(
            lines,
            vec![
                "    0: r1 = map[id:3]",
                "    2: r0 = 0",
                "    3: exit",
                "    4: (bad insn: 3 trailing bytes)",
            ]
        );
    }

    #[test]
    fn calls_are_resolved_deduped_and_sorted() {
        let b = bytes(&[
            i(0x85, 0, 0, 0, rel(REDIRECT)),
            i(0x85, 0, 0, 0, rel(STORE)),
            i(0x85, 0, 0, 0, rel(HTAB)),
            i(0x85, 0, 0, 0, rel(STORE)),
            i(0x85, 0, 1, 0, 4), // subprog: not a helper
            i(0x85, 0, 2, 0, rel(KFUNC)),
            i(0x85, 0, 2, 0, 77), // kfunc by BTF id
            // ld_imm64 whose second half looks like a call must not count
            i(0x18, 1, 0, 0, 0),
            i(0x85, 0, 0, 0, rel(STORE) + 1),
            i(0x95, 0, 0, 0, 0),
        ]);
        let c = calls_with(&b, &syms(), &|id| {
            (id == 77).then(|| "bpf_rdonly_cast".into())
        });
        assert_eq!(
            c.helpers,
            vec![
                "bpf_redirect",
                "bpf_skb_store_bytes",
                "htab_map_lookup_elem"
            ]
        );
        assert_eq!(c.kfuncs, vec!["bpf_dynptr_from_skb", "bpf_rdonly_cast"]);
        assert_eq!(c.note, None);
    }

    #[test]
    fn hidden_addresses_are_reported() {
        let b = bytes(&[i(0x85, 0, 0, 0, 0), i(0x95, 0, 0, 0, 0)]);
        let c = calls_with(&b, &Kallsyms::unavailable("hidden"), &no_btf);
        assert!(c.helpers.is_empty());
        assert!(c.note.unwrap_or_default().contains("hid their addresses"));
    }

    #[test]
    fn unresolvable_calls_are_counted() {
        let b = bytes(&[i(0x85, 0, 0, 0, 0x7000_0000)]);
        let c = calls_with(&b, &syms(), &no_btf);
        assert!(c.helpers.is_empty());
        assert!(c.note.unwrap_or_default().contains("not found"));
    }

    #[test]
    fn garbage_never_panics() {
        // xorshift PRNG: deterministic, no dependency.
        let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
        let s_ = syms();
        for len in 0..600usize {
            let mut b = Vec::with_capacity(len);
            for _ in 0..len {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                b.push(s as u8);
            }
            let lines = disassemble_indexed_with(&b, &s_, &no_btf, &[]);
            assert!(lines.len() <= len / 8 + 1);
            let _ = calls_with(&b, &s_, &no_btf);
        }
        // Every opcode with extreme fields.
        for code in 0..=255u8 {
            for (dst, src, off, imm) in
                [(0, 0, 0, 0), (15, 15, i16::MIN, i32::MIN), (10, 1, -1, -1)]
            {
                let b = bytes(&[i(code, dst, src, off, imm)]);
                let v = disassemble_indexed_with(&b, &s_, &no_btf, &[]);
                assert_eq!(v.len(), 1);
                assert!(!v[0].1.is_empty());
            }
        }
    }
}
