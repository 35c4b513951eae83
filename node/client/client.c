/* SPDX-License-Identifier: Apache-2.0 */
#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/map.h"
#include "cluster/place.h"
#include "common/util.h"

struct client {
	struct client_cfg cfg;
	struct transport *t;
	struct rpc_client *rpc;
	struct net_addr node;
	char node_str[64];
	char err[512];
	/* cluster mode (ctl given, no node) */
	int clustered;
	struct net_addr ctl;
	char ctl_str[64];
	struct cmap *map;        /* last map (epoch 0: none yet) */
	struct transport *ctl_t; /* own socket + client for ctl (short timeout) */
	struct rpc_client *ctl_rpc;
	char cache_dir[256];     /* where the last map of this ctl is kept */
	struct cmap *tmp;        /* parse target */
	uint8_t *map_buf;        /* GETMAP answer */
};

static int client_fail(struct client *cl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int client_fail(struct client *cl, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cl->err, sizeof(cl->err), fmt, ap);
	va_end(ap);
	return err;
}

const char *client_errmsg(const struct client *cl)
{
	return cl->err[0] ? cl->err : "unknown error";
}

int client_open(const struct client_cfg *cfg, struct client **out)
{
	struct client *cl = calloc(1, sizeof(*cl));
	struct net_addr any;
	struct rpc_cfg rcfg;
	int err;

	if (!cl)
		return -ENOMEM;
	cl->cfg = *cfg;
	if (!cl->cfg.concurrency)
		cl->cfg.concurrency = 8;
	if (!cl->cfg.chunk_size)
		cl->cfg.chunk_size = 4u << 20;
	if (!cl->cfg.timeout_ms)
		cl->cfg.timeout_ms = 10000;
	if (cfg->node) {
		if (net_addr_parse(cfg->node, FERRY_PORT_DEFAULT, &cl->node)) {
			free(cl);
			return -EINVAL;
		}
	} else {
		cl->clustered = 1;
		cl->map = calloc(1, sizeof(*cl->map));
		cl->tmp = calloc(1, sizeof(*cl->tmp));
		cl->map_buf = malloc(MAP_MAX_LEN);
		if (!cfg->ctl || !cl->map || !cl->tmp || !cl->map_buf ||
		    net_addr_parse(cfg->ctl, 7481, &cl->ctl)) {
			err = !cl->map || !cl->tmp || !cl->map_buf ? -ENOMEM : -EINVAL;
			goto fail;
		}
		net_addr_format(&cl->ctl, cl->ctl_str, sizeof(cl->ctl_str));
		cl->node = cl->ctl; /* until a chunk says otherwise */
		snprintf(cl->cache_dir, sizeof(cl->cache_dir), "%s/ferry-map-%s",
			 getenv("FERRY_MAP_CACHE") ? getenv("FERRY_MAP_CACHE") : "/tmp", cl->ctl_str);
		for (char *q = cl->cache_dir + strlen(cl->cache_dir) - strlen(cl->ctl_str); *q; q++)
			if (*q == ':' || *q == '[' || *q == ']')
				*q = '_';
	}
	net_addr_format(&cl->node, cl->node_str, sizeof(cl->node_str));
	memset(&any, 0, sizeof(any));
	any.family = cl->node.family;
	err = udp_transport_open(&any, &cl->t);
	if (err)
		goto fail;
	rpc_cfg_default(&rcfg);
	rcfg.cluster = cfg->cluster;
	rcfg.timeout_ms = cl->cfg.timeout_ms;
	rcfg.max_msg = MAX(MAX(cl->cfg.chunk_size, 64u << 10), (uint32_t)MAP_MAX_LEN) + 4096;
	if (cfg->mtu)
		rcfg.mtu = cfg->mtu;
	err = rpc_client_open(&rcfg, cl->t, &cl->rpc);
	if (err)
		goto fail_t;
	if (cl->clustered) {
		/* ctl (and nodes asked for their map) get a short timeout: when
		 * ctl is away the last map must keep working without delay. */
		struct rpc_cfg ccfg = rcfg;

		ccfg.timeout_ms = MIN(cl->cfg.timeout_ms, 1000u);
		err = udp_transport_open(&any, &cl->ctl_t);
		if (!err && (err = rpc_client_open(&ccfg, cl->ctl_t, &cl->ctl_rpc)))
			cl->ctl_t->ops->close(cl->ctl_t);
		if (err) {
			rpc_client_close(cl->rpc);
			goto fail_t;
		}
	}
	*out = cl;
	return 0;
fail_t:
	cl->t->ops->close(cl->t);
fail:
	free(cl->map);
	free(cl->tmp);
	free(cl->map_buf);
	free(cl);
	return err;
}

