/* SPDX-License-Identifier: GPL-2.0 */
/* dpscope: shared pieces of the own probes (observe only: nothing here changes a packet). */
#ifndef DPSCOPE_H
#define DPSCOPE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define DPS_AF_INET 2
#define DPS_AF_INET6 10
#define DPS_ETH_P_IP 0x0800
#define DPS_ETH_P_IPV6 0x86DD

/* Per-CPU counters kept next to every aggregation map (index = enum dps_stat). */
enum dps_stat {
	DPS_STAT_EVENTS = 0,	/* events seen */
	DPS_STAT_NEW = 1,	/* new keys inserted (inserted - live entries = evicted by LRU) */
	DPS_STAT_FAILED = 2,	/* inserts that failed (map full / -ENOMEM) */
	DPS_STAT_MAX = 4,
};

#define DPS_STATS_MAP(name)                                                  \
	struct {                                                             \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                     \
		__uint(max_entries, DPS_STAT_MAX);                           \
		__type(key, __u32);                                          \
		__type(value, __u64);                                        \
	} name SEC(".maps")

static __always_inline void dps_count(void *stats, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(stats, &idx);

	if (v)
		*v += 1;
}

/* A 5-tuple in network-neutral form: addresses as 16 bytes (IPv4 in the first 4). */
struct dps_tuple {
	__u8 family;
	__u8 protocol;
	__u16 sport; /* host order */
	__u16 dport; /* host order */
	__u16 pad;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* Parse the IP and transport headers of an skb from skb->head + the header offsets.
 * Returns 0 when a tuple was filled. For tp_btf programs: skb fields are read with direct
 * (BTF, fault-safe) loads; only packet bytes go through bpf_probe_read_kernel. */
static __always_inline int dps_parse_skb(const struct sk_buff *skb, struct dps_tuple *t)
{
	unsigned char *head = skb->head;
	__u16 nh = skb->network_header;
	__u16 th = skb->transport_header;
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} h;
	__u16 l4off;

	if (!head || nh == (__u16)~0U)
		return -1;
	if (bpf_probe_read_kernel(&h.v4, sizeof(h.v4), head + nh))
		return -1;
	if (h.v4.version == 4) {
		t->family = DPS_AF_INET;
		t->protocol = h.v4.protocol;
		__builtin_memcpy(t->saddr, &h.v4.saddr, 4);
		__builtin_memcpy(t->daddr, &h.v4.daddr, 4);
		l4off = nh + h.v4.ihl * 4;
		/* Fragments after the first carry no ports. */
		if (h.v4.frag_off & bpf_htons(0x1fff))
			return 0;
	} else if (h.v4.version == 6) {
		if (bpf_probe_read_kernel(&h.v6, sizeof(h.v6), head + nh))
			return -1;
		t->family = DPS_AF_INET6;
		t->protocol = h.v6.nexthdr;
		__builtin_memcpy(t->saddr, &h.v6.saddr, 16);
		__builtin_memcpy(t->daddr, &h.v6.daddr, 16);
		l4off = nh + sizeof(struct ipv6hdr);
	} else {
		return -1;
	}
	/* The transport header offset is the kernel's when set past the network header. */
	if (th != (__u16)~0U && th > nh)
		l4off = th;
	if (t->protocol == IPPROTO_TCP || t->protocol == IPPROTO_UDP) {
		__u16 ports[2];

		if (bpf_probe_read_kernel(ports, sizeof(ports), head + l4off) == 0) {
			t->sport = bpf_ntohs(ports[0]);
			t->dport = bpf_ntohs(ports[1]);
		}
	} else if (t->protocol == IPPROTO_ICMP || t->protocol == 58 /* ICMPv6 */) {
		__u8 tc[2];

		/* type and code in the port fields, as conntrack tools print them */
		if (bpf_probe_read_kernel(tc, sizeof(tc), head + l4off) == 0) {
			t->sport = tc[0];
			t->dport = tc[1];
		}
	}
	return 0;
}

/* Network namespace inode of a device / socket (0 when unknown); direct BTF loads. */
static __always_inline __u32 dps_dev_netns(const struct net_device *dev)
{
	if (!dev)
		return 0;
	return dev->nd_net.net->ns.inum;
}

static __always_inline __u32 dps_sk_netns(const struct sock *sk)
{
	if (!sk)
		return 0;
	return sk->__sk_common.skc_net.net->ns.inum;
}

#endif
