/* SPDX-License-Identifier: Apache-2.0 */
/*
 * simdisk.c - the simulator's disk (see simdisk.h for the model).
 *
 * State, and why it has this shape:
 *   - the durable image is an array of 4 KiB page pointers (NULL = zeros),
 *     so a 64 MiB disk costs a 128 KiB array until written, and freeing
 *     walks only the pages in use (pglist);
 *   - the volatile cache is a log of completed non-FUA writes in completion
 *     order, each with a copy of its bytes. A read is the durable image with
 *     the log laid over it in order; a flush moves the prefix it covers into
 *     the image; power loss resolves the whole log sector by sector. The log
 *     is short (the engine flushes every few writes), and a log keeps every
 *     intermediate version of a sector, which a real cache may destage: after
 *     power loss a sector written twice may hold either version or the old;
 *   - a FUA write goes straight to the image and marks the sectors it
 *     overwrites dead in older log entries: the device's cache holds its
 *     bytes for those sectors, so no older volatile copy can land later;
 *   - requests wait in one array from queue() to completion, in queue
 *     order, each with the power epoch it was queued in: power loss and
 *     power-on bump the epoch, and a request of an older epoch can only
 *     fail (so nothing a dead node issued lands after it restarts).
 */
#include "sim/simdisk.h"

#include "common/env.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SIMDISK_SPP (SIMDISK_PAGE / SIMDISK_SECTOR) /* sectors per page */
#define SIMDISK_QUEUE_MAX 1024u   /* default cfg.queue_max */
#define SIMDISK_BATCH 256u        /* most completions per reap call */

/* A completed, volatile write. */
struct simdisk_pw {
	uint64_t off;             /* byte offset where it landed */
	uint32_t len;             /* bytes, a multiple of 512 */
	uint64_t seq;             /* completion number (simdisk.wseq) */
	uint8_t *data;            /* copy of its bytes */
	uint64_t *dead;           /* sectors superseded by a later FUA write; NULL = none */
};

/* A request between queue() and its completion. */
struct simdisk_slot {
	struct store_io_req *r;   /* the engine's request */
	uint64_t due;             /* completion time (with a clock) */
	uint64_t cover;           /* flush: writes completed when it was queued */
	uint64_t epoch;           /* power epoch it was queued in */
	int submitted;            /* handed over by submit() */
};

struct simdisk_buf {
	const uint8_t *base;      /* registered memory; NULL = none */
	size_t len;               /* bytes */
};

struct simdisk {
	struct simdisk_cfg cfg;   /* as given (faults: see f) */
	struct simdisk_faults f;  /* fault rates in force */
	struct rng rng;           /* every random choice */
	uint32_t npages;          /* size / 4096 */
	uint8_t **pg;             /* durable pages; NULL = all zeros */
	uint8_t *wmask;           /* per page: sectors ever written (flip targets) */
	uint32_t *pglist;         /* indices of allocated pages, allocation order */
	uint32_t npglist, cappglist; /* used, allocated */
	struct simdisk_pw *pend;  /* the volatile log, completion order */
	size_t npend, cappend;    /* used, allocated */
	uint64_t wseq;            /* writes completed so far */
	struct simdisk_slot *q;   /* requests outstanding, queue order */
	size_t nq, capq;          /* used, allocated */
	size_t nunsub;            /* of q, not yet submitted */
	uint64_t last_due;        /* due time of the last submitted request (FIFO) */
	uint64_t epoch;           /* power epoch: bumped by power loss */
	int cut;                  /* power is off */
	int failed;               /* simdisk_fail was called */
	uint64_t *faulty;         /* sectors holding a flipped bit, unordered */
	size_t nfaulty, capfaulty; /* used, allocated */
	int md_done;              /* the one misdirected write happened */
	uint64_t md_target;       /* its intended offset (keeps old bytes) */
	uint64_t md_dest;         /* where it landed */
	uint64_t md_len;          /* its length */
	struct simdisk_buf bufs[STORE_IO_NBUFS]; /* registered buffers */
	uint8_t *scratch;         /* a vectored request's bytes */
	size_t scratch_cap;       /* bytes at scratch */
	struct simdisk_counters ctr; /* counters */
};

/* ------------------------------------------------------------------------ */
/* generator helpers */

/* simdisk_chance - 1 with probability pm / 1e6; draws nothing when pm = 0,
 * so a disk without faults spends no time on them. */
static int simdisk_chance(struct simdisk *d, uint32_t pm)
{
	return pm && rng_chance(&d->rng, pm);
}

static void simdisk_garbage(struct simdisk *d, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = rng_next(&d->rng);

		memcpy(p + i, &v, n - i < 8 ? n - i : 8);
	}
}

/* ------------------------------------------------------------------------ */
/* latent fault bookkeeping */

static int simdisk_is_faulty(const struct simdisk *d, uint64_t sec)
{
	for (size_t i = 0; i < d->nfaulty; i++)
		if (d->faulty[i] == sec)
			return 1;
	return 0;
}

