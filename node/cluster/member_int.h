/* SPDX-License-Identifier: Apache-2.0 */
/*
 * member_int.h - what member.c, chain.c, recover.c and repair.c share.
 * Nothing outside node/cluster/ includes this.
 */
#ifndef FERRY_CLUSTER_MEMBER_INT_H
#define FERRY_CLUSTER_MEMBER_INT_H

#include "cluster/member.h"
#include "cluster/nodectl.h"
#include "cluster/place.h"

/* ------------------------------------------------------------ chain.c */

enum chain_kind {
	CH_PUT = 1,      /* client PUT at the head */
	CH_WRITE,        /* client WRITE at the head (merged into a whole-chunk PUT) */
	CH_DELETE,       /* client DELETE at the head (a tombstone) */
	CH_REPL_PUT,     /* chain forward of a PUT */
	CH_REPL_DELETE,  /* chain forward of a tombstone */
	CH_COPY_PUT,     /* recovery copy */
	CH_COPY_DELETE,  /* recovery copy of a tombstone */
	CH_COPY_STAT,    /* a peer's STAT: versions and tombstones */
	CH_COPY_GET,     /* a peer fetches a whole chunk to repair its copy */
};

enum chain_phase {
	CP_STAT = 1,     /* learning the local version */
	CP_READ,         /* WRITE: reading the chunk to merge into; COPY_GET */
	CP_STORE,        /* storing (or tombstoning) the version */
	CP_RESTAT,       /* the store refused the version: what does it hold? */
	CP_FORWARD,      /* waiting for the successor */
};

/* One request of the cluster path, from arrival to answer. */
struct chain_req {
	struct storeq_op op;         /* first: the store op in progress */
	struct member *m;
	struct rpc_srv *srv;         /* where the request came in */
	struct rpc_sreq *r;          /* the request (answered exactly once) */
	uint8_t kind;                /* enum chain_kind */
	uint8_t phase;               /* enum chain_phase */
	uint8_t tries;               /* version races retried */
	uint8_t redrive;             /* head: sending the local version down the chain
				      * again (1: data, 2: a tombstone) */
	uint8_t id[16];              /* chunk */
	uint64_t epoch;              /* the epoch it runs under */
	uint64_t version;            /* given (forwards, copies) or assigned (head) */
	uint64_t hint;               /* head: in-doubt retry of this version (0: none) */
	uint64_t floor;              /* head: a member holds this version: go above it */
	uint8_t *payload;            /* contiguous payload (the request's buffer) */
	uint32_t len;                /* its bytes */
	uint8_t *data;               /* what is stored and forwarded: the payload, or
				      * for a WRITE the merged chunk (owned) */
	uint32_t data_len;           /* its bytes */
	uint8_t *owned;              /* WRITE: the merged chunk (freed at the end) */
	uint32_t owned_cap;          /* its capacity */
	uint64_t w_off;              /* WRITE: offset of the bytes */
	struct rpc_call fwd;         /* to the successor */
	uint8_t fwd_resp[8];         /* its answer: a version */
	struct chain_req *next, *prev; /* live requests (close ends them) */
	int active;                  /* head: the chunk's write in progress */
	uint64_t start_ns;           /* when it came in */
	uint8_t marked;              /* its version is marked uncommitted here */
	uint8_t committed;           /* ... and the chain took it */
	struct chain_req *hnext;     /* head: next active write in its hash bucket */
	struct chain_req *wait_head, *wait_tail; /* head: writes of the chunk queued behind */
	struct chain_req *wnext;     /* in that queue */
};

#define CHAIN_BUCKETS 256 /* active head writes, by chunk */

/* chain_start - take a cluster write, forward or copy request (the gate
 * checked epoch, lease and role). */
void chain_start(struct member *m, struct rpc_srv *srv, struct rpc_sreq *r, uint8_t kind);
/* chain_next_version - the version a head at epoch assigns after local
 * version lv; 0 when the epoch's counter is used up (2^32 writes of one
 * chunk in one epoch). */
uint64_t chain_next_version(uint64_t epoch, uint64_t lv);
void chain_close_all(struct member *m);

/* ------------------------------------------------------------ recover.c */

#define RECOVER_TASKS 16

enum rtask_phase { RT_IDLE = 0, RT_STAT, RT_THROTTLED, RT_COPY, RT_PURGE };

