/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmdline.c - parse the kernel command line (see cmdline.h).
 *
 * Everything here is a pure function of the input bytes so that it can be
 * fuzzed and unit-tested on the host. Words are copied into a bounded local
 * buffer before they are looked at; a word too long for it is an error only
 * when it is one of ours (the kernel may carry arbitrary long words).
 */
#include "init/cmdline.h"

#include "common/log.h"
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CMDLINE_WORD_MAX 512

/* The first error wins: it names the word that made us stop. */
static int cmdline_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int cmdline_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/*
 * cmdline_next_word - copy the next word at buf[*pos] into word (quotes
 * removed, as the kernel's next_arg() does). Returns the word length, 0 at
 * the end, or -E2BIG when it did not fit (the word is skipped, *trunc holds
 * its prefix so the caller can decide whether it matters).
 */
static int cmdline_next_word(const char *buf, size_t len, size_t *pos, char *word, size_t wmax)
{
	size_t i = *pos, n = 0;
	int quoted = 0, over = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r' ||
			   buf[i] == '\0'))
		i++;
	if (i >= len) {
		*pos = i;
		word[0] = '\0';
		return 0;
	}
	for (; i < len; i++) {
		char c = buf[i];

		if (c == '\0')
			break;
		if (!quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
			break;
		if (c == '"') {
			quoted = !quoted;
			continue;
		}
		if (n + 1 < wmax)
			word[n++] = c;
		else
			over = 1;
	}
	word[n] = '\0';
	*pos = i;
	if (over)
		return -E2BIG;
	/* A word made only of quotes ("") is empty but still a word. */
	return n ? (int)n : 1;
}

/* cmdline_parse_u32 - decimal digits only, no sign, value <= max. */
static int cmdline_parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

/*
 * cmdline_parse_duration - "<digits><unit>" with unit ms, s, m, min or h, into
 * milliseconds; 1 ms .. UINT32_MAX ms. A bare number is refused: "30" could
 * mean 30 s to a reader and 30 ms to ferry ctl.
 */
static int cmdline_parse_duration(const char *s, uint32_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "min", 60000 },
		      { "h", 3600000 } };
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit))
			continue;
		v *= units[i].mult;
		if (v == 0 || v > UINT32_MAX)
			return -ERANGE;
		*ms = (uint32_t)v;
		return 0;
	}
	return -EINVAL;
}

/* cmdline_parse_ipv4 - strict dotted quad [s, s+len) -> network order. */
static int cmdline_parse_ipv4(const char *s, size_t len, uint32_t *out)
{
	uint32_t parts[4];
	size_t i = 0;

	for (int p = 0; p < 4; p++) {
		uint32_t v = 0;
		size_t digits = 0;

		while (i < len && s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (uint32_t)(s[i] - '0');
			if (v > 255 || ++digits > 3)
				return -EINVAL;
			i++;
		}
		if (!digits)
			return -EINVAL;
		parts[p] = v;
		if (p < 3) {
			if (i >= len || s[i] != '.')
				return -EINVAL;
			i++;
		}
	}
	if (i != len)
		return -EINVAL;
	/* Network order: the first octet is the lowest-addressed byte. */
	uint8_t b[4] = { (uint8_t)parts[0], (uint8_t)parts[1], (uint8_t)parts[2],
			 (uint8_t)parts[3] };
	memcpy(out, b, 4);
	return 0;
}

