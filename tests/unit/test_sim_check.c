/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sim_check - the simulator's history checker (tests/sim/check.h):
 * hand-written histories with known answers; agreement with a brute-force
 * oracle (every order of every subset of the UNKNOWN ops) on thousands of
 * random small histories; the payload stamps (round trips, corruption,
 * layered writes); and a size case whose time is printed, never asserted.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/env.h"
#include "lib/test.h"
#include "sim/check.h"

/* CPU time of this thread: the checker's cost, not the machine's load. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- Hand-written histories ------------------------------------------------------------------ */

static struct chk_history *H; /* the history being written */
static uint32_t K;	      /* its key */
static uint64_t ID;	      /* next op id */

static void begin(uint32_t key)
{
	H = chk_history_new();
	REQUIRE(H);
	K = key;
	ID = 1;
}

static void add(uint32_t client, int kind, int outcome, int noent, uint64_t call, uint64_t ret,
		uint32_t off, const char *s, uint32_t len, uint64_t giveup)
{
	struct chk_op op = {
	    .client = client,
	    .key = K,
	    .kind = (uint8_t)kind,
	    .outcome = (uint8_t)outcome,
	    .noent = (uint8_t)noent,
	    .call_ns = call,
	    .ret_ns = ret,
	    .giveup_ns = giveup,
	    .off = off,
	    .len = len,
	    .data = (const uint8_t *)s,
	    .id = ID++,
	};

	REQUIRE(chk_history_add(H, &op) == 0);
}

/* sizeof - 1: string literals may carry zero bytes ("ab\0\0cd") */
#define PUT(c, t0, t1, s) add(c, CHK_PUT, CHK_OK, 0, t0, t1, 0, s, sizeof(s) - 1, 0)
#define PUT_U(c, t0, s) add(c, CHK_PUT, CHK_UNKNOWN, 0, t0, 0, 0, s, sizeof(s) - 1, 0)
#define PUT_F(c, t0, t1, s) add(c, CHK_PUT, CHK_FAIL, 0, t0, t1, 0, s, sizeof(s) - 1, 0)
#define GET(c, t0, t1, s) add(c, CHK_GET, CHK_OK, 0, t0, t1, 0, s, sizeof(s) - 1, 0)
#define GET_U(c, t0, s) add(c, CHK_GET, CHK_UNKNOWN, 0, t0, 0, 0, s, sizeof(s) - 1, 0)
#define GET_N(c, t0, t1) add(c, CHK_GET, CHK_OK, 1, t0, t1, 0, NULL, 0, 0)
#define DEL(c, t0, t1) add(c, CHK_DELETE, CHK_OK, 0, t0, t1, 0, NULL, 0, 0)
#define DEL_N(c, t0, t1) add(c, CHK_DELETE, CHK_OK, 1, t0, t1, 0, NULL, 0, 0)
#define DEL_U(c, t0) add(c, CHK_DELETE, CHK_UNKNOWN, 0, t0, 0, 0, NULL, 0, 0)
#define WR(c, t0, t1, off, s) add(c, CHK_WRITE, CHK_OK, 0, t0, t1, off, s, sizeof(s) - 1, 0)
#define WR_N(c, t0, t1, off, s) add(c, CHK_WRITE, CHK_OK, 1, t0, t1, off, s, sizeof(s) - 1, 0)
#define WR_U(c, t0, off, s) add(c, CHK_WRITE, CHK_UNKNOWN, 0, t0, 0, off, s, sizeof(s) - 1, 0)
/* UNKNOWN, the client gave up at g: bounded when the check has a settle time */
#define PUT_UG(c, t0, g, s) add(c, CHK_PUT, CHK_UNKNOWN, 0, t0, 0, 0, s, sizeof(s) - 1, g)
#define DEL_UG(c, t0, g) add(c, CHK_DELETE, CHK_UNKNOWN, 0, t0, 0, 0, NULL, 0, g)
#define WR_UG(c, t0, g, off, s) add(c, CHK_WRITE, CHK_UNKNOWN, 0, t0, 0, off, s, sizeof(s) - 1, g)

/* expect_settled - check H with cfg.settle_ns = settle, compare with want;
 * a violation must come with a report, a pass without one. Frees H. */
static void expect_settled(const char *name, uint64_t settle, enum chk_result want)
{
	char *rep = NULL;
	size_t replen = 0;
	FILE *f = open_memstream(&rep, &replen);
	struct chk_cfg cfg = {.report = f, .settle_ns = settle};
	enum chk_result r;

	REQUIRE(f);
	r = chk_linearizable(H, &cfg);
	fclose(f);
	if (r != want) {
		fprintf(stderr, "%s (settle %llu): got %s, want %s\n%s", name,
			(unsigned long long)settle, chk_result_name(r), chk_result_name(want), rep);
		test_failures++;
	}
	if (want == CHK_VIOLATION)
		CHECK(strstr(rep, "longest linearizable prefix"));
	if (want == CHK_LINEARIZABLE)
		CHECK_EQ(replen, 0);
	free(rep);
	chk_history_free(H);
	H = NULL;
}

/* expect - the same, UNKNOWN ops unbounded (settle 0) */
static void expect(const char *name, enum chk_result want)
{
	expect_settled(name, 0, want);
}

