#!/bin/bash
# mk/sysroot.sh DIR - build the musl sysroot the static `ferry` links against.
#
# Into DIR (then DIR/.done):
#   lib/libz.a lib/libelf.a lib/libbpf.a lib/liburing.a   musl builds made with musl-gcc
#       from Debian 12 source packages, fetched by apt-get with a private deb-src list
#       and private apt state, so the system apt configuration is never touched. apt
#       verifies every file against the signed Sources index (debian-archive-keyring).
#   lib/libxdp.a include/xdp/   Debian's prebuilt libxdp-dev (a glibc build; the xdp-tools
#       source is not served by the archive). node/compat/glibc_shim.c supplies the
#       glibc-only symbols it references.
#   include/{linux,asm-generic,asm}/   kernel uapi headers (musl-gcc runs with -nostdinc).
#
# Built in a temporary directory, installed into DIR.tmp and renamed to DIR at the
# end, so a half-built sysroot is never used. Output goes to DIR.log; its tail is
# shown on failure. See shared research notes (static-build.md) for the gotchas.
set -euo pipefail

die() { echo "sysroot: $*" >&2; exit 1; }

# The inner makes (zlib, libelf, libbpf, liburing) must not see the make that
# runs this script. Under `make -jN` its MAKEFLAGS carry --jobserver-auth=R,W,
# but this recipe is not a recursive make, so those fds are closed here: a
# sub-make without its own -j then stops with "read jobs pipe: Bad file
# descriptor". MAKEFLAGS would also carry the caller's variable overrides
# (B=..., SAN=1) into those builds. The sysroot depends on this script alone.
unset MAKEFLAGS MFLAGS GNUMAKEFLAGS MAKELEVEL MAKEOVERRIDES