static int simdisk_faulty_add(struct simdisk *d, uint64_t sec)
{
	if (simdisk_is_faulty(d, sec))
		return 0;
	if (d->nfaulty == d->capfaulty) {
		size_t nc = d->capfaulty ? d->capfaulty * 2 : 16;
		uint64_t *nv = realloc(d->faulty, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		d->faulty = nv;
		d->capfaulty = nc;
	}
	d->faulty[d->nfaulty++] = sec;
	return 0;
}

/* simdisk_heal - new durable bytes in [off, off + len): flips there are gone. */
static void simdisk_heal(struct simdisk *d, uint64_t off, uint64_t len)
{
	uint64_t s0 = off / SIMDISK_SECTOR, s1 = (off + len) / SIMDISK_SECTOR;

	for (size_t i = 0; i < d->nfaulty;) {
		if (d->faulty[i] >= s0 && d->faulty[i] < s1)
			d->faulty[i] = d->faulty[--d->nfaulty];
		else
			i++;
	}
}

/* fault_ok, or yes. */
static int simdisk_fault_ok(struct simdisk *d, uint64_t off, uint64_t len)
{
	if (!d->cfg.fault_ok || d->cfg.fault_ok(d->cfg.fault_ctx, off, len))
		return 1;
	d->ctr.vetoed++;
	return 0;
}

/* ------------------------------------------------------------------------ */
/* the durable image */

/* simdisk_page - page idx of the durable image, allocated (zeroed) on first
 * use; NULL when out of memory. */
static uint8_t *simdisk_page(struct simdisk *d, uint32_t idx)
{
	uint8_t *p;

	if (d->pg[idx])
		return d->pg[idx];
	if (d->npglist == d->cappglist) {
		uint32_t nc = d->cappglist ? d->cappglist * 2 : 64;
		uint32_t *nv = realloc(d->pglist, (size_t)nc * sizeof(*nv));

		if (!nv)
			return NULL;
		d->pglist = nv;
		d->cappglist = nc;
	}
	p = calloc(1, SIMDISK_PAGE);
	if (!p)
		return NULL;
	d->pg[idx] = p;
	d->pglist[d->npglist++] = idx;
	return p;
}

/* simdisk_dur_write - len bytes at off (both multiples of 512) into the
 * durable image. 0 or -ENOMEM (then some pages may be written). */
static int simdisk_dur_write(struct simdisk *d, uint64_t off, const uint8_t *src, uint64_t len)
{
	if (d->nfaulty)
		simdisk_heal(d, off, len);
	while (len) {
		uint32_t idx = (uint32_t)(off / SIMDISK_PAGE);
		uint32_t o = (uint32_t)(off % SIMDISK_PAGE);
		uint32_t n = SIMDISK_PAGE - o < len ? SIMDISK_PAGE - o : (uint32_t)len;
		uint8_t *p = simdisk_page(d, idx);

		if (!p)
			return -ENOMEM;
		memcpy(p + o, src, n);
		for (uint32_t s = o / SIMDISK_SECTOR; s < (o + n) / SIMDISK_SECTOR; s++)
			d->wmask[idx] |= (uint8_t)(1u << s);
		off += n;
		src += n;
		len -= n;
	}
	return 0;
}

/* simdisk_dur_read - bytes [off, off + len) of the durable image (any
 * offset and length inside the disk). */
static void simdisk_dur_read(const struct simdisk *d, uint64_t off, uint8_t *dst, uint64_t len)
{
	while (len) {
		uint32_t idx = (uint32_t)(off / SIMDISK_PAGE);
		uint32_t o = (uint32_t)(off % SIMDISK_PAGE);
		uint32_t n = SIMDISK_PAGE - o < len ? SIMDISK_PAGE - o : (uint32_t)len;

		if (d->pg[idx])
			memcpy(dst, d->pg[idx] + o, n);
		else
			memset(dst, 0, n);
		off += n;
		dst += n;
		len -= n;
	}
}

/* ------------------------------------------------------------------------ */
/* the volatile log */

static int simdisk_pw_dead(const struct simdisk_pw *w, uint32_t sec)
{
	return w->dead && (w->dead[sec / 64] >> (sec % 64) & 1);
}

/* simdisk_visible_read - what a read of [off, off + len) returns: the
 * durable image under the volatile log, applied in completion order. */
static void simdisk_visible_read(const struct simdisk *d, uint64_t off, uint8_t *dst,
				 uint64_t len)
{
	uint64_t end = off + len;

	simdisk_dur_read(d, off, dst, len);
	for (size_t i = 0; i < d->npend; i++) {
		const struct simdisk_pw *w = &d->pend[i];
		uint64_t a = w->off > off ? w->off : off;
		uint64_t b = w->off + w->len < end ? w->off + w->len : end;

		while (a < b) {
			uint32_t sec = (uint32_t)((a - w->off) / SIMDISK_SECTOR);
			uint64_t send = w->off + (uint64_t)(sec + 1) * SIMDISK_SECTOR;
			uint64_t n = (send < b ? send : b) - a;

			if (!simdisk_pw_dead(w, sec))
				memcpy(dst + (a - off), w->data + (a - w->off), n);
			a += n;
		}
	}
}

/* simdisk_pw_covers - 1 if a live log sector holds sector sec (byte offset). */
static int simdisk_pw_covers(const struct simdisk *d, uint64_t soff)
{
	for (size_t i = 0; i < d->npend; i++) {
		const struct simdisk_pw *w = &d->pend[i];

		if (soff >= w->off && soff < w->off + w->len &&
		    !simdisk_pw_dead(w, (uint32_t)((soff - w->off) / SIMDISK_SECTOR)))
			return 1;
	}
	return 0;
}

static void simdisk_pw_free(struct simdisk_pw *w)
{
	free(w->data);
	free(w->dead);
}

/* simdisk_pw_apply - a log entry's live sectors into the durable image. */
static int simdisk_pw_apply(struct simdisk *d, const struct simdisk_pw *w)
{
	uint32_t nsec = w->len / SIMDISK_SECTOR;
	int ret = 0;

	if (!w->dead)
		return simdisk_dur_write(d, w->off, w->data, w->len);
	for (uint32_t s = 0; s < nsec && ret == 0; s++)
		if (!simdisk_pw_dead(w, s))
			ret = simdisk_dur_write(d, w->off + (uint64_t)s * SIMDISK_SECTOR,
						w->data + (size_t)s * SIMDISK_SECTOR,
						SIMDISK_SECTOR);
	return ret;
}

/* simdisk_pw_push - log a completed non-FUA write. 0 or -ENOMEM. */
static int simdisk_pw_push(struct simdisk *d, uint64_t off, const uint8_t *src, uint32_t len)
{
	struct simdisk_pw *w;

	if (d->npend == d->cappend) {
		size_t nc = d->cappend ? d->cappend * 2 : 32;
		struct simdisk_pw *nv = realloc(d->pend, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		d->pend = nv;
		d->cappend = nc;
	}
	w = &d->pend[d->npend];
	memset(w, 0, sizeof(*w));
	w->data = malloc(len ? len : 1);
	if (!w->data)
		return -ENOMEM;
	memcpy(w->data, src, len);
	w->off = off;
	w->len = len;
	w->seq = d->wseq;
	d->npend++;
	return 0;
}

/* simdisk_supersede - a FUA write of [off, off + len) completed: older
 * volatile copies of those sectors can no longer land. 0 or -ENOMEM. */
static int simdisk_supersede(struct simdisk *d, uint64_t off, uint64_t len)
{
	for (size_t i = 0; i < d->npend; i++) {
		struct simdisk_pw *w = &d->pend[i];
		uint64_t a = w->off > off ? w->off : off;
		uint64_t b = w->off + w->len < off + len ? w->off + w->len : off + len;

		if (a >= b)
			continue;
		if (!w->dead) {
			uint32_t nsec = w->len / SIMDISK_SECTOR;

			w->dead = calloc(nsec / 64 + 1, sizeof(uint64_t));
			if (!w->dead)
				return -ENOMEM;
		}
		for (uint64_t s = (a - w->off) / SIMDISK_SECTOR; s < (b - w->off) / SIMDISK_SECTOR; s++)
			w->dead[s / 64] |= 1ull << (s % 64);
	}
	return 0;
}

/* simdisk_flush_apply - a flush queued when cover writes had completed
 * completes: those (a prefix of the log) become durable. */
static int simdisk_flush_apply(struct simdisk *d, uint64_t cover)
{
	size_t k = 0;
	int ret = 0;

	while (k < d->npend && d->pend[k].seq <= cover) {
		if (ret == 0)
			ret = simdisk_pw_apply(d, &d->pend[k]);
		simdisk_pw_free(&d->pend[k]);
		k++;
	}
	if (k) {
		memmove(d->pend, d->pend + k, (d->npend - k) * sizeof(*d->pend));
		d->npend -= k;
	}
	return ret;
}

/* ------------------------------------------------------------------------ */
/* requests */

/* simdisk_check - O_DIRECT's rules for a read or write (see simdisk.h);
 * 0, -EINVAL or -EFAULT, counted when count is set. */
static int simdisk_check(struct simdisk *d, const struct store_io_req *r, int count)
{
	uint64_t sum = 0;
	int bad = (r->off | r->len) % SIMDISK_SECTOR != 0;

	if (r->buf) {
		bad |= (uintptr_t)r->buf % SIMDISK_SECTOR != 0;
	} else if (!r->iov || r->iovcnt < 1 || r->iovcnt > STORE_IO_IOV_MAX) {
		bad = 1;
	} else {
		for (int i = 0; i < r->iovcnt; i++) {
			const struct iovec *v = &r->iov[i];

			bad |= !v->iov_len || (v->iov_len | (uintptr_t)v->iov_base) % SIMDISK_SECTOR;
			sum += v->iov_len;
		}
		bad |= sum != r->len;
	}
	if (bad) {
		d->ctr.refused_unaligned += count;
		return -EINVAL;
	}
	if (r->off > d->cfg.size || r->len > d->cfg.size - r->off) {
		d->ctr.refused_range += count;
		return -EINVAL;
	}
	/* READ_FIXED/WRITE_FIXED: the memory must lie in the named buffer.
	 * Vectored requests ignore buf_index here (caps() has no VEC_FIXED). */
	if (r->buf && r->buf_index >= 0) {
		const struct simdisk_buf *b = r->buf_index < STORE_IO_NBUFS ?
					      &d->bufs[r->buf_index] : NULL;
		const uint8_t *p = r->buf;

		if (!b || !b->base || p < b->base || r->len > b->len ||
		    (size_t)(p - b->base) > b->len - r->len) {
			d->ctr.refused_fixed += count;
			return -EFAULT;
		}
	}
	return 0;
}

/* simdisk_scratch - at least len bytes of scratch; NULL when out of memory. */
static uint8_t *simdisk_scratch(struct simdisk *d, size_t len)
{
	if (len > d->scratch_cap) {
		uint8_t *p = realloc(d->scratch, len);

		if (!p)
			return NULL;
		d->scratch = p;
		d->scratch_cap = len;
	}
	return d->scratch;
}

/* simdisk_gather - a checked write's bytes: its buffer, or its pieces
 * copied into the scratch. NULL when out of memory. */
static const uint8_t *simdisk_gather(struct simdisk *d, const struct store_io_req *r)
{
	uint8_t *p;

	if (r->buf)
		return r->buf;
	p = simdisk_scratch(d, r->len);
	if (!p)
		return NULL;
	for (int i = 0, at = 0; i < r->iovcnt; i++) {
		memcpy(p + at, r->iov[i].iov_base, r->iov[i].iov_len);
		at += (int)r->iov[i].iov_len;
	}
	return p;
}

/* simdisk_flip_sector - flip one bit of durable sector soff (its page
 * allocated by the caller) and remember it. */
static int simdisk_flip_sector(struct simdisk *d, uint64_t soff)
{
	uint32_t bit = (uint32_t)rng_below(&d->rng, SIMDISK_SECTOR * 8);
	uint8_t *p = d->pg[soff / SIMDISK_PAGE] + soff % SIMDISK_PAGE;

	p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	d->ctr.flips++;
	return simdisk_faulty_add(d, soff / SIMDISK_SECTOR);
}

/* simdisk_read_flip - a read of [off, off + len) rots one bit of one of
 * the durable, written sectors it returns (not of those a volatile write
 * covers: the read does not see the medium there), if fault_ok agrees. */
static void simdisk_read_flip(struct simdisk *d, uint64_t off, uint32_t len)
{
	uint64_t n = 0, k;

	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t s = off; s < off + len; s += SIMDISK_SECTOR) {
			uint32_t idx = (uint32_t)(s / SIMDISK_PAGE);
			uint32_t bit = (uint32_t)(s % SIMDISK_PAGE / SIMDISK_SECTOR);

			if (!d->pg[idx] || !(d->wmask[idx] >> bit & 1) || simdisk_pw_covers(d, s))
				continue;
			if (pass == 1 && k-- == 0) {
				if (simdisk_fault_ok(d, s, SIMDISK_SECTOR))
					(void)simdisk_flip_sector(d, s);
				return;
			}
			n += pass == 0;
		}
		if (!n)
			return;
		k = rng_below(&d->rng, n);
	}
}

