/* SPDX-License-Identifier: Apache-2.0 */
/*
 * check.c - linearizability of simulator histories, per chunk, and the
 * self-describing payloads (check.h).
 *
 * Sections: helpers; histories; the hash index; the search (states, model
 * step, DFS); reports; chk_linearizable; payloads.
 */
#include "sim/check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* --- Helpers --------------------------------------------------------------------------------- */

#define CHK_NIL UINT32_MAX	   /* end of the entry list */
#define CHK_REFUSED UINT32_MAX	   /* model step: the op's recorded output is impossible */
#define CHK_NOMEM (UINT32_MAX - 1) /* model step: out of memory */

/* splitmix64's finalizer: a bijection on 64 bits that scatters every input bit. */
static inline uint64_t chk_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t chk_hash_bytes(const uint8_t *p, uint32_t len)
{
	uint64_t h = 0x243f6a8885a308d3ull ^ len, w;
	uint32_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ (w * 0x9e3779b97f4a7c15ull));
		h = ((h << 27) | (h >> 37)) * 0x94d049bb133111ebull;
	}
	w = 0;
	if (len > i)
		memcpy(&w, p + i, len - i);
	return chk_mix64(h ^ w);
}

/*
 * chk_grow - realloc p to hold at least need elements of elem bytes,
 * doubling; *cap is updated only on success. Returns the new pointer, or
 * NULL (p untouched) when out of memory.
 */
static void *chk_grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	while (n < need && n <= SIZE_MAX / 2)
		n *= 2;
	if (n < need || n > SIZE_MAX / elem)
		return NULL;
	q = realloc(p, n * elem);
	if (q)
		*cap = n;
	return q;
}

/* CHK_RESERVE - room for need elements in arr (cap of them now): 0 or -ENOMEM.
 * A macro so that arr keeps its type (no void ** aliasing). */
#define CHK_RESERVE(arr, cap, need)                                                                \
	({                                                                                         \
		int r_ = 0;                                                                        \
		if ((size_t)(need) > (cap)) {                                                      \
			void *q_ = chk_grow((arr), &(cap), (need), sizeof(*(arr)));                \
			if (q_)                                                                    \
				(arr) = q_;                                                        \
			else                                                                       \
				r_ = -ENOMEM;                                                      \
		}                                                                                  \
		r_;                                                                                \
	})

const char *chk_result_name(enum chk_result r)
{
	switch (r) {
	case CHK_LINEARIZABLE:
		return "linearizable";
	case CHK_VIOLATION:
		return "violation";
	case CHK_INCONCLUSIVE:
		return "inconclusive";
	}
	return "?";
}

/* --- Histories ------------------------------------------------------------------------------- */

struct chk_rec {
	struct chk_op op; /* as added, but op.data is NULL: the bytes are at 'at' */
	size_t at;	  /* offset of the op's bytes in the history's byte store */
};

struct chk_history {
	struct chk_rec *rec; /* ops in the order added */
	size_t n;	     /* ops added */
	size_t cap;	     /* room in rec */
	uint8_t *bytes;	     /* every op's data, back to back */
	size_t nbytes;	     /* bytes used */
	size_t bytes_cap;    /* room in bytes */
};

struct chk_history *chk_history_new(void)
{
	return calloc(1, sizeof(struct chk_history));
}

void chk_history_free(struct chk_history *h)
{
	if (!h)
		return;
	free(h->rec);
	free(h->bytes);
	free(h);
}

size_t chk_history_len(const struct chk_history *h)
{
	return h->n;
}

static bool chk_op_valid(const struct chk_op *op)
{
	if (op->kind < CHK_PUT || op->kind > CHK_WRITE)
		return false;
	if (op->outcome < CHK_OK || op->outcome > CHK_UNKNOWN)
		return false;
	if (op->outcome == CHK_OK && op->ret_ns < op->call_ns)
		return false;
	if (op->outcome == CHK_UNKNOWN && op->giveup_ns && op->giveup_ns < op->call_ns)
		return false;
	if (op->len > CHK_DATA_MAX || (op->len && !op->data))
		return false;
	if (op->kind == CHK_WRITE && (uint64_t)op->off + op->len > CHK_DATA_MAX)
		return false;
	if (op->noent && (op->kind == CHK_PUT || (op->kind == CHK_GET && op->len)))
		return false;
	return true;
}

int chk_history_add(struct chk_history *h, const struct chk_op *op)
{
	struct chk_rec *r;

	if (!chk_op_valid(op))
		return -EINVAL;
	if (CHK_RESERVE(h->rec, h->cap, h->n + 1) ||
	    CHK_RESERVE(h->bytes, h->bytes_cap, h->nbytes + op->len))
		return -ENOMEM;
	r = &h->rec[h->n++];
	r->op = *op;
	r->op.data = NULL;
	r->at = h->nbytes;
	if (op->len)
		memcpy(h->bytes + h->nbytes, op->data, op->len);
	h->nbytes += op->len;
	return 0;
}

/* --- The hash index -------------------------------------------------------------------------- */

/*
 * An open-addressing table from 64-bit keys to 32-bit values. One search
 * object checks every key of a history with the same three tables; they
 * are emptied in O(1) by bumping a generation, so a table grown large by
 * one hard key costs nothing for the thousands of easy ones after it.
 */
struct chk_slot {
	uint64_t key; /* the entry's key (a hash, or an exact key) */
	uint32_t val; /* its value */
	uint32_t gen; /* generation that filled it; any other means empty */
};

struct chk_index {
	struct chk_slot *slot; /* mask + 1 slots, or NULL before first use */
	uint32_t mask;	       /* slots - 1, a power of two minus one */
	uint32_t used;	       /* slots filled in this generation */
	uint32_t gen;	       /* current generation, never 0 */
};

/* compares an entry's value with what the caller is looking for */
typedef bool (*chk_eq_fn)(const void *ctx, uint32_t val);

static void index_clear(struct chk_index *x)
{
	x->used = 0;
	if (++x->gen == 0) { /* wrapped: old slots could look current */
		if (x->slot)
			memset(x->slot, 0, ((size_t)x->mask + 1) * sizeof(*x->slot));
		x->gen = 1;
	}
}

/* index_ready - room for one more entry (at most half full). 0 or -ENOMEM. */
static int index_ready(struct chk_index *x)
{
	size_t n = x->slot ? (size_t)x->mask + 1 : 0, nn = n ? n * 2 : 1024;
	struct chk_slot *ns;

	if (x->slot && (size_t)(x->used + 1) * 2 <= n)
		return 0;
	if (nn > (size_t)UINT32_MAX + 1)
		return -ENOMEM;
	ns = calloc(nn, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t j;

		if (x->slot[i].gen != x->gen)
			continue;
		j = (uint32_t)chk_mix64(x->slot[i].key) & (uint32_t)(nn - 1);
		while (ns[j].gen == x->gen)
			j = (j + 1) & (uint32_t)(nn - 1);
		ns[j] = x->slot[i];
	}
	free(x->slot);
	x->slot = ns;
	x->mask = (uint32_t)(nn - 1);
	return 0;
}

/*
 * index_find - the slot holding key k whose value satisfies eq (any value
 * when eq is NULL), with *found = true; or the empty slot where it would
 * go, *found = false. The table must have been made ready.
 */
static uint32_t index_find(const struct chk_index *x, uint64_t k, chk_eq_fn eq, const void *ctx,
			   bool *found)
{
	uint32_t i = (uint32_t)chk_mix64(k) & x->mask;

	for (;; i = (i + 1) & x->mask) {
		const struct chk_slot *s = &x->slot[i];

		if (s->gen != x->gen) {
			*found = false;
			return i;
		}
		if (s->key == k && (!eq || eq(ctx, s->val))) {
			*found = true;
			return i;
		}
	}
}

static void index_set(struct chk_index *x, uint32_t i, uint64_t k, uint32_t v)
{
	x->slot[i] = (struct chk_slot){k, v, x->gen};
	x->used++;
}

/* --- The search ------------------------------------------------------------------------------ */

#define CHK_NOBIT 0xff /* an UNKNOWN op beyond the 64 tracked, or a known one */

struct chk_kop {		 /* one op of the key under search */
	const struct chk_op *op; /* as recorded (data not set: see 'data') */
	const uint8_t *data;	 /* its bytes */
	uint64_t ret;		 /* return time; UINT64_MAX for UNKNOWN */
	uint64_t bound;		 /* bounded UNKNOWN: giveup + settle; the CHK_OK writes
				  * called from then on come after it; else UINT64_MAX */
	uint64_t deadline;	 /* bounded UNKNOWN: the earliest return of those writes,
				  * by which it took effect or never; else UINT64_MAX */
	uint64_t zob;		 /* random bits; a group's hash XORs those of its placed ops */
	uint32_t st;		 /* PUT: state of its data; GET with bytes: the state read */
	uint32_t call_ent;	 /* its call entry */
	uint8_t unknown;	 /* outcome UNKNOWN: tried after the known ops, may stay out */
	uint8_t ubit;		 /* its bit in the search's umask, or CHK_NOBIT */
};

