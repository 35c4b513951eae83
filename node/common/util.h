/* SPDX-License-Identifier: Apache-2.0 */
/* util.h - small helpers used everywhere: clocks, ids, hex. */
#ifndef FERRY_UTIL_H
#define FERRY_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

/* util_now_ns - CLOCK_MONOTONIC in nanoseconds. */
uint64_t util_now_ns(void);
/* util_random - fill buf with bytes from getrandom(2); 0 or -errno. */
int util_random(void *buf, size_t len);
/* util_hex - lowercase hex of len bytes into out (2*len+1 bytes). */
char *util_hex(const void *buf, size_t len, char *out);
/* util_hexval - value of one hex digit, -1 if c is not one. */
int util_hexval(char c);
/* util_unhex - parse exactly 2*len hex digits; 0 or -EINVAL. */
int util_unhex(const char *s, void *buf, size_t len);
/* UUIDs: 16 bytes <-> "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (37 bytes with NUL). */
char *util_uuid_format(const uint8_t uuid[16], char *out);
int util_uuid_parse(const char *s, uint8_t uuid[16]);
/* util_uuid_random - a version 4 UUID. */
int util_uuid_random(uint8_t uuid[16]);

#endif
