// SPDX-License-Identifier: LGPL-2.1-or-later
/* Shared by the cli test programs: running ksmctl and checking its JSON. */
#ifndef LIBKSM_TESTS_CLI_H
#define LIBKSM_TESTS_CLI_H

#include <string.h>

#include <check.h>

struct result {
	int status; /* exit status */
	char *out;
	char *err;
};

/*
 * Run @argv (NULL-terminated) and collect its output. @env: "NAME=VALUE"
 * strings to set in the child, or NULL. @uid: switch to this user (and group)
 * first if >= 0. @input: fed to stdin if not NULL. The child starts without
 * KSM_SYSROOT and KSM_MAX_KERNEL_PAGES and with LIBKSM_SKSM_SYSCALLS empty,
 * whatever the build configured. A child killed by a signal fails the test.
 */
struct result run_argv(char *const argv[], const char *const *env, int uid, const char *input);

/* The built ksmctl ($KSMCTL) with the NULL-terminated arguments after @uid. */
struct result ksmctl_env(const char *const *env, int uid, ...);
#define ksmctl(...) ksmctl_env(NULL, -1, __VA_ARGS__, NULL)

void result_free(struct result *r);

/* Parse @json with python3 and evaluate @expr on it (bound to "d"); the
 * printed value, malloc'd. Fails the test on invalid JSON. */
char *json_eval(const char *json, const char *expr);

#define assert_json(json, expr, expected)                                              \
	do {                                                                           \
		char *_v = json_eval(json, expr);                                      \
		ck_assert_msg(strcmp(_v, expected) == 0, "%s: got '%s', want '%s'", expr, _v, \
			      expected);                                               \
		free(_v);                                                              \
	} while (0)

/* The copy of a fake sysroot a test works on, and "--sysroot=<it>". */
extern char *root;
extern char sysroot_opt[4200];

/* Copy tests/sysroots/@name into root and set sysroot_opt. */
void use_tree(const char *name);
/* Remove the copy, if any (a checked teardown). */
void teardown(void);

#endif