[ $# -eq 1 ] || die "usage: $0 DIR"
DIR=$1
case $DIR in /*) ;; *) DIR=$PWD/$DIR ;; esac
DIR=${DIR%/}

# Pinned Debian 12 (bookworm) source versions. Change them together with
# SYSROOT_VERSIONS in the Makefile.
ZLIB_V=1:1.2.13.dfsg-1
ELFUTILS_V=0.188-2.1
LIBBPF_V=1.1.2-0+deb12u1 # the source has no epoch; its binaries are 1:1.1.2-0+deb12u1
LIBURING_V=2.3-3
LIBXDP_V=1.3.1-1 # Debian binary package libxdp-dev, used as installed

MULTIARCH=x86_64-linux-gnu
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
MUSLCC=musl-gcc
JOBS=$(nproc 2>/dev/null || echo 2)

for t in $MUSLCC apt-get dpkg-source make ar flock; do
	command -v "$t" >/dev/null || die "$t not found (run: make deps)"
done
[ -r "$KEYRING" ] || die "$KEYRING missing (run: make deps)"
for f in /usr/include/linux/types.h /usr/include/$MULTIARCH/asm/types.h; do
	[ -r "$f" ] || die "$f missing (run: make deps)"
done
xdp_v=$(dpkg-query -W -f '${Version}' libxdp-dev 2>/dev/null) || true
[ "$xdp_v" = "$LIBXDP_V" ] || die "libxdp-dev $LIBXDP_V needed, found '${xdp_v:-none}' (run: make deps)"
[ -r /usr/lib/$MULTIARCH/libxdp.a ] || die "/usr/lib/$MULTIARCH/libxdp.a missing (run: make deps)"

# The Debian mirror this machine already uses (deb822 or one-line sources), else deb.debian.org.
mirror() {
	local f uri=""
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(grep -Ev '^[[:space:]]*#' "$f" | grep -Eo 'https?://[^ ]+/debian/?( |$)' |
			head -n1 | tr -d ' ') || true
		[ -n "$uri" ] && break
	done
	uri=${uri:-http://deb.debian.org/debian}
	echo "${uri%/}"
}
MIRROR=$(mirror)

mkdir -p "$(dirname "$DIR")"
# One builder per DIR: a concurrent make (or another clone) waits, then finds it done.
exec 9>"$DIR.lock"
flock 9
[ -e "$DIR/.done" ] && { echo "sysroot: $DIR already built"; exit 0; }
LOG=$DIR.log
TMP=$DIR.tmp
rm -rf "$TMP"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-sysroot.XXXXXX")
: >"$LOG"
cleanup() {
	local rc=$?
	rm -rf "$WORK"
	if [ $rc -ne 0 ]; then
		rm -rf "$TMP"
		echo "sysroot: build failed; last lines of $LOG:" >&3
		tail -n 25 "$LOG" >&3
	fi
}
exec 3>&2 4>&1
trap cleanup EXIT
exec >>"$LOG" 2>&1

step() { echo "== $*"; echo "sysroot: $*" >&4; }
# A failure whose reason is one line: print it, skip the log tail.
fail() { echo "sysroot: $*" >&3; echo "error: $*"; trap - EXIT; rm -rf "$WORK" "$TMP"; exit 1; }

start=$(date +%s)

# --- sources -------------------------------------------------------------------------
step "fetching Debian sources from $MIRROR"
A=$WORK/apt
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/etc" "$WORK/src"
# All four pinned versions are in bookworm (libbpf's deb12u1 came with a point release).
cat >"$A/etc/sources.list" <<EOF
deb-src [signed-by=$KEYRING] $MIRROR bookworm main
EOF
APT=(apt-get -q -o Dir::Etc::SourceList="$A/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$A/lists" -o Dir::Cache="$A/cache" -o Dir::State::status=/var/lib/dpkg/status
	-o APT::Sandbox::User=root)
"${APT[@]}" update || fail "apt-get update of the private deb-src list failed (mirror $MIRROR)"
served() { "${APT[@]}" source --print-uris "$1=$2" >/dev/null 2>&1; }
for pv in zlib="$ZLIB_V" elfutils="$ELFUTILS_V" libbpf="$LIBBPF_V" liburing="$LIBURING_V"; do
	served "${pv%%=*}" "${pv#*=}" || fail "source package ${pv%%=*} ${pv#*=} is not served by $MIRROR"
done
(cd "$WORK/src" && "${APT[@]}" source --download-only \
	zlib="$ZLIB_V" elfutils="$ELFUTILS_V" libbpf="$LIBBPF_V" liburing="$LIBURING_V") ||
	fail "apt-get source --download-only failed (see $LOG)"
unpack() { # PKG VERSION -> prints the source dir; applies Debian's patches
	local dsc="$WORK/src/${1}_${2#*:}.dsc"
	[ -r "$dsc" ] || fail "$dsc not downloaded"
	# --no-check: apt-get has already verified every file against the signed Sources index.
	dpkg-source --no-check -x "$dsc" "$WORK/src/$1" >&2
	echo "$WORK/src/$1"
}

# --- headers ---------------------------------------------------------------------------
step "kernel uapi headers"
mkdir -p "$TMP/include" "$TMP/lib"
cp -a /usr/include/linux /usr/include/asm-generic "$TMP/include/"
cp -a /usr/include/$MULTIARCH/asm "$TMP/include/"
# -isystem, not -I: as a user include dir, linux/limits.h would redefine musl's
# NGROUPS_MAX and trip libbpf's -Werror.
# The prefix maps keep the random build paths out of the debug info, so the same
# inputs give byte-identical archives.
CC="$MUSLCC -isystem $TMP/include -ffile-prefix-map=$WORK/src=/usr/src -ffile-prefix-map=$TMP=$DIR"
CFLAGS="-O2 -g -fPIC"

# --- zlib --------------------------------------------------------------------------------
step "zlib $ZLIB_V"
S=$(unpack zlib "$ZLIB_V")
(cd "$S" && CC="$CC" CFLAGS="$CFLAGS" ./configure --static --prefix="$TMP" &&
	make -j"$JOBS" libz.a &&
	install -m644 libz.a "$TMP/lib/" && install -m644 zlib.h zconf.h "$TMP/include/")
[ -s "$TMP/lib/libz.a" ] || fail "zlib: libz.a not built"

# --- libelf (elfutils) ----------------------------------------------------------------
step "libelf (elfutils $ELFUTILS_V)"
S=$(unpack elfutils "$ELFUTILS_V")
# argp and obstack are only used by the tools and libdw, which are not built.
(cd "$S" && ac_cv_search_argp_parse="none required" ac_cv_search__obstack_free="none required" \
	ac_cv_search_fts_close="none required" \
	CC="$CC" CFLAGS="$CFLAGS -Wno-error" LDFLAGS="-L$TMP/lib" \
	./configure --prefix="$TMP" --libdir="$TMP/lib" --host=x86_64-linux-musl --build=$MULTIARCH \
	--disable-debuginfod --disable-libdebuginfod --disable-nls --disable-symbol-versioning \
	--without-zstd --without-bzlib --without-lzma --with-zlib &&
	make -C libelf -j"$JOBS" libelf.a &&
	make -C libelf install-includeHEADERS install-pkgincludeHEADERS &&
	install -m644 libelf/libelf.a "$TMP/lib/")
[ -s "$TMP/lib/libelf.a" ] || fail "elfutils: libelf.a not built"

# --- libbpf --------------------------------------------------------------------------------
step "libbpf $LIBBPF_V"
S=$(unpack libbpf "$LIBBPF_V")
# Its Makefile writes libbpf.pc into OBJDIR before creating it. NO_PKG_CONFIG: the
# host's pkg-config would describe the glibc libelf, not the one built above.
mkdir -p "$WORK/bpfobj"
make -C "$S/src" -j"$JOBS" CC="$CC" BUILD_STATIC_ONLY=1 NO_PKG_CONFIG=1 OBJDIR="$WORK/bpfobj" \
	PREFIX="$TMP" LIBDIR="$TMP/lib" INCLUDEDIR="$TMP/include" UAPIDIR="$TMP/include" \
	EXTRA_CFLAGS="$CFLAGS" install install_uapi_headers
[ -s "$TMP/lib/libbpf.a" ] || fail "libbpf: libbpf.a not built"

# --- liburing --------------------------------------------------------------------------------
step "liburing $LIBURING_V"
S=$(unpack liburing "$LIBURING_V")
# configure ignores CFLAGS in its probes: the sysroot must be part of --cc, or it
# writes its own compat.h types that clash with <linux/time_types.h>.
(cd "$S" && ./configure --cc="$CC" --prefix="$TMP" --libdir="$TMP/lib" --includedir="$TMP/include" &&
	make -C src -j"$JOBS" liburing.a &&
	install -m644 src/liburing.a "$TMP/lib/" && mkdir -p "$TMP/include/liburing" &&
	install -m644 src/include/liburing.h "$TMP/include/" &&
	install -m644 src/include/liburing/io_uring.h src/include/liburing/compat.h \
		src/include/liburing/barrier.h "$TMP/include/liburing/")
[ -s "$TMP/lib/liburing.a" ] || fail "liburing: liburing.a not built"

# --- libxdp (Debian's prebuilt glibc archive) --------------------------------------------------
step "libxdp $LIBXDP_V (Debian libxdp-dev)"
mkdir -p "$TMP/include/xdp"
install -m644 /usr/lib/$MULTIARCH/libxdp.a "$TMP/lib/"
install -m644 /usr/include/xdp/*.h "$TMP/include/xdp/"

rm -rf "$TMP/lib/pkgconfig" "$TMP/share" "$TMP/bin"
cat >"$TMP/VERSIONS" <<EOF
zlib $ZLIB_V
elfutils $ELFUTILS_V (libelf only)
libbpf $LIBBPF_V
liburing $LIBURING_V
libxdp $LIBXDP_V (Debian binary libxdp-dev)
linux-libc-dev $(dpkg-query -W -f '${Version}' linux-libc-dev 2>/dev/null || echo unknown)
musl $(dpkg-query -W -f '${Version}' musl-dev 2>/dev/null || echo unknown)
EOF
touch "$TMP/.done"
rm -rf "$DIR"
mv "$TMP" "$DIR"
step "done in $(($(date +%s) - start))s: $DIR ($(du -sh "$DIR" | cut -f1))"
