/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_map_codec - the cluster map round-trips through encode/parse and
 * map_save/map_load; corrupt, truncated or inconsistent bytes are refused;
 * a version 1 encoding (before clean epochs) still decodes, as clean.
 */
#include "lib/test.h"
#include "cluster/map.h"
#include "common/crc32c.h"

#include <stddef.h>

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
	m.min_copies = 2;
	m.clean_epoch = 40;
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
		/* 0-2 up (1 full), 3 lost, 4 down */
		n->state = i == 3 ? MAP_LOST : i == 4 ? MAP_DOWN : MAP_UP;
		n->chunks = i * 100;
		n->rec_bytes = 77;
		n->up_since = 38 + i;
		n->clean_state = i == 4 ? 0 : MAP_UP;
		n->clean_weight = i == 4 ? 0 : MAP_WEIGHT_ONE * 2;
		snprintf(n->clean_zone, sizeof(n->clean_zone), "old-%u", i);
		n->flags = i == 1 ? MAP_NF_FULL : 0;
		n->repaired = i;
	}
	len = map_encode(&m, buf, sizeof(buf));
	REQUIRE(len == (int)(sizeof(struct map_wire_hdr) + 5 * sizeof(struct map_wire_node)));
	REQUIRE(map_parse(buf, (size_t)len, &back) == 0);
	CHECK_EQ(back.epoch, 42);
	CHECK_EQ(back.replicas, 3);
	CHECK_EQ(back.n, 5);
	CHECK(strcmp(back.nodes[3].zone, "zone-1") == 0);
	CHECK_EQ(back.nodes[4].state, MAP_DOWN);
	CHECK_EQ(back.nodes[3].state, MAP_LOST);
	CHECK_EQ(back.nodes[2].chunks, 200);
	CHECK_EQ(back.min_copies, 2);
	CHECK_EQ(back.clean_epoch, 40);
	CHECK_EQ(back.nodes[3].up_since, 41);
	CHECK_EQ(back.nodes[1].flags, MAP_NF_FULL);
	CHECK_EQ(back.nodes[2].clean_weight, 2 * MAP_WEIGHT_ONE);
	CHECK(strcmp(back.nodes[2].clean_zone, "old-2") == 0);
	CHECK_EQ(back.nodes[4].clean_state, 0);
	CHECK_EQ(back.nodes[3].repaired, 3);
	/* continuity: up, not full, up since the clean epoch or before */
	CHECK(map_continuous(&back, 0) == 1);         /* up since 38 <= 40 */
	back.nodes[0].up_since = 40;
	CHECK(map_continuous(&back, 0) == 1);
	back.nodes[0].up_since = 41;
	CHECK(map_continuous(&back, 0) == 0);         /* came up after the clean epoch */
	CHECK(map_continuous(&back, 1) == 0);         /* full */
	CHECK_EQ(map_absent(&back), 1);               /* node 4 down; node 3 lost is not away */
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
	/* inconsistent fields are refused even with a good crc */
	{
		struct cmap bad = m;

		bad.min_copies = 4; /* above R */
		CHECK_EQ(map_encode(&bad, buf, sizeof(buf)), -EINVAL);
		bad = m;
		bad.nodes[0].up_since = 43; /* after the epoch */
		len = map_encode(&bad, buf, sizeof(buf));
		CHECK(map_parse(buf, (size_t)len, &back) == -EBADMSG);
		bad = m;
		bad.clean_epoch = 43;
		len = map_encode(&bad, buf, sizeof(buf));
		CHECK(map_parse(buf, (size_t)len, &back) == -EBADMSG);
		bad = m;
		bad.epoch = MAP_EPOCH_MAX + 1; /* versions would wrap */
		len = map_encode(&bad, buf, sizeof(buf));
		CHECK(map_parse(buf, (size_t)len, &back) == -EBADMSG);
	}
	/* version 1 (48-byte header, 144-byte nodes): decodes as clean */
	{
		uint8_t v1[MAP_V1_HDR_LEN + MAP_V1_NODE_LEN];
		struct map_wire_hdr h = { 0 };
		struct map_wire_node w = { 0 };
		uint32_t crc;

		h.magic = MAP_MAGIC;
		h.version = 1;
		h.hdr_len = MAP_V1_HDR_LEN;
		h.node_len = MAP_V1_NODE_LEN;
		h.replicas = 3;
		h.nnodes = 1;
		h.epoch = 9;
		memcpy(v1, &h, MAP_V1_HDR_LEN);
		w.uuid[0] = 7;
		w.family = AF_INET;
		w.port = 0x3c1d;
		w.weight = MAP_WEIGHT_ONE;
		w.state = MAP_UP;
		strcpy(w.zone, "z");
		memcpy(v1 + MAP_V1_HDR_LEN, &w, MAP_V1_NODE_LEN);
		crc = crc32c(0, v1, sizeof(v1));
		memcpy(v1 + offsetof(struct map_wire_hdr, crc), &crc, 4);
		REQUIRE(map_parse(v1, sizeof(v1), &back) == 0);
		CHECK_EQ(back.epoch, 9);
		CHECK_EQ(back.clean_epoch, 9);
		CHECK_EQ(back.min_copies, 2);
		CHECK_EQ(back.nodes[0].clean_state, MAP_UP);
		CHECK(strcmp(back.nodes[0].clean_zone, "z") == 0);
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