static void test_linearizable(void)
{
	begin(1); /* sequential */
	PUT(1, 0, 10, "a");
	GET(1, 20, 30, "a");
	PUT(1, 40, 50, "bb");
	GET(1, 60, 70, "bb");
	DEL(1, 80, 90);
	GET_N(1, 100, 110);
	expect("sequential", CHK_LINEARIZABLE);

	begin(1); /* two concurrent PUTs: b last ... */
	PUT(1, 0, 100, "a");
	PUT(2, 10, 90, "b");
	GET(3, 110, 120, "b");
	GET(3, 130, 140, "b");
	expect("concurrent puts, b wins", CHK_LINEARIZABLE);

	begin(1); /* ... or a last */
	PUT(1, 0, 100, "a");
	PUT(2, 10, 90, "b");
	GET(3, 110, 120, "a");
	expect("concurrent puts, a wins", CHK_LINEARIZABLE);

	begin(1); /* reads during two writes pin one order, and everyone agrees */
	PUT(1, 0, 100, "a");
	PUT(2, 0, 100, "b");
	GET(3, 10, 20, "a");
	GET(3, 30, 40, "b");
	GET(4, 50, 60, "b");
	GET(4, 110, 120, "b");
	expect("reads pin an order", CHK_LINEARIZABLE);

	begin(1);
	PUT(1, 0, 10, "a");
	PUT_U(2, 20, "b");
	GET(3, 100, 110, "b");
	expect("unknown put took effect", CHK_LINEARIZABLE);

	begin(1);
	PUT(1, 0, 10, "a");
	PUT_U(2, 20, "b");
	GET(3, 100, 110, "a");
	GET(3, 200, 210, "a");
	expect("unknown put never took effect", CHK_LINEARIZABLE);

	begin(1);
	PUT(1, 0, 10, "a");
	PUT_U(2, 20, "b");
	GET(3, 100, 110, "a");
	GET(3, 200, 210, "b");
	expect("unknown put took effect late", CHK_LINEARIZABLE);

	begin(1);
	PUT(1, 0, 10, "a");
	PUT(2, 20, 40, "b");
	GET(3, 25, 35, "a");
	expect("read during a write sees the old value", CHK_LINEARIZABLE);

	begin(1);
	PUT(1, 0, 10, "a");
	PUT(2, 20, 40, "b");
	GET(3, 25, 35, "b");
	expect("read during a write sees the new value", CHK_LINEARIZABLE);

	begin(1);
	PUT(1, 0, 10, "ab");
	WR(1, 20, 30, 4, "cd");
	GET(2, 40, 50, "ab\0\0cd");
	WR(1, 60, 70, 1, "XYZ");
	GET(2, 80, 90, "aXYZcd");
	WR(1, 100, 110, 5, "pqr");
	GET(2, 120, 130, "aXYZcpqr");
	expect("write: zero gap, overwrite, grow", CHK_LINEARIZABLE);

	begin(1);
	WR_N(1, 0, 10, 0, "x");
	GET_N(2, 20, 30);
	PUT(1, 40, 50, "a");
	DEL(1, 60, 70);
	WR_N(1, 80, 90, 3, "y");
	GET_N(2, 100, 110);
	expect("write on an absent chunk is NOENT", CHK_LINEARIZABLE);

	begin(1);
	DEL_N(1, 0, 10);
	PUT(1, 20, 30, "a");
	DEL(1, 40, 50);
	GET_N(2, 60, 70);
	DEL(1, 80, 90);
	expect("delete, then get NOENT", CHK_LINEARIZABLE);

	begin(1); /* closed intervals: returned at 10, called at 10: concurrent */
	PUT(1, 0, 10, "a");
	GET_N(2, 10, 20);
	expect("equal timestamps are concurrent", CHK_LINEARIZABLE);

	begin(1);
	PUT(1, 0, 10, "a");
	PUT_F(2, 20, 30, "b");
	GET(3, 40, 50, "a");
	GET_U(3, 60, "garbage");
	expect("failed ops and unknown reads are ignored", CHK_LINEARIZABLE);

	begin(1);
	PUT(1, 0, 10, "aaaa");
	WR_U(2, 20, 0, "b");
	GET(3, 100, 110, "aaaa");
	GET(3, 120, 130, "baaa");
	DEL_U(2, 140);
	GET(3, 150, 160, "baaa");
	GET_N(3, 170, 180);
	expect("unknown write and delete", CHK_LINEARIZABLE);

	begin(1);
	PUT(1, 0, 100, "a");
	WR_N(2, 10, 20, 0, "b");
	expect("write NOENT before a concurrent put", CHK_LINEARIZABLE);

	begin(1);
	PUT(1, 0, 10, "");
	GET(2, 20, 30, "");
	expect("empty chunk is present", CHK_LINEARIZABLE);

	begin(1);
	PUT_F(1, 0, 10, "a");
	expect("only failed ops", CHK_LINEARIZABLE);
	begin(1);
	expect("empty history", CHK_LINEARIZABLE);

	begin(1); /* keys are separate registers */
	PUT(1, 0, 10, "a");
	K = 2;
	GET_N(2, 20, 30);
	PUT(2, 40, 50, "b");
	K = 1;
	GET(1, 60, 70, "a");
	expect("two keys", CHK_LINEARIZABLE);
}

static void test_violations(void)
{
	begin(1);
	PUT(1, 0, 10, "a");
	PUT(1, 20, 30, "b");
	GET(2, 40, 50, "a");
	expect("stale read", CHK_VIOLATION);

	begin(1);
	PUT(1, 0, 10, "a");
	PUT(2, 20, 30, "b");
	GET(3, 40, 50, "a");
	GET(3, 60, 70, "a");
	GET(4, 80, 90, "a");
	GET(3, 100, 110, "a");
	PUT_U(1, 120, "c");
	GET(4, 130, 140, "a");
	expect("lost acknowledged write", CHK_VIOLATION);

	begin(1);
	PUT(1, 0, 10, "a");
	DEL(1, 20, 30);
	GET(2, 40, 50, "a");
	expect("deleted value comes back", CHK_VIOLATION);

	begin(1);
	PUT(1, 0, 100, "a");
	GET(2, 10, 20, "z");
	expect("read of bytes never written", CHK_VIOLATION);

	begin(1);
	PUT(1, 0, 10, "aaaa");
	WR(1, 20, 30, 2, "bb");
	GET(2, 40, 50, "aaaa");
	expect("write's bytes missing after it returned", CHK_VIOLATION);

	begin(1);
	PUT(1, 0, 10, "ab");
	WR(1, 20, 30, 4, "cd");
	GET(2, 40, 50, "abcd");
	expect("gap not zero-filled", CHK_VIOLATION);

	begin(1); /* the classic: two readers see two writes in opposite orders */
	PUT(1, 0, 100, "a");
	PUT(2, 0, 100, "b");
	GET(3, 10, 20, "a");
	GET(3, 30, 40, "b");
	GET(4, 10, 20, "b");
	GET(4, 30, 40, "a");
	expect("opposite orders", CHK_VIOLATION);

	begin(1); /* an UNKNOWN op takes effect once, not twice */
	PUT(1, 0, 10, "a");
	PUT_U(2, 20, "b");
	GET(3, 30, 40, "b");
	PUT(1, 50, 60, "c");
	GET(3, 70, 80, "c");
	GET(3, 90, 100, "b");
	expect("unknown op used twice", CHK_VIOLATION);

	begin(1);
	PUT(1, 0, 10, "a");
	GET_N(2, 11, 20);
	expect("read after a returned put sees nothing", CHK_VIOLATION);

	begin(1);
	PUT(1, 0, 10, "a");
	PUT_F(2, 20, 30, "b");
	GET(3, 40, 50, "b");
	expect("failed put observed", CHK_VIOLATION);

	begin(1);
	PUT(1, 0, 10, "a");
	WR_N(2, 20, 30, 0, "b");
	expect("write NOENT on a present chunk", CHK_VIOLATION);

	begin(1);
	WR(1, 0, 10, 0, "b");
	expect("write ok on an absent chunk", CHK_VIOLATION);

	begin(1);
	PUT(1, 0, 10, "a");
	DEL_N(2, 20, 30);
	expect("delete NOENT on a present chunk", CHK_VIOLATION);

	begin(1);
	PUT(1, 0, 10, "");
	GET_N(2, 20, 30);
	expect("empty chunk read as absent", CHK_VIOLATION);
}

/*
 * Bounded maybe-writes (check.h): with a settle time, an UNKNOWN write
 * takes effect before every acknowledged write of its key called settle
 * after the client gave up - or never. Histories are checked both ways:
 * bounded (settle) and unbounded (0, the old rule).
 */
#define SETTLE 100

/* a lost update: b, in doubt since 30, read after c, called at wcall,
 * returned; c is past the bound when wcall >= 30 + SETTLE */
static void lost_put(uint64_t wcall)
{
	begin(1);
	PUT(1, 0, 10, "a");
	PUT_UG(2, 20, 30, "b");
	PUT(3, wcall, wcall + 10, "c");
	GET(4, wcall + 20, wcall + 30, "b");
}

