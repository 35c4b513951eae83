/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_obj.c - named objects: a file split into data chunks under a fresh
 * generation, then a manifest chunk (client/manifest.h) as the commit
 * point. Chunk transfers run as asynchronous ops, several in flight.
 */
#include "client/client_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

/* A pipeline runs n chunk ops with up to concurrency in flight: prep()
 * fills op i into a slot (with a chunk_size buffer), done() consumes it.
 * The first failure stops new ops; ops in flight are finished. */
struct client_slot {
	struct client_op op;
	struct client_pipe *p;
	uint8_t *buf;
	uint32_t index;
	uint32_t tries;
	int busy;
	int again;           /* ended in doubt: submit the same op again ... */
	uint64_t retry_ns;   /* ... at this time */
	uint64_t give_up_ns; /* tries end here (as long as one op may take) */
};

/* A data chunk PUT that may or may not have taken effect is sent again
 * until the time one op may take has passed: its id belongs to this put's
 * generation (64 random bits) and every try carries the same bytes, so
 * taking effect twice changes nothing a reader can see. Writes in doubt are
 * common around an epoch change: a member with the new map and no lease on
 * it yet refuses a forward, and a refusal of a request that had to be sent
 * again may hide an earlier copy taken by a run of the node since
 * restarted. The manifest (the commit point) is retried the same way:
 * a later try gets a higher version than any earlier one, so an earlier
 * try that surfaces late never replaces it. */
#define CLIENT_OBJ_BACKOFF_NS (50ull * 1000000ull)      /* per try ... */
#define CLIENT_OBJ_BACKOFF_MAX_NS (500ull * 1000000ull) /* ... up to this */

static uint64_t client_obj_backoff(uint32_t tries)
{
	return MIN(CLIENT_OBJ_BACKOFF_NS * (tries + 1), CLIENT_OBJ_BACKOFF_MAX_NS);
}

static uint64_t client_obj_budget(const struct client *cl)
{
	return (uint64_t)cl->cfg.timeout_ms * 3000000ull; /* as client_submit's deadline */
}

struct client_pipe {
	struct client *cl;
	int (*prep)(struct client_pipe *p, struct client_slot *s);
	int (*done)(struct client_pipe *p, struct client_slot *s);
	const struct manifest *m;
	int fd;
	int err;
	int retry_maybe; /* data chunk PUTs: see CLIENT_OBJ_BACKOFF_NS */
	uint32_t active;
};

static void client_slot_done(struct client_op *op)
{
	struct client_slot *s = op->arg;
	struct client_pipe *p = s->p;
	int err = op->err;

	if (err && op->maybe && p->retry_maybe && !p->err) {
		uint64_t at = env_now(p->cl->deps.env) + client_obj_backoff(s->tries);

		if (at < s->give_up_ns) {
			s->again = 1; /* still busy and active: the pipeline sends it again */
			s->retry_ns = at;
			return;
		}
	}
	s->busy = 0;
	p->active--;
	if (err) {
		char saved[sizeof(p->cl->err)];
		int k;

		client_op_result(p->cl, op); /* the message says what the error means */
		memcpy(saved, p->cl->err, sizeof(saved));
		k = snprintf(p->cl->err, sizeof(p->cl->err), "chunk %u: ", s->index);
		if (k > 0 && (size_t)k < sizeof(p->cl->err))
			memcpy(p->cl->err + k, saved, sizeof(p->cl->err) - (size_t)k - 1);
		p->cl->err[sizeof(p->cl->err) - 1] = 0;
	} else {
		err = p->done(p, s);
	}
	if (err && !p->err)
		p->err = err;
}