/* simdisk_misdirect - maybe send this write elsewhere (at most once per
 * disk): returns the offset it lands at. */
static uint64_t simdisk_misdirect(struct simdisk *d, const struct store_io_req *r)
{
	uint64_t dest;

	if (d->md_done || !simdisk_chance(d, d->f.misdirect_pm) || r->len >= d->cfg.size)
		return r->off;
	dest = rng_below(&d->rng, (d->cfg.size - r->len) / SIMDISK_SECTOR + 1) * SIMDISK_SECTOR;
	if (dest == r->off || !simdisk_fault_ok(d, r->off, r->len) ||
	    !simdisk_fault_ok(d, dest, r->len))
		return r->off;
	d->md_done = 1;
	d->md_target = r->off;
	d->md_dest = dest;
	d->md_len = r->len;
	d->ctr.misdirects++;
	return dest;
}

static int simdisk_do_read(struct simdisk *d, struct store_io_req *r)
{
	uint8_t *dst;

	if (simdisk_chance(d, d->f.eio_read_pm)) {
		d->ctr.eio_injected++;
		return -EIO;
	}
	if (simdisk_chance(d, d->f.flip_read_pm))
		simdisk_read_flip(d, r->off, r->len);
	dst = r->buf ? r->buf : simdisk_scratch(d, r->len);
	if (!dst)
		return -ENOMEM;
	simdisk_visible_read(d, r->off, dst, r->len);
	if (!r->buf)
		for (int i = 0, at = 0; i < r->iovcnt; i++) {
			memcpy(r->iov[i].iov_base, dst + at, r->iov[i].iov_len);
			at += (int)r->iov[i].iov_len;
		}
	d->ctr.reads++;
	d->ctr.bytes_read += r->len;
	return (int)r->len;
}

