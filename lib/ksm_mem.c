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
		return -EINVAL;
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
	return ksm_range_info(start, end, bytes, NULL, NULL);
}

/* Widen [addr, addr+len) to whole pages; -EINVAL if it wraps. */
int ksm_page_range(const void *addr, size_t len, uintptr_t *start, uintptr_t *end)
{
	return page_range(addr, len, start, end);
}

KSM_EXPORT int ksm_mergeable_bytes(const void *addr, size_t len, uint64_t *bytes)
{
	uintptr_t start, end;
	int r;

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
			return r;
		/* The kernel says yes to shared, hugetlb, DAX and PFN mappings and ignores them. */
		r = mergeable_bytes(start, end, &bytes);
		if (r < 0)
			return r;
		if (bytes == 0)
			return -EOPNOTSUPP;
	}
	if (registered)
		*registered = bytes;
	return 0;
}

KSM_EXPORT int ksm_mark_mergeable(void *addr, size_t len)
{
	return ksm_mark_mergeable_bytes(addr, len, NULL);
}

KSM_EXPORT int ksm_mark_unmergeable(void *addr, size_t len)
{
	uintptr_t start, end;
	int r;

	r = page_range(addr, len, &start, &end);
	if (r < 0)
		return r;
	if (start == end)
		return 0;
	return ksm_sys_madvise((void *)start, end - start, MADV_UNMERGEABLE);
}

KSM_EXPORT int ksm_set_process_merge(int enable)
{
	int r = ksm_sys_prctl(PR_SET_MEMORY_MERGE, enable ? 1UL : 0UL);

	/*
	 * Unknown prctl options give EINVAL; our arguments are always valid,
	 * so EINVAL means a kernel without the option (before 6.4, no KSM).
	 */
	if (r == -EINVAL)
		return -EOPNOTSUPP;
	return r < 0 ? r : 0;
}

KSM_EXPORT int ksm_get_process_merge(void)
{
	int r = ksm_sys_prctl(PR_GET_MEMORY_MERGE, 0UL);

	if (r == -EINVAL)
		return -EOPNOTSUPP;
	return r < 0 ? r : !!r;
}
