// SPDX-License-Identifier: GPL-2.0
// Names kernel addresses in the kernel, so that naming the helpers programs call does not need
// /proc/kallsyms (120,000+ symbols, ~70 ms of kernel time to format). One syscall program, run
// with BPF_PROG_RUN:
//  * looks up __bpf_call_base (helper and kfunc calls in translated instructions are offsets
//    from it) and writes it into the run's context (the kernel copies a syscall program's
//    context back);
//  * for each of the first `count` offsets in dpscope_sym_offs, formats `%pS` of
//    __bpf_call_base + offset into the same slot of dpscope_sym_text: the kernel's own address
//    lookup (a binary search, then a module's table) gives "name+0xOFF/0xSIZE [module]", or the
//    bare address when no symbol holds it.
// (An iter/bpf_map_elem iterator over the offsets would do the same, but some kernels refuse
// map-element iterators; a syscall program needs nothing the kernel-side loader does not.)
// It reads nothing but its own maps and writes nothing but them and its context.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Offsets per run; userspace runs it again for more. */
#define SYM_SLOTS 256
/* Room for one formatted symbol (KSYM_NAME_LEN is 512, plus offset, size and module). */
#define SYM_TEXT 600

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYM_SLOTS);
	__type(key, __u32);
	__type(value, __s32);
} dpscope_sym_offs SEC(".maps");

struct sym_text {
	/* What bpf_snprintf returned: the length with the NUL (more than SYM_TEXT: cut), or a
	 * negative error. */
	__s32 len;
	__u32 pad;
	char text[SYM_TEXT];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYM_SLOTS);
	__type(key, __u32);
	__type(value, struct sym_text);
} dpscope_sym_text SEC(".maps");

/* The run's context: count in, call base (or the lookup's error) out. */
struct sym_ctx {
	__u64 call_base;
	__s64 err;
	__u32 count;
	__u32 pad;
};

static long name_one(__u32 i, void *data)
{
	static const char fmt[] = "%pS";
	__u64 base = *(__u64 *)data;
	struct sym_text *out;
	__u64 addr[1];
	__s32 *off;

	off = bpf_map_lookup_elem(&dpscope_sym_offs, &i);
	out = bpf_map_lookup_elem(&dpscope_sym_text, &i);
	if (!off || !out)
		return 1;
	addr[0] = base + (__s64)*off;
	out->len = bpf_snprintf(out->text, sizeof(out->text), fmt, addr, sizeof(addr));
	return 0;
}

SEC("syscall")
int dpscope_symbols(struct sym_ctx *ctx)
{
	static const char name[] = "__bpf_call_base";
	__u64 base = 0;
	__u32 n = ctx->count;

	ctx->err = bpf_kallsyms_lookup_name(name, sizeof(name), 0, &base);
	ctx->call_base = base;
	if (ctx->err || !base)
		return 0;
	if (n > SYM_SLOTS)
		n = SYM_SLOTS;
	bpf_loop(n, name_one, &base, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
