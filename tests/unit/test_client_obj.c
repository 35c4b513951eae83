/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_client_obj - an object put whose data chunk writes come back in doubt
 * (the node stored them but could not replicate them, as happens across an
 * epoch change) is finished by sending them again: the put succeeds and
 * reads back whole. So is a manifest (the commit point) whose first write
 * is in doubt. A chunk that stays in doubt fails the put once the time one
 * op may take has passed, with a message that says the write may have
 * taken effect. The node is a small in-memory server over real UDP on
 * loopback, in a thread.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "client/manifest.h"
#include "common/util.h"
#include "lib/test.h"
#include "net/rpc.h"
#include "net/transport.h"

#define CHUNKS 64

struct tchunk {
	uint8_t id[16];
	uint8_t *data;
	uint32_t len;
	uint32_t puts;
};

struct tnode {
	struct tchunk c[CHUNKS];
	uint32_t n;
	uint8_t manifest[16];
	int doubt_always;   /* every data chunk PUT is answered in doubt */
	int doubt_manifest; /* the manifest's first PUT too */
	uint64_t version;
	int stop;
};

static struct tchunk *tnode_find(struct tnode *s, const uint8_t id[16], int add)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (!memcmp(s->c[i].id, id, 16))
			return &s->c[i];
	if (!add || s->n == CHUNKS)
		return NULL;
	memcpy(s->c[s->n].id, id, 16);
	return &s->c[s->n++];
}

static void tnode_reply_version(struct rpc_srv *srv, struct rpc_sreq *r, int32_t st, uint64_t v)
{
	uint8_t *out = rpc_sreq_reply_buf(srv, r, 8);

	if (!out) {
		rpc_sreq_reply(srv, r, -ENOMEM, 0);
		return;
	}
	memcpy(out, &v, 8);
	rpc_sreq_reply(srv, r, st, 8);
}

static void tnode_handle(void *arg, struct rpc_srv *srv, struct rpc_sreq *r)
{
	struct tnode *s = arg;
	const struct ferry_hdr *h = rpc_sreq_hdr(r);
	struct tchunk *c;
	uint32_t len;

	switch (h->op) {
	case FERRY_OP_PUT: {
		uint8_t *p = rpc_sreq_payload(srv, r, &len);
		int data = memcmp(h->chunk, s->manifest, 16) != 0;

		c = tnode_find(s, h->chunk, 1);
		if (!c || (!p && len)) {
			rpc_sreq_reply(srv, r, -ENOMEM, 0);
			return;
		}
		free(c->data);
		c->data = malloc(len ? len : 1);
		if (len)
			memcpy(c->data, p, len);
		c->len = len;
		c->puts++;
		/* Stored, but (as far as the client can tell) perhaps nowhere
		 * else: the first try of each data chunk, or every try; with a
		 * version the client may finish the write with, or none. */
		s->version++;
		if (data && (c->puts == 1 || __atomic_load_n(&s->doubt_always, __ATOMIC_ACQUIRE)))
			tnode_reply_version(srv, r, FERRY_ST_INDOUBT, c->puts % 2 ? s->version : 0);
		else if (!data && c->puts == 1 &&
			 __atomic_load_n(&s->doubt_manifest, __ATOMIC_ACQUIRE))
			tnode_reply_version(srv, r, FERRY_ST_INDOUBT, 0);
		else
			tnode_reply_version(srv, r, 0, s->version);
		return;
	}
	case FERRY_OP_GET: {
		uint32_t n;
		uint8_t *out;

		c = tnode_find(s, h->chunk, 0);
		if (!c || !c->data) {
			rpc_sreq_reply(srv, r, FERRY_ST_NOENT, 0);
			return;
		}
		n = h->offset < c->len ? (uint32_t)MIN((uint64_t)h->length, c->len - h->offset) : 0;
		out = n ? rpc_sreq_reply_buf(srv, r, n) : NULL;
		if (n && !out) {
			rpc_sreq_reply(srv, r, -ENOMEM, 0);
			return;
		}
		if (n)
			memcpy(out, c->data + h->offset, n);
		rpc_sreq_reply(srv, r, 0, n);
		return;
	}
	case FERRY_OP_DELETE:
		c = tnode_find(s, h->chunk, 0);
		if (c) {
			free(c->data);
			c->data = NULL;
			c->len = 0;
		}
		tnode_reply_version(srv, r, c ? 0 : FERRY_ST_NOENT, ++s->version);
		return;
	default:
		rpc_sreq_reply(srv, r, -EOPNOTSUPP, 0);
		return;
	}
}

struct tserver {
	struct tnode *node;
	struct transport *t;
	struct rpc_srv *srv;
};

static void *tnode_thread(void *arg)
{
	struct tserver *ts = arg;

	while (!__atomic_load_n(&ts->node->stop, __ATOMIC_ACQUIRE)) {
		struct pollfd pfd = { .fd = ts->t->ops->poll_fd(ts->t), .events = POLLIN };
		struct net_pkt p[64];
		uint64_t now;
		int n, nrel = 0;

		poll(&pfd, 1, 10);
		now = util_now_ns();
		n = ts->t->ops->rx_burst(ts->t, p, 64);
		for (int i = 0; i < n; i++)
			if (!rpc_srv_input(ts->srv, &p[i], now))
				p[nrel++] = p[i];
		if (nrel)
			ts->t->ops->rx_release(ts->t, p, nrel);
		rpc_srv_flush(ts->srv);
		rpc_srv_tick(ts->srv, now);
		ts->t->ops->tx_flush(ts->t);
	}
	return NULL;
}

