// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Memory of the calling process: madvise wrappers, the smaps "mg" query and
 * the process-wide prctl. Nothing here touches sysfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "missing.h"

/* The syscalls a kernel may lack go through one function each (test seam). */
int ksm_sys_madvise(void *addr, size_t len, int advice)
{
	return madvise(addr, len, advice) < 0 ? -errno : 0;
}

int ksm_sys_prctl(int option, unsigned long arg2)
{
	int r = prctl(option, arg2, 0UL, 0UL, 0UL);

	return r < 0 ? -errno : r;
}

/*
 * Widen [addr, addr+len) to whole pages; -EINVAL if it wraps. An empty range
 * stays empty (start == end) even at an unaligned address: it covers no byte.
 */
static int page_range(const void *addr, size_t len, uintptr_t *start, uintptr_t *end)
{
	uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)addr;

	if (len > UINTPTR_MAX - a || a + len > UINTPTR_MAX - (ps - 1))
		return ksm_fail(-EINVAL, "the range of %zu bytes at %p wraps around the end of the "
					 "address space", len, addr);
	*start = a & ~(ps - 1);
	*end = len == 0 ? *start : (a + len + ps - 1) & ~(ps - 1);
	return 0;
}

/*
 * For the VMAs overlapping [start, end): the bytes of the range in VMAs with
 * VmFlags "mg", the sum of their "KSM:" lines (kernel 6.7+; -1 when the
 * kernel has no such line), and whether all of them lie inside the range. smaps is generated one VMA at a time as it is
 * read, and VMAs come in address order, so reading stops at the first VMA
 * past the range.
 */
int ksm_range_info(uintptr_t start, uintptr_t end, uint64_t *mergeable, int64_t *ksm_bytes,
		   bool *whole)
{
	bool all_inside = true;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	uintptr_t vs = 0, ve = 0;
	bool inside = false;
	uint64_t sum = 0;
	int64_t ksm = -1;

	f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned long a, b, kb;

		/* A VMA header: "start-end perms offset dev inode [path]". */
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2) {
			vs = a;
			ve = b;
			if (vs >= end)
				break;
			inside = ve > start;
			if (inside && (vs < start || ve > end))
				all_inside = false;
			continue;
		}
		if (!inside)
			continue;
		if (strncmp(line, "KSM:", 4) == 0 && sscanf(line + 4, "%lu", &kb) == 1) {
			ksm = (ksm < 0 ? 0 : ksm) + (int64_t)kb * 1024;
		} else if (strncmp(line, "VmFlags:", 8) == 0) {
			const char *p = line + 8;

			for (;;) {
				p += strspn(p, " \t");
				if (!*p || *p == '\n')
					break;
				if (p[0] == 'm' && p[1] == 'g' && (p[2] == ' ' || p[2] == '\n' || !p[2])) {
					uintptr_t lo = vs > start ? vs : start;
					uintptr_t hi = ve < end ? ve : end;
					sum += hi - lo;
					break;
				}
				p += strcspn(p, " \t\n");
			}
			inside = false; /* VmFlags is the last line of a VMA */
		}
	}
	free(line);
	fclose(f);
	if (mergeable)
		*mergeable = sum;
	if (ksm_bytes)
		*ksm_bytes = ksm;
	if (whole)
		*whole = all_inside;
	return 0;
}

static int mergeable_bytes(uintptr_t start, uintptr_t end, uint64_t *bytes)
{
	int r = ksm_range_info(start, end, bytes, NULL, NULL);

	if (r < 0)
		return ksm_fail(r, "cannot read /proc/self/smaps: %s", strerror(-r));
	return 0;
}

/* Widen [addr, addr+len) to whole pages; -EINVAL if it wraps. */
int ksm_page_range(const void *addr, size_t len, uintptr_t *start, uintptr_t *end)
{
	return page_range(addr, len, start, end);
}

/*
 * madvise()'s errors, as the library reports them: ENOMEM stands for
 * unmapped holes (the mapped parts were still advised), EAGAIN for a lack of
 * memory or a split beyond vm.max_map_count, EINVAL (the range is page
 * aligned and does not wrap) for advice the kernel does not know, that is a
 * kernel without KSM.
 */
