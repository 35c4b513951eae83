# Dependencies: Debian packages (make deps) and the musl sysroot.
#
# `make deps` installs everything from Debian's archive. Build targets depend
# on check-deps, which runs it when a marker tool is missing, so a fresh
# Debian 12 machine needs nothing but `make test` or `make run`.

DEB_PKGS := build-essential clang llvm lld musl-tools libbpf-dev libxdp-dev liburing-dev \
            libelf-dev zlib1g-dev linux-libc-dev bpftool xdp-tools iproute2 iputils-ping ethtool \
            libclang-rt-14-dev dpkg-dev debian-archive-keyring file cpio zstd xz-utils \
            fio gnuplot-nox python3 procps util-linux kmod ca-certificates git \
            qemu-system-x86 ipxe-qemu seabios linux-image-6.1.0-56-amd64
# Tools whose absence means "run make deps".
DEP_MARKERS := musl-gcc clang bpftool fio gnuplot cpio file
DEP_HEADERS := /usr/include/bpf/libbpf.h /usr/include/xdp/xsk.h /usr/include/liburing.h \
               /usr/lib/x86_64-linux-gnu/libxdp.a

deps:
	apt-get -o DPkg::Lock::Timeout=300 update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $(DEB_PKGS)

check-deps:
	@missing=0; for t in $(DEP_MARKERS); do command -v $$t >/dev/null || missing=1; done; \
	for f in $(DEP_HEADERS); do [ -e $$f ] || missing=1; done; \
	if [ $$missing = 1 ]; then echo "deps: something is missing; running make deps" >&2; \
	  $(MAKE) --no-print-directory deps; fi

# The musl sysroot (built once, cached outside the clone; see mk/sysroot.sh).
sysroot: $(SYSROOT)/.done
$(SYSROOT)/.done: | check-deps
	mk/sysroot.sh $(SYSROOT)
