/* SPDX-License-Identifier: Apache-2.0 */
/* test_init_cmdline - the PID 1 kernel command line parser: good and bad keys. */
#include "common/util.h"
#include "init/cmdline.h"
#include "common/log.h"
#include "lib/test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#define BASE "ip=10.0.2.15::10.0.2.2:255.255.255.0:n1::off BOOTIF=01-52-54-00-12-34-56"

static int parse(const char *s, struct init_cfg *c, char *err)
{
	return init_cmdline_parse(s, strlen(s), c, err, 200);
}

static uint32_t ip4(const char *s)
{
	uint32_t a;

	inet_pton(AF_INET, s, &a);
	return a;
}

static void test_defaults(void)
{
	struct init_cfg c;
	char err[200];

	REQUIRE(parse("console=ttyS0 quiet " BASE "\n", &c, err) == 0);
	CHECK_EQ(c.role, INIT_ROLE_NODE);
	CHECK_EQ(c.port, INIT_PORT_DEFAULT);
	CHECK(c.disks_auto);
	CHECK_EQ(c.format, 0);
	CHECK_EQ(c.on_fatal, INIT_FATAL_REBOOT);
	CHECK_EQ(c.log_level, LOG_LVL_INFO);
	CHECK_EQ(c.wait_ms, INIT_WAIT_DEFAULT_MS);
	/* The ctl knobs default to "not given": ctl's own defaults apply. */
	CHECK(!strcmp(c.ctl_disk, ""));
	CHECK_EQ(c.ctl_tmpfs, 0);
	CHECK_EQ(c.replicas, 0);
	CHECK_EQ(c.min_copies, 0);
	CHECK_EQ(c.down_after_ms, 0);
	CHECK_EQ(c.out_after_ms, 0);
	CHECK_EQ(c.lease_ms, 0);
	CHECK(c.ip.set);
	CHECK_EQ(c.ip.client, ip4("10.0.2.15"));
	CHECK_EQ(c.ip.gw, ip4("10.0.2.2"));
	CHECK_EQ(c.ip.server, 0);
	CHECK_EQ(c.ip.prefix, 24);
	CHECK(!strcmp(c.ip.hostname, "n1"));
	CHECK(c.has_bootif);
	CHECK(!memcmp(c.bootif, "\x52\x54\x00\x12\x34\x56", 6));
}

