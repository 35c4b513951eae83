/* SPDX-License-Identifier: Apache-2.0 */
/*
 * init.c - PID 1: set the box up, start the node and/or ctl, supervise them.
 *
 * Order matters: /dev first (so /dev/kmsg and /dev/console exist), then
 * /proc (the command line), then logging, then everything that can fail.
 * Every failure goes through init_fatal(): one console line naming the
 * problem, sync, the ferry.on_fatal action. PID 1 never returns, because
 * the kernel panics when init exits.
 *
 * Children are this same binary re-executed with a subcommand, so the
 * image holds exactly one program. All signals are blocked and read from a
 * signalfd; the loop waits on it with a timeout equal to the next pending
 * restart.
 */
#include "common/util.h"
#include "init/init.h"
#include "init/init_int.h"

#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#endif

#define INIT_BACKOFF_MIN_MS 1000
#define INIT_BACKOFF_MAX_MS 30000
#define INIT_STABLE_MS     60000 /* a child that ran this long resets its backoff */
#define INIT_STOP_MS        5000 /* grace between SIGTERM and SIGKILL at shutdown */
#define INIT_ARGV_MAX      48
#define INIT_CMDLINE_MAX   4096
#ifndef FERRY_BUILD_VERSION
#define FERRY_BUILD_VERSION "unknown"
#endif

struct init_child {
	const char *name;              /* "node" or "ctl" */
	char *argv[INIT_ARGV_MAX];     /* argv[0] is the binary */
	pid_t pid;                     /* 0 = not running */
	unsigned restarts;             /* how many times restarted */
	unsigned backoff_ms;           /* delay before the next restart */
	int64_t started_ms;            /* monotonic start time */
	int64_t restart_at_ms;         /* 0 = no restart pending */
	int out_fd;                    /* read end of its stdout/stderr pipe, or -1 */
	size_t out_len;                /* bytes of a partial line in out_buf */
	char out_buf[1024];            /* partial line */
};

static struct init_cfg init_cfg;            /* from /proc/cmdline */
static int init_kmsg_fd = -1;               /* /dev/kmsg, or -1 */
static char init_last_err[512];             /* last error line, for the FATAL line */
static const char *init_self = "/init";     /* what children execute */
static struct init_child init_children[2];
static int init_nchildren;
static int init_ctl_mounted;                /* the ctl state disk is on INIT_CTL_MNT */

static int64_t init_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sink: one record per line into the kernel log, so lines reach the serial
 * console with the kernel's own messages; /dev/console if kmsg is missing. */
static void init_log_sink(enum log_level lvl, const char *line, void *arg)
{
	static const int prio[] = { 3, 4, 6, 7 };
	char buf[1100];
	int n;

	(void)arg;
	if (lvl == LOG_LVL_ERR && strncmp(line, "FATAL", 5))
		snprintf(init_last_err, sizeof(init_last_err), "%s", line);
	if (init_kmsg_fd >= 0) {
		n = snprintf(buf, sizeof(buf), "<%d>ferry: %s\n", prio[lvl & 3], line);
		if (n > 0 && write(init_kmsg_fd, buf, (size_t)n) >= 0)
			return;
	}
	n = snprintf(buf, sizeof(buf), "ferry: %s\n", line);
	if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}

/* init_child_line - one line of a child's output into the kernel log, so it
 * gets a timestamp and reaches the console (and netconsole) like ours. */
static void init_child_line(const char *name, const char *line, size_t len)
{
	char buf[1200];
	int n;

	if (len >= 7 && !memcmp(line, "ferry: ", 7)) {
		line += 7;
		len -= 7;
	}
	if (init_kmsg_fd >= 0) {
		n = snprintf(buf, sizeof(buf), "<6>ferry %s: %.*s\n", name, (int)len, line);
		if (n > 0 && write(init_kmsg_fd, buf, (size_t)n) >= 0)
			return;
	}
	n = snprintf(buf, sizeof(buf), "ferry %s: %.*s\n", name, (int)len, line);
	if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}

