// SPDX-License-Identifier: GPL-2.0
// dpscope's read-only iterators, in one object so that one load (one kernel-BTF parse) serves
// both:
//  * dpscope_map_counts (iter/bpf_map): entry counts of every map. Hash maps keep per-CPU
//    insert/delete counters (kernel 6.6+); bpf_map_sum_elem_count() adds them up, so one pass
//    over the map list replaces a walk over every key of every map.
//  * dpscope_owners (iter/task_file): which processes hold which BPF programs, maps and links
//    open (what bpftool's pid_iter does), in one pass instead of a /proc/*/fd + fdinfo walk.
// They write nothing but their own output records.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

extern s64 bpf_map_sum_elem_count(const struct bpf_map *map) __ksym;

struct map_count {
	__u32 id;
	__u32 map_type;
	__s64 count;
};

SEC("iter/bpf_map")
int dpscope_map_counts(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;
	struct map_count rec = {};

	if (!map)
		return 0;
	rec.id = map->id;
	rec.map_type = map->map_type;
	rec.count = bpf_map_sum_elem_count(map);
	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}

enum owner_kind { OWNER_PROG = 1, OWNER_MAP = 2, OWNER_LINK = 3 };

struct owner {
	__u32 kind;
	__u32 id;
	__u32 pid;
	char comm[16];
	__u32 pad;
};

SEC("iter/task_file")
int dpscope_owners(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct owner rec = {};
	char name[12] = {};
	const unsigned char *dname;

	if (!task || !file)
		return 0;
	/* Files are shared by the threads of a process: report each process once. */
	if (task->tgid != task->pid)
		return 0;
	/* BPF objects are anonymous-inode files named bpf-prog, bpf-map and bpf_link (the
	 * fops symbols cannot be compared: kallsyms has no data symbols on most kernels). */
	dname = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(name, sizeof(name), dname) < 0)
		return 0;
	if (name[0] != 'b' || name[1] != 'p' || name[2] != 'f' || (name[3] != '-' && name[3] != '_'))
		return 0;
	if (name[4] == 'p' && name[5] == 'r' && name[6] == 'o' && name[7] == 'g' && !name[8]) {
		struct bpf_prog *prog = file->private_data;
		rec.kind = OWNER_PROG;
		rec.id = BPF_CORE_READ(prog, aux, id);
	} else if (name[4] == 'm' && name[5] == 'a' && name[6] == 'p' && !name[7]) {
		struct bpf_map *map = file->private_data;
		rec.kind = OWNER_MAP;
		rec.id = BPF_CORE_READ(map, id);
	} else if (name[4] == 'l' && name[5] == 'i' && name[6] == 'n' && name[7] == 'k' && !name[8]) {
		struct bpf_link *link = file->private_data;
		rec.kind = OWNER_LINK;
		rec.id = BPF_CORE_READ(link, id);
	} else {
		return 0;
	}
	rec.pid = task->tgid;
	bpf_probe_read_kernel_str(rec.comm, sizeof(rec.comm), task->comm);
	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