void client_close(struct client *cl)
{
	if (!cl)
		return;
	rpc_client_close(cl->rpc);
	cl->t->ops->close(cl->t);
	if (cl->ctl_rpc) {
		rpc_client_close(cl->ctl_rpc);
		cl->ctl_t->ops->close(cl->ctl_t);
	}
	free(cl->map);
	free(cl->tmp);
	free(cl->map_buf);
	free(cl);
}

static void client_call_init(struct client *cl, struct rpc_call *c, uint8_t op, const uint8_t id[16])
{
	memset(c, 0, sizeof(*c));
	c->peer = cl->node;
	c->op = op;
	if (id)
		memcpy(c->chunk, id, 16);
}

/* The outcome of a finished call as 0/-errno, with a message on failure. */
static int client_call_result(struct client *cl, const struct rpc_call *c)
{
	net_addr_format(&c->peer, cl->node_str, sizeof(cl->node_str));
	if (c->err == -ETIMEDOUT)
		return client_fail(cl, c->err, "node %s did not answer (timed out after %u ms)",
				   cl->node_str, cl->cfg.timeout_ms);
	if (c->err)
		return client_fail(cl, c->err, "request to node %s failed: %s", cl->node_str,
				   strerror(-c->err));
	if (c->status)
		return client_fail(cl, c->status, "node %s: %s", cl->node_str,
				   strerror(-c->status));
	return 0;
}

/* ------------------------------------------------------------- cluster */

/* GETMAP from ctl or a node into cl->tmp; 0 or -errno. */
static int client_getmap(struct client *cl, const struct net_addr *from)
{
	struct rpc_call c;

	memset(&c, 0, sizeof(c));
	c.peer = *from;
	c.op = FERRY_OP_CTL_GETMAP;
	c.resp = cl->map_buf;
	c.resp_cap = MAP_MAX_LEN;
	rpc_client_call(cl->ctl_rpc, &c);
	if (c.err || c.status)
		return c.err ? c.err : c.status;
	return map_parse(cl->map_buf, c.resp_len, cl->tmp);
}

/*
 * A fresh map: from ctl; when ctl is away, from the nodes of the map we have
 * (each node serves the map it runs under), or the last one this host saw
 * of this ctl (cache_dir). The last map keeps working while ctl is away:
 * nodes check epochs, so nothing is written under a stale map.
 */
static int client_map_refresh(struct client *cl)
{
	int err = client_getmap(cl, &cl->ctl), have;

	if (err == 0) {
		*cl->map = *cl->tmp;
		/* Keep it for clients that start while ctl is away (best effort;
		 * written only when it changed). */
		if (map_load(cl->tmp, cl->cache_dir) || cl->tmp->epoch != cl->map->epoch ||
		    memcmp(cl->tmp->cluster, cl->map->cluster, 16)) {
			mkdir(cl->cache_dir, 0700);
			map_save(cl->map, cl->cache_dir);
		}
		return 0;
	}
	if (cl->map->epoch == 0 && map_load(cl->tmp, cl->cache_dir) == 0)
		*cl->map = *cl->tmp;
	have = cl->map->epoch != 0;
	for (uint32_t i = 0; have && i < cl->map->n; i++) {
		if (cl->map->nodes[i].state != MAP_UP ||
		    client_getmap(cl, &cl->map->nodes[i].addr) ||
		    memcmp(cl->tmp->cluster, cl->map->cluster, 16))
			continue;
		if (cl->tmp->epoch >= cl->map->epoch)
			*cl->map = *cl->tmp;
		break;
	}
	if (have)
		return 0;
	return client_fail(cl, err, "ctl %s: %s", cl->ctl_str,
			   err == -ETIMEDOUT ? "did not answer" : strerror(-err));
}

const struct cmap *client_map(struct client *cl)
{
	if (!cl->clustered) {
		client_fail(cl, -EINVAL, "no ctl given (use --ctl ADDR:PORT or FERRY_CTL)");
		errno = EINVAL;
		return NULL;
	}
	if (client_map_refresh(cl)) {
		errno = EHOSTUNREACH;
		return NULL;
	}
	return cl->map;
}

