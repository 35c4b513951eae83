/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_store_record - libFuzzer target for the record parser
 * (store_rec_decode) against the geometry of a 64 MiB disk with 1 MiB
 * chunks, with the journal and tombstone features on. Any bytes must parse
 * or fail cleanly; an accepted record must have possible lengths (inside the
 * buffer, the data area and max_chunk; a journal record's runs inside the
 * chunk and the data area; a tombstone no data at all) and survive a round
 * trip through the encoder. When a second record follows the first, open's
 * choice between the two (store_rec_wins) must be a choice: exactly one
 * wins whichever way round it is asked, the higher version always, and at
 * equal versions one whose data verifies over one whose data does not.
 */
#include "storage/store_format.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[1 << 16];
	static uint32_t crcs[1 << 14];
	struct store_geom g;
	struct store_rec rec, rec2;
	uint32_t x = 0;

	if (store_fmt_geom_for(64 << 20, 1 << 20, &g) != 0)
		abort();
	g.incompat = STORE_INCOMPAT_JOURNAL | STORE_INCOMPAT_TOMBSTONE;
	if (store_rec_decode(data, size, &g, &rec) != 0)
		return 0;
	if ((rec.flags & STORE_REC_F_TOMBSTONE) &&
	    (rec.size || rec.nblocks || rec.block || rec.chunk_crc || rec.jcount || rec.nslots != 1))
		abort();
	/* A second record right after the first: open's tie-break. */
	if ((size_t)rec.nslots * STORE_SLOT < size) {
		size_t at = (size_t)rec.nslots * STORE_SLOT;

		if (store_rec_decode(data + at, size - at, &g, &rec2) == 0) {
			for (int oa = 0; oa < 2; oa++) {
				for (int ob = 0; ob < 2; ob++) {
					int ab = store_rec_wins(&rec, oa, 0, &rec2, ob, 1);
					int ba = store_rec_wins(&rec2, ob, 1, &rec, oa, 0);

					if (ab == ba || (rec.version != rec2.version &&
							 ab != (rec.version > rec2.version)) ||
					    (rec.version == rec2.version && oa != ob && ab != oa))
						abort();
				}
			}
		}
	}
	if ((size_t)rec.nslots * STORE_SLOT > size || rec.size > g.max_chunk ||
	    rec.block + rec.nblocks > g.nblocks ||
	    rec.nblocks != (rec.size + STORE_BLOCK - 1) / STORE_BLOCK ||
	    rec.nslots != store_fmt_rec_slots(rec.nblocks) ||
	    (size_t)rec.nslots * STORE_SLOT > sizeof(buf))
		abort();
	if (rec.jcount && (rec.flags != STORE_REC_F_JOURNAL || rec.jfirst + rec.jcount > rec.nblocks ||
			   (uint64_t)rec.jblock + rec.jcount > g.nblocks))
		abort();
	for (uint32_t i = 0; i < rec.nblocks; i++)
		x ^= crcs[i] = store_rec_crc(&rec, i); /* every crc readable */
	(void)x;
	store_rec_encode(buf, &rec, crcs, g.rec_seed);
	if (store_rec_decode(buf, (size_t)rec.nslots * STORE_SLOT, &g, &rec2) != 0 ||
	    memcmp(rec.id, rec2.id, 16) != 0 || rec.version != rec2.version ||
	    rec.size != rec2.size || rec.block != rec2.block || rec.chunk_crc != rec2.chunk_crc ||
	    rec.flags != rec2.flags || rec.jblock != rec2.jblock || rec.jfirst != rec2.jfirst ||
	    rec.jcount != rec2.jcount || memcmp(rec.crcs, rec2.crcs, 4ull * rec.nblocks) != 0)
		abort();
	return 0;
}