static int simdisk_do_write(struct simdisk *d, struct store_io_req *r)
{
	const uint8_t *src;
	uint64_t off;
	int ret;

	if (simdisk_chance(d, d->f.eio_write_pm)) {
		d->ctr.eio_injected++;
		return -EIO;
	}
	src = simdisk_gather(d, r);
	if (!src)
		return -ENOMEM;
	off = simdisk_misdirect(d, r);
	d->wseq++;
	if (r->fua) {
		ret = simdisk_dur_write(d, off, src, r->len);
		if (ret == 0)
			ret = simdisk_supersede(d, off, r->len);
	} else {
		ret = simdisk_pw_push(d, off, src, r->len);
	}
	if (ret < 0)
		return ret;
	d->ctr.writes++;
	d->ctr.fua_writes += r->fua;
	d->ctr.bytes_written += r->len;
	return (int)r->len;
}

/* simdisk_doomed - will fail for power loss: completes at once. */
static int simdisk_doomed(const struct simdisk *d, const struct simdisk_slot *sl)
{
	return sl->epoch != d->epoch || d->cut;
}

/* simdisk_exec - complete one request: its effect and r->res. */
static void simdisk_exec(struct simdisk *d, const struct simdisk_slot *sl)
{
	struct store_io_req *r = sl->r;
	int res;

	d->ctr.requests++;
	if (r->kind == STORE_IO_READ || r->kind == STORE_IO_WRITE) {
		res = simdisk_check(d, r, 1);
		if (res < 0)
			goto out;
	} else if (r->kind != STORE_IO_FLUSH) {
		d->ctr.refused_unaligned++;
		res = -EINVAL;
		goto out;
	}
	if (simdisk_doomed(d, sl)) {
		d->ctr.eio_cut++;
		res = -EIO;
	} else if (d->failed) {
		d->ctr.eio_failed++;
		res = -EIO;
	} else if (d->cfg.inject && (res = d->cfg.inject(d->cfg.inject_ctx, r)) < 0) {
		d->ctr.eio_injected++;
	} else if (r->kind == STORE_IO_READ) {
		res = simdisk_do_read(d, r);
	} else if (r->kind == STORE_IO_WRITE) {
		res = simdisk_do_write(d, r);
	} else if (simdisk_chance(d, d->f.eio_flush_pm)) {
		d->ctr.eio_injected++;
		res = -EIO;
	} else {
		res = simdisk_flush_apply(d, sl->cover);
		d->ctr.flushes += res == 0;
	}
out:
	r->res = res;
}

