/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_ranged - ranged GETs and partial WRITEs (aligned, unaligned, extending, past the end with a zero gap) against a model.
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
	char *path = store_fixture_disk("store_ranged", 64 << 20);
	struct store_cfg cfg = { .path = path };
	struct store *s;
	uint8_t id[16] = { 0x42 };
	static uint8_t model[256 << 10], buf[256 << 10], back[(256 << 10) + 8192];
	uint32_t size = 50000, got;
	uint64_t v, last = 0;
	struct store_stat st;
	struct iovec iov;
	struct {
		uint32_t off, len;
	} w[] = {
		{ 0, 4096 },      /* aligned, first block */
		{ 8192, 8192 },   /* aligned, two blocks */
		{ 100, 10 },      /* unaligned inside a block */
		{ 4000, 200 },    /* unaligned across a block edge */
		{ 49990, 100 },   /* extends the chunk by 90 */
		{ 70000, 5000 },  /* past the end: zero gap, then data */
		{ 0, 0 },         /* empty write: new version, same bytes */
		{ 131072, 4096 }, /* aligned extension */
	};

	store_fixture_format(path, 256 << 10);
	REQUIRE(store_open(&cfg, &s) == 0);
	store_fixture_fill(model, size, 1);
	iov = (struct iovec){ model, size };
	REQUIRE(store_put(s, id, &iov, 1, &last) == 0);
	for (unsigned k = 0; k < sizeof(w) / sizeof(w[0]); k++) {
		store_fixture_fill(buf, w[k].len, 100 + k);
		iov = (struct iovec){ buf, w[k].len };
		REQUIRE(store_write(s, id, w[k].off, &iov, 1, &v) == 0);
		CHECK(v > last);
		last = v;
		if (w[k].off > size)
			memset(model + size, 0, w[k].off - size);
		memcpy(model + w[k].off, buf, w[k].len);
		if (w[k].off + w[k].len > size)
			size = w[k].off + w[k].len;
		REQUIRE(store_stat(s, id, &st) == 0);
		CHECK_EQ(st.size, size);
		CHECK_EQ(st.version, v);
		CHECK_EQ(st.crc, crc32c(0, model, size));
	}
	/* Ranged reads at odd offsets and lengths, including the tail. */
	for (uint32_t off = 0; off < size + 10; off += 3333) {
		for (uint32_t len = 1; len < 20000; len = len * 3 + 7) {
			uint32_t want = off >= size ? 0 : (off + len > size ? size - off : len);

			REQUIRE(store_get(s, id, off, len, back + 1, &got) == 0);
			CHECK_EQ(got, want);
			CHECK(memcmp(back + 1, model + off, want) == 0);
		}
	}
	/* Too big, and missing chunk. */
	iov = (struct iovec){ buf, 10 };
	CHECK_EQ(store_write(s, id, 256 << 10, &iov, 1, &v), -EFBIG);
	CHECK_EQ(store_write(s, (uint8_t[16]){ 9 }, 0, &iov, 1, &v), -ENOENT);
	/* After reopen, the same bytes. */
	store_close(s);
	REQUIRE(store_open(&cfg, &s) == 0);
	REQUIRE(store_get(s, id, 0, sizeof(back), back, &got) == 0);
	CHECK_EQ(got, size);
	CHECK(memcmp(back, model, size) == 0);
	store_close(s);
	unlink(path);
	free(path);
	return test_done();
}
