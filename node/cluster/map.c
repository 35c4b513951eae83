/* SPDX-License-Identifier: Apache-2.0 */
/* map.c - cluster map encoding, checks and atomic persistence (see map.h). */
#include "cluster/map.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/crc32c.h"

const char *map_state_name(uint8_t state)
{
	switch (state) {
	case MAP_UP: return "up";
	case MAP_DOWN: return "down";
	case MAP_OUT: return "out";
	case MAP_LOST: return "lost";
	default: return "?";
	}
}

int map_find(const struct cmap *m, const uint8_t uuid[16])
{
	for (uint32_t i = 0; i < m->n; i++)
		if (memcmp(m->nodes[i].uuid, uuid, 16) == 0)
			return (int)i;
	return -1;
}

int map_continuous(const struct cmap *m, uint32_t i)
{
	const struct map_node *n = &m->nodes[i];

	return n->state == MAP_UP && !(n->flags & MAP_NF_FULL) && n->up_since <= m->clean_epoch;
}

uint32_t map_absent(const struct cmap *m)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < m->n; i++)
		k += m->nodes[i].state == MAP_DOWN || m->nodes[i].state == MAP_OUT;
	return k;
}

void map_copy(struct cmap *dst, const struct cmap *src)
{
	if (dst == src)
		return;
	memcpy(dst, src, offsetof(struct cmap, nodes) + (size_t)src->n * sizeof(src->nodes[0]));
}

size_t map_encoded_len(const struct cmap *m)
{
	return sizeof(struct map_wire_hdr) + (size_t)m->n * sizeof(struct map_wire_node);
}

int map_encode(const struct cmap *m, uint8_t *buf, size_t cap)
{
	struct map_wire_hdr h;
	size_t len = map_encoded_len(m);

	if (m->n > MAP_MAX_NODES || m->replicas == 0 || m->replicas > MAP_MAX_R ||
	    m->min_copies == 0 || m->min_copies > m->replicas)
		return -EINVAL;
	if (len > cap)
		return -ENOSPC;
	memset(&h, 0, sizeof(h));
	h.magic = MAP_MAGIC;
	h.version = MAP_VERSION;
	h.hdr_len = sizeof(struct map_wire_hdr);
	h.node_len = sizeof(struct map_wire_node);
	h.replicas = (uint16_t)m->replicas;
	h.nnodes = m->n;
	h.epoch = m->epoch;
	memcpy(h.cluster, m->cluster, 16);
	h.clean_epoch = m->clean_epoch;
	h.min_copies = (uint16_t)m->min_copies;
	for (uint32_t i = 0; i < m->n; i++) {
		const struct map_node *n = &m->nodes[i];
		struct map_wire_node w;

		memset(&w, 0, sizeof(w));
		memcpy(w.uuid, n->uuid, 16);
		memcpy(w.ip, n->addr.ip, 16);
		w.family = n->addr.family;
		w.port = n->addr.port;
		w.weight = n->weight;
		w.state = n->state;
		w.flags = n->flags;
		w.clean_state = n->clean_state;
		memcpy(w.zone, n->zone, MAP_ZONE_LEN);
		w.zone[MAP_ZONE_LEN - 1] = 0;
		w.capacity = n->capacity;
		w.used = n->used;
		w.chunks = n->chunks;
		w.ops_per_s = n->ops_per_s;
		w.rec_pending = n->rec_pending;
		w.rec_copied = n->rec_copied;
		w.rec_bytes = n->rec_bytes;
		w.degraded = n->degraded;
		w.up_since = n->up_since;
		w.clean_weight = n->clean_weight;
		memcpy(w.clean_zone, n->clean_zone, MAP_ZONE_LEN);
		w.clean_zone[MAP_ZONE_LEN - 1] = 0;
		w.repaired = n->repaired;
		w.bad_chunks = n->bad_chunks;
		memcpy(buf + sizeof(h) + i * sizeof(w), &w, sizeof(w));
	}
	memcpy(buf, &h, sizeof(h));
	h.crc = crc32c(0, buf, len);
	memcpy(buf, &h, sizeof(h));
	return (int)len;
}

/* A zone field: NUL-terminated, nothing after the NUL (one encoding per map). */
static int map_zone_ok(const char *z)
{
	const char *nul = memchr(z, 0, MAP_ZONE_LEN);

	if (!nul)
		return 0;
	for (size_t k = (size_t)(nul - z); k < MAP_ZONE_LEN; k++)
		if (z[k])
			return 0;
	return 1;
}

static int map_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