/* ------------------------------------------------------------------------ */
/* the ops table */

static int simdisk_queue(void *ctx, struct store_io_req *r)
{
	struct simdisk *d = ctx;
	uint32_t qmax = d->cfg.queue_max ? d->cfg.queue_max : SIMDISK_QUEUE_MAX;
	struct simdisk_slot *sl;

	if (d->nunsub >= qmax)
		return -EAGAIN;
	if (d->nq == d->capq) {
		size_t nc = d->capq ? d->capq * 2 : 64;
		struct simdisk_slot *nv = realloc(d->q, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		d->q = nv;
		d->capq = nc;
	}
	sl = &d->q[d->nq++];
	memset(sl, 0, sizeof(*sl));
	sl->r = r;
	/* A flush covers the writes completed now, not those queued beside it. */
	sl->cover = d->wseq;
	sl->epoch = d->epoch;
	d->nunsub++;
	return 0;
}

static int simdisk_submit(void *ctx)
{
	struct simdisk *d = ctx;
	uint64_t now = d->cfg.now_ns ? d->cfg.now_ns(d->cfg.clock_ctx) : 0;

	if (!d->nunsub)
		return 0;
	for (size_t i = 0; i < d->nq; i++) {
		struct simdisk_slot *sl = &d->q[i];

		if (sl->submitted)
			continue;
		sl->submitted = 1;
		if (d->cfg.now_ns) {
			uint64_t span = d->cfg.lat_max_ns - d->cfg.lat_min_ns;

			sl->due = now + d->cfg.lat_min_ns +
				  (span ? rng_below(&d->rng, span + 1) : 0);
			/* In order unless reordering: never before the one ahead. */
			if (!d->cfg.reorder && sl->due < d->last_due)
				sl->due = d->last_due;
			d->last_due = sl->due;
		}
	}
	d->nunsub = 0;
	return 0;
}

/*
 * simdisk_reap - complete what is due: with a clock, requests due by now;
 * without, every submitted request (with reorder, each with probability
 * 1/2). wait = 1 submits first and completes at least one: the earliest due
 * if none is (early), -EDEADLK if nothing was submitted at all (the engine
 * waits for nothing: its bug). Effects happen first, then done() in
 * completion order (done may queue more; they wait for the next submit).
 */
static int simdisk_reap(void *ctx, int wait)
{
	struct simdisk *d = ctx;
	struct simdisk_slot done[SIMDISK_BATCH];
	uint64_t now = d->cfg.now_ns ? d->cfg.now_ns(d->cfg.clock_ctx) : 0;
	size_t nd = 0, keep = 0, first = SIZE_MAX;

	if (wait)
		simdisk_submit(d);
	for (size_t i = 0; i < d->nq; i++) {
		struct simdisk_slot sl = d->q[i];
		int pick = 0;

		if (sl.submitted && nd < SIMDISK_BATCH) {
			if (simdisk_doomed(d, &sl))
				pick = 1;
			else if (d->cfg.now_ns)
				pick = sl.due <= now;
			else
				pick = !d->cfg.reorder || rng_below(&d->rng, 2);
		}
		if (pick) {
			done[nd++] = sl;
			continue;
		}
		/* Compacting in place: kept slots move down, never past i. */
		if (sl.submitted && (first == SIZE_MAX || sl.due < d->q[first].due))
			first = keep;
		d->q[keep++] = sl;
	}
	d->nq = keep;
	if (wait && !nd) {
		if (first == SIZE_MAX)
			return -EDEADLK;
		/* Nothing due: the node "blocks" until the earliest is. */
		done[nd++] = d->q[first];
		memmove(d->q + first, d->q + first + 1, (d->nq - first - 1) * sizeof(*d->q));
		d->nq--;
		d->ctr.early += d->cfg.now_ns && done[0].due > now;
	}
	if (d->cfg.reorder)
		for (size_t i = nd; i > 1; i--) {
			size_t j = (size_t)rng_below(&d->rng, i);
			struct simdisk_slot t = done[i - 1];

			done[i - 1] = done[j];
			done[j] = t;
		}
	for (size_t i = 0; i < nd; i++)
		simdisk_exec(d, &done[i]);
	for (size_t i = 0; i < nd; i++)
		done[i].r->done(done[i].r);
	return (int)nd;
}

static int simdisk_fd(void *ctx)
{
	(void)ctx;
	return -1; /* no fd: the simulator knows when to reap (simdisk_next_due) */
}

/* Registered buffers are recorded so that READ_FIXED's rule can be checked. */
static int simdisk_register_buf(void *ctx, int idx, void *base, size_t len)
{
	struct simdisk *d = ctx;

	if (idx < 0 || idx >= STORE_IO_NBUFS)
		return -EINVAL;
	d->bufs[idx].base = base;
	d->bufs[idx].len = base ? len : 0;
	return 0;
}

static uint64_t simdisk_size(void *ctx)
{
	return ((struct simdisk *)ctx)->cfg.size;
}

/* The store is gone: forget its requests (never complete them: their
 * memory is being freed) and its buffers. The disk itself stays. */
static void simdisk_close(void *ctx)
{
	struct simdisk *d = ctx;

	d->ctr.abandoned += d->nq;
	d->nq = 0;
	d->nunsub = 0;
	memset(d->bufs, 0, sizeof(d->bufs));
}

static uint32_t simdisk_caps(void *ctx)
{
	(void)ctx;
	return 0; /* a block device without READV_FIXED: piece alignment 512 */
}

const struct store_io_ops simdisk_ops = {
	.queue = simdisk_queue,
	.submit = simdisk_submit,
	.reap = simdisk_reap,
	.fd = simdisk_fd,
	.register_buf = simdisk_register_buf,
	.size = simdisk_size,
	.close = simdisk_close,
	.caps = simdisk_caps,
};

/* ------------------------------------------------------------------------ */
/* power */

/*
 * simdisk_land - resolve one volatile or in-flight write at power loss:
 * dropped, landed whole, or torn (each sector lands with probability 1/2),
 * one chance in three each unless cfg.land decides - so every outcome,
 * including "all of it made it" for a long write, happens often (sector
 * coin flips alone would almost never land a 64-sector write whole). A
 * lost sector may become garbage.
 */
static void simdisk_land(struct simdisk *d, const struct simdisk_pw *w, int inflight)
{
	uint32_t nsec = w->len / SIMDISK_SECTOR, landed = 0, lost = 0;
	int mode = d->cfg.land ? d->cfg.land(d->cfg.land_ctx, w->off, w->len, inflight) :
				 SIMDISK_LAND_RANDOM;
	uint8_t junk[SIMDISK_SECTOR];

	if (mode < SIMDISK_LAND_DROP || mode > SIMDISK_LAND_TORN)
		mode = SIMDISK_LAND_DROP + (int)rng_below(&d->rng, 3);
	for (uint32_t s = 0; s < nsec; s++) {
		uint64_t soff = w->off + (uint64_t)s * SIMDISK_SECTOR;
		int land = mode == SIMDISK_LAND_ALL ||
			   (mode == SIMDISK_LAND_TORN && rng_below(&d->rng, 2));

		if (simdisk_pw_dead(w, s))
			continue;
		if (land) {
			/* Out of memory: the sector is lost (nothing else to do). */
			landed += simdisk_dur_write(d, soff, w->data + (size_t)s * SIMDISK_SECTOR,
						    SIMDISK_SECTOR) == 0;
			continue;
		}
		lost++;
		if (simdisk_chance(d, d->f.garbage_pm)) {
			simdisk_garbage(d, junk, sizeof(junk));
			d->ctr.garbage_sectors += simdisk_dur_write(d, soff, junk, sizeof(junk)) == 0;
		}
	}
	d->ctr.landed_sectors += landed;
	d->ctr.torn_sectors += lost;
	d->ctr.torn_writes += landed && lost;
}

void simdisk_power_loss(struct simdisk *d)
{
	d->ctr.power_losses++;
	if (!d->cut && !d->failed) {
		/* The cache, oldest first, then what was on its way to it. */
		for (size_t i = 0; i < d->npend; i++)
			simdisk_land(d, &d->pend[i], 0);
		for (size_t i = 0; i < d->nq; i++) {
			const struct simdisk_slot *sl = &d->q[i];
			struct simdisk_pw w = { 0 };

			if (!sl->submitted || simdisk_doomed(d, sl) || sl->r->kind != STORE_IO_WRITE ||
			    simdisk_check(d, sl->r, 0) < 0)
				continue;
			w.off = sl->r->off;
			w.len = sl->r->len;
			w.data = (uint8_t *)simdisk_gather(d, sl->r);
			if (w.data)
				simdisk_land(d, &w, 1);
		}
	}
	for (size_t i = 0; i < d->npend; i++)
		simdisk_pw_free(&d->pend[i]);
	d->npend = 0;
	d->epoch++;
	d->cut = 1;
}

/* simdisk_pick_written - a random written sector of the image (byte
 * offset), or UINT64_MAX if there is none. */
static uint64_t simdisk_pick_written(struct simdisk *d)
{
	uint32_t idx, n, k;

	if (!d->npglist)
		return UINT64_MAX;
	idx = d->pglist[rng_below(&d->rng, d->npglist)];
	n = (uint32_t)__builtin_popcount(d->wmask[idx]);
	if (!n)
		return UINT64_MAX;
	k = (uint32_t)rng_below(&d->rng, n);
	for (uint32_t s = 0; s < SIMDISK_SPP; s++)
		if (d->wmask[idx] >> s & 1 && k-- == 0)
			return (uint64_t)idx * SIMDISK_PAGE + (uint64_t)s * SIMDISK_SECTOR;
	return UINT64_MAX;
}

void simdisk_power_on(struct simdisk *d)
{
	if (!d->cut)
		return;
	d->cut = 0;
	/* What was queued while cut belongs to the dead node: it fails too. */
	d->epoch++;
	if (simdisk_chance(d, d->f.flip_power_pm)) {
		uint64_t soff = simdisk_pick_written(d);

		if (soff != UINT64_MAX && simdisk_fault_ok(d, soff, SIMDISK_SECTOR))
			(void)simdisk_flip_sector(d, soff);
	}
}

int simdisk_powered(const struct simdisk *d)
{
	return !d->cut;
}

void simdisk_fail(struct simdisk *d)
{
	d->failed = 1;
}

void simdisk_set_faults(struct simdisk *d, const struct simdisk_faults *f)
{
	d->f = *f;
}

/* ------------------------------------------------------------------------ */
/* latent corruption, timing, inspection */

int simdisk_flip(struct simdisk *d, uint64_t off)
{
	uint32_t idx;
	uint8_t *p;

	if (off >= d->cfg.size)
		return -EINVAL;
	idx = (uint32_t)(off / SIMDISK_PAGE);
	p = simdisk_page(d, idx);
	if (!p)
		return -ENOMEM;
	p[off % SIMDISK_PAGE] ^= (uint8_t)(1u << rng_below(&d->rng, 8));
	d->wmask[idx] |= (uint8_t)(1u << (off % SIMDISK_PAGE / SIMDISK_SECTOR));
	d->ctr.flips++;
	return simdisk_faulty_add(d, off / SIMDISK_SECTOR);
}

/* Sectors of [a0, a1) in [b0, b1) (sector numbers). */
static uint64_t simdisk_overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	uint64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;

	return hi > lo ? hi - lo : 0;
}

