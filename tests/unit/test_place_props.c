/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_place_props - weighted rendezvous placement over 50,000 chunk ids:
 * deterministic, shares within 5% of weight shares, distinct zones when
 * there are enough, adding a node moves <= 1.2x the ideal 1/(N+1) of the
 * replicas (all of them to the new node), removing one moves only its own.
 */
#include "lib/test.h"
#include "cluster/place.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define NCHUNKS 50000

static double fabs(double x)
{
	return x < 0 ? -x : x;
}

static void chunk_id(uint32_t i, uint8_t id[16])
{
	uint64_t a = place_hash((const uint8_t[16]){ 0x02, 1 }, (const uint8_t[16]){ (uint8_t)i,
		(uint8_t)(i >> 8), (uint8_t)(i >> 16), (uint8_t)(i >> 24) });
	memset(id, 0, 16);
	id[0] = 0x02;
	memcpy(id + 1, &a, 8);
	memcpy(id + 9, &i, 4);
}

static void add_node(struct cmap *m, uint32_t k, uint32_t weight, const char *zone)
{
	struct map_node *n = &m->nodes[m->n++];

	memset(n, 0, sizeof(*n));
	n->uuid[0] = 0xaa;
	n->uuid[5] = (uint8_t)k;
	n->uuid[15] = (uint8_t)(k * 7 + 3);
	n->addr.family = AF_INET;
	n->addr.port = 7480;
	n->weight = weight;
	n->state = MAP_UP;
	snprintf(n->zone, sizeof(n->zone), "%s", zone);
}

/* Fraction of replica slots that differ between a and b, counting as
 * "moved" every member of b's chain that is not in a's. */
static double moved(const struct cmap *a, const struct cmap *b, const uint8_t *only_to,
		    int *bad)
{
	uint64_t moves = 0, total = 0;

	for (uint32_t i = 0; i < NCHUNKS; i++) {
		uint16_t ca[MAP_MAX_R] = { 0 }, cb[MAP_MAX_R] = { 0 };
		uint8_t id[16];
		int na, nb;

		chunk_id(i, id);
		na = place_chain(a, id, ca);
		nb = place_chain(b, id, cb);
		total += (uint64_t)nb;
		for (int x = 0; x < nb; x++) {
			int found = 0;
			for (int y = 0; y < na; y++)
				found |= memcmp(b->nodes[cb[x]].uuid, a->nodes[ca[y]].uuid, 16) == 0;
			if (!found) {
				moves++;
				if (only_to && memcmp(b->nodes[cb[x]].uuid, only_to, 16) != 0)
					(*bad)++;
			}
		}
	}
	return (double)moves / (double)total;
}