/* Point call c (op and chunk set) at the member of its chain that attempt
 * names: writes at the head; reads at the tail, then backwards. Returns the
 * chain length, or -errno. */
static int client_route(struct client *cl, struct rpc_call *c, uint32_t attempt)
{
	uint16_t chain[MAP_MAX_R];
	int n, err;

	if (cl->map->epoch == 0 && (err = client_map_refresh(cl)))
		return err;
	n = place_chain(cl->map, c->chunk, chain);
	if (n <= 0)
		return client_fail(cl, -EHOSTUNREACH, "no node is up in the cluster map (epoch %llu)",
				   (unsigned long long)cl->map->epoch);
	if (c->op == FERRY_OP_GET || c->op == FERRY_OP_STAT)
		c->peer = cl->map->nodes[chain[n - 1 - (int)(attempt % (uint32_t)n)]].addr;
	else
		c->peer = cl->map->nodes[chain[0]].addr;
	c->epoch = cl->map->epoch;
	return n;
}

static int client_is_read(uint8_t op)
{
	return op == FERRY_OP_GET || op == FERRY_OP_STAT;
}

/* Worth another try (after a fresh map, or at another replica)? */
static int client_retryable(int err)
{
	return err == FERRY_ST_STALE || err == FERRY_ST_NOTHEAD || err == -EAGAIN ||
	       err == -EBUSY || err == -ETIMEDOUT || err == -ECANCELED || err == -ECONNREFUSED ||
	       err == -EHOSTUNREACH;
}

/* Retry state of one chunk call. */
struct client_try {
	uint32_t attempt;   /* which chain member next (reads), how many tries (writes) */
	uint32_t noent;     /* members that said NOENT in this round (reads) */
	uint64_t deadline;  /* give up after */
};

static void client_try_init(struct client *cl, struct client_try *t)
{
	t->attempt = t->noent = 0;
	t->deadline = util_now_ns() + (uint64_t)cl->cfg.timeout_ms * 3000000ull;
}

/* After call c failed with err: 1 = route again and retry, 0 = final. */
static int client_try_again(struct client *cl, struct rpc_call *c, struct client_try *t, int err,
			    int chain_len)
{
	if (!cl->clustered || util_now_ns() > t->deadline)
		return 0;
	if (client_is_read(c->op) && err != FERRY_ST_STALE) {
		/* Another replica may have it (recovery still copying to the
		 * tail, a rejoining node): try every member before NOENT. */
		t->noent += err == -ENOENT;
		if (++t->attempt % (uint32_t)MAX(chain_len, 1)) 
			return 1;
		if (t->noent >= (uint32_t)chain_len)
			return 0;
		t->noent = 0;
	} else if (!client_retryable(err)) {
		return 0;
	} else {
		t->attempt++;
	}
	/* A new map may say otherwise; ctl being away is fine: keep the old one. */
	if (client_map_refresh(cl) == 0 && err == FERRY_ST_STALE)
		return 1;
	usleep(MIN(20000u * t->attempt, 300000u));
	return 1;
}

static int client_call(struct client *cl, struct rpc_call *c)
{
	struct client_try t;
	int err, n;

	if (!cl->clustered) {
		rpc_client_call(cl->rpc, c);
		return client_call_result(cl, c);
	}
	client_try_init(cl, &t);
	for (;;) {
		n = client_route(cl, c, t.attempt);
		if (n < 0)
			return n;
		rpc_client_call(cl->rpc, c);
		err = client_call_result(cl, c);
		if (!err || !client_try_again(cl, c, &t, err, n))
			return err;
	}
}

int client_chunk_put(struct client *cl, const uint8_t id[16], const void *buf, uint32_t len)
{
	struct rpc_call c;
	uint8_t ver[8];

	client_call_init(cl, &c, FERRY_OP_PUT, id);
	c.req = buf;
	c.req_len = len;
	c.length = len;
	c.resp = ver;
	c.resp_cap = sizeof(ver);
	return client_call(cl, &c);
}

int client_chunk_get(struct client *cl, const uint8_t id[16], uint64_t off, void *buf,
		     uint32_t len, uint32_t *got)
{
	struct rpc_call c;
	int err;

	client_call_init(cl, &c, FERRY_OP_GET, id);
	c.offset = off;
	c.length = len;
	c.resp = buf;
	c.resp_cap = len;
	err = client_call(cl, &c);
	*got = err ? 0 : c.resp_len;
	return err;
}