static int client_pipeline(struct client_pipe *p, uint32_t n)
{
	struct client *cl = p->cl;
	uint32_t nslots = MIN(cl->cfg.concurrency, MAX(n, 1u)), next = 0;
	struct client_slot *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < nslots; i++) {
		slots[i].p = p;
		slots[i].buf = malloc(p->m->chunk_size);
		if (!slots[i].buf) {
			p->err = -ENOMEM;
			goto out;
		}
	}
	while ((next < n && !p->err) || p->active) {
		struct pollfd pfd[2] = {
			{ .fd = cl->deps.t->ops->poll_fd(cl->deps.t), .events = POLLIN },
			{ .fd = cl->deps.ctl_t->ops->poll_fd(cl->deps.ctl_t), .events = POLLIN },
		};
		uint64_t now = env_now(cl->deps.env), due;

		for (uint32_t i = 0; i < nslots; i++) {
			struct client_slot *s = &slots[i];
			int err;

			if (!s->again || now < s->retry_ns)
				continue;
			s->again = 0;
			s->tries++;
			err = client_submit(cl, &s->op);
			if (err) { /* cannot happen for an op that ended; end it */
				s->op.err = err;
				s->op.maybe = 0;
				client_slot_done(&s->op);
			}
		}
		for (uint32_t i = 0; i < nslots && next < n && !p->err; i++) {
			struct client_slot *s = &slots[i];
			int err;

			if (s->busy)
				continue;
			s->tries = 0;
			s->give_up_ns = now + client_obj_budget(cl);
			s->index = next++;
			memset(&s->op, 0, sizeof(s->op));
			err = p->prep(p, s);
			s->op.done = client_slot_done;
			s->op.arg = s;
			if (!err)
				err = client_submit(cl, &s->op);
			if (err) {
				if (!p->err)
					p->err = client_fail(cl, err, "chunk %u: %s", s->index,
							     strerror(-err));
				break;
			}
			s->busy = 1;
			p->active++;
		}
		if (!p->active)
			break;
		now = env_now(cl->deps.env);
		client_poll(cl, now);
		due = client_next_deadline(cl);
		for (uint32_t i = 0; i < nslots; i++)
			if (slots[i].again)
				due = MIN(due, slots[i].retry_ns);
		now = env_now(cl->deps.env);
		if (p->active && due > now)
			poll(pfd, 2, (int)MIN((due - now + 999999) / 1000000, 100ull));
	}
out:
	for (uint32_t i = 0; i < nslots; i++)
		free(slots[i].buf);
	free(slots);
	return p->err;
}

static uint32_t client_chunk_len(const struct manifest *m, uint32_t i)
{
	uint64_t off = (uint64_t)i * m->chunk_size;

	return (uint32_t)MIN((uint64_t)m->chunk_size, m->size - off);
}