static void test_all_keys(void)
{
	struct init_cfg c;
	char err[200];
	const char *s = "ferry.role=both ferry.ctl=10.0.0.1:7481 ferry.zone=rack-1 "
			"ferry.port=9000 ferry.disks=nvme0n1,/dev/vdb ferry.format=1 "
			"ferry.cluster=0123456789ab-cdef-0123-456789abcdef "
			"ferry.log=debug ferry.on_fatal=poweroff ferry.debug_exit=1 "
			"ferry.transport=udp ferry.build=abc123 "
			"ip=192.168.1.5:192.168.1.1::16:host:eth1:none";

	/* The cluster UUID above is malformed on purpose (8-4-4-4-12 broken). */
	CHECK(parse(s, &c, err) == -EINVAL);
	CHECK(strstr(err, "ferry.cluster") != NULL);

	s = "ferry.role=both ferry.ctl=10.0.0.1:7481 ferry.zone=rack-1 "
	    "ferry.port=9000 ferry.disks=nvme0n1,/dev/vdb ferry.format=1 "
	    "ferry.cluster=01234567-89ab-cdef-0123-456789ABCDEF "
	    "ferry.node=11111111-2222-3333-4444-555555555555 "
	    "ferry.log=debug ferry.on_fatal=poweroff ferry.debug_exit=1 "
	    "ferry.transport=udp ferry.build=abc123 ferry.wait=3 "
	    "ip=192.168.1.5:192.168.1.1::16:host:eth1:none";
	REQUIRE(parse(s, &c, err) == 0);
	CHECK_EQ(c.role, INIT_ROLE_BOTH);
	CHECK(!strcmp(c.ctl, "10.0.0.1:7481"));
	CHECK_EQ(c.ctl_addr, ip4("10.0.0.1"));
	CHECK_EQ(c.ctl_port, 7481);
	CHECK(!strcmp(c.zone, "rack-1"));
	CHECK_EQ(c.port, 9000);
	CHECK_EQ(c.disks_auto, 0);
	CHECK_EQ(c.ndisks, 2);
	CHECK(!strcmp(c.disks[0], "nvme0n1"));
	CHECK(!strcmp(c.disks[1], "/dev/vdb"));
	CHECK_EQ(c.format, 1);
	CHECK(c.has_cluster);
	CHECK_EQ(c.cluster[0], 0x01);
	CHECK_EQ(c.cluster[15], 0xef);
	CHECK(c.has_node);
	CHECK_EQ(c.node[15], 0x55);
	CHECK_EQ(c.log_level, LOG_LVL_DEBUG);
	CHECK_EQ(c.on_fatal, INIT_FATAL_POWEROFF);
	CHECK_EQ(c.debug_exit, 1);
	CHECK(!strcmp(c.transport, "udp"));
	CHECK(!strcmp(c.build, "abc123"));
	CHECK_EQ(c.wait_ms, 3000);
	CHECK_EQ(c.ip.prefix, 16);
	CHECK_EQ(c.ip.server, ip4("192.168.1.1"));
	CHECK_EQ(c.ip.gw, 0);
	CHECK(!strcmp(c.ip.device, "eth1"));
	CHECK_EQ(c.has_bootif, 0);

	char u[37];

	util_uuid_format(c.cluster, u);
	CHECK(!strcmp(u, "01234567-89ab-cdef-0123-456789abcdef"));
}

/* The ctl's knobs: R, failure detection, the state disk. */
static void test_ctl_keys(void)
{
	static const struct {
		const char *words;  /* appended to BASE */
		uint32_t replicas, min_copies, down_ms, out_ms, lease_ms;
		const char *disk;   /* ctl_disk */
		int tmpfs;          /* ctl_tmpfs */
	} good[] = {
		{ "ferry.replicas=2", 2, 0, 0, 0, 0, "", 0 },
		{ "ferry.replicas=1 ferry.min_copies=1", 1, 1, 0, 0, 0, "", 0 },
		{ "ferry.replicas=8 ferry.min_copies=8", 8, 8, 0, 0, 0, "", 0 },
		{ "ferry.min_copies=3", 0, 3, 0, 0, 0, "", 0 }, /* R from the saved map */
		{ "ferry.down_after=500ms ferry.out_after=30s", 0, 0, 500, 30000, 0, "", 0 },
		{ "ferry.down_after=1ms ferry.out_after=2m", 0, 0, 1, 120000, 0, "", 0 },
		{ "ferry.lease=1h", 0, 0, 0, 0, 3600000, "", 0 },
		{ "ferry.out_after=10min", 0, 0, 0, 600000, 0, "", 0 },
		{ "ferry.lease=4294967295ms", 0, 0, 0, 0, 4294967295u, "", 0 },
		{ "ferry.lease=1193h", 0, 0, 0, 0, 1193u * 3600000u, "", 0 },
		{ "ferry.down_after=2s ferry.lease=1s", 0, 0, 2000, 0, 1000, "", 0 },
		{ "ferry.lease=5s ferry.out_after=2s", 0, 0, 0, 2000, 5000, "", 0 },
		{ "ferry.ctl_disk=nvme1n1", 0, 0, 0, 0, 0, "nvme1n1", 0 },
		{ "ferry.ctl_disk=/dev/vdb", 0, 0, 0, 0, 0, "/dev/vdb", 0 },
		{ "ferry.ctl_disk=nvme0n1p2", 0, 0, 0, 0, 0, "nvme0n1p2", 0 },
		{ "ferry.ctl_disk=tmpfs", 0, 0, 0, 0, 0, "", 1 },
		{ "ferry.ctl_disk=tmpfs ferry.ctl_disk=auto", 0, 0, 0, 0, 0, "", 0 },
		{ "ferry.ctl_disk=vdb ferry.ctl_disk=tmpfs", 0, 0, 0, 0, 0, "", 1 },
		/* A node-only box ignores where a ctl would keep state. */
		{ "ferry.disks=vdb ferry.ctl_disk=vdb", 0, 0, 0, 0, 0, "vdb", 0 },
		{ "ferry.role=both ferry.disks=vdb ferry.ctl_disk=vdc", 0, 0, 0, 0, 0, "vdc", 0 },
	};
	struct init_cfg c;
	char line[512], err[200];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), BASE " %s", good[i].words);
		if (parse(line, &c, err) != 0) {
			fprintf(stderr, "good[%zu] '%s': %s\n", i, good[i].words, err);
			test_failures++;
			continue;
		}
		if (c.replicas != good[i].replicas || c.min_copies != good[i].min_copies ||
		    c.down_after_ms != good[i].down_ms || c.out_after_ms != good[i].out_ms ||
		    c.lease_ms != good[i].lease_ms || strcmp(c.ctl_disk, good[i].disk) ||
		    c.ctl_tmpfs != good[i].tmpfs) {
			fprintf(stderr,
				"good[%zu] '%s': R %u min %u down %u out %u lease %u disk '%s' "
				"tmpfs %d\n", i, good[i].words, c.replicas, c.min_copies,
				c.down_after_ms, c.out_after_ms, c.lease_ms, c.ctl_disk, c.ctl_tmpfs);
			test_failures++;
		}
	}
}

