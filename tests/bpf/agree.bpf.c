// SPDX-License-Identifier: GPL-2.0
// Test fixture: a spread of program and map types for the bpftool agreement test.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} agree_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} agree_lru_hash_with_long_name SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} agree_pcpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} agree_progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} agree_rb SEC(".maps");

SEC("xdp")
int agree_xdp_program_with_a_long_name(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&agree_hash, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	bpf_tail_call(ctx, &agree_progs, 0);
	return XDP_PASS;
}

SEC("tc")
int agree_tc(struct __sk_buff *skb)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&agree_pcpu, &k);
	if (v)
		*v += 1;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getpid")
int agree_tp(void *ctx)
{
	__u64 k = bpf_get_current_pid_tgid();
	__u32 one = 1;
	bpf_map_update_elem(&agree_lru_hash_with_long_name, &k, &one, BPF_ANY);
	__u32 *r = bpf_ringbuf_reserve(&agree_rb, sizeof(__u32), 0);
	if (r) {
		*r = 1;
		bpf_ringbuf_submit(r, 0);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