int client_chunk_delete(struct client *cl, const uint8_t id[16])
{
	struct rpc_call c;

	client_call_init(cl, &c, FERRY_OP_DELETE, id);
	return client_call(cl, &c);
}

int client_chunk_stat(struct client *cl, const uint8_t id[16], struct ferry_chunk_stat *st)
{
	struct rpc_call c;
	int err;

	client_call_init(cl, &c, FERRY_OP_STAT, id);
	c.resp = (uint8_t *)st;
	c.resp_cap = sizeof(*st);
	err = client_call(cl, &c);
	if (!err && c.resp_len != sizeof(*st))
		err = client_fail(cl, -EBADMSG, "node %s sent a malformed STAT answer", cl->node_str);
	return err;
}

/* A LIST answer in c: check it, count entries, move the cursor past them. */
static int client_list_result(struct client *cl, const struct rpc_call *c,
			      const struct ferry_list_entry *out, uint8_t cursor[16], uint32_t *n)
{
	if (c->resp_len % sizeof(*out))
		return client_fail(cl, -EBADMSG, "node %s sent a malformed LIST answer",
				   cl->node_str);
	*n = c->resp_len / (uint32_t)sizeof(*out);
	if (*n)
		memcpy(cursor, out[*n - 1].chunk, 16);
	return 0;
}

int client_chunk_list(struct client *cl, uint8_t cursor[16], struct ferry_list_entry *out,
		      uint32_t max, uint32_t *n)
{
	struct rpc_call c;
	int err;

	client_call_init(cl, &c, FERRY_OP_LIST, cursor);
	c.length = max;
	c.resp = (uint8_t *)out;
	c.resp_cap = max * (uint32_t)sizeof(*out);
	err = client_call(cl, &c);
	return err ? err : client_list_result(cl, &c, out, cursor, n);
}

static int client_list_at(struct client *cl, const struct net_addr *at, uint8_t cursor[16],
			  struct ferry_list_entry *out, uint32_t max, uint32_t *n)
{
	struct rpc_call c;
	int err;

	client_call_init(cl, &c, FERRY_OP_LIST, cursor);
	c.peer = *at;
	c.length = max;
	c.resp = (uint8_t *)out;
	c.resp_cap = max * (uint32_t)sizeof(*out);
	rpc_client_call(cl->rpc, &c);
	err = client_call_result(cl, &c);
	return err ? err : client_list_result(cl, &c, out, cursor, n);
}

int client_node_stats_at(struct client *cl, const struct net_addr *addr, char *buf, uint32_t cap)
{
	struct rpc_call c;
	int err;

	if (cap == 0)
		return -EINVAL;
	client_call_init(cl, &c, FERRY_OP_STATS, NULL);
	c.peer = *addr;
	c.resp = (uint8_t *)buf;
	c.resp_cap = cap - 1;
	rpc_client_call(cl->rpc, &c);
	err = client_call_result(cl, &c);
	buf[err ? 0 : c.resp_len] = 0;
	return err;
}

int client_ctl_stats(struct client *cl, char *buf, uint32_t cap)
{
	if (!cl->clustered)
		return client_fail(cl, -EINVAL, "no ctl given");
	return client_node_stats_at(cl, &cl->ctl, buf, cap);
}

int client_node_stats(struct client *cl, char *buf, uint32_t cap)
{
	struct rpc_call c;
	int err;

	if (cap == 0)
		return -EINVAL;
	client_call_init(cl, &c, FERRY_OP_STATS, NULL);
	c.resp = (uint8_t *)buf;
	c.resp_cap = cap - 1;
	err = client_call(cl, &c);
	buf[err ? 0 : c.resp_len] = 0;
	return err;
}

/* ------------------------------------------------------------- pipelines */

/* A pipeline runs n chunk calls with up to concurrency in flight: prep()
 * fills call i into a slot (with a chunk_size buffer), done() consumes it.
 * The first failure stops new calls; calls in flight are finished. */
struct client_slot {
	struct rpc_call call;
	uint8_t *buf;
	uint8_t version[8]; /* a PUT's answer */
	uint32_t index;
	int busy;
	int chain_len;           /* cluster: members of this chunk's chain */
	struct client_try try;   /* cluster: retry state */
};