/* cmdline_addr_port - "A.B.C.D:PORT" -> address and port. */
static int cmdline_addr_port(const char *s, uint32_t *addr, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	uint32_t p;

	if (!colon || cmdline_parse_ipv4(s, (size_t)(colon - s), addr) ||
	    cmdline_parse_u32(colon + 1, 65535, &p) || p == 0)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

/* cmdline_mac - "01-aa-bb-cc-dd-ee-ff" (pxelinux) or "aa:bb:...", '-' or ':'. */
static int cmdline_mac(const char *s, uint8_t mac[6])
{
	size_t len = strlen(s);

	if (len == 20 && s[0] == '0' && s[1] == '1' && (s[2] == '-' || s[2] == ':')) {
		s += 3;
		len -= 3;
	}
	if (len != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = util_hexval(s[i * 3]), lo = util_hexval(s[i * 3 + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < 5 && s[i * 3 + 2] != '-' && s[i * 3 + 2] != ':')
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* cmdline_name_ok - a zone, hostname or disk: [A-Za-z0-9._-/], 1..max-1 bytes. */
static int cmdline_name_ok(const char *s, size_t max, int allow_slash)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return 0;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || (allow_slash && c == '/')))
			return 0;
	}
	return 1;
}

/* cmdline_netmask - dotted contiguous mask or a prefix length -> prefix. */
static int cmdline_netmask(const char *s, size_t len, int *prefix)
{
	uint32_t m, p;
	char tmp[16];

	if (len == 0 || len >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (!memchr(s, '.', len)) {
		if (cmdline_parse_u32(tmp, 32, &p))
			return -EINVAL;
		*prefix = (int)p;
		return 0;
	}
	if (cmdline_parse_ipv4(s, len, &m))
		return -EINVAL;
	const uint8_t *b = (const uint8_t *)&m;
	uint32_t h = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	int n = 0;

	while (n < 32 && (h & (0x80000000u >> n)))
		n++;
	if (n < 32 && (h << n) != 0)
		return -EINVAL; /* holes in the mask */
	*prefix = n;
	return 0;
}

/*
 * cmdline_ip - ip=client:server:gw:netmask:hostname:device:autoconf[:dns0:dns1:ntp].
 * Only static configuration is supported: the lease comes from iPXE.
 */
static int cmdline_ip(const char *v, struct init_ip *ip, char *err, size_t errlen)
{
	const char *f[10];
	size_t fl[10];
	int nf = 0;
	const char *p = v;

	if (!strcmp(v, "dhcp") || !strcmp(v, "on") || !strcmp(v, "any") || !strcmp(v, "bootp") ||
	    !strcmp(v, "rarp") || !strcmp(v, "both") || !strcmp(v, "dhcp6") || !strcmp(v, "auto6"))
		return cmdline_fail(err, errlen,
				    "ip=%s: automatic configuration is not supported; pass a static "
				    "ip=client::gw:netmask::: (the iPXE lease)", v);
	if (!strcmp(v, "off") || !strcmp(v, "none")) {
		memset(ip, 0, sizeof(*ip));
		return 0;
	}
	for (;;) {
		const char *c = strchr(p, ':');

		if (nf == 10)
			return cmdline_fail(err, errlen, "ip=%s: too many fields", v);
		f[nf] = p;
		fl[nf] = c ? (size_t)(c - p) : strlen(p);
		nf++;
		if (!c)
			break;
		p = c + 1;
	}
	for (int i = nf; i < 10; i++) {
		f[i] = "";
		fl[i] = 0;
	}
	memset(ip, 0, sizeof(*ip));
	if (fl[0] == 0)
		return cmdline_fail(err, errlen, "ip=%s: no client address (did DHCP fail in iPXE?)",
				    v);
	if (cmdline_parse_ipv4(f[0], fl[0], &ip->client))
		return cmdline_fail(err, errlen, "ip=%s: bad client address '%.*s'", v,
				    (int)fl[0], f[0]);
	if (fl[1] && cmdline_parse_ipv4(f[1], fl[1], &ip->server))
		return cmdline_fail(err, errlen, "ip=%s: bad server address '%.*s'", v,
				    (int)fl[1], f[1]);
	if (fl[2] && cmdline_parse_ipv4(f[2], fl[2], &ip->gw))
		return cmdline_fail(err, errlen, "ip=%s: bad gateway '%.*s'", v, (int)fl[2], f[2]);
	if (fl[3] == 0)
		return cmdline_fail(err, errlen, "ip=%s: netmask missing", v);
	if (cmdline_netmask(f[3], fl[3], &ip->prefix))
		return cmdline_fail(err, errlen, "ip=%s: bad netmask '%.*s'", v, (int)fl[3], f[3]);
	if (fl[4]) {
		if (fl[4] >= sizeof(ip->hostname))
			return cmdline_fail(err, errlen, "ip=%s: hostname too long", v);
		memcpy(ip->hostname, f[4], fl[4]);
		if (!cmdline_name_ok(ip->hostname, sizeof(ip->hostname), 0))
			return cmdline_fail(err, errlen, "ip=%s: bad hostname", v);
	}
	if (fl[5]) {
		if (fl[5] >= sizeof(ip->device))
			return cmdline_fail(err, errlen, "ip=%s: device name too long", v);
		memcpy(ip->device, f[5], fl[5]);
		if (!cmdline_name_ok(ip->device, sizeof(ip->device), 0))
			return cmdline_fail(err, errlen, "ip=%s: bad device name", v);
	}
	if (fl[6] && !(fl[6] == 3 && !memcmp(f[6], "off", 3)) &&
	    !(fl[6] == 4 && !memcmp(f[6], "none", 4)) &&
	    !(fl[6] == 6 && !memcmp(f[6], "static", 6)))
		return cmdline_fail(err, errlen,
				    "ip=%s: autoconf '%.*s' is not supported (use off)", v,
				    (int)fl[6], f[6]);
	ip->set = 1;
	return 0;
}

/* cmdline_disks - "auto" or a comma list of names or /dev paths. */
static int cmdline_disks(const char *v, struct init_cfg *cfg, char *err, size_t errlen)
{
	const char *p = v;

	cfg->ndisks = 0;
	cfg->disks_auto = 0;
	if (!strcmp(v, "auto")) {
		cfg->disks_auto = 1;
		return 0;
	}
	for (;;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		char *d;

		if (cfg->ndisks == INIT_MAX_DISKS)
			return cmdline_fail(err, errlen, "ferry.disks: more than %d disks",
					    INIT_MAX_DISKS);
		if (n == 0 || n >= INIT_NAME_MAX)
			return cmdline_fail(err, errlen, "ferry.disks=%s: empty or too long entry", v);
		d = cfg->disks[cfg->ndisks];
		memcpy(d, p, n);
		d[n] = '\0';
		if (!cmdline_name_ok(d, INIT_NAME_MAX, 1) || strstr(d, ".."))
			return cmdline_fail(err, errlen, "ferry.disks: bad disk name '%s'", d);
		cfg->ndisks++;
		if (!c)
			break;
		p = c + 1;
	}
	return 0;
}

/* cmdline_dev_name - "/dev/vdb" and "vdb" name the same disk. */
static const char *cmdline_dev_name(const char *s)
{
	return strncmp(s, "/dev/", 5) ? s : s + 5;
}

static int cmdline_bool(const char *v, int *out)
{
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "false")) {
		*out = 0;
		return 0;
	}
	return -EINVAL;
}