static void test_quotes_and_last_wins(void)
{
	struct init_cfg c;
	char err[200];

	REQUIRE(parse(BASE " \"ferry.zone=z1\" ferry.zone=z2 foo=\"a b\" ferry.port=1", &c,
		      err) == 0);
	CHECK(!strcmp(c.zone, "z2"));
	CHECK_EQ(c.port, 1);
	/* NUL bytes separate words too. */
	static const char nul[] = BASE "\0ferry.role=ctl";
	REQUIRE(init_cmdline_parse(nul, sizeof(nul) - 1, &c, err, sizeof(err)) == 0);
	CHECK_EQ(c.role, INIT_ROLE_CTL);
	/* BOOTIF without the 01- prefix, with colons. */
	REQUIRE(parse("ip=10.1.1.1:::255.255.255.255::: BOOTIF=AA:bb:cc:dd:ee:ff", &c, err) ==
		0);
	CHECK_EQ(c.bootif[0], 0xaa);
	CHECK_EQ(c.ip.prefix, 32);
}

/* Each bad line must fail and the message must name the problem. */
static void test_bad(void)
{
	static const struct {
		const char *line; /* command line */
		const char *want; /* substring of the error */
	} bad[] = {
		{ BASE " ferry.bogus=1", "unknown key ferry.bogus" },
		{ BASE " ferry.role=storage", "ferry.role=storage" },
		{ BASE " ferry.role", "needs a value" },
		{ BASE " ferry.role=", "empty value" },
		{ BASE " ferry.=x", "empty key" },
		{ BASE " ferry.port=0", "ferry.port=0" },
		{ BASE " ferry.port=65536", "ferry.port" },
		{ BASE " ferry.port=-1", "ferry.port" },
		{ BASE " ferry.port=80x", "ferry.port" },
		{ BASE " ferry.ctl=10.0.0.1", "ferry.ctl" },
		{ BASE " ferry.ctl=10.0.0.256:1", "ferry.ctl" },
		{ BASE " ferry.ctl=10.0.0:1", "ferry.ctl" },
		{ BASE " ferry.ctl=host:7481", "ferry.ctl" },
		{ BASE " ferry.zone=a/b", "ferry.zone" },
		{ BASE " ferry.format=1", "needs ferry.cluster" },
		{ BASE " ferry.format=2", "ferry.format" },
		{ BASE " ferry.cluster=xyz", "not a UUID" },
		{ BASE " ferry.cluster=0123456789abcdef0123456789abcdef", "not a UUID" },
		{ BASE " ferry.node=11111111-2222-3333-4444-555555555555", "needs ferry.cluster" },
		{ BASE " ferry.log=verbose", "ferry.log" },
		{ BASE " ferry.on_fatal=explode", "ferry.on_fatal" },
		{ BASE " ferry.debug_exit=maybe", "ferry.debug_exit" },
		{ BASE " ferry.transport=tcp", "ferry.transport" },
		{ BASE " ferry.wait=601", "ferry.wait" },
		{ BASE " ferry.wait=1s", "ferry.wait" },
		{ BASE " ferry.disks=", "empty value" },
		{ BASE " ferry.disks=nvme0n1,,vdb", "empty" },
		{ BASE " ferry.disks=../etc/passwd", "bad disk name" },
		{ BASE " ferry.replicas=0", "ferry.replicas=0: want 1-8" },
		{ BASE " ferry.replicas=9", "ferry.replicas=9: want 1-8" },
		{ BASE " ferry.replicas=three", "ferry.replicas=three" },
		{ BASE " ferry.replicas=-1", "ferry.replicas=-1" },
		{ BASE " ferry.replicas=99999999999999999999", "ferry.replicas=9999" },
		{ BASE " ferry.min_copies=0", "ferry.min_copies=0: want 1-8" },
		{ BASE " ferry.min_copies=9", "ferry.min_copies=9" },
		{ BASE " ferry.replicas=2 ferry.min_copies=3", "ferry.min_copies=3 is more than "
							       "ferry.replicas=2" },
		{ BASE " ferry.down_after=3", "ferry.down_after=3: want a duration" },
		{ BASE " ferry.down_after=0s", "ferry.down_after=0s" },
		{ BASE " ferry.down_after=0ms", "ferry.down_after=0ms" },
		{ BASE " ferry.down_after=1.5s", "ferry.down_after=1.5s" },
		{ BASE " ferry.down_after=-3s", "ferry.down_after=-3s" },
		{ BASE " ferry.down_after=s", "ferry.down_after=s" },
		{ BASE " ferry.down_after=3S", "ferry.down_after=3S" },
		{ BASE " ferry.down_after=3 s", "ferry.down_after=3" },
		{ BASE " ferry.down_after=3sec", "ferry.down_after=3sec" },
		{ BASE " ferry.down_after=inf", "ferry.down_after=inf" },
		{ BASE " ferry.out_after=4294967296ms", "ferry.out_after=4294967296ms" },
		{ BASE " ferry.out_after=1194h", "ferry.out_after=1194h" },
		{ BASE " ferry.out_after=99999999999999999999s", "ferry.out_after=9999" },
		{ BASE " ferry.out_after=", "empty value" },
		{ BASE " ferry.lease=1d", "ferry.lease=1d: want a duration" },
		{ BASE " ferry.lease=1001ms ferry.down_after=2s",
		  "ferry.lease=1001ms is more than half of ferry.down_after=2000ms" },
		{ BASE " ferry.lease=0x10s", "ferry.lease=0x10s" },
		{ BASE " ferry.ctl_disk=../sda", "ferry.ctl_disk=../sda" },
		{ BASE " ferry.ctl_disk=a:b", "ferry.ctl_disk=a:b" },
		{ BASE " ferry.ctl_disk=", "empty value" },
		{ BASE " ferry.role=ctl ferry.disks=nvme0n1,vdb ferry.ctl_disk=/dev/vdb",
		  "ferry.ctl_disk=/dev/vdb is also in ferry.disks" },
		{ BASE " ferry.role=both ferry.disks=/dev/vdb ferry.ctl_disk=vdb",
		  "ferry.ctl_disk=vdb is also in ferry.disks" },
		{ "BOOTIF=01-52-54-00-12-34-56", "no ip=" },
		{ "ip=10.0.2.15::10.0.2.2:255.255.255.0:::off", "no BOOTIF" },
		{ "ip=dhcp BOOTIF=01-52-54-00-12-34-56", "not supported" },
		{ "ip=::10.0.2.2:255.255.255.0::: BOOTIF=01-52-54-00-12-34-56", "no client address" },
		{ "ip=10.0.2.x::::::off BOOTIF=01-52-54-00-12-34-56", "bad client" },
		{ "ip=10.0.2.15::::::off BOOTIF=01-52-54-00-12-34-56", "netmask missing" },
		{ "ip=10.0.2.15:::255.0.255.0:::off BOOTIF=01-52-54-00-12-34-56", "bad netmask" },
		{ "ip=10.0.2.15:::33:::off BOOTIF=01-52-54-00-12-34-56", "bad netmask" },
		{ "ip=10.0.2.15::1.2.3:24:::off BOOTIF=01-52-54-00-12-34-56", "bad gateway" },
		{ "ip=10.0.2.15:::24::eth0:dhcp", "autoconf" },
		{ "ip=10.0.2.15:::24::averyveryverylongname:off", "device name too long" },
		{ "ip=10.0.2.15:::24:::off:a:b:c:d", "too many fields" },
		{ "ip=10.0.2.15:::24::: BOOTIF=01-52-54-00-12", "BOOTIF" },
		{ "ip=10.0.2.15:::24::: BOOTIF=01-52-54-00-12-34-5g", "BOOTIF" },
	};
	struct init_cfg c;
	char err[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(bad[i].line, &c, err);

		if (r != -EINVAL || !strstr(err, bad[i].want)) {
			fprintf(stderr, "bad[%zu] '%s': r=%d err='%s' want '%s'\n", i, bad[i].line, r,
				err, bad[i].want);
			test_failures++;
		}
	}
}

