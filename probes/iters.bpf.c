// SPDX-License-Identifier: GPL-2.0
// dpscope's read-only iterators, in one object so that one load (one kernel-BTF parse) serves
// both:
//  * dpscope_map_counts (iter/bpf_map): entry counts of every map. Hash maps keep per-CPU
//    insert/delete counters (kernel 6.6+); bpf_map_sum_elem_count() adds them up, so one pass
//    over the map list replaces a walk over every key of every map. Prog arrays and
//    array-of-maps are walked in the kernel: their populated slots (index → program id /
//    inner map id) come out in the same pass, for the counts and the tail-call graph alike.
//    LPM tries keep their element count too (n_entries), read in the same pass.
//  * dpscope_prog_stats (iter/bpf_prog): id, load time, tag and run-time counters of every
//    program in one read (what bpf_obj_get_info_by_fd reports as run_cnt, run_time_ns and
//    recursion_misses, summed over the CPUs the same way), so that a refresh needs no
//    descriptor per program it has seen before.
//  * dpscope_prog_maps (iter/bpf_prog): which maps every program uses, so that the Maps
//    pane's users need no descriptor per program.
//  * dpscope_owners (iter/task_file): which processes hold which BPF programs, maps and links
//    open (what bpftool's pid_iter does), in one pass instead of a /proc/*/fd + fdinfo walk.
// They write nothing but their own output records.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

extern s64 bpf_map_sum_elem_count(const struct bpf_map *map) __ksym;

/* One 16-byte record per map (kind COUNT), preceded for prog arrays and array-of-maps by one
 * record per populated slot (kind SLOT: index → program id / inner map id). */
enum rec_kind { REC_COUNT = 1, REC_SLOT = 2 };
/* REC_COUNT flag: not every populated slot was reported (the map's output must fit the
 * iterator's 32 KiB seq buffer); userspace reads that map's slots itself. */
#define COUNT_SLOTS_CUT 1
/* REC_COUNT flag: the map's slots were walked (its slot records, possibly none, came first). */
#define COUNT_SLOTS_WALKED 2

struct map_count {
	__u32 id;
	__u16 kind;
	__u16 flags;
	__s64 count;
};

struct map_slot {
	__u32 id;
	__u16 kind;
	__u16 pad;
	__u32 index;
	__u32 value;
};

/* Slot pointers are copied out of the array this many at a time. */
#define SLOT_CHUNK 512
/* Slot records per map at most: 2,000 × 16 B + the count record stay under the 32 KiB
 * buffer that one map's output must fit in. */
#define MAX_SLOT_RECS 2000

/* Slots are first tested this many at a time (most slots of Cilium's big arrays are empty). */
#define SLOT_GROUP 8

/* The walk's counters live here too, not in registers: loop state the verifier does not
 * track precisely lets the open-coded loops converge. `ptrs` has one group of padding so that
 * a group starting below SLOT_CHUNK stays inside it. */
struct slot_chunk {
	void *ptrs[SLOT_CHUNK + SLOT_GROUP];
	__s64 populated;
	__u32 written;
	__u32 cut;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct slot_chunk);
} dpscope_slot_buf SEC(".maps");

/* Walk the slots of a prog array or array-of-maps in the kernel (the fd arrays keep a
 * pointer per slot, NULL when empty): a 65,536-slot array costs 128 copies of 4 KiB and a
 * test per group of 8 slots, not 65,536 lookups from userspace. Returns the number of
 * populated slots, or -1 when the pointers cannot be read (the caller then reports no
 * count). */
