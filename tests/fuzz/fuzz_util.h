// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Shared by the libFuzzer targets: a private copy of a fake system root
 * (tests/sysroots) in a temporary directory, removed at exit, and the means to
 * put its KSM files back as they were after an input changed them. Nothing
 * here touches the running system's KSM state.
 */
#ifndef LIBKSM_FUZZ_UTIL_H
#define LIBKSM_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Copy tests/sysroots/@tree into a fresh temporary directory; its path. Aborts on failure. */
const char *fz_sysroot(const char *tree);
/* Replace <root>/<rel> with @len bytes of @data (created 0644). Aborts on failure. */
void fz_write(const char *rel, const void *data, size_t len);
/* Track <root>/<rel> (an existing regular file) like the files of
 * <root>/sys/kernel/mm/ksm, which fz_sysroot() tracks: fz_restore_knobs() and
 * fz_reset() put it back to its content now. */
void fz_track(const char *rel);
/* Put every tracked file back to its content at fz_sysroot() or fz_track()
 * time, after an input or the library may have changed some. Changes are
 * noticed with inotify: only the files written since are rewritten. */
void fz_restore_knobs(void);
/* The same for one tracked file (<root>/<rel>). */
void fz_reset(const char *rel);
/* A NUL-terminated copy of @data (malloc'd). */
char *fz_strndup(const uint8_t *data, size_t size);
/* The next piece of @data up to a NUL byte (or the end): *len bytes at the
 * returned pointer; *pos moves past the NUL. NULL when nothing is left. */
const uint8_t *fz_next(const uint8_t *data, size_t size, size_t *pos, size_t *len);

#endif
