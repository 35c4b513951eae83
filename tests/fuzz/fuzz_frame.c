/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_frame - frame_parse on arbitrary frames: never reads outside them, and
 * an accepted frame's payload lies inside it. */
#include <stdlib.h>
#include <string.h>

#include "net/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_info fi;
	uint8_t *copy;

	if (size > 9000)
		return 0;
	copy = malloc(size ? size : 1); /* exact size: ASan sees any overread */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (frame_parse(copy, (uint32_t)size, &fi) == FRAME_OK &&
	    ((uint64_t)fi.payload_off + fi.payload_len > size || fi.payload_off < FRAME_HDRS_LEN))
		abort();
	free(copy);
	return 0;
}
