/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_manifest - manifest_parse on arbitrary bytes; an accepted manifest
 * re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "client/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	uint8_t buf[MANIFEST_MAX_LEN];

	if (manifest_parse(data, size, &m) == 0) {
		int len = manifest_encode(&m, buf, sizeof(buf));
		if (len != (int)size || memcmp(buf, data, size) != 0)
			abort();
	}
	return 0;
}