static __s64 walk_slots(struct seq_file *seq, struct bpf_map *map, bool prog, __u16 *flags)
{
	__u32 zero = 0;
	struct slot_chunk *buf = bpf_map_lookup_elem(&dpscope_slot_buf, &zero);
	__u32 max = map->max_entries;
	__u64 base = (__u64)(void *)map + bpf_core_field_offset(struct bpf_array, ptrs);
	__u32 nchunks = (max + SLOT_CHUNK - 1) / SLOT_CHUNK;
	int c, g, j;

	if (!buf)
		return -1;
	buf->populated = 0;
	buf->written = 0;
	buf->cut = 0;
	bpf_for(c, 0, nchunks) {
		__u64 start = (__u64)c * SLOT_CHUNK;
		__u64 n = start < max ? (__u64)max - start : 0;

		if (n > SLOT_CHUNK)
			n = SLOT_CHUNK;
		/* Keep the clamped value in a register: the verifier must see n <= SLOT_CHUNK. */
		asm volatile("" : "+r"(n));
		if (bpf_probe_read_kernel(buf->ptrs, n * sizeof(void *),
					  (void *)(base + (__u64)start * sizeof(void *))) < 0)
			return -1;
		bpf_for(g, 0, SLOT_CHUNK / SLOT_GROUP) {
			__u64 first = (__u64)g * SLOT_GROUP;
			void **q;

			if (first >= n)
				break;
			/* Past n the buffer holds an earlier chunk's pointers: the slot loop
			 * below stops at n. */
			q = &buf->ptrs[first];
			if (!q[0] && !q[1] && !q[2] && !q[3] && !q[4] && !q[5] && !q[6] && !q[7])
				continue;
			bpf_for(j, 0, SLOT_GROUP) {
				__u64 i = first + (__u32)j;
				void *p;
				struct map_slot rec = {};

				if (i >= n)
					break;
				p = buf->ptrs[i];
				if (!p)
					continue;
				buf->populated++;
				if (buf->written >= MAX_SLOT_RECS) {
					buf->cut = 1;
					continue;
				}
				rec.id = map->id;
				rec.kind = REC_SLOT;
				rec.index = start + (__u32)i;
				if (prog)
					rec.value = BPF_CORE_READ((struct bpf_prog *)p, aux, id);
				else
					rec.value = BPF_CORE_READ((struct bpf_map *)p, id);
				bpf_seq_write(seq, &rec, sizeof(rec));
				buf->written++;
			}
		}
	}
	if (buf->cut)
		*flags |= COUNT_SLOTS_CUT;
	return buf->populated;
}

SEC("iter/bpf_map")
int dpscope_map_counts(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;
	struct map_count rec = {};
	__u32 type;

	if (!map)
		return 0;
	rec.id = map->id;
	rec.kind = REC_COUNT;
	type = map->map_type;
	if (type == BPF_MAP_TYPE_PROG_ARRAY || type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
		rec.count = walk_slots(seq, map, type == BPF_MAP_TYPE_PROG_ARRAY, &rec.flags);
		if (rec.count < 0)
			return 0;
		rec.flags |= COUNT_SLOTS_WALKED;
	} else if (type == BPF_MAP_TYPE_LPM_TRIE) {
		/* The trie counts its elements (not its intermediate nodes). */
		if (bpf_core_field_exists(struct lpm_trie, n_entries))
			rec.count = BPF_CORE_READ((struct lpm_trie *)map, n_entries);
		else
			rec.count = -1;
	} else {
		rec.count = bpf_map_sum_elem_count(map);
	}
	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}

/* A pointer's value as a number (copied through the stack: the verifier keeps pointers and
 * numbers apart). */
