//! The `Snapshot`: the one contract between collectors, views, export and replay.
//!
//! Everything a view shows lives here, so anything on screen can be tested from a fixture file
//! and replayed from an incident. No I/O in this module: only types and pure helpers.

use serde::{Deserialize, Serialize};

pub mod bundle;
pub mod cluster;
pub mod compact;
pub mod diff;
pub mod identity;
pub mod io;
pub mod node_diff;
pub mod pane;
pub mod recording;
pub mod tailgraph;

pub use compact::{Addr, CtFlags, TcpFlags, Word};
pub use pane::PaneId;

/// Schema name written into every snapshot file.
pub const SCHEMA: &str = "dpscope.snapshot/v1";

/// One observation of the node. Cumulative counters only; rates are derived by the app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    pub schema: String,
    /// Wall-clock time the collection finished (RFC 3339, UTC).
    pub taken_at: String,
    /// CLOCK_MONOTONIC (ns) at collection, the base for every rate.
    pub monotonic_ns: u64,
    /// CLOCK_BOOTTIME (ns) at collection; program load times are relative to boot.
    pub boottime_ns: u64,
    pub node: Node,
    pub programs: Vec<Program>,
    pub maps: Vec<MapInfo>,
    pub attachments: Vec<Attachment>,
    /// BPF links other than the per-interface ones (cgroup, tracing, netfilter, perf_event...).
    pub links: Vec<LinkInfo>,
    /// Details captured for objects the user drilled into (or all, with `snapshot --details`).
    pub details: Details,
    pub tailcalls: Vec<TailCallMap>,
    pub services: Vec<Service>,
    /// Shared (`Arc`): between re-reads of the CT maps every snapshot carries the same table,
    /// which costs nothing to pass on.
    pub conntrack: std::sync::Arc<Vec<CtEntry>>,
    pub identities: Vec<IdentityEntry>,
    pub endpoints: Vec<Endpoint>,
    pub policy: Vec<PolicyEntry>,
    pub metrics: Vec<MetricEntry>,
    pub retransmits: Vec<Retransmit>,
    pub drops: Vec<Drop>,
    pub denials: Vec<Denial>,
    /// What the Cilium collector found (layout, roots, caps); `None` when it did not run.
    pub cilium: Option<CiliumInfo>,
    /// XDP exceptions and redirect errors of the node's XDP programs (own `xdp_health` probe).
    #[serde(default)]
    pub xdp_errors: Vec<XdpEvent>,
    /// Per-flow counters from the opt-in tc/XDP flow probe (`--tc-iface`, `--xdp-iface`).
    #[serde(default)]
    pub flows: Vec<Flow>,
}

impl Snapshot {
    pub fn empty() -> Self {
        Snapshot {
            schema: SCHEMA.to_string(),
            ..Default::default()
        }
    }

    pub fn program(&self, id: u32) -> Option<&Program> {
        self.programs.iter().find(|p| p.id == id)
    }

    pub fn map(&self, id: u32) -> Option<&MapInfo> {
        self.maps.iter().find(|m| m.id == id)
    }

    /// Why a pane has no data, if the collector said so.
    pub fn unavailable_reason(&self, pane: &str) -> Option<&str> {
        self.node
            .unavailable
            .iter()
            .find(|u| u.pane == pane)
            .map(|u| u.reason.as_str())
    }
}

