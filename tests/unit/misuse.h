/*
 * A helper for cmocka tests of misuse checks: runs a function that misuses an
 * API in a child process and checks that the child stopped with SIGABRT
 * after printing a message that names the call. Header-only, for tests.
 */
#ifndef MIST_TESTS_UNIT_MISUSE_H
#define MIST_TESTS_UNIT_MISUSE_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/*
 * Runs `misuse` in a child process with its stdout and stderr going to a
 * pipe (the platform may print the reason on either), and checks that the
 * child died with SIGABRT after printing `expected`.
 */
static inline void assert_misuse_aborts(void (*misuse)(void), const char *expected)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[1]);
		misuse();
		_exit(0);
	}
	close(fds[1]);
	char out[4096];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(out) - 1 && (n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);

	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	if (strstr(out, expected) == NULL)
		fail_msg("child output lacks \"%s\": %s", expected, out);
}

#endif