/* cmdline_copies - ferry.replicas / ferry.min_copies: a count of copies. */
static int cmdline_copies(const char *key, const char *v, uint32_t *out, char *err,
			  size_t errlen)
{
	if (cmdline_parse_u32(v, INIT_REPLICAS_MAX, out) || *out == 0)
		return cmdline_fail(err, errlen, "ferry.%s=%s: want 1-%d", key, v,
				    INIT_REPLICAS_MAX);
	return 0;
}

/* cmdline_duration - ferry.down_after / out_after / lease. */
static int cmdline_duration(const char *key, const char *v, uint32_t *ms, char *err,
			    size_t errlen)
{
	if (cmdline_parse_duration(v, ms))
		return cmdline_fail(err, errlen,
				    "ferry.%s=%s: want a duration such as 500ms, 3s, 2m or 1h "
				    "(1ms to 49 days)", key, v);
	return 0;
}

/* cmdline_ferry_key - one ferry.KEY=VALUE word. */
static int cmdline_ferry_key(const char *key, const char *v, struct init_cfg *cfg, char *err,
			     size_t errlen)
{
	uint32_t u;
	int r;

	if (!strcmp(key, "role")) {
		if (!strcmp(v, "node"))
			cfg->role = INIT_ROLE_NODE;
		else if (!strcmp(v, "ctl"))
			cfg->role = INIT_ROLE_CTL;
		else if (!strcmp(v, "both"))
			cfg->role = INIT_ROLE_BOTH;
		else
			return cmdline_fail(err, errlen, "ferry.role=%s: want node, ctl or both", v);
	} else if (!strcmp(key, "ctl")) {
		if (strlen(v) >= sizeof(cfg->ctl) ||
		    cmdline_addr_port(v, &cfg->ctl_addr, &cfg->ctl_port))
			return cmdline_fail(err, errlen, "ferry.ctl=%s: want IPv4:PORT", v);
		strcpy(cfg->ctl, v);
	} else if (!strcmp(key, "zone")) {
		if (!cmdline_name_ok(v, sizeof(cfg->zone), 0))
			return cmdline_fail(err, errlen,
					    "ferry.zone=%s: want 1-63 of [A-Za-z0-9._-]", v);
		strcpy(cfg->zone, v);
	} else if (!strcmp(key, "port")) {
		if (cmdline_parse_u32(v, 65535, &u) || u == 0)
			return cmdline_fail(err, errlen, "ferry.port=%s: want 1-65535", v);
		cfg->port = (uint16_t)u;
	} else if (!strcmp(key, "disks")) {
		return cmdline_disks(v, cfg, err, errlen);
	} else if (!strcmp(key, "format")) {
		if (cmdline_bool(v, &cfg->format))
			return cmdline_fail(err, errlen, "ferry.format=%s: want 0 or 1", v);
	} else if (!strcmp(key, "cluster")) {
		if (util_uuid_parse(v, cfg->cluster))
			return cmdline_fail(err, errlen, "ferry.cluster=%s: not a UUID", v);
		cfg->has_cluster = 1;
	} else if (!strcmp(key, "node")) {
		if (util_uuid_parse(v, cfg->node))
			return cmdline_fail(err, errlen, "ferry.node=%s: not a UUID", v);
		cfg->has_node = 1;
	} else if (!strcmp(key, "transport")) {
		if (strcmp(v, "xdp") && strcmp(v, "udp"))
			return cmdline_fail(err, errlen, "ferry.transport=%s: want xdp or udp", v);
		strcpy(cfg->transport, v);
	} else if (!strcmp(key, "log")) {
		r = log_level_parse(v);
		if (r < 0)
			return cmdline_fail(err, errlen, "ferry.log=%s: want err, warn, info or debug",
					    v);
		cfg->log_level = r;
	} else if (!strcmp(key, "on_fatal")) {
		if (!strcmp(v, "reboot"))
			cfg->on_fatal = INIT_FATAL_REBOOT;
		else if (!strcmp(v, "poweroff"))
			cfg->on_fatal = INIT_FATAL_POWEROFF;
		else if (!strcmp(v, "halt"))
			cfg->on_fatal = INIT_FATAL_HALT;
		else
			return cmdline_fail(err, errlen,
					    "ferry.on_fatal=%s: want reboot, poweroff or halt", v);
	} else if (!strcmp(key, "debug_exit")) {
		if (cmdline_bool(v, &cfg->debug_exit))
			return cmdline_fail(err, errlen, "ferry.debug_exit=%s: want 0 or 1", v);
	} else if (!strcmp(key, "wait")) {
		if (cmdline_parse_u32(v, 600, &u))
			return cmdline_fail(err, errlen, "ferry.wait=%s: want 0-600 seconds", v);
		cfg->wait_ms = u * 1000;
	} else if (!strcmp(key, "ctl_disk")) {
		cfg->ctl_disk[0] = '\0';
		cfg->ctl_tmpfs = 0;
		if (!strcmp(v, "tmpfs"))
			cfg->ctl_tmpfs = 1;
		else if (strcmp(v, "auto")) {
			if (!cmdline_name_ok(v, sizeof(cfg->ctl_disk), 1) || strstr(v, ".."))
				return cmdline_fail(err, errlen,
						    "ferry.ctl_disk=%s: want auto, tmpfs or a disk "
						    "name such as nvme1n1 or /dev/vdb", v);
			strcpy(cfg->ctl_disk, v);
		}
	} else if (!strcmp(key, "replicas")) {
		return cmdline_copies(key, v, &cfg->replicas, err, errlen);
	} else if (!strcmp(key, "min_copies")) {
		return cmdline_copies(key, v, &cfg->min_copies, err, errlen);
	} else if (!strcmp(key, "down_after")) {
		return cmdline_duration(key, v, &cfg->down_after_ms, err, errlen);
	} else if (!strcmp(key, "out_after")) {
		return cmdline_duration(key, v, &cfg->out_after_ms, err, errlen);
	} else if (!strcmp(key, "lease")) {
		return cmdline_duration(key, v, &cfg->lease_ms, err, errlen);
	} else if (!strcmp(key, "build")) {
		if (!cmdline_name_ok(v, sizeof(cfg->build), 0))
			return cmdline_fail(err, errlen, "ferry.build=%s: bad build id", v);
		strcpy(cfg->build, v);
	} else {
		return cmdline_fail(err, errlen, "unknown key ferry.%s", key);
	}
	return 0;
}

