// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Estimates: what KSM would save, read from the targets' memory before KSM
 * is enabled.
 *
 * Three parts:
 *  - the scan: for every target process, its VMAs from smaps (those KSM can
 *    merge), its present private anonymous pages from pagemap, and their
 *    contents through /proc/PID/mem (never process_vm_readv(), which
 *    unshares copy-on-write and KSM pages it reads). Each page becomes a
 *    record (process, address, frame, content entry); contents are hashed
 *    into a table of entries keyed by (hash, NUMA node when
 *    merge_across_nodes is 0);
 *  - the verify pass: the records of contents that would be merged are read
 *    again after a delay, and those whose content changed are dropped;
 *  - the accounting: from the records, per content, the number of mappings
 *    and of distinct frames, and ksm_model_group(), a pure function of them
 *    and the knobs, gives the kernel's counters. Sampled contents are scaled
 *    up by 1/rate (Horvitz-Thompson) with their variance.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "missing.h"

/*
 * Rounding and the square root without libm: linking libm for these
 * costs every process that loads libksm some 300 KiB of resident memory
 * (the loader reads its tables), which 'ksmctl tune' cannot spare.
 */
static int64_t round_ll(double x)
{
	return (int64_t)(x < 0 ? x - 0.5 : x + 0.5); /* halves away from zero, as llround() */
}

/* Newton's iteration from above: it decreases until it reaches the root. */
static double sqrt_d(double v)
{
	double x;

	if (!(v > 0))
		return 0;
	x = v > 1 ? v : 1;
	for (int i = 0; i < 2100; i++) {
		double n = 0.5 * (x + v / x);

		if (n >= x)
			break;
		x = n;
	}
	return x;
}

#define MAX_TARGETS 64
#define READ_PAGES 64         /* pages per pread() of /proc/PID/mem */
#define PM_CHUNK 512           /* pagemap entries per read */
#define PROGRESS_EVERY 4096
#define DROPPED UINT32_MAX      /* rec.entry: changed before the verify pass */
#define REMAPPED (UINT32_MAX - 1) /* rec.entry: a zero page of a huge page that merging
				     splits; the kernel maps it to the zero page */
#define GONE(entry) ((entry) >= REMAPPED)
#define REC_THP (UINT64_C(1) << 62) /* rec.pfn: the frame is part of a huge page */
#define KPF_THP (UINT64_C(1) << 22)

#define PM_PRESENT (UINT64_C(1) << 63)
#define PM_SWAPPED (UINT64_C(1) << 62)
#define PM_FILE    (UINT64_C(1) << 61)
#define PM_PFN     ((UINT64_C(1) << 55) - 1)

enum kind { KIND_OTHER = 0, KIND_ZERO = 1, KIND_FILLED = 2 };

struct entry {
	uint64_t hash;
	uint64_t mask;      /* targets with a mapping of it */
	uint32_t n, f;      /* mappings, distinct frames */
	uint16_t node;
	uint8_t kind;
	uint8_t merges;     /* set by the accounting: merged when all targets are */
};

struct rec {
	uint64_t vaddr;
	uint64_t pfn;       /* 0: unknown */
	uint32_t entry;     /* DROPPED when the verify pass saw it change */
	uint32_t proc;
};

struct vma {
	uint64_t start, end;
	int64_t thp_pages;
};

struct proc {
	int pid;
	int target;
	int64_t candidates;
	int64_t zero_pages;  /* candidates with zero content */
	int64_t thp_pages;
	int64_t unreadable;  /* present in pagemap, but the read failed */
};

struct target {
	char *name;
	int pid;            /* > 0: a process; 0: cgroup or all */
	char *cgroup;       /* relative to sys/fs/cgroup; NULL with pid or all */
	bool all;
	struct ksm_estimate_result res;
	int64_t *overlap;   /* [MAX_TARGETS], doubles as counts */
	double sharing_var, profit_var, freed_var;
};

struct ksm_estimate {
	int refcount;
	struct ksm_ctx *ctx;
	struct target targets[MAX_TARGETS];
	int ntargets;
	double rate;
	uint64_t seed, threshold;
	uint64_t memory_limit;  /* bytes of tables; 0: none */
	bool auto_sampled;
	int64_t pages_to_scan, sleep_ms; /* the cost model's knobs; -1 unknown */
	unsigned int verify_ms;
	int (*progress)(void *data, uint64_t done, uint64_t total);
	void *progress_data;
	uint64_t done, total;
	bool ran, accounted, frames_known;
	bool no_pagemap_scan;  /* the kernel lacks PAGEMAP_SCAN */
	int kpageflags;        /* /proc/kpageflags, or -1 */
	bool vma_thp;          /* the VMA being read has huge pages */
	bool thp_remap;        /* splitting a huge page maps its zero pages to the zero page */
	uint64_t thp_nr;       /* pages per PMD-sized huge page */

	struct proc *procs;
	size_t nprocs, capprocs;
	struct rec *recs;
	size_t nrecs, caprecs;
	struct entry *entries;
	size_t nentries, capentries;
	uint32_t *index;     /* entry + 1, 0 empty */
	size_t indexcap;     /* power of two */

	uint64_t zero_pfn;
	int16_t *block_node; /* memory block -> NUMA node, merge_across_nodes 0 only */
	size_t nblocks;
	uint64_t block_pages;

	struct ksm_estimate_result whole;
	double var_sharing, var_profit, var_freed;
	struct ksm_model model;
};

/* ------------------------------------------------------------------------ */
/* The model                                                                 */

void ksm_model_group(const struct ksm_model *m, int64_t n, int64_t f, bool zero,
		     struct ksm_model_counts *c)
{
	int64_t M = m->max_page_sharing < 2 ? 2 : m->max_page_sharing;
	int64_t kept;

	memset(c, 0, sizeof(*c));
	if (n <= 0)
		return;
	if (zero && m->use_zero_pages) {
		/* Every mapping goes to the kernel's zero page, one frame or many;
		 * ksmd frees their rmap_items on its next pass. */
		c->ksm_zero_pages = n;
		c->rmap_removed = n;
		c->freed_pages = f;
		return;
	}
	/* KSM never merges a frame with itself: copies must lie on two frames. */
	if (f < 2)
		return;
	/* Chains of KSM pages of at most M mappings each (stable_node dups); a
	 * last single mapping stays unmerged. */
	kept = n / M + (n % M != 0);
	c->pages_sharing = n - kept;
	c->pages_shared = n / M + (n % M >= 2);
	c->merged = n - (n % M == 1);
	c->freed_pages = f > kept ? f - kept : 0;
}

void ksm_ksmd_cost_model(int64_t pages, int64_t merged, int64_t pages_to_scan, int64_t sleep_ms,
			 struct ksm_ksmd_cost *c)
{
	double per_page = KSM_KSMD_NS_PER_PAGE, batch, batches, sleep_ns, x, steady;

	memset(c, 0, sizeof(*c));
	if (pages <= 0 || pages_to_scan <= 0 || sleep_ms < 0)
		return;
	batch = (double)pages_to_scan * per_page;
	batches = (double)((pages + pages_to_scan - 1) / pages_to_scan);
	/* A sleep lasts longer than asked by the timer's granularity. */
	sleep_ns = sleep_ms ? (double)sleep_ms * 1e6 + KSM_KSMD_SLEEP_EXTRA_NS : 0;
	c->cpu_to_merge_ns = round_ll(KSM_KSMD_SCANS_TO_MERGE * (double)pages * per_page);
	c->wall_to_merge_ms = round_ll(KSM_KSMD_SCANS_TO_MERGE * batches * (sleep_ns + batch) / 1e6);
	/* Afterwards: pages in KSM pages cost little, the others more. */
	x = merged <= 0 ? 0 : merged >= pages ? 1 : (double)merged / (double)pages;
	steady = x * KSM_KSMD_NS_PER_MERGED_PAGE + (1 - x) * KSM_KSMD_NS_PER_UNMERGED_PAGE;
	batch = (double)pages_to_scan * steady;
	c->cpu_per_hour_ns = round_ll(3600e9 * batch / (batch + sleep_ns));
}

double ksm_estimate_fit_rate(uint64_t pages, uint64_t limit)
{
	double need = (double)pages * KSM_ESTIMATE_BYTES_PER_PAGE;

	if (!limit || need <= (double)limit)
		return 1.0;
	return (double)limit / need;
}

size_t ksm_coalesce_pages(const uint64_t *addrs, size_t n, uint64_t page_size, uint64_t gap,
			  struct ksm_range *out, size_t max)
{
	size_t count = 0;
	uint64_t start = 0, end = 0;

	for (size_t i = 0; i < n; i++) {
		if (count && addrs[i] >= end && (addrs[i] - end) / page_size <= gap) {
			end = addrs[i] + page_size;
			if (count <= max)
				out[count - 1].length = end - start;
			continue;
		}
		if (count && addrs[i] < end)
			continue; /* the same page twice */
		start = addrs[i];
		end = start + page_size;
		if (count < max)
			out[count] = (struct ksm_range){ .start = start, .length = page_size };
		count++;
	}
	return count;
}