struct rtask {
	struct storeq_op op;           /* first: a PURGE in progress */
	struct member *m;
	uint8_t phase;                 /* enum rtask_phase */
	uint8_t id[16];                /* chunk */
	uint64_t version, size;        /* our copy */
	uint32_t crc;                  /* its chunk crc */
	int tomb;                      /* our copy is a tombstone */
	uint64_t epoch;                /* map epoch the task runs under */
	uint16_t peers[MAP_MAX_CHAIN]; /* map indices of the other write-chain members */
	int npeers;
	int in_chain;                  /* this node is in the write chain */
	int head;                      /* ... and its head */
	int head_idx;                  /* map index of the head (-1: none) */
	int64_t peer_ver[MAP_MAX_CHAIN]; /* 0 absent, -1 unknown, else version */
	uint8_t peer_tomb[MAP_MAX_CHAIN]; /* that version is a tombstone */
	uint32_t peer_crc[MAP_MAX_CHAIN]; /* its chunk crc */
	uint8_t push[MAP_MAX_CHAIN];   /* send our copy to this peer */
	struct rpc_call calls[MAP_MAX_CHAIN];
	struct ferry_chunk_stat st[MAP_MAX_CHAIN];
	uint8_t vbuf[MAP_MAX_CHAIN][8];
	int pending;                   /* calls in flight */
	int failed;                    /* a STAT or copy failed: the walk is not clean */
	int check;                     /* a commit check of one chunk (commit.c), not
					* part of a walk */
	int confirmed;                 /* peers that hold our version or a newer one */
	int npush;                     /* peers we send ours to */
	uint8_t *buf;                  /* chunk bytes for copies */
};

struct recover_counters {
	uint64_t walks;        /* complete walks */
	uint64_t scanned;      /* chunks examined */
	uint64_t pending;      /* chunks that needed work in the last complete walk */
	uint64_t copies;       /* copies made */
	uint64_t copy_bytes;   /* bytes copied */
	uint64_t purged;       /* local copies dropped (moved away, or tombstones collected) */
	uint64_t tomb_copies;  /* tombstones sent to members with older versions */
	uint64_t kept;         /* copies kept: too few members confirmed theirs */
	uint64_t degraded;     /* chunks this node heads with < R good copies (last walk) */
	uint64_t errors;       /* STAT/copy failures (retried next walk) */
	uint64_t crc_mismatch; /* equal versions with different checksums */
	uint64_t active;       /* 1 while a walk is running */
};

struct recover {
	struct rtask tasks[RECOVER_TASKS];
	uint8_t cursor[16];            /* walk position */
	struct store_list_entry page[64];
	uint32_t page_n, page_i;
	int walking, walk_eof, want_walk;
	uint64_t walk_start_epoch;     /* the epoch the running walk started at */
	uint64_t walk_work, walk_degraded, walk_bad; /* this walk's figures */
	uint64_t walk_epoch;           /* the last walk that left nothing undone started here */
	int checks;                    /* tasks doing commit checks */
	uint64_t next_walk_ns;
	double tokens;                 /* copy budget, bytes */
	uint64_t tokens_ns;
	struct recover_counters ctr;
};

void recover_init(struct member *m);
void recover_fini(struct member *m);
/* recover_kick - walk (again): the map changed, or a walk had work. */
void recover_kick(struct member *m);
/* recover_step - start what the budget allows; returns 1 if it did work. */
int recover_step(struct member *m, uint64_t now);
uint64_t recover_next_deadline(struct member *m);

/* ------------------------------------------------------------ repair.c */

#define REPAIR_QUEUE 64

struct repair {
	struct storeq_op op;           /* first: the install in progress */
	struct member *m;
	uint8_t ids[REPAIR_QUEUE][16]; /* chunks to repair (a ring) */
	uint32_t head, count;
	int busy;                      /* a repair is in progress */
	uint8_t id[16];                /* ... of this chunk */
	uint64_t version;              /* the version our copy has */
	int peer;                      /* index into the write chain tried */
	uint16_t chain[MAP_MAX_CHAIN]; /* the chunk's write chain */
	int nchain;
	struct rpc_call call;          /* COPY_GET to a peer */
	uint8_t *buf;                  /* its answer: version + bytes */
	uint32_t cap;                  /* buf capacity */
	uint64_t bad, repaired, failed; /* counters */
};

