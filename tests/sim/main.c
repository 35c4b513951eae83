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
 *   --jobs J         run seeds in J processes (default: one per CPU for
 *                    --seeds and --ci's random seeds); the rate is then the
 *                    whole machine's: simulated hours over elapsed hours
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

static void main_add(struct main_totals *a, const struct main_totals *b)
{
	a->seeds += b->seeds;
	a->failed += b->failed;
	a->sim_ns += b->sim_ns;
	a->ops += b->ops;
	a->unknown += b->unknown;
	a->faults += b->faults;
	a->events += b->events;
}

static int main_one(uint64_t seed, const struct sim_opts *base, struct main_totals *tot,
		    int check_determinism, int buffered)
{
	struct sim_opts o = *base;
	struct sim_result r, r2;
	double t0 = main_wall();
	int rc;

	char *rep = NULL;
	size_t replen = 0;

	o.seed = seed;
	/* In a job of several, a failing seed's report is written at once, so
	 * two reports never interleave. */
	if (buffered && !o.report)
		o.report = open_memstream(&rep, &replen);
	rc = sim_run(&o, &r);
	if (buffered && o.report) {
		fclose(o.report);
		if (rc && rep)
			fwrite(rep, 1, replen, stderr);
		free(rep);
		o.report = NULL;
	}
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

/* Seeds from..from+n-1 (fixed: every one; random: until the budget), job k
 * of jobs taking every jobs-th from from+k. Returns 1 when one failed. */
static int main_range(uint64_t from, uint64_t nseeds, uint64_t nrandom, uint32_t k, uint32_t jobs,
		      double budget, double t0, const struct sim_opts *o, struct main_totals *tot)
{
	int bad = 0;

	for (uint64_t i = k; i < nseeds; i += jobs) {
		bad |= main_one(from + i, o, tot, 0, jobs > 1);
		if (budget > 0 && main_wall() - t0 > budget)
			break;
	}
	for (uint64_t i = k; i < nrandom; i += jobs) {
		if (budget > 0 && main_wall() - t0 > budget)
			break;
		bad |= main_one(from + i, o, tot, i < 2, jobs > 1);
	}
	return bad;
}

/* main_range in jobs processes (each a fork of this one, so every seed runs
 * exactly as alone); their totals come back through a pipe. */
static int main_jobs(uint64_t from, uint64_t nseeds, uint64_t nrandom, uint32_t jobs, double budget,
		     double t0, const struct sim_opts *o, struct main_totals *tot)
{
	int fds[2], bad = 0;
	uint32_t started = 0;

	if (jobs <= 1)
		return main_range(from, nseeds, nrandom, 0, 1, budget, t0, o, tot);
	if (pipe(fds)) {
		fprintf(stderr, "ferry-sim: pipe: %s\n", strerror(errno));
		return 1;
	}
	fflush(stderr);
	for (uint32_t k = 0; k < jobs; k++) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "ferry-sim: fork: %s\n", strerror(errno));
			bad = 1;
			break;
		}
		if (pid == 0) {
			struct main_totals mine = { 0 };
			int rc;

			close(fds[0]);
			rc = main_range(from, nseeds, nrandom, k, jobs, budget, t0, o, &mine);
			if (write(fds[1], &mine, sizeof(mine)) != (ssize_t)sizeof(mine))
				rc = 1;
			fflush(stderr);
			_exit(rc ? 1 : 0);
		}
		started++;
	}
	close(fds[1]);
	for (uint32_t k = 0; k < started; k++) {
		struct main_totals part;

		if (read(fds[0], &part, sizeof(part)) == (ssize_t)sizeof(part))
			main_add(tot, &part);
	}
	close(fds[0]);
	for (uint32_t k = 0; k < started; k++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
	}
	return bad;
}

int main(int argc, char **argv)
{
	struct sim_opts o = { 0 };
	struct main_totals tot = { 0 };
	uint64_t seed = 0, from = 0, nseeds = 0, nrandom = 0, list[4096];
	const char *listfile = NULL;
	double budget = 0, t0;
	int have_seed = 0, have_from = 0, ci = 0, bad = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t jobs = cpus > 0 ? (uint32_t)cpus : 1;
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
		} else if (!strcmp(a, "--jobs") && v) {
			jobs = (uint32_t)strtoul(v, NULL, 0);
			if (jobs < 1 || jobs > 64) {
				fprintf(stderr, "ferry-sim: --jobs %s: want 1 to 64\n", v);
				return 2;
			}
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
		bad = main_one(seed, &o, &tot, 0, 0);
	}
	if (listfile) {
		if (main_list(listfile, list, sizeof(list) / sizeof(list[0]), &nlist))
			return 2;
		for (size_t i = 0; i < nlist; i++)
			bad |= main_one(list[i], &o, &tot, ci && i < 3, 0);
	}
	if (ci && nrandom)
		fprintf(stderr, "ferry-sim: random seeds from %" PRIu64 "\n", from);
	if (!ci)
		nrandom = 0;
	if (nseeds || nrandom)
		bad |= main_jobs(from, nseeds, nrandom, jobs, budget, t0, &o, &tot);
	if (nseeds || nrandom || jobs > 1)
		tot.wall = main_wall() - t0; /* the machine's rate, not one process's */
	fprintf(stderr, "ferry-sim: %" PRIu64 " seeds, %" PRIu64 " failed; %.1f simulated hours in "
		"%.1f s (%.0f cluster-hours per hour, %.0fx real time); %" PRIu64 " ops (%" PRIu64
		" in doubt), %" PRIu64 " faults, %" PRIu64 " polls\n", tot.seeds, tot.failed,
		tot.sim_ns / 3.6e12, tot.wall, tot.wall > 0 ? tot.sim_ns / 3.6e12 / (tot.wall / 3600) : 0,
		tot.wall > 0 ? tot.sim_ns / 1e9 / tot.wall : 0, tot.ops, tot.unknown, tot.faults,
		tot.events);
	return bad ? 1 : 0;
}
