/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_scrub - store_scrub_step keeps to the configured rate (a simulated clock: about 1 MB per second at 1 MB/s), completes passes over every chunk and tombstone, finds nothing on a clean disk (STORE_SCRUB_OK, never STORE_SCRUB_BAD), and does nothing when the rate is 0.
 */
#include "lib/store_fixture.h"
#include "lib/test.h"
#include "common/crc32c.h"
#include "storage/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char *path = store_fixture_disk("store_scrub", 32 << 20);
	struct store_cfg cfg = { .path = path, .scrub_mb_s = 1.0 };
	struct store_counters c;
	struct store *s;
	static uint8_t data[64 << 10];
	struct iovec iov = { data, sizeof(data) };
	uint8_t id[16] = { 0x5c };
	uint64_t t, bytes, ok = 0, bad = 0;
	int ret;

	store_fixture_format(path, 64 << 10);
	store_fixture_fill(data, sizeof(data), 8);
	REQUIRE(store_open(&cfg, &s) == 0);
	for (int i = 0; i < 64; i++) { /* 4 MiB of chunks */
		id[1] = (uint8_t)i;
		REQUIRE(store_put(s, id, &iov, 1, NULL) == 0);
	}
	for (int i = 64; i < 72; i++) { /* and 8 tombstones */
		id[1] = (uint8_t)i;
		REQUIRE(store_delete_version(s, id, 1000 + (uint64_t)i) == 0);
	}
	/* One simulated second in 1 ms steps. */
	for (t = 1; t <= 1000; t++)
		store_scrub_step(s, t * 1000000ull, NULL);
	store_get_counters(s, &c);
	bytes = c.scrub_blocks * 4096;
	printf("scrubbed %llu bytes in 1 simulated second at 1 MB/s\n", (unsigned long long)bytes);
	CHECK(bytes >= 800000 && bytes <= 1200000);
	/* Ten more seconds: over two passes of 4 MiB, all clean. */
	for (; t <= 11000; t++) {
		ret = store_scrub_step(s, t * 1000000ull, NULL);
		ok += ret == STORE_SCRUB_OK;
		bad += ret == STORE_SCRUB_BAD;
		CHECK(ret >= 0 && ret <= STORE_SCRUB_BAD);
	}
	store_get_counters(s, &c);
	CHECK(c.scrub_passes >= 2);
	CHECK(ok >= 2 * 72);        /* every chunk and tombstone, twice */
	CHECK_EQ(bad, 0);
	CHECK_EQ(c.scrub_bad, 0);
	CHECK_EQ(c.crc_errors, 0);
	store_close(s);
	cfg.scrub_mb_s = 0;
	REQUIRE(store_open(&cfg, &s) == 0);
	for (t = 1; t <= 100; t++)
		CHECK_EQ(store_scrub_step(s, t * 1000000000ull, NULL), 0);
	store_close(s);
	unlink(path);
	free(path);
	return test_done();
}
