/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_map - map_parse on arbitrary bytes (GETMAP answers and ctl state
 * files are untrusted); an accepted map re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "cluster/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cmap m;
	static uint8_t buf[MAP_MAX_LEN];

	if (map_parse(data, size, &m) == 0) {
		int len = map_encode(&m, buf, sizeof(buf));
		if (len != (int)size || memcmp(buf, data, size) != 0)
			abort();
	}
	return 0;
}
