//! Cilium's conntrack tables as a stream of decoded entries, for `dpscope show conntrack`:
//! each entry goes to the caller as it comes out of the kernel's batch buffers (the kernel
//! copies the next batch out on a helper thread meanwhile, `read::for_each`), so a
//! half-million-entry table is printed at about the speed it is read, and never held whole.
//!
//! Only what the entries need is read besides them: the map list of the bpffs roots (for the
//! release layout), and the service and backend maps, which name service entries.

use super::conntrack::{self, Now};
use super::layout::Layout;
use super::registry::{Lookup, MapKind};
use super::{lb, read, Found, Options};
use crate::model::{CtEntry, Service, Word};
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;

/// The CT maps under the bpffs roots, opened, with what decoding them needs.
pub struct CtSource {
    found: Vec<Found>,
    /// Indexes into `found` of the CT maps, in `cilium-dbg bpf ct list global`'s order
    /// (TCP4, any4, TCP6, any6).
    ct: Vec<(usize, bool)>,
    layout: Layout,
    /// Set when no map told the release apart: every entry says the layout was assumed.
    label: Option<Word>,
    now: Now,
    cap: usize,
    /// The services of the node's LB maps (to name service entries).
    pub services: Vec<Service>,
    /// Why there is no conntrack table to show, if there is none.
    pub unavailable: Option<String>,
    pub warnings: Vec<String>,
}

/// How a stream ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Streamed {
    /// Entries passed to the sink.
    pub entries: u64,
    /// Maps that stopped at the cap (`name: N of M`).
    pub capped: Vec<String>,
    /// Entries that could not be decoded, per map (`name: N (first error)`).
    pub undecodable: Vec<String>,
}

