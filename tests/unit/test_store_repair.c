/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_store_repair - same-version repair (a PUT with STORE_OPF_SAMEVER): a
 * chunk with a corrupt block reads -EBADMSG; a PUT of the good bytes at the
 * chunk's own version makes it read them, with STAT's version unchanged,
 * across a reopen and fsck-clean; the flag's rules (equal to a live chunk
 * only, never a tombstone's, -EINVAL off PUT or without a version). Then
 * open's choice between two valid records of one id and one version
 * (store_rec_wins), built on an in-memory disk from the images before and
 * after a repair: the copy whose data verifies wins whichever slot it is
 * in, the lower slot when both verify, the loser is erased, and a later
 * ordinary PUT wins over both.
 */
#include "lib/store_fixture.h"
#include "lib/test.h"
#include "storage/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CSZ 12000 /* three blocks, the last partial */

/* put - a PUT op of data[0, len) at version with flags; its result. */
static int put(struct store *s, const uint8_t id[16], const uint8_t *data, uint32_t len,
	       uint64_t version, uint32_t flags)
{
	struct store_op op;

	memset(&op, 0, sizeof(op));
	op.type = STORE_OP_PUT;
	memcpy(op.id, id, 16);
	op.buf = (void *)data;
	op.len = op.buf_cap = len;
	op.version = version;
	op.flags = flags;
	return store_fixture_run(s, &op);
}

static void flip(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	REQUIRE(fd >= 0);
	REQUIRE(pread(fd, &b, 1, (off_t)off) == 1);
	b ^= 0x04;
	REQUIRE(pwrite(fd, &b, 1, (off_t)off) == 1);
	REQUIRE(fsync(fd) == 0);
	close(fd);
}

static uint8_t good[CSZ], back[CSZ + 4096];

/* The repair on a file through io_uring, and the flag's rules. */
static void repair_file(void)
{
	char *path = store_fixture_disk("store_repair", 32 << 20);
	struct store_cfg cfg = { .path = path, .cluster = store_fixture_cluster };
	struct store_fsck_report rep;
	struct store_stat st;
	struct store *s;
	uint8_t id[16] = { 0x7e, 1 }, t[16] = { 0x7e, 2 }, n[16] = { 0x7e, 3 };
	uint64_t off;
	uint32_t got;

	store_fixture_format(path, 64 << 10);
	store_fixture_fill(good, CSZ, 11);
	REQUIRE(store_open(&cfg, &s) == 0);
	REQUIRE(put(s, id, good, CSZ, 77, 0) == 0);
	off = s->g.data_off + ((uint64_t)store_index_find(s, id)->block + 1) * STORE_BLOCK + 99;
	store_close(s);
	flip(path, off); /* bit rot in block 1 */

	REQUIRE(store_open(&cfg, &s) == 0);
	CHECK_EQ(store_get(s, id, 0, CSZ, back, &got), -EBADMSG);
	REQUIRE(store_stat(s, id, &st) == 0); /* the record is fine */
	CHECK_EQ(st.version, 77);
	/* Without the flag, or below the version, the copy is refused. */
	CHECK_EQ(put(s, id, good, CSZ, 77, 0), -ESTALE);
	CHECK_EQ(put(s, id, good, CSZ, 76, STORE_OPF_SAMEVER), -ESTALE);
	/* The flag is for a PUT with a version only; unknown flags: -EINVAL. */
	CHECK_EQ(put(s, id, good, CSZ, 0, STORE_OPF_SAMEVER), -EINVAL);
	CHECK_EQ(put(s, id, good, CSZ, 77, 0x80), -EINVAL);
	{
		struct store_op op;

		memset(&op, 0, sizeof(op));
		op.type = STORE_OP_WRITE;
		memcpy(op.id, id, 16);
		op.buf = good;
		op.len = op.buf_cap = 4096;
		op.version = 77;
		op.flags = STORE_OPF_SAMEVER;
		CHECK_EQ(store_fixture_run(s, &op), -EINVAL);
		op.type = STORE_OP_DELETE;
		CHECK_EQ(store_fixture_run(s, &op), -EINVAL);
	}
	/* The repair: the good bytes at the chunk's own version. */
	CHECK_EQ(put(s, id, good, CSZ, 77, STORE_OPF_SAMEVER), 0);
	REQUIRE(store_get(s, id, 0, CSZ, back, &got) == 0);
	CHECK_EQ(got, CSZ);
	CHECK(memcmp(back, good, CSZ) == 0);
	REQUIRE(store_stat(s, id, &st) == 0);
	CHECK_EQ(st.version, 77);
	/* Again (a retried repair) is harmless. */
	CHECK_EQ(put(s, id, good, CSZ, 77, STORE_OPF_SAMEVER), 0);
	/* A tombstone of that version is not a copy to repair. */
	CHECK_EQ(store_delete_version(s, t, 90), 0);
	CHECK_EQ(put(s, t, good, 100, 90, STORE_OPF_SAMEVER), -ESTALE);
	/* Above the chunk's version, or with no record, it is a plain PUT. */
	CHECK_EQ(put(s, t, good, 100, 91, STORE_OPF_SAMEVER), 0);
	CHECK_EQ(put(s, n, good, 100, 5, STORE_OPF_SAMEVER), 0);
	REQUIRE(store_stat(s, n, &st) == 0);
	CHECK_EQ(st.version, 5);
	store_close(s);

	CHECK_EQ(store_fsck(path, &rep), 0); /* the corrupt copy is gone */
	CHECK_EQ(rep.stale, 0);
	REQUIRE(store_open(&cfg, &s) == 0);
	REQUIRE(store_get(s, id, 0, CSZ, back, &got) == 0);
	CHECK(memcmp(back, good, CSZ) == 0);
	REQUIRE(store_stat(s, id, &st) == 0);
	CHECK_EQ(st.version, 77);
	store_close(s);
	unlink(path);
	free(path);
}

