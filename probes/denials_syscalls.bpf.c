// SPDX-License-Identifier: GPL-2.0
// dpscope: syscalls that failed with EPERM or EACCES, whatever LSM (or DAC check) refused them.
//
// The fallback of the LSM denial pane where BPF LSM is not active: sys_exit_* records a call
// that failed with EPERM/EACCES, with its target (path, sockaddr, pid...) read from the
// call's arguments, aggregated in the kernel per (hook, tgid, comm, target). Read-only
// observer.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "denials.h"

// Only sys_exit_* programs: they run on every call of the watched syscalls on the node, so
// the common case (the call did not fail with EPERM/EACCES) is one compare after the count.
// The target is read only for a refused call, from the arguments the task entered the
// syscall with (its saved user registers, unchanged by a failed call) and the user memory
// they point to. No enter program, no per-thread map: a successful call costs about what an
// empty tracepoint program costs (benches/probe_cost.rs).

#define EPERM 1
#define EACCES 13

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct denial_val);
} val_scratch SEC(".maps");

static __always_inline int refused(long ret)
{
	return ret == -EPERM || ret == -EACCES;
}

// The syscall's user registers (what it was called with).
static __always_inline struct pt_regs *call_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline struct denial_val *val(struct trace_event_raw_sys_exit *ctx, __u32 kind)
{
	__u32 zero = 0;
	struct denial_val *v = bpf_map_lookup_elem(&val_scratch, &zero);
	if (!v)
		return 0;
	__builtin_memset(v, 0, sizeof(*v));
	v->err = (__s32)-ctx->ret;
	v->syscall = (__u32)ctx->id;
	v->kind = kind;
	return v;
}

static __always_inline int exit_path(struct trace_event_raw_sys_exit *ctx, __u32 hook, int arg)
{
	struct denial_val *v;
	struct pt_regs *regs;
	unsigned long ptr;

	bump_stat(0);
	if (!refused(ctx->ret))
		return 0;
	v = val(ctx, TARGET_PATH);
	if (!v)
		return 0;
	regs = call_regs();
	ptr = arg == 1 ? PT_REGS_PARM1_CORE_SYSCALL(regs) : PT_REGS_PARM2_CORE_SYSCALL(regs);
	bpf_probe_read_user_str(v->target, sizeof(v->target), (const void *)ptr);
	record_denial(hook, v);
	return 0;
}

static __always_inline int exit_sockaddr(struct trace_event_raw_sys_exit *ctx, __u32 hook)
{
	struct denial_val *v;
	struct pt_regs *regs;
	unsigned long ptr;
	__u64 len;

	bump_stat(0);
	if (!refused(ctx->ret))
		return 0;
	v = val(ctx, TARGET_SOCKADDR);
	if (!v)
		return 0;
	regs = call_regs();
	ptr = PT_REGS_PARM2_CORE_SYSCALL(regs);
	len = PT_REGS_PARM3_CORE_SYSCALL(regs);
	if (len > 28)
		len = 28;
	// Keep the mask in the instructions (clang drops it after the clamp, and the verifier
	// then sees a possibly negative size).
	asm volatile("%0 &= 31" : "+r"(len));
	bpf_probe_read_user(v->target, len, (const void *)ptr);
	record_denial(hook, v);
	return 0;
}

static __always_inline int exit_number(struct trace_event_raw_sys_exit *ctx, __u32 hook, int arg)
{
	struct denial_val *v;
	struct pt_regs *regs;

	bump_stat(0);
	if (!refused(ctx->ret))
		return 0;
	v = val(ctx, TARGET_NUMBER);
	if (!v)
		return 0;
	regs = call_regs();
	*(__u64 *)v->target =
		arg == 1 ? PT_REGS_PARM1_CORE_SYSCALL(regs) : PT_REGS_PARM2_CORE_SYSCALL(regs);
	record_denial(hook, v);
	return 0;
}

#define EXIT(name, body)                                                           \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                 \
	int dp_exit_##name(struct trace_event_raw_sys_exit *ctx) { return body; }

EXIT(execve, exit_path(ctx, HOOK_EXEC, 1))
EXIT(execveat, exit_path(ctx, HOOK_EXEC, 2))
EXIT(open, exit_path(ctx, HOOK_FILE_OPEN, 1))
EXIT(openat, exit_path(ctx, HOOK_FILE_OPEN, 2))
EXIT(openat2, exit_path(ctx, HOOK_FILE_OPEN, 2))
EXIT(connect, exit_sockaddr(ctx, HOOK_CONNECT))
EXIT(bind, exit_sockaddr(ctx, HOOK_BIND))
EXIT(ptrace, exit_number(ctx, HOOK_PTRACE, 2))
EXIT(bpf, exit_number(ctx, HOOK_BPF, 1))

SEC("tracepoint/syscalls/sys_exit_mount")
int dp_exit_mount(struct trace_event_raw_sys_exit *ctx)
{
	struct denial_val *v;
	struct pt_regs *regs;
	unsigned long src, dst;

	bump_stat(0);
	if (!refused(ctx->ret))
		return 0;
	v = val(ctx, TARGET_MOUNT);
	if (!v)
		return 0;
	regs = call_regs();
	src = PT_REGS_PARM1_CORE_SYSCALL(regs);
	dst = PT_REGS_PARM2_CORE_SYSCALL(regs);
	bpf_probe_read_user_str(v->target, 128, (const void *)src);
	bpf_probe_read_user_str(v->target + 128, 128, (const void *)dst);
	record_denial(HOOK_MOUNT, v);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
