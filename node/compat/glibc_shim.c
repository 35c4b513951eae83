/* SPDX-License-Identifier: Apache-2.0 */
/*
 * glibc_shim.c - the glibc-only symbols Debian's libxdp.a needs under musl.
 *
 * The static `ferry` is a musl binary, but libxdp comes from Debian's libxdp-dev:
 * the archive does not serve the xdp-tools source, so the musl sysroot
 * (mk/sysroot.sh) ships Debian's prebuilt libxdp.a, which is a glibc build made
 * with _FORTIFY_SOURCE=2 and large-file support. Its objects therefore call
 * glibc's fortified `__*_chk` entry points and `fcntl64`, which musl does not
 * have. This file provides exactly those, with glibc's calling conventions:
 *
 *   - the `_chk` variants do the check glibc does when it can be done here (the
 *     destination object is smaller than the size the call may write) and abort
 *     like glibc's __chk_fail, then forward to the plain function. glibc's extra
 *     check under level 2 (`%n` in a writable format string) is not done: musl
 *     cannot tell where a format string lives;
 *   - `fcntl64` is `fcntl`: musl's off_t is always 64 bits.
 *
 * The list is what `nm -u libxdp.a` reports minus what musl's libc.a defines:
 *   nm -u $SYSROOT/lib/libxdp.a | awk '{print $2}' | sort -u |
 *     comm -23 - <(nm --defined-only /usr/lib/x86_64-linux-musl/libc.a | awk 'NF==3{print $3}' | sort -u)
 * A new libxdp.a that references more of them fails the link with "undefined
 * reference"; add them here. Mixing a glibc-built archive into a musl link works
 * on x86_64 (same struct layouts for what libxdp touches) but neither libc
 * promises it: every libxdp call the node makes is covered by a test that runs
 * the musl binary.
 *
 * Linked only into the musl binary (the host build excludes node/compat/).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__memset_chk(void *dest, int c, size_t len, size_t destlen);
int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int fcntl64(int fd, int cmd, ...);

/* glibc's __chk_fail: a fortified call would have overrun its object. */
static _Noreturn void shim_chk_fail(void)
{
	static const char msg[] = "*** buffer overflow detected ***: terminated\n";

	/* write(2), not stdio: the process state is not to be trusted any more. */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to report to */
	}
	abort();
}

void *__memset_chk(void *dest, int c, size_t len, size_t destlen)
{
	if (destlen < len)
		shim_chk_fail();
	return memset(dest, c, len);
}

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, va_list ap)
{
	(void)flag;
	if (slen < maxlen)
		shim_chk_fail();
	return vsnprintf(s, maxlen, fmt, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = __vsnprintf_chk(s, maxlen, flag, slen, fmt, ap);
	va_end(ap);
	return ret;
}

int __vfprintf_chk(FILE *fp, int flag, const char *fmt, va_list ap)
{
	(void)flag;
	return vfprintf(fp, fmt, ap);
}

/*
 * glibc's fcntl64 takes the same third argument as fcntl: an int or a pointer,
 * read here as unsigned long like musl's own fcntl does (same register on x86_64).
 */
int fcntl64(int fd, int cmd, ...)
{
	unsigned long arg;
	va_list ap;

	va_start(ap, cmd);
	arg = va_arg(ap, unsigned long);
	va_end(ap);
	return fcntl(fd, cmd, arg);
}
