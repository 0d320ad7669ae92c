// SPDX-License-Identifier: GPL-2.0
// dpscope: syscalls that failed with EPERM or EACCES, whatever LSM (or DAC check) refused them.
//
// The fallback of the LSM denial pane where BPF LSM is not active: sys_enter_* saves the target
// argument (path, sockaddr, pid...) per thread, sys_exit_* records the call when it failed with
// EPERM/EACCES, aggregated in the kernel per (hook, tgid, comm, target). Read-only observer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "denials.h"

#define EPERM 1
#define EACCES 13

struct pending {
	__u32 hook;
	__u32 kind;
	__u32 syscall;
	__u32 _pad;
	char target[DENIAL_TARGET_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pending);
} pending_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct denial_val);
} val_scratch SEC(".maps");

static __always_inline struct pending *scratch(__u32 hook, __u32 kind, long nr)
{
	__u32 zero = 0;
	struct pending *p = bpf_map_lookup_elem(&pending_scratch, &zero);
	if (!p)
		return 0;
	__builtin_memset(p, 0, sizeof(*p));
	p->hook = hook;
	p->kind = kind;
	p->syscall = (__u32)nr;
	return p;
}

static __always_inline int save(struct pending *p)
{
	__u64 id = bpf_get_current_pid_tgid();
	bump_stat(0);
	bpf_map_update_elem(&pending, &id, p, BPF_ANY);
	return 0;
}

static __always_inline int enter_path(struct trace_event_raw_sys_enter *ctx, __u32 hook,
				      unsigned long ptr)
{
	struct pending *p = scratch(hook, TARGET_PATH, ctx->id);
	if (!p)
		return 0;
	bpf_probe_read_user_str(p->target, sizeof(p->target), (const void *)ptr);
	return save(p);
}

static __always_inline int enter_sockaddr(struct trace_event_raw_sys_enter *ctx, __u32 hook)
{
	struct pending *p = scratch(hook, TARGET_SOCKADDR, ctx->id);
	__u64 len = ctx->args[2];
	if (!p)
		return 0;
	if (len > 28)
		len = 28;
	// Keep the mask in the instructions (clang drops it after the clamp, and the verifier
	// then sees a possibly negative size).
	asm volatile("%0 &= 31" : "+r"(len));
	bpf_probe_read_user(p->target, len, (const void *)ctx->args[1]);
	return save(p);
}

static __always_inline int enter_number(struct trace_event_raw_sys_enter *ctx, __u32 hook,
					unsigned long n)
{
	struct pending *p = scratch(hook, TARGET_NUMBER, ctx->id);
	if (!p)
		return 0;
	*(__u64 *)p->target = n;
	return save(p);
}

static __always_inline int exit_any(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct pending *p = bpf_map_lookup_elem(&pending, &id);
	struct denial_val *v;
	long ret = ctx->ret;

	if (!p)
		return 0;
	if (ret == -EPERM || ret == -EACCES) {
		v = bpf_map_lookup_elem(&val_scratch, &zero);
		if (v) {
			__builtin_memset(v, 0, sizeof(*v));
			v->err = (__s32)-ret;
			v->syscall = p->syscall;
			v->kind = p->kind;
			bpf_probe_read_kernel(v->target, sizeof(v->target), p->target);
			record_denial(p->hook, v);
		}
	}
	bpf_map_delete_elem(&pending, &id);
	return 0;
}

#define ENTER(name, body)                                                          \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                \
	int dp_enter_##name(struct trace_event_raw_sys_enter *ctx) { return body; }
#define EXIT(name)                                                                 \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                 \
	int dp_exit_##name(struct trace_event_raw_sys_exit *ctx) { return exit_any(ctx); }

ENTER(execve, enter_path(ctx, HOOK_EXEC, ctx->args[0]))
EXIT(execve)
ENTER(execveat, enter_path(ctx, HOOK_EXEC, ctx->args[1]))
EXIT(execveat)
ENTER(open, enter_path(ctx, HOOK_FILE_OPEN, ctx->args[0]))
EXIT(open)
ENTER(openat, enter_path(ctx, HOOK_FILE_OPEN, ctx->args[1]))
EXIT(openat)
ENTER(openat2, enter_path(ctx, HOOK_FILE_OPEN, ctx->args[1]))
EXIT(openat2)
ENTER(connect, enter_sockaddr(ctx, HOOK_CONNECT))
EXIT(connect)
ENTER(bind, enter_sockaddr(ctx, HOOK_BIND))
EXIT(bind)
ENTER(ptrace, enter_number(ctx, HOOK_PTRACE, ctx->args[1]))
EXIT(ptrace)
ENTER(bpf, enter_number(ctx, HOOK_BPF, ctx->args[0]))
EXIT(bpf)

SEC("tracepoint/syscalls/sys_enter_mount")
int dp_enter_mount(struct trace_event_raw_sys_enter *ctx)
{
	struct pending *p = scratch(HOOK_MOUNT, TARGET_MOUNT, ctx->id);
	if (!p)
		return 0;
	bpf_probe_read_user_str(p->target, 128, (const void *)ctx->args[0]);
	bpf_probe_read_user_str(p->target + 128, 128, (const void *)ctx->args[1]);
	return save(p);
}
EXIT(mount)

char LICENSE[] SEC("license") = "GPL";
