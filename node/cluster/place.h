/* SPDX-License-Identifier: Apache-2.0 */
/*
 * place.h - where a chunk lives: weighted rendezvous hashing over the map.
 *
 * For chunk id C and every node N that is not out, draw(C, N) =
 * ln(u) / weight(N) with u in (0, 1] taken from a 64-bit hash of (C, N's
 * UUID) (straw2, as Ceph's CRUSH does). The R largest draws form C's chain,
 * taken greedily in draw order but skipping nodes whose zone is already
 * chosen as long as unchosen zones remain; the chain is ordered by draw: the
 * first is the head (writes), the last the tail (reads).
 *
 * Properties (tests/unit/test_place_*.c): deterministic on every machine
 * (the logarithm is computed here, not by libm, so clients and nodes agree
 * bit for bit); each node's share is proportional to its weight; adding a
 * node moves only chunks to it, removing one moves only its chunks.
 *
 * Down nodes keep their slot in the computation (so a short outage moves no
 * data) but place_chain drops them from the chain it returns: writes go on
 * with the remaining replicas. Out, lost and full nodes are not considered.
 *
 * Between clean epochs (map.h, "Clean epochs") writes go to the write chain
 * (the live chain plus the clean chain's members that stayed up), and only
 * members of both that stayed up ("readers") may serve reads:
 * place_write_chain. Its first member is the head, which assigns versions;
 * its last, the tail, serves reads when it is a reader.
 */
#ifndef FERRY_CLUSTER_PLACE_H
#define FERRY_CLUSTER_PLACE_H

#include <stdint.h>

#include "cluster/map.h"

/* place_hash - the 64-bit hash of (chunk id, node uuid). */
uint64_t place_hash(const uint8_t id[16], const uint8_t uuid[16]);
/* place_ln - natural logarithm of x > 0, portable and deterministic. */
double place_ln(double x);

/* place_slots - the R chain slots of chunk id over nodes that are up or down,
 * head first: node indices into m->nodes in out[0..ret). ret < R when the
 * map has fewer such nodes. */
int place_slots(const struct cmap *m, const uint8_t id[16], uint16_t out[MAP_MAX_R]);
/* place_chain - place_slots without the down nodes: the live chain. */
int place_chain(const struct cmap *m, const uint8_t id[16], uint16_t out[MAP_MAX_R]);
/* place_clean_chain - the live chain under the attributes at clean_epoch. */
int place_clean_chain(const struct cmap *m, const uint8_t id[16], uint16_t out[MAP_MAX_R]);
/* place_write_chain - every node a write of chunk id must reach, head first:
 * the live chain and the continuous members of the clean chain, ordered
 * with the readers (continuous clean-chain members: they hold every
 * acknowledged write) last, so that the tail reads whenever any member can.
 * *nreaders = how many of the last members are readers (0: the chunk cannot
 * be read until the next clean epoch). At a clean epoch this is the live
 * chain, all readers. */
int place_write_chain(const struct cmap *m, const uint8_t id[16], uint16_t out[MAP_MAX_CHAIN],
		      int *nreaders);
/* place_read_target - the node reads of chunk id go to (the write chain's
 * tail when it is a reader), or -1. */
int place_read_target(const struct cmap *m, const uint8_t id[16]);

#endif