struct chk_ent {	/* a call or a return in the time-ordered list */
	uint32_t op;	/* index in the key's ops */
	uint32_t match; /* a call's return entry (unused on returns) */
	uint32_t prev;	/* list links: entry 0 is the head */
	uint32_t next;	/* CHK_NIL past the end */
	uint8_t call;	/* 1 call, 0 return */
};

struct chk_sortent { /* sort key of an entry */
	uint64_t t;  /* time */
	uint32_t op; /* op index (ties: call order) */
	uint8_t ret; /* 0 call, 1 return: calls first at equal times */
};

struct chk_state {     /* an interned model state; id 0 is "absent" */
	uint64_t hash; /* of the bytes */
	size_t at;     /* offset in the search's state bytes */
	uint32_t len;  /* length */
};

struct chk_frame {	 /* a placed op, to undo on backtracking */
	uint32_t ent;	 /* its call entry */
	uint32_t state;	 /* the state before it */
	uint32_t member; /* the configuration it led to: done when we come back */
	uint32_t ndrop;	 /* UNKNOWN ops it bounds, dropped with it (top of dstack) */
	uint8_t pass;	 /* the scan that placed it: 1 known ops, 2 UNKNOWN ones */
};

#define CHK_DROPPED 0x80000000u /* in best[]: the op was dropped, not placed */

/*
 * The memo. A configuration is (placed ops, state); Porcupine never explores
 * one twice. An UNKNOWN op dropped for good (by a write it must precede,
 * see search_run) counts as placed: what can follow depends only on the
 * ops left and the state, which a drop leaves as it was. Beyond that: if a
 * configuration was explored to the end without a linearization, so is any
 * with the same state and the same ops placed plus some UNKNOWN ones -
 * those take any output and hold no other op back, so a way on from the
 * superset is a way on from the subset with the extra ones left out:
 * placed last (returning at +infinity) that is never, or dropped by the
 * write they must precede when it is placed. Without this the search walks
 * every placed/not-placed mix of the pending UNKNOWN ops, 2^u times the
 * work, before it can call a history a violation.
 *
 * So configurations are grouped by (state, placed ops other than the first
 * 64 UNKNOWN ones); a member of a group is the mask of those UNKNOWN ops
 * placed. A done member prunes every member that is a superset of it.
 */
struct chk_group {
	uint32_t state; /* the model state */
	uint32_t head;	/* first member, CHK_NIL none */
};

struct chk_member {
	uint64_t umask; /* tracked UNKNOWN ops placed */
	uint32_t next;	/* next member of its group, CHK_NIL none */
	uint32_t group; /* its group */
	uint32_t done;	/* 1: explored to the end, no linearization from it */
};

struct chk_search {
	struct chk_kop *op;	    /* the key's ops, in call order */
	size_t op_cap;		    /* room in op */
	uint32_t n;		    /* ops of this key */
	struct chk_ent *ent;	    /* 2n + 1 entries, entry 0 the head */
	size_t ent_cap;		    /* room in ent */
	struct chk_sortent *sorted; /* scratch for ordering the entries */
	size_t sorted_cap;	    /* room in sorted */
	struct chk_frame *stack;    /* the ops placed so far */
	size_t stack_cap;	    /* room in stack */
	uint32_t *best;		    /* longest prefix placed: op indices */
	size_t best_cap;	    /* room in best */
	uint32_t best_len;	    /* its length */
	uint32_t best_state;	    /* the state after it */
	uint64_t *sufmin;	    /* scratch: earliest CHK_OK write return from op i on */
	size_t sufmin_cap;	    /* room in sufmin */
	struct chk_sortent *bounds; /* the bounded UNKNOWN ops (op), by bound (t) */
	size_t bounds_cap;	    /* room in bounds */
	uint32_t bounded;	    /* entries of bounds */
	uint32_t *dstack;	    /* UNKNOWN ops dropped by the writes placed, in order */
	size_t dstack_cap;	    /* room in dstack */
	uint32_t dtop;		    /* ops on dstack */
	uint64_t *kbits;	    /* placed ops but the tracked UNKNOWN ones, a bit each */
	size_t kbits_cap;	    /* room in kbits */
	uint32_t words;		    /* 64-bit words of kbits */
	uint64_t umask;		    /* placed tracked UNKNOWN ops */
	struct chk_group *group;    /* memo groups */
	size_t group_cap;	    /* room in group */
	uint32_t ngroups;	    /* groups in use */
	uint64_t *gbits;	    /* each group's kbits, words each */
	size_t gbits_cap;	    /* room in gbits (words) */
	struct chk_member *member;  /* memo members */
	size_t member_cap;	    /* room in member */
	uint32_t nmembers;	    /* members in use: configurations remembered */
	uint32_t probe_state;	    /* state of the group being looked up */
	struct chk_index memo_ix;   /* group hash -> group */
	uint64_t pruned;	    /* configurations skipped as supersets of explored ones */
	uint64_t remembered;	    /* configurations stored, all runs of this key */
	struct chk_state *state;    /* interned states */
	size_t state_cap;	    /* room in state */
	uint32_t nstates;	    /* states interned, counting "absent" */
	uint8_t *sbytes;	    /* their bytes */
	size_t sbytes_cap;	    /* room in sbytes */
	size_t sbytes_len;	    /* bytes used */
	struct chk_index state_ix;  /* bytes hash -> state id */
	struct chk_index trans_ix;  /* (WRITE op, state) -> state after it */
	uint8_t *scratch;	    /* CHK_DATA_MAX bytes to build a WRITE's result */
	uint64_t steps;		    /* steps of this key's search */
};

static struct chk_search *search_new(void)
{
	struct chk_search *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->scratch = malloc(CHK_DATA_MAX);
	if (!s->scratch) {
		free(s);
		return NULL;
	}
	s->memo_ix.gen = s->state_ix.gen = s->trans_ix.gen = 1;
	return s;
}

static void search_free(struct chk_search *s)
{
	if (!s)
		return;
	free(s->op);
	free(s->ent);
	free(s->sorted);
	free(s->sufmin);
	free(s->bounds);
	free(s->dstack);
	free(s->stack);
	free(s->best);
	free(s->kbits);
	free(s->group);
	free(s->gbits);
	free(s->member);
	free(s->memo_ix.slot);
	free(s->state);
	free(s->sbytes);
	free(s->state_ix.slot);
	free(s->trans_ix.slot);
	free(s->scratch);
	free(s);
}

/* state_bytes - a state's bytes; never NULL (no NULL + 0 before any bytes). */
static const uint8_t *state_bytes(const struct chk_search *s, uint32_t id)
{
	return s->sbytes ? s->sbytes + s->state[id].at : (const uint8_t *)"";
}

struct chk_bytes_probe {	    /* what state_eq looks for */
	const struct chk_search *s; /* the search */
	const uint8_t *p;	    /* bytes */
	uint32_t len;		    /* their length */
};

static bool state_eq(const void *ctx, uint32_t id)
{
	const struct chk_bytes_probe *b = ctx;
	const struct chk_state *st = &b->s->state[id];

	return st->len == b->len && !memcmp(state_bytes(b->s, id), b->p, b->len);
}

/* search_intern - the id of the state holding p[0, len), or CHK_NOMEM. */
static uint32_t search_intern(struct chk_search *s, const uint8_t *p, uint32_t len)
{
	struct chk_bytes_probe b = {s, p, len};
	uint64_t h = chk_hash_bytes(p, len);
	uint32_t slot, id;
	bool found;

	if (index_ready(&s->state_ix))
		return CHK_NOMEM;
	slot = index_find(&s->state_ix, h, state_eq, &b, &found);
	if (found)
		return s->state_ix.slot[slot].val;
	if (s->nstates >= CHK_NOMEM || CHK_RESERVE(s->state, s->state_cap, s->nstates + 1) ||
	    CHK_RESERVE(s->sbytes, s->sbytes_cap, s->sbytes_len + len))
		return CHK_NOMEM;
	id = s->nstates++;
	s->state[id] = (struct chk_state){h, s->sbytes_len, len};
	if (len)
		memcpy(s->sbytes + s->sbytes_len, p, len);
	s->sbytes_len += len;
	index_set(&s->state_ix, slot, h, id);
	return id;
}

