/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest.h - how a named object maps onto chunks.
 *
 * An object NAME of SIZE bytes is stored as ceil(SIZE / chunk_size) data
 * chunks plus one manifest chunk. Ids are derived, never listed:
 *   manifest id = 0x01 | FNV-1a-128("m" NAME)[1..15]
 *   data id i   = 0x02 | FNV-1a-128("d" NAME generation i)[1..15]
 * The first byte says what a chunk is (LIST filters manifests on it). A put
 * writes the data chunks of a fresh random generation first and the
 * manifest last: the manifest PUT is the commit point, so a reader sees the
 * old object or the new one, never a mix. The old generation's chunks are
 * deleted afterwards.
 *
 * The manifest (little-endian) is struct manifest_hdr followed by the name.
 * manifest_parse is fed bytes from the network: it checks everything and is
 * fuzzed (tests/fuzz/fuzz_manifest.c).
 */
#ifndef FERRY_CLIENT_MANIFEST_H
#define FERRY_CLIENT_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#define MANIFEST_MAGIC     0x4e414d46u /* "FMAN" */
#define MANIFEST_VERSION   1
#define MANIFEST_NAME_MAX  1024
#define CHUNK_KIND_MANIFEST 0x01
#define CHUNK_KIND_DATA     0x02

struct manifest_hdr {
	uint32_t magic;      /* MANIFEST_MAGIC */
	uint16_t version;    /* MANIFEST_VERSION */
	uint16_t name_len;   /* bytes of name that follow, 1..MANIFEST_NAME_MAX */
	uint64_t size;       /* object size in bytes */
	uint64_t generation; /* random; names this version's data chunks */
	uint32_t chunk_size; /* bytes per data chunk (the last may be shorter) */
	uint32_t nchunks;    /* ceil(size / chunk_size) */
	uint32_t crc;        /* crc32c of the manifest with crc = 0 */
	uint32_t reserved;   /* 0 */
};
_Static_assert(sizeof(struct manifest_hdr) == 40, "manifest header size");

#define MANIFEST_MAX_LEN (sizeof(struct manifest_hdr) + MANIFEST_NAME_MAX)

struct manifest {
	uint64_t size;
	uint64_t generation;
	uint32_t chunk_size;
	uint32_t nchunks;
	char name[MANIFEST_NAME_MAX + 1]; /* NUL-terminated */
};

/* manifest_id / manifest_data_id - the derived chunk ids. */
void manifest_id(const char *name, uint8_t id[16]);
void manifest_data_id(const char *name, uint64_t generation, uint32_t index, uint8_t id[16]);

/* manifest_encode - serialise m into buf (MANIFEST_MAX_LEN bytes); returns
 * the length, or -EINVAL / -ENAMETOOLONG for a bad name or geometry. */
int manifest_encode(const struct manifest *m, uint8_t *buf, size_t cap);
/* manifest_parse - check and decode len bytes; 0 or -EBADMSG. */
int manifest_parse(const uint8_t *buf, size_t len, struct manifest *m);

#endif
