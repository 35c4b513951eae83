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

static int place_select(const struct cmap *m, const uint8_t id[16], uint16_t out[MAP_MAX_R])
{
	double draw[MAP_MAX_NODES];
	uint16_t order[MAP_MAX_NODES];
	uint32_t cand = 0, r = m->replicas ? m->replicas : 1, got = 0;
	uint8_t taken[MAP_MAX_NODES] = { 0 };

	if (r > MAP_MAX_R)
		r = MAP_MAX_R;
	for (uint32_t i = 0; i < m->n && i < MAP_MAX_NODES; i++) {
		const struct map_node *n = &m->nodes[i];
		uint64_t h;
		double u;

		if (n->state != MAP_UP && n->state != MAP_DOWN)
			continue;
		h = place_hash(id, n->uuid);
		u = ((double)(h >> 11) + 1.0) * (1.0 / 9007199254740992.0); /* (0, 1] */
		draw[i] = place_ln(u) / ((double)n->weight / MAP_WEIGHT_ONE);
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
					if (strcmp(m->nodes[out[b]].zone, m->nodes[order[a]].zone) == 0)
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
	return place_select(m, id, out);
}

int place_chain(const struct cmap *m, const uint8_t id[16], uint16_t out[MAP_MAX_R])
{
	uint16_t slots[MAP_MAX_R];
	int n = place_select(m, id, slots), k = 0;

	for (int i = 0; i < n; i++)
		if (m->nodes[slots[i]].state == MAP_UP)
			out[k++] = slots[i];
	return k;
}