uint64_t simdisk_faulty(const struct simdisk *d, uint64_t off, uint64_t len)
{
	uint64_t s0 = off / SIMDISK_SECTOR;
	uint64_t s1 = (off + len + SIMDISK_SECTOR - 1) / SIMDISK_SECTOR;
	uint64_t t0 = d->md_target / SIMDISK_SECTOR, t1 = t0 + d->md_len / SIMDISK_SECTOR;
	uint64_t e0 = d->md_dest / SIMDISK_SECTOR, e1 = e0 + d->md_len / SIMDISK_SECTOR;
	uint64_t n = 0;

	if (!len)
		return 0;
	if (d->md_done) {
		/* |T & R| + |E & R| - |T & E & R| */
		uint64_t lo = t0 > e0 ? t0 : e0, hi = t1 < e1 ? t1 : e1;

		n = simdisk_overlap(t0, t1, s0, s1) + simdisk_overlap(e0, e1, s0, s1);
		if (hi > lo)
			n -= simdisk_overlap(lo, hi, s0, s1);
	}
	for (size_t i = 0; i < d->nfaulty; i++) {
		uint64_t f = d->faulty[i];

		if (f >= s0 && f < s1 &&
		    !(d->md_done && ((f >= t0 && f < t1) || (f >= e0 && f < e1))))
			n++;
	}
	return n;
}

