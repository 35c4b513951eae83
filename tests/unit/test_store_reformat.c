/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_reformat - format does not zero the record area, so a reformatted disk still holds the old records: they must never come back (their checksums are seeded with the old disk UUID), not at open, not after new records raise the high-water mark over them.
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
	char *path = store_fixture_disk("store_reformat", 32 << 20);
	struct store_cfg cfg = { .path = path };
	struct store_fsck_report rep;
	struct store_info info;
	struct store *s;
	uint8_t id[16], data[3000];
	struct iovec iov = { data, sizeof(data) };
	uint8_t cur[16] = { 0 };
	struct store_list_entry le[64];
	uint32_t n;

	store_fixture_fill(data, sizeof(data), 4);
	store_fixture_format(path, 0);
	REQUIRE(store_open(&cfg, &s) == 0);
	for (int i = 0; i < 50; i++) {
		memset(id, 0, 16);
		id[0] = 0x0a;
		id[1] = (uint8_t)i;
		REQUIRE(store_put(s, id, &iov, 1, NULL) == 0);
	}
	store_close(s);

	store_fixture_format(path, 0);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	CHECK_EQ(info.chunks, 0);
	/* New chunks reuse the same slots and raise the mark over old ones. */
	for (int i = 0; i < 10; i++) {
		memset(id, 0, 16);
		id[0] = 0x0b;
		id[1] = (uint8_t)i;
		REQUIRE(store_put(s, id, &iov, 1, NULL) == 0);
	}
	store_close(s);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_get_info(s, &info);
	CHECK_EQ(info.chunks, 10);
	REQUIRE(store_list(s, cur, le, 64, &n) == 0);
	CHECK_EQ(n, 10);
	for (uint32_t k = 0; k < n; k++)
		CHECK_EQ(le[k].id[0], 0x0b);
	store_close(s);
	CHECK_EQ(store_fsck(path, &rep), 0);
	CHECK_EQ(rep.chunks, 10);
	unlink(path);
	free(path);
	return test_done();
}