/* search_write - the state after WRITE op k on present state 'from'. Cached:
 * the DFS applies the same write to the same state again and again. */
static uint32_t search_write(struct chk_search *s, uint32_t k, uint32_t from)
{
	const struct chk_op *op = s->op[k].op;
	uint64_t tk = (uint64_t)k << 32 | from;
	const struct chk_state *old = &s->state[from];
	uint32_t slot, to, nl = old->len;
	bool found;

	if (index_ready(&s->trans_ix))
		return CHK_NOMEM;
	slot = index_find(&s->trans_ix, tk, NULL, NULL, &found);
	if (found)
		return s->trans_ix.slot[slot].val;
	memcpy(s->scratch, state_bytes(s, from), old->len);
	if (op->off > old->len)
		memset(s->scratch + old->len, 0, op->off - old->len); /* the gap reads as zeros */
	if (op->off + op->len > nl)
		nl = op->off + op->len;
	if (op->len)
		memcpy(s->scratch + op->off, s->op[k].data, op->len);
	to = search_intern(s, s->scratch, nl); /* touches state_ix only: slot stays valid */
	if (to != CHK_NOMEM)
		index_set(&s->trans_ix, slot, tk, to);
	return to;
}

/*
 * search_step - the model: the state after op k runs on state st, or
 * CHK_REFUSED when its recorded output cannot come from st. UNKNOWN ops
 * accept any output; UNKNOWN GETs never get here.
 */
static uint32_t search_step(struct chk_search *s, uint32_t k, uint32_t st)
{
	const struct chk_kop *o = &s->op[k];
	bool known = o->op->outcome == CHK_OK;

	switch (o->op->kind) {
	case CHK_PUT:
		return o->st;
	case CHK_DELETE:
		return known && o->op->noent && st ? CHK_REFUSED : 0;
	case CHK_GET:
		if (o->op->noent)
			return st ? CHK_REFUSED : 0;
		return st == o->st ? st : CHK_REFUSED;
	case CHK_WRITE:
		if (!st)
			return known && !o->op->noent ? CHK_REFUSED : 0;
		if (known && o->op->noent)
			return CHK_REFUSED;
		return search_write(s, k, st);
	}
	return CHK_REFUSED;
}

static bool group_eq(const void *ctx, uint32_t g)
{
	const struct chk_search *s = ctx;

	return s->group[g].state == s->probe_state &&
	       !memcmp(s->gbits + (size_t)g * s->words, s->kbits, s->words * sizeof(uint64_t));
}

/*
 * memo_visit - the configuration (kbits, umask, st) with kbits hashing to
 * zobk: remember it and return its member id, or CHK_NIL if it was seen or
 * is a superset of one explored to the end, or CHK_NOMEM.
 */
static uint32_t memo_visit(struct chk_search *s, uint64_t zobk, uint32_t st)
{
	uint64_t h = zobk ^ chk_mix64((uint64_t)st + 0x632be59bd9b4e019ull);
	uint32_t slot, g, m;
	bool found;

	if (index_ready(&s->memo_ix))
		return CHK_NOMEM;
	s->probe_state = st;
	slot = index_find(&s->memo_ix, h, group_eq, s, &found);
	if (found) {
		g = s->memo_ix.slot[slot].val;
		for (m = s->group[g].head; m != CHK_NIL; m = s->member[m].next) {
			const struct chk_member *x = &s->member[m];

			if (x->umask == s->umask)
				return CHK_NIL;
			if (x->done && !(x->umask & ~s->umask)) {
				s->pruned++;
				return CHK_NIL;
			}
		}
	} else {
		if (s->ngroups >= CHK_NOMEM ||
		    CHK_RESERVE(s->group, s->group_cap, s->ngroups + 1) ||
		    CHK_RESERVE(s->gbits, s->gbits_cap, (size_t)(s->ngroups + 1) * s->words))
			return CHK_NOMEM;
		g = s->ngroups++;
		s->group[g] = (struct chk_group){st, CHK_NIL};
		memcpy(s->gbits + (size_t)g * s->words, s->kbits, s->words * sizeof(uint64_t));
		index_set(&s->memo_ix, slot, h, g);
	}
	if (s->nmembers >= CHK_NOMEM || CHK_RESERVE(s->member, s->member_cap, s->nmembers + 1))
		return CHK_NOMEM;
	m = s->nmembers++;
	s->member[m] = (struct chk_member){s->umask, s->group[g].head, g, 0};
	s->group[g].head = m;
	return m;
}

/* toggle - place op k, or take it back: flip its bit, return the new hash. */
static uint64_t toggle(struct chk_search *s, uint32_t k, uint64_t zobk)
{
	const struct chk_kop *o = &s->op[k];

	if (o->ubit != CHK_NOBIT) {
		s->umask ^= 1ull << o->ubit;
		return zobk;
	}
	s->kbits[k / 64] ^= 1ull << (k % 64);
	return zobk ^ o->zob;
}

static int sortent_cmp(const void *a, const void *b)
{
	const struct chk_sortent *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if (x->ret != y->ret)
		return x->ret - y->ret;
	return x->op < y->op ? -1 : x->op > y->op;
}

/*
 * search_deadlines - find the UNKNOWN ops of the loaded key (s->op[].op
 * set, in call order) that are bounded (check.h, "Bounded maybe-writes"):
 * settle and their giveup_ns are set, and some CHK_OK write (not NOENT) is
 * called at or after giveup + settle, their bound. Whatever a later head did with
 * such an op U, such a write W got a higher version: U took effect before
 * W did, or never. Notes each one's bound and deadline (the earliest
 * return of such a W: U took effect by then, or never) and lists them by
 * bound in bounds, for search_drop_bounded.
 */
static void search_deadlines(struct chk_search *s, uint64_t settle)
{
	uint64_t m = UINT64_MAX;
	uint32_t n = s->n;

	s->bounded = 0;
	if (!settle)
		return;
	for (uint32_t i = n; i-- > 0;) { /* sufmin[i]: over ops called at or after op i */
		const struct chk_op *op = s->op[i].op;

		if (op->outcome == CHK_OK && op->kind != CHK_GET && !op->noent && op->ret_ns < m)
			m = op->ret_ns;
		s->sufmin[i] = m;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct chk_op *op = s->op[i].op;
		uint64_t bound = op->giveup_ns + settle;
		uint32_t lo = i + 1, hi = n; /* the first op called at or after bound */

		if (!s->op[i].unknown || !op->giveup_ns || bound < settle) /* none, or wrapped */
			continue;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;

			if (s->op[mid].op->call_ns >= bound)
				hi = mid;
			else
				lo = mid + 1;
		}
		if (lo < n && s->sufmin[lo] != UINT64_MAX) {
			s->op[i].deadline = s->sufmin[lo];
			s->op[i].bound = bound;
			s->bounds[s->bounded++] = (struct chk_sortent){bound, i, 0};
		}
	}
	qsort(s->bounds, s->bounded, sizeof(*s->bounds), sortent_cmp);
}

/*
 * search_load - prepare the search of one key: ops[0, n) are its
 * checkable ops in call order; settle is cfg->settle_ns. Interns the
 * states PUTs write and GETs read, finds the bounded UNKNOWN ops, and
 * builds the entry list. 0 or -ENOMEM.
 */
