/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_place_chain - write chains and readers between clean epochs
 * (cluster/place.h, map.h "Clean epochs"): at a clean epoch the write chain
 * is the live chain and all of it reads; a node that came back, or joined,
 * writes but does not read; a member the chunk moved away from keeps taking
 * writes (and reading) until the next clean epoch; readers come last, so
 * reads go to a tail that holds every acknowledged write.
 */
#include "lib/test.h"
#include "cluster/map.h"
#include "cluster/place.h"
#include "common/env.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static struct cmap m;

static void add_node(uint8_t tag, const char *zone)
{
	struct map_node *n = &m.nodes[m.n++];

	memset(n, 0, sizeof(*n));
	n->uuid[0] = tag;
	n->uuid[5] = 0x33;
	n->addr.family = AF_INET;
	n->addr.port = 1;
	n->weight = n->clean_weight = MAP_WEIGHT_ONE;
	n->state = n->clean_state = MAP_UP;
	snprintf(n->zone, sizeof(n->zone), "%s", zone);
	snprintf(n->clean_zone, sizeof(n->clean_zone), "%s", zone);
}

static int has(const uint16_t *v, int n, uint16_t x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

/* The invariants every write chain keeps, for one chunk. */
static void check_invariants(const uint8_t id[16])
{
	uint16_t wc[MAP_MAX_CHAIN], live[MAP_MAX_R], clean[MAP_MAX_R];
	int nr, n = place_write_chain(&m, id, wc, &nr);
	int nl = place_chain(&m, id, live), nc = place_clean_chain(&m, id, clean);

	CHECK(n <= MAP_MAX_CHAIN && nr <= n);
	for (int i = 0; i < nl; i++)
		CHECK(has(wc, n, live[i])); /* every live member takes writes */
	for (int i = 0; i < n; i++) {
		int reader = i >= n - nr;

		for (int j = i + 1; j < n; j++)
			CHECK(wc[i] != wc[j]);
		CHECK(m.nodes[wc[i]].state == MAP_UP);
		/* a reader is continuous and was in the clean live chain */
		if (reader)
			CHECK(map_continuous(&m, wc[i]) && has(clean, nc, wc[i]));
		else
			CHECK(!map_continuous(&m, wc[i]) || !has(clean, nc, wc[i]));
		/* beyond the live chain: only continuous clean members */
		if (!has(live, nl, wc[i]))
			CHECK(map_continuous(&m, wc[i]) && has(clean, nc, wc[i]));
	}
	CHECK_EQ(place_read_target(&m, id), nr ? wc[n - 1] : -1);
}

int main(void)
{
	struct rng r;
	uint8_t id[16];
	uint16_t wc[MAP_MAX_CHAIN], live[MAP_MAX_R];
	int nr, n, nl, moved = 0, syncing_heads = 0, unreadable = 0;

	m.replicas = 3;
	m.min_copies = 2;
	m.epoch = m.clean_epoch = 10;
	add_node(1, "a");
	add_node(2, "b");
	add_node(3, "c");
	add_node(4, "a");
	add_node(5, "b");
	rng_seed(&r, 42);

	/* clean: the live chain, every member a reader */
	for (int k = 0; k < 2000; k++) {
		for (int i = 0; i < 16; i++)
			id[i] = (uint8_t)rng_next(&r);
		n = place_write_chain(&m, id, wc, &nr);
		nl = place_chain(&m, id, live);
		CHECK_EQ(n, nl);
		CHECK_EQ(nr, n);
		CHECK(memcmp(wc, live, (size_t)n * sizeof(*wc)) == 0);
		check_invariants(id);
	}

	/* node 2 (index 1) came back at epoch 12: it writes, it does not read */
	m.epoch = 12;
	m.nodes[1].up_since = 12;
	for (int k = 0; k < 2000; k++) {
		for (int i = 0; i < 16; i++)
			id[i] = (uint8_t)rng_next(&r);
		n = place_write_chain(&m, id, wc, &nr);
		check_invariants(id);
		if (has(wc, n, 1)) {
			CHECK(wc[0] == 1); /* non-readers first: it heads the chain */
			CHECK_EQ(nr, n - 1);
			syncing_heads++;
		}
	}
	CHECK(syncing_heads > 0);

	/* a sixth node joins (in no clean chain) and node 4 goes out: chunks
	 * move; the members they left keep taking writes until clean */
	m.epoch = 14;
	add_node(6, "c");
	m.nodes[5].up_since = 13;
	m.nodes[5].clean_state = 0; /* not in the map at the clean epoch */
	m.nodes[5].clean_weight = 0;
	m.nodes[3].state = MAP_OUT;
	for (int k = 0; k < 4000; k++) {
		uint16_t clean[MAP_MAX_R];
		int nc;

		for (int i = 0; i < 16; i++)
			id[i] = (uint8_t)rng_next(&r);
		n = place_write_chain(&m, id, wc, &nr);
		nl = place_chain(&m, id, live);
		nc = place_clean_chain(&m, id, clean);
		check_invariants(id);
		CHECK(!has(wc, n, 3)); /* out: gone */
		for (int i = 0; i < nc; i++)
			if (clean[i] != 3 && clean[i] != 1 && !has(live, nl, clean[i])) {
				CHECK(has(wc, n, clean[i])); /* moved away, still written */
				moved++;
			}
		unreadable += nr == 0;
	}
	CHECK(moved > 0);

	/* nobody continuous (a ctl that rebuilt its map from its nodes): no
	 * chunk can be read until the next clean epoch */
	for (uint32_t i = 0; i < m.n; i++)
		m.nodes[i].up_since = m.epoch;
	for (int k = 0; k < 200; k++) {
		for (int i = 0; i < 16; i++)
			id[i] = (uint8_t)rng_next(&r);
		check_invariants(id);
		CHECK_EQ(place_read_target(&m, id), -1);
	}
	/* a full node leaves placement and is not continuous */
	m.epoch = m.clean_epoch = 20;
	for (uint32_t i = 0; i < m.n; i++) {
		m.nodes[i].up_since = 5;
		m.nodes[i].clean_state = m.nodes[i].state == MAP_UP ? MAP_UP : MAP_OUT;
	}
	m.nodes[0].flags = MAP_NF_FULL;
	for (int k = 0; k < 500; k++) {
		for (int i = 0; i < 16; i++)
			id[i] = (uint8_t)rng_next(&r);
		n = place_write_chain(&m, id, wc, &nr);
		CHECK(!has(wc, n, 0));
	}
	printf("moved-away members still written: %d; chunks unreadable mid-rebalance: %d\n", moved,
	       unreadable);
	return test_done();
}
