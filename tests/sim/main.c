/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ferry-sim - run the cluster simulator (sim.h) over seeds.
 *
 *   ferry-sim --seed N                 one seed; the trace on failure
 *   ferry-sim --seeds N [--from S]     N seeds from S (default: a random start)
 *   ferry-sim --list FILE              the seeds in FILE (one per line, # comments)
 *   ferry-sim --ci [--random N] [--budget SECS] [--list FILE]
 *                                      the fixed list, then up to N random seeds
 *                                      within the time budget; determinism is
 *                                      checked on a few (run twice, same hash)
 *   --fault-secs S   fault phase length (default: the seed's)
 *   --verbose        print the trace as it happens
 *   --debug          trace the libraries' debug lines too
 *   --break-read-at S   flip a byte of the first read after S seconds (to
 *                    show that the checks catch it: the run must fail)
 * Prints one line per failing seed and a summary with the simulated time
 * covered and the rate (simulated cluster-hours per wall-clock hour).
 * Exit 0 when every seed passed, 1 otherwise.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sim/sim.h"

static double main_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct main_totals {
	uint64_t seeds, failed, sim_ns, ops, unknown, faults, events;
	double wall;
};

static int main_one(uint64_t seed, const struct sim_opts *base, struct main_totals *tot,
		    int check_determinism)
{
	struct sim_opts o = *base;
	struct sim_result r, r2;
	double t0 = main_wall();
	int rc;

	o.seed = seed;
	rc = sim_run(&o, &r);
	tot->wall += main_wall() - t0;
	tot->seeds++;
	tot->sim_ns += r.sim_ns;
	tot->ops += r.ops;
	tot->unknown += r.ops_unknown;
	tot->faults += r.faults;
	tot->events += r.events;
	if (rc == 0 && check_determinism) {
		o.report = fopen("/dev/null", "w");
		sim_run(&o, &r2);
		if (o.report)
			fclose(o.report);
		if (r2.hash != r.hash || r2.ops != r.ops || r2.events != r.events) {
			fprintf(stderr, "seed %" PRIu64 ": NOT DETERMINISTIC: two runs differ (hash "
				"%016" PRIx64 " vs %016" PRIx64 ", %" PRIu64 " vs %" PRIu64 " polls)\n",
				seed, r.hash, r2.hash, r.events, r2.events);
			rc = 1;
		}
	}
	if (rc) {
		tot->failed++;
		fprintf(stderr, "seed %" PRIu64 ": FAILED: %s\n", seed,
			rc < 0 ? strerror(-rc) : r.why[0] ? r.why : "not deterministic");
	} else if (base->verbose) {
		fprintf(stderr, "seed %" PRIu64 ": ok (%.0f s simulated, %" PRIu64 " ops, %" PRIu64
			" faults)\n", seed, r.sim_ns / 1e9, r.ops, r.faults);
	}
	return rc ? 1 : 0;
}

static int main_list(const char *path, uint64_t *seeds, size_t cap, size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[256];

	*n = 0;
	if (!f) {
		fprintf(stderr, "ferry-sim: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) && *n < cap) {
		char *end;
		unsigned long long v;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		v = strtoull(line, &end, 0);
		if (end == line) {
			fprintf(stderr, "ferry-sim: %s: not a seed: %s", path, line);
			fclose(f);
			return -1;
		}
		seeds[(*n)++] = v;
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct sim_opts o = { 0 };
	struct main_totals tot = { 0 };
	uint64_t seed = 0, from = 0, nseeds = 0, nrandom = 0, list[4096];
	const char *listfile = NULL;
	double budget = 0, t0;
	int have_seed = 0, have_from = 0, ci = 0, bad = 0;
	size_t nlist = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--seed") && v) {
			seed = strtoull(v, NULL, 0);
			have_seed = 1;
			i++;
		} else if (!strcmp(a, "--seeds") && v) {
			nseeds = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--from") && v) {
			from = strtoull(v, NULL, 0);
			have_from = 1;
			i++;
		} else if (!strcmp(a, "--list") && v) {
			listfile = v;
			i++;
		} else if (!strcmp(a, "--random") && v) {
			nrandom = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--budget") && v) {
			budget = strtod(v, NULL);
			i++;
		} else if (!strcmp(a, "--fault-secs") && v) {
			o.fault_s = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--ci")) {
			ci = 1;
		} else if (!strcmp(a, "--verbose")) {
			o.verbose = 1;
		} else if (!strcmp(a, "--debug")) {
			o.debug = 1;
		} else if (!strcmp(a, "--break-read-at") && v) {
			o.break_read_at = strtoull(v, NULL, 0);
			i++;
		} else {
			fprintf(stderr, "ferry-sim: unknown argument '%s' (see the comment at the top "
					"of tests/sim/main.c)\n", a);
			return 2;
		}
	}
	if (!have_from) {
		if (getrandom(&from, sizeof(from), 0) != sizeof(from))
			from = (uint64_t)time(NULL);
		from &= 0xffffffffffffull; /* short enough to type */
	}
	t0 = main_wall();
	if (have_seed) {
		o.report = stderr;
		bad = main_one(seed, &o, &tot, 0);
	}
	if (listfile) {
		if (main_list(listfile, list, sizeof(list) / sizeof(list[0]), &nlist))
			return 2;
		for (size_t i = 0; i < nlist; i++)
			bad |= main_one(list[i], &o, &tot, ci && i < 3);
	}
	for (uint64_t i = 0; i < nseeds; i++) {
		bad |= main_one(from + i, &o, &tot, 0);
		if (budget > 0 && main_wall() - t0 > budget)
			break;
	}
	if (ci) {
		if (nrandom)
			fprintf(stderr, "ferry-sim: random seeds from %" PRIu64 "\n", from);
		for (uint64_t i = 0; i < nrandom; i++) {
			if (budget > 0 && main_wall() - t0 > budget)
				break;
			bad |= main_one(from + i, &o, &tot, i < 2);
		}
	}
	fprintf(stderr, "ferry-sim: %" PRIu64 " seeds, %" PRIu64 " failed; %.1f simulated hours in "
		"%.1f s (%.0f cluster-hours per hour, %.0fx real time); %" PRIu64 " ops (%" PRIu64
		" in doubt), %" PRIu64 " faults, %" PRIu64 " polls\n", tot.seeds, tot.failed,
		tot.sim_ns / 3.6e12, tot.wall, tot.wall > 0 ? tot.sim_ns / 3.6e12 / (tot.wall / 3600) : 0,
		tot.wall > 0 ? tot.sim_ns / 1e9 / tot.wall : 0, tot.ops, tot.unknown, tot.faults,
		tot.events);
	return bad ? 1 : 0;
}