static int search_load(struct chk_search *s, const struct chk_history *h,
		       const struct chk_rec *const *ops, uint32_t n, uint64_t settle)
{
	uint32_t i, nunknown = 0;

	s->n = n;
	s->steps = 0;
	s->best_len = 0;
	s->best_state = 0;
	s->pruned = 0;
	s->remembered = 0;
	s->ngroups = 0;
	s->nmembers = 0;
	index_clear(&s->memo_ix);
	s->words = (n + 63) / 64;
	s->nstates = 1; /* 0: absent */
	s->sbytes_len = 0;
	index_clear(&s->state_ix);
	index_clear(&s->trans_ix);
	if (CHK_RESERVE(s->op, s->op_cap, n) ||
	    CHK_RESERVE(s->ent, s->ent_cap, 2 * (size_t)n + 1) ||
	    CHK_RESERVE(s->sorted, s->sorted_cap, 2 * (size_t)n) ||
	    CHK_RESERVE(s->sufmin, s->sufmin_cap, n) || CHK_RESERVE(s->bounds, s->bounds_cap, n) ||
	    CHK_RESERVE(s->dstack, s->dstack_cap, n) || CHK_RESERVE(s->stack, s->stack_cap, n) ||
	    CHK_RESERVE(s->best, s->best_cap, n) || CHK_RESERVE(s->kbits, s->kbits_cap, s->words) ||
	    CHK_RESERVE(s->state, s->state_cap, 1))
		return -ENOMEM;
	s->state[0] = (struct chk_state){0, 0, 0};
	for (i = 0; i < n; i++) {
		struct chk_kop *o = &s->op[i];

		o->op = &ops[i]->op;
		o->unknown = o->op->outcome == CHK_UNKNOWN;
		o->ret = o->unknown ? UINT64_MAX : o->op->ret_ns;
		o->bound = o->deadline = UINT64_MAX;
	}
	search_deadlines(s, settle);
	for (i = 0; i < n; i++) {
		struct chk_kop *o = &s->op[i];

		o->data = h->bytes ? h->bytes + ops[i]->at : (const uint8_t *)""; /* no NULL + 0 */
		o->zob = chk_mix64(0x9e3779b97f4a7c15ull * (i + 1));
		o->st = 0;
		o->ubit = o->unknown && nunknown < 64 ? (uint8_t)nunknown++ : CHK_NOBIT;
		if (o->op->kind == CHK_PUT || (o->op->kind == CHK_GET && !o->op->noent)) {
			o->st = search_intern(s, o->data, o->op->len);
			if (o->st == CHK_NOMEM)
				return -ENOMEM;
		}
		s->sorted[2 * i] = (struct chk_sortent){o->op->call_ns, i, 0};
		s->sorted[2 * i + 1] = (struct chk_sortent){o->ret, i, 1};
	}
	qsort(s->sorted, 2 * (size_t)n, sizeof(*s->sorted), sortent_cmp);
	s->ent[0] = (struct chk_ent){CHK_NIL, CHK_NIL, CHK_NIL, CHK_NIL, 0};
	for (i = 0; i < 2 * n; i++) {
		uint32_t e = i + 1, k = s->sorted[i].op;

		s->ent[e] = (struct chk_ent){k, CHK_NIL, CHK_NIL, CHK_NIL, !s->sorted[i].ret};
		if (s->ent[e].call)
			s->op[k].call_ent = e;
		else
			s->ent[s->op[k].call_ent].match = e; /* calls sort before their returns */
	}
	return 0;
}

/*
 * search_restart - nothing placed: the entries back in time order (they
 * are numbered in it). The memo keeps what it has proved - the done
 * configurations, which have no linearization whatever order finds them -
 * and forgets the ones a stopped run left half explored. Interned states
 * and cached WRITE results stay too: they do not depend on the search.
 */
static void search_restart(struct chk_search *s)
{
	uint32_t last = 2 * s->n, kept = 0;

	for (uint32_t e = 0; e <= last; e++) {
		s->ent[e].prev = e ? e - 1 : CHK_NIL;
		s->ent[e].next = e < last ? e + 1 : CHK_NIL;
	}
	memset(s->kbits, 0, s->words * sizeof(uint64_t));
	s->umask = 0;
	s->dtop = 0;
	for (uint32_t g = 0; g < s->ngroups; g++)
		s->group[g].head = CHK_NIL;
	for (uint32_t m = 0; m < s->nmembers; m++) {
		struct chk_member x = s->member[m];

		if (!x.done)
			continue;
		x.next = s->group[x.group].head;
		s->group[x.group].head = kept;
		s->member[kept++] = x; /* kept <= m: compacts in place */
	}
	s->nmembers = kept;
}

/* lift - take call e and its return out of the list (dancing links: they
 * keep their own links, so unlift can put them back in reverse order). */
static void lift(struct chk_ent *ent, uint32_t e)
{
	uint32_t r = ent[e].match;

	ent[ent[e].prev].next = ent[e].next;
	ent[ent[e].next].prev = ent[e].prev; /* a call always has its return after it */
	ent[ent[r].prev].next = ent[r].next;
	if (ent[r].next != CHK_NIL)
		ent[ent[r].next].prev = ent[r].prev;
}

static void unlift(struct chk_ent *ent, uint32_t e)
{
	uint32_t r = ent[e].match;

	ent[ent[r].prev].next = r;
	if (ent[r].next != CHK_NIL)
		ent[ent[r].next].prev = r;
	ent[ent[e].prev].next = e;
	ent[ent[e].next].prev = e;
}

/* search_placed - is op k placed (or dropped: the same to the search)? */
static bool search_placed(const struct chk_search *s, uint32_t k)
{
	const struct chk_kop *o = &s->op[k];

	if (o->ubit != CHK_NOBIT)
		return s->umask >> o->ubit & 1;
	return s->kbits[k / 64] >> (k % 64) & 1;
}

/*
 * search_drop_bounded - op k is about to be placed. If it is a CHK_OK
 * write (not NOENT), every UNKNOWN op it bounds (it was called at or after their bound)
 * must come before it or never: drop those still pending. They go on
 * dstack; returns how many, *zobk updated. search_undrop takes them back.
 */
static uint32_t search_drop_bounded(struct chk_search *s, uint32_t k, uint64_t *zobk)
{
	const struct chk_op *op = s->op[k].op;
	uint32_t nd = 0;

	if (op->outcome != CHK_OK || op->kind == CHK_GET || op->noent)
		return 0; /* reads and NOENT answers wrote no version */
	for (uint32_t i = 0; i < s->bounded && s->bounds[i].t <= op->call_ns; i++) {
		uint32_t u = s->bounds[i].op;

		if (search_placed(s, u))
			continue;
		*zobk = toggle(s, u, *zobk);
		lift(s->ent, s->op[u].call_ent);
		s->dstack[s->dtop++] = u;
		nd++;
	}
	return nd;
}

static void search_undrop(struct chk_search *s, uint32_t nd, uint64_t *zobk)
{
	while (nd--) {
		uint32_t u = s->dstack[--s->dtop];

		unlift(s->ent, s->op[u].call_ent);
		*zobk = toggle(s, u, *zobk);
	}
}

/*
 * search_push - op k's call entry e was placed, taking the state to ns
 * and dropping ndrop UNKNOWN ops with it (the top of dstack); the state
 * before was st: remember how to undo it, lift it out of the list. Keeps
 * the longest prefix for the report. Returns the new depth.
 */
static uint32_t search_push(struct chk_search *s, uint32_t depth, uint32_t e, uint32_t st,
			    uint32_t ns, uint32_t m, uint32_t ndrop, uint8_t pass)
{
	s->stack[depth++] = (struct chk_frame){e, st, m, ndrop, pass};
	lift(s->ent, e);
	if (depth + s->dtop > s->best_len) {
		/* a new longest prefix: at most n copies of <= n ops */
		uint32_t j = 0, d = 0;

		for (uint32_t i = 0; i < depth; i++) {
			const struct chk_frame *f = &s->stack[i];

			for (uint32_t x = 0; x < f->ndrop; x++)
				s->best[j++] = s->dstack[d++] | CHK_DROPPED;
			s->best[j++] = s->ent[f->ent].op;
		}
		s->best_len = j;
		s->best_state = ns;
	}
	return depth;
}

/*
 * search_run - Wing-Gong/Lowe with Porcupine's memo, from a fresh start
 * (search_restart), until s->steps reaches budget. Walk the list from its
 * head: at a call, try to place that op now (the model accepts its output
 * and the configuration is new): lift it and start over from the head. At a
 * return, some op called before it must have been placed first and none
 * can be: undo the last placement and go on after it. The list empties
 * exactly when every op is placed; UNKNOWN ops, returning at +infinity, can
 * always be placed last, which stands for "never".
 *
 * Placing a CHK_OK write drops with it, for good, the UNKNOWN ops still
 * pending that it bounds (search_drop_bounded): they come before it or
 * never (check.h), and leaving one out constrains no other op. One move,
 * undone as one. So pending UNKNOWN ops stop piling up once a write past
 * their bound is placed - by their deadline, the earliest return of one,
 * at the latest, as the walk cannot pass that return without placing it -
 * and one an answer would need after such a write (a lost update) leaves
 * no way on.
 *
 * known_first: at a return, scan the same calls again for the UNKNOWN ops
 * (pass 2) before undoing anything, and resume an undone op in the pass
 * that placed it. UNKNOWN ops then get placed only when a later answer
 * needs them, and the configurations without one are done before those
 * with it, which the memo's superset rule then prunes: several times fewer
 * configurations to prove a violation. Without it (Porcupine's order) an
 * UNKNOWN op is tried where it was called, which finds linearizations of
 * histories whose UNKNOWN ops took effect early several times faster.
 * Returns a chk_result, or -ENOMEM.
 */