/* ---- two records of one id and version at open ---- */

#define MEMSZ (32u << 20)

/*
 * Disk images where the erase of a replaced record "did not land": pair
 * holds both the copy a repair replaced (slot a, blocks from blk_a) and the
 * repair (slot b, blk_b); later holds both of them and a later ordinary
 * PUT's record (slot c). Built from real runs on an in-memory disk, with
 * the erased headers put back from snapshots taken before the erases.
 */
struct pair {
	uint8_t *img;             /* MEMSZ bytes: a and b */
	uint8_t *later;           /* MEMSZ bytes: a, b and c */
	uint32_t slot_a, slot_b, slot_c; /* first record slots */
	uint32_t blk_a, blk_b;    /* first data blocks of a and b */
	uint64_t rec_off, data_off; /* areas on the disk */
};

static void restore_slot(uint8_t *dst, const uint8_t *src, const struct pair *pr, uint32_t slot)
{
	uint64_t off = pr->rec_off + (uint64_t)slot * STORE_SLOT;

	memcpy(dst + off, src + off, STORE_SLOT);
}

static void make_pair(struct pair *pr, const uint8_t id[16])
{
	struct store_fixture_mem *m = store_fixture_mem_new(MEMSZ, 64 << 10);
	struct store *s = store_fixture_mem_open(m);
	uint8_t *before = malloc(MEMSZ), *mid = malloc(MEMSZ), other[16] = { 0x7e, 10 };
	struct iovec iov = { good + 1, 5000 };

	REQUIRE(before && mid);
	REQUIRE(put(s, id, good, CSZ, 42, 0) == 0);
	pr->slot_a = store_index_find(s, id)->slot;
	pr->blk_a = store_index_find(s, id)->block;
	pr->rec_off = s->g.rec_off;
	pr->data_off = s->g.data_off;
	memcpy(before, m->data, MEMSZ);
	REQUIRE(put(s, id, good, CSZ, 42, STORE_OPF_SAMEVER) == 0);
	pr->slot_b = store_index_find(s, id)->slot;
	pr->blk_b = store_index_find(s, id)->block;
	store_close(s); /* drains the erase of a's header */
	REQUIRE(pr->slot_a < pr->slot_b && pr->blk_a != pr->blk_b);
	memcpy(mid, m->data, MEMSZ);
	pr->img = malloc(MEMSZ);
	REQUIRE(pr->img);
	memcpy(pr->img, mid, MEMSZ);
	restore_slot(pr->img, before, pr, pr->slot_a);

	/* Go on from the repair: a tombstone of another id takes a's freed
	 * slot (first fit), so the PUT's record lands elsewhere; then an
	 * ordinary PUT of the chunk (a higher version, new space). */
	s = store_fixture_mem_open(m);
	REQUIRE(store_delete_version(s, other, 1) == 0);
	REQUIRE(store_index_find(s, other)->slot == pr->slot_a);
	REQUIRE(store_put(s, id, &iov, 1, NULL) == 0);
	pr->slot_c = store_index_find(s, id)->slot;
	store_close(s);
	REQUIRE(pr->slot_c != pr->slot_a && pr->slot_c != pr->slot_b);
	restore_slot(m->data, before, pr, pr->slot_a);
	restore_slot(m->data, mid, pr, pr->slot_b);
	pr->later = m->data;
	m->data = NULL;
	store_fixture_mem_free(m);
	free(before);
	free(mid);
}