static int madvise_error(int r, int advice, uintptr_t start, uintptr_t end)
{
	bool merge = advice == MADV_MERGEABLE;
	const char *call = merge ? "madvise(MADV_MERGEABLE)" : "madvise(MADV_UNMERGEABLE)";

	switch (-r) {
	case ENOMEM:
		return ksm_fail(-EFAULT,
				"the range %#lx-%#lx contains unmapped addresses; the mapped parts "
				"of it were %s",
				(unsigned long)start, (unsigned long)end,
				merge ? "registered for merging" : "unregistered and unmerged");
	case EAGAIN:
		return ksm_fail(-ENOMEM,
				"%s of %#lx-%#lx failed: the kernel ran out of memory%s, or splitting "
				"the mappings would exceed vm.max_map_count (sysctl vm.max_map_count)",
				call, (unsigned long)start, (unsigned long)end,
				merge ? "" : " while unmerging");
	case EINVAL:
		return ksm_fail(-EOPNOTSUPP,
				"this kernel has no KSM: it refuses %s (a kernel built without "
				"CONFIG_KSM)", call);
	case EINTR:
		return ksm_fail(-EINTR,
				"a signal interrupted unmerging %#lx-%#lx; part of the range may "
				"still be merged", (unsigned long)start, (unsigned long)end);
	default:
		return ksm_fail(r, "%s of %#lx-%#lx failed: %s", call, (unsigned long)start,
				(unsigned long)end, strerror(-r));
	}
}

KSM_EXPORT int ksm_mergeable_bytes(const void *addr, size_t len, uint64_t *bytes)
{
	uintptr_t start, end;
	int r;

	ksm_fail_clear();
	if (!bytes)
		return -EINVAL;
	r = page_range(addr, len, &start, &end);
	if (r < 0)
		return r;
	if (start == end) {
		*bytes = 0;
		return 0;
	}
	return mergeable_bytes(start, end, bytes);
}

int ksm_mark_mergeable_bytes(void *addr, size_t len, uint64_t *registered)
{
	uintptr_t start, end;
	uint64_t bytes = 0;
	int r;

	r = page_range(addr, len, &start, &end);
	if (r < 0)
		return r;
	if (start != end) {
		r = ksm_sys_madvise((void *)start, end - start, MADV_MERGEABLE);
		if (r < 0)
			return madvise_error(r, MADV_MERGEABLE, start, end);
		/* The kernel says yes to shared, hugetlb, DAX and PFN mappings and ignores them. */
		r = mergeable_bytes(start, end, &bytes);
		if (r < 0)
			return r;
		if (bytes == 0)
			return ksm_fail(-EOPNOTSUPP,
					"nothing in %#lx-%#lx could be registered for merging: the "
					"kernel accepts the advice but ignores it on shared "
					"(MAP_SHARED), hugetlb, DAX and PFN/IO mappings; KSM merges "
					"private memory only",
					(unsigned long)start, (unsigned long)end);
	}
	if (registered)
		*registered = bytes;
	return 0;
}

KSM_EXPORT int ksm_mark_mergeable(void *addr, size_t len)
{
	ksm_fail_clear();
	return ksm_mark_mergeable_bytes(addr, len, NULL);
}

KSM_EXPORT int ksm_mark_unmergeable(void *addr, size_t len)
{
	uintptr_t start, end;
	int r;

	ksm_fail_clear();
	r = page_range(addr, len, &start, &end);
	if (r < 0)
		return r;
	if (start == end)
		return 0;
	r = ksm_sys_madvise((void *)start, end - start, MADV_UNMERGEABLE);
	return r < 0 ? madvise_error(r, MADV_UNMERGEABLE, start, end) : 0;
}

/*
 * The errors of PR_SET_MEMORY_MERGE and PR_GET_MEMORY_MERGE. Unknown prctl
 * options give EINVAL; the arguments are always valid, so EINVAL means a
 * kernel without the option (before 6.4, or without KSM).
 */
static int prctl_error(int r, const char *call, bool unmerging)
{
	switch (-r) {
	case EINVAL:
		return ksm_fail(-EOPNOTSUPP,
				"this kernel has no process-wide KSM: prctl(%s) needs Linux 6.4 or "
				"later, built with CONFIG_KSM", call);
	case ENOMEM:
		return ksm_fail(-ENOMEM, "prctl(%s) failed: the kernel ran out of memory%s", call,
				unmerging ? " while unmerging the pages of this process" : "");
	case EINTR:
		return ksm_fail(-EINTR, "a signal interrupted prctl(%s)", call);
	default:
		return ksm_fail(r, "prctl(%s) failed: %s", call, strerror(-r));
	}
}

KSM_EXPORT int ksm_set_process_merge(int enable)
{
	int r;

	ksm_fail_clear();
	r = ksm_sys_prctl(PR_SET_MEMORY_MERGE, enable ? 1UL : 0UL);
	if (r < 0)
		return prctl_error(r, enable ? "PR_SET_MEMORY_MERGE, 1" : "PR_SET_MEMORY_MERGE, 0",
				   !enable);
	return 0;
}

KSM_EXPORT int ksm_get_process_merge(void)
{
	int r;

	ksm_fail_clear();
	r = ksm_sys_prctl(PR_GET_MEMORY_MERGE, 0UL);
	if (r < 0)
		return prctl_error(r, "PR_GET_MEMORY_MERGE", false);
	return !!r;
}
