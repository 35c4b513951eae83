/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client_op.c - chunk operations: routing by the map, retries, outcomes
 * (see client.h). Everything here runs from client_poll; the synchronous
 * calls are client_submit + client_wait.
 */
#include "client/client_int.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "cluster/place.h"
#include "common/util.h"

enum { COP_IDLE = 0, COP_SENT, COP_WAIT, COP_DONE };

#define COP_BACKOFF_NS (20ull * 1000000ull)   /* per attempt ... */
#define COP_BACKOFF_MAX_NS (300ull * 1000000ull) /* ... up to this */

static int cop_is_read(const struct client_op *op)
{
	return op->op == FERRY_OP_GET || op->op == FERRY_OP_STAT;
}

static void cop_end(struct client *cl, struct client_op *op, int err)
{
	if (op->prev)
		op->prev->next = op->next;
	else
		cl->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	op->next = op->prev = NULL;
	cl->inflight--;
	cl->ended++;
	op->err = err;
	op->state = COP_DONE;
	if (op->done)
		op->done(op);
}

/* Try again later (after a fresh map where refresh is set); or, past the
 * op's deadline, end it with err. */
static void cop_retry(struct client *cl, struct client_op *op, int err, int refresh)
{
	uint64_t backoff = MIN(COP_BACKOFF_NS * (op->attempt + 1), COP_BACKOFF_MAX_NS);

	if (!cl->clustered || cl->now + backoff > op->deadline_ns) {
		cop_end(cl, op, err);
		return;
	}
	if (refresh)
		client_want_map(cl);
	op->attempt++;
	op->err = err;
	op->state = COP_WAIT;
	op->retry_ns = cl->now + backoff;
}

static void cop_call_done(struct rpc_call *c);

/* Point the op's call at the node that must take it; -EAGAIN when the map
 * has none now (no map yet, no reader, too few live copies). */
static int cop_route(struct client *cl, struct client_op *op)
{
	struct rpc_call *c = &op->call;
	int target;

	if (!cl->clustered) {
		c->peer = cl->node;
		c->epoch = 0;
		return 0;
	}
	if (cl->map->epoch == 0 || (cl->map_cached && cl->map_busy))
		return -EAGAIN;
	if (cop_is_read(op)) {
		target = place_read_target(cl->map, op->id);
	} else {
		uint16_t chain[MAP_MAX_CHAIN];
		int nr, n = place_write_chain(cl->map, op->id, chain, &nr);

		target = n > 0 && (uint32_t)n >= cl->map->min_copies ? chain[0] : -1;
	}
	if (target < 0)
		return -EAGAIN;
	c->peer = cl->map->nodes[target].addr;
	c->epoch = cl->map->epoch;
	return 0;
}

static void cop_send(struct client *cl, struct client_op *op)
{
	struct rpc_call *c = &op->call;
	int err;

	memset(c, 0, sizeof(*c));
	c->op = op->op;
	memcpy(c->chunk, op->id, 16);
	err = cop_route(cl, op);
	if (err) {
		cop_retry(cl, op, op->err ? op->err : -EHOSTUNREACH, 1);
		return;
	}
	switch (op->op) {
	case FERRY_OP_GET:
		c->offset = op->off;
		c->length = op->resp_cap;
		c->resp = op->resp;
		c->resp_cap = op->resp_cap;
		break;
	case FERRY_OP_STAT:
		c->resp = op->resp;
		c->resp_cap = sizeof(struct ferry_chunk_stat);
		break;
	case FERRY_OP_WRITE:
		c->offset = op->off;
		/* fallthrough */
	case FERRY_OP_PUT:
		if (op->op == FERRY_OP_PUT)
			c->offset = op->hint; /* an in-doubt version to finish */
		c->req = op->req;
		c->req_len = op->req_len;
		c->length = op->req_len;
		c->resp = op->vbuf;
		c->resp_cap = sizeof(op->vbuf);
		break;
	default: /* DELETE */
		c->offset = op->hint;
		c->resp = op->vbuf;
		c->resp_cap = sizeof(op->vbuf);
		break;
	}
	c->done = cop_call_done;
	c->arg = cl;
	op->state = COP_SENT;
	err = rpc_client_start(cl->rpc, c);
	if (err)
		cop_end(cl, op, err);
}

static struct client_op *cop_of(struct rpc_call *c)
{
	return (struct client_op *)((char *)c - offsetof(struct client_op, call));
}

