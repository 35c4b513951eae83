/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cluster_store_version - store_put_version installs the version a chain
 * head assigned, keeps it across reopen, and later local versions stay above.
 */
#include "lib/test.h"
#include "storage/store.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	const char *dir = getenv("FERRY_TEST_TMP");
	struct store_format_cfg fc = { .cluster = { 1, 2, 3 }, .node = { 9 }, .max_chunk = 65536 };
	struct store_cfg sc = { 0 };
	struct store *s;
	struct store_stat st;
	uint8_t id[16] = { 0x02, 7 }, id2[16] = { 0x02, 8 };
	char buf[64] = "hello", path[256];
	struct iovec iov = { buf, 5 };
	uint64_t v = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/ver.XXXXXX", dir ? dir : "/var/tmp");
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	REQUIRE(ftruncate(fd, 64 << 20) == 0);
	close(fd);
	REQUIRE(store_format(path, &fc) == 0);
	sc.path = path;
	REQUIRE(store_open(&sc, &s) == 0);
	CHECK_EQ(store_put_version(s, id, &iov, 1, 0), -EINVAL);
	CHECK_EQ(store_put_version(s, id, &iov, 1, 1000000), 0);
	CHECK_EQ(store_stat(s, id, &st), 0);
	CHECK_EQ(st.version, 1000000);
	CHECK_EQ(store_put(s, id2, &iov, 1, &v), 0);
	CHECK(v > 1000000);
	store_close(s);
	REQUIRE(store_open(&sc, &s) == 0);
	CHECK_EQ(store_stat(s, id, &st), 0);
	CHECK_EQ(st.version, 1000000);
	CHECK_EQ(store_put(s, id, &iov, 1, &v), 0);
	CHECK(v > 1000001);
	store_close(s);
	unlink(path);
	return test_done();
}
