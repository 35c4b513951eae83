/* SPDX-License-Identifier: Apache-2.0 */
/* test_crc32c - hardware and portable CRC-32C agree and match known vectors. */
#include <string.h>

#include "common/crc32c.h"
#include "lib/test.h"

int main(void)
{
	static const char check[] = "123456789";
	uint8_t buf[8192];

	/* RFC 3720 B.4 check value and vectors. */
	CHECK_EQ(crc32c(0, check, 9), 0xe3069283u);
	CHECK_EQ(crc32c_sw(0, check, 9), 0xe3069283u);
	memset(buf, 0, 32);
	CHECK_EQ(crc32c(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, 32);
	CHECK_EQ(crc32c(0, buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	CHECK_EQ(crc32c(0, buf, 32), 0x46dd794eu);
	CHECK_EQ(crc32c(0, NULL, 0), 0);

	/* Every length and alignment, and incremental use, agree. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len < 300; len++)
			CHECK_EQ(crc32c(0, buf + off, len), crc32c_sw(0, buf + off, len));
	uint32_t whole = crc32c(0, buf, sizeof(buf));
	uint32_t part = crc32c(crc32c(0, buf, 1000), buf + 1000, sizeof(buf) - 1000);
	CHECK_EQ(whole, part);
	fprintf(stderr, "hardware crc32c: %s\n", crc32c_hw_available() ? "yes" : "no");
	return test_done();
}
