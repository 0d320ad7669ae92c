// SPDX-License-Identifier: GPL-2.0
// Cilium-shaped tail-call paths for dpscope's rooted tail-call graph test: the entry program
// attached to a pod's veth, tail programs with Cilium's function names tail-calling through the
// endpoint's call map at 1.18/main's CILIUM_CALL_* indices, and the policy hop through
// cilium_call_policy at this endpoint's id, read from the program's config as Cilium 1.17+
// does (CONFIG(endpoint_id) in .rodata.config, LXC_ID in older releases).
//
//   cil_from_container → 7 tail_handle_ipv4 → 30 tail_ipv4_ct_egress → 26 tail_handle_ipv4_cont
//     → cilium_call_policy[endpoint id] cil_lxc_policy → 13 tail_ipv4_to_endpoint → 1 (empty)
//
// tail_handle_ipv4's call site has its index register set on one branch only (29 or 30): its
// index is not known statically. Every program passes packets unchanged (TCX_NEXT).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define TCX_NEXT -1

#define CALL_DROP_NOTIFY 1
#define CALL_IPV4_FROM_LXC 7
#define CALL_IPV4_TO_ENDPOINT 13
#define CALL_IPV4_FROM_LXC_CONT 26
#define CALL_IPV4_CT_INGRESS_POLICY_ONLY 29
#define CALL_IPV4_CT_EGRESS 30

/* Cilium's DECLARE_CONFIG(__u16, endpoint_id, ...): set by the loader before load. */
__attribute__((section(".rodata.config"), used)) volatile const __u16 __config_endpoint_id;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 49);
	__type(key, __u32);
	__type(value, __u32);
} cilium_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 65535);
	__type(key, __u32);
	__type(value, __u32);
} cilium_call_policy SEC(".maps");

SEC("tcx/ingress")
int cil_from_container(struct __sk_buff *skb)
{
	/* Uses its config, as Cilium's entry programs do. */
	skb->cb[0] = __config_endpoint_id;
	bpf_tail_call(skb, &cilium_calls, CALL_IPV4_FROM_LXC);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_handle_ipv4(struct __sk_buff *skb)
{
	if (skb->mark == 0x1234)
		bpf_tail_call(skb, &cilium_calls, CALL_IPV4_CT_INGRESS_POLICY_ONLY);
	else
		bpf_tail_call(skb, &cilium_calls, CALL_IPV4_CT_EGRESS);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_ipv4_ct_egress(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &cilium_calls, CALL_IPV4_FROM_LXC_CONT);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_handle_ipv4_cont(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &cilium_call_policy, __config_endpoint_id);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_handle_ipv6_cont(struct __sk_buff *skb)
{
	return TCX_NEXT;
}

SEC("tcx/ingress")
int cil_lxc_policy(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &cilium_calls, CALL_IPV4_TO_ENDPOINT);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int tail_ipv4_to_endpoint(struct __sk_buff *skb)
{
	bpf_tail_call(skb, &cilium_calls, CALL_DROP_NOTIFY);
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

/* Only main has slot 48 (IPV4_POLICY_DENIED): it tells a 49-slot main array from 1.15's. */
SEC("tcx/ingress")
int tail_policy_denied_ipv4(struct __sk_buff *skb)
{
	return TCX_NEXT;
}

char LICENSE[] SEC("license") = "GPL";