int map_parse(const uint8_t *buf, size_t len, struct cmap *m)
{
	struct map_wire_hdr h;
	size_t hlen, nlen;
	uint32_t crc;
	int v1;

	if (len < MAP_V1_HDR_LEN)
		return -EBADMSG;
	memset(&h, 0, sizeof(h));
	memcpy(&h, buf, MAP_V1_HDR_LEN);
	v1 = h.version == 1;
	hlen = v1 ? MAP_V1_HDR_LEN : sizeof(h);
	nlen = v1 ? MAP_V1_NODE_LEN : sizeof(struct map_wire_node);
	if (h.magic != MAP_MAGIC || (h.version != 1 && h.version != MAP_VERSION) ||
	    h.hdr_len != hlen || h.node_len != nlen || h.reserved || len < hlen ||
	    h.nnodes > MAP_MAX_NODES || h.replicas == 0 || h.replicas > MAP_MAX_R ||
	    len != hlen + (size_t)h.nnodes * nlen || h.epoch > MAP_EPOCH_MAX)
		return -EBADMSG;
	memcpy(&h, buf, hlen);
	crc = h.crc;
	h.crc = 0;
	if (crc32c(crc32c(0, &h, hlen), buf + hlen, len - hlen) != crc)
		return -EBADMSG;
	if (v1) {
		/* Before clean epochs: take the map as clean at its epoch. */
		h.clean_epoch = h.epoch;
		h.min_copies = (uint16_t)(h.replicas - h.replicas / 2);
	} else if (h.clean_epoch > h.epoch || h.min_copies == 0 || h.min_copies > h.replicas ||
		   h.pad0 || h.pad1) {
		return -EBADMSG;
	}
	memset(m, 0, offsetof(struct cmap, nodes)); /* nodes: each cleared as it is filled */
	m->epoch = h.epoch;
	memcpy(m->cluster, h.cluster, 16);
	m->replicas = h.replicas;
	m->min_copies = h.min_copies;
	m->clean_epoch = h.clean_epoch;
	for (uint32_t i = 0; i < h.nnodes; i++) {
		struct map_node *n = &m->nodes[i];
		struct map_wire_node w;

		memset(&w, 0, sizeof(w));
		memcpy(&w, buf + hlen + i * nlen, nlen);
		if (v1) {
			if (!map_zero(&w.flags, 7) || w.state > MAP_OUT)
				return -EBADMSG;
			w.clean_state = w.state;
			w.clean_weight = w.weight;
			memcpy(w.clean_zone, w.zone, MAP_ZONE_LEN);
		}
		if ((w.family != AF_INET && w.family != AF_INET6) || w.port == 0 ||
		    w.state < MAP_UP || w.state > MAP_LOST || (w.flags & ~MAP_NF_ALL) ||
		    w.clean_state > MAP_LOST || w.weight == 0 || w.weight > MAP_WEIGHT_MAX ||
		    w.clean_weight > MAP_WEIGHT_MAX || (w.clean_state && w.clean_weight == 0) ||
		    w.up_since > h.epoch || !map_zero(w.pad, sizeof(w.pad)) || w.pad2 ||
		    !map_zone_ok(w.zone) || !map_zone_ok(w.clean_zone))
			return -EBADMSG;
		if (map_find(m, w.uuid) >= 0)
			return -EBADMSG; /* one record per node */
		memset(n, 0, sizeof(*n));
		memcpy(n->uuid, w.uuid, 16);
		n->addr.family = w.family;
		n->addr.port = w.port;
		memcpy(n->addr.ip, w.ip, 16);
		memcpy(n->zone, w.zone, MAP_ZONE_LEN);
		n->weight = w.weight;
		n->state = w.state;
		n->flags = w.flags;
		n->clean_state = w.clean_state;
		n->up_since = w.up_since;
		n->clean_weight = w.clean_weight;
		memcpy(n->clean_zone, w.clean_zone, MAP_ZONE_LEN);
		n->capacity = w.capacity;
		n->used = w.used;
		n->chunks = w.chunks;
		n->ops_per_s = w.ops_per_s;
		n->rec_pending = w.rec_pending;
		n->rec_copied = w.rec_copied;
		n->rec_bytes = w.rec_bytes;
		n->degraded = w.degraded;
		n->repaired = w.repaired;
		n->bad_chunks = w.bad_chunks;
		m->n++;
	}
	return 0;
}

int map_save(const struct cmap *m, const char *dir)
{
	char tmp[4096], path[4096];
	uint8_t *buf = malloc(MAP_MAX_LEN);
	int len, fd = -1, dfd = -1, err = 0;

	if (!buf)
		return -ENOMEM;
	len = map_encode(m, buf, MAP_MAX_LEN);
	if (len < 0) {
		err = len;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, MAP_FILE);
	snprintf(path, sizeof(path), "%s/%s", dir, MAP_FILE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (int off = 0; off < len;) {
		ssize_t w = write(fd, buf + off, (size_t)(len - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? -errno : -EIO;
			goto out;
		}
		off += (int)w;
	}
	/* The new contents are durable before the name points at them, and the
	 * rename is durable before we say so. */
	if (fsync(fd) || rename(tmp, path)) {
		err = -errno;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		err = -errno;
out:
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

int map_load(struct cmap *m, const char *dir)
{
	char path[4096];
	uint8_t *buf = malloc(MAP_MAX_LEN + 1);
	ssize_t len = 0, r;
	int fd, err;

	if (!buf)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/%s", dir, MAP_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	while ((r = read(fd, buf + len, MAP_MAX_LEN + 1 - (size_t)len)) > 0)
		len += r;
	close(fd);
	err = r < 0 ? -errno : map_parse(buf, (size_t)len, m);
out:
	free(buf);
	return err;
}
