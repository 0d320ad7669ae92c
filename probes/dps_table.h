/* SPDX-License-Identifier: GPL-2.0 */
/* dpscope: a bounded, open-addressed aggregation table in a BPF array, for per-packet probes.
 *
 * Why not an LRU hash map: every lookup of a hash map is an out-of-line kernel call (plus the
 * hash and the key compare, two more), and on CPUs with the SRSO "safe RET" mitigation every
 * return from a kernel function goes through a thunk; that fixed cost alone was 1.7x an empty
 * tc program (docs/benchmarks.md). Here the hash, the probe and the key compare are inline BPF
 * instructions, an array lookup is inlined by the verifier, and atomics are single
 * instructions: the hot path (the key is already there) makes no call at all.
 *
 * Layout: an array of DPS_TABLE_SIZE slots, each
 *     u32 state   generation << 2 | EMPTY, BUSY or READY
 *     u32 epoch   the userspace epoch of the slot's last hit (approximate recency)
 *     u64 key[NW] the key, zero padded to whole words
 *     u64 count, bytes
 *     u64 flags   only in tables made with nc = 3: an OR of flag bits (TCP flags of a flow)
 * A key hashes (multilinear hash, random constants set by the loader) to a slot and lives in
 * one of the DPS_TABLE_PROBES slots from there on (linear probing; slots are never emptied,
 * so a search stops at the first EMPTY slot).
 *
 *  * hit: a READY slot with the key: two atomic adds (and an atomic OR when the flags add a
 *    bit the slot does not have yet); the epoch word is written only when the
 *    userspace epoch moved since the last hit (no store per packet).
 *  * insert: an EMPTY slot is claimed with a compare-and-swap EMPTY -> BUSY; the winner writes
 *    the key, then publishes READY with an atomic exchange. A CPU that finds a slot BUSY (or
 *    loses the claim) moves on to the next slot, so the same key can briefly be inserted
 *    twice: userspace sums rows with equal keys.
 *  * eviction (every probed slot READY with another key): the slot whose last hit is oldest
 *    by epoch is claimed READY -> BUSY and rewritten; the old row's counts are lost and
 *    DPS_STAT_EVICTED counts it. A lost claim retries the search once, then counts
 *    DPS_STAT_FAILED (the event is not counted).
 *
 * The generation in the state word changes at every claim: userspace reads state, key and
 * counters, then the state again, and keeps the row only if nothing changed in between.
 *
 * Same race as the kernel's LRU hash (whose lookups can return an element that is being
 * reused): a CPU that matched a key just before another CPU evicts that slot adds its one
 * event to the new key's row. Eviction only happens when the probed slots are all taken.
 *
 * Needs BPF ISA v3 (cmpxchg/xchg: kernel 5.12): build.rs compiles the objects that include
 * this header with -mcpu=v3.
 */
#ifndef DPS_TABLE_H
#define DPS_TABLE_H

#include "dpscope.h"

#define DPS_TABLE_BITS 14
#define DPS_TABLE_SIZE (1u << DPS_TABLE_BITS) /* slots per table (16384) */
#define DPS_TABLE_MASK (DPS_TABLE_SIZE - 1)
#define DPS_TABLE_PROBES 8 /* slots a key may live in */

#define DPS_SLOT_EMPTY 0u
#define DPS_SLOT_BUSY 1u
#define DPS_SLOT_READY 2u
#define DPS_SLOT_KIND 3u
#define DPS_SLOT_GEN 4u /* one generation step in the state word */

/* Keys are at most this many words. The loops below run to this bound with `if (i < nw)` in
 * the body: the bound is a constant when clang unrolls them, before `nw` is known. */
#define DPS_TABLE_MAX_WORDS 8

/* Multilinear hash constants (odd, 64-bit): the loader replaces them with random ones before
 * load, so that which keys collide cannot be known in advance. Alone in their section
 * (".rodata.dps_hash"); read-only after load. */
const volatile __u64 dps_hash_k[DPS_TABLE_MAX_WORDS + 1] SEC(".rodata.dps_hash") = {
	0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full, 0x165667b19e3779f9ull,
	0xd6e8feb86659fd93ull, 0xff51afd7ed558ccdull, 0xc4ceb9fe1a85ec53ull,
	0xa0761d6478bd642full, 0xe7037ed1a0b428dbull, 0x8ebc6af09c88c6e3ull,
};

/* An array map of slots: `slot_type` is a struct with the layout above. */
#define DPS_TABLE(name, slot_type)                                           \
	struct {                                                             \
		__uint(type, BPF_MAP_TYPE_ARRAY);                            \
		__uint(max_entries, DPS_TABLE_SIZE);                         \
		__uint(map_flags, BPF_F_MMAPABLE);                           \
		__type(key, __u32);                                          \
		__type(value, slot_type);                                    \
	} name SEC(".maps")

struct dps_slot_head {
	__u32 state;
	__u32 epoch;
};

static __always_inline __u32 dps_table_hash(const __u64 *w, const int nw)
{
	__u64 h = dps_hash_k[0];

#pragma clang loop unroll(full)
	for (int i = 0; i < DPS_TABLE_MAX_WORDS; i++)
		if (i < nw)
			h += w[i] * dps_hash_k[i + 1];
	return h >> (64 - DPS_TABLE_BITS);
}

