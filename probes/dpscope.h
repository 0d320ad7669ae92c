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
	DPS_STAT_NEW = 1,	/* new keys inserted (LRU maps: inserted - live entries = evicted) */
	DPS_STAT_FAILED = 2,	/* inserts that failed (map full / -ENOMEM / lost races) */
	DPS_STAT_EVICTED = 3,	/* rows evicted, where the table counts them (dps_table.h) */
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

/* The same first 8 bytes with 4-byte addresses: the key of the IPv4 (and non-IP, family 0)
 * aggregation maps. Hash and compare cost grows with the key length, so IPv4 rows do not pay
 * for 24 bytes of IPv6 address space. */
struct dps_tuple4 {
	__u8 family;
	__u8 protocol;
	__u16 sport; /* host order */
	__u16 dport; /* host order */
	__u16 pad;
	__u32 saddr; /* network order */
	__u32 daddr;
};

static __always_inline void dps_tuple4_of(struct dps_tuple4 *o, const struct dps_tuple *t)
{
	o->family = t->family;
	o->protocol = t->protocol;
	o->sport = t->sport;
	o->dport = t->dport;
	__builtin_memcpy(&o->saddr, t->saddr, 4);
	__builtin_memcpy(&o->daddr, t->daddr, 4);
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
