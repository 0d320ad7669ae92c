// SPDX-License-Identifier: GPL-2.0
// dpscope: opt-in flow counters on chosen interfaces. The tcx programs ALWAYS return TCX_NEXT:
// they count, they never change a verdict. (No XDP program: holding an interface's XDP hook
// would keep the node's own agent from attaching there; --xdp-iface uses tcx ingress.)
#include "dps_table.h"

#define DPS_DIR_INGRESS 0
#define DPS_DIR_EGRESS 1

/* IPv6 rows; the layout the parsers fill. */
struct flow_key {
	__u32 ifindex;
	__u8 direction;
	__u8 pad[3];
	struct dps_tuple t;
};

/* IPv4 rows, and packets whose headers were not parsed (family 0): a 24-byte key instead of 48
 * (hash and compare cost grows with the key). */
struct flow_key4 {
	__u32 ifindex;
	__u8 direction;
	__u8 pad[3];
	struct dps_tuple4 t;
};

/* The keys as whole words for the table (dps_table.h): 24 bytes (3 words) and 48 (6). */
union flow_w4 {
	struct flow_key4 k;
	__u64 w[3];
};

union flow_w6 {
	struct flow_key k;
	__u64 w[6];
};

/* Slots of the tables (layout in dps_table.h; counters: packets, bytes, OR of every TCP flag
 * byte seen): 64 bytes for IPv4, one cache line; IPv6 slots are padded to two whole lines. */
struct flow_slot4 {
	struct dps_slot_head h;
	union flow_w4 key;
	__u64 packets;
	__u64 bytes;
	__u64 tcp_flags;
	__u64 pad[1];
};

struct flow_slot6 {
	struct dps_slot_head h;
	union flow_w6 key;
	__u64 packets;
	__u64 bytes;
	__u64 tcp_flags;
	__u64 pad[6];
};

DPS_TABLE(dps_flows4, struct flow_slot4);
DPS_TABLE(dps_flows6, struct flow_slot6);

DPS_STATS_MAP(dps_flows_stats);

/* Bumped by userspace once per read: the recency clock of eviction. Alone in its section. */
volatile __u32 dps_flows_epoch SEC(".data.dps_epoch") = 1;

/* Parse from packet bytes read with a loader (skb or xdp). off = L3 offset. */
static __always_inline int parse_l3(void *data, void *data_end, __u16 eth_proto, __u32 off,
				    struct flow_key *k, __u8 *flags)
{
	__u32 l4;

	if (eth_proto == bpf_htons(DPS_ETH_P_IP)) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end)
			return -1;
		k->t.family = DPS_AF_INET;
		k->t.protocol = ip->protocol;
		__builtin_memcpy(k->t.saddr, &ip->saddr, 4);
		__builtin_memcpy(k->t.daddr, &ip->daddr, 4);
		if (ip->frag_off & bpf_htons(0x1fff))
			return 0;
		l4 = off + (ip->ihl & 0xf) * 4;
	} else if (eth_proto == bpf_htons(DPS_ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		k->t.family = DPS_AF_INET6;
		k->t.protocol = ip6->nexthdr;
		__builtin_memcpy(k->t.saddr, &ip6->saddr, 16);
		__builtin_memcpy(k->t.daddr, &ip6->daddr, 16);
		l4 = off + sizeof(*ip6);
	} else {
		return -1;
	}
	if (l4 > 1500)
		return 0;
	if (k->t.protocol == IPPROTO_TCP) {
		struct tcphdr *th = data + l4;

		if ((void *)(th + 1) > data_end)
			return 0;
		k->t.sport = bpf_ntohs(th->source);
		k->t.dport = bpf_ntohs(th->dest);
		*flags = ((__u8 *)th)[13];
	} else if (k->t.protocol == IPPROTO_UDP) {
		struct udphdr *uh = data + l4;

		if ((void *)(uh + 1) > data_end)
			return 0;
		k->t.sport = bpf_ntohs(uh->source);
		k->t.dport = bpf_ntohs(uh->dest);
	}
	return 0;
}

