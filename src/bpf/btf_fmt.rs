//! BTF: a small pure parser of raw BTF blobs and a formatter that renders bytes by BTF type
//! on one line, in the spirit of `bpftool map dump`:
//! `{ip: 167772161, port: 80, label: "abc", state: ESTABLISHED, flags: [1, 2]}`.
//!
//! Total on any input: bad BTF is an error at parse time, short buffers and unknown types
//! render as `<...>` markers, never a panic.

use std::fmt::Write as _;
use std::sync::OnceLock;

use anyhow::{bail, Result};

const BTF_MAGIC: u16 = 0xeb9f;
const MAX_DEPTH: usize = 32;

pub const KIND_INT: u8 = 1;
pub const KIND_PTR: u8 = 2;
pub const KIND_ARRAY: u8 = 3;
pub const KIND_STRUCT: u8 = 4;
pub const KIND_UNION: u8 = 5;
pub const KIND_ENUM: u8 = 6;
pub const KIND_FWD: u8 = 7;
pub const KIND_TYPEDEF: u8 = 8;
pub const KIND_VOLATILE: u8 = 9;
pub const KIND_CONST: u8 = 10;
pub const KIND_RESTRICT: u8 = 11;
pub const KIND_FUNC: u8 = 12;
pub const KIND_FUNC_PROTO: u8 = 13;
pub const KIND_VAR: u8 = 14;
pub const KIND_DATASEC: u8 = 15;
pub const KIND_FLOAT: u8 = 16;
pub const KIND_DECL_TAG: u8 = 17;
pub const KIND_TYPE_TAG: u8 = 18;
pub const KIND_ENUM64: u8 = 19;

const INT_SIGNED: u8 = 1;
const INT_CHAR: u8 = 2;
const INT_BOOL: u8 = 4;

/// A member of a struct/union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub type_id: u32,
    pub bit_offset: u32,
    /// 0 for a regular member, else the bitfield width.
    pub bitfield_size: u32,
}

/// One BTF type, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Void,
    Int {
        name: String,
        size: u32,
        encoding: u8,
        bit_offset: u8,
        bits: u8,
    },
    Ptr(u32),
    Array {
        elem: u32,
        nelems: u32,
    },
    Struct {
        name: String,
        size: u32,
        members: Vec<Member>,
    },
    Union {
        name: String,
        size: u32,
        members: Vec<Member>,
    },
    Enum {
        name: String,
        size: u32,
        signed: bool,
        values: Vec<(String, i64)>,
    },
    Fwd(String),
    /// typedef, volatile, const, restrict, type_tag: all transparent for formatting.
    Alias {
        kind: u8,
        name: String,
        target: u32,
    },
    Func(String),
    Float {
        name: String,
        size: u32,
    },
    /// A data section (`.rodata`, `.data`, `.bss`...): its variables as (VAR type id, byte
    /// offset, size).
    Datasec {
        name: String,
        size: u32,
        vars: Vec<(u32, u32, u32)>,
    },
    /// Kinds without a value representation (func_proto, var, decl_tag).
    Other {
        kind: u8,
        name: String,
        target: u32,
    },
}

/// Parsed BTF types; id 0 is `void`.
#[derive(Debug, Clone, Default)]
pub struct Btf {
    types: Vec<Type>,
}

struct Rd<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Rd<'_> {
    fn u32(&mut self) -> Result<u32> {
        let end = self.pos.saturating_add(4);
        let Some(s) = self.b.get(self.pos..end) else {
            bail!("BTF type section truncated at byte {}", self.pos);
        };
        self.pos = end;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
}

fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    crate::bytes::array(b, at).map(u32::from_le_bytes)
}