static void test_bounded(void)
{
	char *rep = NULL;
	size_t replen = 0;
	struct chk_stats st;
	struct chk_cfg cfg = {.stats = &st, .settle_ns = SETTLE};
	FILE *f;

	lost_put(130);
	expect_settled("unknown put resurfaces after a later write", SETTLE, CHK_VIOLATION);
	lost_put(130);
	expect("unknown put resurfaces, unbounded", CHK_LINEARIZABLE);
	lost_put(129); /* called before the bound: b may land after it */
	expect_settled("later write called before the bound", SETTLE, CHK_LINEARIZABLE);

	/* the report: b left out ("never": known-first places c before it
	 * tries b, and c drops it), and why the read cannot be */
	lost_put(130);
	cfg.order = CHK_ORDER_KNOWN_FIRST;
	f = open_memstream(&rep, &replen);
	REQUIRE(f);
	cfg.report = f;
	CHECK_EQ(chk_linearizable(H, &cfg), CHK_VIOLATION);
	fclose(f);
	CHECK_EQ(st.bounded, 1);
	CHECK(strstr(rep, "unknown, by 140 or never"));
	CHECK(strstr(rep, "longest linearizable prefix (3 of 4 ops): 1 (never 2) 3\n"));
	CHECK(strstr(rep, "GET    [150, 160] ok len 1 h=") && strstr(rep, ": refused"));
	fprintf(stderr, "report of a lost update:\n%s", rep);
	free(rep);
	chk_history_free(H);
	H = NULL;

	/* every kind of acknowledged write bounds it */
	for (int bounded = 0; bounded < 2; bounded++) {
		uint64_t settle = bounded ? SETTLE : 0;
		enum chk_result want = bounded ? CHK_VIOLATION : CHK_LINEARIZABLE;

		begin(1);
		PUT(1, 0, 10, "a");
		PUT_UG(2, 20, 30, "b");
		WR(3, 130, 140, 1, "x");
		GET(4, 150, 160, "b");
		expect_settled("unknown put resurfaces after a write", settle, want);

		begin(1);
		PUT(1, 0, 10, "a");
		PUT_UG(2, 20, 30, "b");
		DEL(3, 130, 140);
		GET(4, 150, 160, "b");
		expect_settled("unknown put resurfaces after a delete", settle, want);

		begin(1);
		PUT(1, 0, 10, "a");
		DEL_UG(2, 20, 30);
		PUT(3, 130, 140, "c");
		GET_N(4, 150, 160);
		expect_settled("unknown delete resurfaces", settle, want);

		begin(1);
		PUT(1, 0, 10, "aaaa");
		WR_UG(2, 20, 30, 0, "b");
		PUT(3, 130, 140, "cccc");
		GET(4, 150, 160, "bccc");
		expect_settled("unknown write resurfaces", settle, want);

		/* b comes before every write past its bound, not just the
		 * first called: c may land last, but d was read before b */
		begin(1);
		PUT(1, 0, 10, "a");
		PUT_UG(2, 20, 30, "b");
		PUT(3, 130, 500, "c");
		PUT(4, 300, 310, "d");
		GET(5, 312, 315, "d");
		GET(5, 320, 330, "b");
		expect_settled("bounded by every later write", settle, want);
	}

	/* not bounded by writes that answered NOENT: they wrote no version, and
	 * b may come back after them (seed 700346: b was only on nodes away) */
	begin(1);
	DEL(1, 0, 10);
	PUT_UG(2, 20, 30, "b");
	DEL_N(3, 130, 140);
	GET(4, 150, 160, "b");
	expect_settled("unknown put lands after a delete NOENT", SETTLE, CHK_LINEARIZABLE);
	begin(1);
	DEL(1, 0, 10);
	PUT_UG(2, 20, 30, "b");
	GET_N(3, 120, 125);
	WR_N(3, 130, 140, 0, "x");
	GET(4, 150, 160, "b");
	expect_settled("unknown put lands after a write NOENT", SETTLE, CHK_LINEARIZABLE);

	/* not bounded: no giveup time, or only failed writes and reads after it */
	begin(1);
	PUT(1, 0, 10, "a");
	PUT_U(2, 20, "b");
	PUT(3, 130, 140, "c");
	GET(4, 150, 160, "b");
	expect_settled("giveup time not known", SETTLE, CHK_LINEARIZABLE);
	begin(1);
	PUT(1, 0, 10, "a");
	PUT_UG(2, 20, 30, "b");
	PUT_F(3, 130, 140, "c");
	GET(4, 150, 160, "a");
	GET(4, 170, 180, "b");
	expect_settled("failed writes and reads do not bound", SETTLE, CHK_LINEARIZABLE);

	/* (b) still accepted: b seen before the later write, or while it runs */
	begin(1);
	PUT(1, 0, 10, "a");
	PUT_UG(2, 20, 30, "b");
	GET(3, 40, 50, "b");
	PUT(1, 200, 210, "c");
	GET(3, 220, 230, "c");
	expect_settled("unknown put seen before a later write", SETTLE, CHK_LINEARIZABLE);
	begin(1);
	PUT(1, 0, 10, "a");
	PUT_UG(2, 20, 30, "b");
	GET(3, 100, 110, "a");
	PUT(1, 200, 210, "c");
	GET(3, 205, 215, "b");
	GET(3, 220, 230, "c");
	expect_settled("unknown put lands while the later write runs", SETTLE, CHK_LINEARIZABLE);
	begin(1);
	PUT(1, 0, 10, "a");
	PUT_UG(2, 20, 30, "b");
	GET(3, 40, 50, "a");
	PUT(1, 200, 210, "c");
	GET(3, 220, 230, "c");
	expect_settled("unknown put never happened", SETTLE, CHK_LINEARIZABLE);
}

/* The report names the bad key only, and the longest prefix in op ids. */
static void test_report(void)
{
	char *rep = NULL;
	size_t replen = 0;
	FILE *f;
	struct chk_stats st;
	struct chk_cfg cfg = {0, NULL, &st};

	begin(3);
	PUT(1, 0, 10, "a");
	GET(2, 20, 30, "a");
	K = 7;
	PUT(1, 0, 10, "a");  /* id 3 */
	PUT(1, 20, 30, "b"); /* id 4 */
	GET(2, 40, 50, "a"); /* id 5 */
	f = open_memstream(&rep, &replen);
	REQUIRE(f);
	cfg.report = f;
	CHECK_EQ(chk_linearizable(H, &cfg), CHK_VIOLATION);
	fclose(f);
	CHECK(strstr(rep, "chk: key 7: not linearizable"));
	CHECK(!strstr(rep, "key 3"));
	CHECK(strstr(rep, "longest linearizable prefix (2 of 3 ops): 3 4\n"));
	CHECK(strstr(rep, "refused"));
	CHECK_EQ(st.keys, 2);
	CHECK_EQ(st.ops, 5);
	CHECK_EQ(st.violations, 1);
	CHECK_EQ(st.inconclusive, 0);
	fprintf(stderr, "report of a stale read:\n%s", rep);
	free(rep);
	chk_history_free(H);
}

static void test_invalid(void)
{
	static const uint8_t d[4] = "abc";
	struct chk_history *h = chk_history_new();
	struct chk_op ok = {
	    .kind = CHK_PUT, .outcome = CHK_OK, .call_ns = 5, .ret_ns = 6, .len = 3, .data = d};
	struct chk_op op;

	REQUIRE(h);
	CHECK_EQ(chk_history_add(h, &ok), 0);
	op = ok, op.kind = 0;
	CHECK_EQ(chk_history_add(h, &op), -EINVAL);
	op = ok, op.kind = CHK_WRITE + 1;
	CHECK_EQ(chk_history_add(h, &op), -EINVAL);
	op = ok, op.outcome = 0;
	CHECK_EQ(chk_history_add(h, &op), -EINVAL);
	op = ok, op.ret_ns = 4;
	CHECK_EQ(chk_history_add(h, &op), -EINVAL);
	op = ok, op.ret_ns = 4, op.outcome = CHK_UNKNOWN; /* its ret is not looked at */
	CHECK_EQ(chk_history_add(h, &op), 0);
	op = ok, op.outcome = CHK_UNKNOWN, op.giveup_ns = 4; /* gave up before the call */
	CHECK_EQ(chk_history_add(h, &op), -EINVAL);
	op.giveup_ns = 5;
	CHECK_EQ(chk_history_add(h, &op), 0);
	op = ok, op.len = CHK_DATA_MAX + 1;
	CHECK_EQ(chk_history_add(h, &op), -EINVAL);
	op = ok, op.kind = CHK_WRITE, op.off = CHK_DATA_MAX - 2;
	CHECK_EQ(chk_history_add(h, &op), -EINVAL);
	op = ok, op.data = NULL;
	CHECK_EQ(chk_history_add(h, &op), -EINVAL);
	op = ok, op.noent = 1;
	CHECK_EQ(chk_history_add(h, &op), -EINVAL);
	op = ok, op.kind = CHK_GET, op.noent = 1;
	CHECK_EQ(chk_history_add(h, &op), -EINVAL);
	CHECK_EQ(chk_history_len(h), 3);
	chk_history_free(h);
}

