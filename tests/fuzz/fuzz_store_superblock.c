/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_store_superblock - libFuzzer target for the superblock parser
 * (store_sb_decode). Any bytes must parse or fail cleanly; an accepted
 * superblock must describe a consistent geometry and survive a round trip
 * through the encoder.
 */
#include "storage/store_format.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_sb_disk sb, sb2;
	struct store_geom g, g2;
	uint8_t buf[STORE_SB_SIZE];

	if (store_sb_decode(data, size, &sb, &g) != 0)
		return 0;
	/* The layout must fit together exactly, inside dev_size. */
	if (g.rec_off != STORE_BLOCK || g.data_off != g.rec_off + g.nslots * STORE_SLOT ||
	    g.data_off + g.nblocks * STORE_BLOCK + STORE_BLOCK != g.dev_size ||
	    g.data_off % STORE_BLOCK || g.max_chunk == 0 || g.max_chunk > STORE_MAX_CHUNK_LIMIT ||
	    g.nblocks > STORE_MAX_DATA_BLOCKS || g.rec_max_slots == 0)
		abort();
	store_sb_encode(buf, sb.cluster, sb.node, sb.disk, &g, sb.generation, sb.created);
	if (store_sb_decode(buf, sizeof(buf), &sb2, &g2) != 0 || memcmp(&g, &g2, sizeof(g)) != 0 ||
	    memcmp(sb.cluster, sb2.cluster, 16) != 0 || sb.generation != sb2.generation)
		abort();
	return 0;
}