uint64_t simdisk_next_due(const struct simdisk *d)
{
	uint64_t best = UINT64_MAX;

	for (size_t i = 0; i < d->nq; i++) {
		const struct simdisk_slot *sl = &d->q[i];

		if (!sl->submitted)
			continue;
		if (!d->cfg.now_ns || simdisk_doomed(d, sl))
			return 0;
		if (sl->due < best)
			best = sl->due;
	}
	return best;
}

int simdisk_read(const struct simdisk *d, uint64_t off, void *buf, size_t len)
{
	if (off > d->cfg.size || len > d->cfg.size - off)
		return -EINVAL;
	simdisk_visible_read(d, off, buf, len);
	return 0;
}

static uint64_t simdisk_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

static uint64_t simdisk_hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 8 <= n; i += 8) {
		uint64_t v;

		memcpy(&v, p + i, 8);
		h = simdisk_mix(h, v);
	}
	return h;
}

static int simdisk_zero(const uint8_t *p, size_t n)
{
	return p[0] == 0 && memcmp(p, p + 1, n - 1) == 0;
}

uint64_t simdisk_hash(const struct simdisk *d)
{
	uint64_t h = simdisk_mix(0, d->cfg.size);

	/* By page index, not allocation order: equal images hash equal. */
	for (uint32_t i = 0; i < d->npages; i++) {
		if (!d->pg[i] || simdisk_zero(d->pg[i], SIMDISK_PAGE))
			continue;
		h = simdisk_mix(h, i);
		h = simdisk_hash_bytes(h, d->pg[i], SIMDISK_PAGE);
	}
	for (size_t i = 0; i < d->npend; i++) {
		const struct simdisk_pw *w = &d->pend[i];

		for (uint32_t s = 0; s < w->len / SIMDISK_SECTOR; s++) {
			if (simdisk_pw_dead(w, s))
				continue;
			h = simdisk_mix(h, w->off + (uint64_t)s * SIMDISK_SECTOR);
			h = simdisk_hash_bytes(h, w->data + (size_t)s * SIMDISK_SECTOR,
					       SIMDISK_SECTOR);
		}
	}
	return h;
}

