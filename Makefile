# Ferry - top-level Makefile.
#
#   make            build/ferry: one static musl binary (libbpf, libxdp, liburing)
#   make deps       install Debian packages the build and tests need
#   make test       unit + BPF + fuzz-corpus + integration tests (SAN=1: ASan+UBSan)
#   make run        the main job (see README.md)
#   make bench      benchmarks (not part of make test)
#
# Sources are discovered, not listed: a .c under node/ is part of the binary,
# a tests/unit/*.c is a unit test, a bpf/*.bpf.c becomes build/<name>.skel.h.
# Fragments in mk/*.mk only declare extra targets; this file does the work.

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
# Keep intermediates (skeletons, BPF objects, test-library objects): deleting
# them made every make rebuild everything that depends on them.
.SECONDARY:
.SUFFIXES:
SHELL := /bin/bash

B        := build
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
SAN      ?= 0

# --- toolchains --------------------------------------------------------------
# The shipped binary: musl, fully static, against a private sysroot of musl
# builds of zlib, libelf, libbpf and liburing made from Debian source packages
# (mk/sysroot.sh), plus Debian's prebuilt libxdp.a (see node/compat/).
SYSROOT_VERSIONS := zlib-1.2.13.dfsg-1_elfutils-0.188-2.1_libbpf-1.1.2-0+deb12u1_liburing-2.3-3_libxdp-1.3.1-1
# The cache key is the versions plus a hash of the recipe, so a changed recipe rebuilds.
SYSROOT_HASH := $(shell sha256sum mk/sysroot.sh 2>/dev/null | sha256sum | cut -c1-10)
SYSROOT  ?= $(HOME)/.cache/ferry/sysroot-$(SYSROOT_VERSIONS)-$(SYSROOT_HASH)
MUSLCC   := musl-gcc
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-missing-field-initializers
CSTD     := -std=gnu11 -D_GNU_SOURCE
INCS     := -Inode -Ibpf -I$(B)
OPT      := -O2 -g
MUSL_CFLAGS := $(CSTD) $(WARN) $(OPT) $(INCS) -isystem $(SYSROOT)/include \
               -DFERRY_BUILD_VERSION='"$(VERSION)"' -MMD -MP
MUSL_LIBS   := $(SYSROOT)/lib/libxdp.a $(SYSROOT)/lib/libbpf.a $(SYSROOT)/lib/libelf.a \
               $(SYSROOT)/lib/liburing.a $(SYSROOT)/lib/libz.a

# Host (glibc) build of the same sources for unit tests, BPF tests and fuzzers,
# so that they can run under ASan+UBSan (musl has no sanitizer runtimes).
HOSTCC   := clang
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HB       := $(B)/host-san
else
SANFLAGS :=
HB       := $(B)/host
endif
HOST_CFLAGS := $(CSTD) $(WARN) $(OPT) $(INCS) -Itests $(SANFLAGS) -DFERRY_BUILD_VERSION='"$(VERSION)"' -MMD -MP
HOST_LIBS   := -lxdp -lbpf -lelf -lz -luring -lpthread -lm

