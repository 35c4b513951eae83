/* SPDX-License-Identifier: Apache-2.0 */
/* test_manifest - manifests round-trip; ids are stable; corruption is refused. */
#include <errno.h>
#include <string.h>

#include "client/manifest.h"
#include "lib/test.h"

int main(void)
{
	struct manifest m = { .size = 10 << 20, .generation = 0x1122334455667788ull,
			      .chunk_size = 4 << 20, .nchunks = 3 };
	struct manifest out;
	uint8_t buf[MANIFEST_MAX_LEN], a[16], b[16];
	int len;

	strcpy(m.name, "photos/2026/cat.jpg");
	len = manifest_encode(&m, buf, sizeof(buf));
	CHECK(len > 0);
	CHECK_EQ(manifest_parse(buf, (size_t)len, &out), 0);
	CHECK_EQ(out.size, m.size);
	CHECK_EQ(out.generation, m.generation);
	CHECK_EQ(out.nchunks, 3);
	CHECK(strcmp(out.name, m.name) == 0);
	/* Any flipped bit is refused. */
	for (int i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1 << bit);
			CHECK_EQ(manifest_parse(buf, (size_t)len, &out), -EBADMSG);
			buf[i] ^= (uint8_t)(1 << bit);
		}
	}
	CHECK_EQ(manifest_parse(buf, (size_t)len - 1, &out), -EBADMSG);
	/* Geometry must agree. */
	m.nchunks = 4;
	CHECK_EQ(manifest_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.size = 0;
	m.nchunks = 0;
	CHECK(manifest_encode(&m, buf, sizeof(buf)) > 0);
	memset(m.name, 'x', MANIFEST_NAME_MAX + 1);
	m.name[MANIFEST_NAME_MAX + 1 - 1] = 0;
	CHECK(manifest_encode(&m, buf, sizeof(buf)) > 0);
	/* Ids: stable, kind-tagged, distinct. */
	manifest_id("a", a);
	manifest_id("a", b);
	CHECK(memcmp(a, b, 16) == 0);
	CHECK_EQ(a[0], CHUNK_KIND_MANIFEST);
	manifest_id("b", b);
	CHECK(memcmp(a, b, 16) != 0);
	manifest_data_id("a", 1, 0, a);
	manifest_data_id("a", 1, 1, b);
	CHECK_EQ(a[0], CHUNK_KIND_DATA);
	CHECK(memcmp(a, b, 16) != 0);
	manifest_data_id("a", 2, 0, b);
	CHECK(memcmp(a, b, 16) != 0);
	return test_done();
}