/* ------------------------------------------------------------------------ */
/* Hashing                                                                   */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static uint64_t nh_keys[4096 / 8 + 4];

static void nh_init(void)
{
	static bool done;
	uint64_t s = UINT64_C(0x6a09e667f3bcc908);

	if (done)
		return;
	for (size_t i = 0; i < KSM_ARRAY_SIZE(nh_keys); i++) {
		s += UINT64_C(0x9e3779b97f4a7c15);
		nh_keys[i] = mix64(s);
	}
	done = true;
}

/*
 * NH over the page: for each 64-bit word x and key k, (x + k) mod 2^64 cut
 * into 32-bit halves multiplied together, summed; two sums with keys
 * shifted by two words. On x86-64 four lanes of SSE2 32x32->64 multiplies
 * (pmuludq); elsewhere the same in scalar code.
 */
#if defined(__SSE2__) && !defined(KSM_NO_SSE2)
#include <emmintrin.h>

static uint64_t page_hash(const uint64_t *w, size_t words)
{
	__m128i a = _mm_setzero_si128(), b = a, c = a, d = a;
	uint64_t out[8];
	size_t i;

	for (i = 0; i + 4 <= words; i += 4) {
		__m128i x0 = _mm_loadu_si128((const __m128i *)(w + i));
		__m128i x1 = _mm_loadu_si128((const __m128i *)(w + i + 2));
		__m128i k0 = _mm_loadu_si128((const __m128i *)(nh_keys + i));
		__m128i k1 = _mm_loadu_si128((const __m128i *)(nh_keys + i + 2));
		__m128i k2 = _mm_loadu_si128((const __m128i *)(nh_keys + i + 4));
		__m128i t;

		t = _mm_add_epi64(x0, k0);
		a = _mm_add_epi64(a, _mm_mul_epu32(t, _mm_srli_epi64(t, 32)));
		t = _mm_add_epi64(x1, k1);
		b = _mm_add_epi64(b, _mm_mul_epu32(t, _mm_srli_epi64(t, 32)));
		t = _mm_add_epi64(x0, k1);
		c = _mm_add_epi64(c, _mm_mul_epu32(t, _mm_srli_epi64(t, 32)));
		t = _mm_add_epi64(x1, k2);
		d = _mm_add_epi64(d, _mm_mul_epu32(t, _mm_srli_epi64(t, 32)));
	}
	_mm_storeu_si128((__m128i *)out, _mm_add_epi64(a, b));
	_mm_storeu_si128((__m128i *)(out + 2), _mm_add_epi64(c, d));
	for (; i < words; i++) {
		uint64_t t1 = w[i] + nh_keys[i], t2 = w[i] + nh_keys[i + 2];

		out[0] += (t1 & 0xffffffffu) * (t1 >> 32);
		out[2] += (t2 & 0xffffffffu) * (t2 >> 32);
	}
	return mix64(out[0] ^ mix64(out[1] ^ mix64(out[2] ^ mix64(out[3] ^ words))));
}
#else
static uint64_t page_hash(const uint64_t *w, size_t words)
{
	uint64_t out[4] = { 0 };

	for (size_t i = 0; i < words; i++) {
		uint64_t t1 = w[i] + nh_keys[i], t2 = w[i] + nh_keys[i + 2];

		out[i % 2] += (t1 & 0xffffffffu) * (t1 >> 32);
		out[2 + i % 2] += (t2 & 0xffffffffu) * (t2 >> 32);
	}
	return mix64(out[0] ^ mix64(out[1] ^ mix64(out[2] ^ mix64(out[3] ^ words))));
}
#endif

/* The kind of a page and the hash that identifies its content. */
static enum kind classify(const void *page, size_t size, uint64_t *hash)
{
	const uint64_t *w = page;
	size_t words = size / 8;
	size_t i;

	for (i = 1; i < words; i++)
		if (w[i] != w[0])
			break;
	if (i == words) {
		*hash = mix64(w[0] ^ UINT64_C(0x5bd1e9955bd1e995));
		return w[0] == 0 ? KIND_ZERO : KIND_FILLED;
	}
	*hash = page_hash(w, words);
	return KIND_OTHER;
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                    */

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 256;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*arr, c * elem);
	if (!p)
		return ksm_fail(-ENOMEM, "out of memory for the estimate's tables");
	*arr = p;
	*cap = c;
	return 0;
}

static size_t slot_of(uint64_t hash, int node, size_t cap)
{
	return (size_t)(mix64(hash ^ ((uint64_t)node << 48)) & (cap - 1));
}

static int index_grow(struct ksm_estimate *est)
{
	size_t cap = est->indexcap ? est->indexcap * 2 : 4096;
	uint32_t *idx;

	idx = calloc(cap, sizeof(*idx));
	if (!idx)
		return ksm_fail(-ENOMEM, "out of memory for the estimate's tables");
	for (size_t e = 0; e < est->nentries; e++) {
		size_t s = slot_of(est->entries[e].hash, est->entries[e].node, cap);

		while (idx[s])
			s = (s + 1) & (cap - 1);
		idx[s] = (uint32_t)e + 1;
	}
	free(est->index);
	est->index = idx;
	est->indexcap = cap;
	return 0;
}

/* The entry of (hash, kind, node), created if new; index or -errno. */
static int64_t entry_get(struct ksm_estimate *est, uint64_t hash, enum kind kind, int node)
{
	size_t s;
	int r;

	if ((est->nentries + 1) * 2 > est->indexcap) {
		r = index_grow(est);
		if (r < 0)
			return r;
	}
	hash ^= kind; /* zero and same-filled contents apart from the rest */
	s = slot_of(hash, node, est->indexcap);
	while (est->index[s]) {
		struct entry *e = &est->entries[est->index[s] - 1];

		if (e->hash == hash && e->node == node)
			return est->index[s] - 1;
		s = (s + 1) & (est->indexcap - 1);
	}
	if (est->nentries >= UINT32_MAX - 1)
		return ksm_fail(-ENOMEM, "too many distinct contents for one estimate");
	r = grow((void **)&est->entries, &est->capentries, est->nentries + 1, sizeof(struct entry));
	if (r < 0)
		return r;
	est->entries[est->nentries] = (struct entry){ .hash = hash, .kind = (uint8_t)kind,
						      .node = (uint16_t)node };
	est->index[s] = (uint32_t)est->nentries + 1;
	return (int64_t)est->nentries++;
}

static int node_of(const struct ksm_estimate *est, uint64_t pfn)
{
	uint64_t b;

	if (!est->block_node || !pfn)
		return 0;
	b = pfn / est->block_pages;
	return b < est->nblocks && est->block_node[b] >= 0 ? est->block_node[b] : 0;
}

static bool sampled_out(const struct ksm_estimate *est, enum kind kind, uint64_t hash)
{
	return kind == KIND_OTHER && est->rate < 1.0 && mix64(hash ^ est->seed) >= est->threshold;
}

/* One candidate page of process @proc, its content read. */
static int add_page(struct ksm_estimate *est, uint32_t proc, uint64_t vaddr, uint64_t pfn,
		    const void *page)
{
	uint64_t hash;
	enum kind kind = classify(page, (size_t)est->ctx->page_size, &hash);
	int64_t e;
	int r;

	est->procs[proc].candidates++;
	if (kind == KIND_ZERO)
		est->procs[proc].zero_pages++;
	if (sampled_out(est, kind, hash))
		return 0;
	e = entry_get(est, hash, kind,
		      est->model.merge_across_nodes ? 0 : node_of(est, pfn & PM_PFN));
	if (e < 0)
		return (int)e;
	r = grow((void **)&est->recs, &est->caprecs, est->nrecs + 1, sizeof(struct rec));
	if (r < 0)
		return r;
	est->recs[est->nrecs++] = (struct rec){ .vaddr = vaddr, .pfn = pfn, .entry = (uint32_t)e,
						.proc = proc };
	return 0;
}

static int proc_add(struct ksm_estimate *est, int pid, int target)
{
	int r = grow((void **)&est->procs, &est->capprocs, est->nprocs + 1, sizeof(struct proc));

	if (r < 0)
		return r;
	est->procs[est->nprocs] = (struct proc){ .pid = pid, .target = target };
	return (int)est->nprocs++;
}

/* ------------------------------------------------------------------------ */
/* Accounting                                                                */

struct acc {
	double sharing, shared, zero, rmap_removed, freed, merged;
	double var_sharing, var_profit, var_freed;
};

