/* SPDX-License-Identifier: Apache-2.0 */
#include "client/manifest.h"

#include <errno.h>
#include <string.h>

#include "common/crc32c.h"

/* FNV-1a, 128-bit (offset basis and prime from the FNV specification). */
static unsigned __int128 manifest_fnv128(unsigned __int128 h, const void *buf, size_t len)
{
	const unsigned __int128 prime = ((unsigned __int128)0x0000000001000000ull << 64) | 0x13bull;
	const uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= prime;
	}
	return h;
}

static unsigned __int128 manifest_fnv128_init(void)
{
	return ((unsigned __int128)0x6c62272e07bb0142ull << 64) | 0x62b821756295c58dull;
}

static void manifest_id_out(unsigned __int128 h, uint8_t kind, uint8_t id[16])
{
	memcpy(id, &h, 16);
	id[0] = kind;
}

void manifest_id(const char *name, uint8_t id[16])
{
	unsigned __int128 h = manifest_fnv128(manifest_fnv128_init(), "m", 1);

	h = manifest_fnv128(h, name, strlen(name));
	manifest_id_out(h, CHUNK_KIND_MANIFEST, id);
}

void manifest_data_id(const char *name, uint64_t generation, uint32_t index, uint8_t id[16])
{
	unsigned __int128 h = manifest_fnv128(manifest_fnv128_init(), "d", 1);

	h = manifest_fnv128(h, name, strlen(name) + 1); /* NUL separates name from numbers */
	h = manifest_fnv128(h, &generation, sizeof(generation));
	h = manifest_fnv128(h, &index, sizeof(index));
	manifest_id_out(h, CHUNK_KIND_DATA, id);
}

static int manifest_geometry_ok(uint64_t size, uint32_t chunk_size, uint32_t nchunks)
{
	if (chunk_size == 0)
		return 0;
	return (uint64_t)nchunks == (size + chunk_size - 1) / chunk_size;
}

int manifest_encode(const struct manifest *m, uint8_t *buf, size_t cap)
{
	struct manifest_hdr h;
	size_t name_len = strlen(m->name);

	if (name_len == 0)
		return -EINVAL;
	if (name_len > MANIFEST_NAME_MAX)
		return -ENAMETOOLONG;
	if (!manifest_geometry_ok(m->size, m->chunk_size, m->nchunks) ||
	    cap < sizeof(h) + name_len)
		return -EINVAL;
	memset(&h, 0, sizeof(h));
	h.magic = MANIFEST_MAGIC;
	h.version = MANIFEST_VERSION;
	h.name_len = (uint16_t)name_len;
	h.size = m->size;
	h.generation = m->generation;
	h.chunk_size = m->chunk_size;
	h.nchunks = m->nchunks;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), m->name, name_len);
	h.crc = crc32c(0, buf, sizeof(h) + name_len);
	memcpy(buf, &h, sizeof(h));
	return (int)(sizeof(h) + name_len);
}

int manifest_parse(const uint8_t *buf, size_t len, struct manifest *m)
{
	struct manifest_hdr h;
	uint8_t tmp[MANIFEST_MAX_LEN];
	uint32_t crc;

	if (len < sizeof(h) || len > MANIFEST_MAX_LEN)
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != MANIFEST_MAGIC || h.version != MANIFEST_VERSION || h.reserved ||
	    h.name_len == 0 || h.name_len > MANIFEST_NAME_MAX || len != sizeof(h) + h.name_len ||
	    !manifest_geometry_ok(h.size, h.chunk_size, h.nchunks))
		return -EBADMSG;
	crc = h.crc;
	memcpy(tmp, buf, len);
	memset(tmp + offsetof(struct manifest_hdr, crc), 0, sizeof(h.crc));
	if (crc32c(0, tmp, len) != crc)
		return -EBADMSG;
	if (memchr(buf + sizeof(h), 0, h.name_len))
		return -EBADMSG; /* names are C strings */
	m->size = h.size;
	m->generation = h.generation;
	m->chunk_size = h.chunk_size;
	m->nchunks = h.nchunks;
	memcpy(m->name, buf + sizeof(h), h.name_len);
	m->name[h.name_len] = 0;
	return 0;
}
