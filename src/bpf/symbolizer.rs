//! Naming the kernel functions BPF programs call, in the kernel (probes/symbols.bpf.c), so
//! that a helper list does not need `/proc/kallsyms`: formatting its 120,000+ lines costs the
//! kernel ~70 ms, for the few hundred addresses programs actually call.
//!
//! One syscall program, run with `BPF_PROG_RUN`, returns `__bpf_call_base` (helper and kfunc
//! calls in translated instructions are offsets from it) and formats `%pS` of the address at
//! each offset put in its array: the kernel resolves it with its own lookup (a binary search of
//! its symbol table, then a module's). Only a symbol that starts exactly at an address names
//! it, and ` [module]` is cut, so the answer is what [`Kallsyms::lookup_exact`] gives on the
//! `/proc/kallsyms` table ([`Kallsyms::kernel`]), which stays the fallback.
//!
//! Loaded by the kernel-side loader ([`super::light`]): no kernel BTF parse in this process.

use super::kallsyms::Kallsyms;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::raw::c_void;

static OBJ: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/symbols.bpf.o"));

/// Offsets per run (`SYM_SLOTS` in probes/symbols.bpf.c).
const SLOTS: usize = 256;
/// Room for one formatted symbol (`SYM_TEXT`).
const TEXT: usize = 600;
/// One `struct sym_text`: len, pad, text.
const TEXT_REC: usize = 8 + TEXT;

/// The loaded symbolizer: its program and maps, released on drop.
pub struct Symbolizer {
    prog: OwnedFd,
    offsets: OwnedFd,
    texts: OwnedFd,
    /// Kernel id of the program.
    pub prog_id: u32,
}

use super::sys::call_error as os_err;

impl Symbolizer {
    /// Loads the object through the kernel-side loader. Fails on kernels before 5.18 (no
    /// loader program) and where the kernel refuses a part of it.
    pub fn load() -> Result<Symbolizer, String> {
        let mut loaded = super::light::load(OBJ, &|_| true)?;
        // Its maps outlive it (a sleepable program's grace period): named dpscope's own if a
        // map list sees them.
        for (_, m) in &loaded.maps {
            super::light::remember_loader_map(m);
        }
        let prog = loaded
            .take_prog("dpscope_symbols")
            .ok_or("symbolizer: no program")?;
        let mut map = |name: &str| -> Result<OwnedFd, String> {
            let i = loaded
                .maps
                .iter()
                .position(|(n, _)| n == name)
                .ok_or_else(|| format!("symbolizer: no map {name}"))?;
            Ok(loaded.maps.swap_remove(i).1)
        };
        let offsets = map("dpscope_sym_offs")?;
        let texts = map("dpscope_sym_text")?;
        let prog_id = {
            use std::os::fd::AsFd;
            super::iters::prog_id_of(prog.as_fd())
        };
        Ok(Symbolizer {
            prog,
            offsets,
            texts,
            prog_id,
        })
    }

    /// One run over at most [`SLOTS`] offsets: `__bpf_call_base` and what `%pS` printed for
    /// each offset, in order.
    fn run(&self, offsets: &[i32]) -> Result<(u64, Vec<String>), String> {
        let n = offsets.len().min(SLOTS);
        let keys: Vec<u32> = (0..n as u32).collect();
        if n > 0 {
            let mut count = n as u32;
            let opts = libbpf_sys::bpf_map_batch_opts {
                sz: std::mem::size_of::<libbpf_sys::bpf_map_batch_opts>() as _,
                ..Default::default()
            };
            // SAFETY: keys and offsets hold `count` 4-byte elements (the map's key and value
            // sizes) and outlive the call; the kernel only reads them.
            let ret = unsafe {
                libbpf_sys::bpf_map_update_batch(
                    self.offsets.as_raw_fd(),
                    keys.as_ptr() as *const c_void,
                    offsets.as_ptr() as *const c_void,
                    &mut count,
                    &opts,
                )
            };
            if ret != 0 {
                return Err(os_err("symbolizer offsets", ret));
            }
        }
        // struct sym_ctx: call_base, err, count, pad.
        let mut ctx = [0u8; 24];
        ctx[16..20].copy_from_slice(&(n as u32).to_ne_bytes());
        super::light::run_syscall_prog(&self.prog, &mut ctx, "running the symbolizer")?;
        let base = crate::bytes::ne_u64(&ctx, 0);
        let err = crate::bytes::ne_u64(&ctx, 8) as i64;
        if err != 0 || base == 0 {
            return Err(format!(
                "__bpf_call_base not found: {}",
                std::io::Error::from_raw_os_error(-(err as i32))
            ));
        }
        if n == 0 {
            return Ok((base, Vec::new()));
        }
        // One batch of the n formatted names, through the project's batch cursor.
        let mut chunk = super::batch::Chunk::default();
        super::batch::Cursor::new(4, TEXT_REC, n as u32)
            .next(std::os::fd::AsFd::as_fd(&self.texts), &mut chunk)
            .map_err(|e| format!("symbolizer names: {e}"))?;
        if chunk.count != n {
            return Err(format!("symbolizer names: {} of {n} read", chunk.count));
        }
        let mut texts = Vec::with_capacity(n);
        for i in 0..n {
            let (key, rec) = chunk.entry(i, 4, TEXT_REC);
            if key != (i as u32).to_ne_bytes() {
                return Err("symbolizer names out of order".into());
            }
            let len = crate::bytes::ne_u32(rec, 0) as i32;
            if len <= 0 || len as usize > TEXT {
                return Err(format!("symbol {i} not formatted (length {len})"));
            }
            let text = &rec[8..8 + len as usize - 1];
            texts.push(String::from_utf8_lossy(text).into_owned());
        }
        Ok((base, texts))
    }