static void acc_group(struct acc *a, const struct ksm_estimate *est, const struct ksm_model *m,
		      int64_t n, int64_t f, enum kind kind)
{
	struct ksm_model_counts c;
	double w = 1, ps = (double)est->ctx->page_size;

	ksm_model_group(m, n, f, kind == KIND_ZERO, &c);
	if (kind == KIND_OTHER && est->rate < 1.0) {
		double v = (1 - est->rate) / (est->rate * est->rate);
		double profit = (double)(c.pages_sharing + c.ksm_zero_pages) * ps +
				(double)c.rmap_removed * RMAP_ITEM_SIZE;

		w = 1 / est->rate;
		a->var_sharing += v * (double)c.pages_sharing * (double)c.pages_sharing;
		a->var_profit += v * profit * profit;
		a->var_freed += v * (double)c.freed_pages * (double)c.freed_pages * ps * ps;
	}
	a->sharing += w * (double)c.pages_sharing;
	a->shared += w * (double)c.pages_shared;
	a->zero += w * (double)c.ksm_zero_pages;
	a->rmap_removed += w * (double)c.rmap_removed;
	a->freed += w * (double)c.freed_pages;
	a->merged += w * (double)c.merged;
}

static int64_t ci95(double var)
{
	return round_ll(1.96 * sqrt_d(var));
}

static void acc_result(const struct ksm_estimate *est, const struct acc *a, int64_t candidates,
		       int64_t thp, int64_t unreadable, struct ksm_estimate_result *res)
{
	double ps = (double)est->ctx->page_size;

	memset(res, 0, sizeof(*res));
	res->present = (est->frames_known ? KSM_ESTIMATE_FRAMES : 0) |
		       (est->rate < 1.0 ? KSM_ESTIMATE_SAMPLED : 0) |
		       (est->auto_sampled ? KSM_ESTIMATE_AUTO_SAMPLED : 0) |
		       (est->verify_ms ? KSM_ESTIMATE_VERIFIED : 0);
	res->unreadable_pages = unreadable;
	res->pages_sharing = round_ll(a->sharing);
	res->pages_shared = round_ll(a->shared);
	res->ksm_zero_pages = round_ll(a->zero);
	res->rmap_items = candidates - round_ll(a->rmap_removed);
	res->general_profit = (res->pages_sharing + res->ksm_zero_pages) * est->ctx->page_size -
			      res->rmap_items * RMAP_ITEM_SIZE;
	res->freed_bytes = round_ll(a->freed * ps);
	res->ksm_merging_pages = round_ll(a->merged);
	res->pages_sharing_ci = ci95(a->var_sharing);
	res->general_profit_ci = ci95(a->var_profit);
	res->freed_bytes_ci = ci95(a->var_freed);
	res->candidate_pages = candidates;
	res->thp_pages = thp;
	res->max_page_sharing = est->model.max_page_sharing;
	res->use_zero_pages = est->model.use_zero_pages;
	res->merge_across_nodes = est->model.merge_across_nodes;
	res->sample_rate = est->rate;
	if (est->pages_to_scan > 0 && est->sleep_ms >= 0) {
		struct ksm_ksmd_cost c;

		ksm_ksmd_cost_model(res->rmap_items, res->ksm_merging_pages, est->pages_to_scan,
				    est->sleep_ms, &c);
		res->present |= KSM_ESTIMATE_KSMD_COST;
		res->pages_to_scan = est->pages_to_scan;
		res->sleep_millisecs = est->sleep_ms;
		res->ksmd_cpu_to_merge_ns = c.cpu_to_merge_ns;
		res->ksmd_wall_to_merge_ms = c.wall_to_merge_ms;
		res->ksmd_cpu_per_hour_ns = c.cpu_per_hour_ns;
	}
}

/* Frames seen, as a growable bitmap. */
struct bitmap {
	uint64_t *w;
	size_t nw;
};