static void cmdline_defaults(struct init_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = INIT_ROLE_NODE;
	cfg->port = INIT_PORT_DEFAULT;
	cfg->disks_auto = 1;
	cfg->log_level = LOG_LVL_INFO;
	cfg->on_fatal = INIT_FATAL_REBOOT;
	cfg->wait_ms = INIT_WAIT_DEFAULT_MS;
}

int init_cmdline_parse(const char *buf, size_t len, struct init_cfg *cfg, char *err,
		       size_t errlen)
{
	char word[CMDLINE_WORD_MAX];
	size_t pos = 0;
	int r;

	cmdline_defaults(cfg);
	if (errlen)
		err[0] = '\0';
	while ((r = cmdline_next_word(buf, len, &pos, word, sizeof(word))) != 0) {
		char *eq;

		if (r == -E2BIG) {
			if (!strncmp(word, "ferry.", 6) || !strncmp(word, "ip=", 3) ||
			    !strncmp(word, "BOOTIF=", 7))
				return cmdline_fail(err, errlen, "%.40s...: value too long", word);
			continue;
		}
		eq = strchr(word, '=');
		if (!strncmp(word, "ferry.", 6)) {
			if (!eq)
				return cmdline_fail(err, errlen, "%s: needs a value (%s=...)", word,
						    word);
			*eq = '\0';
			if (eq == word + 6)
				return cmdline_fail(err, errlen, "ferry.=%s: empty key", eq + 1);
			if (!eq[1])
				return cmdline_fail(err, errlen, "%s=: empty value", word);
			r = cmdline_ferry_key(word + 6, eq + 1, cfg, err, errlen);
			if (r)
				return r;
		} else if (!strncmp(word, "ip=", 3)) {
			r = cmdline_ip(word + 3, &cfg->ip, err, errlen);
			if (r)
				return r;
		} else if (!strncmp(word, "BOOTIF=", 7)) {
			if (cmdline_mac(word + 7, cfg->bootif))
				return cmdline_fail(err, errlen,
						    "%s: want BOOTIF=01-aa-bb-cc-dd-ee-ff", word);
			cfg->has_bootif = 1;
		}
	}
	/* Combinations. */
	if (cfg->format && !cfg->has_cluster)
		return cmdline_fail(err, errlen, "ferry.format=1 needs ferry.cluster=UUID");
	if (cfg->has_node && !cfg->has_cluster)
		return cmdline_fail(err, errlen, "ferry.node= needs ferry.cluster=UUID");
	if (cfg->min_copies && cfg->replicas && cfg->min_copies > cfg->replicas)
		return cmdline_fail(err, errlen, "ferry.min_copies=%u is more than ferry.replicas=%u",
				    cfg->min_copies, cfg->replicas);
	/* ctl would cut such a lease to half of down_after without a word: a
	 * lease must end before its holder can be declared down. */
	if (cfg->lease_ms && cfg->down_after_ms && cfg->lease_ms > cfg->down_after_ms / 2)
		return cmdline_fail(err, errlen,
				    "ferry.lease=%ums is more than half of ferry.down_after=%ums",
				    cfg->lease_ms, cfg->down_after_ms);
	if (cfg->role != INIT_ROLE_NODE && cfg->ctl_disk[0] && !cfg->disks_auto) {
		const char *cd = cmdline_dev_name(cfg->ctl_disk);

		for (int i = 0; i < cfg->ndisks; i++)
			if (!strcmp(cd, cmdline_dev_name(cfg->disks[i])))
				return cmdline_fail(err, errlen,
						    "ferry.ctl_disk=%s is also in ferry.disks: the "
						    "ctl's state disk cannot be a node disk",
						    cfg->ctl_disk);
	}
	if (!cfg->ip.set)
		return cmdline_fail(err, errlen,
				    "no ip= on the kernel command line (want "
				    "ip=client::gw:netmask::[device]:off)");
	if (!cfg->ip.device[0] && !cfg->has_bootif)
		return cmdline_fail(err, errlen,
				    "ip= names no device and there is no BOOTIF= to pick the NIC");
	return 0;
}

