/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.h - the cluster simulator's judge: is a recorded history of chunk
 * operations linearizable, and did every byte a read returned come from a
 * write?
 *
 * The model, per chunk (key): the state is absent or a byte string of at
 * most CHK_DATA_MAX bytes.
 *   PUT(data)        state := data; ok.
 *   DELETE           state := absent; ok (also when already absent).
 *   GET              answers the state: NOENT, or the exact bytes.
 *   WRITE(off, data) absent: NOENT, state unchanged. Present: data lands at
 *                    off, zeros fill any gap past the old end; ok.
 *
 * Outcomes: CHK_OK ops are checked against the model. CHK_FAIL ops had no
 * effect and are ignored. CHK_UNKNOWN ops (timeouts, crashes, in-doubt
 * errors) may have taken effect at any instant after their call, or never;
 * their answer is not checked (Knossos/Porcupine: they return at +infinity).
 * An UNKNOWN GET is ignored. Intervals are closed: an op returning at t and
 * one called at t are concurrent.
 *
 * Bounded maybe-writes (cfg->settle_ns, op->giveup_ns). In Ferry a write's
 * version is assigned at the chunk's head, the head serializes the chunk's
 * writes, a later epoch's versions are above every earlier one's, and
 * recovery only spreads a newer version over an older one. So once the
 * client gave up on write U at time G, U's request reaches a head by
 * G + settle (network delay plus slack) or never, and any write W of the
 * key called at or after G + settle gets a higher version than U: U cannot
 * take effect after W does. The checker holds an UNKNOWN write U to that:
 * U comes before every CHK_OK PUT, WRITE or DELETE of its key called at or
 * after U's giveup_ns + settle_ns, or it never takes effect. Not one that
 * answered NOENT: that wrote no version, so nothing keeps U's from being
 * spread later - by a node that was away when W ran, say (seed 700346: a
 * PUT in doubt stored only on nodes then out, a WRITE NOENT, the PUT back
 * when they returned, which the cluster's model allows). Its deadline, the earliest return of such a write, then stands
 * for its return: an op called after it cannot come before U if U took
 * effect at all. A maybe-write that resurfaces after a later acknowledged
 * write is thus a violation (a lost update), where unbounded it would
 * pass; and pending UNKNOWN ops stop multiplying the search once their
 * deadline is behind it. With giveup_ns or settle_ns 0, or no such later
 * write, U stays unbounded as above.
 *
 * Keys are checked one at a time (a history is linearizable iff each key's
 * part is), each by a Wing-Gong/Lowe search with memoization, as
 * Porcupine's checkSingle. A key whose search exceeds its step budget is
 * CHK_INCONCLUSIVE, never a silent pass.
 *
 * Library code: nothing here prints except into cfg->report.
 */
#ifndef FERRY_SIM_CHECK_H
#define FERRY_SIM_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CHK_DATA_MAX (64u * 1024)	 /* largest chunk state the model holds */
#define CHK_GRANULE 64u			 /* chk_fill/WRITE offsets are multiples of this */
#define CHK_DEFAULT_MAX_STEPS 5000000ull /* search budget per key when cfg gives 0 */

enum chk_kind { CHK_PUT = 1, CHK_GET, CHK_DELETE, CHK_WRITE };
enum chk_outcome { CHK_OK = 1, CHK_FAIL, CHK_UNKNOWN };
enum chk_result { CHK_LINEARIZABLE = 0, CHK_VIOLATION = 1, CHK_INCONCLUSIVE = 2 };

struct chk_op {
	uint32_t client;     /* issuing client (process) id */
	uint32_t key;	     /* chunk index in the simulator's key space */
	uint8_t kind;	     /* enum chk_kind */
	uint8_t outcome;     /* enum chk_outcome */
	uint8_t noent;	     /* response NOENT (GET of an absent chunk, WRITE on one;
			      * on a DELETE: it found the chunk absent - checked) */
	uint64_t call_ns;    /* invocation time */
	uint64_t ret_ns;     /* response time (ignored for UNKNOWN) */
	uint64_t giveup_ns;  /* UNKNOWN ops: when the client gave up; 0 = not known,
			      * unbounded (see "Bounded maybe-writes" above) */
	uint32_t off;	     /* WRITE offset */
	uint32_t len;	     /* bytes at data */
	const uint8_t *data; /* PUT: new content; WRITE: bytes written; GET ok: bytes read */
	uint64_t id;	     /* caller's op id (for reports) */
};

/* --- Histories ----------------------------------------------------------------------------- */

struct chk_history; /* append-only; keeps its own copy of every op's bytes */

/* chk_history_new - an empty history, or NULL (errno ENOMEM). */
struct chk_history *chk_history_new(void);
void chk_history_free(struct chk_history *h);

/*
 * chk_history_add - append a copy of op (and of its data). Ops may come in
 * any order. Returns 0, -ENOMEM, or -EINVAL for an op the model cannot
 * judge: unknown kind or outcome; a CHK_OK op returning before its call;
 * an UNKNOWN op giving up (giveup_ns not 0) before its call;
 * len or off + len above CHK_DATA_MAX; data NULL with len > 0; noent on a
 * PUT, or on a GET that also carries bytes. Nothing is added on error.
 */
int chk_history_add(struct chk_history *h, const struct chk_op *op);
size_t chk_history_len(const struct chk_history *h);

/* --- Checking ------------------------------------------------------------------------------ */

struct chk_stats {
	uint64_t keys;		/* keys with at least one op to check */
	uint64_t ops;		/* ops searched (FAIL ops and UNKNOWN GETs dropped) */
	uint64_t steps;		/* search steps, all keys */
	uint64_t max_key_steps; /* most steps one key took */
	uint64_t memo;		/* configurations remembered, all keys */
	uint64_t pruned;	/* configurations skipped: a dead one plus UNKNOWN ops */
	uint64_t bounded;	/* UNKNOWN writes searched with a bound (settle_ns) */
	uint32_t violations;	/* keys found not linearizable */
	uint32_t inconclusive;	/* keys whose budget ran out (or memory) */
};

/*
 * Search orders. Porcupine's tries each UNKNOWN op where it was called: fast
 * to find the linearization when they took effect early. Known-first tries
 * them only when no known op fits: they get placed when an answer needs
 * them, and proving a violation takes several times fewer steps. The
 * default takes turns (check.c, search_key); the others are for tests and
 * measurements.
 */
enum chk_order { CHK_ORDER_TURNS = 0, CHK_ORDER_PORCUPINE, CHK_ORDER_KNOWN_FIRST };

struct chk_cfg {
	uint64_t max_steps_per_key; /* search budget per key (0 = CHK_DEFAULT_MAX_STEPS) */
	FILE *report;		    /* where a violation is explained (may be NULL) */
	struct chk_stats *stats;    /* if not NULL, filled in (zeroed first) */
	uint8_t order;		    /* enum chk_order; 0 for the simulator */
	uint64_t first_slice;	    /* steps of the first turn, doubling each round
				     * (0 = 100 per op + 10000; tests force restarts) */
	uint64_t settle_ns;	    /* how late after its giveup_ns an UNKNOWN write's
				     * request can still reach a head; 0 = do not
				     * bound UNKNOWN ops at all (see above) */
};

/*
 * chk_linearizable - check every key (cfg may be NULL: defaults, no
 * report). Returns CHK_VIOLATION if any key is not linearizable - a proof
 * that outranks another key's lack of one - else CHK_INCONCLUSIVE if any
 * key's search gave up, else CHK_LINEARIZABLE. Every key is checked even
 * after one fails, so the report names them all.
 *
 * For each key that is not CHK_LINEARIZABLE it writes to cfg->report: the
 * key, its ops in call order (client, kind, call/ret, outcome, length and a
 * short hash of the bytes; for reads, which writes the bytes came from if
 * they were made by chk_fill), the longest linearizable prefix the search
 * found (caller's op ids, in order; an UNKNOWN op left out for good, as
 * a later write's bound requires, as "(never id)"), the state after it,
 * and the ops that could come next and why the model refused each.
 *
 * Running out of memory makes the key CHK_INCONCLUSIVE, reported as such.
 * Memory: the search remembers at most one configuration per step, each
 * about 64 bytes plus one bit per op of the key (so the default budget
 * bounds a key at a few hundred MB; typical keys use well under 1 MB).
 */
enum chk_result chk_linearizable(const struct chk_history *h, const struct chk_cfg *cfg);

/* chk_result_name - "linearizable", "violation", "inconclusive". */
const char *chk_result_name(enum chk_result r);

/* --- Payloads ------------------------------------------------------------------------------- */

/*
 * Bytes made by chk_fill say which write they came from, so that a read's
 * bytes can be checked on their own ("no read returns bytes never written")
 * with a message naming the offset and the culprit.
 *
 * Format: every aligned 8-byte word of the chunk is a stamp of the write
 * that filled it: [end-1 : 16][op_id : 32][check : 16], XOR a mask derived
 * from a magic, the key and the word's chunk offset. end is where that write
 * ended in the chunk (chunk_off + len); op_id is the low 32 bits of the
 * caller's id; check covers key, offset, op_id and end. Every byte of a
 * chunk is thus pseudo-random, and any 8 consecutive bytes from one write
 * name that write.
 *
 * Why words, not one stamp per 64-byte granule: WRITEs start on granules
 * but may end anywhere, so a granule can hold the head of a newer write
 * followed by what is left of older, longer ones, whose own stamps were
 * overwritten. Per-word stamps keep those leftovers attributable, and the
 * end field tells where each write's bytes must stop.
 */

/*
 * chk_fill - fill buf[0, len), which will sit at byte chunk_off of chunk key
 * (chunk_off a multiple of CHK_GRANULE, chunk_off + len <= CHK_DATA_MAX),
 * with the stamps of write op_id. A tail shorter than a word is the prefix
 * of the word it would have been.
 */
void chk_fill(uint8_t *buf, uint32_t len, uint32_t key, uint64_t op_id, uint32_t chunk_off);

/*
 * chk_verify - buf[0, len) is a whole chunk of key as read, every write to
 * which was made by chk_fill. Each 64-byte granule (the last may be short)
 * must be explainable as the writes can leave it: pieces, each the bytes of
 * one write running exactly to where that write ended (or to the granule or
 * chunk end), newest first, then possibly zeros (a gap left by a WRITE past
 * the old end) to the granule's end. No write may claim an end beyond len.
 *
 * Returns 0, -EBADMSG with a one-line reason in why (offset, what was found,
 * whose bytes they are if they belong elsewhere), or -EINVAL if len >
 * CHK_DATA_MAX.
 *
 * Never rejects a chunk the writes could have produced. The only
 * corruption it cannot see is within a piece shorter than a word left
 * between two writes (such a piece cannot name its write); whole reads are
 * also compared byte for byte by chk_linearizable.
 */
int chk_verify(const uint8_t *buf, uint32_t len, uint32_t key, char *why, size_t whylen);

/*
 * chk_describe - where the bytes came from, for messages: e.g.
 * "op17[0,4096) op20[4096,4160) zero[4160,4224)"; "?" marks a piece too
 * short to name its write, "!" the first byte no write explains. Writes
 * at most outlen bytes, always NUL-terminated (outlen > 0), "..." when cut.
 */
void chk_describe(const uint8_t *buf, uint32_t len, uint32_t key, char *out, size_t outlen);

#endif