/* Set bit @b; returns whether it was set before, or -ENOMEM. */
static int bit_test_set(struct bitmap *bm, uint64_t b)
{
	size_t i = (size_t)(b / 64);

	if (i >= bm->nw) {
		size_t nw = bm->nw ? bm->nw : 1024;
		uint64_t *p;

		while (nw <= i)
			nw *= 2;
		p = realloc(bm->w, nw * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + bm->nw, 0, (nw - bm->nw) * sizeof(*p));
		bm->w = p;
		bm->nw = nw;
	}
	if (bm->w[i] & (UINT64_C(1) << (b % 64)))
		return 1;
	bm->w[i] |= UINT64_C(1) << (b % 64);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Merging a page of a huge page splits it, and the split maps the huge
 * page's zero-filled pages to the shared zero page: they leave KSM's view
 * (no rmap_item, no counter) and their memory is freed. Mark those records
 * REMAPPED. Returns how many were newly marked, or -ENOMEM.
 */
static int thp_split(struct ksm_estimate *est)
{
	uint64_t *split = NULL;
	size_t n = 0, cap = 0;
	int marked = 0;

	for (size_t i = 0; i < est->nrecs; i++) {
		const struct rec *rc = &est->recs[i];

		if (GONE(rc->entry) || !(rc->pfn & REC_THP) || !est->entries[rc->entry].merges)
			continue;
		if (grow((void **)&split, &cap, n + 1, sizeof(*split)) < 0)
			return -ENOMEM;
		split[n++] = (rc->pfn & PM_PFN) / est->thp_nr;
	}
	if (n)
		qsort(split, n, sizeof(*split), cmp_u64);
	for (size_t i = 0; n && i < est->nrecs; i++) {
		struct rec *rc = &est->recs[i];
		uint64_t id = (rc->pfn & PM_PFN) / est->thp_nr;

		if (GONE(rc->entry) || !(rc->pfn & REC_THP) ||
		    est->entries[rc->entry].kind != KIND_ZERO)
			continue;
		if (bsearch(&id, split, n, sizeof(*split), cmp_u64)) {
			rc->entry = REMAPPED;
			marked++;
		}
	}
	free(split);
	return marked;
}

int ksm_estimate_account(struct ksm_estimate *est, const struct ksm_model *m)
{
	struct bitmap frames = { 0 };
	uint32_t *tn = NULL, *tf = NULL, *touched = NULL;
	size_t ntouched;
	struct acc whole = { 0 };
	int64_t cand = 0, thp = 0, unreadable = 0;
	int r = -ENOMEM;

	est->model = *m;
again:
	if (frames.w)
		memset(frames.w, 0, frames.nw * sizeof(*frames.w));
	for (size_t e = 0; e < est->nentries; e++) {
		est->entries[e].n = est->entries[e].f = 0;
		est->entries[e].mask = 0;
	}
	/* Mappings and distinct frames per content, all targets together. */
	for (size_t i = 0; i < est->nrecs; i++) {
		const struct rec *rc = &est->recs[i];
		struct entry *e;

		if (GONE(rc->entry))
			continue;
		e = &est->entries[rc->entry];
		e->n++;
		e->mask |= UINT64_C(1) << est->procs[rc->proc].target;
		if (rc->pfn) {
			int seen = bit_test_set(&frames, rc->pfn & PM_PFN);

			if (seen < 0)
				goto out;
			e->f += !seen;
		} else {
			e->f++;
		}
	}
	for (size_t e = 0; e < est->nentries; e++) {
		struct entry *en = &est->entries[e];
		struct ksm_model_counts c;

		ksm_model_group(m, en->n, en->f, en->kind == KIND_ZERO, &c);
		en->merges = c.merged > 0 || c.ksm_zero_pages > 0;
	}
	if (est->thp_remap) {
		r = thp_split(est);
		if (r < 0)
			goto out;
		if (r > 0) {
			/* Zero pages left the groups: count again. */
			r = -ENOMEM;
			goto again;
		}
		r = -ENOMEM;
	}
	for (size_t e = 0; e < est->nentries; e++) {
		struct entry *en = &est->entries[e];

		acc_group(&whole, est, m, en->n, en->f, (enum kind)en->kind);
	}
	for (size_t p = 0; p < est->nprocs; p++) {
		cand += est->procs[p].candidates;
		thp += est->procs[p].thp_pages;
		unreadable += est->procs[p].unreadable;
	}
	for (size_t i = 0; i < est->nrecs; i++)
		if (est->recs[i].entry == REMAPPED) {
			cand--;
			whole.freed++;
		}
	acc_result(est, &whole, cand, thp, unreadable, &est->whole);

	/* Each target alone: the same from its own records. */
	tn = calloc(est->nentries + 1, sizeof(*tn));
	tf = calloc(est->nentries + 1, sizeof(*tf));
	touched = calloc(est->nentries + 1, sizeof(*touched));
	if (!tn || !tf || !touched)
		goto out;
	for (int t = 0; t < est->ntargets; t++) {
		struct target *tg = &est->targets[t];
		struct acc a = { 0 };
		double merging = 0;
		int64_t tcand = 0, tthp = 0, tunread = 0;

		memset(tg->overlap, 0, MAX_TARGETS * sizeof(*tg->overlap));
		ntouched = 0;
		if (frames.w)
			memset(frames.w, 0, frames.nw * sizeof(*frames.w));
		for (size_t i = 0; i < est->nrecs; i++) {
			const struct rec *rc = &est->recs[i];
			const struct entry *e;
			double w;

			if (GONE(rc->entry) || est->procs[rc->proc].target != t)
				continue;
			e = &est->entries[rc->entry];
			if (!tn[rc->entry]++)
				touched[ntouched++] = rc->entry;
			if (rc->pfn) {
				int seen = bit_test_set(&frames, rc->pfn & PM_PFN);

				if (seen < 0)
					goto out;
				tf[rc->entry] += !seen;
			} else {
				tf[rc->entry]++;
			}
			if (!e->merges)
				continue;
			if (e->kind == KIND_ZERO && m->use_zero_pages)
				continue; /* the zero page: ksm_zero_pages, shared with no target */
			w = e->kind == KIND_OTHER && est->rate < 1.0 ? 1 / est->rate : 1;
			merging += w;
			for (int b = 0; b < est->ntargets; b++)
				if (e->mask & (UINT64_C(1) << b))
					tg->overlap[b] += round_ll(w);
		}
		for (size_t i = 0; i < ntouched; i++) {
			uint32_t e = touched[i];

			acc_group(&a, est, m, tn[e], tf[e], (enum kind)est->entries[e].kind);
			tn[e] = tf[e] = 0;
		}
		/* A content with one mapping in this target overlaps with itself only
		 * if another of its mappings is here too. */
		for (size_t i = 0; i < est->nrecs; i++) {
			const struct rec *rc = &est->recs[i];

			if (!GONE(rc->entry) && est->procs[rc->proc].target == t &&
			    est->entries[rc->entry].merges && !(est->entries[rc->entry].kind == KIND_ZERO &&
								m->use_zero_pages))
				tn[rc->entry]++;
		}
		for (size_t i = 0; i < est->nrecs; i++) {
			const struct rec *rc = &est->recs[i];

			if (!GONE(rc->entry) && est->procs[rc->proc].target == t && tn[rc->entry]) {
				if (tn[rc->entry] == 1)
					tg->overlap[t] -= round_ll(est->entries[rc->entry].kind == KIND_OTHER &&
								  est->rate < 1.0 ? 1 / est->rate : 1);
				tn[rc->entry] = 0;
			}
		}
		for (size_t p = 0; p < est->nprocs; p++) {
			if (est->procs[p].target != t)
				continue;
			tcand += est->procs[p].candidates;
			tthp += est->procs[p].thp_pages;
			tunread += est->procs[p].unreadable;
		}
		for (size_t i = 0; i < est->nrecs; i++)
			if (est->recs[i].entry == REMAPPED && est->procs[est->recs[i].proc].target == t) {
				tcand--;
				a.freed++;
			}
		acc_result(est, &a, tcand, tthp, tunread, &tg->res);
		tg->res.ksm_merging_pages = round_ll(merging);
		tg->res.processes = 0;
	}
	for (size_t p = 0; p < est->nprocs; p++)
		est->targets[est->procs[p].target].res.processes++;
	est->whole.processes = (int64_t)est->nprocs;
	for (int t = 0; t < est->ntargets; t++) {
		est->whole.skipped_processes += est->targets[t].res.skipped_processes;
		est->whole.volatile_pages += est->targets[t].res.volatile_pages;
	}
	est->accounted = true;
	r = 0;
out:
	free(frames.w);
	free(tn);
	free(tf);
	free(touched);
	if (r < 0)
		return ksm_fail(r, "out of memory for the estimate's tables");
	return 0;
}

void ksm_estimate_set_model(struct ksm_estimate *est, const struct ksm_model *m)
{
	est->model = *m;
}

int ksm_estimate_feed(struct ksm_estimate *est, int target, int pid, uint64_t vaddr,
		      uint64_t pfn, int node, const void *page)
{
	int p = -1;

	if (target < 0 || target >= est->ntargets)
		return -EINVAL;
	for (size_t i = 0; i < est->nprocs; i++)
		if (est->procs[i].pid == pid)
			p = (int)i;
	if (p < 0)
		p = proc_add(est, pid, target);
	if (p < 0)
		return p;
	est->frames_known = pfn != 0;
	if (node && est->nblocks == 0) {
		/* A test names the node directly: one block per page. */
		est->block_pages = 1;
	}
	if (node) {
		size_t need = (size_t)pfn + 1;

		if (need > est->nblocks) {
			int16_t *bn = realloc(est->block_node, need * sizeof(*bn));

			if (!bn)
				return -ENOMEM;
			for (size_t i = est->nblocks; i < need; i++)
				bn[i] = -1;
			est->block_node = bn;
			est->nblocks = need;
		}
		est->block_node[pfn] = (int16_t)node;
	}
	return add_page(est, (uint32_t)p, vaddr, pfn, page);
}

/* ------------------------------------------------------------------------ */
/* Objects and targets                                                       */

KSM_EXPORT int ksm_estimate_new(struct ksm_ctx *ctx, struct ksm_estimate **out)
{
	struct ksm_estimate *est;

	ksm_fail_clear();
	if (!ctx || !out)
		return -EINVAL;
	est = calloc(1, sizeof(*est));
	if (!est)
		return ksm_fail(-ENOMEM, "out of memory");
	est->refcount = 1;
	est->ctx = ksm_ref(ctx);
	est->rate = 1.0;
	est->threshold = UINT64_MAX;
	est->model = (struct ksm_model){ .max_page_sharing = 256, .merge_across_nodes = true };
	est->kpageflags = -1;
	est->thp_nr = 512;
	est->memory_limit = KSM_ESTIMATE_MEMORY_LIMIT;
	est->pages_to_scan = est->sleep_ms = -1;
	nh_init();
	*out = est;
	return 0;
}

KSM_EXPORT struct ksm_estimate *ksm_estimate_ref(struct ksm_estimate *est)
{
	if (est)
		est->refcount++;
	return est;
}

KSM_EXPORT struct ksm_estimate *ksm_estimate_unref(struct ksm_estimate *est)
{
	if (!est || --est->refcount > 0)
		return est;
	for (int t = 0; t < est->ntargets; t++) {
		free(est->targets[t].name);
		free(est->targets[t].cgroup);
		free(est->targets[t].overlap);
	}
	free(est->procs);
	free(est->recs);
	free(est->entries);
	free(est->index);
	free(est->block_node);
	if (est->kpageflags >= 0)
		close(est->kpageflags);
	ksm_unref(est->ctx);
	free(est);
	return NULL;
}

static int target_new(struct ksm_estimate *est, const char *name)
{
	struct target *t;

	if (est->ran)
		return ksm_fail(-EINVAL, "targets can only be added before the estimate runs");
	if (est->ntargets >= MAX_TARGETS)
		return ksm_fail(-EINVAL, "an estimate takes at most %d targets", MAX_TARGETS);
	t = &est->targets[est->ntargets];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name);
	t->overlap = calloc(MAX_TARGETS, sizeof(*t->overlap));
	if (!t->name || !t->overlap) {
		free(t->name);
		free(t->overlap);
		return ksm_fail(-ENOMEM, "out of memory");
	}
	return est->ntargets++;
}

KSM_EXPORT int ksm_estimate_add_pid(struct ksm_estimate *est, int pid)
{
	char name[16];
	int t;

	ksm_fail_clear();
	if (!est)
		return -EINVAL;
	if (pid < 1)
		return ksm_fail(-EINVAL, "invalid process ID %d", pid);
	snprintf(name, sizeof(name), "%d", pid);
	t = target_new(est, name);
	if (t >= 0)
		est->targets[t].pid = pid;
	return t;
}

/*
 * The cgroup v2 hierarchy: <sysroot>/sys/fs/cgroup, or on a hybrid system
 * (v1 controllers there) its "unified" directory.
 */