impl Btf {
    /// Parses a raw BTF blob (as in /sys/kernel/btf/vmlinux or a kernel BTF object).
    /// Standalone BTF only (not split BTF of a kernel module). Little-endian hosts.
    pub fn parse(raw: &[u8]) -> Result<Btf> {
        if raw.len() < 24 {
            bail!("BTF too short ({} bytes)", raw.len());
        }
        let magic = u16::from_le_bytes([raw[0], raw[1]]);
        if magic != BTF_MAGIC {
            bail!("not BTF (magic {magic:#06x})");
        }
        let hdr = |i: usize| le_u32(raw, i).unwrap_or(0) as usize;
        let hdr_len = hdr(4);
        let (type_off, type_len, str_off, str_len) = (hdr(8), hdr(12), hdr(16), hdr(20));
        let section = |off: usize, len: usize| {
            let start = hdr_len.checked_add(off)?;
            raw.get(start..start.checked_add(len)?)
        };
        let Some(tsec) = section(type_off, type_len) else {
            bail!("BTF type section out of bounds");
        };
        let Some(strs) = section(str_off, str_len) else {
            bail!("BTF string section out of bounds");
        };
        let name = |off: u32| -> String {
            let Some(s) = strs.get(off as usize..) else {
                return String::new();
            };
            let end = s.iter().position(|&c| c == 0).unwrap_or(s.len());
            String::from_utf8_lossy(&s[..end]).into_owned()
        };
        let mut types = vec![Type::Void];
        let mut r = Rd { b: tsec, pos: 0 };
        while r.pos < tsec.len() {
            let name_off = r.u32()?;
            let info = r.u32()?;
            let size_or_type = r.u32()?;
            let vlen = info & 0xffff;
            let kind = ((info >> 24) & 0x1f) as u8;
            let kflag = info >> 31 == 1;
            let n = name(name_off);
            let members = |r: &mut Rd| -> Result<Vec<Member>> {
                let mut m = Vec::with_capacity(vlen as usize);
                for _ in 0..vlen {
                    let mn = r.u32()?;
                    let ty = r.u32()?;
                    let off = r.u32()?;
                    let (bit_offset, bitfield_size) = if kflag {
                        (off & 0x00ff_ffff, off >> 24)
                    } else {
                        (off, 0)
                    };
                    m.push(Member {
                        name: name(mn),
                        type_id: ty,
                        bit_offset,
                        bitfield_size,
                    });
                }
                Ok(m)
            };
            let t = match kind {
                KIND_INT => {
                    let e = r.u32()?;
                    Type::Int {
                        name: n,
                        size: size_or_type,
                        encoding: ((e >> 24) & 0x0f) as u8,
                        bit_offset: ((e >> 16) & 0xff) as u8,
                        bits: (e & 0xff) as u8,
                    }
                }
                KIND_PTR => Type::Ptr(size_or_type),
                KIND_ARRAY => {
                    let elem = r.u32()?;
                    let _index = r.u32()?;
                    let nelems = r.u32()?;
                    Type::Array { elem, nelems }
                }
                KIND_STRUCT => Type::Struct {
                    name: n,
                    size: size_or_type,
                    members: members(&mut r)?,
                },
                KIND_UNION => Type::Union {
                    name: n,
                    size: size_or_type,
                    members: members(&mut r)?,
                },
                KIND_ENUM => {
                    let mut values = Vec::with_capacity(vlen as usize);
                    for _ in 0..vlen {
                        let vn = r.u32()?;
                        let v = r.u32()?;
                        let v = if kflag { v as i32 as i64 } else { v as i64 };
                        values.push((name(vn), v));
                    }
                    Type::Enum {
                        name: n,
                        size: size_or_type,
                        signed: kflag,
                        values,
                    }
                }
                KIND_ENUM64 => {
                    let mut values = Vec::with_capacity(vlen as usize);
                    for _ in 0..vlen {
                        let vn = r.u32()?;
                        let lo = r.u32()? as u64;
                        let hi = r.u32()? as u64;
                        values.push((name(vn), ((hi << 32) | lo) as i64));
                    }
                    Type::Enum {
                        name: n,
                        size: size_or_type,
                        signed: kflag,
                        values,
                    }
                }
                KIND_FWD => Type::Fwd(n),
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    Type::Alias {
                        kind,
                        name: n,
                        target: size_or_type,
                    }
                }
                KIND_FUNC => Type::Func(n),
                KIND_FUNC_PROTO => {
                    for _ in 0..vlen {
                        r.u32()?;
                        r.u32()?;
                    }
                    Type::Other {
                        kind,
                        name: n,
                        target: size_or_type,
                    }
                }
                KIND_VAR | KIND_DECL_TAG => {
                    r.u32()?;
                    Type::Other {
                        kind,
                        name: n,
                        target: size_or_type,
                    }
                }
                KIND_DATASEC => {
                    let mut vars = Vec::with_capacity(vlen as usize);
                    for _ in 0..vlen {
                        let ty = r.u32()?;
                        let off = r.u32()?;
                        let sz = r.u32()?;
                        vars.push((ty, off, sz));
                    }
                    Type::Datasec {
                        name: n,
                        size: size_or_type,
                        vars,
                    }
                }
                KIND_FLOAT => Type::Float {
                    name: n,
                    size: size_or_type,
                },
                other => bail!("unknown BTF kind {other} at type {}", types.len()),
            };
            types.push(t);
        }
        Ok(Btf { types })
    }

    /// Reads and parses a raw BTF file (e.g. /sys/kernel/btf/vmlinux).
    pub fn from_file(path: &std::path::Path) -> Result<Btf> {
        let raw = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        Btf::parse(&raw)
    }

    /// Reads the `.BTF` section of an ELF object file (a compiled `.bpf.o`).
    pub fn from_elf(path: &std::path::Path) -> Result<Btf> {
        let Some(p) = path.to_str().and_then(|p| std::ffi::CString::new(p).ok()) else {
            bail!("bad path {}", path.display());
        };
        // SAFETY: `p` is a valid NUL-terminated string; a null ext pointer is allowed.
        let ptr = unsafe { libbpf_sys::btf__parse_elf(p.as_ptr(), std::ptr::null_mut()) };
        if ptr.is_null() {
            bail!(
                "cannot read BTF from {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            );
        }
        // SAFETY: `ptr` is a valid btf object owned here; freed once inside.
        unsafe { Self::from_libbpf_owned(ptr) }
    }

    /// Copies and parses the raw data of a libbpf `struct btf`, then frees it.
    ///
    /// # Safety
    /// `ptr` must be a valid, non-null `struct btf *` owned by the caller; it is freed here.
    pub(super) unsafe fn from_libbpf_owned(ptr: *mut libbpf_sys::btf) -> Result<Btf> {
        let mut size: u32 = 0;
        // SAFETY: `ptr` is valid per the contract; `size` is valid for writes.
        let data = unsafe { libbpf_sys::btf__raw_data(ptr, &mut size) };
        let result = if data.is_null() {
            Err(anyhow::anyhow!("BTF object has no raw data"))
        } else {
            // SAFETY: libbpf guarantees `data` points at `size` readable bytes while `ptr` lives.
            let bytes = unsafe { std::slice::from_raw_parts(data as *const u8, size as usize) };
            Btf::parse(bytes)
        };
        // SAFETY: freed exactly once; `bytes` is not used after this.
        unsafe { libbpf_sys::btf__free(ptr) };
        result
    }

    /// The running kernel's BTF, parsed once; `None` when unavailable.
    pub fn vmlinux() -> Option<&'static Btf> {
        static VMLINUX: OnceLock<Option<Btf>> = OnceLock::new();
        VMLINUX
            .get_or_init(|| Btf::from_file(std::path::Path::new("/sys/kernel/btf/vmlinux")).ok())
            .as_ref()
    }

    /// Number of types including `void` (so valid ids are `0..len()`).
    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.len() <= 1
    }

    pub fn type_by_id(&self, id: u32) -> Option<&Type> {
        self.types.get(id as usize)
    }

    /// The name of type `id`, if it has one.
    pub fn name_of(&self, id: u32) -> Option<&str> {
        let n = match self.type_by_id(id)? {
            Type::Int { name, .. }
            | Type::Struct { name, .. }
            | Type::Union { name, .. }
            | Type::Enum { name, .. }
            | Type::Fwd(name)
            | Type::Alias { name, .. }
            | Type::Func(name)
            | Type::Float { name, .. }
            | Type::Datasec { name, .. }
            | Type::Other { name, .. } => name.as_str(),
            _ => return None,
        };
        (!n.is_empty()).then_some(n)
    }

    /// First type id named `name`.
    pub fn id_by_name(&self, name: &str) -> Option<u32> {
        (1..self.types.len() as u32).find(|&id| self.name_of(id) == Some(name))
    }

    /// Follows typedefs and modifiers.
    pub fn resolve(&self, mut id: u32) -> Option<(u32, &Type)> {
        for _ in 0..MAX_DEPTH {
            match self.type_by_id(id)? {
                Type::Alias { target, .. } => id = *target,
                t => return Some((id, t)),
            }
        }
        None
    }

    /// Size in bytes of a value of type `id`.
    pub fn size_of(&self, id: u32) -> Option<usize> {
        self.size_of_depth(id, 0)
    }

    fn size_of_depth(&self, id: u32, depth: usize) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (_, t) = self.resolve(id)?;
        Some(match t {
            Type::Int { size, .. }
            | Type::Struct { size, .. }
            | Type::Datasec { size, .. }
            | Type::Union { size, .. }
            | Type::Enum { size, .. }
            | Type::Float { size, .. } => *size as usize,
            Type::Ptr(_) => 8,
            Type::Array { elem, nelems } => self
                .size_of_depth(*elem, depth + 1)?
                .checked_mul(*nelems as usize)?,
            _ => return None,
        })
    }

    /// Formats `data` as a value of type `id` on one line. Never panics.
    pub fn format(&self, id: u32, data: &[u8]) -> String {
        let mut out = String::new();
        self.fmt_value(&mut out, id, data, 0, 0);
        out
    }

    /// Per-field wrapping sum of several values of type `id` (per-CPU values), when the type
    /// is an integer, or a struct/array made only of byte-aligned integers. `None` otherwise.
    pub fn sum_values(&self, id: u32, values: &[&[u8]]) -> Option<Vec<u8>> {
        let size = self.size_of(id)?;
        let mut fields = Vec::new();
        self.int_fields(id, 0, &mut fields, 0)?;
        let mut out = vec![0u8; size];
        for (off, len) in fields {
            let mut acc: u64 = 0;
            for v in values {
                let b = v.get(off..off + len)?;
                acc = acc.wrapping_add(read_uint(b)?);
            }
            let bytes = acc.to_le_bytes();
            out.get_mut(off..off + len)?
                .copy_from_slice(bytes.get(..len)?);
        }
        Some(out)
    }

    /// Collects (byte offset, byte length) of every integer field; None if any part is not an
    /// integer of 1, 2, 4 or 8 bytes at a byte boundary.
    fn int_fields(
        &self,
        id: u32,
        base: usize,
        out: &mut Vec<(usize, usize)>,
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.resolve(id)?.1 {
            Type::Int {
                size,
                bit_offset: 0,
                bits,
                ..
            } if matches!(size, 1 | 2 | 4 | 8) && *bits as u32 == size * 8 => {
                out.push((base, *size as usize));
            }
            Type::Struct { members, .. } => {
                for m in members {
                    if m.bitfield_size != 0 || !m.bit_offset.is_multiple_of(8) {
                        return None;
                    }
                    self.int_fields(
                        m.type_id,
                        base + (m.bit_offset / 8) as usize,
                        out,
                        depth + 1,
                    )?;
                }
            }
            Type::Array { elem, nelems } => {
                let es = self.size_of(*elem)?;
                if *nelems > 4096 {
                    return None;
                }
                for i in 0..*nelems as usize {
                    self.int_fields(*elem, base + i * es, out, depth + 1)?;
                }
            }
            _ => return None,
        }
        Some(())
    }

    fn fmt_value(&self, out: &mut String, id: u32, data: &[u8], bit_off: u32, depth: usize) {
        if depth > MAX_DEPTH {
            out.push_str("<too deep>");
            return;
        }
        let Some((rid, t)) = self.resolve(id) else {
            let _ = write!(out, "<bad type {id}>");
            return;
        };
        let need = self.size_of(rid).unwrap_or(0);
        let have_bits = (data.len() as u64) * 8;
        if (need as u64) * 8 + bit_off as u64 > have_bits && !matches!(t, Type::Int { .. }) {
            let _ = write!(
                out,
                "<truncated: need {need} bytes, have {}>",
                data.len().saturating_sub((bit_off / 8) as usize)
            );
            return;
        }
        let at = (bit_off / 8) as usize;
        match t {
            Type::Void => out.push_str("<void>"),
            Type::Int {
                size,
                encoding,
                bit_offset,
                bits,
                ..
            } => {
                let Some(v) = read_bits(data, bit_off + *bit_offset as u32, *bits as u32) else {
                    let _ = write!(out, "<truncated: need {size} bytes>");
                    return;
                };
                fmt_int(out, v, *bits as u32, *encoding);
            }
            Type::Ptr(_) => match data.get(at..at + 8).and_then(read_uint) {
                Some(v) => {
                    let _ = write!(out, "{v:#x}");
                }
                None => out.push_str("<truncated>"),
            },
            Type::Float { size, .. } => {
                let s = *size as usize;
                match data.get(at..at + s) {
                    Some(b) => {
                        out.push_str("0x");
                        for c in b.iter().rev() {
                            let _ = write!(out, "{c:02x}");
                        }
                    }
                    None => out.push_str("<truncated>"),
                }
            }
            Type::Enum {
                size,
                signed,
                values,
                ..
            } => {
                let bits = (*size).min(8) * 8;
                let Some(raw) = read_bits(data, bit_off, bits) else {
                    out.push_str("<truncated>");
                    return;
                };
                let v = if *signed {
                    sign_extend(raw, bits) as i64
                } else {
                    raw as i64
                };
                match values.iter().find(|(_, x)| {
                    if bits >= 64 {
                        *x == v
                    } else {
                        (*x as u64 & ((1u64 << bits) - 1)) == raw as u64
                    }
                }) {
                    Some((n, _)) => out.push_str(n),
                    None if *signed => {
                        let _ = write!(out, "{v}");
                    }
                    None => {
                        let _ = write!(out, "{raw}");
                    }
                }
            }
            Type::Struct { members, .. } | Type::Union { members, .. } => {
                out.push('{');
                for (i, m) in members.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if !m.name.is_empty() {
                        out.push_str(&m.name);
                        out.push_str(": ");
                    }
                    let moff = bit_off + m.bit_offset;
                    if m.bitfield_size > 0 {
                        let enc = match self.resolve(m.type_id).map(|x| x.1) {
                            Some(Type::Int { encoding, .. }) => *encoding,
                            Some(Type::Enum { signed: true, .. }) => INT_SIGNED,
                            _ => 0,
                        };
                        match read_bits(data, moff, m.bitfield_size) {
                            Some(v) => fmt_int(out, v, m.bitfield_size, enc & !INT_CHAR),
                            None => out.push_str("<truncated>"),
                        }
                    } else {
                        self.fmt_value(out, m.type_id, data, moff, depth + 1);
                    }
                }
                out.push('}');
            }
            Type::Array { elem, nelems } => {
                let es = self.size_of(*elem).unwrap_or(0);
                let is_char = matches!(
                    self.resolve(*elem).map(|x| x.1),
                    Some(Type::Int { size: 1, encoding, .. }) if encoding & INT_CHAR != 0
                ) || matches!(
                    self.resolve(*elem).map(|x| x.1),
                    Some(Type::Int { size: 1, name, .. }) if name == "char"
                );
                if is_char && bit_off.is_multiple_of(8) {
                    let bytes = data.get(at..at + *nelems as usize).unwrap_or(&[]);
                    fmt_char_array(out, bytes);
                    return;
                }
                out.push('[');
                let shown = (*nelems as usize).min(256);
                for i in 0..shown {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let eo = bit_off as u64 + (i * es * 8) as u64;
                    match u32::try_from(eo) {
                        Ok(eo) => self.fmt_value(out, *elem, data, eo, depth + 1),
                        Err(_) => out.push_str("<too large>"),
                    }
                }
                if shown < *nelems as usize {
                    let _ = write!(out, ", ... {} more", *nelems as usize - shown);
                }
                out.push(']');
            }
            Type::Fwd(n) => {
                let _ = write!(out, "<incomplete type {n}>");
            }
            Type::Func(_) | Type::Other { .. } | Type::Datasec { .. } | Type::Alias { .. } => {
                let _ = write!(out, "<no value for type {rid}>");
            }
        }
    }
}