static void cop_call_done(struct rpc_call *c)
{
	struct client *cl = c->arg;
	struct client_op *op = cop_of(c);
	int st = c->status;
	uint64_t v = 0;

	if (c->resp_len == 8 && !cop_is_read(op))
		memcpy(&v, op->vbuf, 8);
	/* A refusal says the node did nothing with this copy of the request.
	 * A write sent again after a timeout may have been taken by the copy
	 * before - by an earlier run of the node, whose answers it no longer
	 * remembers: then nothing is known. */
	if (!cop_is_read(op) && c->resent && !c->err && st != 0)
		op->maybe = 1;
	/* Once a write may have been applied, only a retry that names its
	 * version is safe; a WRITE (a merge) has none. */
	if (!cop_is_read(op) && op->maybe && !c->err && st != 0 && st != FERRY_ST_INDOUBT &&
	    (op->op == FERRY_OP_WRITE || !op->hint)) {
		client_call_result(cl, c);
		cop_end(cl, op, FERRY_ST_INDOUBT);
		return;
	}
	if (c->err) {
		/* No answer. A read can go again; a write may have been
		 * applied: only one whose version we know may be finished. */
		client_call_result(cl, c);
		if (c->err == -ECANCELED) {
			if (!cop_is_read(op))
				op->maybe = 1;
			cop_end(cl, op, c->err);
		} else if (cop_is_read(op) || op->hint) {
			if (!cop_is_read(op))
				op->maybe = 1;
			cop_retry(cl, op, c->err, 1);
		} else {
			op->maybe = 1;
			cop_end(cl, op, c->err);
		}
		return;
	}
	switch (st) {
	case 0:
		if (op->op == FERRY_OP_GET)
			op->got = c->resp_len;
		else if (op->op == FERRY_OP_STAT && c->resp_len != sizeof(struct ferry_chunk_stat))
			st = client_fail(cl, -EBADMSG, "node %s sent a malformed STAT answer",
					 cl->node_str);
		op->version = v;
		cop_end(cl, op, st);
		return;
	case FERRY_ST_INDOUBT:
		client_call_result(cl, c);
		op->maybe = 1;
		if (op->op == FERRY_OP_WRITE || !v) {
			cop_end(cl, op, st); /* a merge cannot be finished safely */
			return;
		}
		op->hint = v;
		op->version = v;
		cop_retry(cl, op, st, 1);
		return;
	case FERRY_ST_STALE:
	case FERRY_ST_NOTHEAD:
	case FERRY_ST_NOTREADY:
	case FERRY_ST_VERSION:
		client_call_result(cl, c);
		/* keep an in-doubt outcome over a later refusal */
		cop_retry(cl, op, op->maybe ? FERRY_ST_INDOUBT : st, 1);
		return;
	case FERRY_ST_NOLEASE:
	case FERRY_ST_BUSY:
		client_call_result(cl, c);
		cop_retry(cl, op, op->maybe ? FERRY_ST_INDOUBT : st, 0);
		return;
	default:
		client_call_result(cl, c);
		/* A definite answer; after an in-doubt attempt the earlier
		 * attempt may still have had its effect. */
		cop_end(cl, op, op->maybe && st != -ENOENT ? FERRY_ST_INDOUBT : st);
		return;
	}
}

int client_submit(struct client *cl, struct client_op *op)
{
	if (op->state == COP_SENT || op->state == COP_WAIT)
		return -EBUSY; /* still running */
	if (op->op != FERRY_OP_PUT && op->op != FERRY_OP_GET && op->op != FERRY_OP_DELETE &&
	    op->op != FERRY_OP_WRITE && op->op != FERRY_OP_STAT)
		return -EINVAL;
	cl->now = env_now(cl->deps.env);
	op->err = 0;
	op->maybe = 0;
	op->got = 0;
	op->version = 0;
	op->attempt = 0;
	op->hint = 0;
	op->deadline_ns = cl->now + (uint64_t)cl->cfg.timeout_ms * 3000000ull;
	op->prev = NULL;
	op->next = cl->ops;
	if (cl->ops)
		cl->ops->prev = op;
	cl->ops = op;
	cl->inflight++;
	if (cl->clustered && (cl->map->epoch == 0 || cl->map_cached))
		client_want_map(cl);
	cop_send(cl, op);
	return 0;
}

int client_poll(struct client *cl, uint64_t now)
{
	struct client_op *op, *next;

	cl->now = now;
	cl->ended = 0;
	client_rpc_poll(cl, now);
	for (op = cl->ops; op; op = next) {
		next = op->next;
		if (op->state != COP_WAIT || now < op->retry_ns)
			continue;
		if (now >= op->deadline_ns) {
			cop_end(cl, op, op->err);
			continue;
		}
		cop_send(cl, op);
	}
	cl->deps.t->ops->tx_flush(cl->deps.t);
	cl->deps.ctl_t->ops->tx_flush(cl->deps.ctl_t);
	return (int)cl->ended;
}

