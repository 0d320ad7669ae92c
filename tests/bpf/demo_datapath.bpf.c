// SPDX-License-Identifier: GPL-2.0
// A small Cilium-shaped datapath for the demo scenario (examples/demo_node.rs, tests/demo_node.rs):
// not Cilium's code, but it walks Cilium's path through maps with Cilium's exact names, sizes and
// layouts (main: policy value 12 B, cilium_policystats, ipcache_v2; ../shared/cilium-maps.md),
// so the counters dpscope shows are written by packets, not by the scenario:
//
//   cil_from_container (tcx ingress of the pod's host-side veth)
//     → cilium_calls[7] tail_handle_ipv4 → [30] tail_ipv4_ct_egress → [26] tail_handle_ipv4_cont
//     → cilium_call_policy[endpoint id] cil_lxc_policy → [13] tail_ipv4_to_endpoint
//
// cil_lxc_policy looks the destination up in cilium_ipcache_v2 (identity), then the endpoint's
// policy map (exact identity, then identity 0, longest prefix); a deny entry drops the packet
// (TCX_DROP: the kernel frees it with reason TC_INGRESS) and counts DROP_POLICY_DENY (181) in
// cilium_metrics, no entry counts DROP_POLICY (133); an allowed packet counts in
// cilium_policystats and cilium_metrics (forwarded) and creates or refreshes its conntrack entry
// in cilium_ct4_global / cilium_ct_any4_global (CT_EGRESS, Cilium's field naming). Everything
// else passes unchanged (TCX_NEXT).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define CALL_IPV4_FROM_LXC 7
#define CALL_IPV4_TO_ENDPOINT 13
#define CALL_IPV4_FROM_LXC_CONT 26
#define CALL_IPV4_CT_EGRESS 30

#define REASON_FORWARDED 0
#define DROP_POLICY 133
#define DROP_POLICY_DENY 181
#define METRIC_EGRESS 2
#define FILE_BPF_LXC 2

#define TUPLE_F_OUT 0
#define CT_SEEN_NON_SYN 0x10
#define CT_TX_CLOSING 0x02

/* Cilium's DECLARE_CONFIG(__u16, endpoint_id, ...): set by the loader before load. */
__attribute__((section(".rodata.config"), used)) volatile const __u16 __config_endpoint_id;
/* The endpoint's own security identity (set before load). */
const volatile __u32 demo_security_label = 0;

struct ipv4_ct_tuple {
	__be32 daddr;
	__be32 saddr;
	__be16 dport;
	__be16 sport;
	__u8 nexthdr;
	__u8 flags;
} __attribute__((packed));

struct ct_entry {
	__u64 reserved0;
	__u64 backend_id;
	__u64 packets;
	__u64 bytes;
	__u32 lifetime;
	__u16 flags;
	__be16 rev_nat_index;
	__be16 nat_port;
	__u8 tx_flags_seen;
	__u8 rx_flags_seen;
	__u32 src_sec_id;
	__u32 last_tx_report;
	__u32 last_rx_report;
};

struct ipcache_key {
	__u32 prefixlen;
	__u16 cluster_id;
	__u8 pad1;
	__u8 family;
	__be32 ip4;
	__u32 pad[3];
} __attribute__((packed));

struct remote_endpoint_info {
	__u32 sec_identity;
	__u32 tunnel_endpoint[4];
	__u16 pad;
	__u8 key;
	__u8 flags;
};

struct policy_key {
	__u32 prefixlen;
	__u32 sec_label;
	__u8 egress;
	__u8 protocol;
	__be16 dport;
};

struct policy_entry {
	__be16 proxy_port;
	__u8 flags; /* bit0 deny, bits3-7 lpm_prefix_length */
	__u8 auth_type;
	__u32 precedence;
	__u32 cookie;
};

struct policy_stats_key {
	__u16 endpoint_id;
	__u8 pad1;
	__u8 prefix_len;
	__u32 sec_label;
	__u8 egress;
	__u8 protocol;
	__be16 dport;
};

struct counters {
	__u64 packets;
	__u64 bytes;
};

struct metrics_key {
	__u8 reason;
	__u8 dir;
	__u16 line;
	__u8 file;
	__u8 reserved[3];
};

/* Every map is replaced before load by the scenario's pinned map of the same name and layout. */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 49);
	__type(key, __u32);
	__type(value, __u32);
} cilium_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 65535);
	__type(key, __u32);
	__type(value, __u32);
} cilium_call_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 512000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ipcache_key);
	__type(value, struct remote_endpoint_info);
} cilium_ipcache_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct policy_key);
	__type(value, struct policy_entry);
} cilium_policy_v2 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct policy_stats_key);
	__type(value, struct counters);
} cilium_policystats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct metrics_key);
	__type(value, struct counters);
} cilium_metrics SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 524288);
	__type(key, struct ipv4_ct_tuple);
	__type(value, struct ct_entry);
} cilium_ct4_global SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);
	__type(key, struct ipv4_ct_tuple);
	__type(value, struct ct_entry);
} cilium_ct_any4_global SEC(".maps");

struct pkt {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 tcp_flags;
};

/* IPv4 TCP/UDP (ports) or other IPv4 (ports 0); false for anything else. */
static __always_inline bool parse(struct __sk_buff *skb, struct pkt *p)
{
	struct iphdr ip;
	__u16 ports[2] = {};

	if (skb->protocol != bpf_htons(0x0800))
		return false;
	if (bpf_skb_load_bytes(skb, 14, &ip, sizeof(ip)) < 0 || ip.ihl < 5)
		return false;
	p->saddr = ip.saddr;
	p->daddr = ip.daddr;
	p->proto = ip.protocol;
	p->sport = 0;
	p->dport = 0;
	p->tcp_flags = 0;
	if (ip.protocol == IPPROTO_TCP || ip.protocol == IPPROTO_UDP) {
		__u32 l4 = 14 + ip.ihl * 4;

		if (bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)) < 0)
			return false;
		p->sport = ports[0];
		p->dport = ports[1];
		if (ip.protocol == IPPROTO_TCP)
			bpf_skb_load_bytes(skb, l4 + 13, &p->tcp_flags, 1);
	}
	return true;
}