static int client_put_prep(struct client_pipe *p, struct client_slot *s)
{
	uint32_t len = client_chunk_len(p->m, s->index);
	off_t off = (off_t)s->index * p->m->chunk_size;
	uint32_t done = 0;

	while (done < len) {
		ssize_t r = pread(p->fd, s->buf + done, len - done, off + done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return client_fail(p->cl, r < 0 ? -errno : -EIO,
					   "reading the input file: %s",
					   r < 0 ? strerror(errno) : "file shrank while reading");
		done += (uint32_t)r;
	}
	s->op.op = FERRY_OP_PUT;
	manifest_data_id(p->m->name, p->m->generation, s->index, s->op.id);
	s->op.req = s->buf;
	s->op.req_len = len;
	return 0;
}

static int client_put_done(struct client_pipe *p, struct client_slot *s)
{
	(void)p;
	(void)s;
	return 0;
}

static int client_get_prep(struct client_pipe *p, struct client_slot *s)
{
	s->op.op = FERRY_OP_GET;
	manifest_data_id(p->m->name, p->m->generation, s->index, s->op.id);
	s->op.resp = s->buf;
	s->op.resp_cap = client_chunk_len(p->m, s->index);
	return 0;
}

static int client_get_done(struct client_pipe *p, struct client_slot *s)
{
	uint32_t len = client_chunk_len(p->m, s->index);
	off_t off = (off_t)s->index * p->m->chunk_size;
	uint32_t done = 0;

	if (s->op.got != len)
		return client_fail(p->cl, -EBADMSG, "chunk %u of '%s' is %u bytes, expected %u",
				   s->index, p->m->name, s->op.got, len);
	while (done < len) {
		ssize_t r = pwrite(p->fd, s->buf + done, len - done, off + done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return client_fail(p->cl, -errno, "writing the output file: %s",
					   strerror(errno));
		done += (uint32_t)r;
	}
	return 0;
}

static int client_manifest_get(struct client *cl, const char *name, struct manifest *m)
{
	uint8_t id[16], buf[MANIFEST_MAX_LEN];
	uint32_t got;
	int err;

	if (strlen(name) > MANIFEST_NAME_MAX)
		return client_fail(cl, -ENAMETOOLONG, "name is %zu bytes; the limit is %d",
				   strlen(name), MANIFEST_NAME_MAX);
	manifest_id(name, id);
	err = client_chunk_get(cl, id, 0, buf, sizeof(buf), &got);
	if (err == -ENOENT)
		return client_fail(cl, err, "no object named '%s'", name);
	if (err)
		return err;
	if (manifest_parse(buf, got, m) || strcmp(m->name, name) != 0)
		return client_fail(cl, -EBADMSG, "the manifest of '%s' is corrupt", name);
	return 0;
}

/* Best effort: a leftover chunk is garbage, not data. The reason the caller
 * is cleaning up stays the message (these deletes must not replace it). */
static void client_delete_generation(struct client *cl, const struct manifest *m)
{
	char saved[sizeof(cl->err)];

	memcpy(saved, cl->err, sizeof(saved));
	for (uint32_t i = 0; i < m->nchunks; i++) {
		uint8_t id[16];
		manifest_data_id(m->name, m->generation, i, id);
		client_chunk_delete(cl, id);
	}
	memcpy(cl->err, saved, sizeof(saved));
}

/* The manifest PUT, sent again while it ends in doubt (see
 * CLIENT_OBJ_BACKOFF_NS); *maybe: the last try may have taken effect. */
static int client_obj_put_manifest(struct client *cl, const uint8_t id[16], const void *buf,
				   uint32_t len, int *maybe)
{
	uint64_t give_up = env_now(cl->deps.env) + client_obj_budget(cl);
	struct client_op op;
	int err;

	for (uint32_t tries = 0;; tries++) {
		uint64_t now, at;

		memset(&op, 0, sizeof(op));
		op.op = FERRY_OP_PUT;
		memcpy(op.id, id, 16);
		op.req = buf;
		op.req_len = len;
		err = client_submit(cl, &op);
		if (err)
			return client_fail(cl, err, "cannot start the request: %s", strerror(-err));
		client_wait(cl, &op);
		*maybe = op.err && op.maybe;
		now = env_now(cl->deps.env);
		at = now + client_obj_backoff(tries);
		if (!*maybe || at >= give_up)
			return client_op_result(cl, &op);
		poll(NULL, 0, (int)((at - now + 999999) / 1000000));
	}
}

int client_obj_put_file(struct client *cl, const char *path, const char *name)
{
	struct client_pipe p = {
		.cl = cl, .prep = client_put_prep, .done = client_put_done, .retry_maybe = 1
	};
	struct manifest m, old;
	uint8_t mbuf[MANIFEST_MAX_LEN], mid[16];
	struct stat st;
	int have_old, len, err, maybe = 0;

	memset(&m, 0, sizeof(m));
	if (!*name)
		return client_fail(cl, -EINVAL, "object name is empty");
	if (strlen(name) > MANIFEST_NAME_MAX)
		return client_fail(cl, -ENAMETOOLONG, "name is %zu bytes; the limit is %d",
				   strlen(name), MANIFEST_NAME_MAX);
	p.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (p.fd < 0)
		return client_fail(cl, -errno, "cannot open %s: %s", path, strerror(errno));
	if (fstat(p.fd, &st) || !S_ISREG(st.st_mode)) {
		err = client_fail(cl, -EINVAL, "%s is not a regular file", path);
		goto out;
	}
	snprintf(m.name, sizeof(m.name), "%s", name);
	m.size = (uint64_t)st.st_size;
	m.chunk_size = cl->cfg.chunk_size;
	m.nchunks = (uint32_t)DIV_ROUND_UP(m.size, m.chunk_size);
	m.generation = env_rand(cl->deps.env);
	err = client_manifest_get(cl, name, &old);
	if (err && err != -ENOENT && err != -EBADMSG)
		goto out; /* the node is unreachable or failing: say so now */
	have_old = err == 0;
	cl->err[0] = 0;
	p.m = &m;
	err = client_pipeline(&p, m.nchunks);
	if (err) {
		client_delete_generation(cl, &m); /* nothing half-written stays */
		goto out;
	}
	len = manifest_encode(&m, mbuf, sizeof(mbuf));
	if (len < 0) {
		err = client_fail(cl, len, "cannot encode the manifest of '%s'", name);
		goto out;
	}
	manifest_id(name, mid);
	err = client_obj_put_manifest(cl, mid, mbuf, (uint32_t)len, &maybe); /* the commit point */
	if (err) {
		/* A manifest write that may have taken effect points at these
		 * chunks: they must stay. */
		if (!maybe)
			client_delete_generation(cl, &m);
		goto out;
	}
	if (have_old && old.generation != m.generation)
		client_delete_generation(cl, &old);
out:
	close(p.fd);
	return err;
}

int client_obj_get_file(struct client *cl, const char *name, const char *path)
{
	struct client_pipe p = { .cl = cl, .prep = client_get_prep, .done = client_get_done };
	struct manifest m;
	char tmp[4096], dir[4096];
	int err;

	err = client_manifest_get(cl, name, &m);
	if (err)
		return err;
	/* Write beside the target and rename: a reader never sees half a file. */
	snprintf(dir, sizeof(dir), "%s", path);
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.ferry-XXXXXX", dirname(dir),
		     strrchr(path, '/') ? strrchr(path, '/') + 1 : path) >= (int)sizeof(tmp))
		return client_fail(cl, -ENAMETOOLONG, "output path is too long");
	p.fd = mkstemp(tmp);
	if (p.fd < 0)
		return client_fail(cl, -errno, "cannot create %s: %s", path, strerror(errno));
	if (ftruncate(p.fd, (off_t)m.size)) {
		err = client_fail(cl, -errno, "cannot size %s: %s", path, strerror(errno));
		goto fail;
	}
	p.m = &m;
	err = client_pipeline(&p, m.nchunks);
	if (err)
		goto fail;
	if (fsync(p.fd) || fchmod(p.fd, 0644)) {
		err = client_fail(cl, -errno, "cannot write %s: %s", path, strerror(errno));
		goto fail;
	}
	close(p.fd);
	if (rename(tmp, path)) {
		err = client_fail(cl, -errno, "cannot rename to %s: %s", path, strerror(errno));
		unlink(tmp);
		return err;
	}
	return 0;
fail:
	close(p.fd);
	unlink(tmp);
	return err;
}

