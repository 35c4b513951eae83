/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmdline.h - the kernel command line as PID 1 reads it.
 *
 * A pure parser over bytes (no I/O, no allocation): init_cmdline_parse()
 * fills struct init_cfg from the contents of /proc/cmdline. It knows the
 * dotted ferry.* keys, the kernel's ip= syntax and pxelinux's BOOTIF=, and
 * ignores every other word (those belong to the kernel or to modules).
 *
 *   ferry.role=node|ctl|both      what this box runs (default node)
 *   ferry.ctl=IP:PORT             the control plane (node joins it; ctl listens on its port)
 *   ferry.zone=NAME               failure domain of this node
 *   ferry.port=N                  storage port (default 7480, FERRY_PORT_DEFAULT)
 *   ferry.disks=auto|a,b,...      disks to use (names under /dev, or /dev paths)
 *   ferry.format=0|1              format blank disks (needs ferry.cluster)
 *   ferry.cluster=UUID            cluster this node belongs to
 *   ferry.node=UUID               node UUID to use when formatting
 *   ferry.transport=xdp|udp       data-path transport (default: the node decides)
 *   ferry.log=err|warn|info|debug PID 1 log level (also handed to children)
 *   ferry.on_fatal=reboot|poweroff|halt   what a fatal error does (default reboot)
 *   ferry.debug_exit=0|1          also write a QEMU isa-debug-exit code (tests)
 *   ferry.build=ID                image identity (informational)
 *   ferry.wait=SECONDS            how long to wait for the NIC and disks (default 15)
 *   ferry.ctl_disk=auto|NAME|tmpfs  where ctl keeps its state (default auto: the disk
 *                                 labelled ferry-ctl, else a ctl box's only blank disk)
 *   ferry.replicas=N              ctl: copies of every chunk, 1-8 (--replicas)
 *   ferry.down_after=DURATION     ctl: heartbeat silence before a node is down (--down-after)
 *   ferry.out_after=DURATION      ctl: time down before a node is out (--out-after)
 *   ferry.min_copies=N            ctl: live copies a write needs, 1-8, <= replicas (--min-copies)
 *   ferry.lease=DURATION          ctl: lease a node serves under, <= down_after/2 (--lease)
 *   ip=client:server:gw:netmask:hostname:device:autoconf   static address
 *   BOOTIF=01-aa-bb-cc-dd-ee-ff   MAC of the NIC to configure
 *
 * DURATION is a whole number with a unit: ms, s, m (or min) or h; from 1 ms
 * to 2^32-1 ms (49 days). The ctl keys configure the ctl child of a box with
 * ferry.role=ctl|both and are ignored on a node-only box, so one set of
 * deployment keys can serve every box.
 *
 * Unknown ferry.* keys, malformed values and inconsistent combinations are
 * errors: a node must not come up half-configured.
 */
#ifndef FERRY_INIT_CMDLINE_H
#define FERRY_INIT_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

#define INIT_MAX_DISKS   16
#define INIT_NAME_MAX    64  /* zone, hostname, disk names, ctl address */
#define INIT_IFNAME_MAX  16  /* IFNAMSIZ */
/* FERRY_PORT_DEFAULT of bpf/ferry_wire.h (not included: that header's
 * FERRY_VERSION is the wire version and clashes with the build's string). */
#define INIT_PORT_DEFAULT 7480
#define INIT_CTL_PORT_DEFAULT 7481
#define INIT_WAIT_DEFAULT_MS 15000 /* drivers probe asynchronously after finit_module */
/* ferry ctl takes --replicas 1..8 (MAP_MAX_R of cluster/map.h; init sits below
 * cluster and does not include it). Checked here too, so that a bad value is
 * one boot line naming the key rather than a ctl that exits with a usage error. */
#define INIT_REPLICAS_MAX 8

enum init_role {
	INIT_ROLE_NODE = 0, /* storage node only */
	INIT_ROLE_CTL = 1,  /* control plane only */
	INIT_ROLE_BOTH = 2, /* both on one box */
};

enum init_fatal {
	INIT_FATAL_REBOOT = 0,   /* reboot(RB_AUTOBOOT) */
	INIT_FATAL_POWEROFF = 1, /* reboot(RB_POWER_OFF) */
	INIT_FATAL_HALT = 2,     /* reboot(RB_HALT_SYSTEM) */
};

/* The ip= argument, kernel syntax; addresses in network byte order. */
struct init_ip {
	int set;                       /* ip= was given */
	uint32_t client;               /* our address (required) */
	uint32_t server;               /* boot server; 0 if empty */
	uint32_t gw;                   /* default gateway; 0 = none */
	int prefix;                    /* netmask as prefix length, 0..32 */
	char hostname[INIT_NAME_MAX];  /* may be empty */
	char device[INIT_IFNAME_MAX];  /* may be empty: pick by BOOTIF */
};

struct init_cfg {
	enum init_role role;            /* ferry.role */
	char ctl[INIT_NAME_MAX];        /* ferry.ctl as given ("" = none) */
	uint32_t ctl_addr;              /* its IPv4, network order */
	uint16_t ctl_port;              /* its port, host order */
	char zone[INIT_NAME_MAX];       /* ferry.zone ("" = none) */
	uint16_t port;                  /* ferry.port, host order */
	int disks_auto;                 /* ferry.disks=auto (the default) */
	int ndisks;                     /* entries in disks[] */
	char disks[INIT_MAX_DISKS][INIT_NAME_MAX]; /* as given */
	int format;                     /* ferry.format=1 */
	int has_cluster;                /* ferry.cluster given */
	uint8_t cluster[16];            /* its bytes */
	int has_node;                   /* ferry.node given */
	uint8_t node[16];               /* its bytes */
	char transport[8];              /* "" (node default), "xdp" or "udp" */
	int log_level;                  /* enum log_level */
	enum init_fatal on_fatal;       /* ferry.on_fatal */
	int debug_exit;                 /* ferry.debug_exit=1 */
	char build[INIT_NAME_MAX];      /* ferry.build */
	uint32_t wait_ms;               /* ferry.wait, in ms */
	char ctl_disk[INIT_NAME_MAX];   /* ferry.ctl_disk=NAME ("" = auto) */
	int ctl_tmpfs;                  /* ferry.ctl_disk=tmpfs: ctl state in RAM */
	uint32_t replicas;              /* ferry.replicas; 0 = ctl's default or saved map's */
	uint32_t min_copies;            /* ferry.min_copies; 0 = not given */
	uint32_t down_after_ms;         /* ferry.down_after; 0 = not given */
	uint32_t out_after_ms;          /* ferry.out_after; 0 = not given */
	uint32_t lease_ms;              /* ferry.lease; 0 = not given */
	struct init_ip ip;              /* ip= */
	int has_bootif;                 /* BOOTIF= given */
	uint8_t bootif[6];              /* its MAC */
};

/*
 * init_cmdline_parse - parse len bytes of a kernel command line into *cfg.
 * Words are separated by whitespace (or NUL); double quotes group a value
 * containing spaces, as the kernel does. On error returns -EINVAL and writes
 * one line naming the offending word into err (errlen bytes, always
 * terminated when errlen > 0). *cfg is fully initialised either way.
 */
int init_cmdline_parse(const char *buf, size_t len, struct init_cfg *cfg, char *err,
		       size_t errlen);

/*
 * init_cmdline_modparams - collect "MOD.param=value" words for module mod
 * (dashes and underscores are equivalent) into out as "param=value ...",
 * the form finit_module() takes. Returns the length written, or -ENOSPC.
 */
int init_cmdline_modparams(const char *buf, size_t len, const char *mod, char *out,
			   size_t outlen);


#endif