static __always_inline void count(void *map, void *key, __u64 bytes)
{
	struct counters *c = bpf_map_lookup_elem(map, key);

	if (c) {
		c->packets += 1;
		c->bytes += bytes;
	} else {
		struct counters n = { .packets = 1, .bytes = bytes };

		bpf_map_update_elem(map, key, &n, BPF_NOEXIST);
	}
}

static __always_inline void metric(__u8 reason, __u16 line, __u64 bytes)
{
	struct metrics_key k = {
		.reason = reason,
		.dir = METRIC_EGRESS,
		.line = line,
		.file = FILE_BPF_LXC,
	};

	count(&cilium_metrics, &k, bytes);
}

static __always_inline __u32 mono_s(void)
{
	return bpf_ktime_get_ns() / 1000000000ULL;
}

/* CT_EGRESS entry of pod A:a → B:b, stored daddr=A saddr=B dport=b sport=a (Cilium's naming). */
static __always_inline void ct_egress(struct pkt *p, __u64 bytes)
{
	struct ipv4_ct_tuple t = {
		.daddr = p->saddr,
		.saddr = p->daddr,
		.dport = p->dport,
		.sport = p->sport,
		.nexthdr = p->proto,
		.flags = TUPLE_F_OUT,
	};
	void *map = p->proto == IPPROTO_TCP ? (void *)&cilium_ct4_global : (void *)&cilium_ct_any4_global;
	bool syn_only = p->proto == IPPROTO_TCP && (p->tcp_flags & 0x12) == 0x02;
	__u32 now = mono_s();
	__u32 timeout = p->proto == IPPROTO_TCP ? (syn_only ? 60 : 8000) : 60;
	struct ct_entry *e = bpf_map_lookup_elem(map, &t);

	if (p->tcp_flags & 0x05)
		timeout = 10;
	if (e) {
		__sync_fetch_and_add(&e->packets, 1);
		__sync_fetch_and_add(&e->bytes, bytes);
		e->lifetime = now + timeout;
		e->tx_flags_seen |= p->tcp_flags;
		if (!syn_only)
			e->flags |= CT_SEEN_NON_SYN;
		if (p->tcp_flags & 0x05)
			e->flags |= CT_TX_CLOSING;
		if (now - e->last_tx_report >= 5)
			e->last_tx_report = now;
		return;
	}
	struct ct_entry n = {
		.packets = 1,
		.bytes = bytes,
		.lifetime = now + timeout,
		.flags = syn_only ? 0 : CT_SEEN_NON_SYN,
		.tx_flags_seen = p->tcp_flags,
		.src_sec_id = demo_security_label,
		.last_tx_report = now,
	};
	bpf_map_update_elem(map, &t, &n, BPF_ANY);
}

SEC("tcx/ingress")
int cil_from_container(struct __sk_buff *skb)
{
	/* Uses its config, as Cilium's entry programs do. */
	skb->cb[0] = __config_endpoint_id;
	bpf_tail_call(skb, &cilium_calls, CALL_IPV4_FROM_LXC);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_handle_ipv4(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &cilium_calls, CALL_IPV4_CT_EGRESS);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_ipv4_ct_egress(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &cilium_calls, CALL_IPV4_FROM_LXC_CONT);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_handle_ipv4_cont(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &cilium_call_policy, __config_endpoint_id);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int cil_lxc_policy(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct ipcache_key ik = { .prefixlen = 64, .family = 1 };
	struct remote_endpoint_info *ri;
	struct policy_key pk = { .prefixlen = 64, .egress = 1 };
	struct policy_entry *pe;
	struct policy_stats_key sk = {};
	__u32 identity = 2; /* reserved:world when the ipcache has no entry */
	__u8 plen;

	if (!parse(skb, &p))
		return TCX_NEXT;
	ik.ip4 = p.daddr;
	ri = bpf_map_lookup_elem(&cilium_ipcache_v2, &ik);
	if (ri)
		identity = ri->sec_identity;
	pk.sec_label = identity;
	pk.protocol = p.proto;
	pk.dport = p.dport;
	pe = bpf_map_lookup_elem(&cilium_policy_v2, &pk);
	if (!pe) {
		pk.sec_label = 0;
		pe = bpf_map_lookup_elem(&cilium_policy_v2, &pk);
	}
	if (!pe) {
		metric(DROP_POLICY, __LINE__, skb->len);
		return TCX_DROP;
	}
	plen = pe->flags >> 3;
	sk.endpoint_id = __config_endpoint_id;
	sk.prefix_len = plen;
	sk.sec_label = pk.sec_label;
	sk.egress = 1;
	if (plen >= 8) {
		sk.protocol = p.proto;
		if (plen > 8)
			sk.dport = bpf_htons(bpf_ntohs(p.dport) & (0xffff << (24 - plen)));
	}
	count(&cilium_policystats, &sk, skb->len);
	if (pe->flags & 1) {
		metric(DROP_POLICY_DENY, __LINE__, skb->len);
		return TCX_DROP;
	}
	ct_egress(&p, skb->len);
	metric(REASON_FORWARDED, __LINE__, skb->len);
	bpf_tail_call(skb, &cilium_calls, CALL_IPV4_TO_ENDPOINT);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_ipv4_to_endpoint(struct __sk_buff *skb)
{
	return TCX_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
