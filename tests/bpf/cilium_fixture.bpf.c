// SPDX-License-Identifier: GPL-2.0
// Cilium-shaped tail-call fixture for dpscope's Cilium integration test: an entry program with
// Cilium's name (cil_from_container) and tail programs with Cilium's function names, tail
// calling each other through a per-endpoint call map and the global policy call map at
// constant indices. The test inserts them at the slot numbers of the layout it builds.
// Every program passes packets unchanged (TCX_NEXT).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TCX_NEXT -1

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 50);
	__type(key, __u32);
	__type(value, __u32);
} cilium_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 65535);
	__type(key, __u32);
	__type(value, __u32);
} cilium_call_policy SEC(".maps");

/* Index 7 = IPV4_FROM_LXC in every release. */
SEC("tcx/ingress")
int cil_from_container(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &cilium_calls, 7);
	return TCX_NEXT;
}

/* IPV4_CT_EGRESS is 29 up to 1.17 and 30 from 1.18: call both, so that the one the layout
 * leaves empty shows up as an empty slot that is tail-called. */
SEC("tcx/ingress")
int tail_handle_ipv4(struct __sk_buff *skb)
{
	if (skb->mark == 0x1234)
		bpf_tail_call(skb, &cilium_calls, 29);
	else
		bpf_tail_call(skb, &cilium_calls, 30);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_ipv4_ct_egress(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &cilium_call_policy, 403);
	bpf_tail_call(skb, &cilium_calls, 1);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_drop_notify(struct __sk_buff *skb)
{
	return TCX_NEXT;
}

SEC("tcx/ingress")
int __send_drop_notify(struct __sk_buff *skb)
{
	return TCX_NEXT;
}

SEC("tcx/ingress")
int cil_lxc_policy(struct __sk_buff *skb)
{
	return TCX_NEXT;
}

SEC("tcx/ingress")
int handle_policy(struct __sk_buff *skb)
{
	return TCX_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