/* Counters of a slot: right after the key words. */
static __always_inline __u64 *dps_slot_counters(struct dps_slot_head *s, const int nw)
{
	return (__u64 *)((void *)s + sizeof(*s) + nw * sizeof(__u64));
}

static __always_inline int dps_slot_has(struct dps_slot_head *s, const __u64 *w, const int nw)
{
	const __u64 *sk = (const __u64 *)(s + 1);
	__u64 diff = 0;

#pragma clang loop unroll(full)
	for (int i = 0; i < DPS_TABLE_MAX_WORDS; i++)
		if (i < nw)
			diff |= sk[i] ^ w[i];
	return diff == 0;
}

static __always_inline void dps_slot_add(struct dps_slot_head *s, const int nw, const int nc,
					 __u32 epoch, __u64 bytes, __u64 flags)
{
	__u64 *c = dps_slot_counters(s, nw);

	__sync_fetch_and_add(&c[0], 1);
	__sync_fetch_and_add(&c[1], bytes);
	/* flag bits are few and settle early: write (atomically) only when a new bit shows up */
	if (nc > 2 && (*(volatile __u64 *)&c[2] & flags) != flags)
		__sync_fetch_and_or(&c[2], flags);
	if (*(volatile __u32 *)&s->epoch != epoch)
		s->epoch = epoch;
}

/* Write the key into a slot this CPU has claimed (BUSY, generation bits `gen`), then publish it. */
static __always_inline void dps_slot_fill(struct dps_slot_head *s, __u32 gen, const __u64 *w,
					  const int nw, const int nc, __u32 epoch)
{
	__u64 *sk = (__u64 *)(s + 1);
	__u64 *c = dps_slot_counters(s, nw);

#pragma clang loop unroll(full)
	for (int i = 0; i < DPS_TABLE_MAX_WORDS; i++)
		if (i < nw)
			sk[i] = w[i];
	c[0] = 0;
	c[1] = 0;
	if (nc > 2)
		c[2] = 0;
	s->epoch = epoch;
	/* an exchange is a full barrier on every architecture: key and counters are visible
	 * before READY is */
	__sync_lock_test_and_set(&s->state, gen | DPS_SLOT_READY);
}

/* Count one event of `bytes` for key `w` (nw words) in `table`; `nc` (a constant, 2 or 3) is
 * the number of counter words of its slots, and with 3 `flags` is ORed into the third.
 * `epoch` is the userspace epoch;
 * `stats` the probe's per-CPU counters. The search only finds a hit or picks a candidate (the
 * first EMPTY slot, else the READY slot with the oldest hit): slot indexes, not pointers, are
 * carried out of the loop, which keeps the verifier's state count (and the load time) small. */
static __always_inline void dps_table_add(void *table, void *stats, const __u64 *w, const int nw,
					  const int nc, __u32 epoch, __u64 bytes, __u64 flags)
{
	__u32 base = dps_table_hash(w, nw);

#pragma clang loop unroll(disable)
	for (int attempt = 0; attempt < 2; attempt++) {
		__u32 cand = DPS_TABLE_SIZE, cand_st = 0, cand_age = 0, gen;
		struct dps_slot_head *s;

		for (__u32 i = 0; i < DPS_TABLE_PROBES; i++) {
			__u32 idx = (base + i) & DPS_TABLE_MASK;
			__u32 st, age;

			s = bpf_map_lookup_elem(table, &idx);
			if (!s)
				return;
			st = *(volatile __u32 *)&s->state;
			if ((st & DPS_SLOT_KIND) == DPS_SLOT_READY) {
				if (dps_slot_has(s, w, nw)) {
					dps_slot_add(s, nw, nc, epoch, bytes, flags);
					return;
				}
				age = epoch - *(volatile __u32 *)&s->epoch;
				if (age >= cand_age) {
					cand = idx;
					cand_st = st;
					cand_age = age;
				}
			} else if ((st & DPS_SLOT_KIND) == DPS_SLOT_EMPTY) {
				/* slots never become EMPTY again: the key is not further on */
				cand = idx;
				cand_st = st;
				break;
			}
			/* BUSY: being written by another CPU, skip it */
		}
		if (cand >= DPS_TABLE_SIZE)
			continue; /* every probed slot was BUSY */
		s = bpf_map_lookup_elem(table, &cand);
		if (!s)
			return;
		/* claim it for this key, with the next generation */
		gen = (cand_st & ~DPS_SLOT_KIND) + DPS_SLOT_GEN;
		if (__sync_val_compare_and_swap(&s->state, cand_st, gen | DPS_SLOT_BUSY) != cand_st)
			continue; /* another CPU claimed or evicted it first: search again */
		dps_slot_fill(s, gen, w, nw, nc, epoch);
		dps_slot_add(s, nw, nc, epoch, bytes, flags);
		dps_count(stats, DPS_STAT_NEW);
		if ((cand_st & DPS_SLOT_KIND) == DPS_SLOT_READY)
			dps_count(stats, DPS_STAT_EVICTED);
		return;
	}
	dps_count(stats, DPS_STAT_FAILED);
}

#endif
