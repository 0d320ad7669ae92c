// SPDX-License-Identifier: GPL-2.0
// dpscope: records shared by the denial probes (denials_syscalls.bpf.c, denials_lsm.bpf.c)
// and src/bpf/denials/*.rs, which reads them through the skeleton's generated types (record.rs).
#ifndef DPSCOPE_DENIALS_H
#define DPSCOPE_DENIALS_H

#define DENIAL_TARGET_LEN 256
#define DENIAL_MAX_ROWS 10240

// Hooks (the LSM hook a syscall ends in, or the LSM hook itself).
enum denial_hook {
	HOOK_EXEC = 1,        // bprm_check_security / execve, execveat
	HOOK_FILE_OPEN = 2,   // file_open / open, openat, openat2, creat
	HOOK_CONNECT = 3,     // socket_connect / connect
	HOOK_BIND = 4,        // socket_bind / bind
	HOOK_PTRACE = 5,      // ptrace_access_check / ptrace
	HOOK_CAPABLE = 6,     // capable (LSM only)
	HOOK_MOUNT = 7,       // sb_mount / mount
	HOOK_BPF = 8,         // bpf / bpf()
};

// How `target` is to be read.
enum target_kind {
	TARGET_NONE = 0,
	TARGET_PATH = 1,      // NUL-terminated path
	TARGET_SOCKADDR = 2,  // raw struct sockaddr bytes (up to 28)
	TARGET_NUMBER = 3,    // u64 at offset 0 (pid, capability, bpf command)
	TARGET_MOUNT = 4,     // source string at 0, mount point string at 128
	TARGET_DENTRIES = 5,  // up to 8 path components, leaf first, 32 bytes each
};

// Aggregation key: one row per (hook, tgid, comm, target).
struct denial_key {
	__u32 hook;
	__u32 tgid;
	char comm[16];
	__u64 target_hash;
};

struct denial_val {
	__u64 count;
	__u64 first_ns; // CLOCK_BOOTTIME
	__u64 last_ns;
	__u64 cgroup_id;
	__u32 pid;      // thread id of the last denied call
	__s32 err;      // positive errno
	__u32 syscall;  // syscall number (syscall mode), 0 in LSM mode
	__u32 kind;     // enum target_kind
	char target[DENIAL_TARGET_LEN];
};

// FNV-1a over the whole (zero-padded) target buffer.
static __always_inline __u64 target_hash(const char *t)
{
	__u64 h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < DENIAL_TARGET_LEN; i++) {
		h ^= (unsigned char)t[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DENIAL_MAX_ROWS);
	__type(key, struct denial_key);
	__type(value, struct denial_val);
} denials SEC(".maps");

// Counts calls seen (index 0) and denials recorded (index 1): proves the programs ran.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} denial_stats SEC(".maps");

static __always_inline void bump_stat(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&denial_stats, &idx);
	if (c)
		*c += 1;
}

// Adds one denial described by `v` (target, kind, syscall, err filled in) to `denials`.
static __always_inline void record_denial(__u32 hook, struct denial_val *v)
{
	struct denial_key k = {};
	__u64 id = bpf_get_current_pid_tgid();
	__u64 now = bpf_ktime_get_boot_ns();
	struct denial_val *cur;

	k.hook = hook;
	k.tgid = id >> 32;
	bpf_get_current_comm(k.comm, sizeof(k.comm));
	k.target_hash = target_hash(v->target);
	bump_stat(1);

	cur = bpf_map_lookup_elem(&denials, &k);
	if (cur) {
		__sync_fetch_and_add(&cur->count, 1);
		cur->last_ns = now;
		cur->pid = (__u32)id;
		return;
	}
	v->count = 1;
	v->first_ns = now;
	v->last_ns = now;
	v->pid = (__u32)id;
	v->cgroup_id = bpf_get_current_cgroup_id();
	if (bpf_map_update_elem(&denials, &k, v, BPF_NOEXIST) != 0) {
		cur = bpf_map_lookup_elem(&denials, &k);
		if (cur) {
			__sync_fetch_and_add(&cur->count, 1);
			cur->last_ns = now;
		}
	}
}

#endif
