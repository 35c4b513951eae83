/* SPDX-License-Identifier: Apache-2.0 */
/* env.c - the real clock and randomness, and the seeded generator (env.h). */
#include "common/env.h"

#include "common/util.h"

static uint64_t env_real_now(void *ctx)
{
	(void)ctx;
	return util_now_ns();
}

static uint64_t env_real_rand(void *ctx)
{
	uint64_t v = 0;

	(void)ctx;
	/* getrandom of 8 bytes does not fail once the pool is initialised,
	 * which it is long before anything here runs; a zero is harmless. */
	util_random(&v, sizeof(v));
	return v;
}

static const struct env env_real_v = { env_real_now, env_real_rand, NULL };

const struct env *env_real(void)
{
	return &env_real_v;
}

static uint64_t rng_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = rng_splitmix(&seed);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
}

static uint64_t rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return out;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	uint64_t limit = -n % n; /* 2^64 mod n: values below it are biased */
	uint64_t v;

	do
		v = rng_next(r);
	while (v < limit);
	return v % n;
}

int rng_chance(struct rng *r, uint32_t per_million)
{
	return rng_below(r, 1000000) < per_million;
}