/* init_child_drain - read what is there; split into lines; close at EOF. */
static void init_child_drain(struct init_child *c)
{
	for (;;) {
		ssize_t n = read(c->out_fd, c->out_buf + c->out_len, sizeof(c->out_buf) - c->out_len);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				if (c->out_len)
					init_child_line(c->name, c->out_buf, c->out_len);
				c->out_len = 0;
				close(c->out_fd);
				c->out_fd = -1;
			}
			return;
		}
		c->out_len += (size_t)n;
		while ((nl = memchr(c->out_buf, '\n', c->out_len))) {
			size_t l = (size_t)(nl - c->out_buf);

			init_child_line(c->name, c->out_buf, l);
			memmove(c->out_buf, nl + 1, c->out_len - l - 1);
			c->out_len -= l + 1;
		}
		if (c->out_len == sizeof(c->out_buf)) { /* a line longer than the buffer */
			init_child_line(c->name, c->out_buf, c->out_len);
			c->out_len = 0;
		}
	}
}

static void init_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* init_debug_exit - tell QEMU's isa-debug-exit device to end the VM. */
static void init_debug_exit(unsigned code)
{
#if defined(__x86_64__) || defined(__i386__)
	if (!init_cfg.debug_exit)
		return;
	init_sleep_ms(200); /* let the serial console drain */
	if (ioperm(0xf4, 4, 1) == 0)
		outl(code, 0xf4);
#else
	(void)code;
#endif
}

static void init_kill_children(int sig)
{
	for (int i = 0; i < init_nchildren; i++)
		if (init_children[i].pid > 0)
			kill(init_children[i].pid, sig);
}

/* init_final - sync and do the reboot(2) action; never returns. */
static __attribute__((noreturn)) void init_final(enum init_fatal how, unsigned debug_code)
{
	static const int cmds[] = { RB_AUTOBOOT, RB_POWER_OFF, RB_HALT_SYSTEM };

	sync();
	init_debug_exit(debug_code);
	reboot(cmds[how]);
	/* reboot(2) failed (not PID 1?): never return, never spin. */
	for (;;)
		pause();
}