/* --- The oracle ------------------------------------------------------------------------------ */

/*
 * A separate, obviously exhaustive decision procedure for small histories:
 * for every subset of the UNKNOWN ops, try every order of the CHK_OK ops
 * plus that subset that respects real time (a before b when a returned
 * before b was called; with a settle time, an UNKNOWN write before every
 * CHK_OK write, not NOENT, called settle after its giveup) and the model.
 * Nothing shared with check.c.
 */
#define OR_MAXLEN 24

struct or_state {
	bool present;	      /* chunk exists */
	uint32_t len;	      /* its length */
	uint8_t b[OR_MAXLEN]; /* its bytes */
};

static void or_write(uint8_t *b, uint32_t *len, uint32_t off, const uint8_t *d, uint32_t n)
{
	if (off > *len)
		memset(b + *len, 0, off - *len);
	memcpy(b + off, d, n);
	if (off + n > *len)
		*len = off + n;
}

/* or_step - apply op to st (in place); false if its output cannot be. */
static bool or_step(const struct chk_op *op, struct or_state *st)
{
	bool known = op->outcome == CHK_OK;

	switch (op->kind) {
	case CHK_PUT:
		st->present = true;
		st->len = op->len;
		memcpy(st->b, op->data, op->len);
		return true;
	case CHK_DELETE:
		if (known && op->noent && st->present)
			return false;
		st->present = false;
		return true;
	case CHK_GET:
		if (op->noent)
			return !st->present;
		return st->present && st->len == op->len && !memcmp(st->b, op->data, op->len);
	case CHK_WRITE:
		if (!st->present)
			return !known || op->noent;
		if (known && op->noent)
			return false;
		or_write(st->b, &st->len, op->off, op->data, op->len);
		return true;
	}
	return false;
}

/* or_before - must a (placed at all) come before b? check.h's two rules */
static bool or_before(const struct chk_op *a, const struct chk_op *b, uint64_t settle)
{
	if (a->outcome == CHK_OK)
		return a->ret_ns < b->call_ns;
	return settle && a->giveup_ns && b->outcome == CHK_OK && b->kind != CHK_GET && !b->noent &&
	       b->call_ns >= a->giveup_ns + settle;
}

static bool or_search(const struct chk_op *const *ops, int n, uint32_t todo, struct or_state st,
		      uint64_t settle)
{
	if (!todo)
		return true;
	for (int i = 0; i < n; i++) {
		struct or_state ns = st;
		bool free_to_go = true;

		if (!(todo & (1u << i)))
			continue;
		for (int j = 0; j < n && free_to_go; j++)
			if (j != i && (todo & (1u << j)) && or_before(ops[j], ops[i], settle))
				free_to_go = false;
		if (free_to_go && or_step(ops[i], &ns) &&
		    or_search(ops, n, todo & ~(1u << i), ns, settle))
			return true;
	}
	return false;
}

/* or_key - ops of one key, FAIL ops and UNKNOWN GETs already dropped. */
static bool or_key(const struct chk_op *const *ops, int n, uint64_t settle)
{
	uint32_t known = 0, unknown = 0;
	struct or_state empty = {false, 0, {0}};

	for (int i = 0; i < n; i++) {
		if (ops[i]->outcome == CHK_OK)
			known |= 1u << i;
		else
			unknown |= 1u << i;
	}
	/* every subset of the unknown ops, by the usual sub-mask walk */
	for (uint32_t sub = unknown;; sub = (sub - 1) & unknown) {
		if (or_search(ops, n, known | sub, empty, settle))
			return true;
		if (!sub)
			return false;
	}
}

/* --- Random small histories ------------------------------------------------------------------ */

#define GEN_MAXOPS 32

struct gen_op {
	struct chk_op op;	/* with data pointing at buf */
	uint8_t buf[OR_MAXLEN]; /* its bytes */
	uint64_t at;		/* when it took effect */
	bool effect;		/* whether it did */
};

static void gen_bytes(struct rng *r, uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		b[i] = (uint8_t)('a' + rng_below(r, 2)); /* two letters: equal values are common */
}