static int search_run(struct chk_search *s, uint64_t budget, bool known_first)
{
	struct chk_ent *ent = s->ent;
	uint32_t e = ent[0].next, st = 0, depth = 0;
	uint64_t zobk = 0;
	uint8_t pass = 1;

	while (ent[0].next != CHK_NIL) {
		uint32_t k, ns, m, nd;

		if (++s->steps > budget)
			return CHK_INCONCLUSIVE;
		if (!ent[e].call) { /* the end of the calls that may go next */
			struct chk_frame f;

			if (known_first && pass == 1) {
				pass = 2;
				e = ent[0].next;
				continue;
			}
			if (!depth)
				return CHK_VIOLATION;
			f = s->stack[--depth];
			s->member[f.member].done = 1;
			e = f.ent;
			st = f.state;
			zobk = toggle(s, ent[e].op, zobk);
			unlift(ent, e);
			search_undrop(s, f.ndrop, &zobk);
			pass = f.pass;
			e = ent[e].next;
			continue;
		}
		k = ent[e].op;
		if (known_first && s->op[k].unknown != (pass == 2)) {
			e = ent[e].next;
			continue;
		}
		ns = search_step(s, k, st);
		if (ns == CHK_NOMEM)
			return -ENOMEM;
		if (ns != CHK_REFUSED) {
			nd = search_drop_bounded(s, k, &zobk);
			zobk = toggle(s, k, zobk);
			m = memo_visit(s, zobk, ns);
			if (m == CHK_NOMEM)
				return -ENOMEM;
			if (m != CHK_NIL) {
				depth = search_push(s, depth, e, st, ns, m, nd, pass);
				st = ns;
				e = ent[0].next;
				pass = 1;
				continue;
			}
			zobk = toggle(s, k, zobk);
			search_undrop(s, nd, &zobk);
		}
		e = ent[e].next;
	}
	return CHK_LINEARIZABLE;
}

/*
 * search_key - decide the loaded key within budget steps. Neither order of
 * search_run is fast on every history, and a history's answer is not known
 * in advance; so run them in turns, each for a slice of steps that doubles
 * every round, each starting over but with what the earlier runs proved.
 * Either one's answer is final; the total is within a small factor of the
 * faster one's. Returns a chk_result or -ENOMEM; s->steps is the total.
 */
static int search_key(struct chk_search *s, const struct chk_cfg *cfg, uint64_t budget)
{
	uint64_t slice = cfg->first_slice ? cfg->first_slice : 100 * (uint64_t)s->n + 10000;
	uint64_t used = 0;
	int r = CHK_INCONCLUSIVE;

	for (int round = 0; r == CHK_INCONCLUSIVE && used < budget; round++) {
		bool known_first =
		    cfg->order == CHK_ORDER_TURNS ? round % 2 : cfg->order == CHK_ORDER_KNOWN_FIRST;
		uint64_t give = budget - used < slice ? budget - used : slice;
		uint32_t before;

		search_restart(s);
		before = s->nmembers;
		s->steps = 0;
		r = search_run(s, give, known_first);
		s->remembered += s->nmembers - before;
		used += s->steps > give ? give : s->steps;
		if ((known_first || cfg->order != CHK_ORDER_TURNS) && slice < budget)
			slice *= 2;
	}
	s->steps = used;
	return r;
}

/* --- Reports --------------------------------------------------------------------------------- */

static const char *const chk_kind_name[] = {"?", "PUT", "GET", "DELETE", "WRITE"};

static void report_bytes(FILE *f, const uint8_t *p, uint32_t len, uint32_t key, bool describe)
{
	char d[200];

	fprintf(f, "len %u h=%08x", len, (uint32_t)(chk_hash_bytes(p, len) >> 32));
	if (describe && len) {
		chk_describe(p, len, key, d, sizeof(d));
		if (d[0] != '!') /* else not chk_fill's bytes, or nothing to name */
			fprintf(f, " {%s}", d);
	}
}

static void report_state(FILE *f, const struct chk_search *s, uint32_t st, uint32_t key)
{
	if (!st) {
		fprintf(f, "absent");
		return;
	}
	report_bytes(f, state_bytes(s, st), s->state[st].len, key, true);
}

static void report_op(FILE *f, const struct chk_kop *o)
{
	const struct chk_op *op = o->op;

	fprintf(f, "id %-6llu c%-3u %-6s [%llu, ", (unsigned long long)op->id, op->client,
		chk_kind_name[op->kind], (unsigned long long)op->call_ns);
	if (op->outcome == CHK_UNKNOWN && o->deadline != UINT64_MAX)
		fprintf(f, "?] unknown, by %llu or never", (unsigned long long)o->deadline);
	else if (op->outcome == CHK_UNKNOWN)
		fprintf(f, "?] unknown");
	else
		fprintf(f, "%llu] ok", (unsigned long long)op->ret_ns);
	if (op->noent)
		fprintf(f, " NOENT");
	if (op->kind == CHK_WRITE)
		fprintf(f, " off %u", op->off);
	if (op->kind != CHK_DELETE && !op->noent) {
		fputc(' ', f);
		report_bytes(f, o->data, op->len, op->key, op->kind == CHK_GET);
	}
}

/*
 * report_key - explain a key that is not linearizable (or not decided):
 * its ops, the longest prefix placed (with the UNKNOWN ops dropped by a
 * write they must precede, as "(never id)"), the state there, and the ops
 * that could have come next with the model's verdict on each.
 */
static void report_key(FILE *f, struct chk_search *s, int r, uint64_t budget)
{
	uint32_t key = s->op[0].op->key, i;
	uint64_t minret = UINT64_MAX;
	bool *placed;

	if (r == CHK_VIOLATION)
		fprintf(f, "chk: key %u: not linearizable (%u ops, %llu steps)\n", key, s->n,
			(unsigned long long)s->steps);
	else if (r == CHK_INCONCLUSIVE)
		fprintf(f,
			"chk: key %u: inconclusive: search budget of %llu steps used up (%u ops)\n",
			key, (unsigned long long)budget, s->n);
	else
		fprintf(f, "chk: key %u: inconclusive: out of memory after %llu steps (%u ops)\n",
			key, (unsigned long long)s->steps, s->n);
	fprintf(f, "  ops in call order:\n");
	for (i = 0; i < s->n; i++) {
		fprintf(f, "    ");
		report_op(f, &s->op[i]);
		fputc('\n', f);
	}
	fprintf(f, "  longest linearizable prefix (%u of %u ops):", s->best_len, s->n);
	for (i = 0; i < s->best_len; i++)
		fprintf(f, s->best[i] & CHK_DROPPED ? " (never %llu)" : " %llu",
			(unsigned long long)s->op[s->best[i] & ~CHK_DROPPED].op->id);
	fprintf(f, "\n  state after it: ");
	report_state(f, s, s->best_state, key);
	fputc('\n', f);
	placed = calloc(s->n ? s->n : 1, sizeof(*placed));
	if (!placed)
		return;
	for (i = 0; i < s->best_len; i++)
		placed[s->best[i] & ~CHK_DROPPED] = true;
	for (i = 0; i < s->n; i++)
		if (!placed[i] && s->op[i].ret < minret)
			minret = s->op[i].ret;
	/* The ops that could come next: not placed, called no later than the
	 * first return still pending (that op must be placed before it). */
	fprintf(f, "  could come next, and the model's verdict there:\n");
	for (i = 0; i < s->n; i++) {
		uint32_t ns;

		if (placed[i] || s->op[i].op->call_ns > minret)
			continue;
		ns = search_step(s, i, s->best_state);
		fprintf(f, "    ");
		report_op(f, &s->op[i]);
		fprintf(f, ": %s\n",
			ns == CHK_REFUSED    ? "refused"
			: ns == CHK_NOMEM    ? "(out of memory)"
			: r == CHK_VIOLATION ? "fits, but no order from there works"
					     : "fits (not explored to the end)");
	}
	free(placed);
}

/* --- chk_linearizable ------------------------------------------------------------------------ */

static int rec_cmp(const void *a, const void *b)
{
	const struct chk_rec *x = *(const struct chk_rec *const *)a;
	const struct chk_rec *y = *(const struct chk_rec *const *)b;

	if (x->op.key != y->op.key)
		return x->op.key < y->op.key ? -1 : 1;
	if (x->op.call_ns != y->op.call_ns)
		return x->op.call_ns < y->op.call_ns ? -1 : 1;
	return x < y ? -1 : x > y; /* the order they were added */
}

/* Did any successful read of the key return a word of write u's bytes?
 * Every 8-byte word a write leaves names the write and its place (chk_fill),
 * so equal words mean u's bytes were read. A write with no whole word to
 * look for counts as seen. */
