/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_wire - wire_check on arbitrary datagrams: never crashes, and what it
 * accepts is self-consistent (lengths within the buffer). */
#include <stdlib.h>

#include "net/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ferry_hdr h;
	const uint8_t *payload;

	if (wire_check(data, size, 0, &h, &payload) == WIRE_OK) {
		if (payload != data + FERRY_HDR_LEN || (size_t)h.frag_len + FERRY_HDR_LEN != size ||
		    (uint64_t)h.frag_off + h.frag_len > h.msg_len)
			abort();
	}
	return 0;
}
