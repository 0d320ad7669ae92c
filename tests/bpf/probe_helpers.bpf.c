// SPDX-License-Identifier: GPL-2.0
// Test helpers for the own-probe tests (not part of dpscope): a tcx program that drops UDP to
// one port (a real TC drop for the drops probe), an empty tcx program (the benchmark's
// baseline and the "other program on the hook" of the flows test), and the benchmark's floor of
// a keyed in-kernel aggregation, and an empty syscall tracepoint program (the syscall
// benchmark's baseline).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

const volatile __u16 drop_udp_port = 0; /* host order; set before load */

SEC("tcx/ingress")
int test_drop_udp(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *uh;

	if ((void *)(ip + 1) > data_end)
		return TCX_NEXT;
	if (eth->h_proto != bpf_htons(0x0800) || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return TCX_NEXT;
	uh = (void *)(ip + 1);
	if ((void *)(uh + 1) > data_end)
		return TCX_NEXT;
	if (uh->dest == bpf_htons(drop_udp_port))
		return TCX_DROP;
	return TCX_NEXT;
}

SEC("tcx/ingress")
int test_tcx_empty(struct __sk_buff *skb)
{
	return TCX_NEXT;
}

/* XDP that aborts UDP to drop_udp_port (a real xdp_exception) and passes everything else. */
SEC("xdp")
int test_xdp_abort(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *uh = (void *)(ip + 1);

	if ((void *)(uh + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(0x0800) || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return XDP_PASS;
	if (uh->dest == bpf_htons(drop_udp_port))
		return XDP_ABORTED;
	return XDP_PASS;
}

/* The floor of any keyed in-kernel aggregation (benches/probe_cost.rs): per dropped packet one
 * LRU hash lookup with a 4-byte key and two atomic adds, nothing parsed. Loaded with the other
 * helpers, attached only by the benchmark. */
struct floor_val {
	__u64 count;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct floor_val);
} test_floor_map SEC(".maps");

SEC("tp_btf/kfree_skb")
int BPF_PROG(test_lru_floor, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	__u32 k = reason;
	struct floor_val *v = bpf_map_lookup_elem(&test_floor_map, &k);
	struct floor_val nv = {};

	if (!v) {
		bpf_map_update_elem(&test_floor_map, &k, &nv, BPF_NOEXIST);
		return 0;
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->bytes, skb->len);
	return 0;
}

// The syscall benchmark's baseline: an empty program on the tracepoint dpscope's denial
// fallback uses for openat.
SEC("tracepoint/syscalls/sys_exit_openat")
int test_tp_empty(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