static bool chk_seen(const struct chk_history *h, const struct chk_rec *u,
		     const struct chk_rec *const *grp, size_t n)
{
	uint32_t base = u->op.kind == CHK_WRITE ? u->op.off : 0, end = base + u->op.len;
	uint32_t first = (base + 7) & ~7u;
	const uint8_t *ud;

	if (first + 8 > end)
		return true;
	ud = h->bytes + u->at; /* u has bytes: h->bytes is not NULL */
	for (size_t i = 0; i < n; i++) {
		const struct chk_op *r = &grp[i]->op;
		const uint8_t *rd = h->bytes + grp[i]->at;

		if (r->kind != CHK_GET || r->outcome != CHK_OK || r->noent)
			continue;
		for (uint32_t p = first; p + 8 <= end && p + 8 <= r->len; p += 8)
			if (!memcmp(rd + p, ud + (p - base), 8))
				return true;
	}
	return false;
}

/* chk_bounds - must UNKNOWN op u come before CHK_OK write w, if at all
 * (check.h, "Bounded maybe-writes")? */
static bool chk_bounds(const struct chk_op *w, const struct chk_op *u, uint64_t settle)
{
	return settle && u->giveup_ns && !w->noent && w->call_ns >= settle &&
	       w->call_ns - settle >= u->giveup_ns;
}

/* Must the chunk exist when op o takes effect, whatever unknown PUTs did?
 * Yes if an ok PUT returned before o was called and no other DELETE in grp
 * may take effect between that PUT's call and o's return (an unknown DELETE
 * may take effect at any time after its call - unless that PUT bounds it:
 * then it came before). The latest such PUT leaves the shortest window. */
static bool chk_exists_at(const struct chk_rec *const *grp, size_t n, const struct chk_op *o,
			  uint64_t settle)
{
	const struct chk_op *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct chk_op *p = &grp[i]->op;

		if (p->kind == CHK_PUT && p->outcome == CHK_OK && p->ret_ns < o->call_ns &&
		    (!best || p->call_ns > best->call_ns))
			best = p;
	}
	if (!best)
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct chk_op *d = &grp[i]->op;

		if (d != o && d->kind == CHK_DELETE && d->call_ns <= o->ret_ns &&
		    (d->outcome == CHK_UNKNOWN ? !chk_bounds(best, d, settle)
					       : d->ret_ns >= best->call_ns))
			return false;
	}
	return true;
}

/*
 * Drop, from one key's ops (in call order), writes whose outcome is
 * unknown and whose effect no other op can have seen: a history is
 * linearizable with such a write iff it is without it (the write took
 * effect unseen, or never). Writes in doubt pile up under faults, each one
 * doubling the search, and most were overwritten before anyone looked.
 *   - a DELETE is seen by an op that found the chunk absent (NOENT) and
 *     ended after the DELETE's call;
 *   - a WRITE, when a read returned a word of its bytes (chk_seen);
 *   - a PUT, the same - or by a WRITE or DELETE that found the chunk there
 *     and ended after the PUT's call, unless the chunk had to exist then
 *     anyway (chk_exists_at; settle is cfg->settle_ns) - or by a WRITE that
 *     may have merged into it (chk_merged_into): the merge keeps the PUT's
 *     length and every byte it did not cover, even when a read shows none
 *     of the PUT's own (seed 240665567691321).
 * DELETEs go first, so that the PUTs' test sees only the DELETEs kept.
 * Returns the ops kept (compacted in place).
 */
/* May a WRITE that matters have merged into unknown PUT u? One that found
 * the chunk and ended after u's call, or one in doubt that a read saw -
 * unless an acknowledged PUT or DELETE that u must come before (chk_bounds)
 * returned before the WRITE was called: then the WRITE merged into that. */
static bool chk_merged_into(const struct chk_history *h, const struct chk_op *u,
			    const struct chk_rec *const *grp, size_t n, uint64_t settle)
{
	for (size_t j = 0; j < n; j++) {
		const struct chk_op *w = &grp[j]->op;
		bool after = false;

		if (w->kind != CHK_WRITE ||
		    !((w->outcome == CHK_OK && !w->noent && w->ret_ns >= u->call_ns) ||
		      (w->outcome == CHK_UNKNOWN && chk_seen(h, grp[j], grp, n))))
			continue;
		for (size_t k = 0; k < n && !after; k++) {
			const struct chk_op *p = &grp[k]->op;

			after = (p->kind == CHK_PUT || p->kind == CHK_DELETE) &&
				p->outcome == CHK_OK && p->ret_ns < w->call_ns &&
				chk_bounds(p, u, settle);
		}
		if (!after)
			return true;
	}
	return false;
}

static size_t chk_prune_unseen(const struct chk_history *h, const struct chk_rec **grp, size_t n,
			       uint64_t settle)
{
	/* the latest end of an op that may need an unknown PUT to have
	 * happened (0: none) - PUTs called after it cannot be needed */
	uint64_t need_until = 0;

	for (int pass = 0; pass < 2; pass++) {
		size_t k = 0;

		if (pass == 1) {
			for (size_t j = 0; j < n; j++) {
				const struct chk_op *o = &grp[j]->op;

				if (o->outcome == CHK_OK && !o->noent &&
				    (o->kind == CHK_WRITE || o->kind == CHK_DELETE) &&
				    o->ret_ns >= need_until && !chk_exists_at(grp, n, o, settle))
					need_until = o->ret_ns + 1;
			}
		}
		for (size_t i = 0; i < n; i++) {
			const struct chk_op *u = &grp[i]->op;
			bool keep = true;

			if (u->outcome == CHK_UNKNOWN && (pass == 0) == (u->kind == CHK_DELETE)) {
				bool later_absent = false;

				for (size_t j = 0; j < n && u->kind == CHK_DELETE; j++) {
					const struct chk_op *o = &grp[j]->op;

					/* ops that may take effect after u's call */
					if (o != u && o->outcome == CHK_OK && o->ret_ns >= u->call_ns)
						later_absent |= o->noent;
				}
				if (u->kind == CHK_DELETE)
					keep = later_absent;
				else if (u->kind == CHK_WRITE)
					keep = chk_seen(h, grp[i], grp, n);
				else
					keep = u->call_ns < need_until || chk_seen(h, grp[i], grp, n) ||
					       chk_merged_into(h, u, grp, n, settle);
			}
			if (keep)
				grp[k++] = grp[i];
		}
		n = k;
	}
	return n;
}

enum chk_result chk_linearizable(const struct chk_history *h, const struct chk_cfg *cfg)
{
	static const struct chk_cfg defaults;
	const struct chk_rec **ops = NULL;
	struct chk_search *s = NULL;
	struct chk_stats st = {0};
	enum chk_result worst = CHK_LINEARIZABLE;
	uint64_t budget;
	size_t n = 0, i, j;

	if (!cfg)
		cfg = &defaults;
	budget = cfg->max_steps_per_key ? cfg->max_steps_per_key : CHK_DEFAULT_MAX_STEPS;
	ops = malloc((h->n ? h->n : 1) * sizeof(*ops));
	s = search_new();
	if (!ops || !s) {
		worst = CHK_INCONCLUSIVE;
		st.inconclusive++;
		if (cfg->report)
			fprintf(cfg->report, "chk: out of memory before checking\n");
		goto out;
	}
	/* FAIL ops had no effect and an unknown read tells nothing: drop both. */
	for (i = 0; i < h->n; i++) {
		const struct chk_op *op = &h->rec[i].op;

		if (op->outcome == CHK_FAIL || (op->kind == CHK_GET && op->outcome == CHK_UNKNOWN))
			continue;
		ops[n++] = &h->rec[i];
	}
	qsort(ops, n, sizeof(*ops), rec_cmp);
	for (i = 0; i < n; i = j) {
		bool loaded = false;
		int r = -ENOMEM;
		size_t kept;

		for (j = i; j < n && ops[j]->op.key == ops[i]->op.key; j++)
			;
		kept = chk_prune_unseen(h, ops + i, j - i, cfg->settle_ns);
		s->steps = 0;
		s->remembered = 0;
		s->pruned = 0;
		s->bounded = 0;
		if (!kept) /* only writes in doubt no one saw: nothing to search */
			r = CHK_LINEARIZABLE;
		else if (kept <= UINT32_MAX / 4 &&
			 !search_load(s, h, ops + i, (uint32_t)kept, cfg->settle_ns)) {
			loaded = true;
			r = search_key(s, cfg, budget);
		}
		st.keys++;
		st.ops += j - i;
		st.steps += s->steps;
		st.memo += s->remembered;
		st.pruned += s->pruned;
		st.bounded += s->bounded;
		if (s->steps > st.max_key_steps)
			st.max_key_steps = s->steps;
		if (r == CHK_LINEARIZABLE)
			continue;
		if (r == CHK_VIOLATION)
			st.violations++;
		else
			st.inconclusive++;
		if (cfg->report && loaded)
			report_key(cfg->report, s, r, budget);
		else if (cfg->report)
			fprintf(cfg->report,
				"chk: key %u: inconclusive: out of memory loading %zu ops\n",
				ops[i]->op.key, j - i);
		if (r == CHK_VIOLATION || worst == CHK_LINEARIZABLE)
			worst = r == CHK_VIOLATION ? CHK_VIOLATION : CHK_INCONCLUSIVE;
	}
out:
	if (cfg->stats)
		*cfg->stats = st;
	search_free(s);
	free(ops);
	return worst;
}