/* Add one packet to the key's row, creating it when new (dps_table.h: no kernel call when the
 * row exists). No clock read: nothing downstream uses a per-flow timestamp, and it was a third
 * of the probe's cost. */
static __always_inline void account(struct flow_key *k, __u32 len, __u8 flags)
{
	dps_count(&dps_flows_stats, DPS_STAT_EVENTS);
	if (k->t.family == DPS_AF_INET6) {
		dps_table_add(&dps_flows6, &dps_flows_stats, ((union flow_w6 *)k)->w, 6, 3,
			      dps_flows_epoch, len, flags);
	} else {
		union flow_w4 k4;

		__builtin_memset(&k4, 0, sizeof(k4));
		k4.k.ifindex = k->ifindex;
		k4.k.direction = k->direction;
		dps_tuple4_of(&k4.k.t, &k->t);
		dps_table_add(&dps_flows4, &dps_flows_stats, k4.w, 3, 3, dps_flows_epoch, len,
			      flags);
	}
}

/* tcx path: parse in place when the headers are in the linear area (the common case);
 * otherwise copy them with bpf_skb_load_bytes. Neither changes the packet. */
static __always_inline void count_skb(struct __sk_buff *skb, __u8 dir)
{
	struct flow_key k __attribute__((aligned(8))) = {}; /* read as words by the table */
	__u8 flags = 0;
	__u32 l4 = 0;
	__u32 proto = skb->protocol;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	k.ifindex = skb->ifindex;
	k.direction = dir;
	if (parse_l3(data, data_end, proto, 14, &k, &flags) == 0 && (k.t.sport ||
	    (k.t.protocol != IPPROTO_TCP && k.t.protocol != IPPROTO_UDP))) {
		account(&k, skb->len, flags);
		return;
	}
	__builtin_memset(&k.t, 0, sizeof(k.t));
	flags = 0;
	/* veth and other Ethernet devices: L3 starts after the 14-byte Ethernet header. */
	if (proto == bpf_htons(DPS_ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 14, &ip, sizeof(ip)) == 0) {
			k.t.family = DPS_AF_INET;
			k.t.protocol = ip.protocol;
			__builtin_memcpy(k.t.saddr, &ip.saddr, 4);
			__builtin_memcpy(k.t.daddr, &ip.daddr, 4);
			if (!(ip.frag_off & bpf_htons(0x1fff)))
				l4 = 14 + (ip.ihl & 0xf) * 4;
		}
	} else if (proto == bpf_htons(DPS_ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 14, &ip6, sizeof(ip6)) == 0) {
			k.t.family = DPS_AF_INET6;
			k.t.protocol = ip6.nexthdr;
			__builtin_memcpy(k.t.saddr, &ip6.saddr, 16);
			__builtin_memcpy(k.t.daddr, &ip6.daddr, 16);
			l4 = 14 + sizeof(ip6);
		}
	}
	if (l4 && k.t.protocol == IPPROTO_TCP) {
		__u8 th[14];

		if (bpf_skb_load_bytes(skb, l4, th, sizeof(th)) == 0) {
			k.t.sport = (th[0] << 8) | th[1];
			k.t.dport = (th[2] << 8) | th[3];
			flags = th[13];
		}
	} else if (l4 && k.t.protocol == IPPROTO_UDP) {
		__u8 uh[4];

		if (bpf_skb_load_bytes(skb, l4, uh, sizeof(uh)) == 0) {
			k.t.sport = (uh[0] << 8) | uh[1];
			k.t.dport = (uh[2] << 8) | uh[3];
		}
	}
	account(&k, skb->len, flags);
}

SEC("tcx/ingress")
int dpscope_flow_in(struct __sk_buff *skb)
{
	count_skb(skb, DPS_DIR_INGRESS);
	return TCX_NEXT;
}

SEC("tcx/egress")
int dpscope_flow_eg(struct __sk_buff *skb)
{
	count_skb(skb, DPS_DIR_EGRESS);
	return TCX_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
