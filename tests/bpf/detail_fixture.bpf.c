// SPDX-License-Identifier: GPL-2.0
/* Fixture for tests/kernel_details.rs: a tc program calling known helpers, and maps with BTF
 * structs, per-CPU counters, a prog_array and a large hash map. Loaded, never attached. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum detail_verdict {
	DETAIL_ALLOW = 1,
	DETAIL_DENY = 2,
	DETAIL_AUDIT = 7,
};

struct detail_key {
	__u32 ip;
	__u16 port;
	__u8 proto;
	__s8 delta;
};

struct detail_value {
	__u64 packets;
	__s32 score;
	char label[12];
	enum detail_verdict verdict;
	__u32 flags : 3;
	__u32 level : 5;
	__u32 big : 24;
	_Bool seen;
	__u16 ports[3];
	void *ptr;
};

struct detail_counters {
	__u64 hits;
	__u64 misses;
	__u32 small;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct detail_key);
	__type(value, struct detail_value);
} detail_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct detail_counters);
} detail_pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} detail_jmp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1000000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, __u64);
} detail_big SEC(".maps");

SEC("tc")
int detail_tail(struct __sk_buff *skb)
{
	return 0;
}

SEC("tc")
int detail_main(struct __sk_buff *skb)
{
	struct detail_key k = {};
	struct detail_value *v;
	struct detail_counters *c;
	__u32 zero = 0;
	__u8 b = 0;

	k.ip = skb->mark;
	k.port = (__u16)skb->protocol;
	v = bpf_map_lookup_elem(&detail_flows, &k);
	if (v)
		__sync_fetch_and_add(&v->packets, 1);
	c = bpf_map_lookup_elem(&detail_pcpu, &zero);
	if (c)
		c->hits++;
	if (bpf_skb_store_bytes(skb, 0, &b, 1, 0))
		return 2;
	bpf_tail_call(skb, &detail_jmp, 0);
	return bpf_redirect(skb->ifindex, 0);
}

/* Exercises more of the instruction set for the disassembler: globals (map value loads),
 * an atomic add, byte swaps, divisions, shifts, 32-bit ops and a bpf-to-bpf call. */
__u64 detail_global;
__u32 detail_global32;

static __attribute__((noinline)) __u64 detail_mix(__u64 a, __u64 b)
{
	__s64 s = (__s64)a;

	if (b == 0)
		return a;
	return (a / b) + (a % b) + (__u64)(s >> 3) + (a << 7) + ((__u32)a >> 2);
}

SEC("tc")
int detail_ops(struct __sk_buff *skb)
{
	__u64 old, got;
	__u32 m = skb->mark;
	__u16 proto = skb->protocol;

	/* clang 14 targets cpu v1 by default: only the non-fetching atomic add is available. */
	__sync_fetch_and_add(&detail_global, 3);
	__sync_fetch_and_add(&detail_global32, 1);
	old = detail_global;
	got = old + detail_global32;
	got += __builtin_bswap16(proto);
	got += __builtin_bswap32(m);
	if ((__u32)got > 100 && m != 5)
		got = detail_mix(got, m);
	if ((__s32)m < -3)
		got ^= 0xabcdef0123ull;
	return got & 1;
}

char LICENSE[] SEC("license") = "GPL";
