/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test.h - tiny helpers for Ferry's test programs.
 *
 * A test is a standalone program: exit 0 = pass, 1 = fail, 77 = skip.
 * CHECK() records a failure with file:line and goes on; test_done() returns
 * the exit code. Use test_skip() when the machine cannot run the test.
 */
#ifndef FERRY_TEST_H
#define FERRY_TEST_H

#include <stdio.h>
#include <stdlib.h>

#define TEST_PASS 0
#define TEST_FAIL 1
#define TEST_SKIP 77

extern int test_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		test_failures++; \
	} } while (0)

#define CHECK_EQ(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { \
		fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", \
			__FILE__, __LINE__, #a, _a, #b, _b); \
		test_failures++; \
	} } while (0)

/* REQUIRE: like CHECK, but a failure ends the test at once. */
#define REQUIRE(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
		exit(TEST_FAIL); \
	} } while (0)

static inline int test_done(void)
{
	return test_failures ? TEST_FAIL : TEST_PASS;
}

__attribute__((noreturn, format(printf, 1, 2)))
void test_skip(const char *fmt, ...);

#endif
