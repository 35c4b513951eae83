/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_corrupt - a flipped bit in a data block or a record is caught: GET returns -EBADMSG (never wrong bytes) and counts it, scrub reports each bad chunk once a pass with its id and version (STORE_SCRUB_BAD, and a tombstone whose record went bad), fsck fails; other chunks stay readable.
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

#include "storage/store_int.h"

static void flip(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	REQUIRE(fd >= 0);
	REQUIRE(pread(fd, &b, 1, (off_t)off) == 1);
	b ^= 0x10;
	REQUIRE(pwrite(fd, &b, 1, (off_t)off) == 1);
	REQUIRE(fsync(fd) == 0);
	close(fd);
}

int main(void)
{
	char *path = store_fixture_disk("store_corrupt", 32 << 20);
	struct store_cfg cfg = { .path = path, .scrub_mb_s = 1000 };
	struct store *s;
	struct store_counters c;
	struct store_fsck_report rep;
	uint8_t a[16] = { 0xa }, b[16] = { 0xb }, small[16] = { 0xc };
	static uint8_t data[100000], back[100000];
	struct iovec iov = { data, sizeof(data) };
	struct store_stat st;
	uint64_t data_off, blk_a, blk_s, va, vs;
	struct store_scrub_bad sb;
	int seen_a = 0, seen_s = 0, seen_other = 0;
	uint32_t got;
	int ret;

	store_fixture_format(path, 1 << 20);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_fixture_fill(data, sizeof(data), 5);
	REQUIRE(store_put(s, a, &iov, 1, &va) == 0);
	REQUIRE(store_put(s, b, &iov, 1, NULL) == 0);
	iov.iov_len = 300;
	REQUIRE(store_put(s, small, &iov, 1, &vs) == 0);
	data_off = s->g.data_off;
	blk_a = store_index_find(s, a)->block;
	blk_s = store_index_find(s, small)->block;
	store_close(s);
	CHECK_EQ(store_fsck(path, &rep), 0);

	/* Flip one bit in block 3 of chunk a and in the small chunk. */
	flip(path, data_off + (blk_a + 3) * 4096 + 17);
	flip(path, data_off + blk_s * 4096 + 5);
	REQUIRE(store_open(&cfg, &s) == 0);
	CHECK_EQ(store_get(s, a, 3 * 4096 + 10, 100, back, &got), -EBADMSG);
	CHECK_EQ(store_get(s, a, 0, sizeof(back), back, &got), -EBADMSG);
	CHECK_EQ(store_get(s, small, 0, 300, back, &got), -EBADMSG);
	/* Blocks that are intact still read, and so does the other chunk. */
	REQUIRE(store_get(s, a, 0, 4096, back, &got) == 0);
	CHECK(memcmp(back, data, 4096) == 0);
	REQUIRE(store_get(s, b, 0, sizeof(back), back, &got) == 0);
	CHECK(memcmp(back, data, sizeof(data)) == 0);
	iov.iov_len = 10;
	CHECK_EQ(store_write(s, a, 0, &iov, 1, NULL), -EBADMSG);
	store_get_counters(s, &c);
	CHECK(c.crc_errors >= 4);
	/* Scrub finds both bad chunks in one pass, and says which, at what
	 * version. */
	for (uint64_t t = 1; c.scrub_passes < 2 && t < 100000; t++) {
		memset(&sb, 0, sizeof(sb));
		if (store_scrub_step(s, t * 1000000ull, &sb) == STORE_SCRUB_BAD) {
			if (memcmp(sb.id, a, 16) == 0 && sb.version == va && sb.blocks == 1 &&
			    sb.err == -EBADMSG && !sb.tombstone)
				seen_a++;
			else if (memcmp(sb.id, small, 16) == 0 && sb.version == vs &&
				 sb.blocks == 1 && sb.err == -EBADMSG)
				seen_s++;
			else
				seen_other++;
		}
		store_get_counters(s, &c);
	}
	CHECK(c.scrub_passes >= 1);
	CHECK(c.scrub_bad >= 2);
	/* Once a pass (the loop ends inside the second or third). */
	CHECK(seen_a >= 1 && seen_a <= 3);
	CHECK(seen_s >= 1 && seen_s <= 3);
	CHECK_EQ(seen_other, 0);
	/* A whole PUT replaces the damaged chunk. */
	iov.iov_len = 300;
	REQUIRE(store_put(s, small, &iov, 1, NULL) == 0);
	REQUIRE(store_get(s, small, 0, 300, back, &got) == 0);
	CHECK(memcmp(back, data, 300) == 0);
	store_close(s);
	ret = store_fsck(path, &rep);
	CHECK(ret > 0);
	CHECK_EQ(rep.problems, 1);

	/* A corrupt record: the chunk is gone (never wrong bytes), others stay. */
	REQUIRE(store_open(&cfg, &s) == 0);
	{
		uint64_t rec_off = s->g.rec_off + (uint64_t)store_index_find(s, b)->slot * 512;

		store_close(s);
		flip(path, rec_off + 70);
	}
	REQUIRE(store_open(&cfg, &s) == 0);
	CHECK_EQ(store_stat(s, b, &st), -ENOENT);
	REQUIRE(store_stat(s, small, &st) == 0);

	/* A tombstone has only its record to check: scrub reports it bad when
	 * that goes bad under the running store. */
	{
		uint8_t tid[16] = { 0xd };
		uint64_t rec_off;
		int found = 0;

		REQUIRE(store_delete_version(s, tid, 5000) == 0);
		rec_off = s->g.rec_off + (uint64_t)store_index_find(s, tid)->slot * 512;
		flip(path, rec_off + 40); /* in the version field */
		for (uint64_t t = 1; !found && t < 100000; t++) {
			memset(&sb, 0, sizeof(sb));
			if (store_scrub_step(s, (1ull << 40) + t * 1000000ull, &sb) ==
			    STORE_SCRUB_BAD && memcmp(sb.id, tid, 16) == 0)
				found = sb.version == 5000 && sb.tombstone && sb.blocks == 0 &&
					sb.err == -EBADMSG ? 1 : -1;
		}
		CHECK_EQ(found, 1);
	}
	store_close(s);
	unlink(path);
	free(path);
	return test_done();
}
