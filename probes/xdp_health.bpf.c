// SPDX-License-Identifier: GPL-2.0
// dpscope: XDP exceptions (aborted / illegal actions) and redirect errors of the XDP programs
// already on the node, per ifindex and program. Attaches to tracepoints only, never to an
// interface. Observe only.
#include "dpscope.h"

/* action: the XDP action for xdp_exception; DPS_XDP_REDIRECT_ERR for redirect errors */
#define DPS_XDP_REDIRECT_ERR 100

struct xdp_key {
	__u32 netns;
	__u32 ifindex;
	__u32 prog_id;
	__u32 action;
	__s32 err;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct xdp_key);
	__type(value, __u64);
} dps_xdp SEC(".maps");

DPS_STATS_MAP(dps_xdp_stats);

static __always_inline void bump(const struct net_device *dev, const struct bpf_prog *prog,
				 __u32 action, int err)
{
	struct xdp_key k = {};
	__u64 one = 1, *v;

	dps_count(&dps_xdp_stats, DPS_STAT_EVENTS);
	if (dev) {
		k.ifindex = dev->ifindex;
		k.netns = dps_dev_netns(dev);
	}
	if (prog)
		k.prog_id = prog->aux->id;
	k.action = action;
	k.err = err;
	v = bpf_map_lookup_elem(&dps_xdp, &k);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return;
	}
	if (bpf_map_update_elem(&dps_xdp, &k, &one, BPF_NOEXIST) == 0)
		dps_count(&dps_xdp_stats, DPS_STAT_NEW);
	else if ((v = bpf_map_lookup_elem(&dps_xdp, &k)))
		__sync_fetch_and_add(v, 1);
	else
		dps_count(&dps_xdp_stats, DPS_STAT_FAILED);
}

SEC("tp_btf/xdp_exception")
int BPF_PROG(dpscope_xdp_exc, const struct net_device *dev, const struct bpf_prog *xdp, u32 act)
{
	bump(dev, xdp, act, 0);
	return 0;
}

SEC("tp_btf/xdp_redirect_err")
int BPF_PROG(dpscope_xdp_rerr, const struct net_device *dev, const struct bpf_prog *xdp,
	     const void *tgt, int err)
{
	bump(dev, xdp, DPS_XDP_REDIRECT_ERR, err);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
