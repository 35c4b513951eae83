/* SPDX-License-Identifier: Apache-2.0 */
/*
 * commit.c - versions this node holds that may not be committed yet.
 *
 * A chain member stores a version before its successor has it. Until the
 * successor answers, that version is on fewer disks than min_copies, and
 * if the successor never answers (it died, the map moved on) it stays so:
 * the write is in doubt. Normally no read sees it - reads go to the tail,
 * which stores last - but when the chain shrinks (the successor goes
 * down), this node may become the tail, and serving the version then
 * would show a write that a disk loss can still take back: a later read
 * would see the older version again.
 *
 * So every member that stores a version it has yet to see committed marks
 * it here, and a read of a marked chunk is refused (NOTREADY; the client
 * retries). The mark goes when the successor answers, when a newer version
 * commits, or when a check (recover.c, as for a walk but for one chunk)
 * finds min_copies members holding as much - pushing ours to those that
 * lack it first. A node that restarts has lost its marks; it reads again
 * only from the next clean epoch, and an epoch is clean only once every
 * copy is on min_copies members (recover.c).
 *
 * An open-addressing table with linear probing and backward-shift deletion:
 * small (writes in flight plus those in doubt), and never allowed to fail
 * a mark - chain_store reserves room before anything is stored.
 */
#include "cluster/member_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define COMMIT_MIN_CAP   64
#define COMMIT_RETRY_NS  (1000ull * 1000000ull) /* a check that could not confirm */

static uint32_t commit_slot(const struct commit_set *cs, const uint8_t id[16])
{
	uint64_t a, b;

	memcpy(&a, id, 8);
	memcpy(&b, id + 8, 8);
	return (uint32_t)(((a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull) >> 32) &
	       (cs->cap - 1);
}

static struct commit_ent *commit_find(struct commit_set *cs, const uint8_t id[16])
{
	if (!cs->cap)
		return NULL;
	for (uint32_t i = commit_slot(cs, id);; i = (i + 1) & (cs->cap - 1)) {
		struct commit_ent *e = &cs->tab[i];

		if (!e->used)
			return NULL;
		if (!memcmp(e->id, id, 16))
			return e;
	}
}

static int commit_grow(struct commit_set *cs, uint32_t cap)
{
	struct commit_ent *old = cs->tab, *tab = calloc(cap, sizeof(*tab));
	uint32_t oldcap = cs->cap;

	if (!tab)
		return -ENOMEM;
	cs->tab = tab;
	cs->cap = cap;
	for (uint32_t i = 0; i < oldcap; i++) {
		uint32_t j;

		if (!old[i].used)
			continue;
		for (j = commit_slot(cs, old[i].id); tab[j].used; j = (j + 1) & (cap - 1))
			;
		tab[j] = old[i];
	}
	free(old);
	return 0;
}

int commit_reserve(struct member *m)
{
	struct commit_set *cs = &m->commit;

	if ((cs->n + 1) * 4 <= cs->cap * 3)
		return 0;
	return commit_grow(cs, cs->cap ? cs->cap * 2 : COMMIT_MIN_CAP);
}

void commit_mark(struct member *m, const uint8_t id[16], uint64_t version)
{
	struct commit_set *cs = &m->commit;
	struct commit_ent *e = commit_find(cs, id);

	if (!e) {
		uint32_t i;

		/* chain_store reserved the room; should it ever not have, a
		 * larger table or none: never an unmarked version. */
		if ((cs->n + 1) * 4 > cs->cap * 3 &&
		    commit_grow(cs, cs->cap ? cs->cap * 2 : COMMIT_MIN_CAP)) {
			m->commit_lost = 1;
			return;
		}
		for (i = commit_slot(cs, id); cs->tab[i].used; i = (i + 1) & (cs->cap - 1))
			;
		e = &cs->tab[i];
		memset(e, 0, sizeof(*e));
		memcpy(e->id, id, 16);
		e->used = 1;
		cs->n++;
		m->c_uncommitted++;
	}
	if (version > e->version)
		e->version = version;
	e->check_at = 0; /* the chain request that marked it asks for a check if it ends unsure */
}

static void commit_remove(struct commit_set *cs, struct commit_ent *e)
{
	uint32_t i = (uint32_t)(e - cs->tab), j = i;

	cs->tab[i].used = 0;
	cs->n--;
	/* Backward shift: pull later members of the probe run into the hole. */
	for (;;) {
		uint32_t home;

		j = (j + 1) & (cs->cap - 1);
		if (!cs->tab[j].used)
			return;
		home = commit_slot(cs, cs->tab[j].id);
		/* Move j to i unless its home lies cyclically in (i, j]. */
		if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
			continue;
		cs->tab[i] = cs->tab[j];
		cs->tab[j].used = 0;
		i = j;
	}
}

void commit_done(struct member *m, const uint8_t id[16], uint64_t version)
{
	struct commit_set *cs = &m->commit;
	struct commit_ent *e = commit_find(cs, id);

	if (e && e->version <= version)
		commit_remove(cs, e);
}

uint64_t commit_unsure(struct member *m, const uint8_t id[16])
{
	struct commit_ent *e = commit_find(&m->commit, id);

	return e ? e->version : 0;
}

void commit_check_later(struct member *m, const uint8_t id[16], int retry)
{
	struct commit_ent *e = commit_find(&m->commit, id);
	uint64_t at = m->now + (retry ? COMMIT_RETRY_NS : 0);

	if (!e)
		return;
	e->check_at = at ? at : 1;
	if (!m->commit.next_check || e->check_at < m->commit.next_check)
		m->commit.next_check = e->check_at;
}

int commit_next_due(struct member *m, uint64_t now, uint8_t id[16])
{
	struct commit_set *cs = &m->commit;
	uint64_t next = 0;
	int found = 0;

	if (!cs->next_check || cs->next_check > now)
		return 0;
	for (uint32_t i = 0; i < cs->cap; i++) {
		struct commit_ent *e = &cs->tab[i];

		if (!e->used || !e->check_at)
			continue;
		if (!found && e->check_at <= now) {
			memcpy(id, e->id, 16);
			e->check_at = 0; /* being checked; the check reschedules it if need be */
			found = 1;
			continue;
		}
		if (!next || e->check_at < next)
			next = e->check_at;
	}
	cs->next_check = next;
	return found;
}

uint64_t commit_next_deadline(const struct member *m)
{
	return m->commit.next_check ? m->commit.next_check : UINT64_MAX;
}

void commit_fini(struct member *m)
{
	free(m->commit.tab);
	memset(&m->commit, 0, sizeof(m->commit));
}