fn read_uint(b: &[u8]) -> Option<u64> {
    Some(match b.len() {
        1 => u64::from(crate::bytes::u8_at(b, 0)),
        2 => u64::from(crate::bytes::le_u16(b, 0)),
        4 => u64::from(crate::bytes::le_u32(b, 0)),
        8 => crate::bytes::le_u64(b, 0),
        _ => return None,
    })
}

/// Reads `nbits` (≤ 128) bits starting at bit `off` (little-endian bit order).
fn read_bits(data: &[u8], off: u32, nbits: u32) -> Option<u128> {
    if nbits > 128 {
        return None;
    }
    if nbits == 0 {
        return Some(0);
    }
    let end = off as u64 + nbits as u64;
    if end.div_ceil(8) > data.len() as u64 {
        return None;
    }
    let mut v: u128 = 0;
    if off.is_multiple_of(8) && nbits.is_multiple_of(8) {
        let first = (off / 8) as usize;
        let bytes = data.get(first..first + (nbits / 8) as usize)?;
        for &b in bytes.iter().rev() {
            v = (v << 8) | b as u128;
        }
        return Some(v);
    }
    for i in 0..nbits {
        let b = off as u64 + i as u64;
        let bit = (data.get((b / 8) as usize)? >> (b % 8)) & 1;
        v |= (bit as u128) << i;
    }
    Some(v)
}