/* --- Payloads -------------------------------------------------------------------------------- */

/*
 * Word w (chunk bytes [8w, 8w + 8)) of write (op, end) on key:
 *   raw  = (end - 1) & 0xffff | op << 16 | check << 48
 *   word = raw ^ mask(key, w), stored little-endian
 * so the byte at chunk position q carries field byte q % 8 of its write:
 * bytes 0-1 the end, 2-5 the op id, 6-7 the check of word q / 8. Any 8
 * consecutive bytes of one write thus hold every field once.
 *
 * End first: the only pieces that cannot name their write are shorter than
 * a word, and such a piece must end where its write ended - which its end
 * bytes, if it has any, must then say.
 */
#define PL_MAGIC 0x4652595041593031ull /* "FRYPAY01" */

struct pl_ctx {			       /* chk_verify/chk_describe of one chunk */
	const uint8_t *buf;	       /* the chunk */
	uint32_t len;		       /* its length */
	uint64_t seed;		       /* pl_seed(key) */
	uint32_t key;		       /* the key */
	uint32_t maxend;	       /* furthest end of a write named so far */
	uint32_t maxend_op;	       /* that write */
	uint32_t g;		       /* granule being parsed: chunk offset */
	uint32_t m;		       /* its length (64, or less at the end) */
	uint32_t zt;		       /* where its zero tail starts (relative) */
	int8_t memo[CHK_GRANULE + 1];  /* parse from here: -1 unknown, 0 fails, 1 works */
	uint8_t how[CHK_GRANULE + 1];  /* how: PL_NAMED, PL_SHORT or PL_ZERO */
	uint8_t next[CHK_GRANULE + 1]; /* where the piece from here ends */
	uint32_t op[CHK_GRANULE + 1];  /* PL_NAMED: the write */
	uint32_t end[CHK_GRANULE + 1]; /* PL_NAMED: where it ended in the chunk */
};

enum { PL_NAMED = 1, PL_SHORT, PL_ZERO };

static uint64_t pl_seed(uint32_t key)
{
	return chk_mix64(PL_MAGIC ^ (uint64_t)key * 0xd6e8feb86659fd93ull);
}

static uint64_t pl_mask(uint64_t seed, uint32_t w)
{
	return chk_mix64(seed + (uint64_t)w * 0x9e3779b97f4a7c15ull);
}

static uint16_t pl_check(uint64_t mask, uint32_t op, uint32_t e16)
{
	return (uint16_t)(chk_mix64(mask ^ ((uint64_t)op << 16 | e16) ^ 0x5851f42d4c957f2dull) >>
			  48);
}

static uint64_t pl_word(uint64_t seed, uint32_t w, uint32_t op, uint32_t end)
{
	uint64_t m = pl_mask(seed, w);
	uint32_t e16 = (end - 1) & 0xffff;

	return ((uint64_t)e16 | (uint64_t)op << 16 | (uint64_t)pl_check(m, op, e16) << 48) ^ m;
}

void chk_fill(uint8_t *buf, uint32_t len, uint32_t key, uint64_t op_id, uint32_t chunk_off)
{
	uint64_t seed = pl_seed(key);
	uint32_t end = chunk_off + len, i = 0;

	while (i < len) {
		uint32_t pos = chunk_off + i, r = pos % 8;
		uint64_t word = pl_word(seed, pos / 8, (uint32_t)op_id, end);

		for (; r < 8 && i < len; r++, i++)
			buf[i] = (uint8_t)(word >> (8 * r));
	}
}

/*
 * pl_decode - read b[0, 8) as the bytes at chunk positions vpos .. vpos+7
 * of some write: its op and end if the check bytes agree.
 */
static bool pl_decode(uint64_t seed, const uint8_t *b, uint32_t vpos, uint32_t *op, uint32_t *end)
{
	uint64_t m0 = pl_mask(seed, vpos / 8), m1 = pl_mask(seed, vpos / 8 + 1);
	uint8_t raw[8];
	uint32_t e16, o;

	for (uint32_t i = 0; i < 8; i++) {
		uint32_t q = vpos + i;

		raw[q % 8] = b[i] ^ (uint8_t)((q / 8 == vpos / 8 ? m0 : m1) >> (8 * (q % 8)));
	}
	e16 = raw[0] | (uint32_t)raw[1] << 8;
	o = raw[2] | (uint32_t)raw[3] << 8 | (uint32_t)raw[4] << 16 | (uint32_t)raw[5] << 24;
	for (uint32_t i = 0; i < 8; i++) {
		uint32_t q = vpos + i, r = q % 8;

		if (r >= 6 && raw[r] != (uint8_t)(pl_check(q / 8 == vpos / 8 ? m0 : m1, o, e16) >>
						  (8 * (r - 6))))
			return false;
	}
	*op = o;
	*end = e16 + 1;
	return true;
}

/* pl_match - how many of b[0, n), read as chunk positions vpos.., are write (op, end)'s. */
static uint32_t pl_match(uint64_t seed, const uint8_t *b, uint32_t n, uint32_t vpos, uint32_t op,
			 uint32_t end)
{
	uint32_t i = 0;

	while (i < n) {
		uint32_t q = vpos + i, r = q % 8;
		uint64_t word = pl_word(seed, q / 8, op, end);

		for (; r < 8 && i < n; r++, i++)
			if (b[i] != (uint8_t)(word >> (8 * r)))
				return i;
	}
	return i;
}

/*
 * pl_short - can granule bytes [p, k) (k - p < 8) be all that is left of a
 * write that did not leave a whole word? Such a piece ends where its write
 * ended - exactly at g + k if k is inside the granule or at the chunk's
 * end, anywhere from there to the chunk's end if it runs into the next
 * granule - and whatever fields it holds must agree with that.
 */
static bool pl_short(const struct pl_ctx *c, uint32_t p, uint32_t k)
{
	uint32_t lo = c->g + k, hi = (k == c->m && lo < c->len) ? c->len : lo;
	uint32_t have = 0, e16 = 0, o = 0;
	uint8_t raw[8];

	for (uint32_t q = c->g + p; q < c->g + k; q++) {
		raw[q % 8] = c->buf[q] ^ (uint8_t)(pl_mask(c->seed, q / 8) >> (8 * (q % 8)));
		have |= 1u << (q % 8);
	}
	if ((have & 3) == 3) {
		e16 = raw[0] | (uint32_t)raw[1] << 8;
		if (e16 + 1 < lo || e16 + 1 > hi)
			return false;
	} else if (lo == hi) {
		e16 = (lo - 1) & 0xffff;
		if ((have & 1) && raw[0] != (uint8_t)e16)
			return false;
		if ((have & 2) && raw[1] != (uint8_t)(e16 >> 8))
			return false;
	} else {
		return true; /* neither the end nor the check can be known */
	}
	if ((have & 0x3c) != 0x3c)
		return true;
	o = raw[2] | (uint32_t)raw[3] << 8 | (uint32_t)raw[4] << 16 | (uint32_t)raw[5] << 24;
	for (uint32_t q = c->g + p; q < c->g + k; q++) {
		uint32_t r = q % 8;

		if (r >= 6 &&
		    raw[r] != (uint8_t)(pl_check(pl_mask(c->seed, q / 8), o, e16) >> (8 * (r - 6))))
			return false;
	}
	return true;
}

/* pl_zero_ok - may the granule's bytes from p on be a zero gap? Not inside
 * the range of a write seen in an earlier granule: nothing but a newer
 * write's bytes can have replaced those. */
static bool pl_zero_ok(const struct pl_ctx *c, uint32_t p)
{
	return p >= c->zt && c->g + p >= c->maxend;
}

/*
 * pl_parse - can granule bytes [p, m) be the pieces writes leave? Fills
 * how/next/op/end along a working parse. Tries the named piece first (the
 * common case: one write covers the whole granule), then short pieces.
 */
