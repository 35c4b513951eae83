/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/test.h"

#include <stdarg.h>

int test_failures;

void test_skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "SKIP: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(TEST_SKIP);
}
