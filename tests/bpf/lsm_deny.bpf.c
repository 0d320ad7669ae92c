// SPDX-License-Identifier: GPL-2.0
// Test fixture (QEMU guest only): a BPF LSM program that DENIES connect() to port 4242 and
// exec of /tmp/denied-exec, so dpscope's LSM probe has a real BPF LSM denial to observe.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define EPERM 1
#define AF_INET 2

__u64 denied = 0;

SEC("lsm/socket_connect")
int BPF_PROG(test_deny_connect, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	struct sockaddr_in sin = {};
	if (ret)
		return ret;
	if (addrlen < (int)sizeof(sin))
		return 0;
	bpf_probe_read_kernel(&sin, sizeof(sin), address);
	if (sin.sin_family == AF_INET && sin.sin_port == bpf_htons(4242)) {
		__sync_fetch_and_add(&denied, 1);
		return -EPERM;
	}
	return 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(test_deny_exec, struct linux_binprm *bprm, int ret)
{
	char want[] = "/tmp/denied-exec";
	char name[sizeof(want)] = {};
	if (ret)
		return ret;
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(bprm, filename));
	for (int i = 0; i < sizeof(want); i++)
		if (name[i] != want[i])
			return 0;
	__sync_fetch_and_add(&denied, 1);
	return -EPERM;
}

char LICENSE[] SEC("license") = "GPL";
