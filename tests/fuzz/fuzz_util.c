// SPDX-License-Identifier: LGPL-2.1-or-later
/* Fake system roots for the fuzz targets; see fuzz_util.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"

#ifndef FUZZ_SYSROOTS
#error "FUZZ_SYSROOTS must name tests/sysroots"
#endif

#define KSM_REL "sys/kernel/mm/ksm"
#define MAX_KNOB_FILES 64

#define MAX_WATCHES 8
/* cur_len of a file that may have been changed by someone else than fz_write(). */
#define UNKNOWN ((size_t)-1)

static char root[4096];
/* Each tracked file: its content at the start, and what it holds now. */
static struct {
	char name[256];		/* relative to the root */
	const char *base;	/* its last component */
	int wd;			/* the inotify watch of its directory */
	char *text;
	size_t len;
	char *cur;
	size_t cur_len;
} saved[MAX_KNOB_FILES];
static int nsaved;
/*
 * Changes to the tracked files are noticed with inotify, so that putting them
 * back costs one read() when nothing changed them, instead of rewriting each.
 * The helpers here are not built with the fuzzer's instrumentation, and
 * compare names with same() rather than strcmp(), whose interceptor feeds
 * libFuzzer's comparison tables on every call.
 */
static int ifd = -1;

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fuzz setup: %s %s: %s\n", what, path, strerror(errno));
	abort();
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void cleanup(void)
{
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *read_all(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("open", path);
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			buf = realloc(buf, cap + 1);
			if (!buf)
				die("realloc", path);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0)
			die("read", path);
		n += (size_t)r;
	} while (r > 0);
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static void write_all(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		die("open", path);
	if (len && write(fd, data, len) != (ssize_t)len)
		die("write", path);
	close(fd);
}

static const char *src_base;

static int copy_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char dst[8192];
	size_t len;
	char *text;

	snprintf(dst, sizeof(dst), "%s%s", root, path + strlen(src_base));
	if (flag == FTW_D) {
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			die("mkdir", dst);
		return 0;
	}
	if (flag != FTW_F)
		return 0;
	text = read_all(path, &len);
	write_all(dst, text, len);
	free(text);
	return 0;
}

const char *fz_sysroot(const char *tree)
{
	char src[4096], dir[8192];
	const char *tmp = getenv("TMPDIR");
	struct dirent *de;
	DIR *d;

	/* Memory, not a disk: each input rewrites files (ext4 flushes a file
	 * truncated and rewritten at close, which is 20 times slower). */
	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	snprintf(root, sizeof(root), "%s/libksm-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		die("mkdtemp", root);
	atexit(cleanup);
	snprintf(src, sizeof(src), "%s/%s", FUZZ_SYSROOTS, tree);
	src_base = src;
	if (nftw(src, copy_one, 16, FTW_PHYS) != 0)
		die("copy", src);
	chmod(root, 0700);

	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0)
		die("inotify_init1", root);
	snprintf(dir, sizeof(dir), "%s/" KSM_REL, root);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		char path[8448];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		fz_track(path + strlen(root) + 1);
	}
	if (d)
		closedir(d);
	return root;
}

void fz_track(const char *rel)
{
	char path[8192], dir[8192];
	char *slash;

	if (nsaved == MAX_KNOB_FILES)
		return;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*slash = '\0';
	/* A second watch of the same directory returns the same descriptor. */
	saved[nsaved].wd = inotify_add_watch(ifd, dir, IN_MODIFY | IN_ATTRIB | IN_CREATE |
					     IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO);
	if (saved[nsaved].wd < 0)
		die("inotify_add_watch", dir);
	snprintf(saved[nsaved].name, sizeof(saved[nsaved].name), "%s", rel);
	slash = strrchr(saved[nsaved].name, '/');
	saved[nsaved].base = slash ? slash + 1 : saved[nsaved].name;
	saved[nsaved].text = read_all(path, &saved[nsaved].len);
	saved[nsaved].cur = malloc(saved[nsaved].len + 1);
	if (!saved[nsaved].cur)
		die("malloc", path);
	memcpy(saved[nsaved].cur, saved[nsaved].text, saved[nsaved].len);
	saved[nsaved].cur_len = saved[nsaved].len;
	nsaved++;
}

/* Mark each tracked file that changed since the last call unknown, except
 * @skip (a file fz_write() has just written itself). */
static void collect(int skip)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			for (int i = 0; i < nsaved; i++) {
				if (i == skip)
					continue;
				if ((ev->mask & IN_Q_OVERFLOW) ||
				    (ev->wd == saved[i].wd && ev->len && same(ev->name, saved[i].base)))
					saved[i].cur_len = UNKNOWN;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	if (n < 0 && errno != EAGAIN)
		die("read", "inotify");
}

static int equal(const char *a, const char *b, size_t len)
{
	while (len && *a == *b)
		a++, b++, len--;
	return len == 0;
}

/* Tracked file @i gets @data, unless it holds it already. */
static void put(int i, const void *data, size_t len)
{
	char path[8192];

	/* Fewer writes, more inputs. */
	if (saved[i].cur_len == len && equal(saved[i].cur, data, len))
		return;
	free(saved[i].cur);
	saved[i].cur = malloc(len + 1);
	if (!saved[i].cur)
		abort();
	memcpy(saved[i].cur, data, len);
	saved[i].cur_len = len;
	snprintf(path, sizeof(path), "%s/%s", root, saved[i].name);
	write_all(path, data, len);
	collect(i);
}

void fz_write(const char *rel, const void *data, size_t len)
{
	char path[8192];

	collect(-1);
	for (int i = 0; i < nsaved; i++) {
		if (same(saved[i].name, rel)) {
			put(i, data, len);
			return;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	write_all(path, data, len);
	collect(-1);
}

void fz_reset(const char *rel)
{
	collect(-1);
	for (int i = 0; i < nsaved; i++)
		if (same(saved[i].name, rel))
			put(i, saved[i].text, saved[i].len);
}

void fz_restore_knobs(void)
{
	/* Only the files that changed since they were last written here. */
	collect(-1);
	for (int i = 0; i < nsaved; i++)
		put(i, saved[i].text, saved[i].len);
}

char *fz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

const uint8_t *fz_next(const uint8_t *data, size_t size, size_t *pos, size_t *len)
{
	const uint8_t *start, *nul;

	if (*pos > size || (*pos == size && *pos != 0))
		return NULL;
	start = data + *pos;
	nul = memchr(start, 0, size - *pos);
	*len = nul ? (size_t)(nul - start) : size - *pos;
	*pos += *len + 1;
	return start;
}