/* init_fatal - one console line naming the problem, then on_fatal. */
static __attribute__((noreturn, format(printf, 1, 2))) void init_fatal(const char *fmt, ...)
{
	static const char *const names[] = { "reboot", "poweroff", "halt" };
	char line[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_err("FATAL: %s; %s (ferry.on_fatal)", line, names[init_cfg.on_fatal]);
	init_kill_children(SIGKILL);
	init_final(init_cfg.on_fatal, INIT_DEBUG_EXIT_FATAL);
}

/* init_mount - mkdir -p target, mount; EBUSY (already mounted) is fine. */
static int init_mount(const char *src, const char *target, const char *type,
		      unsigned long flags, const char *data)
{
	mkdir(target, 0755);
	if (mount(src, target, type, flags, data) < 0 && errno != EBUSY)
		return -errno;
	return 0;
}

static void init_mounts(void)
{
	static const struct {
		const char *src, *target, *type;
		unsigned long flags;
		const char *data;
	} m[] = {
		{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
		{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "bpf", "/sys/fs/bpf", "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700" },
		{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
	};
	int r;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		r = init_mount(m[i].src, m[i].target, m[i].type, m[i].flags, m[i].data);
		if (i == 0) {
			/* Now /dev exists: open the log and, if the kernel found no
			 * /dev/console in the cpio, our stdio. */
			init_kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
			if (fcntl(STDERR_FILENO, F_GETFD) < 0) {
				int fd = open("/dev/console", O_RDWR);

				if (fd >= 0) {
					dup2(fd, 0);
					dup2(fd, 1);
					dup2(fd, 2);
					if (fd > 2)
						close(fd);
				}
			}
			log_set_sink(init_log_sink, NULL);
		}
		if (r)
			init_fatal("mounting %s on %s: %s", m[i].type, m[i].target, strerror(-r));
	}
}

static int init_read_file(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;
	ssize_t n;

	*len = 0;
	if (fd < 0)
		return -errno;
	while (*len < cap && (n = read(fd, buf + *len, cap - *len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		*len += (size_t)n;
	}
	close(fd);
	return r;
}

/* init_spawn_wait - run self with argv and wait for it (before the loop). */
static int init_spawn_wait(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execv(init_self, argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static void init_format_blank(const struct init_disks *disks)
{
	char cluster[37], node[37];
	uint8_t nu[16];
	int r;

	util_uuid_format(init_cfg.cluster, cluster);
	if (init_cfg.has_node) {
		memcpy(nu, init_cfg.node, 16);
	} else {
		/* One new node UUID for every blank disk of this boot (RFC 4122 v4). */
		if (getrandom(nu, sizeof(nu), 0) != (ssize_t)sizeof(nu))
			init_fatal("getrandom for a node UUID: %s", strerror(errno));
		nu[6] = (uint8_t)((nu[6] & 0x0f) | 0x40);
		nu[8] = (uint8_t)((nu[8] & 0x3f) | 0x80);
	}
	util_uuid_format(nu, node);
	for (int i = 0; i < disks->n; i++) {
		char *argv[] = { (char *)init_self, "format", "--disk", (char *)disks->path[i],
				 "--cluster", cluster, "--node", node, NULL };

		r = init_disk_is_blank(disks->path[i]);
		if (r < 0)
			init_fatal("reading %s: %s", disks->path[i], strerror(-r));
		if (r == 0) {
			log_info("disks: %s has data; leaving it to the node", disks->path[i]);
			continue;
		}
		log_info("disks: formatting blank %s for cluster %s node %s", disks->path[i],
			 cluster, node);
		r = init_spawn_wait(argv);
		if (r)
			init_fatal("format of %s failed (exit %d)", disks->path[i], r);
	}
}

/* init_child_add - describe a child; strings are copied into static storage. */
static struct init_child *init_child_add(const char *name)
{
	struct init_child *c = &init_children[init_nchildren++];

	memset(c, 0, sizeof(*c));
	c->name = name;
	c->backoff_ms = INIT_BACKOFF_MIN_MS;
	c->out_fd = -1;
	c->argv[0] = (char *)init_self;
	return c;
}

static void init_child_arg(struct init_child *c, const char *a)
{
	int n = 0;

	while (c->argv[n])
		n++;
	if (n + 1 >= INIT_ARGV_MAX)
		init_fatal("too many arguments for %s", c->name);
	c->argv[n] = strdup(a);
	if (!c->argv[n])
		init_fatal("out of memory");
}


/* The arguments every child shares: the cluster it must belong to and the
 * log level of the command line. */
static void init_child_common_args(struct init_child *c)
{
	if (init_cfg.has_cluster) {
		char u[37];

		util_uuid_format(init_cfg.cluster, u);
		init_child_arg(c, "--cluster");
		init_child_arg(c, u);
	}
	init_child_arg(c, "--log-level");
	init_child_arg(c, (const char *[]){ "err", "warn", "info", "debug" }[init_cfg.log_level & 3]);
}

/* init_child_ms_arg - "--opt <ms>ms" when the key was given (ms: ctl's syntax). */
static void init_child_ms_arg(struct init_child *c, const char *opt, uint32_t ms)
{
	char v[24];

	if (!ms)
		return;
	snprintf(v, sizeof(v), "%ums", ms);
	init_child_arg(c, opt);
	init_child_arg(c, v);
}

/* The ctl's knobs from the command line. Without them ctl keeps what its
 * saved map says (R, min copies) or its defaults. */
static void init_ctl_knob_args(struct init_child *c)
{
	char v[16];

	if (init_cfg.replicas) {
		snprintf(v, sizeof(v), "%u", init_cfg.replicas);
		init_child_arg(c, "--replicas");
		init_child_arg(c, v);
	}
	if (init_cfg.min_copies) {
		snprintf(v, sizeof(v), "%u", init_cfg.min_copies);
		init_child_arg(c, "--min-copies");
		init_child_arg(c, v);
	}
	init_child_ms_arg(c, "--down-after", init_cfg.down_after_ms);
	init_child_ms_arg(c, "--out-after", init_cfg.out_after_ms);
	init_child_ms_arg(c, "--lease", init_cfg.lease_ms);
}

static void init_children_describe(const struct init_disks *disks, const char *ifname,
				   const char *ctl_state)
{
	char ip[INET_ADDRSTRLEN], buf[INIT_NAME_MAX + 32];
	uint16_t ctl_port = init_cfg.ctl[0] ? init_cfg.ctl_port : INIT_CTL_PORT_DEFAULT;
	struct init_child *c;

	inet_ntop(AF_INET, &init_cfg.ip.client, ip, sizeof(ip));
	if (init_cfg.role == INIT_ROLE_CTL || init_cfg.role == INIT_ROLE_BOTH) {
		c = init_child_add("ctl");
		init_child_arg(c, "ctl");
		init_child_arg(c, "--listen");
		snprintf(buf, sizeof(buf), "%s:%u", ip, ctl_port);
		init_child_arg(c, buf);
		init_child_arg(c, "--state");
		init_child_arg(c, ctl_state);
		init_ctl_knob_args(c);
		init_child_common_args(c);
	}
	if (init_cfg.role == INIT_ROLE_NODE || init_cfg.role == INIT_ROLE_BOTH) {
		c = init_child_add("node");
		init_child_arg(c, "node");
		/* ferry node serves one disk per process today: take the first
		 * (sorted) and say so when there are more. */
		init_child_arg(c, "--disk");
		init_child_arg(c, disks->path[0]);
		for (int i = 1; i < disks->n; i++)
			log_warn("disks: %s not served (ferry node takes one --disk)",
				 disks->path[i]);
		init_child_arg(c, "--listen");
		snprintf(buf, sizeof(buf), "%s:%u", ip, init_cfg.port);
		init_child_arg(c, buf);
		init_child_arg(c, "--iface");
		init_child_arg(c, ifname);
		init_child_common_args(c);
		if (init_cfg.transport[0]) {
			init_child_arg(c, "--transport");
			init_child_arg(c, init_cfg.transport);
		}
		if (init_cfg.ctl[0] || init_cfg.role == INIT_ROLE_BOTH) {
			init_child_arg(c, "--ctl");
			if (init_cfg.ctl[0])
				init_child_arg(c, init_cfg.ctl);
			else {
				snprintf(buf, sizeof(buf), "%s:%u", ip, ctl_port);
				init_child_arg(c, buf);
			}
			if (init_cfg.zone[0]) {
				init_child_arg(c, "--zone");
				init_child_arg(c, init_cfg.zone);
			}
		}
	}
}

static void init_child_start(struct init_child *c)
{
	static const char *const lvl[] = { "err", "warn", "info", "debug" };
	char cmd[512];
	size_t n = 0;
	int pfd[2] = { -1, -1 };
	pid_t pid;

	c->restart_at_ms = 0;
	if (c->out_fd >= 0) { /* what the previous run left in its pipe */
		init_child_drain(c);
		if (c->out_fd >= 0)
			close(c->out_fd);
		c->out_fd = -1;
	}
	/* Without a pipe the child simply writes to the console. */
	if (pipe2(pfd, O_CLOEXEC) < 0)
		pfd[0] = pfd[1] = -1;
	for (int i = 1; c->argv[i] && n < sizeof(cmd) - 1; i++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s%s", i > 1 ? " " : "", c->argv[i]);
	pid = fork();
	if (pid < 0) {
		log_err("%s: fork: %s; retrying in %u ms", c->name, strerror(errno), c->backoff_ms);
		if (pfd[0] >= 0) {
			close(pfd[0]);
			close(pfd[1]);
		}
		c->restart_at_ms = init_now_ms() + c->backoff_ms;
		return;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		if (pfd[1] >= 0) {
			dup2(pfd[1], STDOUT_FILENO);
			dup2(pfd[1], STDERR_FILENO);
		}
		setenv("FERRY_LOG", lvl[init_cfg.log_level & 3], 1);
		execv(init_self, c->argv);
		_exit(127);
	}
	if (pfd[1] >= 0) {
		close(pfd[1]);
		fcntl(pfd[0], F_SETFL, O_NONBLOCK);
		c->out_fd = pfd[0];
		c->out_len = 0;
	}
	c->pid = pid;
	c->started_ms = init_now_ms();
	log_info("%s: started pid %d: %s", c->name, (int)pid, cmd);
}

/* init_child_exited - log it and schedule the restart (or give up). */
static void init_child_exited(struct init_child *c, int status)
{
	int64_t now = init_now_ms(), ran = now - c->started_ms;

	c->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		init_fatal("%s rejected its command line (exit 2); check the ferry.* keys",
			   c->name);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		init_fatal("%s: could not execute %s", c->name, init_self);
	if (ran >= INIT_STABLE_MS)
		c->backoff_ms = INIT_BACKOFF_MIN_MS;
	if (WIFEXITED(status))
		log_err("%s: exited with status %d after %lld ms; restart %u in %u ms", c->name,
			WEXITSTATUS(status), (long long)ran, c->restarts + 1, c->backoff_ms);
	else
		log_err("%s: killed by signal %d (%s) after %lld ms; restart %u in %u ms", c->name,
			WTERMSIG(status), strsignal(WTERMSIG(status)), (long long)ran,
			c->restarts + 1, c->backoff_ms);
	c->restart_at_ms = now + c->backoff_ms;
	c->restarts++;
	c->backoff_ms = c->backoff_ms * 2 > INIT_BACKOFF_MAX_MS ? INIT_BACKOFF_MAX_MS
								: c->backoff_ms * 2;
}

static void init_reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		int found = 0;

		for (int i = 0; i < init_nchildren; i++)
			if (init_children[i].pid == pid) {
				init_child_exited(&init_children[i], status);
				found = 1;
			}
		if (!found)
			log_debug("reaped orphan pid %d", (int)pid);
	}
}

/* init_shutdown - orderly stop on SIGTERM/SIGPWR (poweroff) or SIGINT (reboot). */
static __attribute__((noreturn)) void init_shutdown(int sig)
{
	enum init_fatal how = sig == SIGINT ? INIT_FATAL_REBOOT : INIT_FATAL_POWEROFF;
	int64_t deadline = init_now_ms() + INIT_STOP_MS;
	int status;

	log_info("shutdown: %s, stopping children", strsignal(sig));
	init_kill_children(SIGTERM);
	for (;;) {
		int left = 0;
		pid_t pid;

		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (int i = 0; i < init_nchildren; i++)
				if (init_children[i].pid == pid)
					init_children[i].pid = 0;
		for (int i = 0; i < init_nchildren; i++)
			left += init_children[i].pid > 0;
		if (!left || init_now_ms() >= deadline)
			break;
		init_sleep_ms(50);
	}
	init_kill_children(SIGKILL);
	/* The map is fsynced on every change; unmounting just leaves the
	 * journal clean. */
	if (init_ctl_mounted && umount2(INIT_CTL_MNT, 0) < 0)
		log_warn("shutdown: unmounting %s: %s", INIT_CTL_MNT, strerror(errno));
	log_info("shutdown: %s", how == INIT_FATAL_REBOOT ? "rebooting" : "powering off");
	init_final(how, INIT_DEBUG_EXIT_SHUTDOWN);
}

/*
 * init_ctl_state - the directory ferry ctl keeps its state in: the state
 * disk (found, formatted when blank, mounted; see ctldisk.c), or tmpfs when
 * ferry.ctl_disk=tmpfs says so. No state disk is fatal: a ctl that forgets
 * the map at its next reboot must not look like one that keeps it. disk
 * receives the device ("" for tmpfs), which the node must not take.
 */
static const char *init_ctl_state(const char *cmdline, size_t len, char disk[INIT_MAX_PATH])
{
	int kind;

	disk[0] = '\0';
	if (init_cfg.ctl_tmpfs) {
		log_warn("ctl: WARNING: ferry.ctl_disk=tmpfs: the cluster map, its epoch and R are "
			 "kept in RAM (%s) and LOST at every reboot of this box", INIT_CTL_TMPFS);
		mkdir("/run/ferry", 0755);
		mkdir(INIT_CTL_TMPFS, 0700);
		return INIT_CTL_TMPFS;
	}
	if (init_ctl_disk_find(&init_cfg, init_cfg.wait_ms, disk, &kind))
		init_fatal("%s", init_last_err);
	if (init_modules_load("", INIT_MODULES_CTL_LIST, cmdline, len))
		init_fatal("kernel modules for the ctl state disk: %s", init_last_err);
	if (kind == INIT_DISK_BLANK) {
		log_info("ctl: formatting blank %s as the ctl state disk (ext4, label "
			 INIT_CTL_LABEL ")", disk);
		if (init_ctl_disk_format(INIT_CTL_TEMPLATE, disk))
			init_fatal("formatting the ctl state disk %s: %s", disk, init_last_err);
	}
	if (init_ctl_disk_mount(disk, INIT_CTL_MNT))
		init_fatal("%s", init_last_err);
	init_ctl_mounted = 1;
	log_info("ctl: state disk %s mounted on %s", disk, INIT_CTL_MNT);
	return INIT_CTL_MNT;
}

static void init_loop(int sfd)
{
	for (;;) {
		int64_t now = init_now_ms(), next = -1;
		struct pollfd p[1 + 2] = { { .fd = sfd, .events = POLLIN } };
		struct signalfd_siginfo si;
		nfds_t np = 1;
		int owner[3] = { -1, -1, -1 };

		for (int i = 0; i < init_nchildren; i++) {
			struct init_child *c = &init_children[i];

			if (c->restart_at_ms && c->restart_at_ms <= now)
				init_child_start(c);
			if (c->restart_at_ms && (next < 0 || c->restart_at_ms < next))
				next = c->restart_at_ms;
		}
		for (int i = 0; i < init_nchildren; i++)
			if (init_children[i].out_fd >= 0) {
				p[np].fd = init_children[i].out_fd;
				p[np].events = POLLIN;
				owner[np++] = i;
			}
		if (poll(p, np, next < 0 ? -1 : (int)(next - now > 0 ? next - now : 0)) <= 0)
			continue;
		for (nfds_t k = 1; k < np; k++)
			if (p[k].revents && init_children[owner[k]].out_fd == p[k].fd)
				init_child_drain(&init_children[owner[k]]);
		if (!(p[0].revents & POLLIN) || read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		switch (si.ssi_signo) {
		case SIGCHLD:
			init_reap();
			break;
		case SIGTERM:
		case SIGPWR:
		case SIGINT: /* Ctrl-Alt-Del, with RB_DISABLE_CAD */
			init_shutdown((int)si.ssi_signo);
		default:
			log_debug("ignoring signal %u", si.ssi_signo);
		}
	}
}

int init_main(int argc, char **argv)
{
	static char cmdline[INIT_CMDLINE_MAX];
	char err[300], ifname[16], ctl_disk[INIT_MAX_PATH] = "";
	const char *ctl_state = NULL;
	struct init_disks disks;
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	sigset_t all;
	size_t len;
	int sfd, r;

	(void)argc;
	if (argv && argv[0] && argv[0][0] == '/')
		init_self = argv[0];
	/* Signals first: nothing may kill or interrupt PID 1 before the loop. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	init_cfg.on_fatal = INIT_FATAL_REBOOT;
	init_mounts();
	sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sfd < 0)
		init_fatal("signalfd: %s", strerror(errno));
	reboot(RB_DISABLE_CAD);

	r = init_read_file("/proc/cmdline", cmdline, sizeof(cmdline) - 1, &len);
	if (r)
		init_fatal("reading /proc/cmdline: %s", strerror(-r));
	cmdline[len] = '\0';
	if (init_cmdline_parse(cmdline, len, &init_cfg, err, sizeof(err)))
		init_fatal("kernel command line: %s", err);
	log_set_level((enum log_level)init_cfg.log_level);
	log_info("init: ferry %s as PID 1, role %s%s%s", FERRY_BUILD_VERSION,
		 (const char *[]){ "node", "ctl", "both" }[init_cfg.role],
		 init_cfg.build[0] ? ", build " : "", init_cfg.build);

	/* UMEM and io_uring fixed buffers are charged to RLIMIT_MEMLOCK. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
		log_warn("init: RLIMIT_MEMLOCK: %s", strerror(errno));
	if (init_modules_load("", INIT_MODULES_LIST, cmdline, len))
		init_fatal("kernel modules: %s", init_last_err);
	if (init_net_setup(&init_cfg, init_cfg.wait_ms, ifname))
		init_fatal("network setup: %s", init_last_err);

	/* The ctl's disk first: on a ctl+node box it is not the node's. */
	if (init_cfg.role != INIT_ROLE_NODE)
		ctl_state = init_ctl_state(cmdline, len, ctl_disk);
	disks.n = 0;
	if (init_cfg.role != INIT_ROLE_CTL) {
		if (init_disks_find(&init_cfg, init_cfg.wait_ms, ctl_disk[0] ? ctl_disk : NULL,
				    &disks))
			init_fatal("no usable disks: %s", init_last_err);
		for (int i = 0; i < disks.n; i++)
			log_info("disks: found %s", disks.path[i]);
		if (init_cfg.format)
			init_format_blank(&disks);
	}
	init_probe_log(ifname);

	init_children_describe(&disks, ifname, ctl_state);
	for (int i = 0; i < init_nchildren; i++)
		init_child_start(&init_children[i]);
	init_loop(sfd);
	init_fatal("supervisor loop ended");
}