static int gen_by_time(const void *a, const void *b)
{
	const struct gen_op *x = *(const struct gen_op *const *)a,
			    *y = *(const struct gen_op *const *)b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * gen_small - a random history on nkeys keys: ops with random overlapping
 * times (ties common), outcomes OK/FAIL/UNKNOWN, answers from a real
 * execution (each op takes effect at a random instant of its interval;
 * UNKNOWN ones perhaps later, perhaps never), then sometimes one answer
 * made up: another value, absent, garbage, or NOENT flipped. maybes:
 * nearly half of the ops UNKNOWN instead of a sixth, most of them taking
 * effect and sooner, and longer keys (the same draws, so the histories
 * without it stay as they were).
 */
static int gen_small(struct rng *r, struct gen_op *g, bool maybes)
{
	uint32_t nkeys = 2 + (uint32_t)rng_below(r, 2), nclients = 2 + (uint32_t)rng_below(r, 3);
	bool wild = rng_chance(r, 100000); /* every read made up */
	struct gen_op *order[GEN_MAXOPS];
	int n = 0;

	for (uint32_t key = 0; key < nkeys; key++) {
		int nops = 1 + (int)rng_below(r, maybes ? 10 : 8);
		struct or_state st = {false, 0, {0}};
		int first = n, m = 0;

		for (int i = 0; i < nops; i++, n++) {
			struct gen_op *o = &g[n];
			uint64_t kind = rng_below(r, 100), out = rng_below(r, 100);

			memset(o, 0, sizeof(*o));
			o->op.client = (uint32_t)rng_below(r, nclients);
			o->op.key = key * 7 + 3;
			o->op.kind = kind < 30	 ? CHK_PUT
				     : kind < 65 ? CHK_GET
				     : kind < 75 ? CHK_DELETE
						 : CHK_WRITE;
			o->op.outcome = out < (maybes ? 45u : 75u) ? CHK_OK
					: out < 90		   ? CHK_UNKNOWN
								   : CHK_FAIL;
			o->op.call_ns = rng_below(r, 40);
			o->op.ret_ns = o->op.call_ns + rng_below(r, 12);
			o->op.id = (uint64_t)n + 1;
			o->op.data = o->buf;
			if (o->op.kind == CHK_PUT) {
				o->op.len = (uint32_t)rng_below(r, 4);
				gen_bytes(r, o->buf, o->op.len);
			} else if (o->op.kind == CHK_WRITE) {
				o->op.off = (uint32_t)rng_below(r, 5);
				o->op.len = 1 + (uint32_t)rng_below(r, 2);
				gen_bytes(r, o->buf, o->op.len);
			}
			if (o->op.outcome == CHK_OK) {
				o->effect = true;
				o->at =
				    o->op.call_ns + rng_below(r, o->op.ret_ns - o->op.call_ns + 1);
			} else if (o->op.outcome == CHK_UNKNOWN &&
				   rng_chance(r, maybes ? 700000 : 500000)) {
				o->effect = true;
				o->at = o->op.call_ns + rng_below(r, maybes ? 25 : 60);
			}
			if (o->effect)
				order[m++] = o;
		}
		/* the real execution, in effect order */
		qsort(order, (size_t)m, sizeof(order[0]), gen_by_time);
		for (int i = 0; i < m; i++) {
			struct chk_op *op = &order[i]->op;

			if (op->kind == CHK_GET) {
				op->noent = !st.present;
				op->len = st.present ? st.len : 0;
				memcpy(order[i]->buf, st.b, op->len);
			} else if (op->kind == CHK_WRITE) {
				op->noent = !st.present;
			} else if (op->kind == CHK_DELETE) {
				op->noent = !st.present && rng_chance(r, 500000);
			}
			REQUIRE(or_step(op, &st));
		}
		/* made-up answers */
		for (int i = first; i < n; i++) {
			struct chk_op *op = &g[i].op;

			if (!(wild || rng_chance(r, 60000)))
				continue;
			if (op->kind == CHK_GET) {
				uint64_t how = rng_below(r, 4);

				if (how == 0) { /* absent */
					op->noent = 1;
					op->len = 0;
				} else if (how == 1) { /* garbage: one byte more, or changed */
					op->noent = 0;
					if (op->len < 4 && rng_chance(r, 500000))
						g[i].buf[op->len++] = 'z';
					else if (op->len)
						g[i].buf[rng_below(r, op->len)] = 'z';
					else
						g[i].buf[op->len++] = 'a';
				} else { /* some PUT's value of this key */
					int j = first + (int)rng_below(r, (uint64_t)(n - first));

					if (g[j].op.kind == CHK_PUT) {
						op->noent = 0;
						op->len = g[j].op.len;
						memcpy(g[i].buf, g[j].buf, op->len);
					}
				}
			} else if (op->kind == CHK_WRITE || op->kind == CHK_DELETE) {
				op->noent = !op->noent;
			}
		}
	}
	return n;
}

/*
 * gen_giveup - give the UNKNOWN ops of g[0, n) a giveup time (mostly; 0 is
 * "not known") from their own generator, so that the histories are those
 * gen_small made before giveups existed; return a settle time for them.
 * Effects of UNKNOWN ops land up to 25 or 60 after the call, so some land
 * past their bound: bounded, some histories are violations.
 */
static uint64_t gen_giveup(struct rng *r, struct gen_op *g, int n)
{
	for (int i = 0; i < n; i++)
		if (g[i].op.outcome == CHK_UNKNOWN && rng_chance(r, 900000))
			g[i].op.giveup_ns = g[i].op.call_ns + rng_below(r, 6);
	return 1 + rng_below(r, 8);
}

static void test_oracle(void)
{
	enum { RUNS = 20000, MAYBE_RUNS = 20000, NCFG = 8 };
	static const struct chk_cfg cfgs[4] = {
	    {.order = CHK_ORDER_TURNS},
	    {.order = CHK_ORDER_PORCUPINE},
	    {.order = CHK_ORDER_KNOWN_FIRST},
	    {.order = CHK_ORDER_TURNS, .first_slice = 3},
	};
	static struct gen_op g[GEN_MAXOPS];
	struct rng r, rg;
	int agree = 0, lin = 0, viol = 0, stricter = 0;
	double t0 = now_s();

	rng_seed(&r, 20261207);
	rng_seed(&rg, 7);
	for (int run = 0; run < RUNS + MAYBE_RUNS; run++) {
		struct chk_history *h = chk_history_new();
		int n = gen_small(&r, g, run >= RUNS);
		uint64_t settle = gen_giveup(&rg, g, n);
		bool want[2] = {true, true}; /* unbounded, bounded by settle */
		enum chk_result got;

		REQUIRE(h);
		for (int i = 0; i < n; i++)
			REQUIRE(chk_history_add(h, &g[i].op) == 0);
		/* the oracle, key by key, both ways */
		for (int i = 0; i < n;) {
			const struct chk_op *ops[GEN_MAXOPS];
			int j = i, m = 0;

			for (; j < n && g[j].op.key == g[i].op.key; j++) {
				const struct chk_op *op = &g[j].op;

				if (op->outcome == CHK_FAIL ||
				    (op->kind == CHK_GET && op->outcome == CHK_UNKNOWN))
					continue;
				ops[m++] = op;
			}
			if (!or_key(ops, m, 0))
				want[0] = false;
			if (!or_key(ops, m, settle))
				want[1] = false;
			i = j;
		}
		CHECK(want[0] || !want[1]); /* bounds only take linearizations away */
		stricter += want[0] && !want[1];
		/* each order alone, and turns with restarts every few steps; each
		 * unbounded and bounded */
		for (int c = 0; c < NCFG; c++) {
			struct chk_cfg cfg = cfgs[c % 4];
			bool w = want[c / 4];

			cfg.settle_ns = c / 4 ? settle : 0;
			got = chk_linearizable(h, &cfg);
			if (got == (w ? CHK_LINEARIZABLE : CHK_VIOLATION)) {
				agree++;
				continue;
			}
			if (test_failures++ >= 5)
				continue;
			fprintf(stderr,
				"oracle run %d, cfg %d (settle %llu): oracle says %s, checker %s\n",
				run, c, (unsigned long long)cfg.settle_ns,
				w ? "linearizable" : "violation", chk_result_name(got));
			for (int i = 0; i < n; i++)
				fprintf(
				    stderr,
				    "  key %u id %llu kind %u out %u noent %u [%llu,%llu] giveup "
				    "%llu off %u len %u %.*s\n",
				    g[i].op.key, (unsigned long long)g[i].op.id, g[i].op.kind,
				    g[i].op.outcome, g[i].op.noent,
				    (unsigned long long)g[i].op.call_ns,
				    (unsigned long long)g[i].op.ret_ns,
				    (unsigned long long)g[i].op.giveup_ns, g[i].op.off, g[i].op.len,
				    (int)g[i].op.len, (const char *)g[i].buf);
			cfg.report = stderr;
			chk_linearizable(h, &cfg);
		}
		lin += want[0];
		viol += !want[0];
		chk_history_free(h);
	}
	fprintf(stderr,
		"oracle: %d/%d checks agree over %d histories (%d linearizable, %d not; bounded, "
		"%d more not), %.2f s\n",
		agree, NCFG * (RUNS + MAYBE_RUNS), RUNS + MAYBE_RUNS, lin, viol, stricter,
		now_s() - t0);
	CHECK_EQ(agree, NCFG * (RUNS + MAYBE_RUNS));
	/* every answer must be well represented, or the comparison proves little */
	CHECK(lin > RUNS / 5);
	CHECK(viol > RUNS / 5);
	CHECK(stricter > MAYBE_RUNS / 50);
}

/* --- Payloads -------------------------------------------------------------------------------- */

/* A chunk built by PUTs and WRITEs of chk_fill'd bytes, as the model does. */
struct pchunk {
	uint8_t b[CHK_DATA_MAX]; /* content */
	uint32_t len;		 /* length */
};

static void pc_put(struct pchunk *c, uint32_t key, uint64_t op, uint32_t len)
{
	chk_fill(c->b, len, key, op, 0);
	c->len = len;
}

static void pc_write(struct pchunk *c, uint32_t key, uint64_t op, uint32_t off, uint32_t len)
{
	if (off > c->len)
		memset(c->b + c->len, 0, off - c->len);
	chk_fill(c->b + off, len, key, op, off);
	if (off + len > c->len)
		c->len = off + len;
}

static int verify(const struct pchunk *c, uint32_t key, char *why, size_t n)
{
	return chk_verify(c->b, c->len, key, why, n);
}

static void test_payload(void)
{
	static struct pchunk c, c2;
	static const uint32_t lens[] = {0, 1, 2, 5, 7, 8, 9, 63, 64, 65, 100, 127, 128, 4096, 4100};
	char why[200], d[300];
	struct rng r;
	uint32_t flips = 0, caught = 0;

	/* round trips, including short final granules and words */
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		pc_put(&c, 5, 77, lens[i]);
		CHECK_EQ(verify(&c, 5, why, sizeof(why)), 0);
	}
	memset(c.b, 0, 300);
	CHECK_EQ(chk_verify(c.b, 300, 5, why, sizeof(why)), 0); /* zeros */
	CHECK_EQ(chk_verify(c.b, 0, 5, why, sizeof(why)), 0);

	/* every single flipped byte of a 1 KiB write is caught */
	pc_put(&c, 5, 77, 1024);
	for (uint32_t i = 0; i < c.len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			c.b[i] ^= (uint8_t)(1u << bit);
			if (verify(&c, 5, why, sizeof(why)) != -EBADMSG) {
				if (test_failures < 10)
					fprintf(stderr, "flip at %u bit %d not caught\n", i, bit);
				test_failures++;
			}
			c.b[i] ^= (uint8_t)(1u << bit);
		}
	}
	c.b[300] ^= 0x10;
	CHECK_EQ(verify(&c, 5, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "offset 300"));
	fprintf(stderr, "flipped byte: %s\n", why);
	c.b[300] ^= 0x10;

	/* a granule from another key, or from another offset */
	pc_put(&c2, 6, 78, 1024);
	memcpy(c.b + 128, c2.b + 128, 64);
	CHECK_EQ(verify(&c, 5, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "key 6"));
	fprintf(stderr, "other key: %s\n", why);
	pc_put(&c, 5, 77, 1024);
	memcpy(c.b + 192, c.b + 64, 64);
	CHECK_EQ(verify(&c, 5, why, sizeof(why)), -EBADMSG);
	CHECK(strstr(why, "at offset 64"));
	fprintf(stderr, "other offset: %s\n", why);

	/* short reads: cut inside a granule, or on one; a granule torn to zeros */
	pc_put(&c, 5, 77, 100);
	CHECK_EQ(chk_verify(c.b, 90, 5, why, sizeof(why)), -EBADMSG);
	CHECK_EQ(chk_verify(c.b, 64, 5, why, sizeof(why)), -EBADMSG);
	fprintf(stderr, "short read: %s\n", why);
	pc_put(&c, 5, 77, 512);
	memset(c.b + 256, 0, 64);
	CHECK_EQ(verify(&c, 5, why, sizeof(why)), -EBADMSG);
	fprintf(stderr, "zeroed granule: %s\n", why);

	/* layers: newer writes over the heads of older ones, gaps */
	pc_put(&c, 5, 1, 300);
	pc_write(&c, 5, 2, 64, 30);
	chk_describe(c.b, c.len, 5, d, sizeof(d));
	CHECK(!strcmp(d, "op1[0,64) op2[64,94) op1[94,300)"));
	pc_write(&c, 5, 3, 64, 10);
	pc_write(&c, 5, 4, 0, 3);
	pc_write(&c, 5, 5, 448, 50); /* gap 300..448 */
	CHECK_EQ(verify(&c, 5, why, sizeof(why)), 0);
	chk_describe(c.b, c.len, 5, d, sizeof(d));
	CHECK(!strcmp(
	    d, "?[0,3) op1[3,64) op3[64,74) op2[74,94) op1[94,300) zero[300,448) op5[448,498)"));
	fprintf(stderr, "layers: %s\n", d);
	c.b[80] ^= 1; /* inside op2's piece */
	CHECK_EQ(verify(&c, 5, why, sizeof(why)), -EBADMSG);
	chk_describe(c.b, c.len, 5, d, sizeof(d));
	CHECK(strstr(d, "!"));
	c.b[80] ^= 1;
	c.b[350] = 1; /* inside the gap */
	CHECK_EQ(verify(&c, 5, why, sizeof(why)), -EBADMSG);

	/*
	 * Random layering: never a false alarm on what writes can leave; and
	 * nearly every flipped byte caught (the only blind spot is a piece
	 * shorter than a word left between two writes).
	 */
	rng_seed(&r, 99);
	for (int run = 0; run < 3000; run++) {
		int nw = 1 + (int)rng_below(&r, 12);
		uint32_t pos;

		pc_put(&c, 9, 1000 + (uint64_t)run * 16, (uint32_t)rng_below(&r, 1500));
		for (int w = 1; w < nw; w++) {
			uint32_t off = 64 * (uint32_t)rng_below(&r, 30);
			uint32_t len = rng_chance(&r, 300000) ? 64 * (uint32_t)rng_below(&r, 8)
							      : (uint32_t)rng_below(&r, 300);

			pc_write(&c, 9, 1000 + (uint64_t)run * 16 + (uint64_t)w, off, len);
		}
		if (verify(&c, 9, why, sizeof(why))) {
			if (test_failures < 10)
				fprintf(stderr, "layering run %d: false alarm: %s\n", run, why);
			test_failures++;
			continue;
		}
		if (!c.len)
			continue;
		pos = (uint32_t)rng_below(&r, c.len);
		c.b[pos] ^= (uint8_t)(1 + rng_below(&r, 255));
		flips++;
		caught += verify(&c, 9, why, sizeof(why)) == -EBADMSG;
	}
	fprintf(stderr, "layering: 3000 chunks accepted, %u of %u flipped bytes caught\n", caught,
		flips);
	CHECK(caught >= flips * 97 / 100);
	CHECK_EQ(chk_verify(c.b, CHK_DATA_MAX + 1, 9, why, sizeof(why)), -EINVAL);
}