uint64_t client_next_deadline(struct client *cl)
{
	uint64_t due = MIN(rpc_client_next_deadline(cl->rpc), rpc_client_next_deadline(cl->ctl_rpc));

	for (const struct client_op *op = cl->ops; op; op = op->next)
		if (op->state == COP_WAIT)
			due = MIN(due, MIN(op->retry_ns, op->deadline_ns));
	return due;
}

uint32_t client_inflight(const struct client *cl)
{
	return cl->inflight;
}

int client_wait(struct client *cl, struct client_op *op)
{
	while (op->state != COP_DONE) {
		uint64_t now = env_now(cl->deps.env), due;
		struct pollfd pfd[2] = {
			{ .fd = cl->deps.t->ops->poll_fd(cl->deps.t), .events = POLLIN },
			{ .fd = cl->deps.ctl_t->ops->poll_fd(cl->deps.ctl_t), .events = POLLIN },
		};

		client_poll(cl, now);
		if (op->state == COP_DONE)
			break;
		due = client_next_deadline(cl);
		now = env_now(cl->deps.env);
		if (due > now)
			poll(pfd, 2, (int)MIN((due - now + 999999) / 1000000, 100ull));
	}
	return op->err;
}

/* ------------------------------------------------------------ sync calls */

/* A finished op's outcome as 0/-errno, with a message that says when a
 * write may have taken effect all the same. */
int client_op_result(struct client *cl, const struct client_op *op)
{
	const char *why = NULL;

	if (!op->err)
		return 0;
	switch (op->err) {
	case -EHOSTUNREACH:
		if (cl->clustered && cl->map->epoch == 0)
			return client_fail(cl, op->err, "ctl %s: did not answer", cl->ctl_str);
		/* fallthrough */
	case FERRY_ST_NOTREADY:
		why = "no node can take it now (too few copies up, or recovery still running)";
		break;
	case FERRY_ST_NOLEASE:
		why = "no node holds a lease from ctl to serve it (is ctl reachable? an epoch "
		      "change may be in progress)";
		break;
	case FERRY_ST_STALE:
	case FERRY_ST_NOTHEAD:
		why = "the cluster map kept changing under the request";
		break;
	case FERRY_ST_CLUSTERED:
		why = "the node is part of a cluster: write through its ctl (--ctl), not --node";
		break;
	case FERRY_ST_INDOUBT:
		why = "the node stored the write but could not get it to every replica";
		break;
	default:
		break;
	}
	if (why)
		client_fail(cl, op->err, "node %s: %s", cl->node_str, why);
	if (op->maybe) {
		size_t l = strlen(cl->err);

		snprintf(cl->err + l, sizeof(cl->err) - l,
			 "; the write may or may not have taken effect");
	}
	return op->err;
}

static int client_chunk_op(struct client *cl, struct client_op *op)
{
	int err = client_submit(cl, op);

	if (err)
		return client_fail(cl, err, "cannot start the request: %s", strerror(-err));
	client_wait(cl, op);
	return client_op_result(cl, op);
}

int client_chunk_put(struct client *cl, const uint8_t id[16], const void *buf, uint32_t len)
{
	struct client_op op = { .op = FERRY_OP_PUT, .req = buf, .req_len = len };

	memcpy(op.id, id, 16);
	return client_chunk_op(cl, &op);
}

int client_chunk_get(struct client *cl, const uint8_t id[16], uint64_t off, void *buf,
		     uint32_t len, uint32_t *got)
{
	struct client_op op = { .op = FERRY_OP_GET, .off = off, .resp = buf, .resp_cap = len };
	int err;

	memcpy(op.id, id, 16);
	err = client_chunk_op(cl, &op);
	*got = err ? 0 : op.got;
	return err;
}

int client_chunk_delete(struct client *cl, const uint8_t id[16])
{
	struct client_op op = { .op = FERRY_OP_DELETE };

	memcpy(op.id, id, 16);
	return client_chunk_op(cl, &op);
}

int client_chunk_stat(struct client *cl, const uint8_t id[16], struct ferry_chunk_stat *st)
{
	struct client_op op = { .op = FERRY_OP_STAT, .resp = st };

	memcpy(op.id, id, 16);
	return client_chunk_op(cl, &op);
}