static __always_inline __u64 as_number(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

/* One 48-byte record per program. */
struct prog_stat {
	__u32 id;
	__u32 flags;
	__u64 load_time;
	__u8 tag[8];
	__u64 run_cnt;
	__u64 run_time_ns;
	__u64 misses;
};
/* prog_stat.flags: the counters could not be read (userspace asks the kernel by fd). */
#define STAT_UNREAD 1
/* prog_stat.flags: not a counters record but a prog_maps record of the same size. */
#define STAT_MAPS 2

/* dpscope_prog_maps: the ids of the maps each program uses (what bpf_prog_info's map_ids
 * lists), up to MAPS_PER_REC per record, 0 where a record is not full: the Maps pane's
 * "used by" without a descriptor per program. */
#define MAPS_PER_REC 10
struct prog_maps {
	__u32 id;
	__u32 flags;
	__u32 map_ids[MAPS_PER_REC];
};
/* The verifier's limit on maps per program (MAX_USED_MAPS) is 64; more are not reported. */
#define MAX_USED_MAPS 64

/* Upper bound of the CPU loop (the kernel's NR_CPUS limit); it ends at the first CPU
 * bpf_map_lookup_percpu_elem() refuses (>= nr_cpu_ids). */
#define MAX_CPUS 8192

SEC("iter/bpf_prog")
int dpscope_prog_stats(struct bpf_iter__bpf_prog *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_prog *prog = ctx->prog;
	struct prog_stat rec = {};
	__u64 stats, pcpu = 0;
	__u32 zero = 0;
	int cpu;

	if (!prog)
		return 0;
	/* A CPU's per-CPU offset is where dpscope_slot_buf's per-CPU element sits on it minus
	 * the element's per-CPU pointer (kallsyms has no per-CPU offsets on most kernels). */
	bpf_probe_read_kernel(&pcpu, sizeof(pcpu),
			      (void *)(as_number(&dpscope_slot_buf) +
				       bpf_core_field_offset(struct bpf_array, pptrs)));
	rec.id = BPF_CORE_READ(prog, aux, id);
	rec.load_time = BPF_CORE_READ(prog, aux, load_time);
	bpf_core_read(rec.tag, sizeof(rec.tag), &prog->tag);
	stats = (__u64)BPF_CORE_READ(prog, stats);
	if (!stats || !pcpu)
		rec.flags |= STAT_UNREAD;
	bpf_for(cpu, 0, MAX_CPUS) {
		struct bpf_prog_stats *st;
		void *elem;
		__u64 off;

		if (!stats || !pcpu)
			break;
		elem = bpf_map_lookup_percpu_elem(&dpscope_slot_buf, &zero, cpu);
		if (!elem)
			break;
		off = as_number(elem) - pcpu;
		st = (struct bpf_prog_stats *)(stats + off);
		rec.run_cnt += BPF_CORE_READ(st, cnt.v.a.a.counter);
		rec.run_time_ns += BPF_CORE_READ(st, nsecs.v.a.a.counter);
		rec.misses += BPF_CORE_READ(st, misses.v.a.a.counter);
	}
	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}

/* Every program's maps (prog_maps records, at least one per program), for `show maps`: a
 * program of its own, small and quick to verify, so that a one-shot `show` does not pay for
 * the counters' per-CPU loop. used_maps only grows through BPF_PROG_BIND_MAP (under a mutex
 * this cannot take); the reads are fault-safe copies, as bpftool's pid iterator does. */
SEC("iter/bpf_prog")
int dpscope_prog_maps(struct bpf_iter__bpf_prog *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_prog *prog = ctx->prog;
	struct bpf_map **used;
	__u32 id, n;
	int r;

	if (!prog)
		return 0;
	id = BPF_CORE_READ(prog, aux, id);
	used = BPF_CORE_READ(prog, aux, used_maps);
	n = BPF_CORE_READ(prog, aux, used_map_cnt);
	if (!used)
		n = 0;
	/* One record per map (a running index into a record costs the verifier more than the
	 * bytes cost the read); a program that uses no map gets one empty record. */
	if (n > MAX_USED_MAPS)
		n = MAX_USED_MAPS;
	if (!n) {
		struct prog_maps m = { .id = id, .flags = STAT_MAPS };

		bpf_seq_write(seq, &m, sizeof(m));
		return 0;
	}
	bpf_for(r, 0, n) {
		struct prog_maps m = { .id = id, .flags = STAT_MAPS };
		struct bpf_map *map = NULL;

		bpf_probe_read_kernel(&map, sizeof(map), &used[r]);
		/* A failed read leaves 0 (a NULL map reads as id 0, skipped by userspace). */
		m.map_ids[0] = BPF_CORE_READ(map, id);
		bpf_seq_write(seq, &m, sizeof(m));
	}
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
