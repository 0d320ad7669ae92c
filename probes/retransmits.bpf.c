// SPDX-License-Identifier: GPL-2.0
// dpscope: TCP retransmits and resets per flow, aggregated in the kernel. Observe only.
#include "parse_skb.h"

struct rtx_key {
	__u32 netns;
	struct dps_tuple t; /* local = src, remote = dst */
};

struct rtx_val {
	__u64 retransmits; /* segments, as tcpi_total_retrans and TcpRetransSegs count them */
	__u64 failed;	   /* retransmit attempts the stack could not send */
	__u64 resets_sent;
	__u64 resets_received;
	__u64 last_ns;
	__u32 state;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct rtx_key);
	__type(value, struct rtx_val);
} dps_rtx SEC(".maps");

DPS_STATS_MAP(dps_rtx_stats);

static __always_inline int sk_tuple(const struct sock *sk, struct rtx_key *k)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	k->netns = dps_sk_netns(sk);
	k->t.protocol = IPPROTO_TCP;
	k->t.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	k->t.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == DPS_AF_INET) {
		__u32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);

		k->t.family = DPS_AF_INET;
		__builtin_memcpy(k->t.saddr, &s, 4);
		__builtin_memcpy(k->t.daddr, &d, 4);
		return 0;
	}
	if (family == DPS_AF_INET6) {
		k->t.family = DPS_AF_INET6;
		BPF_CORE_READ_INTO(&k->t.saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&k->t.daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		return 0;
	}
	return -1;
}

static __always_inline struct rtx_val *entry(struct rtx_key *k)
{
	struct rtx_val *v = bpf_map_lookup_elem(&dps_rtx, k);
	struct rtx_val zero = {};

	if (v)
		return v;
	if (bpf_map_update_elem(&dps_rtx, k, &zero, BPF_NOEXIST) == 0)
		dps_count(&dps_rtx_stats, DPS_STAT_NEW);
	v = bpf_map_lookup_elem(&dps_rtx, k);
	if (!v)
		dps_count(&dps_rtx_stats, DPS_STAT_FAILED);
	return v;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(dpscope_rexmit, const struct sock *sk, const struct sk_buff *skb, int err)
{
	struct rtx_key k = {};
	struct rtx_val *v;
	__u16 segs = 0;

	dps_count(&dps_rtx_stats, DPS_STAT_EVENTS);
	if (!sk || sk_tuple(sk, &k))
		return 0;
	v = entry(&k);
	if (!v)
		return 0;
	if (err) {
		__sync_fetch_and_add(&v->failed, 1);
		return 0;
	}
	/* tcp_skb_pcount(): TCP_SKB_CB(skb)->tcp_gso_segs, at offset 8 of skb->cb */
	bpf_probe_read_kernel(&segs, sizeof(segs), (void *)skb->cb + 8);
	__sync_fetch_and_add(&v->retransmits, segs ? segs : 1);
	v->last_ns = bpf_ktime_get_ns();
	v->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(dpscope_rst_tx, const struct sock *sk, const struct sk_buff *skb)
{
	struct rtx_key k = {};
	struct rtx_val *v;

	dps_count(&dps_rtx_stats, DPS_STAT_EVENTS);
	if (sk) {
		if (sk_tuple(sk, &k))
			return 0;
		k.t.protocol = IPPROTO_TCP;
	} else if (skb) {
		/* No socket: the reset answers this incoming segment; key it from our side. */
		struct dps_tuple in = {};

		if (dps_parse_skb(skb, &in))
			return 0;
		k.netns = dps_dev_netns(skb->dev);
		k.t.family = in.family;
		k.t.protocol = IPPROTO_TCP;
		k.t.sport = in.dport;
		k.t.dport = in.sport;
		__builtin_memcpy(k.t.saddr, in.daddr, 16);
		__builtin_memcpy(k.t.daddr, in.saddr, 16);
	} else {
		return 0;
	}
	v = entry(&k);
	if (!v)
		return 0;
	__sync_fetch_and_add(&v->resets_sent, 1);
	v->last_ns = bpf_ktime_get_ns();
	if (sk)
		v->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(dpscope_rst_rx, struct sock *sk)
{
	struct rtx_key k = {};
	struct rtx_val *v;

	dps_count(&dps_rtx_stats, DPS_STAT_EVENTS);
	if (!sk || sk_tuple(sk, &k))
		return 0;
	v = entry(&k);
	if (!v)
		return 0;
	__sync_fetch_and_add(&v->resets_received, 1);
	v->last_ns = bpf_ktime_get_ns();
	v->state = BPF_CORE_READ(sk, __sk_common.skc_state);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