static void test_long_words(void)
{
	char line[2000], err[200];
	struct init_cfg c;

	/* A long word that is not ours is ignored; one of ours is an error. */
	memset(line, 'x', sizeof(line));
	memcpy(line, BASE " foo=", strlen(BASE " foo="));
	line[sizeof(line) - 1] = '\0';
	CHECK(parse(line, &c, err) == 0);
	memcpy(line, BASE " ferry.zone=", strlen(BASE " ferry.zone="));
	CHECK(parse(line, &c, err) == -EINVAL);
	CHECK(strstr(err, "too long") != NULL);
	/* Empty input: no ip=. */
	CHECK(init_cmdline_parse("", 0, &c, err, sizeof(err)) == -EINVAL);
	/* errlen 0 must not write. */
	CHECK(init_cmdline_parse("", 0, &c, NULL, 0) == -EINVAL);
}

static void test_modparams(void)
{
	const char *s = "nvme.poll_queues=1 nvme-core.io_timeout=30 nvme_core.x=\"a b\" "
			"ferry.log=info virtio_net.napi_tx=1 nvme.foo";
	char out[128];

	CHECK(init_cmdline_modparams(s, strlen(s), "nvme", out, sizeof(out)) > 0);
	CHECK(!strcmp(out, "poll_queues=1 foo"));
	CHECK(init_cmdline_modparams(s, strlen(s), "nvme-core", out, sizeof(out)) > 0);
	CHECK(!strcmp(out, "io_timeout=30 x=\"a b\""));
	CHECK_EQ(init_cmdline_modparams(s, strlen(s), "virtio_pci", out, sizeof(out)), 0);
	CHECK(!strcmp(out, ""));
	CHECK_EQ(init_cmdline_modparams(s, strlen(s), "nvme", out, 5), -ENOSPC);
}

int main(void)
{
	test_defaults();
	test_all_keys();
	test_ctl_keys();
	test_quotes_and_last_wins();
	test_bad();
	test_long_words();
	test_modparams();
	return test_done();
}
