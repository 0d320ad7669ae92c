// SPDX-License-Identifier: GPL-2.0
// dpscope: packets the kernel dropped, counted in the kernel per
// (reason, location, netns, ifindex, 5-tuple). Observe only. Only the first three tracepoint
// arguments are used, so the object also loads where kfree_skb has no rx_sk argument.
//
// Per-drop cost matters (docs/benchmarks.md): no clock read, headers read with direct loads,
// rows counted in an inline open-addressed table (dps_table.h: no kernel call when the row
// exists), IPv4 rows in their own table with a 36-byte key (IPv6 rows: 60 bytes).
#include "parse_skb.h"
#include "dps_table.h"

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

/* The keys as whole words for the table (dps_table.h): 36 bytes + 4 of zero padding, 60 + 4. */
union drop_w4 {
	struct drop_key4 k;
	__u64 w[5];
};

union drop_w6 {
	struct drop_key6 k;
	__u64 w[8];
};

/* Slots of the tables (layout in dps_table.h): 64 bytes for IPv4, one cache line; IPv6 slots
 * are padded to two whole lines. */
struct drop_slot4 {
	struct dps_slot_head h;
	union drop_w4 key;
	__u64 count;
	__u64 bytes;
};

struct drop_slot6 {
	struct dps_slot_head h;
	union drop_w6 key;
	__u64 count;
	__u64 bytes;
	__u64 pad[5];
};

DPS_TABLE(dps_drops4, struct drop_slot4);
DPS_TABLE(dps_drops6, struct drop_slot6);

DPS_STATS_MAP(dps_drops_stats);

/* Bumped by userspace once per read: the recency clock of eviction. Alone in its section. */
volatile __u32 dps_drops_epoch SEC(".data.dps_epoch") = 1;

SEC("tp_btf/kfree_skb")
int BPF_PROG(dpscope_drops, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	union drop_w6 k6; /* the whole key, zero padded: IPv6 rows use it as it is */
	struct drop_key6 *k = &k6.k;
	struct net_device *dev;

	dps_count(&dps_drops_stats, DPS_STAT_EVENTS);
	__builtin_memset(&k6, 0, sizeof(k6));
	k->w.reason = reason;
	k->w.loc_lo = (__u64)location;
	k->w.loc_hi = (__u64)location >> 32;
	/* tp_btf: skb is a BTF pointer, its fields are direct (fault-safe) loads */
	dev = skb->dev;
	if (dev) {
		k->w.ifindex = dev->ifindex;
		k->w.netns = dps_dev_netns(dev);
	} else {
		k->w.ifindex = skb->skb_iif;
		k->w.netns = dps_sk_netns(skb->sk);
	}
	dps_parse_skb(skb, &k->t);
	if (k->t.family == DPS_AF_INET6) {
		dps_table_add(&dps_drops6, &dps_drops_stats, k6.w, 8, 2, dps_drops_epoch, skb->len,
			      0);
	} else {
		union drop_w4 k4;

		__builtin_memset(&k4, 0, sizeof(k4));
		k4.k.w = k->w;
		dps_tuple4_of(&k4.k.t, &k->t);
		dps_table_add(&dps_drops4, &dps_drops_stats, k4.w, 5, 2, dps_drops_epoch, skb->len,
			      0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
