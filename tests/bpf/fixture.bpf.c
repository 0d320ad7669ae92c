// SPDX-License-Identifier: GPL-2.0
// Test fixture object for dpscope's integration tests: an XDP program, two legacy tc programs
// with names longer than the kernel's 15 characters, a tcx program, and a BTF-described hash
// map. Every program is an observer: it passes packets on unchanged.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TC_ACT_OK 0
#define TCX_NEXT -1

struct fixture_key {
	__u32 ip;
	__u16 port;
	__u8 proto;
	__u8 pad;
};

struct fixture_val {
	__u64 packets;
	__u64 bytes;
	char label[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct fixture_key);
	__type(value, struct fixture_val);
} fixture_btf_hash SEC(".maps");

/* Per-program packet counters: slot 0 xdp, 1 tc first, 2 tc second, 3 tcx. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} fixture_counts SEC(".maps");

static __always_inline void count(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&fixture_counts, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_pass_fixture(struct xdp_md *ctx)
{
	count(0);
	return XDP_PASS;
}

SEC("tc")
int fixture_tc_ingress_first(struct __sk_buff *skb)
{
	count(1);
	return TC_ACT_OK;
}

SEC("tc")
int fixture_tc_ingress_second(struct __sk_buff *skb)
{
	struct fixture_key k = {
		.ip = skb->ifindex,
		.port = (__u16)skb->vlan_tci,
		.proto = (__u8)skb->protocol,
	};
	struct fixture_val *v = bpf_map_lookup_elem(&fixture_btf_hash, &k);

	count(2);
	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, skb->len);
	}
	return TC_ACT_OK;
}

SEC("tcx/ingress")
int fixture_tcx_ingress(struct __sk_buff *skb)
{
	count(3);
	return TCX_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
