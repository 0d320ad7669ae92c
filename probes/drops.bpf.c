// SPDX-License-Identifier: GPL-2.0
// dpscope: packets the kernel dropped, counted in the kernel per
// (reason, location, netns, ifindex, 5-tuple). Observe only. Only the first three tracepoint
// arguments are used, so the object also loads where kfree_skb has no rx_sk argument.
// No clock read per drop: nothing downstream uses a per-row timestamp, and bpf_ktime_get_ns is
// expensive in a VM (docs/benchmarks.md).
#include "parse_skb.h"

struct drop_key {
	__u32 reason;
	__u32 ifindex;
	__u64 location;
	__u32 netns;
	__u32 pad;
	struct dps_tuple t;
};

struct drop_val {
	__u64 count;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct drop_key);
	__type(value, struct drop_val);
} dps_drops SEC(".maps");

DPS_STATS_MAP(dps_drops_stats);

SEC("tp_btf/kfree_skb")
int BPF_PROG(dpscope_drops, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	struct drop_key k = {};
	struct drop_val *v, nv = {};
	struct net_device *dev;
	__u32 len;

	dps_count(&dps_drops_stats, DPS_STAT_EVENTS);
	k.reason = reason;
	k.location = (__u64)location;
	/* tp_btf: skb is a BTF pointer, its fields are direct (fault-safe) loads */
	dev = skb->dev;
	if (dev) {
		k.ifindex = dev->ifindex;
		k.netns = dps_dev_netns(dev);
	} else {
		k.ifindex = skb->skb_iif;
		k.netns = dps_sk_netns(skb->sk);
	}
	dps_parse_skb(skb, &k.t);
	len = skb->len;

	v = bpf_map_lookup_elem(&dps_drops, &k);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		__sync_fetch_and_add(&v->bytes, len);
		return 0;
	}
	nv.count = 1;
	nv.bytes = len;
	if (bpf_map_update_elem(&dps_drops, &k, &nv, BPF_NOEXIST) == 0) {
		dps_count(&dps_drops_stats, DPS_STAT_NEW);
	} else {
		/* Lost a race with another CPU inserting the same key: add to its entry. */
		v = bpf_map_lookup_elem(&dps_drops, &k);
		if (v) {
			__sync_fetch_and_add(&v->count, 1);
			__sync_fetch_and_add(&v->bytes, len);
		} else {
			dps_count(&dps_drops_stats, DPS_STAT_FAILED);
		}
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