/* --- Size: histories from a real execution --------------------------------------------------- */

struct ex_op {
	struct chk_op op; /* data: malloc'd, or NULL */
	uint64_t at;	  /* when it took effect */
	bool effect;	  /* whether it did */
};

static int ex_by_time(const void *a, const void *b)
{
	const struct ex_op *x = *(const struct ex_op *const *)a,
			   *y = *(const struct ex_op *const *)b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * ex_gen - n ops on one key from nclients clients, each client's ops one
 * after the other with random gaps and durations (so they overlap across
 * clients), nunknown of the writes UNKNOWN (half of them never take effect,
 * half at some instant after their call). Answers come from running the
 * model in effect order: the history is linearizable by construction.
 * Payloads are chk_fill'd; GETs get the exact bytes.
 *
 * If stale, one read late in the history, called after some PUT P returned,
 * answers the state before P instead - chosen so that it is a certain
 * violation: that state was made only by ops that returned before P was
 * called (so none of them can be placed after P to make it again).
 */
static struct ex_op *ex_gen(struct rng *r, int n, int nclients, int nunknown, bool stale)
{
	struct ex_op *o = calloc((size_t)n, sizeof(*o)),
		     **order = calloc((size_t)n, sizeof(*order));
	uint64_t t[16] = {0}, made = 0, armed = UINT64_MAX;
	static struct pchunk st, prev;
	bool present = false;
	int m = 0;

	REQUIRE(o && order && nclients <= 16);
	for (int i = 0; i < n; i++) {
		struct chk_op *op = &o[i].op;
		uint32_t c = (uint32_t)rng_below(r, (uint64_t)nclients);
		uint64_t kind = rng_below(r, 100);
		uint8_t *d;

		op->client = c;
		op->key = 42;
		op->id = (uint64_t)i + 1;
		op->kind = kind < 25   ? CHK_PUT
			   : kind < 65 ? CHK_GET
			   : kind < 90 ? CHK_WRITE
				       : CHK_DELETE;
		op->outcome = CHK_OK;
		op->call_ns = t[c] + rng_below(r, 20000);
		op->ret_ns = op->call_ns + 1000 + rng_below(r, 200000);
		t[c] = op->ret_ns;
		if (op->kind == CHK_PUT) {
			op->len = 1 + (uint32_t)rng_below(r, 4096);
			REQUIRE((d = malloc(op->len)));
			chk_fill(d, op->len, op->key, op->id, 0);
			op->data = d;
		} else if (op->kind == CHK_WRITE) {
			op->off = 64 * (uint32_t)rng_below(r, 64);
			op->len = 1 + (uint32_t)rng_below(r, 1024);
			REQUIRE((d = malloc(op->len)));
			chk_fill(d, op->len, op->key, op->id, op->off);
			op->data = d;
		}
		o[i].effect = true;
		o[i].at = op->call_ns + rng_below(r, op->ret_ns - op->call_ns + 1);
	}
	for (int i = 0, writes = 0; i < n; i++) { /* only writes are worth making UNKNOWN */
		writes += o[i].op.kind != CHK_GET;
		if (i == n - 1 && writes < nunknown)
			nunknown = writes;
	}
	for (int u = 0; u < nunknown;) { /* the client gave up waiting; maybe it happened */
		int i = (int)rng_below(r, (uint64_t)n);

		if (o[i].op.kind == CHK_GET || o[i].op.outcome == CHK_UNKNOWN)
			continue;
		o[i].op.outcome = CHK_UNKNOWN;
		o[i].effect = rng_chance(r, 500000);
		o[i].at = o[i].op.call_ns + rng_below(r, 1000000);
		u++;
	}
	for (int i = 0; i < n; i++)
		if (o[i].effect)
			order[m++] = &o[i];
	qsort(order, (size_t)m, sizeof(order[0]), ex_by_time);
	for (int i = 0; i < m; i++) {
		struct chk_op *op = &order[i]->op;
		uint64_t ret = op->outcome == CHK_OK ? op->ret_ns : UINT64_MAX;

		switch (op->kind) {
		case CHK_PUT:
			if (stale && armed == UINT64_MAX && i > m / 2 && present &&
			    made < op->call_ns && op->outcome == CHK_OK) {
				prev = st;
				armed = op->ret_ns;
			}
			memcpy(st.b, op->data, op->len);
			st.len = op->len;
			present = true;
			made = ret; /* when the state's last maker returned */
			break;
		case CHK_DELETE:
			present = false;
			break;
		case CHK_WRITE:
			op->noent = !present;
			if (present) {
				pc_write(&st, 42, op->id, op->off, op->len);
				made = ret > made ? ret : made;
			}
			break;
		case CHK_GET: {
			bool lie = armed != UINT64_MAX && op->call_ns > armed && stale;
			const struct pchunk *v = lie ? &prev : &st;
			uint8_t *d = NULL;

			if (lie)
				stale = false;
			op->noent = !(lie || present);
			op->len = op->noent ? 0 : v->len;
			if (op->len) {
				REQUIRE((d = malloc(op->len)));
				memcpy(d, v->b, op->len);
			}
			op->data = d;
			break;
		}
		}
	}
	REQUIRE(!stale); /* the lie was told */
	free(order);
	return o;
}

static void ex_free(struct ex_op *o, int n)
{
	for (int i = 0; i < n; i++)
		free((void *)o[i].op.data);
	free(o);
}

/* ex_history - the ops as a history; every read's bytes must pass chk_verify. */
static struct chk_history *ex_history(const struct ex_op *o, int n)
{
	struct chk_history *h = chk_history_new();
	char why[200];

	REQUIRE(h);
	for (int i = 0; i < n; i++) {
		REQUIRE(chk_history_add(h, &o[i].op) == 0);
		if (o[i].op.kind == CHK_GET && o[i].op.len &&
		    chk_verify(o[i].op.data, o[i].op.len, o[i].op.key, why, sizeof(why))) {
			fprintf(stderr, "read id %llu: %s\n", (unsigned long long)o[i].op.id, why);
			test_failures++;
		}
	}
	return h;
}

/* ex_time - check h under cfg, timed; print one line named name. */
static enum chk_result ex_time(const char *name, struct chk_history *h, struct chk_cfg *cfg,
			       double *secs)
{
	static const char *const order[] = {"turns", "porcupine", "known-first"};
	struct chk_stats st, *out = cfg->stats;
	enum chk_result r;
	double t0 = now_s();

	cfg->stats = &st;
	r = chk_linearizable(h, cfg);
	*secs = now_s() - t0;
	if (name)
		fprintf(stderr,
			"size: %s, %-11s: %-12s in %7.2f ms cpu, %8llu steps, %7llu "
			"configurations, %7llu pruned\n",
			name, order[cfg->order], chk_result_name(r), *secs * 1e3,
			(unsigned long long)st.steps, (unsigned long long)st.memo,
			(unsigned long long)st.pruned);
	if (out)
		*out = st;
	cfg->stats = out;
	return r;
}

static void test_size(void)
{
	struct rng r;
	double secs, total = 0, worst = 0;
	uint64_t steps = 0, worst_steps = 0;
	struct chk_history *h;
	struct ex_op *o;
	int batch = 200;
	char *rep = NULL;
	size_t replen = 0;
	FILE *f;

	/*
	 * 400 ops, 5 clients, 10 UNKNOWN: as built, and with one stale read.
	 * The default (turns) must decide both; each order alone is shown for
	 * comparison - either may run out of budget on the other's good case.
	 */
	rng_seed(&r, 4242);
	for (int stale = 0; stale < 2; stale++) {
		const char *name = stale ? "400 ops, stale read" : "400 ops, 10 unknown";

		o = ex_gen(&r, 400, 5, 10, stale);
		h = ex_history(o, 400);
		if (!stale) { /* warm up: the first check pays for fresh memory */
			struct chk_cfg cfg = {0};

			ex_time(NULL, h, &cfg, &secs);
		}
		for (uint8_t ord = CHK_ORDER_TURNS; ord <= CHK_ORDER_KNOWN_FIRST; ord++) {
			struct chk_cfg cfg = {.order = ord};
			enum chk_result res;

			if (!ord) {
				f = open_memstream(&rep, &replen);
				REQUIRE(f);
				cfg.report = f;
			}
			res = ex_time(name, h, &cfg, &secs);
			if (!ord) {
				CHECK_EQ(res, stale ? CHK_VIOLATION : CHK_LINEARIZABLE);
				fclose(f);
				CHECK_EQ(replen > 0, stale);
				free(rep);
				rep = NULL;
			} else {
				CHECK(res == (stale ? CHK_VIOLATION : CHK_LINEARIZABLE) ||
				      res == CHK_INCONCLUSIVE);
			}
		}
		chk_history_free(h);
		ex_free(o, 400);
	}

	/* a batch, as the simulator will run them */
	for (int i = 0; i < batch; i++) {
		int n = 10 + (int)rng_below(&r, 291);
		struct chk_stats st;
		struct chk_cfg cfg = {.report = stderr, .stats = &st};

		o = ex_gen(&r, n, 1 + (int)rng_below(&r, 5), (int)rng_below(&r, 11), false);
		h = ex_history(o, n);
		CHECK_EQ(ex_time(NULL, h, &cfg, &secs), CHK_LINEARIZABLE);
		total += secs;
		steps += st.steps;
		if (secs > worst)
			worst = secs;
		if (st.steps > worst_steps)
			worst_steps = st.steps;
		chk_history_free(h);
		ex_free(o, n);
	}
	fprintf(stderr,
		"size: %d histories of 10..300 ops, 1..5 clients, 0..10 unknown: %.3f ms cpu each "
		"on average, worst %.2f ms; %llu steps on average, worst %llu\n",
		batch, total / batch * 1e3, worst * 1e3, (unsigned long long)(steps / batch),
		(unsigned long long)worst_steps);

	/* a budget too small to decide is reported as such, never a pass */
	o = ex_gen(&r, 100, 4, 3, false);
	h = ex_history(o, 100);
	f = open_memstream(&rep, &replen);
	REQUIRE(f);
	{
		struct chk_stats st;
		struct chk_cfg cfg = {20, f, &st};

		CHECK_EQ(chk_linearizable(h, &cfg), CHK_INCONCLUSIVE);
		CHECK_EQ(st.inconclusive, 1);
	}
	fclose(f);
	CHECK(strstr(rep, "inconclusive: search budget of 20 steps used up"));
	free(rep);
	chk_history_free(h);
	ex_free(o, 100);
}

/*
 * The shape of simulator seed 503335, whose key the unbounded search could
 * not decide in 5,000,000 steps: one value read over and over by many
 * clients while writes time out - 20 PUTs and 4 DELETEs in doubt, none of
 * them ever seen, but kept (the DELETEs in doubt mean no later write can
 * prove the chunk was there without them) - then a quiet spell longer than
 * the settle time, then acknowledged writes and reads of them. If
 * resurface, a read after the first of those writes (and a read of it)
 * returns one of the PUTs in doubt: a lost update.
 */
#define SH_SETTLE 2000000000ull /* the simulator's 2 s */

/* sh_op - append op n of the shape: bytes by chk_fill for writes, none yet
 * for reads; rt is the return, or for an UNKNOWN op when it was given up */
static int sh_op(struct ex_op *o, int *n, uint8_t kind, uint8_t outcome, uint64_t call, uint64_t rt,
		 uint32_t len)
{
	struct chk_op *op = &o[*n].op;
	uint8_t *d;

	op->client = (uint32_t)*n % 24;
	op->key = 1;
	op->id = (uint64_t)*n + 1;
	op->kind = kind;
	op->outcome = outcome;
	op->call_ns = call;
	op->ret_ns = outcome == CHK_OK ? rt : 0;
	op->giveup_ns = outcome == CHK_UNKNOWN ? rt : 0;
	op->len = len;
	if (kind == CHK_PUT) {
		REQUIRE((d = malloc(len ? len : 1)));
		chk_fill(d, len, 1, op->id, 0);
		op->data = d;
	}
	return (*n)++;
}

/* sh_read - op n, a GET, read what PUT w wrote */
static void sh_read(struct ex_op *o, int *n, uint64_t call, int w)
{
	int i = sh_op(o, n, CHK_GET, CHK_OK, call, call + 1000000, o[w].op.len);
	uint8_t *d;

	REQUIRE((d = malloc(o[w].op.len)));
	memcpy(d, o[w].op.data, o[w].op.len);
	o[i].op.data = d;
}

static struct ex_op *shape_503335(int *nops, bool resurface)
{
	enum { NREADS = 1000, NDOUBT = 24 };
	struct ex_op *o = calloc(NREADS + NDOUBT + 16, sizeof(*o));
	uint64_t t = 1000000, giveup = 3000000000ull; /* the client's timeout */
	int n = 0, doubt = 0, lost = -1, p, w, x;
	struct rng r;

	REQUIRE(o);
	rng_seed(&r, 503335);
	p = sh_op(o, &n, CHK_PUT, CHK_OK, t, t + 1000000, 7488);
	for (int i = 0; i < NREADS; i++, t += 10000000) {
		uint64_t c = t + rng_below(&r, 5000000);

		if (i % 40 == 39 && doubt < NDOUBT) { /* a write in doubt */
			if (doubt++ % 6 == 5) {
				sh_op(o, &n, CHK_DELETE, CHK_UNKNOWN, c, c + giveup, 0);
			} else {
				x = sh_op(o, &n, CHK_PUT, CHK_UNKNOWN, c, c + giveup,
					  64 * (1 + (uint32_t)rng_below(&r, 125)));
				lost = lost < 0 ? x : lost;
			}
		}
		/* reads of p, some of them slow */
		sh_read(o, &n, c, p);
		o[n - 1].op.ret_ns = c + 300000 + rng_below(&r, 60000000);
	}
	t += 50 * SH_SETTLE / 2; /* the quiet spell: the cluster was down */
	w = sh_op(o, &n, CHK_PUT, CHK_OK, t, t + 1000000, 4928);
	sh_read(o, &n, t + 2000000, w);
	if (resurface)
		sh_read(o, &n, t + 4000000, lost);
	x = sh_op(o, &n, CHK_PUT, CHK_OK, t + 6000000, t + 7000000, 1536);
	sh_read(o, &n, t + 8000000, x);
	sh_op(o, &n, CHK_DELETE, CHK_OK, t + 10000000, t + 11000000, 0);
	sh_op(o, &n, CHK_GET, CHK_OK, t + 12000000, t + 13000000, 0);
	o[n - 1].op.noent = 1;
	x = sh_op(o, &n, CHK_PUT, CHK_OK, t + 14000000, t + 15000000, 320);
	sh_op(o, &n, CHK_WRITE, CHK_OK, t + 16000000, t + 17000000, 0);
	sh_read(o, &n, t + 18000000, x);
	*nops = n;
	return o;
}

static void test_shape_503335(void)
{
	for (int resurface = 0; resurface < 2; resurface++) {
		const char *name = resurface ? "503335 shape, lost update" : "503335 shape";
		enum chk_result want = resurface ? CHK_VIOLATION : CHK_LINEARIZABLE;
		int n;
		struct ex_op *o = shape_503335(&n, resurface);
		struct chk_history *h = ex_history(o, n);
		char *rep = NULL;
		size_t replen = 0;
		FILE *f = open_memstream(&rep, &replen);
		struct chk_stats st;
		struct chk_cfg cfg = {.report = f, .stats = &st, .settle_ns = SH_SETTLE};
		double secs;

		REQUIRE(f);
		/* bounded: the PUTs in doubt no one saw are pruned (the DELETEs
		 * in doubt came before the later PUTs), the rest is decided well
		 * within the budget */
		CHECK_EQ(ex_time(name, h, &cfg, &secs), want);
		fclose(f);
		fprintf(stderr, "%s: %d ops, %llu in doubt searched, %llu steps\n", name, n,
			(unsigned long long)st.bounded, (unsigned long long)st.steps);
		CHECK_EQ(st.bounded, 4 + resurface);
		CHECK(st.steps < CHK_DEFAULT_MAX_STEPS / 5);
		if (resurface)
			CHECK(strstr(rep, "not linearizable") && strstr(rep, ": refused"));
		free(rep);
		/* unbounded, the lost update is no violation: the PUT may have
		 * landed at any time */
		cfg.report = NULL;
		cfg.settle_ns = 0;
		CHECK_EQ(ex_time(resurface ? "503335 shape, lost update, unbounded"
					   : "503335 shape, unbounded",
				 h, &cfg, &secs),
			 CHK_LINEARIZABLE);
		chk_history_free(h);
		ex_free(o, n);
	}
}

/* A PUT in doubt whose bytes no read shows can still be seen: a WRITE that
 * merged into it (here over all its bytes) keeps its length. Seed
 * 240665567691321: the checker dropped such a PUT and called the run a
 * violation. */
static void test_unseen_put_under_write(void)
{
	begin(1);
	PUT(1, 10, 20, "AAAAAAAAAAAAAAAAAAAAAAAA");
	PUT_U(2, 30, "BBBBBBBB");
	WR_U(3, 40, 0, "CCCCCCCC");
	GET(4, 50, 60, "CCCCCCCC");
	expect("a write in doubt over a put in doubt, read", CHK_LINEARIZABLE);
	begin(1);
	PUT(1, 10, 20, "AAAAAAAAAAAAAAAAAAAAAAAA");
	PUT_U(2, 30, "BBBBBBBB");
	WR(3, 40, 50, 0, "CCCCCCCC");
	GET(4, 60, 70, "CCCCCCCC");
	expect("an acknowledged write over a put in doubt, read", CHK_LINEARIZABLE);
	begin(1);
	PUT(1, 10, 20, "AAAAAAAAAAAAAAAAAAAAAAAA");
	PUT_U(2, 30, "BBBBBBBB");
	WR(3, 40, 50, 0, "CCCCCCCC");
	GET(4, 60, 70, "CCCCCCCCAAAAAAAA");
	expect("a read that no order of them gives", CHK_VIOLATION);
}

int main(void)
{
	test_linearizable();
	test_violations();
	test_report();
	test_bounded();
	test_unseen_put_under_write();
	test_invalid();
	test_oracle();
	test_payload();
	test_size();
	test_shape_503335();
	return test_done();
}