static int cgroup_fd(struct ksm_estimate *est)
{
	int fd = openat(est->ctx->rootfd, "sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int unified;

	if (fd < 0)
		return ksm_fail(-errno, "cannot open %s/sys/fs/cgroup: %s", est->ctx->sysroot,
				strerror(errno));
	if (faccessat(fd, "cgroup.controllers", F_OK, 0) == 0)
		return fd;
	unified = openat(fd, "unified", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (unified >= 0 && faccessat(unified, "cgroup.controllers", F_OK, 0) == 0) {
		close(fd);
		return unified;
	}
	if (unified >= 0)
		close(unified);
	close(fd);
	return ksm_fail(-ENOENT, "there is no cgroup v2 hierarchy at %s/sys/fs/cgroup",
			est->ctx->sysroot);
}

static int add_cgroup_rel(struct ksm_estimate *est, const char *rel, const char *name)
{
	int fd, t;

	fd = cgroup_fd(est);
	if (fd == -ENOENT) {
		char why[256];

		snprintf(why, sizeof(why), "%s", ksm_strerror(fd));
		return ksm_fail(-ENOENT, "there is no cgroup %s: %s", name, why);
	}
	if (fd < 0)
		return fd;
	if (faccessat(fd, *rel ? rel : ".", F_OK, 0) < 0 ||
	    faccessat(fd, *rel ? rel : ".", X_OK, AT_EACCESS) < 0) {
		int r = -errno;

		close(fd);
		if (r == -ENOENT || r == -ENOTDIR)
			return ksm_fail(-ENOENT, "there is no cgroup %s below %s/sys/fs/cgroup", name,
					est->ctx->sysroot);
		return ksm_fail(r, "cannot open the cgroup %s: %s", name, strerror(-r));
	}
	close(fd);
	t = target_new(est, name);
	if (t < 0)
		return t;
	est->targets[t].cgroup = strdup(*rel ? rel : ".");
	if (!est->targets[t].cgroup)
		return ksm_fail(-ENOMEM, "out of memory");
	return t;
}

KSM_EXPORT int ksm_estimate_add_cgroup(struct ksm_estimate *est, const char *path)
{
	const char *rel;

	ksm_fail_clear();
	if (!est || !path)
		return -EINVAL;
	rel = path;
	if (strncmp(rel, "/sys/fs/cgroup", 14) == 0 && (rel[14] == '/' || rel[14] == 0))
		rel += 14;
	while (*rel == '/')
		rel++;
	if (strstr(rel, ".."))
		return ksm_fail(-EINVAL, "invalid cgroup path %s", path);
	return add_cgroup_rel(est, rel, path);
}

KSM_EXPORT int ksm_estimate_add_unit(struct ksm_estimate *est, const char *name)
{
	char **queue = NULL, *found = NULL;
	size_t head = 0, n = 0, cap = 0;
	int root, r;

	ksm_fail_clear();
	if (!est || !name || !*name || strchr(name, '/'))
		return est && name ? ksm_fail(-EINVAL, "invalid unit name %s", name) : -EINVAL;
	root = cgroup_fd(est);
	if (root == -ENOENT) {
		char why[256];

		snprintf(why, sizeof(why), "%s", ksm_strerror(root));
		return ksm_fail(-ENOENT, "no cgroup is named %s: %s", name, why);
	}
	if (root < 0)
		return root;
	r = grow((void **)&queue, &cap, 1, sizeof(*queue));
	if (r == 0 && !(queue[n++] = strdup("")))
		r = -ENOMEM;
	/* Breadth first: the system slice's units before those of user slices. */
	while (r == 0 && !found && head < n) {
		char *dir = queue[head++];
		int fd = openat(root, *dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *de;

		if (!d) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while ((de = readdir(d)) && r == 0) {
			char *sub;

			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			if (asprintf(&sub, "%s%s%s", dir, *dir ? "/" : "", de->d_name) < 0) {
				r = -ENOMEM;
				break;
			}
			if (strcmp(de->d_name, name) == 0 && !found) {
				found = sub;
				continue;
			}
			r = grow((void **)&queue, &cap, n + 1, sizeof(*queue));
			if (r < 0)
				free(sub);
			else
				queue[n++] = sub;
		}
		closedir(d);
	}
	for (size_t i = 0; i < n; i++)
		free(queue[i]);
	free(queue);
	close(root);
	if (r < 0) {
		free(found);
		return ksm_fail(-ENOMEM, "out of memory");
	}
	if (!found)
		return ksm_fail(-ENOENT, "no cgroup below %s/sys/fs/cgroup is named %s (is the unit "
				"running?)", est->ctx->sysroot, name);
	r = add_cgroup_rel(est, found, name);
	free(found);
	return r;
}

KSM_EXPORT int ksm_estimate_add_all(struct ksm_estimate *est)
{
	int t;

	ksm_fail_clear();
	if (!est)
		return -EINVAL;
	t = target_new(est, "all");
	if (t >= 0)
		est->targets[t].all = true;
	return t;
}

KSM_EXPORT int ksm_estimate_set_sample(struct ksm_estimate *est, double rate, uint64_t seed)
{
	ksm_fail_clear();
	if (!est)
		return -EINVAL;
	if (!(rate > 0 && rate <= 1))
		return ksm_fail(-EINVAL, "the sampling rate must lie above 0 and at most 1, not %g",
				rate);
	if (est->ran)
		return ksm_fail(-EINVAL, "the sampling rate can only be set before the estimate runs");
	est->rate = rate;
	est->seed = mix64(seed + UINT64_C(0x9e3779b97f4a7c15));
	est->threshold = rate >= 1 ? UINT64_MAX : (uint64_t)(rate * 18446744073709551616.0);
	return 0;
}

KSM_EXPORT int ksm_estimate_set_verify(struct ksm_estimate *est, unsigned int delay_ms)
{
	ksm_fail_clear();
	if (!est)
		return -EINVAL;
	if (est->ran)
		return ksm_fail(-EINVAL, "the verify pass can only be set before the estimate runs");
	est->verify_ms = delay_ms;
	return 0;
}

KSM_EXPORT int ksm_estimate_set_memory_limit(struct ksm_estimate *est, uint64_t bytes)
{
	ksm_fail_clear();
	if (!est)
		return -EINVAL;
	if (est->ran)
		return ksm_fail(-EINVAL, "the memory limit can only be set before the estimate runs");
	est->memory_limit = bytes;
	return 0;
}

KSM_EXPORT int ksm_estimate_set_progress(struct ksm_estimate *est,
					 int (*fn)(void *data, uint64_t done, uint64_t total),
					 void *data)
{
	ksm_fail_clear();
	if (!est)
		return -EINVAL;
	est->progress = fn;
	est->progress_data = data;
	return 0;
}

KSM_EXPORT int ksm_estimate_target_count(const struct ksm_estimate *est)
{
	return est ? est->ntargets : -EINVAL;
}

KSM_EXPORT const char *ksm_estimate_target_name(const struct ksm_estimate *est, int target)
{
	if (!est || target < 0 || target >= est->ntargets)
		return NULL;
	return est->targets[target].name;
}

KSM_EXPORT int ksm_estimate_result(const struct ksm_estimate *est, int target,
				   struct ksm_estimate_result *res, size_t size)
{
	const struct ksm_estimate_result *src;

	ksm_fail_clear();
	if (!est || !res)
		return -EINVAL;
	if (size < sizeof(res->present))
		return ksm_fail_struct_size("ksm_estimate_result", size);
	if (!est->accounted)
		return ksm_fail(-EINVAL, "the estimate has not run");
	if (target < -1 || target >= est->ntargets)
		return ksm_fail(-EINVAL, "the estimate has no target %d", target);
	src = target < 0 ? &est->whole : &est->targets[target].res;
	ksm_copy_out(res, size, src, sizeof(*src));
	return 0;
}

KSM_EXPORT int ksm_estimate_overlap(const struct ksm_estimate *est, int a, int b,
				    int64_t *pages)
{
	ksm_fail_clear();
	if (!est || !pages)
		return -EINVAL;
	if (!est->accounted)
		return ksm_fail(-EINVAL, "the estimate has not run");
	if (a < 0 || b < 0 || a >= est->ntargets || b >= est->ntargets)
		return ksm_fail(-EINVAL, "the estimate has no target %d", a < 0 || a >= est->ntargets ? a : b);
	*pages = est->targets[a].overlap[b];
	return 0;
}

KSM_EXPORT int ksm_estimate_pids(const struct ksm_estimate *est, int *pids, size_t max)
{
	ksm_fail_clear();
	if (!est || (max && !pids))
		return -EINVAL;
	if (!est->accounted)
		return ksm_fail(-EINVAL, "the estimate has not run");
	for (size_t p = 0; p < est->nprocs && p < max; p++)
		pids[p] = est->procs[p].pid;
	return est->nprocs > INT_MAX ? INT_MAX : (int)est->nprocs;
}

static int fail_sampled(void)
{
	return ksm_fail(-EINVAL, "guided ranges need a full estimate: a sampled one leaves "
				 "contents out");
}

struct ksm_ctx *ksm_estimate_ctx(const struct ksm_estimate *est)
{
	return est->ctx;
}

int ksm_estimate_run_full(struct ksm_estimate *est, unsigned int flags)
{
	int r;

	if (est->rate < 1.0)
		return fail_sampled();
	if (est->accounted)
		return 0;
	est->memory_limit = 0;
	r = ksm_estimate_run(est, flags);
	return r < 0 ? r : 1;
}

KSM_EXPORT int ksm_estimate_ranges(const struct ksm_estimate *est, int pid, unsigned int gap_pages,
				   struct ksm_range *ranges, size_t max)
{
	uint64_t *addrs = NULL, gap = gap_pages, ps;
	size_t n = 0, cap = 0, count;
	int proc = -1;
	bool sorted = true;

	ksm_fail_clear();
	if (!est || (max && !ranges))
		return -EINVAL;
	if (!est->accounted)
		return ksm_fail(-EINVAL, "the estimate has not run");
	if (est->rate < 1.0)
		return fail_sampled();
	for (size_t p = 0; p < est->nprocs; p++)
		if (est->procs[p].pid == pid)
			proc = (int)p;
	if (proc < 0)
		return ksm_fail(-ESRCH, "the estimate read no process %d", pid);
	ps = (uint64_t)est->ctx->page_size;
	/* The pages that would merge; records are in address order per process. */
	for (size_t i = 0; i < est->nrecs; i++) {
		const struct rec *rc = &est->recs[i];

		if (rc->proc != (uint32_t)proc || GONE(rc->entry) || !est->entries[rc->entry].merges)
			continue;
		if (grow((void **)&addrs, &cap, n + 1, sizeof(*addrs)) < 0)
			return -ENOMEM;
		if (n && rc->vaddr < addrs[n - 1])
			sorted = false;
		addrs[n++] = rc->vaddr;
	}
	if (!sorted)
		qsort(addrs, n, sizeof(*addrs), cmp_u64);
	for (;;) {
		count = ksm_coalesce_pages(addrs, n, ps, gap, NULL, 0);
		if (count <= KSM_GUIDED_MAX_RANGES)
			break;
		gap = gap ? gap * 2 : 1;
	}
	if (gap != gap_pages)
		ksm_notice(est->ctx, "process %d: %zu pages would merge, in too many ranges with a gap "
			   "of %u pages; joined with a gap of %" PRIu64 " pages into %zu ranges", pid,
			   n, gap_pages, gap, count);
	ksm_coalesce_pages(addrs, n, ps, gap, ranges, max);
	free(addrs);
	return count > INT_MAX ? INT_MAX : (int)count;
}

/* ------------------------------------------------------------------------ */
/* The scan                                                                  */

static int progress(struct ksm_estimate *est)
{
	if (est->progress && est->progress(est->progress_data, est->done, est->total))
		return ksm_fail(-EINTR, "the estimate was interrupted");
	return 0;
}

/* The knobs the kernel merges by; defaults where a kernel lacks one. */
static int read_model(struct ksm_estimate *est)
{
	int64_t v;
	int r;

	est->model = (struct ksm_model){ .max_page_sharing = INT64_MAX, .merge_across_nodes = true };
	r = ksm_get(est->ctx, KSM_KNOB_MAX_PAGE_SHARING, &v);
	if (r == 0)
		est->model.max_page_sharing = v;
	else if (r != -ENOENT)
		return r;
	r = ksm_get(est->ctx, KSM_KNOB_USE_ZERO_PAGES, &v);
	if (r == 0)
		est->model.use_zero_pages = v != 0;
	else if (r != -ENOENT)
		return r;
	r = ksm_get(est->ctx, KSM_KNOB_MERGE_ACROSS_NODES, &v);
	if (r == 0)
		est->model.merge_across_nodes = v != 0;
	else if (r != -ENOENT)
		return r;
	/* The cost model's knobs: without them the result has no cost. */
	est->pages_to_scan = ksm_get(est->ctx, KSM_KNOB_PAGES_TO_SCAN, &v) == 0 ? v : -1;
	est->sleep_ms = ksm_get(est->ctx, KSM_KNOB_SLEEP_MILLISECS, &v) == 0 ? v : -1;
	ksm_fail_clear();
	return 0;
}

/* merge_across_nodes 0: which node each memory block belongs to. */
static void read_nodes(struct ksm_estimate *est)
{
	char buf[64];
	int nodes, fd;
	DIR *d;
	struct dirent *de;
	uint64_t bsize;

	if (ksm_read_at(est->ctx->rootfd, "sys/devices/system/memory/block_size_bytes", buf,
			sizeof(buf)) < 0)
		return;
	bsize = strtoull(buf, NULL, 16);
	if (!bsize)
		return;
	est->block_pages = bsize / (uint64_t)est->ctx->page_size;
	nodes = openat(est->ctx->rootfd, "sys/devices/system/node", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = nodes >= 0 ? fdopendir(nodes) : NULL;
	if (!d) {
		if (nodes >= 0)
			close(nodes);
		return;
	}
	while ((de = readdir(d))) {
		int node;
		DIR *nd;
		struct dirent *me;

		if (sscanf(de->d_name, "node%d", &node) != 1)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		nd = fd >= 0 ? fdopendir(fd) : NULL;
		if (!nd) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while ((me = readdir(nd))) {
			unsigned long blk;

			if (sscanf(me->d_name, "memory%lu", &blk) != 1)
				continue;
			if (blk >= est->nblocks) {
				size_t nb = blk + 1024;
				int16_t *bn = realloc(est->block_node, nb * sizeof(*bn));

				if (!bn)
					break;
				for (size_t i = est->nblocks; i < nb; i++)
					bn[i] = -1;
				est->block_node = bn;
				est->nblocks = nb;
			}
			est->block_node[blk] = (int16_t)node;
		}
		closedir(nd);
	}
	closedir(d);
}

/*
 * Huge pages: their size, /proc/kpageflags to find them (root only), and
 * whether this kernel maps the zero-filled pages of a split huge page to the
 * zero page (the shrink_underused knob came with that).
 */
static void read_thp(struct ksm_estimate *est, int procfd)
{
	char buf[32];
	uint64_t size;

	if (ksm_read_at(est->ctx->rootfd, "sys/kernel/mm/transparent_hugepage/hpage_pmd_size", buf,
			sizeof(buf)) < 0)
		return;
	size = strtoull(buf, NULL, 10);
	if (size < (uint64_t)est->ctx->page_size)
		return;
	est->thp_nr = size / (uint64_t)est->ctx->page_size;
	est->thp_remap = faccessat(est->ctx->rootfd,
				   "sys/kernel/mm/transparent_hugepage/shrink_underused", F_OK, 0) == 0;
	est->kpageflags = openat(procfd, "kpageflags", O_RDONLY | O_CLOEXEC);
}

/* The frame of the shared zero page, and whether pagemap shows frames at all. */
static void probe_frames(struct ksm_estimate *est, int procfd)
{
	long ps = est->ctx->page_size;
	volatile char *p = mmap(NULL, (size_t)ps * 2, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pm[2];
	int fd;

	est->frames_known = false;
	est->zero_pfn = 0;
	if (p == MAP_FAILED)
		return;
	(void)p[0];       /* read fault: maps the zero page */
	p[ps] = 1;        /* write fault: a frame of our own */
	fd = openat(procfd, "self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && pread(fd, pm, sizeof(pm), (off_t)((uintptr_t)p / (uintptr_t)ps * 8)) ==
			       (ssize_t)sizeof(pm)) {
		if ((pm[1] & PM_PRESENT) && (pm[1] & PM_PFN)) {
			est->frames_known = true;
			if (pm[0] & PM_PRESENT)
				est->zero_pfn = pm[0] & PM_PFN;
		}
	}
	if (fd >= 0)
		close(fd);
	munmap((void *)p, (size_t)ps * 2);
}

static int add_pid_unique(struct ksm_estimate *est, int pid, int target)
{
	for (size_t i = 0; i < est->nprocs; i++)
		if (est->procs[i].pid == pid)
			return 0;
	if (pid == getpid())
		return 0;
	return proc_add(est, pid, target) < 0 ? -ENOMEM : 0;
}

/* The processes of a cgroup and its descendants. */
static int collect_cgroup(struct ksm_estimate *est, int dirfd, int target)
{
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (fd >= 0) {
		FILE *f = fdopen(fd, "re");
		int pid;

		if (!f) {
			close(fd);
			return -ENOMEM;
		}
		while (r == 0 && fscanf(f, "%d", &pid) == 1)
			r = add_pid_unique(est, pid, target);
		fclose(f);
	}
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	while (r == 0 && (de = readdir(d))) {
		int sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0)
			continue;
		r = collect_cgroup(est, sub, target);
		close(sub);
	}
	closedir(d);
	return r;
}

static int collect(struct ksm_estimate *est, int procfd)
{
	for (int t = 0; t < est->ntargets; t++) {
		struct target *tg = &est->targets[t];
		int r = 0;

		if (tg->pid) {
			char name[16];

			snprintf(name, sizeof(name), "%d", tg->pid);
			if (faccessat(procfd, name, F_OK, 0) < 0)
				return ksm_fail(-ESRCH, "cannot estimate process %d: there is no such "
							"process", tg->pid);
			if (tg->pid == getpid())
				return ksm_fail(-EINVAL, "an estimate cannot read its own process");
			r = add_pid_unique(est, tg->pid, t);
		} else if (tg->cgroup) {
			int root = cgroup_fd(est), fd;

			if (root < 0)
				return root;
			fd = openat(root, tg->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			close(root);
			if (fd < 0)
				return ksm_fail(-ENOENT, "the cgroup %s is gone", tg->name);
			r = collect_cgroup(est, fd, t);
			close(fd);
		} else {
			int fd = openat(procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
			struct dirent *de;

			if (!d) {
				if (fd >= 0)
					close(fd);
				return ksm_fail(-errno, "cannot list %s/proc", est->ctx->sysroot);
			}
			while (r == 0 && (de = readdir(d))) {
				char *end;
				long pid = strtol(de->d_name, &end, 10);

				if (*end || pid <= 0)
					continue;
				r = add_pid_unique(est, (int)pid, t);
			}
			closedir(d);
		}
		if (r < 0)
			return ksm_fail(r, "out of memory");
	}
	return 0;
}

/* The VMAs of a process that KSM can merge, with anonymous memory. */
static int read_vmas(int procfd, int pid, struct vma **out, size_t *nout, uint64_t *anon_pages,
		     long ps)
{
	static const char *const reject[] = { "sh", "ms", "pf", "io", "de", "ht", "mm", "dp" };
	char path[48], line[512];
	struct vma *v = NULL, cur = { 0 };
	size_t n = 0, cap = 0;
	int64_t anon_kb = 0;
	bool in = false, skip = false;
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%d/smaps", pid);
	fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	*anon_pages = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		long long kb;

		/* A VMA's first line starts with its address in lower-case hex;
		 * the fields that follow start with a capital ("Rss:"). */
		if (((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f')) &&
		    sscanf(line, "%llx-%llx ", &s, &e) == 2) {
			cur = (struct vma){ .start = s, .end = e };
			in = true;
			anon_kb = 0;
			skip = strstr(line, "[vsyscall]") != NULL;
		} else if (in && sscanf(line, "Anonymous: %lld kB", &kb) == 1) {
			anon_kb = kb;
		} else if (in && sscanf(line, "AnonHugePages: %lld kB", &kb) == 1) {
			cur.thp_pages = kb * 1024 / ps;
		} else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			char *tok, *save;

			for (tok = strtok_r(line + 8, " \n", &save); tok && !skip;
			     tok = strtok_r(NULL, " \n", &save))
				for (size_t i = 0; i < KSM_ARRAY_SIZE(reject); i++)
					if (strcmp(tok, reject[i]) == 0)
						skip = true;
			in = false;
			if (skip || anon_kb == 0)
				continue;
			if (grow((void **)&v, &cap, n + 1, sizeof(*v)) < 0) {
				fclose(f);
				free(v);
				return -ENOMEM;
			}
			v[n++] = cur;
			*anon_pages += (uint64_t)(anon_kb * 1024 / ps);
		}
	}
	fclose(f);
	*out = v;
	*nout = n;
	return 0;
}

/* Read the pages [@first, @first + @count) of a VMA run into records. */
static int read_run(struct ksm_estimate *est, uint32_t p, int memfd, uint64_t addr,
		    const uint64_t *pfns, size_t count, char *buf)
{
	size_t ps = (size_t)est->ctx->page_size;

	while (count) {
		size_t chunk = count < READ_PAGES ? count : READ_PAGES;
		ssize_t got = pread(memfd, buf, chunk * ps, (off_t)addr);
		size_t pages;
		int r;

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			/* The page went away between pagemap and the read (or the
			 * read failed otherwise): counted, not hashed. */
			est->procs[p].unreadable++;
			pages = 1;
		} else {
			pages = (size_t)got / ps;
			for (size_t i = 0; i < pages; i++) {
				r = add_page(est, p, addr + i * ps, pfns[i], buf + i * ps);
				if (r < 0)
					return r;
			}
			if (!pages)
				pages = 1;
		}
		addr += pages * ps;
		pfns += pages;
		count -= pages;
	}
	return 0;
}

/* REC_THP if frame @pfn is part of a huge page (a VMA with huge pages only). */
static uint64_t thp_bit(const struct ksm_estimate *est, uint64_t pfn)
{
	uint64_t flags;

	if (!est->vma_thp || est->kpageflags < 0 || !pfn)
		return 0;
	if (pread(est->kpageflags, &flags, sizeof(flags), (off_t)(pfn * 8)) != sizeof(flags))
		return 0;
	return (flags & KPF_THP) ? REC_THP : 0;
}

/* The candidate pages of [@start, @end) of process @p, through its pagemap. */
static int scan_range(struct ksm_estimate *est, uint32_t p, int memfd, int pmfd, uint64_t start,
		      uint64_t end, char *buf)
{
	size_t ps = (size_t)est->ctx->page_size;
	uint64_t pm[PM_CHUNK], pfns[PM_CHUNK];
	int r;

	for (uint64_t a = start; a < end;) {
		size_t n = (size_t)((end - a) / ps), run = 0;
		uint64_t run_start = 0;
		ssize_t got;

		if (n > PM_CHUNK)
			n = PM_CHUNK;
		got = pread(pmfd, pm, n * 8, (off_t)(a / ps * 8));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n = (size_t)got / 8;
		for (size_t k = 0; k <= n; k++) {
			uint64_t pfn = k < n ? pm[k] & PM_PFN : 0;
			bool cand = k < n &&
				    (pm[k] & (PM_PRESENT | PM_SWAPPED | PM_FILE)) == PM_PRESENT &&
				    !(est->zero_pfn && pfn == est->zero_pfn);

			if (cand) {
				if (!run)
					run_start = a + k * ps;
				pfns[run++] = est->frames_known ? pfn | thp_bit(est, pfn) : 0;
				continue;
			}
			if (run) {
				r = read_run(est, p, memfd, run_start, pfns, run, buf);
				if (r < 0)
					return r;
				est->done += run;
				run = 0;
			}
		}
		a += n * ps;
		if (est->done / PROGRESS_EVERY != (est->done + n) / PROGRESS_EVERY || n == PM_CHUNK) {
			r = progress(est);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/*
 * The candidate pages of a VMA. Where the kernel has PAGEMAP_SCAN (6.7), it
 * names the populated ranges, so that huge sparse reservations (sanitizer
 * shadows, language runtimes' heaps) cost nothing; elsewhere the whole VMA's
 * pagemap is read.
 */
static int scan_vma(struct ksm_estimate *est, uint32_t p, int memfd, int pmfd,
		    const struct vma *v, char *buf, bool *no_scan)
{
	struct page_region regions[64];
	uint64_t at = v->start;
	int r;

	if (*no_scan)
		return scan_range(est, p, memfd, pmfd, v->start, v->end, buf);
	while (at < v->end) {
		struct pm_scan_arg arg = {
			.size = sizeof(arg),
			.start = at,
			.end = v->end,
			.vec = (uint64_t)(uintptr_t)regions,
			.vec_len = KSM_ARRAY_SIZE(regions),
			.category_mask = PAGE_IS_PRESENT,
			.return_mask = PAGE_IS_PRESENT,
		};
		int n = ioctl(pmfd, PAGEMAP_SCAN, &arg);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && at == v->start && (errno == ENOTTY || errno == EINVAL)) {
			*no_scan = true; /* an older kernel */
			return scan_range(est, p, memfd, pmfd, v->start, v->end, buf);
		}
		if (n < 0)
			return 0; /* the VMA changed meanwhile: leave it */
		for (int i = 0; i < n; i++) {
			r = scan_range(est, p, memfd, pmfd, regions[i].start, regions[i].end, buf);
			if (r < 0)
				return r;
		}
		if (arg.walk_end <= at)
			break;
		at = arg.walk_end;
	}
	return 0;
}

static int scan_proc(struct ksm_estimate *est, int procfd, uint32_t p, char *buf)
{
	struct proc *pr = &est->procs[p];
	size_t ps = (size_t)est->ctx->page_size, nv = 0;
	struct vma *v = NULL;
	uint64_t anon = 0;
	char path[48];
	int memfd = -1, pmfd = -1, r;

	r = read_vmas(procfd, pr->pid, &v, &nv, &anon, (long)ps);
	if (r < 0)
		return r;
	if (nv == 0) {
		/* A kernel thread, or nothing KSM could merge: not counted. */
		free(v);
		return 1;
	}
	est->total += anon;
	snprintf(path, sizeof(path), "%d/mem", pr->pid);
	memfd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (memfd < 0) {
		r = -errno;
		goto out;
	}
	snprintf(path, sizeof(path), "%d/pagemap", pr->pid);
	pmfd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (pmfd < 0) {
		r = -errno;
		goto out;
	}
	for (size_t i = 0; i < nv; i++) {
		pr->thp_pages += v[i].thp_pages;
		est->vma_thp = v[i].thp_pages > 0;
		r = scan_vma(est, p, memfd, pmfd, &v[i], buf, &est->no_pagemap_scan);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	if (memfd >= 0)
		close(memfd);
	if (pmfd >= 0)
		close(pmfd);
	free(v);
	return r;
}

/* Re-read the records of contents that would merge; drop those that changed. */
static int verify(struct ksm_estimate *est, int procfd, char *buf)
{
	size_t ps = (size_t)est->ctx->page_size;
	struct timespec ts = { 0, 100 * 1000000L };
	int r;

	for (unsigned int slept = 0; slept < est->verify_ms; slept += 100) {
		if (est->verify_ms - slept < 100)
			ts.tv_nsec = (long)(est->verify_ms - slept) * 1000000L;
		nanosleep(&ts, NULL);
		r = progress(est);
		if (r < 0)
			return r;
	}
	/* Which contents would merge, as the scan saw them. */
	r = ksm_estimate_account(est, &est->model);
	if (r < 0)
		return r;
	for (size_t i = 0; i < est->nrecs;) {
		struct rec *rc = &est->recs[i];
		struct proc *pr = &est->procs[rc->proc];
		char path[48];
		int memfd;
		size_t j = i;

		snprintf(path, sizeof(path), "%d/mem", pr->pid);
		memfd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
		for (; j < est->nrecs && est->recs[j].proc == rc->proc; j++) {
			struct rec *x = &est->recs[j];
			const struct entry *e;
			uint64_t hash;
			enum kind kind;

			if (GONE(x->entry))
				continue;
			e = &est->entries[x->entry];
			if (!e->merges)
				continue;
			if (memfd < 0 || pread(memfd, buf, ps, (off_t)x->vaddr) != (ssize_t)ps) {
				kind = KIND_OTHER;
				hash = ~e->hash;
			} else {
				kind = classify(buf, ps, &hash);
			}
			if ((hash ^ kind) != e->hash || kind != e->kind) {
				double w = e->kind == KIND_OTHER && est->rate < 1.0 ? 1 / est->rate : 1;

				est->targets[pr->target].res.volatile_pages += round_ll(w);
				x->entry = DROPPED;
			}
		}
		if (memfd >= 0)
			close(memfd);
		i = j;
	}
	return 0;
}

/* Remove the processes marked with target -1 and their records. */
static int drop_skipped(struct ksm_estimate *est)
{
	uint32_t *map = malloc((est->nprocs + 1) * sizeof(*map));
	size_t k = 0, j = 0;

	if (!map)
		return ksm_fail(-ENOMEM, "out of memory");
	for (size_t p = 0; p < est->nprocs; p++) {
		if (est->procs[p].target < 0) {
			map[p] = UINT32_MAX;
			continue;
		}
		map[p] = (uint32_t)k;
		est->procs[k++] = est->procs[p];
	}
	for (size_t i = 0; i < est->nrecs; i++) {
		uint32_t np = map[est->recs[i].proc];

		if (np == UINT32_MAX)
			continue;
		est->recs[j] = est->recs[i];
		est->recs[j++].proc = np;
	}
	est->nrecs = j;
	est->nprocs = k;
	free(map);
	return 0;
}

/* RssAnon of /proc/PID/status in pages; 0 if unknown. */
static uint64_t rss_anon_pages(int procfd, int pid, long ps)
{
	char path[48], buf[4096], *p;
	long long kb;

	snprintf(path, sizeof(path), "%d/status", pid);
	if (ksm_read_at(procfd, path, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\nRssAnon:")) ||
	    sscanf(p + 9, "%lld", &kb) != 1 || kb < 0)
		return 0;
	return (uint64_t)kb * 1024 / (uint64_t)ps;
}

/*
 * A full estimate of the targets' anonymous memory over the memory limit:
 * sample by content at the rate that fits.
 */
static void fit_memory(struct ksm_estimate *est, int procfd)
{
	uint64_t pages = 0;
	double rate;

	if (!est->memory_limit)
		return;
	for (size_t p = 0; p < est->nprocs; p++)
		pages += rss_anon_pages(procfd, est->procs[p].pid, est->ctx->page_size);
	rate = ksm_estimate_fit_rate(pages, est->memory_limit);
	if (rate >= est->rate)
		return;
	ksm_notice(est->ctx, "a full estimate of %" PRIu64 " MiB of anonymous memory needs about %"
		   PRIu64 " MiB, over the limit of %" PRIu64 " MiB: sampling at %.4g",
		   pages * (uint64_t)est->ctx->page_size >> 20,
		   pages * KSM_ESTIMATE_BYTES_PER_PAGE >> 20, est->memory_limit >> 20, rate);
	est->rate = rate;
	est->threshold = (uint64_t)(rate * 18446744073709551616.0);
	if (!est->seed)
		est->seed = mix64(UINT64_C(0x9e3779b97f4a7c15));
	est->auto_sampled = true;
}

static int fail_proc_access(struct ksm_estimate *est, int pid, int r)
{
	if (r == -EACCES || r == -EPERM)
		return ksm_fail(-EACCES, "cannot read the memory of process %d: reading another "
					 "process's memory needs root or CAP_SYS_PTRACE (and "
					 "CAP_SYS_ADMIN for its frames)", pid);
	if (r == -ENOENT || r == -ESRCH)
		return ksm_fail(-ESRCH, "cannot estimate process %d: it exited", pid);
	return ksm_fail(r, "cannot read the memory of process %d: %s", pid, strerror(-r));
}

KSM_EXPORT int ksm_estimate_run(struct ksm_estimate *est, unsigned int flags)
{
	struct sched_param old_param, idle = { 0 };
	int old_policy = -1, procfd = -1, r;
	int64_t skipped[MAX_TARGETS] = { 0 }, vol[MAX_TARGETS];
	char *buf = NULL;

	ksm_fail_clear();
	if (!est)
		return -EINVAL;
	if (flags & ~KSM_ESTIMATE_IDLE)
		return ksm_fail(-EINVAL, "unknown flags 0x%x", flags & ~KSM_ESTIMATE_IDLE);
	if (est->ran)
		return ksm_fail(-EINVAL, "an estimate runs only once");
	if (!est->ntargets)
		return ksm_fail(-EINVAL, "the estimate has no targets");
	if (est->ctx->ksmfd < 0)
		return ksm_fail_no_ksm(est->ctx);
	r = ksm_boost_running(est->ctx);
	if (r == -EACCES)
		r = 0; /* only root can read the record, and only root boosts */
	if (r < 0)
		return r;
	if (r > 0)
		return ksm_fail(-EBUSY, "a boost is running (ksmctl merge-now): estimate once it ended, "
					"as its pages would be merged while they are read");
	r = read_model(est);
	if (r < 0)
		return r;
	est->ran = true;
	if (flags & KSM_ESTIMATE_IDLE) {
		old_policy = sched_getscheduler(0);
		if (old_policy >= 0 && sched_getparam(0, &old_param) == 0 &&
		    sched_setscheduler(0, SCHED_IDLE, &idle) < 0)
			old_policy = -1;
	}
	procfd = openat(est->ctx->rootfd, "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0) {
		r = ksm_fail(-errno, "cannot open %s/proc: %s", est->ctx->sysroot, strerror(errno));
		goto out;
	}
	buf = malloc((size_t)est->ctx->page_size * READ_PAGES);
	if (!buf) {
		r = ksm_fail(-ENOMEM, "out of memory");
		goto out;
	}
	probe_frames(est, procfd);
	if (!est->frames_known)
		ksm_warn(est->ctx, "frame numbers are hidden without CAP_SYS_ADMIN: pages shared "
			 "after fork() or already merged count as copies and the shared zero page as "
			 "zero pages, so the estimate is an upper bound");
	if (!est->model.merge_across_nodes)
		read_nodes(est);
	if (est->frames_known)
		read_thp(est, procfd);
	r = collect(est, procfd);
	if (r < 0)
		goto out;
	fit_memory(est, procfd);
	for (size_t p = 0; p < est->nprocs; p++) {
		struct target *tg = &est->targets[est->procs[p].target];

		r = scan_proc(est, procfd, (uint32_t)p, buf);
		if (r == -EINTR || r == -ENOMEM)
			goto out;
		if (r < 0 && tg->pid) {
			r = fail_proc_access(est, est->procs[p].pid, r);
			goto out;
		}
		if (r < 0) /* exited, or another user's: left out and counted */
			skipped[est->procs[p].target]++;
		if (r != 0)
			est->procs[p].target = -1;
	}
	r = drop_skipped(est);
	if (r < 0)
		goto out;
	if (est->verify_ms) {
		r = verify(est, procfd, buf);
		if (r < 0)
			goto out;
	}
	for (int t = 0; t < est->ntargets; t++)
		vol[t] = est->targets[t].res.volatile_pages;
	r = ksm_estimate_account(est, &est->model);
	if (r < 0)
		goto out;
	for (int t = 0; t < est->ntargets; t++) {
		est->targets[t].res.volatile_pages = vol[t];
		est->targets[t].res.skipped_processes = skipped[t];
		est->whole.volatile_pages += vol[t];
		est->whole.skipped_processes += skipped[t];
	}
	if (est->whole.skipped_processes)
		ksm_notice(est->ctx, "%lld processes could not be read and were left out",
			   (long long)est->whole.skipped_processes);
out:
	if (old_policy >= 0)
		sched_setscheduler(0, old_policy, &old_param);
	if (procfd >= 0)
		close(procfd);
	free(buf);
	return r;
}
