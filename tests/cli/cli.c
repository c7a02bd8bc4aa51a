// SPDX-License-Identifier: LGPL-2.1-or-later
/* Shared by the cli test programs: running ksmctl and checking its JSON. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "testutil.h"

char *root;
char sysroot_opt[4200];

static char *slurp_fd(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ssize_t n;

	ck_assert_ptr_nonnull(buf);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

struct result run_argv(char *const argv[], const char *const *env, int uid, const char *input)
{
	struct result res = { 0 };
	int out = memfd_create("out", 0), err = memfd_create("err", 0);
	int in = memfd_create("in", 0);
	int status;
	pid_t pid;

	ck_assert(out >= 0 && err >= 0 && in >= 0);
	if (input) {
		ck_assert_int_eq(write(in, input, strlen(input)), (ssize_t)strlen(input));
		lseek(in, 0, SEEK_SET);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		unsetenv("KSM_SYSROOT");
		unsetenv("KSM_MAX_KERNEL_PAGES");
		setenv("LIBKSM_SKSM_SYSCALLS", "", 1);
		for (int i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		if (uid >= 0 && (setgid((gid_t)uid) < 0 || setuid((uid_t)uid) < 0))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "%s died", argv[0]);
	res.status = WEXITSTATUS(status);
	res.out = slurp_fd(out);
	res.err = slurp_fd(err);
	close(in);
	return res;
}

struct result ksmctl_env(const char *const *env, int uid, ...)
{
	char *argv[32];
	int n = 0;
	va_list ap;

	argv[n++] = getenv("KSMCTL");
	ck_assert_msg(argv[0] != NULL, "KSMCTL not set");
	va_start(ap, uid);
	while (n < 31 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return run_argv(argv, env, uid, NULL);
}

void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

char *json_eval(const char *json, const char *expr)
{
	char code[2048];
	char *argv[] = { "python3", "-c", code, NULL };
	struct result r;

	snprintf(code, sizeof(code), "import json,sys\nd=json.load(sys.stdin)\nprint((%s))", expr);
	r = run_argv(argv, NULL, -1, json);
	ck_assert_msg(r.status == 0, "invalid JSON or expression '%s': %s\n%s", expr, r.err, json);
	free(r.err);
	r.out[strcspn(r.out, "\n")] = '\0';
	return r.out;
}

void use_tree(const char *name)
{
	root = tu_sysroot_copy(name);
	snprintf(sysroot_opt, sizeof(sysroot_opt), "--sysroot=%s", root);
}

void teardown(void)
{
	if (root)
		tu_rmtree(root);
	free(root);
	root = NULL;
}