static int write_file(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int ok = f && fwrite(buf, 1, len, f) == len;

	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -EIO;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 20);
	size_t n = 0;

	if (f && buf)
		n = fread(buf, 1, 1 << 20, f);
	if (f)
		fclose(f);
	*len = n;
	return buf;
}

int main(void)
{
	static struct tnode node;
	struct tserver ts = { .node = &node };
	struct rpc_cfg rcfg;
	struct net_addr a;
	/* one op may take 3 x timeout: the always-in-doubt put gives up then */
	struct client_cfg cfg = { .chunk_size = 64 * 1024, .timeout_ms = 300 };
	struct client *cl = NULL;
	char addr[32], in[] = "/tmp/ferry-test-client-obj.XXXXXX", out[64];
	uint8_t *data = malloc(300000), *back;
	size_t back_len = 0;
	pthread_t th;
	int fd, err = -1, port = 0;

	REQUIRE(data);
	for (size_t i = 0; i < 300000; i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	fd = mkstemp(in);
	REQUIRE(fd >= 0);
	close(fd);
	REQUIRE(write_file(in, data, 300000) == 0);
	snprintf(out, sizeof(out), "%s.out", in);

	/* a free port on loopback */
	for (int k = 0; k < 50 && err; k++) {
		port = 20000 + (int)(util_now_ns() / 1000 % 30000);
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
		REQUIRE(net_addr_parse(addr, 0, &a) == 0);
		err = udp_transport_open(&a, &ts.t);
	}
	REQUIRE(err == 0);
	rpc_cfg_default(&rcfg);
	REQUIRE(rpc_srv_open(&rcfg, ts.t, tnode_handle, &node, &ts.srv) == 0);
	manifest_id("obj", node.manifest);
	REQUIRE(pthread_create(&th, NULL, tnode_thread, &ts) == 0);

	cfg.node = addr;
	REQUIRE(client_open(&cfg, &cl) == 0);

	/* Each data chunk's first try is in doubt; the second goes through. */
	err = client_obj_put_file(cl, in, "obj");
	CHECK_EQ(err, 0);
	if (err)
		fprintf(stderr, "put: %s\n", client_errmsg(cl));
	CHECK_EQ(client_obj_get_file(cl, "obj", out), 0);
	back = read_file(out, &back_len);
	CHECK_EQ(back_len, (size_t)300000);
	CHECK(back && back_len == 300000 && !memcmp(back, data, 300000));
	free(back);

	/* obj's 5 data chunks: two PUTs each; its manifest: one. (The server
	 * is idle between puts: the client waited for every answer.) */
	uint32_t twice = 0, obj_chunks = __atomic_load_n(&node.n, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < obj_chunks; i++) {
		if (!memcmp(node.c[i].id, node.manifest, 16))
			CHECK_EQ(node.c[i].puts, 1u);
		else
			twice += node.c[i].puts == 2;
	}
	CHECK_EQ(obj_chunks, 6u);
	CHECK_EQ(twice, 5u);

	/* The manifest's first write in doubt: sent again; the put succeeds. */
	__atomic_store_n(&node.doubt_manifest, 1, __ATOMIC_RELEASE);
	manifest_id("obj3", node.manifest);
	err = client_obj_put_file(cl, in, "obj3");
	CHECK_EQ(err, 0);
	if (err)
		fprintf(stderr, "put obj3: %s\n", client_errmsg(cl));
	struct tchunk *mc = tnode_find(&node, node.manifest, 0);
	CHECK(mc && mc->puts == 2);
	CHECK_EQ(client_obj_get_file(cl, "obj3", out), 0);
	back = read_file(out, &back_len);
	CHECK(back && back_len == 300000 && !memcmp(back, data, 300000));
	free(back);
	uint32_t obj2_from = __atomic_load_n(&node.n, __ATOMIC_ACQUIRE);

	/* Always in doubt: the put gives up once one op's time (3 x 300 ms)
	 * has passed, and says the write may have taken effect. */
	__atomic_store_n(&node.doubt_always, 1, __ATOMIC_RELEASE);
	uint64_t t0 = util_now_ns();
	err = client_obj_put_file(cl, in, "obj2");
	uint64_t took_ms = (util_now_ns() - t0) / 1000000;
	CHECK_EQ(err, FERRY_ST_INDOUBT);
	CHECK(strstr(client_errmsg(cl), "may or may not have taken effect") != NULL);
	CHECK(took_ms >= 900 - 500); /* not before the budget less one backoff */
	fprintf(stderr, "always in doubt, after %llu ms: %s\n", (unsigned long long)took_ms,
		client_errmsg(cl));

	client_close(cl);
	__atomic_store_n(&node.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);

	/* obj2's chunks: each tried again and again within the budget (with
	 * backoff from 50 ms, at least 4 tries fit in 900 ms). */
	uint32_t most = 0;
	for (uint32_t i = obj2_from; i < node.n; i++)
		most = MAX(most, node.c[i].puts);
	CHECK(most >= 4);

	rpc_srv_close(ts.srv);
	ts.t->ops->close(ts.t);
	for (uint32_t i = 0; i < node.n; i++)
		free(node.c[i].data);
	unlink(in);
	unlink(out);
	free(data);
	return test_done();
}