static bool pl_parse(struct pl_ctx *c, uint32_t p)
{
	uint32_t op, end, e;
	bool ok = false;

	if (p == c->m)
		return true;
	if (c->memo[p] >= 0)
		return c->memo[p];
	if (pl_zero_ok(c, p)) {
		c->how[p] = PL_ZERO;
		c->next[p] = (uint8_t)c->m;
		ok = true;
	}
	if (!ok && p + 8 <= c->m && pl_decode(c->seed, c->buf + c->g + p, c->g + p, &op, &end) &&
	    end <= c->len && end >= c->g + p + 8) {
		e = end - c->g < c->m ? end - c->g : c->m;
		if (pl_match(c->seed, c->buf + c->g + p, e - p, c->g + p, op, end) == e - p &&
		    pl_parse(c, e)) {
			c->how[p] = PL_NAMED;
			c->next[p] = (uint8_t)e;
			c->op[p] = op;
			c->end[p] = end;
			ok = true;
		}
	}
	for (uint32_t k = p + 1; !ok && k < p + 8 && k <= c->m; k++) {
		if (pl_short(c, p, k) && pl_parse(c, k)) {
			c->how[p] = PL_SHORT;
			c->next[p] = (uint8_t)k;
			ok = true;
		}
	}
	c->memo[p] = ok;
	return ok;
}

/* pl_granule - parse the granule at g; on success note the writes named in it. */
static bool pl_granule(struct pl_ctx *c, uint32_t g)
{
	c->g = g;
	c->m = c->len - g < CHK_GRANULE ? c->len - g : CHK_GRANULE;
	c->zt = c->m;
	while (c->zt && !c->buf[g + c->zt - 1])
		c->zt--;
	memset(c->memo, -1, sizeof(c->memo));
	if (!pl_parse(c, 0))
		return false;
	for (uint32_t p = 0; p < c->m; p = c->next[p]) {
		if (c->how[p] == PL_NAMED && c->end[p] > c->maxend) {
			c->maxend = c->end[p];
			c->maxend_op = c->op[p];
		}
	}
	return true;
}

/*
 * pl_explain - why granule c->g does not parse: follow the named pieces from
 * its start to the first place that cannot go on, and say what is there
 * (why may be NULL: then only where). Returns the chunk offset it names.
 */
static uint32_t pl_explain(const struct pl_ctx *c, char *why, size_t whylen)
{
	uint32_t p = 0, q, op, end, n, k;

	for (;;) {
		q = c->g + p;
		if (p >= c->zt) { /* zeros, but not allowed (the parse would have taken them) */
			snprintf(
			    why, whylen,
			    "offset %u: zeros inside the range of op %u (which wrote up to %u)", q,
			    c->maxend_op, c->maxend);
			return q;
		}
		if (p + 8 > c->m || !pl_decode(c->seed, c->buf + q, q, &op, &end))
			break;
		if (end > c->len) {
			snprintf(why, whylen,
				 "offset %u: bytes of op %u, which wrote up to %u, but the chunk "
				 "is %u bytes",
				 q, op, end, c->len);
			return q;
		}
		if (end < q + 8)
			break;
		n = (end - c->g < c->m ? end - c->g : c->m) - p;
		k = pl_match(c->seed, c->buf + q, n, q, op, end);
		if (k < n) {
			uint8_t want = (uint8_t)(pl_word(c->seed, (q + k) / 8, op, end) >>
						 (8 * ((q + k) % 8)));

			snprintf(why, whylen,
				 "offset %u: byte 0x%02x, op %u's would be 0x%02x (op %u wrote "
				 "[.., %u))",
				 q + k, c->buf[q + k], op, want, op, end);
			return q + k;
		}
		p += n;
		if (p >= c->m) { /* cannot happen: the parse would have worked */
			snprintf(why, whylen, "granule at %u: no layering of writes explains it",
				 c->g);
			return c->g;
		}
	}
	/* No write of this key at this offset: whose bytes are these? Asks
	 * 12k decodes; only when someone will read the answer. */
	n = c->len - q < 24 ? c->len - q : 24;
	if (why && n >= 8) {
		for (uint32_t v = q % 8; v + n <= CHK_DATA_MAX; v += 8) {
			if (v != q && pl_decode(c->seed, c->buf + q, v, &op, &end) &&
			    end >= v + n && pl_match(c->seed, c->buf + q, n, v, op, end) == n) {
				snprintf(why, whylen,
					 "offset %u: bytes op %u wrote at offset %u (misplaced)", q,
					 op, v);
				return q;
			}
		}
		for (uint32_t key = 0; key < 4096; key++) {
			uint64_t seed = pl_seed(key);

			if (key != c->key && pl_decode(seed, c->buf + q, q, &op, &end) &&
			    end >= q + n && pl_match(seed, c->buf + q, n, q, op, end) == n) {
				snprintf(why, whylen,
					 "offset %u: bytes op %u wrote to key %u, not key %u", q,
					 op, key, c->key);
				return q;
			}
		}
	}
	if (why)
		snprintf(why, whylen,
			 "offset %u: bytes %02x %02x %02x %02x... are no write's to key %u at this "
			 "offset",
			 q, c->buf[q], q + 1 < c->len ? c->buf[q + 1] : 0,
			 q + 2 < c->len ? c->buf[q + 2] : 0, q + 3 < c->len ? c->buf[q + 3] : 0,
			 c->key);
	return q;
}

static void pl_init(struct pl_ctx *c, const uint8_t *buf, uint32_t len, uint32_t key)
{
	c->buf = buf;
	c->len = len;
	c->key = key;
	c->seed = pl_seed(key);
	c->maxend = 0;
	c->maxend_op = 0;
}

int chk_verify(const uint8_t *buf, uint32_t len, uint32_t key, char *why, size_t whylen)
{
	struct pl_ctx c;

	if (len > CHK_DATA_MAX) {
		snprintf(why, whylen, "%u bytes: more than a chunk holds (%u)", len, CHK_DATA_MAX);
		return -EINVAL;
	}
	pl_init(&c, buf, len, key);
	for (uint32_t g = 0; g < len; g += CHK_GRANULE) {
		if (!pl_granule(&c, g)) {
			pl_explain(&c, why, whylen);
			return -EBADMSG;
		}
	}
	if (whylen)
		why[0] = '\0';
	return 0;
}

struct pl_out {	       /* chk_describe's output, merging runs */
	char *out;     /* the buffer */
	size_t size;   /* its size */
	size_t used;   /* characters written */
	int kind;      /* current run: PL_NAMED/PL_SHORT/PL_ZERO, 0 none */
	uint32_t op;   /* its write, if named */
	uint32_t from; /* its start */
	uint32_t to;   /* its end */
	bool cut;      /* out ran out of room */
};

static void pl_out_put(struct pl_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void pl_out_put(struct pl_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->out + o->used, o->size - o->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->used) {
		o->cut = true;
		if (o->size >= 4)
			memcpy(o->out + o->size - 4, "...", 4);
		else
			o->out[o->size - 1] = '\0';
		return;
	}
	o->used += (size_t)n;
}

static void pl_out_flush(struct pl_out *o)
{
	const char *sp = o->used ? " " : "";

	if (o->kind == PL_NAMED)
		pl_out_put(o, "%sop%u[%u,%u)", sp, o->op, o->from, o->to);
	else if (o->kind == PL_SHORT)
		pl_out_put(o, "%s?[%u,%u)", sp, o->from, o->to);
	else if (o->kind == PL_ZERO)
		pl_out_put(o, "%szero[%u,%u)", sp, o->from, o->to);
	o->kind = 0;
}

static void pl_out_run(struct pl_out *o, int kind, uint32_t op, uint32_t from, uint32_t to)
{
	if (o->kind == kind && o->to == from && (kind != PL_NAMED || o->op == op)) {
		o->to = to;
		return;
	}
	pl_out_flush(o);
	*o = (struct pl_out){o->out, o->size, o->used, kind, op, from, to, o->cut};
}

void chk_describe(const uint8_t *buf, uint32_t len, uint32_t key, char *out, size_t outlen)
{
	struct pl_out o = {out, outlen, 0, 0, 0, 0, 0, false};
	struct pl_ctx c;

	if (!outlen)
		return;
	out[0] = '\0';
	if (len > CHK_DATA_MAX) {
		pl_out_put(&o, "(%u bytes: too long)", len);
		return;
	}
	pl_init(&c, buf, len, key);
	for (uint32_t g = 0; g < len; g += CHK_GRANULE) {
		if (!pl_granule(&c, g)) {
			uint32_t bad = pl_explain(&c, NULL, 0);

			pl_out_flush(&o);
			pl_out_put(&o, "%s!%u", o.used ? " " : "", bad);
			return;
		}
		for (uint32_t p = 0; p < c.m; p = c.next[p])
			pl_out_run(&o, c.how[p], c.op[p], g + p, g + c.next[p]);
	}
	pl_out_flush(&o);
}
