// SPDX-License-Identifier: LGPL-2.1-or-later
/* Fake system roots for the fuzz targets; see fuzz_util.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_util.h"

#ifndef FUZZ_SYSROOTS
#error "FUZZ_SYSROOTS must name tests/sysroots"
#endif

#define KSM_REL "sys/kernel/mm/ksm"
#define MAX_KNOB_FILES 64

static char root[4096];
/* Each KSM file: its content at the start, and what it holds now. */
static struct {
	char name[256];
	char *text;
	size_t len;
	char *cur;
	size_t cur_len;
} saved[MAX_KNOB_FILES];
static int nsaved;

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

	snprintf(dir, sizeof(dir), "%s/" KSM_REL, root);
	d = opendir(dir);
	while (d && (de = readdir(d)) && nsaved < MAX_KNOB_FILES) {
		char path[8448];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(saved[nsaved].name, sizeof(saved[nsaved].name), "%s", path + strlen(root) + 1);
		saved[nsaved].text = read_all(path, &saved[nsaved].len);
		saved[nsaved].cur = malloc(saved[nsaved].len + 1);
		if (!saved[nsaved].cur)
			die("malloc", path);
		memcpy(saved[nsaved].cur, saved[nsaved].text, saved[nsaved].len);
		saved[nsaved].cur_len = saved[nsaved].len;
		nsaved++;
	}
	if (d)
		closedir(d);
	return root;
}

void fz_write(const char *rel, const void *data, size_t len)
{
	char path[8192];

	/* A KSM file that already holds @data is left alone: fewer writes, more inputs. */
	for (int i = 0; i < nsaved; i++) {
		if (strcmp(saved[i].name, rel) != 0)
			continue;
		if (saved[i].cur_len == len && memcmp(saved[i].cur, data, len) == 0)
			return;
		free(saved[i].cur);
		saved[i].cur = malloc(len + 1);
		if (!saved[i].cur)
			abort();
		memcpy(saved[i].cur, data, len);
		saved[i].cur_len = len;
		break;
	}
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	write_all(path, data, len);
}

void fz_reset(const char *rel)
{
	for (int i = 0; i < nsaved; i++)
		if (strcmp(saved[i].name, rel) == 0)
			fz_write(rel, saved[i].text, saved[i].len);
}

void fz_restore_knobs(void)
{
	/* The library writes knob files too: rewrite each, unless the input never could. */
	for (int i = 0; i < nsaved; i++) {
		saved[i].cur_len = (size_t)-1;
		fz_write(saved[i].name, saved[i].text, saved[i].len);
	}
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