void simdisk_get_counters(const struct simdisk *d, struct simdisk_counters *out)
{
	*out = d->ctr;
}

/* ------------------------------------------------------------------------ */
/* lifecycle */

struct simdisk *simdisk_new(const struct simdisk_cfg *cfg)
{
	struct simdisk *d = NULL;

	if (!cfg->size || cfg->size % SIMDISK_PAGE || cfg->size / SIMDISK_PAGE > UINT32_MAX ||
	    (cfg->now_ns && cfg->lat_max_ns < cfg->lat_min_ns)) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		goto err;
	d->cfg = *cfg;
	d->f = cfg->faults;
	d->npages = (uint32_t)(cfg->size / SIMDISK_PAGE);
	d->pg = calloc(d->npages, sizeof(*d->pg));
	d->wmask = calloc(d->npages, 1);
	if (!d->pg || !d->wmask)
		goto err;
	rng_seed(&d->rng, cfg->seed);
	return d;
err:
	simdisk_free(d);
	errno = ENOMEM;
	return NULL;
}

struct simdisk *simdisk_clone(const struct simdisk *src, const struct simdisk_cfg *cfg)
{
	struct simdisk_cfg c = *cfg;
	struct simdisk *d;

	if (!c.size)
		c.size = src->cfg.size;
	if (c.size != src->cfg.size) {
		errno = EINVAL;
		return NULL;
	}
	d = simdisk_new(&c);
	if (!d)
		return NULL;
	for (uint32_t i = 0; i < src->npglist; i++) {
		uint32_t idx = src->pglist[i];
		uint8_t *p = simdisk_page(d, idx);

		if (!p)
			goto err;
		memcpy(p, src->pg[idx], SIMDISK_PAGE);
		d->wmask[idx] = src->wmask[idx];
	}
	for (size_t i = 0; i < src->npend; i++)
		if (simdisk_pw_apply(d, &src->pend[i]) < 0)
			goto err;
	/* The same bytes, so the same latent faults. */
	for (size_t i = 0; i < src->nfaulty; i++)
		if (simdisk_faulty_add(d, src->faulty[i]) < 0)
			goto err;
	d->md_done = src->md_done;
	d->md_target = src->md_target;
	d->md_dest = src->md_dest;
	d->md_len = src->md_len;
	return d;
err:
	simdisk_free(d);
	errno = ENOMEM;
	return NULL;
}

void simdisk_free(struct simdisk *d)
{
	if (!d)
		return;
	if (d->pg)
		for (uint32_t i = 0; i < d->npglist; i++)
			free(d->pg[d->pglist[i]]);
	for (size_t i = 0; i < d->npend; i++)
		simdisk_pw_free(&d->pend[i]);
	free(d->pend);
	free(d->pglist);
	free(d->pg);
	free(d->wmask);
	free(d->q);
	free(d->faulty);
	free(d->scratch);
	free(d);
}
