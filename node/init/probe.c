/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe.c - what can this box do? One log line at boot.
 *
 * The node picks its fast paths itself; this line is for the operator (and
 * the test logs): which io_uring opcodes the kernel has, whether a native
 * (driver-mode) XDP program attaches to the NIC, whether AF_XDP binds in
 * zero-copy or only copy mode, and whether NVMe generic char devices
 * (/dev/ng*, for io_uring passthrough) exist. Each probe undoes itself.
 */
#include "init/init_int.h"

#include "common/log.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <liburing.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define PROBE_FRAMES 16
#define PROBE_FRAME_SIZE 4096

static void probe_uring(char *out, size_t len)
{
	struct io_uring_probe *p = io_uring_get_probe();
	int n = 0;

	if (!p) {
		snprintf(out, len, "io_uring no");
		return;
	}
	for (int op = 0; op < IORING_OP_LAST; op++)
		n += io_uring_opcode_supported(p, op) ? 1 : 0;
	snprintf(out, len, "io_uring ops %d/%d (uring_cmd %s)", n, (int)IORING_OP_LAST,
		 io_uring_opcode_supported(p, IORING_OP_URING_CMD) ? "yes" : "no");
	io_uring_free_probe(p);
}

/* probe_xdp_native - attach `return XDP_PASS` in driver mode, then detach. */
static void probe_xdp_native(int ifindex, char *out, size_t len)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd, r;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "ferry_probe", "GPL", insns, 2, NULL);
	if (fd < 0) {
		snprintf(out, len, "xdp no (bpf load: %s)", strerror(-fd));
		return;
	}
	r = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (r == 0) {
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL);
		snprintf(out, len, "xdp native");
	} else if (r == -EBUSY || r == -EEXIST) {
		snprintf(out, len, "xdp busy (a program is attached)");
	} else {
		snprintf(out, len, "xdp generic only (native: %s)", strerror(-r));
	}
	close(fd);
}

/* probe_xsk_bind - bind an AF_XDP socket to queue 0 with flags; 0 or -errno. */
static int probe_xsk_bind(int ifindex, uint16_t flags)
{
	struct xdp_umem_reg reg = { 0 };
	struct sockaddr_xdp sxdp = { 0 };
	int ring = PROBE_FRAMES, r = 0, fd;
	void *umem;

	umem = mmap(NULL, PROBE_FRAMES * PROBE_FRAME_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (umem == MAP_FAILED)
		return -errno;
	fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto unmap;
	}
	reg.addr = (uint64_t)(uintptr_t)umem;
	reg.len = PROBE_FRAMES * PROBE_FRAME_SIZE;
	reg.chunk_size = PROBE_FRAME_SIZE;
	if (setsockopt(fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_FILL_RING, &ring, sizeof(ring)) ||
	    setsockopt(fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &ring, sizeof(ring)) ||
	    setsockopt(fd, SOL_XDP, XDP_RX_RING, &ring, sizeof(ring))) {
		r = -errno;
		goto close;
	}
	sxdp.sxdp_family = AF_XDP;
	sxdp.sxdp_ifindex = (uint32_t)ifindex;
	sxdp.sxdp_queue_id = 0;
	sxdp.sxdp_flags = flags;
	if (bind(fd, (struct sockaddr *)&sxdp, sizeof(sxdp)))
		r = -errno;
close:
	close(fd);
unmap:
	munmap(umem, PROBE_FRAMES * PROBE_FRAME_SIZE);
	return r;
}

static void probe_xsk(int ifindex, char *out, size_t len)
{
	int r = probe_xsk_bind(ifindex, XDP_ZEROCOPY);

	if (r == 0) {
		snprintf(out, len, "af_xdp zerocopy");
		return;
	}
	int c = probe_xsk_bind(ifindex, XDP_COPY);

	if (c == 0)
		snprintf(out, len, "af_xdp copy (zerocopy: %s)", strerror(-r));
	else
		snprintf(out, len, "af_xdp no (%s)", strerror(-c));
}

static void probe_nvme_ng(char *out, size_t len)
{
	DIR *d = opendir("/dev");
	struct dirent *de;
	int n = 0;
	char first[64] = "";

	if (d) {
		while ((de = readdir(d)))
			if (!strncmp(de->d_name, "ng", 2) && de->d_name[2] >= '0' &&
			    de->d_name[2] <= '9') {
				if (!n++)
					snprintf(first, sizeof(first), "%.60s", de->d_name);
			}
		closedir(d);
	}
	if (n)
		snprintf(out, len, "nvme passthrough %d (/dev/%s%s)", n, first, n > 1 ? ",..." : "");
	else
		snprintf(out, len, "nvme passthrough none");
}

void init_probe_log(const char *ifname)
{
	char u[96], x[96], k[96], n[96];
	int idx = ifname && ifname[0] ? (int)if_nametoindex(ifname) : 0;

	probe_uring(u, sizeof(u));
	if (idx > 0) {
		probe_xdp_native(idx, x, sizeof(x));
		probe_xsk(idx, k, sizeof(k));
	} else {
		snprintf(x, sizeof(x), "xdp ? (no NIC)");
		snprintf(k, sizeof(k), "af_xdp ? (no NIC)");
	}
	probe_nvme_ng(n, sizeof(n));
	log_info("probe: %s | %s on %s | %s | %s", u, x, idx > 0 ? ifname : "-", k, n);
}
