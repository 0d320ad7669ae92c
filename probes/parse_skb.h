/* SPDX-License-Identifier: GPL-2.0 */
/* dpscope: the IP and transport headers of an skb, for tracing (tp_btf) programs. Included only
 * by the objects that parse skbs (drops, retransmits): it brings a load-time switch with it. */
#ifndef DPS_PARSE_SKB_H
#define DPS_PARSE_SKB_H

#include "dpscope.h"

/* Set by the loader before load when the direct loads below are refused (kernels before 6.2
 * have no bpf_rdonly_cast): packet bytes are then copied with bpf_probe_read_kernel, which costs
 * a helper call per header. Alone in its section, so the loader finds it at offset 0 of the map
 * ".rodata.dps_hdr". Read-only after load: the verifier drops the branch not taken. */
const volatile bool dps_probe_read_headers SEC(".rodata.dps_hdr") = false;

/* Direct loads: bpf_core_cast gives an untrusted BTF pointer whose loads are fault-safe
 * (PROBE_MEM, a fault reads 0) and cost a few instructions instead of a helper call. */
static __always_inline int dps_parse_direct(unsigned char *head, __u16 nh, __u16 th,
					    struct dps_tuple *t)
{
	const struct iphdr *ip = bpf_core_cast(head + nh, struct iphdr);
	__u16 l4off;

	if (ip->version == 4) {
		__u32 s = ip->saddr, d = ip->daddr;

		t->family = DPS_AF_INET;
		t->protocol = ip->protocol;
		__builtin_memcpy(t->saddr, &s, 4);
		__builtin_memcpy(t->daddr, &d, 4);
		l4off = nh + ip->ihl * 4;
		/* Fragments after the first carry no ports. */
		if (ip->frag_off & bpf_htons(0x1fff))
			return 0;
	} else if (ip->version == 6) {
		const struct ipv6hdr *ip6 = bpf_core_cast(head + nh, struct ipv6hdr);

		t->family = DPS_AF_INET6;
		t->protocol = ip6->nexthdr;
		__builtin_memcpy(t->saddr, &ip6->saddr, 16);
		__builtin_memcpy(t->daddr, &ip6->daddr, 16);
		l4off = nh + sizeof(struct ipv6hdr);
	} else {
		return -1;
	}
	/* The transport header offset is the kernel's when set past the network header. */
	if (th != (__u16)~0U && th > nh)
		l4off = th;
	if (t->protocol == IPPROTO_TCP || t->protocol == IPPROTO_UDP) {
		/* TCP and UDP both start with the two ports */
		const struct udphdr *uh = bpf_core_cast(head + l4off, struct udphdr);

		t->sport = bpf_ntohs(uh->source);
		t->dport = bpf_ntohs(uh->dest);
	} else if (t->protocol == IPPROTO_ICMP || t->protocol == 58 /* ICMPv6 */) {
		const struct icmphdr *ih = bpf_core_cast(head + l4off, struct icmphdr);

		/* type and code in the port fields, as conntrack tools print them */
		t->sport = ih->type;
		t->dport = ih->code;
	}
	return 0;
}

/* Copies with bpf_probe_read_kernel: the fallback, same results. */
static __always_inline int dps_parse_copy(unsigned char *head, __u16 nh, __u16 th,
					  struct dps_tuple *t)
{
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} h;
	__u16 l4off;

	if (bpf_probe_read_kernel(&h.v4, sizeof(h.v4), head + nh))
		return -1;
	if (h.v4.version == 4) {
		t->family = DPS_AF_INET;
		t->protocol = h.v4.protocol;
		__builtin_memcpy(t->saddr, &h.v4.saddr, 4);
		__builtin_memcpy(t->daddr, &h.v4.daddr, 4);
		l4off = nh + h.v4.ihl * 4;
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

		if (bpf_probe_read_kernel(tc, sizeof(tc), head + l4off) == 0) {
			t->sport = tc[0];
			t->dport = tc[1];
		}
	}
	return 0;
}

/* Parse the IP and transport headers of an skb from skb->head + the header offsets. Returns 0
 * when a tuple was filled. skb fields themselves are direct BTF loads (tp_btf). */
static __always_inline int dps_parse_skb(const struct sk_buff *skb, struct dps_tuple *t)
{
	unsigned char *head = skb->head;
	__u16 nh = skb->network_header;
	__u16 th = skb->transport_header;

	if (!head || nh == (__u16)~0U)
		return -1;
	if (dps_probe_read_headers)
		return dps_parse_copy(head, nh, th, t);
	return dps_parse_direct(head, nh, th, t);
}

#endif