struct client_pipe {
	struct client *cl;
	int (*prep)(struct client_pipe *p, struct client_slot *s);
	int (*done)(struct client_pipe *p, struct client_slot *s);
	const struct manifest *m;
	int fd;
	int err;
};

static int client_pipeline(struct client_pipe *p, uint32_t n)
{
	struct client *cl = p->cl;
	uint32_t nslots = MIN(cl->cfg.concurrency, MAX(n, 1u));
	struct client_slot *slots = calloc(nslots, sizeof(*slots));
	uint32_t next = 0, active = 0;

	if (!slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < nslots; i++) {
		slots[i].buf = malloc(p->m->chunk_size);
		if (!slots[i].buf) {
			p->err = -ENOMEM;
			goto out;
		}
	}
	while ((next < n && !p->err) || active) {
		for (uint32_t i = 0; i < nslots && next < n && !p->err; i++) {
			struct client_slot *s = &slots[i];
			int err;

			if (s->busy)
				continue;
			s->index = next++;
			err = p->prep(p, s);
			if (!err && cl->clustered) {
				client_try_init(cl, &s->try);
				s->chain_len = client_route(cl, &s->call, 0);
				err = s->chain_len < 0 ? s->chain_len : 0;
			}
			if (!err)
				err = rpc_client_start(cl->rpc, &s->call);
			if (err) {
				if (!p->err)
					p->err = client_fail(cl, err, "chunk %u: %s", s->index,
							     strerror(-err));
				break;
			}
			s->busy = 1;
			active++;
		}
		if (!active)
			break;
		int r = rpc_client_poll(cl->rpc, 100);
		if (r < 0) {
			rpc_client_cancel_all(cl->rpc);
			if (!p->err)
				p->err = client_fail(cl, r, "network: %s", strerror(-r));
		}
		for (uint32_t i = 0; i < nslots; i++) {
			struct client_slot *s = &slots[i];
			int err;

			if (!s->busy || s->call.state != 0)
				continue;
			err = client_call_result(cl, &s->call);
			if (err && !p->err && cl->clustered &&
			    client_try_again(cl, &s->call, &s->try, err, s->chain_len)) {
				s->chain_len = client_route(cl, &s->call, s->try.attempt);
				if (s->chain_len > 0 && rpc_client_start(cl->rpc, &s->call) == 0)
					continue; /* still busy */
			}
			s->busy = 0;
			active--;
			if (!err)
				err = p->done(p, s);
			if (err && !p->err)
				p->err = err;
		}
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
	client_call_init(p->cl, &s->call, FERRY_OP_PUT, NULL);
	manifest_data_id(p->m->name, p->m->generation, s->index, s->call.chunk);
	s->call.req = s->buf;
	s->call.req_len = len;
	s->call.length = len;
	s->call.resp = s->version;
	s->call.resp_cap = sizeof(s->version);
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
	uint32_t len = client_chunk_len(p->m, s->index);

	client_call_init(p->cl, &s->call, FERRY_OP_GET, NULL);
	manifest_data_id(p->m->name, p->m->generation, s->index, s->call.chunk);
	s->call.length = len;
	s->call.resp = s->buf;
	s->call.resp_cap = len;
	return 0;
}

static int client_get_done(struct client_pipe *p, struct client_slot *s)
{
	uint32_t len = client_chunk_len(p->m, s->index);
	off_t off = (off_t)s->index * p->m->chunk_size;
	uint32_t done = 0;

	if (s->call.resp_len != len)
		return client_fail(p->cl, -EBADMSG, "chunk %u of '%s' is %u bytes, expected %u",
				   s->index, p->m->name, s->call.resp_len, len);
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

/* ---------------------------------------------------------------- objects */

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

int client_obj_put_file(struct client *cl, const char *path, const char *name)
{
	struct client_pipe p = { .cl = cl, .prep = client_put_prep, .done = client_put_done };
	struct manifest m, old;
	uint8_t mbuf[MANIFEST_MAX_LEN], mid[16];
	struct stat st;
	int have_old, len, err;

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
	err = util_random(&m.generation, sizeof(m.generation));
	if (err)
		goto out;
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
	err = client_chunk_put(cl, mid, mbuf, (uint32_t)len); /* the commit point */
	if (err) {
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

	if ((err = client_map_refresh(cl)))
		return err;
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
