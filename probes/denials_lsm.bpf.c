// SPDX-License-Identifier: GPL-2.0
// dpscope: operations BPF LSM programs refused.
//
// Why fexit on bpf_lsm_<hook> and not lsm/<hook>: BPF LSM programs are fmod_ret programs on
// the hook's trampoline, and the trampoline stops at the first one that returns nonzero
// (x86 invoke_bpf_mod_ret: "if (*(u64 *)(rbp - 8) != 0) goto do_fexit"), so a later lsm/*
// observer never runs after a denial and only ever sees ret == 0 (seen in the QEMU test).
// fexit programs on the same trampoline run after the whole chain, also when it was cut
// short, and receive the final BPF LSM verdict as `ret`. fexit cannot change a return value:
// this probe cannot deny anything (and fexit programs must return 0).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "denials.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct denial_val);
} val_scratch SEC(".maps");

static __always_inline struct denial_val *fresh(__u32 kind, int ret)
{
	__u32 zero = 0;
	struct denial_val *v = bpf_map_lookup_elem(&val_scratch, &zero);
	if (!v)
		return 0;
	__builtin_memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->err = -ret;
	return v;
}

// bpf_d_path is not allowed in fexit programs on bpf_lsm_* (only on a few security_*
// functions), so a file's path is rebuilt from its dentries (relative to its mount).
static __always_inline void dentry_path(struct dentry *d, char *out)
{
#pragma unroll
	for (int i = 0; i < 8; i++) {
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		bpf_probe_read_kernel_str(out + i * 32, 32, BPF_CORE_READ(d, d_name.name));
		if (!parent || parent == d)
			break;
		d = parent;
	}
}

SEC("fexit/bpf_lsm_bprm_check_security")
int BPF_PROG(dp_lsm_exec, struct linux_binprm *bprm, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_PATH, ret)))
		return 0;
	bpf_probe_read_kernel_str(v->target, sizeof(v->target), BPF_CORE_READ(bprm, filename));
	record_denial(HOOK_EXEC, v);
	return 0;
}

SEC("fexit/bpf_lsm_file_open")
int BPF_PROG(dp_lsm_file_open, struct file *file, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_DENTRIES, ret)))
		return 0;
	dentry_path(BPF_CORE_READ(file, f_path.dentry), v->target);
	record_denial(HOOK_FILE_OPEN, v);
	return 0;
}

static __always_inline int sock_addr(__u32 hook, struct sockaddr *address, int addrlen, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_SOCKADDR, ret)))
		return 0;
	// The address is the kernel's copy in a sockaddr_storage: 28 bytes are always there.
	bpf_probe_read_kernel(v->target, 28, address);
	record_denial(hook, v);
	return 0;
}

SEC("fexit/bpf_lsm_socket_connect")
int BPF_PROG(dp_lsm_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	return sock_addr(HOOK_CONNECT, address, addrlen, ret);
}

SEC("fexit/bpf_lsm_socket_bind")
int BPF_PROG(dp_lsm_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	return sock_addr(HOOK_BIND, address, addrlen, ret);
}

SEC("fexit/bpf_lsm_ptrace_access_check")
int BPF_PROG(dp_lsm_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_NUMBER, ret)))
		return 0;
	*(__u64 *)v->target = BPF_CORE_READ(child, tgid);
	record_denial(HOOK_PTRACE, v);
	return 0;
}

SEC("fexit/bpf_lsm_capable")
int BPF_PROG(dp_lsm_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	     unsigned int opts, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_NUMBER, ret)))
		return 0;
	*(__u64 *)v->target = cap;
	record_denial(HOOK_CAPABLE, v);
	return 0;
}

SEC("fexit/bpf_lsm_sb_mount")
int BPF_PROG(dp_lsm_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_MOUNT, ret)))
		return 0;
	bpf_probe_read_kernel_str(v->target, 128, dev_name);
	bpf_probe_read_kernel_str(v->target + 128, 128, BPF_CORE_READ(path, dentry, d_name.name));
	record_denial(HOOK_MOUNT, v);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
