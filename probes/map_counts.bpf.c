// SPDX-License-Identifier: GPL-2.0
// dpscope: entry counts of every map in one read, via a bpf_map iterator.
//
// Hash maps keep per-CPU insert/delete counters (kernel 6.6+); bpf_map_sum_elem_count() adds
// them up. Reading this iterator costs one pass over the map list instead of a walk over every
// key of every map. Read-only: it writes nothing but its own output records.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

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

char LICENSE[] SEC("license") = "GPL";