fn sign_extend(v: u128, bits: u32) -> i128 {
    if bits == 0 || bits >= 128 {
        return v as i128;
    }
    let s = 128 - bits;
    ((v << s) as i128) >> s
}

fn fmt_int(out: &mut String, v: u128, bits: u32, encoding: u8) {
    if encoding & INT_BOOL != 0 {
        out.push_str(if v != 0 { "true" } else { "false" });
    } else if encoding & INT_CHAR != 0 && bits == 8 {
        let c = v as u8;
        if c.is_ascii_graphic() || c == b' ' {
            let _ = write!(out, "'{}'", c as char);
        } else {
            let _ = write!(
                out,
                "{}",
                if encoding & INT_SIGNED != 0 {
                    c as i8 as i32
                } else {
                    c as i32
                }
            );
        }
    } else if bits > 64 {
        let _ = write!(out, "{v:#x}");
    } else if encoding & INT_SIGNED != 0 {
        let _ = write!(out, "{}", sign_extend(v, bits));
    } else {
        let _ = write!(out, "{v}");
    }
}

fn fmt_char_array(out: &mut String, bytes: &[u8]) {
    let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
    out.push('"');
    for &c in &bytes[..end] {
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push('"');
}

/// Formats bytes like bpftool's hex dumps: `0a 00 00 01`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Btf {
        let path = concat!(env!("OUT_DIR"), "/detail_fixture.bpf.o");
        match Btf::from_elf(std::path::Path::new(path)) {
            Ok(b) => b,
            Err(e) => panic!("fixture BTF: {e:#}"),
        }
    }

    fn id(btf: &Btf, name: &str) -> u32 {
        btf.id_by_name(name)
            .unwrap_or_else(|| panic!("type {name} not in fixture BTF"))
    }

    fn value_bytes() -> Vec<u8> {
        let mut v = vec![0u8; 48];
        v[0..8].copy_from_slice(&42u64.to_le_bytes());
        v[8..12].copy_from_slice(&(-7i32).to_le_bytes());
        v[12..15].copy_from_slice(b"web");
        v[24..28].copy_from_slice(&2u32.to_le_bytes());
        let bits: u32 = 5 | (17 << 3) | (1_000_000 << 8);
        v[28..32].copy_from_slice(&bits.to_le_bytes());
        v[32] = 1;
        for (i, p) in [80u16, 443, 8080].iter().enumerate() {
            v[34 + 2 * i..36 + 2 * i].copy_from_slice(&p.to_le_bytes());
        }
        v[40..48].copy_from_slice(&0xdead_beefu64.to_le_bytes());
        v
    }

    #[test]
    fn struct_with_every_kind_of_field() {
        let btf = fixture();
        let t = id(&btf, "detail_value");
        assert_eq!(btf.size_of(t), Some(48));
        assert_eq!(
            btf.format(t, &value_bytes()),
            "{packets: 42, score: -7, label: \"web\", verdict: DETAIL_DENY, flags: 5, \
             level: 17, big: 1000000, seen: true, ports: [80, 443, 8080], ptr: 0xdeadbeef}"
        );
    }

    #[test]
    fn key_struct_and_signed_bytes() {
        let btf = fixture();
        let t = id(&btf, "detail_key");
        let mut k = Vec::new();
        k.extend_from_slice(&167_772_161u32.to_le_bytes());
        k.extend_from_slice(&80u16.to_le_bytes());
        k.push(6);
        k.push(0xff);
        assert_eq!(
            btf.format(t, &k),
            "{ip: 167772161, port: 80, proto: 6, delta: -1}"
        );
    }

    #[test]
    fn unknown_enum_value_is_a_number() {
        let btf = fixture();
        let t = id(&btf, "detail_value");
        let mut v = value_bytes();
        v[24..28].copy_from_slice(&99u32.to_le_bytes());
        assert!(btf.format(t, &v).contains("verdict: 99,"));
        v[24..28].copy_from_slice(&7u32.to_le_bytes());
        assert!(btf.format(t, &v).contains("verdict: DETAIL_AUDIT,"));
    }

    #[test]
    fn short_buffers_give_markers() {
        let btf = fixture();
        let t = id(&btf, "detail_value");
        let v = value_bytes();
        for n in 0..v.len() {
            let s = btf.format(t, &v[..n]);
            assert!(s.contains("<truncated"), "{n}: {s}");
        }
        assert!(btf.format(12345678, &v).contains("<bad type"));
    }

    #[test]
    fn per_cpu_sums() {
        let btf = fixture();
        let t = id(&btf, "detail_counters");
        let cpu = |h: u64, m: u64, s: u32| {
            let mut b = Vec::new();
            b.extend_from_slice(&h.to_le_bytes());
            b.extend_from_slice(&m.to_le_bytes());
            b.extend_from_slice(&s.to_le_bytes());
            b.extend_from_slice(&0u32.to_le_bytes());
            b
        };
        let a = cpu(1, 2, 3);
        let b = cpu(10, 20, 30);
        let sum = btf.sum_values(t, &[&a, &b]);
        assert_eq!(sum, Some(cpu(11, 22, 33)));
        assert_eq!(
            btf.format(t, &cpu(11, 22, 33)),
            "{hits: 11, misses: 22, small: 33, pad: 0}"
        );
        // Not summable: has a char array, an enum, bitfields and a pointer.
        let v = value_bytes();
        assert_eq!(btf.sum_values(id(&btf, "detail_value"), &[&v, &v]), None);
        // Too short input: None, no panic.
        assert_eq!(btf.sum_values(t, &[&a[..4]]), None);
    }

    #[test]
    fn vmlinux_btf_parses_when_present() {
        if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
            eprintln!("skip: no /sys/kernel/btf/vmlinux");
            return;
        }
        let Some(btf) = Btf::vmlinux() else {
            panic!("vmlinux BTF did not parse")
        };
        assert!(btf.len() > 1000);
        let t = btf.id_by_name("iphdr").unwrap_or(0);
        assert!(t > 0);
        let s = btf.format(
            t,
            &[
                0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            ],
        );
        assert!(s.contains("ttl: 64"), "{s}");
        assert!(s.contains("protocol: 6"), "{s}");
    }

    #[test]
    fn garbage_btf_never_panics() {
        let mut s: u64 = 0x1234_5678_9abc_def1;
        let mut rnd = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        // Random headers and bodies.
        for _ in 0..300 {
            let len = (rnd() % 200) as usize;
            let mut b: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
            if b.len() >= 24 {
                b[0] = 0x9f;
                b[1] = 0xeb;
                b[4..8].copy_from_slice(&24u32.to_le_bytes());
                b[8..12].copy_from_slice(&0u32.to_le_bytes());
                let tl = (len as u32 - 24) / 2;
                b[12..16].copy_from_slice(&tl.to_le_bytes());
                b[16..20].copy_from_slice(&tl.to_le_bytes());
                b[20..24].copy_from_slice(&(len as u32 - 24 - tl).to_le_bytes());
            }
            if let Ok(btf) = Btf::parse(&b) {
                for t in 0..btf.len() as u32 + 2 {
                    let data: Vec<u8> = (0..(rnd() % 40)).map(|_| rnd() as u8).collect();
                    let _ = btf.format(t, &data);
                    let _ = btf.sum_values(t, &[&data, &data]);
                    let _ = btf.size_of(t);
                }
            }
        }
        // Mutated real BTF: every parsed type formatted against random data.
        let btf = fixture();
        let _ = btf.name_of(0);
        for t in 0..btf.len() as u32 {
            let data: Vec<u8> = (0..(rnd() % 64)).map(|_| rnd() as u8).collect();
            let _ = btf.format(t, &data);
        }
    }

    #[test]
    fn read_bits_edges() {
        assert_eq!(read_bits(&[0xff], 0, 8), Some(0xff));
        assert_eq!(read_bits(&[0b1010_0000], 5, 3), Some(0b101));
        assert_eq!(read_bits(&[0xff, 0x01], 7, 2), Some(0b11));
        assert_eq!(read_bits(&[0xff], 4, 8), None);
        assert_eq!(read_bits(&[0; 16], 0, 128), Some(0));
        assert_eq!(read_bits(&[0; 17], 0, 129), None);
        assert_eq!(hex(&[10, 0, 0, 1]), "0a 00 00 01");
        assert_eq!(hex(&[]), "");
    }
}