/// Facts about the node and about the collection itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Node {
    pub hostname: String,
    pub kernel_release: String,
    pub kernel_version: String,
    pub arch: String,
    /// /sys/kernel/btf/vmlinux present.
    pub btf: bool,
    /// Active LSMs in order, from /sys/kernel/security/lsm (empty when securityfs is unreadable).
    pub lsms: Vec<String>,
    /// Lockdown mode (`none`, `integrity`, `confidentiality`) when known.
    pub lockdown: Option<String>,
    /// net.core.bpf_jit_enable (0, 1, 2) when readable.
    pub jit_enabled: Option<i64>,
    pub jit_harden: Option<i64>,
    pub unprivileged_bpf_disabled: Option<i64>,
    /// BPF run-time stats were on while this snapshot was collected.
    pub stats_enabled: bool,
    /// Who turned stats on: `dpscope` (our fd), `sysctl` (kernel.bpf_stats_enabled), or empty.
    pub stats_source: String,
    pub bpffs_roots: Vec<String>,
    /// Sum of `memory_bytes` over all maps: kernel memory invisible to `free` and cgroups.
    pub map_memory_bytes: u64,
    pub interval_ms: u64,
    /// How long the collection took.
    pub collect_ms: u64,
    /// The wait before the next collection when this one took longer than the interval: the
    /// interval stretches (to the collection's own time) instead of collections piling up.
    /// `None` when the interval holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stretched_ms: Option<u64>,
    /// Where that time went, phase by phase (`programs`, `maps`, `pins`, `owners`, ...).
    pub collect_phases: Vec<Phase>,
    pub dpscope_version: String,
    pub probes: Vec<ProbeStatus>,
    /// How the LSM denials pane gets its rows: BPF LSM mode, the syscall-exit fallback and
    /// why, or why neither (empty when not collected).
    pub denials_mode: String,
    pub unavailable: Vec<Unavailable>,
    /// Non-fatal problems met while collecting (an object vanished, a map unreadable...).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Phase {
    pub name: String,
    pub micros: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Unavailable {
    pub pane: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeStatus {
    pub name: String,
    pub loaded: bool,
    pub attached: bool,
    /// Why it did not load/attach, or what it is attached to.
    pub detail: String,
    /// Kernel ids of the probe's programs (marked `dpscope_owned` in the Programs pane).
    pub prog_ids: Vec<u32>,
    /// Events the probe saw (all CPUs).
    pub events: u64,
    /// Entries in its in-kernel aggregation map now, and the map's bound.
    pub map_entries: Option<u64>,
    pub map_max_entries: u32,
    /// Keys the LRU map evicted to make room (inserted − live entries).
    pub evicted: u64,
    /// Inserts that failed outright (events not counted).
    pub failed_inserts: u64,
}

/// A process holding a BPF object open.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcRef {
    pub pid: u32,
    pub comm: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Program {
    pub id: u32,
    /// Full name (BTF func_info) when the kernel's 15-character name is truncated.
    pub name: String,
    pub kernel_name: String,
    /// bpftool's type name (`xdp`, `sched_cls`, `tracepoint`, ...).
    #[serde(rename = "type")]
    pub prog_type: String,
    pub tag: String,
    /// Load time, RFC 3339 (derived from boot time + load offset).
    pub load_time: Option<String>,
    /// Load time as CLOCK_BOOTTIME ns, for ordering and staleness.
    pub load_time_ns: u64,
    pub uid: u32,
    pub run_cnt: u64,
    pub run_time_ns: u64,
    pub recursion_misses: u64,
    pub map_ids: Vec<u32>,
    pub pids: Vec<ProcRef>,
    pub xlated_size: u32,
    pub jited_size: u32,
    pub verified_insns: u32,
    pub btf_id: u32,
    pub gpl_compatible: bool,
    /// BPF helpers called, by kernel symbol as bpftool prints them (`bpf_skb_store_bytes`,
    /// inlined map ops as `__htab_map_lookup_elem`).
    pub helpers: Vec<String>,
    pub kfuncs: Vec<String>,
    /// Loaded by this dpscope process (its own probes).
    pub dpscope_owned: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MapInfo {
    pub id: u32,
    /// Full name from the pin path when pinned, else the kernel name.
    pub name: String,
    pub kernel_name: String,
    /// bpftool's type name (`hash`, `lru_hash`, `prog_array`, ...).
    #[serde(rename = "type")]
    pub map_type: String,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    pub map_flags: u32,
    /// Current entries; null when not counted (ring buffers, perf arrays, unreadable).
    pub entries: Option<u64>,
    /// The count stopped at the work cap: `entries` is a lower bound.
    pub entries_partial: bool,
    /// Kernel memory charged (fdinfo memlock).
    pub memory_bytes: u64,
    pub pinned: Vec<String>,
    pub btf_id: u32,
    pub btf_key_type_id: u32,
    pub btf_value_type_id: u32,
    /// Programs using this map (from program map_ids).
    pub prog_ids: Vec<u32>,
    pub pids: Vec<ProcRef>,
    pub dpscope_owned: bool,
}

impl MapInfo {
    /// entries ÷ max_entries, for maps where that means pressure (hash-like maps, not arrays).
    pub fn pressure(&self) -> Option<f64> {
        if !has_pressure(&self.map_type) {
            return None;
        }
        match (self.entries, self.max_entries) {
            (Some(e), m) if m > 0 => Some(e as f64 / m as f64),
            _ => None,
        }
    }
}

/// Whether entries ÷ max_entries means "how full" for this map type (arrays are always full).
pub fn has_pressure(map_type: &str) -> bool {
    matches!(
        map_type,
        "hash"
            | "percpu_hash"
            | "lru_hash"
            | "lru_percpu_hash"
            | "lpm_trie"
            | "hash_of_maps"
            | "devmap_hash"
            | "sockhash"
    )
}

/// One program on one network hook.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Attachment {
    pub ifindex: u32,
    pub ifname: String,
    /// `xdp`, `tc_ingress`, `tc_egress`, `tcx_ingress`, `tcx_egress`, `netkit_primary`, `netkit_peer`.
    pub hook: String,
    pub prog_id: u32,
    pub prog_name: String,
    /// XDP: `drv`, `skb`, `hw`, `multi`.
    pub mode: Option<String>,
    /// tc filter pref (priority).
    pub priority: Option<u32>,
    /// tc filter handle.
    pub handle: Option<u32>,
    /// tc cls_bpf direct-action flag.
    pub direct_action: Option<bool>,
    /// Order on the hook, 0 runs first.
    pub position: u32,
    /// BPF link id when attached through a link (tcx, XDP link).
    pub link_id: Option<u32>,
    /// Stacked programs, likely stale program...
    pub warnings: Vec<String>,
    /// This entry looks like a leftover (older twin of another program on the same hook).
    pub likely_stale: bool,
}

/// A BPF link not tied to a network interface hook (or in addition to it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinkInfo {
    pub id: u32,
    /// `cgroup`, `tracing`, `raw_tracepoint`, `netfilter`, `perf_event`, `kprobe_multi`, `xdp`, `tcx`, `netns`, `iter`, `struct_ops`, ...
    #[serde(rename = "type")]
    pub link_type: String,
    pub prog_id: u32,
    pub prog_name: String,
    /// Human-readable target: cgroup path, tracepoint name, netfilter hook, interface...
    pub target: String,
    /// Attach type name where the kernel reports one.
    pub attach_type: String,
}