int client_obj_rm(struct client *cl, const char *name)
{
	struct manifest m;
	uint8_t mid[16];
	int err = client_manifest_get(cl, name, &m);

	if (err)
		return err;
	manifest_id(name, mid);
	err = client_chunk_delete(cl, mid); /* the object is gone from here on */
	if (err)
		return err;
	client_delete_generation(cl, &m);
	return 0;
}

int client_obj_stat(struct client *cl, const char *name, struct manifest *m)
{
	return client_manifest_get(cl, name, m);
}

static int client_id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* ls over a cluster: manifest ids from every up node, merged. */
static int client_obj_list_cluster(struct client *cl,
				   int (*fn)(void *arg, const struct manifest *m), void *arg)
{
	struct ferry_list_entry ents[256];
	uint8_t (*ids)[16] = NULL;
	size_t nids = 0, cap = 0;
	int err;

	if (!client_map(cl))
		return -EHOSTUNREACH;
	for (uint32_t i = 0; i < cl->map->n; i++) {
		uint8_t cursor[16] = { 0 };
		uint32_t n = 0;

		if (cl->map->nodes[i].state != MAP_UP)
			continue;
		do {
			err = client_list_at(cl, &cl->map->nodes[i].addr, cursor, ents,
					     ARRAY_SIZE(ents), &n);
			if (err)
				goto out;
			for (uint32_t k = 0; k < n; k++) {
				if (ents[k].chunk[0] != CHUNK_KIND_MANIFEST)
					continue;
				if (nids == cap) {
					void *p = realloc(ids, (cap = cap ? cap * 2 : 256) * 16);
					if (!p) {
						err = -ENOMEM;
						goto out;
					}
					ids = p;
				}
				memcpy(ids[nids++], ents[k].chunk, 16);
			}
		} while (n);
	}
	if (nids)
		qsort(ids, nids, 16, client_id_cmp);
	for (size_t k = 0; k < nids; k++) {
		uint8_t buf[MANIFEST_MAX_LEN];
		struct manifest m;
		uint32_t got;

		if (k && memcmp(ids[k], ids[k - 1], 16) == 0)
			continue; /* the same object on another replica */
		err = client_chunk_get(cl, ids[k], 0, buf, sizeof(buf), &got);
		if (err == -ENOENT)
			continue; /* removed since the listing */
		if (err)
			goto out;
		if (manifest_parse(buf, got, &m))
			continue;
		if (fn(arg, &m))
			break;
	}
	err = 0;
out:
	free(ids);
	return err;
}

int client_obj_list(struct client *cl, int (*fn)(void *arg, const struct manifest *m), void *arg)
{
	struct ferry_list_entry ents[256];
	uint8_t cursor[16] = { 0 };
	uint32_t n;
	int err;

	if (cl->clustered)
		return client_obj_list_cluster(cl, fn, arg);

	do {
		err = client_chunk_list(cl, cursor, ents, ARRAY_SIZE(ents), &n);
		if (err)
			return err;
		for (uint32_t i = 0; i < n; i++) {
			uint8_t buf[MANIFEST_MAX_LEN];
			struct manifest m;
			uint32_t got;

			if (ents[i].chunk[0] != CHUNK_KIND_MANIFEST)
				continue;
			err = client_chunk_get(cl, ents[i].chunk, 0, buf, sizeof(buf), &got);
			if (err == -ENOENT)
				continue; /* removed since the listing */
			if (err)
				return err;
			if (manifest_parse(buf, got, &m))
				continue; /* not a manifest after all: someone's raw chunk */
			if (fn(arg, &m))
				return 0;
		}
	} while (n);
	return 0;
}