static void cmdline_modname_norm(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

int init_cmdline_modparams(const char *buf, size_t len, const char *mod, char *out,
			   size_t outlen)
{
	char word[CMDLINE_WORD_MAX], want[INIT_NAME_MAX];
	size_t pos = 0, n = 0, mlen = strlen(mod);
	int r;

	if (outlen == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (mlen == 0 || mlen >= sizeof(want))
		return 0;
	memcpy(want, mod, mlen + 1);
	cmdline_modname_norm(want);
	while ((r = cmdline_next_word(buf, len, &pos, word, sizeof(word))) != 0) {
		char *dot = strchr(word, '.'), *eq = strchr(word, '=');
		size_t plen;

		if (r < 0 || !dot || (eq && eq < dot) || (size_t)(dot - word) != mlen)
			continue;
		*dot = '\0';
		cmdline_modname_norm(word);
		if (strcmp(word, want) || !dot[1])
			continue;
		plen = strlen(dot + 1);
		/* Values with spaces came quoted; quote them again for the kernel. */
		int q = strchr(dot + 1, ' ') != NULL && eq;
		size_t need = plen + (n ? 1 : 0) + (q ? 2 : 0);

		if (n + need + 1 > outlen)
			return -ENOSPC;
		if (n)
			out[n++] = ' ';
		if (q) {
			size_t klen = (size_t)(eq - dot); /* "param=" */
			memcpy(out + n, dot + 1, klen);
			n += klen;
			out[n++] = '"';
			memcpy(out + n, eq + 1, plen - klen);
			n += plen - klen;
			out[n++] = '"';
		} else {
			memcpy(out + n, dot + 1, plen);
			n += plen;
		}
		out[n] = '\0';
	}
	return (int)n;
}
