// SPDX-License-Identifier: GPL-2.0
// Test helpers for the own-probe tests (not part of dpscope): a tcx program that drops UDP to
// one port (a real TC drop for the drops probe), and an empty tcx program (the benchmark's
// baseline and the "other program on the hook" of the flows test).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

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

char LICENSE[] SEC("license") = "GPL";