int main(void)
{
	static struct cmap m, m2;
	static uint32_t count[MAP_MAX_NODES];
	const uint32_t weights[10] = { 1000, 1000, 2000, 1000, 3000, 1500, 1000, 500, 2000, 1000 };
	uint32_t wsum = 0;
	int bad = 0;

	/* determinism and the logarithm */
	CHECK(fabs(place_ln(0.5) - -0.69314718055994531) < 1e-12);
	CHECK(fabs(place_ln(1e-15) - -34.538776394910684) < 1e-12);
	CHECK(fabs(place_ln(0.999) - -0.0010005003335835335) < 1e-15);
	CHECK(place_ln(1.0) == 0.0);

	/* weighted shares, R = 1 (the head takes the whole chunk) */
	m.replicas = 1;
	for (uint32_t k = 0; k < 10; k++) {
		add_node(&m, k, weights[k], "z");
		wsum += weights[k];
	}
	for (uint32_t i = 0; i < NCHUNKS; i++) {
		uint16_t c[MAP_MAX_R], c2[MAP_MAX_R];
		uint8_t id[16];
		chunk_id(i, id);
		REQUIRE(place_chain(&m, id, c) == 1);
		REQUIRE(place_chain(&m, id, c2) == 1);
		CHECK(c[0] == c2[0]);
		count[c[0]]++;
	}
	for (uint32_t k = 0; k < 10; k++) {
		double want = (double)weights[k] / wsum, got = (double)count[k] / NCHUNKS;
		printf("weight %.1f: share %.4f (ideal %.4f, %+.1f%%)\n", weights[k] / 1000.0, got,
		       want, 100 * (got - want) / want);
		CHECK(fabs(got - want) / want <= 0.05);
	}

	/* equal weights, R = 3: replica share per node within 5%, chains distinct */
	memset(&m, 0, sizeof(m));
	memset(count, 0, sizeof(count));
	m.replicas = 3;
	for (uint32_t k = 0; k < 10; k++)
		add_node(&m, k, 1000, (const char *[]){ "a", "b", "c" }[k % 3]);
	for (uint32_t i = 0; i < NCHUNKS; i++) {
		uint16_t c[MAP_MAX_R];
		uint8_t id[16];
		chunk_id(i, id);
		REQUIRE(place_chain(&m, id, c) == 3);
		CHECK(c[0] != c[1] && c[1] != c[2] && c[0] != c[2]);
		/* three zones, R = 3: one replica per zone */
		CHECK(strcmp(m.nodes[c[0]].zone, m.nodes[c[1]].zone) &&
		      strcmp(m.nodes[c[1]].zone, m.nodes[c[2]].zone) &&
		      strcmp(m.nodes[c[0]].zone, m.nodes[c[2]].zone));
		for (int r = 0; r < 3; r++)
			count[c[r]]++;
	}
	/* zone a has 4 nodes, b and c 3: each zone holds 1/3 of the replicas */
	for (uint32_t k = 0; k < 10; k++) {
		double want = (1.0 / 3) / (k % 3 == 0 ? 4 : 3), got = (double)count[k] / (3.0 * NCHUNKS);
		CHECK(fabs(got - want) / want <= 0.05);
	}

	/* fewer zones than R: 2 zones, R = 3 -> both zones in every chain */
	memset(&m, 0, sizeof(m));
	m.replicas = 3;
	for (uint32_t k = 0; k < 6; k++)
		add_node(&m, k, 1000, k < 2 ? "small" : "big");
	for (uint32_t i = 0; i < 5000; i++) {
		uint16_t c[MAP_MAX_R];
		uint8_t id[16];
		int small = 0;
		chunk_id(i, id);
		REQUIRE(place_chain(&m, id, c) == 3);
		for (int r = 0; r < 3; r++)
			small += strcmp(m.nodes[c[r]].zone, "small") == 0;
		CHECK(small >= 1 && small <= 2);
	}

	/* movement: one zone, R = 3, N = 5 -> 6 and 10 -> 11 */
	for (uint32_t nn = 5; nn <= 10; nn += 5) {
		memset(&m, 0, sizeof(m));
		m.replicas = 3;
		for (uint32_t k = 0; k < nn; k++)
			add_node(&m, k, 1000, "z");
		m2 = m;
		add_node(&m2, 200, 1000, "z");
		bad = 0;
		double f = moved(&m, &m2, m2.nodes[nn].uuid, &bad);
		printf("add 1 node to %u: %.4f of replicas move (ideal %.4f, ratio %.3f), %d not to it\n",
		       nn, f, 1.0 / (nn + 1), f * (nn + 1), bad);
		CHECK(f <= 1.2 / (nn + 1));
		CHECK_EQ(bad, 0);

		/* remove node 2: only the chunks it held change, and only its slot */
		m2 = m;
		m2.nodes[2].state = MAP_OUT;
		uint64_t changed = 0, held = 0;
		for (uint32_t i = 0; i < NCHUNKS; i++) {
			uint16_t ca[MAP_MAX_R] = { 0 }, cb[MAP_MAX_R] = { 0 };
			uint8_t id[16];
			int had = 0, keep = 0;
			chunk_id(i, id);
			place_chain(&m, id, ca);
			place_chain(&m2, id, cb);
			for (int x = 0; x < 3; x++)
				had |= ca[x] == 2;
			for (int x = 0; x < 3; x++)
				for (int y = 0; y < 3; y++)
					keep += ca[x] == cb[y];
			held += had;
			if (!had)
				CHECK(keep == 3 && memcmp(ca, cb, sizeof(ca)) == 0);
			else
				CHECK(keep == 2);
			changed += keep != 3;
		}
		printf("remove 1 of %u nodes: %.4f of chunks change (the ones it held: %.4f)\n", nn,
		       (double)changed / NCHUNKS, (double)held / NCHUNKS);
		CHECK_EQ(changed, held);

		/* a down node keeps its slot: the chain shrinks, nothing else moves */
		m2 = m;
		m2.nodes[2].state = MAP_DOWN;
		for (uint32_t i = 0; i < 2000; i++) {
			uint16_t s1[MAP_MAX_R], s2[MAP_MAX_R], c2[MAP_MAX_R];
			uint8_t id[16];
			chunk_id(i, id);
			place_slots(&m, id, s1);
			place_slots(&m2, id, s2);
			CHECK(memcmp(s1, s2, sizeof(uint16_t) * 3) == 0);
			int n2 = place_chain(&m2, id, c2);
			CHECK_EQ(n2, (s1[0] == 2 || s1[1] == 2 || s1[2] == 2) ? 2 : 3);
		}
	}
	return test_done();
}