/// Find and open the CT maps under `roots` and read the service maps. Nothing is read from
/// the CT maps yet but a small sample for the expiry clock.
pub fn open(roots: &[PathBuf], opts: &Options) -> CtSource {
    let mut warnings = Vec::new();
    let found = super::scan_roots(roots, &mut warnings);
    let searched = roots
        .iter()
        .map(|r| r.join("tc/globals").display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let detected = super::layout::detect(&super::evidence(found.iter()));
    let (layout, label) = match &detected {
        Some((l, _)) => (*l, None),
        None => (
            Layout::Main,
            Some(Word::from(
                format!(
                    "{} (assumed: no map tells the release)",
                    Layout::Main.label()
                )
                .as_str(),
            )),
        ),
    };
    let mut ct: Vec<(usize, bool)> = found
        .iter()
        .enumerate()
        .filter_map(|(i, f)| match f.lookup {
            Lookup::Known(MapKind::Ct { v6 }) => Some((i, v6)),
            _ => None,
        })
        .collect();
    // TCP before "any", v4 before v6, as cilium-dbg lists them.
    ct.sort_by_key(|&(i, v6)| {
        let f = &found[i];
        (v6, f.name.contains("_any"), f.root, f.name.clone())
    });
    let mismatched: Vec<&Found> = found
        .iter()
        .filter(|f| matches!(f.lookup, Lookup::Mismatch(MapKind::Ct { .. })))
        .collect();
    for f in &mismatched {
        warnings.push(format!(
            "{}: key {} B / value {} B match no known Cilium layout; not shown",
            f.name, f.info.key_size, f.info.value_size
        ));
    }
    let unavailable = ct.is_empty().then(|| {
        if found.iter().any(|f| f.lookup != Lookup::NotCilium) {
            format!(
                "no cilium_ct{{4,6}}_global / cilium_ct_any{{4,6}}_global map found under {searched}"
            )
        } else {
            format!("no Cilium maps found under {searched}")
        }
    });
    let now = super::now(&found, layout, opts);
    let services = services(&found, layout, label.as_ref(), opts.cap, &mut warnings);
    CtSource {
        found,
        ct,
        layout,
        label,
        now,
        cap: opts.cap,
        services,
        unavailable,
        warnings,
    }
}

/// The services of the LB maps, as the Services pane has them.
fn services(
    found: &[Found],
    lay: Layout,
    label: Option<&Word>,
    cap: usize,
    warnings: &mut Vec<String>,
) -> Vec<Service> {
    let mut svc: Vec<(bool, lb::SvcKey, lb::SvcValue)> = Vec::new();
    let mut backends: HashMap<u32, lb::Backend> = HashMap::new();
    for f in found {
        let kind = match f.lookup {
            Lookup::Known(k @ (MapKind::Services { .. } | MapKind::Backends { .. })) => k,
            _ => continue,
        };
        let dump = match f.fd.get().and_then(|fd| read::dump(fd, &f.info, cap)) {
            Ok(d) => d,
            Err(e) => {
                warnings.push(format!("{}: cannot read: {e}", f.path.display()));
                continue;
            }
        };
        for (k, v) in dump.iter() {
            match kind {
                MapKind::Services { v6 } => {
                    if let Ok(sk) = lb::decode_svc_key(k, v6) {
                        if let Ok(sv) = lb::decode_svc_value(v, lay) {
                            svc.push((v6, sk, sv));
                        }
                    }
                }
                MapKind::Backends { v6 } => {
                    if let Ok(b) = lb::decode_backend(k, v, v6, lay) {
                        backends.insert(b.id, b);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for v6 in [false, true] {
        let e: Vec<(lb::SvcKey, lb::SvcValue)> = svc
            .iter()
            .filter(|x| x.0 == v6)
            .map(|x| (x.1.clone(), x.2.clone()))
            .collect();
        let mut s = lb::build_services(&e, &backends, lay);
        for x in &mut s {
            x.layout = Some(
                label
                    .map(|l| l.as_str().to_string())
                    .unwrap_or_else(|| lay.label().to_string()),
            );
        }
        out.extend(s);
    }
    out
}

impl CtSource {
    /// Entries in the CT maps as far as the map list knows (max_entries), for sizing.
    pub fn capacity(&self) -> u64 {
        self.ct
            .iter()
            .map(|&(i, _)| u64::from(self.found[i].info.max_entries))
            .sum()
    }

    /// Pass every entry of every CT map to `sink`, in `cilium-dbg bpf ct list global`'s
    /// order, at most the cap per map. Entries with no protocol (unused slots) are skipped,
    /// as Cilium skips them. A map that fails part way ends the stream with its error: what
    /// was passed on stays passed on.
    pub fn stream(&self, sink: &mut dyn FnMut(&CtEntry)) -> io::Result<Streamed> {
        let mut done = Streamed::default();
        for &(i, v6) in &self.ct {
            let f = &self.found[i];
            let table = super::ct_table_name(f.name.trim_start_matches("cilium_"));
            let mut errors = 0usize;
            let mut first_err = None;
            let mut passed = 0u64;
            let walk = read::for_each(f.fd.get()?, &f.info, self.cap, &mut |k, v| {
                match conntrack::decode_entry(&table, k, v, v6, self.layout, &self.now) {
                    Ok(mut e) => {
                        if e.protocol != Word::ANY {
                            if let Some(l) = &self.label {
                                e.layout = Some(l.clone());
                            }
                            sink(&e);
                            passed += 1;
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        first_err.get_or_insert_with(|| e.to_string());
                    }
                }
            });
            done.entries += passed;
            let walk = walk.map_err(|e| {
                io::Error::new(e.kind(), format!("{}: cannot read: {e}", f.path.display()))
            })?;
            if walk.truncated {
                done.capped.push(format!(
                    "{}: showing the first {} entries (cap)",
                    f.name, walk.len
                ));
            }
            if errors > 0 {
                done.undecodable.push(format!(
                    "{}: {errors} entries could not be decoded (first: {})",
                    f.name,
                    first_err.unwrap_or_default()
                ));
            }
        }
        Ok(done)
    }
}