# --- sources -------------------------------------------------------------------
NODE_SRCS   := $(shell find node -name '*.c' | LC_ALL=C sort)
# main.c is the binary's entry; compat/ holds musl-only shims for glibc archives.
LIB_SRCS    := $(filter-out node/main.c node/compat/%,$(NODE_SRCS))
MUSL_OBJS   := $(NODE_SRCS:%.c=$(B)/musl/%.o)
HOST_OBJS   := $(LIB_SRCS:%.c=$(HB)/%.o)
BPF_SRCS    := $(wildcard bpf/*.bpf.c)
BPF_OBJS    := $(BPF_SRCS:bpf/%.bpf.c=$(B)/bpf/%.bpf.o)
SKELS       := $(BPF_SRCS:bpf/%.bpf.c=$(B)/%.skel.h)
UNIT_SRCS   := $(wildcard tests/unit/*.c)
UNIT_BINS   := $(UNIT_SRCS:tests/%.c=$(HB)/tests/%)
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(HELPER_SRCS:tests/%.c=$(HB)/tests/%)
BPFT_SRCS   := $(wildcard tests/bpf/*.c)
BPFT_BINS   := $(BPFT_SRCS:tests/%.c=$(HB)/tests/%)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(HB)/%.o)
# The cluster simulator (tests/sim/): its parts (network, disk, checker, ...)
# are a library that unit tests link too; main.c is the ferry-sim program.
SIM_SRCS    := $(filter-out tests/sim/main.c,$(wildcard tests/sim/*.c))
SIM_OBJS    := $(SIM_SRCS:%.c=$(HB)/%.o)
SIM_BIN     := $(if $(wildcard tests/sim/main.c),$(HB)/tests/sim/ferry-sim)

.PHONY: all deps test test-unit run run-netns bench clean sysroot check-deps fuzz
all: $(B)/ferry

# --- dependencies ---------------------------------------------------------------
include mk/deps.mk

# --- BPF ---------------------------------------------------------------------------
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -Ibpf -idirafter /usr/include/x86_64-linux-gnu
$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) | check-deps
	@mkdir -p $(@D)
	clang $(BPF_CFLAGS) -c $< -o $@
$(B)/%.skel.h: $(B)/bpf/%.bpf.o
	bpftool gen skeleton $< name $(subst -,_,$*)_bpf > $@

# --- the binary -----------------------------------------------------------------------
$(B)/musl/%.o: %.c $(SYSROOT)/.done $(SKELS)
	@mkdir -p $(@D)
	$(MUSLCC) $(MUSL_CFLAGS) -c $< -o $@
$(B)/ferry: $(MUSL_OBJS) $(SYSROOT)/.done
	$(MUSLCC) -static -o $@ $(MUSL_OBJS) $(MUSL_LIBS)
	@file $@ | grep -q 'statically linked' || { echo "error: $@ is not static" >&2; exit 1; }

# --- host library for tests -------------------------------------------------------------
$(HB)/%.o: %.c $(SKELS) | check-deps
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -c $< -o $@
$(HB)/libferry.a: $(HOST_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(HB)/libsim.a: $(SIM_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(HB)/tests/sim/ferry-sim: tests/sim/main.c $(HB)/libsim.a $(HB)/libferry.a $(TESTLIB_OBJS)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -Itests -o $@ $< $(HB)/libsim.a $(TESTLIB_OBJS) $(HB)/libferry.a $(HOST_LIBS)
# The test library (memnet) is built on the simulator's network: objects
# before the archives they pull from.
$(HB)/tests/%: tests/%.c $(HB)/libsim.a $(HB)/libferry.a $(TESTLIB_OBJS)
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -Itests -o $@ $< $(TESTLIB_OBJS) $(HB)/libsim.a $(HB)/libferry.a $(HOST_LIBS)

# libFuzzer targets (always ASan+UBSan; make test replays their corpora). The
# library is built once with coverage instrumentation; each target links it.
FB := $(B)/fuzzlib
FUZZ_CFLAGS := $(CSTD) $(WARN) -O1 -g $(INCS) -Itests -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=all -DFERRY_BUILD_VERSION='"$(VERSION)"' -MMD -MP
FUZZ_OBJS := $(LIB_SRCS:%.c=$(FB)/%.o) $(TESTLIB_SRCS:%.c=$(FB)/%.o) $(SIM_SRCS:%.c=$(FB)/%.o)
$(FB)/%.o: %.c $(SKELS) | check-deps
	@mkdir -p $(@D)
	$(HOSTCC) $(FUZZ_CFLAGS) -c $< -o $@
$(FB)/libferry.a: $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^
$(B)/fuzz/%: tests/fuzz/%.c $(FB)/libferry.a
	@mkdir -p $(@D)
	$(HOSTCC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FB)/libferry.a $(HOST_LIBS)
fuzz: $(FUZZ_BINS)

# --- tests -------------------------------------------------------------------------------------
# One runner for every kind; it prints "N passed, N failed, N skipped" last.
test: $(B)/ferry $(UNIT_BINS) $(BPFT_BINS) $(FUZZ_BINS) $(HELPER_BINS) $(SIM_BIN)
	tests/run --build $(HB) --fuzz $(B)/fuzz --ferry $(B)/ferry $(if $(T),--only '$(T)')
ifneq ($(SAN),1)
	$(MAKE) --no-print-directory SAN=1 test-unit
endif
# The sanitizer pass: unit and BPF tests again under ASan+UBSan, and the
# simulator's fixed seeds plus a minute of random ones.
test-unit: $(UNIT_BINS) $(BPFT_BINS) $(SIM_BIN)
	FERRY_SIM_BUDGET=60 tests/run --build $(HB) --kinds unit,bpf,sim

# The cluster simulator (tests/sim/sim.h):
#   make sim SEED=N     replay one seed exactly, with its trace on failure
#   make sim SEEDS=N    N random seeds (a long run; prints the rate)
#   make sim            the fixed seed list
.PHONY: sim
sim: $(SIM_BIN)
	$(SIM_BIN) $(if $(SEED),--seed $(SEED),$(if $(SEEDS),--seeds $(SEEDS),--list tests/sim/seeds)) $(SIMFLAGS)

# The main job: the node image booted as a ctl VM + 3 node VMs (mk/image.mk,
# run-vm); run-netns is the same cluster in network namespaces, for fast
# iteration.
run: run-vm
run-netns: $(B)/ferry
	scripts/run-netns.sh $(B)/ferry

-include $(shell find mk -name '*.mk' ! -name deps.mk 2>/dev/null)

clean:
	rm -rf $(B)

-include $(MUSL_OBJS:.o=.d) $(HOST_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) $(TESTLIB_OBJS:.o=.d) $(SIM_OBJS:.o=.d)
-include $(UNIT_BINS:=.d) $(HELPER_BINS:=.d) $(BPFT_BINS:=.d)