/* open_pair - open a copy of the pair's image with block 1 of copy `bad`
 * ('a', 'b' or 0: none) corrupt; returns the winner's slot, and checks the
 * chunk reads the good bytes. */
static uint32_t open_pair(const struct pair *pr, const uint8_t id[16], int bad)
{
	struct store_fixture_mem *m = store_fixture_mem_new(MEMSZ, 64 << 10);
	struct store_fsck_report rep;
	struct store_stat st;
	struct store *s;
	uint32_t slot, got;

	memcpy(m->data, pr->img, MEMSZ);
	if (bad)
		m->data[pr->data_off + ((uint64_t)(bad == 'a' ? pr->blk_a : pr->blk_b) + 1) *
			STORE_BLOCK + 7] ^= 0x01;
	/* fsck sees two records of the id: one is a leftover (stale). */
	CHECK_EQ(store_fsck_io(&store_fixture_mem_ops, m, &rep), 0);
	CHECK_EQ(rep.stale, 1);
	CHECK_EQ(rep.chunks, 1);
	s = store_fixture_mem_open(m);
	slot = store_index_find(s, id)->slot;
	REQUIRE(store_stat(s, id, &st) == 0);
	CHECK_EQ(st.version, 42);
	CHECK_EQ(store_get(s, id, 0, CSZ, back, &got), 0);
	CHECK(memcmp(back, good, CSZ) == 0);
	store_close(s);
	/* The loser was erased: nothing left over. */
	CHECK_EQ(store_fsck_io(&store_fixture_mem_ops, m, &rep), 0);
	CHECK_EQ(rep.stale, 0);
	store_fixture_mem_free(m);
	return slot;
}

static void open_rule(void)
{
	const uint8_t id[16] = { 0x7e, 9 };
	struct store_fixture_mem *m;
	struct store_fsck_report rep;
	struct store_stat st;
	struct store *s;
	struct pair pr;
	uint32_t got;

	make_pair(&pr, id);
	/* The copy whose data verifies wins, in the higher slot or the lower. */
	CHECK_EQ(open_pair(&pr, id, 'a'), pr.slot_b);
	CHECK_EQ(open_pair(&pr, id, 'b'), pr.slot_a);
	/* Both verify: the lower slot, every time. */
	CHECK_EQ(open_pair(&pr, id, 0), pr.slot_a);

	/* A later ordinary PUT wins over both copies left on the disk. */
	m = store_fixture_mem_new(MEMSZ, 64 << 10);
	memcpy(m->data, pr.later, MEMSZ);
	CHECK_EQ(store_fsck_io(&store_fixture_mem_ops, m, &rep), 0);
	CHECK_EQ(rep.stale, 2);
	s = store_fixture_mem_open(m);
	CHECK_EQ(store_index_find(s, id)->slot, pr.slot_c);
	REQUIRE(store_stat(s, id, &st) == 0);
	CHECK(st.version > 42);
	CHECK_EQ(st.size, 5000);
	REQUIRE(store_get(s, id, 0, 5000, back, &got) == 0);
	CHECK(memcmp(back, good + 1, 5000) == 0);
	store_close(s);
	CHECK_EQ(store_fsck_io(&store_fixture_mem_ops, m, &rep), 0);
	CHECK_EQ(rep.stale, 0);
	store_fixture_mem_free(m);
	free(pr.img);
	free(pr.later);
}

int main(void)
{
	repair_file();
	open_rule();
	return test_done();
}