    /// The address of `__bpf_call_base`.
    pub fn call_base(&self) -> Result<u64, String> {
        self.run(&[]).map(|(b, _)| b)
    }

    /// `__bpf_call_base` and, for each offset from it that a symbol starts exactly at, that
    /// symbol's name (module symbols without ` [module]`).
    pub fn names(&self, offsets: &[i32]) -> Result<(u64, BTreeMap<i32, String>), String> {
        let mut want = offsets.to_vec();
        want.sort_unstable();
        want.dedup();
        let mut out = BTreeMap::new();
        let mut base = None;
        for chunk in want.chunks(SLOTS) {
            let (b, texts) = self.run(chunk)?;
            if base.is_some_and(|x| x != b) {
                return Err("__bpf_call_base moved".into());
            }
            base = Some(b);
            for (o, t) in chunk.iter().zip(&texts) {
                if let Some(name) = exact_name(t) {
                    out.insert(*o, name.to_string());
                }
            }
        }
        let base = match base {
            Some(b) => b,
            None => self.call_base()?,
        };
        Ok((base, out))
    }

    /// A symbol table holding `__bpf_call_base` and the symbol at each call target
    /// (`__bpf_call_base + offset`), enough for [`super::xlated::calls`] to name those calls
    /// exactly as with the whole `/proc/kallsyms` table.
    pub fn call_table(&self, offsets: &[i32]) -> Result<Kallsyms, String> {
        let (base, names) = self.names(offsets)?;
        Ok(table(
            base,
            names
                .into_iter()
                .map(|(o, n)| (base.wrapping_add(o as i64 as u64), n))
                .collect(),
        ))
    }
}

/// The name in one `%pS` text (`name+0xOFF/0xSIZE`, then ` [module]` or ` [module buildid]`
/// for a module's symbol; the bare `0xADDR` when no symbol holds the address) when the symbol
/// starts exactly at the address.
pub fn exact_name(text: &str) -> Option<&str> {
    let sym = match text.find(" [") {
        Some(i) if text.ends_with(']') => &text[..i],
        _ => text,
    };
    let (name, at) = sym.rsplit_once('+')?;
    let (off, _size) = at.split_once('/')?;
    (off == "0x0" && !name.is_empty()).then_some(name)
}

/// The table of `__bpf_call_base` at `base` and the named addresses.
fn table(base: u64, names: BTreeMap<u64, String>) -> Kallsyms {
    Kallsyms::from_symbols(
        std::iter::once((base, "__bpf_call_base".to_string()))
            .chain(names.into_iter().filter(|(a, _)| *a != base)),
    )
}

/// Where a call table came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Named in the kernel (this module); nothing read from /proc/kallsyms.
    Kernel,
    /// The kernel-side path failed (the reason): `/proc/kallsyms` was read instead.
    Kallsyms(String),
    /// No call needed a symbol.
    Nothing,
}

/// The symbols [`super::xlated::calls`] needs to name calls at these offsets from
/// `__bpf_call_base`: named in the kernel, or from `/proc/kallsyms` ([`Kallsyms::kernel`])
/// when that cannot run. Errors when neither can (addresses hidden, no kallsyms).
pub fn call_table(offsets: &[i32]) -> Result<(Cow<'static, Kallsyms>, Source), String> {
    if offsets.is_empty() {
        return Ok((
            Cow::Owned(Kallsyms::from_symbols(Vec::<(u64, String)>::new())),
            Source::Nothing,
        ));
    }
    let why = match Symbolizer::load().and_then(|s| s.call_table(offsets)) {
        Ok(t) => return Ok((Cow::Owned(t), Source::Kernel)),
        Err(e) => e,
    };
    kallsyms_table().map(|t| (t, Source::Kallsyms(why)))
}

/// The fallback: the kernel's and modules' symbols from `/proc/kallsyms`.
pub fn kallsyms_table() -> Result<Cow<'static, Kallsyms>, String> {
    let k = Kallsyms::kernel();
    match k.unavailable_reason() {
        None => Ok(Cow::Borrowed(k)),
        Some(why) => Err(why.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_only_symbols_that_start_at_the_address() {
        for (text, want) in [
            ("bpf_skb_store_bytes+0x0/0x2a0", Some("bpf_skb_store_bytes")),
            ("bpf_skb_store_bytes+0x1/0x2a0", None),
            ("veth_xmit+0x0/0x3c0 [veth]", Some("veth_xmit")),
            ("nf_hook+0x0/0x10 [nf_tables 0123abcd]", Some("nf_hook")),
            ("0xffffffff81000010", None),
            ("name.with+plus+0x0/0x8", Some("name.with+plus")),
            ("+0x0/0x8", None),
            ("", None),
            ("garbage", None),
        ] {
            assert_eq!(exact_name(text), want, "{text:?}");
        }
    }

    #[test]
    fn the_table_names_calls_like_kallsyms_does() {
        let base = 0xffffffff814cc810u64;
        let names: BTreeMap<u64, String> = [(0xffffffff81e9b040u64, "bpf_skb_store_bytes")]
            .into_iter()
            .map(|(a, n)| (a, n.to_string()))
            .collect();
        let t = table(base, names);
        assert_eq!(t.address_of("__bpf_call_base"), Some(base));
        assert_eq!(
            t.lookup_exact(0xffffffff81e9b040),
            Some("bpf_skb_store_bytes")
        );
        assert_eq!(t.lookup_exact(0xffffffff81e9b044), None);
    }

    #[test]
    fn no_offsets_need_no_symbols() {
        let (t, src) = call_table(&[]).unwrap();
        assert!(t.is_empty());
        assert_eq!(src, Source::Nothing);
    }
}
