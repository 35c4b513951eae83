/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env.h - what the cluster libraries take from the world: time and chance.
 *
 * The node, ctl and client libraries never read a clock or draw a random
 * number themselves; they ask the struct env they were opened with. In
 * production that is env_real() (CLOCK_MONOTONIC, getrandom); the cluster
 * simulator (tests/sim/) gives every simulated process its own env - a
 * skewed, drifting clock on simulated time and a generator seeded from the
 * run's seed - so that one seed replays a whole run bit for bit.
 *
 * I/O is injected the same way, through the transport (net/transport.h)
 * and storage ops (storage/store_io.h) tables.
 */
#ifndef FERRY_ENV_H
#define FERRY_ENV_H

#include <stdint.h>

struct env {
	uint64_t (*now_ns)(void *ctx); /* monotonic clock, nanoseconds */
	uint64_t (*rand64)(void *ctx); /* 64 random bits */
	void *ctx;                     /* for the two functions */
};

/* env_real - the process's clock and getrandom(2). Never NULL. */
const struct env *env_real(void);

static inline uint64_t env_now(const struct env *e)
{
	return e->now_ns(e->ctx);
}

static inline uint64_t env_rand(const struct env *e)
{
	return e->rand64(e->ctx);
}

/*
 * rng - a small seeded generator (xoshiro256** seeded through splitmix64,
 * as TigerBeetle's VOPR seeds its): the same seed gives the same sequence on
 * every machine. For simulations and tests; env_real() does not use it.
 */
struct rng {
	uint64_t s[4]; /* state; never all zero after rng_seed */
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* rng_below - uniform in [0, n) (n > 0), without modulo bias. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* rng_chance - 1 with probability per_million / 1e6. */
int rng_chance(struct rng *r, uint32_t per_million);

#endif