void repair_init(struct member *m);
void repair_fini(struct member *m);
void repair_enqueue(struct member *m, const uint8_t id[16]);
int repair_step(struct member *m, uint64_t now);

/* ------------------------------------------------------------ commit.c */

/* A version stored here that may not be on min_copies disks yet. */
struct commit_ent {
	uint8_t id[16];
	uint64_t version;              /* the highest such version of the chunk */
	uint64_t check_at;             /* when to check it (0: not scheduled) */
	uint8_t used;
};

struct commit_set {
	struct commit_ent *tab;        /* cap entries, a power of two */
	uint32_t cap, n;
	uint64_t next_check;           /* earliest check_at (0: none) */
};

/* commit_reserve - room for one more mark: 0 or -ENOMEM (then store nothing). */
int commit_reserve(struct member *m);
/* commit_mark - version of id is stored here, not known committed. */
void commit_mark(struct member *m, const uint8_t id[16], uint64_t version);
/* commit_done - version of id (and any older one) is on min_copies disks. */
void commit_done(struct member *m, const uint8_t id[16], uint64_t version);
/* commit_unsure - the marked version of id, 0 when none (reads may go out). */
uint64_t commit_unsure(struct member *m, const uint8_t id[16]);
/* commit_check_later - have recover.c check id's copies now, or (retry) in a
 * second. */
void commit_check_later(struct member *m, const uint8_t id[16], int retry);
/* commit_next_due - a chunk whose check is due: copies its id, 1; 0 if none. */
int commit_next_due(struct member *m, uint64_t now, uint8_t id[16]);
uint64_t commit_next_deadline(const struct member *m);
void commit_fini(struct member *m);

/* ------------------------------------------------------------ member.c */

/* The last write chain member_write_chain computed. */
struct member_wc {
	uint64_t gen;                  /* map_gen it was computed under (0: none) */
	uint8_t id[16];
	uint16_t chain[MAP_MAX_CHAIN];
	int n, pos, nreaders;
};

struct member {
	struct member_cfg cfg;
	struct nodectl *nc;            /* link to ctl */
	struct cmap map;               /* the map this node serves under */
	uint64_t map_gen;              /* maps installed (loaded) so far */
	struct member_wc wc;
	int self;                      /* our index in map (-1: not in it) */
	uint64_t now;                  /* time of the current poll */
	uint32_t max_chunk;            /* from the store */
	struct store_info info;        /* refreshed each heartbeat */
	struct recover rec;
	struct repair rep;
	struct commit_set commit;      /* stored here, maybe not committed (commit.c) */
	int commit_lost;               /* a mark could not be kept: no reads at all */
	struct chain_req *reqs;        /* live chain requests */
	struct chain_req *active[CHAIN_BUCKETS]; /* head writes in progress, one per chunk */
	/* the map kept on the store */
	struct storeq_op map_op;
	uint8_t *map_buf;              /* its encoding (4 KiB aligned) */
	int map_saving;                /* a save is in flight */
	uint64_t map_saved;            /* epoch saved last */
	uint64_t map_retry_ns;         /* a failed save is tried again then */
	uint64_t gc_epoch;             /* tombstones of epochs up to this one may have
				      * been collected here (chain.c, in-doubt retries) */
	/* counters */
	uint64_t c_stale, c_nolease, c_nothead, c_notready, c_clustered, c_future;
	uint64_t c_fwd, c_fwd_fail, c_conflicts, c_indoubt, c_absorbed, c_redrive;
	uint64_t c_maps, c_bad_local_ids;
	uint64_t c_uncommitted, c_unsure_reads;
	uint64_t c_req_max_ns;         /* the slowest chain request so far */
};

/* member_write_chain - the write chain of id under the map; *pos = our
 * position in it (-1: not in it), *nreaders as place_write_chain. */
int member_write_chain(struct member *m, const uint8_t id[16], uint16_t chain[MAP_MAX_CHAIN],
		       int *pos, int *nreaders);
/* member_reply_version - answer r with status and an 8-byte version. */
void member_reply_version(struct rpc_srv *srv, struct rpc_sreq *r, int status, uint64_t version);

#endif
