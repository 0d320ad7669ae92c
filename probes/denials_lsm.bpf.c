// SPDX-License-Identifier: GPL-2.0
// dpscope: operations a BPF LSM program (or an earlier LSM in the BPF LSM chain) refused.
//
// BPF LSM programs on one hook run in attach order and each receives the previous one's
// return value as `ret`: an observer attached after other agents' programs sees their
// denials. Every program here returns the `ret` it received, so it never denies anything.
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

SEC("lsm/bprm_check_security")
int BPF_PROG(dp_lsm_exec, struct linux_binprm *bprm, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_PATH, ret)))
		return ret;
	bpf_probe_read_kernel_str(v->target, sizeof(v->target), BPF_CORE_READ(bprm, filename));
	record_denial(HOOK_EXEC, v);
	return ret;
}

SEC("lsm/file_open")
int BPF_PROG(dp_lsm_file_open, struct file *file, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_PATH, ret)))
		return ret;
	bpf_d_path(&file->f_path, v->target, sizeof(v->target));
	record_denial(HOOK_FILE_OPEN, v);
	return ret;
}

static __always_inline int sock_addr(__u32 hook, struct sockaddr *address, int addrlen, int ret)
{
	struct denial_val *v;
	__u32 len = addrlen;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_SOCKADDR, ret)))
		return ret;
	if (len > 28)
		len = 28;
	bpf_probe_read_kernel(v->target, len & 31, address);
	record_denial(hook, v);
	return ret;
}

SEC("lsm/socket_connect")
int BPF_PROG(dp_lsm_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	return sock_addr(HOOK_CONNECT, address, addrlen, ret);
}

SEC("lsm/socket_bind")
int BPF_PROG(dp_lsm_bind, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	return sock_addr(HOOK_BIND, address, addrlen, ret);
}

SEC("lsm/ptrace_access_check")
int BPF_PROG(dp_lsm_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_NUMBER, ret)))
		return ret;
	*(__u64 *)v->target = BPF_CORE_READ(child, tgid);
	record_denial(HOOK_PTRACE, v);
	return ret;
}

SEC("lsm/capable")
int BPF_PROG(dp_lsm_capable, const struct cred *cred, struct user_namespace *ns, int cap,
	     unsigned int opts, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_NUMBER, ret)))
		return ret;
	*(__u64 *)v->target = cap;
	record_denial(HOOK_CAPABLE, v);
	return ret;
}

SEC("lsm/sb_mount")
int BPF_PROG(dp_lsm_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	struct denial_val *v;
	bump_stat(0);
	if (ret == 0 || !(v = fresh(TARGET_MOUNT, ret)))
		return ret;
	bpf_probe_read_kernel_str(v->target, 128, dev_name);
	bpf_probe_read_kernel_str(v->target + 128, 128, BPF_CORE_READ(path, dentry, d_name.name));
	record_denial(HOOK_MOUNT, v);
	return ret;
}

char LICENSE[] SEC("license") = "GPL";
