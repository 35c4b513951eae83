/* SPDX-License-Identifier: Apache-2.0 */
/* place.c - weighted rendezvous placement (see place.h). */
#include "cluster/place.h"

#include <string.h>

static uint64_t place_mix(uint64_t x)
{
	/* splitmix64's finaliser: every input bit reaches every output bit. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

uint64_t place_hash(const uint8_t id[16], const uint8_t uuid[16])
{
	uint64_t a, b, c, d;

	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	memcpy(&c, uuid, 8);
	memcpy(&d, uuid + 8, 8);
	return place_mix(place_mix(place_mix(place_mix(a) ^ b) ^ c) ^ d);
}

/* ln(x) = e ln 2 + 2 atanh((m - 1) / (m + 1)) with x = m 2^e, m in [1, 2):
 * |z| <= 1/3, so 20 terms of the atanh series are far below double
 * precision; only +, *, / in a fixed order: identical everywhere. */
double place_ln(double x)
{
	union { double d; uint64_t u; } v = { .d = x };
	int e = (int)((v.u >> 52) & 0x7ff) - 1023;
	double m, z, z2, term, sum = 0;

	if (x <= 0)
		return -1e300;
	v.u = (v.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull; /* m in [1, 2) */
	m = v.d;
	z = (m - 1) / (m + 1);
	z2 = z * z;
	term = z;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return e * 0.69314718055994530942 + 2 * sum;
}

static const char *place_zone(const struct cmap *m, uint16_t i, int clean)
{
	return clean ? m->nodes[i].clean_zone : m->nodes[i].zone;
}

/* The R chain slots under the current attributes (clean = 0) or under
 * those the nodes had at clean_epoch (clean = 1). */
static int place_select(const struct cmap *m, const uint8_t id[16], int clean,
			uint16_t out[MAP_MAX_R])
{
	double draw[MAP_MAX_NODES];
	uint16_t order[MAP_MAX_NODES];
	uint32_t cand = 0, r = m->replicas ? m->replicas : 1, got = 0;
	uint8_t taken[MAP_MAX_NODES] = { 0 };

	if (r > MAP_MAX_R)
		r = MAP_MAX_R;
	for (uint32_t i = 0; i < m->n && i < MAP_MAX_NODES; i++) {
		const struct map_node *n = &m->nodes[i];
		uint8_t state = clean ? n->clean_state : n->state;
		uint32_t weight = clean ? n->clean_weight : n->weight;
		uint64_t h;
		double u;

		if ((state != MAP_UP && state != MAP_DOWN) || (!clean && (n->flags & MAP_NF_FULL)))
			continue;
		h = place_hash(id, n->uuid);
		u = ((double)(h >> 11) + 1.0) * (1.0 / 9007199254740992.0); /* (0, 1] */
		draw[i] = place_ln(u) / ((double)weight / MAP_WEIGHT_ONE);
		/* insertion sort by draw, largest first; ties by index */
		uint32_t k = cand++;
		while (k > 0 && draw[order[k - 1]] < draw[i]) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = (uint16_t)i;
	}
	/* pass 1: best draw per unseen zone; pass 2: fill up in draw order */
	for (int pass = 0; pass < 2 && got < r; pass++) {
		for (uint32_t a = 0; a < cand && got < r; a++) {
			uint32_t b;

			if (taken[a])
				continue;
			if (pass == 0) {
				for (b = 0; b < got; b++)
					if (strcmp(place_zone(m, out[b], clean),
						   place_zone(m, order[a], clean)) == 0)
						break;
				if (b < got)
					continue;
			}
			taken[a] = 1;
			out[got++] = order[a];
		}
	}
	/* head first = draw order */
	for (uint32_t a = 1; a < got; a++) {
		uint16_t x = out[a];
		uint32_t k = a;
		while (k > 0 && draw[out[k - 1]] < draw[x]) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = x;
	}
	return (int)got;
}

int place_slots(const struct cmap *m, const uint8_t id[16], uint16_t out[MAP_MAX_R])
{
	return place_select(m, id, 0, out);
}

int place_chain(const struct cmap *m, const uint8_t id[16], uint16_t out[MAP_MAX_R])
{
	uint16_t slots[MAP_MAX_R];
	int n = place_select(m, id, 0, slots), k = 0;

	for (int i = 0; i < n; i++)
		if (m->nodes[slots[i]].state == MAP_UP)
			out[k++] = slots[i];
	return k;
}

int place_clean_chain(const struct cmap *m, const uint8_t id[16], uint16_t out[MAP_MAX_R])
{
	uint16_t slots[MAP_MAX_R];
	int n = place_select(m, id, 1, slots), k = 0;

	for (int i = 0; i < n; i++)
		if (m->nodes[slots[i]].clean_state == MAP_UP)
			out[k++] = slots[i];
	return k;
}

int place_write_chain(const struct cmap *m, const uint8_t id[16], uint16_t out[MAP_MAX_CHAIN],
		      int *nreaders)
{
	uint16_t live[MAP_MAX_R], clean[MAP_MAX_R], all[MAP_MAX_CHAIN];
	uint8_t reader[MAP_MAX_CHAIN];
	int n = place_chain(m, id, live), c, k = 0, r = 0;

	if (m->clean_epoch == m->epoch) {
		/* The clean chain is the live chain, and all of it reads. */
		memcpy(out, live, (size_t)n * sizeof(*out));
		*nreaders = n;
		return n;
	}
	c = place_clean_chain(m, id, clean);
	memcpy(all, live, (size_t)n * sizeof(*all));
	k = n;
	for (int i = 0; i < c; i++) {
		int j = 0;

		if (!map_continuous(m, clean[i]))
			continue;
		while (j < k && all[j] != clean[i])
			j++;
		if (j == k)
			all[k++] = clean[i];
	}
	for (int i = 0; i < k; i++) {
		int j = 0;

		while (j < c && clean[j] != all[i])
			j++;
		reader[i] = j < c && map_continuous(m, all[i]);
		r += reader[i];
	}
	/* Readers last: the tail, where reads go, holds every acknowledged
	 * write whenever the chunk has a reader at all. */
	n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < k; i++)
			if (reader[i] == pass)
				out[n++] = all[i];
	*nreaders = r;
	return n;
}

int place_read_target(const struct cmap *m, const uint8_t id[16])
{
	uint16_t chain[MAP_MAX_CHAIN];
	int nr, n = place_write_chain(m, id, chain, &nr);

	return nr > 0 ? chain[n - 1] : -1;
}