/// Detail data captured for some objects (the ones drilled into, or all on request).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Details {
    pub programs: Vec<ProgramDetail>,
    pub maps: Vec<MapDump>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProgramDetail {
    pub id: u32,
    /// Translated instructions, disassembled, one per line (`  12: r1 = *(u32 *)(r6 +0)`).
    pub insns: Vec<String>,
    /// Why the instructions are not available (kernel.kptr_restrict, lockdown...).
    pub insns_unavailable: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MapDump {
    pub map_id: u32,
    /// Index of the first entry in this page.
    pub offset: u64,
    pub entries: Vec<MapEntry>,
    /// More entries exist after this page.
    pub more: bool,
    /// How keys and values were decoded: `btf`, `hex`, `prog_array`, `map_in_map`.
    pub format: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MapEntry {
    pub key: String,
    pub value: String,
    /// Per-CPU values, one per possible CPU, when the map is per-CPU (`value` is their sum).
    pub per_cpu: Vec<String>,
}

// ---- Cilium panes (filled by the Cilium decoders) ----

/// Pane-level facts of the Cilium collection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CiliumInfo {
    /// Detected release layout (`1.18`, `1.18 (policy value 8 B)`), empty when unknown.
    pub layout: String,
    /// bpffs roots where Cilium's pinned maps were found.
    pub roots: Vec<String>,
    /// CT entries in the maps when the read stopped at the cap (`conntrack` holds fewer).
    pub ct_total: Option<u64>,
    /// CLOCK_MONOTONIC (ns) when `conntrack` was read from the kernel (it is re-read less
    /// often than every refresh); `None` when the CT maps were not read for this snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ct_read_ns: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TailCallMap {
    pub map_id: u32,
    pub map_name: String,
    pub owner: Option<String>,
    pub layout: Option<String>,
    pub slots: Vec<TailCallSlot>,
    /// `cilium_calls`, `call_policy`, `egresscall_policy`, or `generic`.
    pub kind: String,
    /// Programs that use this array and are not in it (entry programs when attached).
    pub owner_prog_ids: Vec<u32>,
    pub max_entries: u32,
    pub pinned: Option<String>,
    /// The endpoint this array belongs to (`cilium_calls_<id>`, `cilium_calls_hostns_<id>`),
    /// when known for certain: from the pin name, or the entry program's config. Never from a
    /// kernel name cut at 15 characters.
    pub endpoint_id: Option<u32>,
    /// Where `endpoint_id` came from: `pin name`, `__config_endpoint_id of prog 55`.
    pub endpoint_source: Option<String>,
    /// The Cilium object that fills a `cilium_calls_*` array: `bpf_lxc`, `bpf_host`,
    /// `bpf_host (host endpoint)`, `bpf_overlay`, `bpf_wireguard`, `bpf_xdp`, `custom calls`.
    pub object: Option<String>,
    /// Why `layout` names the slots: `48 slots (CILIUM_CALL_SIZE of 1.18)`, `49 slots and
    /// tail_drop_notify in slot 1`, `bpffs root /sys/fs/bpf is 1.15`.
    pub layout_reason: Option<String>,
    /// Every `bpf_tail_call` into this array found in program code.
    pub sites: Vec<TailCallSite>,
}

/// A `bpf_tail_call` into a prog array.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(default)]
pub struct TailCallSite {
    /// The calling program.
    pub prog_id: u32,
    /// The slot, when the code fixes it at the call site; `None`: not known statically.
    pub index: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TailCallSlot {
    pub index: u32,
    pub slot_name: Option<String>,
    pub prog_id: u32,
    pub prog_name: String,
    pub kernel_name: String,
    /// No program here, but a program tail-calls exactly this index (known statically).
    pub empty: bool,
    /// Prog arrays this slot's program can tail-call into (its map ids of type prog_array).
    pub calls_maps: Vec<u32>,
    /// The program here is reachable from itself through tail calls whose slots are known.
    pub cycle: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Service {
    pub frontend: String,
    pub address: String,
    pub port: u16,
    pub protocol: String,
    pub scope: String,
    pub rev_nat_id: u16,
    #[serde(rename = "type")]
    pub svc_type: String,
    pub flags: Vec<String>,
    pub backends: Vec<ServiceBackend>,
    /// Active backend slots (`count`).
    pub backend_count: u16,
    /// Quarantined/terminating fall-back slots after the active ones (`qcount`, 1.17+).
    pub quarantined_count: u16,
    pub affinity_timeout_s: Option<u32>,
    pub lb_algorithm: Option<String>,
    pub l7_proxy_port: Option<u16>,
    /// `flags | flags2 << 8`.
    pub raw_flags: u16,
    /// Cilium layout the entry was decoded with (`1.18`...), or `unknown (...)`.
    pub layout: Option<String>,
    /// Raw `key=<hex> value=<hex>` when the map's sizes match no known layout.
    pub raw: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceBackend {
    pub slot: u16,
    pub backend_id: u32,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub protocol: Option<String>,
    pub state: String,
    pub cluster_id: u16,
    pub zone: u8,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CtEntry {
    // Half a million of these make a full table, so the fields are compact (model::compact):
    // words from a fixed vocabulary are shared, addresses and flags are inline. The JSON is the
    // same strings and arrays of strings as ever.
    pub table: Word,
    pub protocol: Word,
    pub direction: Word,
    pub related: bool,
    pub src: Addr,
    pub src_port: u16,
    pub dst: Addr,
    pub dst_port: u16,
    pub flags: CtFlags,
    pub expires_in_s: i64,
    pub rev_nat_id: u16,
    pub src_identity: u32,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    pub tx_flags_seen: TcpFlags,
    pub rx_flags_seen: TcpFlags,
    /// Raw expiry (`bpf_mono_now` units: seconds, or jiffies >> 8).
    pub lifetime: u32,
    /// Service entries: the backend chosen.
    pub backend_id: Option<u64>,
    /// 1.14–1.17: ifindex stored at offset 40.
    pub ifindex: Option<u16>,
    /// main: NAT port/address stored for egress entries.
    pub nat_port: Option<u16>,
    pub nat_addr: Option<Addr>,
    /// Cilium layout the entry was decoded with (`1.18`...), or `unknown (...)`.
    pub layout: Option<Word>,
    /// Raw `key=<hex> value=<hex>` when the map's sizes match no known layout.
    pub raw: Option<Box<str>>,
    /// The flags field as stored (`Flags=0x....` of `cilium-dbg bpf ct list`; `flags` names
    /// its bits). `None` in files written before it was kept.
    pub flags_word: Option<u16>,
    /// When the datapath last sent a trace report for this direction (`bpf_mono_now` units).
    pub last_rx_report: u32,
    pub last_tx_report: u32,
    /// Cilium ≤ 1.15 counts each direction apart: the tx share of `packets` and `bytes`
    /// (`[packets, bytes]`; the rx share is the rest). Absent for later releases. Boxed: a
    /// full table holds half a million entries, and only old releases have it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx_counters: Option<Box<[u64; 2]>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IdentityEntry {
    pub prefix: String,
    pub identity: u32,
    pub identity_name: Option<String>,
    pub tunnel_endpoint: Option<String>,
    pub flags: Vec<String>,
    pub encrypt_key: u8,
    pub cluster_id: u16,
    /// 1.14 only: node id in the ipcache value.
    pub node_id: Option<u16>,
    /// Cilium layout the entry was decoded with (`1.18`...), or `unknown (...)`.
    pub layout: Option<String>,
    /// Raw `key=<hex> value=<hex>` when the map's sizes match no known layout.
    pub raw: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Endpoint {
    pub address: String,
    pub endpoint_id: u16,
    pub identity: u32,
    pub ifindex: u32,
    pub mac: String,
    pub node_mac: String,
    pub flags: Vec<String>,
    pub parent_ifindex: Option<u32>,
    pub cluster_id: u16,
    /// Cilium layout the entry was decoded with (`1.18`...), or `unknown (...)`.
    pub layout: Option<String>,
    /// Raw `key=<hex> value=<hex>` when the map's sizes match no known layout.
    pub raw: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyEntry {
    pub endpoint_id: u16,
    pub verdict: String,
    pub direction: String,
    pub identity: u32,
    pub identity_name: Option<String>,
    pub protocol: String,
    pub port_low: u16,
    pub port_high: u16,
    pub proxy_port: u16,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    /// `disabled`, `spire`, `test-always-fail`, `Unknown-auth-type-N`.
    pub auth_type: String,
    /// Port/protocol bits matched: LPM prefixlen − 40 (0..24).
    pub prefix_len: u8,
    pub precedence: Option<u32>,
    pub cookie: Option<u32>,
    pub proxy_port_priority: Option<u8>,
    /// Cilium layout the entry was decoded with (`1.18`...), or `unknown (...)`.
    pub layout: Option<String>,
    /// Raw `key=<hex> value=<hex>` when the map's sizes match no known layout.
    pub raw: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricEntry {
    pub reason: u8,
    pub reason_name: String,
    pub direction: String,
    pub packets: u64,
    pub bytes: u64,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// Cilium layout the entry was decoded with (`1.18`...), or `unknown (...)`.
    pub layout: Option<String>,
    /// Raw `key=<hex> value=<hex>` when the map's sizes match no known layout.
    pub raw: Option<String>,
}

// ---- Own probes ----

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Retransmit {
    pub src: String,
    pub src_port: u16,
    pub dst: String,
    pub dst_port: u16,
    pub retransmits: u64,
    pub segments_out: Option<u64>,
    pub pid: Option<u32>,
    pub comm: Option<String>,
    pub cgroup: Option<String>,
    pub state: String,
    /// Network namespace inode of the socket (ports and addresses are per namespace).
    pub netns: u32,
    /// `IPv4` / `IPv6` family name (`"4"`, `"6"`).
    pub family: String,
    /// Kernel's own count for the live socket (sock_diag `tcpi_total_retrans`), null when the
    /// socket is gone.
    pub kernel_total_retrans: Option<u64>,
    /// Retransmit attempts the stack could not send.
    pub failed: u64,
    pub resets_sent: u64,
    pub resets_received: u64,
    /// Container or pod id when the cgroup path names one.
    pub container: Option<String>,
    /// CLOCK_MONOTONIC ns of the last event for this flow.
    pub last_ns: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Drop {
    pub reason: u32,
    pub reason_name: String,
    pub location: String,
    pub ifindex: u32,
    pub protocol: String,
    pub src: String,
    pub src_port: u16,
    pub dst: String,
    pub dst_port: u16,
    pub count: u64,
    pub bytes: u64,
    /// Network namespace inode of the device (ifindex is per namespace).
    pub netns: u32,
    pub ifname: String,
    /// Cilium security identities of the addresses, when the node runs Cilium.
    pub src_identity: Option<u32>,
    pub dst_identity: Option<u32>,
}

/// XDP exceptions (`xdp:xdp_exception`) and redirect errors (`xdp:xdp_redirect_err`) per
/// interface and program.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct XdpEvent {
    pub netns: u32,
    pub ifindex: u32,
    pub ifname: String,
    pub prog_id: u32,
    pub prog_name: String,
    /// `ABORTED`, `DROP`, `PASS`, `TX`, `REDIRECT`, an unknown action number, or
    /// `REDIRECT_ERR` for failed redirects.
    pub action: String,
    /// errno of a failed redirect (0 for exceptions).
    pub err: i32,
    pub count: u64,
}

/// One direction of one flow seen by the opt-in flow probe.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Flow {
    pub ifindex: u32,
    pub ifname: String,
    /// `ingress`, `egress` (tcx) or `xdp`.
    pub direction: String,
    pub protocol: String,
    pub src: String,
    pub src_port: u16,
    pub dst: String,
    pub dst_port: u16,
    pub packets: u64,
    pub bytes: u64,
    /// TCP flags seen (`SYN`, `ACK`, `FIN`, `RST`, `PSH`, `URG`, `ECE`, `CWR`).
    pub tcp_flags: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Denial {
    pub hook: String,
    pub pid: u32,
    pub comm: String,
    pub cgroup: Option<String>,
    pub target: String,
    pub errno: i32,
    pub source: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    /// Syscall that failed (syscall-exit mode), e.g. `openat`.
    pub syscall: Option<String>,
    /// Container or pod the cgroup belongs to, when the cgroup path names one.
    pub container: Option<String>,
    /// Which security module refused, when known: "Landlock (fs.read_file)",
    /// "AppArmor profile X", "SELinux (scontext → tcontext)", "BPF LSM program Y".
    pub denied_by: Option<String>,
    /// BPF LSM programs (other than dpscope's) attached to this hook: the likely deniers.
    pub lsm_programs: Vec<String>,
}
