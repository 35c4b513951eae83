/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim.h - Ferry's deterministic cluster simulator.
 *
 * One process, one thread: a ctl, N nodes and M clients - the real node,
 * ctl and client libraries - over a simulated network (simnet.h) and
 * simulated disks (simdisk.h), on simulated time. A 64-bit seed decides
 * everything: the cluster's shape and knobs (swarm testing, as
 * TigerBeetle's VOPR), the workload, and the faults:
 *   - the network loses, duplicates, corrupts and delays datagrams, and is
 *     cut: node from ctl, node from node (one way or both), client from
 *     node, a minority from the majority;
 *   - disks lose power (volatile writes dropped or torn at 512 bytes, or
 *     garbage), return EIO, fail for good, flip bits, fill up;
 *   - processes are killed and restarted, alone or all at once (a
 *     whole-cluster power loss longer than the out window, nodes coming back
 *     one by one in any order); ctl is killed, sometimes losing its state;
 *   - clocks run at different rates, start at different offsets, and jump
 *     forward; processes pause.
 * Clients run PUT, GET, DELETE and WRITE on a small key space, so several
 * writers contend for each chunk; every operation goes into a history.
 *
 * A run has three phases: faults; heal (faults stop, every process comes
 * back, disks that were lost are declared lost) until ctl declares a clean
 * epoch - the liveness check; final operations (every key written and read
 * by a healthy cluster, which must all succeed). Then it checks:
 *   - linearizability of the whole history, per chunk (check.h);
 *   - integrity: every read's bytes came from a write (chk_verify);
 *   - durability: the final reads are part of the history, so a lost
 *     acknowledged write or a resurrected delete is a violation;
 *   - replicas: every chunk's live chain holds the same version and bytes,
 *     R copies where R nodes can hold them, and no copy lies elsewhere.
 * A failure prints the seed, the knobs, the fault schedule, the tail of
 * the trace and the checker's report.
 */
#ifndef FERRY_SIM_SIM_H
#define FERRY_SIM_SIM_H

#include <stdint.h>
#include <stdio.h>

struct sim_result {
	int ok;                    /* 1: every check passed */
	char why[512];             /* the first failure, one line */
	uint64_t sim_ns;           /* simulated time the run covered */
	uint64_t ops;              /* client operations recorded */
	uint64_t ops_ok, ops_unknown, ops_failed; /* their outcomes */
	uint64_t faults;           /* faults injected */
	uint64_t events;           /* process polls */
	uint64_t hash;             /* a hash of every delivery and outcome: equal for
				      two runs of one seed */
};

struct sim_opts {
	uint64_t seed;             /* the run */
	uint64_t fault_s;          /* override the fault phase length (0 = the seed's) */
	int verbose;               /* print the trace as it happens */
	int debug;                 /* trace the libraries' debug lines too */
	uint64_t break_read_at;    /* tests of the simulator itself: the first read
				      that returns bytes after this many seconds has
				      one flipped, which the checks must catch (0 = off) */
	FILE *report;              /* where a failure is explained (stderr if NULL) */
};

/* sim_run - simulate one seed; fills res; returns 0 when every check
 * passed, 1 when one failed (explained in opts->report), -errno when the
 * simulator itself could not run. */
int sim_run(const struct sim_opts *opts, struct sim_result *res);

#endif
