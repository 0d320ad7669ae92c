// SPDX-License-Identifier: GPL-2.0
// dpscope: packets the kernel dropped, counted in the kernel per
// (reason, location, netns, ifindex, 5-tuple). Observe only. Only the first three tracepoint
// arguments are used, so the object also loads where kfree_skb has no rx_sk argument.
//
// Per-drop cost matters (docs/benchmarks.md): no clock read, headers read with direct loads,
// and IPv4 rows in their own map with a 36-byte key (IPv6 rows: 60 bytes).
#include "parse_skb.h"

/* Where the kernel dropped it. The location is split in two words so that the keys need only
 * 4-byte alignment and carry no tail padding. */
struct drop_where {
	__u32 reason;
	__u32 ifindex;
	__u32 netns;
	__u32 loc_lo;
	__u32 loc_hi;
};

struct drop_key4 { /* IPv4, and drops whose headers could not be parsed (family 0) */
	struct drop_where w;
	struct dps_tuple4 t;
};

struct drop_key6 {
	struct drop_where w;
	struct dps_tuple t;
};

struct drop_val {
	__u64 count;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct drop_key4);
	__type(value, struct drop_val);
} dps_drops4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct drop_key6);
	__type(value, struct drop_val);
} dps_drops6 SEC(".maps");

DPS_STATS_MAP(dps_drops_stats);

/* Add one drop to the key's entry, creating it when new. */
static __always_inline void account(void *map, const void *k, __u32 len)
{
	struct drop_val *v = bpf_map_lookup_elem(map, k);
	struct drop_val nv = { .count = 1, .bytes = len };

	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		__sync_fetch_and_add(&v->bytes, len);
		return;
	}
	if (bpf_map_update_elem(map, k, &nv, BPF_NOEXIST) == 0) {
		dps_count(&dps_drops_stats, DPS_STAT_NEW);
		return;
	}
	/* Lost a race with another CPU inserting the same key: add to its entry. */
	v = bpf_map_lookup_elem(map, k);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		__sync_fetch_and_add(&v->bytes, len);
	} else {
		dps_count(&dps_drops_stats, DPS_STAT_FAILED);
	}
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(dpscope_drops, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct drop_key6 k = {};
	struct net_device *dev;

	dps_count(&dps_drops_stats, DPS_STAT_EVENTS);
	k.w.reason = reason;
	k.w.loc_lo = (__u64)location;
	k.w.loc_hi = (__u64)location >> 32;
	/* tp_btf: skb is a BTF pointer, its fields are direct (fault-safe) loads */
	dev = skb->dev;
	if (dev) {
		k.w.ifindex = dev->ifindex;
		k.w.netns = dps_dev_netns(dev);
	} else {
		k.w.ifindex = skb->skb_iif;
		k.w.netns = dps_sk_netns(skb->sk);
	}
	dps_parse_skb(skb, &k.t);
	if (k.t.family == DPS_AF_INET6) {
		account(&dps_drops6, &k, skb->len);
	} else {
		struct drop_key4 k4 = { .w = k.w };

		dps_tuple4_of(&k4.t, &k.t);
		account(&dps_drops4, &k4, skb->len);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
