// SPDX-License-Identifier: GPL-2.0
/* Fixture for tests/kernel_symbols.rs: a tc program whose translated instructions call helpers
 * of several kinds (plain helpers, one whose kernel function has another name, map operations
 * the verifier rewrites into direct calls of the map type's functions, a tail call) and kfuncs
 * (an open-coded loop). Loaded, never attached. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} sym_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} sym_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} sym_jmp SEC(".maps");

SEC("tc")
int sym_calls(struct __sk_buff *skb)
{
	__u32 k = skb->mark;
	__u64 now = bpf_ktime_get_ns();
	__u64 *v;
	__u8 b = 0;
	int i;

	v = bpf_map_lookup_elem(&sym_hash, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&sym_hash, &k, &now, BPF_ANY);
	bpf_map_delete_elem(&sym_array, &k);
	now += bpf_get_prandom_u32();
	bpf_for(i, 0, 3)
		now += i;
	if (bpf_skb_store_bytes(skb, 0, &b, 1, 0))
		return 2;
	bpf_tail_call(skb, &sym_jmp, 0);
	return bpf_redirect(skb->ifindex, (__u32)now & 1);
}

char LICENSE[] SEC("license") = "GPL";
