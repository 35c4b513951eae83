/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_map - map_parse on arbitrary bytes (GETMAP answers, ctl state files
 * and the map a node keeps on disk are untrusted); an accepted map of the
 * current version re-encodes to the same bytes, and one of version 1 to a
 * current map that decodes to the same. */
#include <stdlib.h>
#include <string.h>

#include "cluster/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cmap m;
	static uint8_t buf[MAP_MAX_LEN];

	static struct cmap back;
	static uint8_t buf2[MAP_MAX_LEN];

	if (map_parse(data, size, &m) == 0) {
		int len = map_encode(&m, buf, sizeof(buf)), len2;
		int v1 = size >= 6 && data[4] == 1 && data[5] == 0;

		if (len < 0 || (!v1 && (len != (int)size || memcmp(buf, data, size) != 0)))
			abort();
		if (map_parse(buf, (size_t)len, &back) != 0)
			abort();
		len2 = map_encode(&back, buf2, sizeof(buf2));
		if (len2 != len || memcmp(buf, buf2, (size_t)len) != 0)
			abort();
	}
	return 0;
}
