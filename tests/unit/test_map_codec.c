/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_map_codec - the cluster map round-trips through encode/parse and
 * map_save/map_load; corrupt, truncated or inconsistent bytes are refused.
 */
#include "lib/test.h"
#include "cluster/map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
	static struct cmap m, back;
	static uint8_t buf[MAP_MAX_LEN];
	const char *tmp = getenv("FERRY_TEST_TMP");
	char dir[256];
	int len;

	m.epoch = 42;
	m.replicas = 3;
	m.cluster[0] = 0x11;
	for (uint32_t i = 0; i < 5; i++) {
		struct map_node *n = &m.nodes[m.n++];
		n->uuid[0] = (uint8_t)(i + 1);
		n->addr.family = AF_INET;
		n->addr.port = 0x3c1d;
		n->addr.ip[0] = 10;
		n->addr.ip[3] = (uint8_t)i;
		snprintf(n->zone, sizeof(n->zone), "zone-%u", i % 2);
		n->weight = MAP_WEIGHT_ONE;
		n->state = (uint8_t)(MAP_UP + i % 3);
		n->chunks = i * 100;
		n->rec_bytes = 77;
	}
	len = map_encode(&m, buf, sizeof(buf));
	REQUIRE(len == (int)(sizeof(struct map_wire_hdr) + 5 * sizeof(struct map_wire_node)));
	REQUIRE(map_parse(buf, (size_t)len, &back) == 0);
	CHECK_EQ(back.epoch, 42);
	CHECK_EQ(back.replicas, 3);
	CHECK_EQ(back.n, 5);
	CHECK(strcmp(back.nodes[3].zone, "zone-1") == 0);
	CHECK_EQ(back.nodes[4].state, MAP_DOWN);
	CHECK_EQ(back.nodes[2].chunks, 200);
	CHECK(net_addr_equal(&back.nodes[1].addr, &m.nodes[1].addr));
	CHECK_EQ(map_find(&back, m.nodes[2].uuid), 2);

	/* every truncation and every single-bit flip is refused */
	for (int l = 0; l < len; l++)
		CHECK(map_parse(buf, (size_t)l, &back) == -EBADMSG);
	for (int bit = 0; bit < len * 8; bit += 7) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		CHECK(map_parse(buf, (size_t)len, &back) == -EBADMSG);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* a duplicate node is refused even with a good crc */
	m.nodes[1] = m.nodes[0];
	len = map_encode(&m, buf, sizeof(buf));
	CHECK(map_parse(buf, (size_t)len, &back) == -EBADMSG);
	m.nodes[1].uuid[0] = 0x99;
	CHECK_EQ(map_encode(&m, buf, 10), -ENOSPC);

	/* persistence */
	snprintf(dir, sizeof(dir), "%s/mapXXXXXX", tmp ? tmp : "/tmp");
	REQUIRE(mkdtemp(dir));
	CHECK_EQ(map_load(&back, dir), -ENOENT);
	CHECK_EQ(map_save(&m, dir), 0);
	m.epoch = 43;
	CHECK_EQ(map_save(&m, dir), 0);
	CHECK_EQ(map_load(&back, dir), 0);
	CHECK_EQ(back.epoch, 43);
	CHECK_EQ(back.nodes[1].uuid[0], 0x99);
	char path[300];
	snprintf(path, sizeof(path), "%s/%s", dir, MAP_FILE);
	unlink(path);
	rmdir(dir);
	return test_done();
}
