# The node image and QEMU clusters (declarations only; scripts do the work).
#
#   make image [BOARD=qemu-x86_64] [FERRY_KEYS="ferry.cluster=... ferry.ctl=..."]
#                      build/image/<board>/{vmlinuz,initrd.img,cmdline,boot.ipxe,SHA256SUMS}
#   make run-vm        ctl + 3 node VMs under TCG, PUT/GET from the host, status,
#                      stays up until Ctrl-C (VM_NODES=N for another size)
#   make vm-cluster    same as run-vm
#   make test-vm       only the VM tests (make test runs them too): smoke, fatal
#                      paths, supervision, ctl state disk, 3-VM cluster + rejoin-by-disk
#                      + ctl reboot, PXE boot
#
# Board kernels come from Debian (board/<name>/board.conf pins the package);
# a missing one is installed by make deps.

BOARD    ?= qemu-x86_64
VM_NODES ?= 3
IMAGE_KVER = $(shell . board/$(BOARD)/board.conf 2>/dev/null && echo $$BOARD_KVER)

.PHONY: image run-vm vm-cluster test-vm image-deps
image-deps:
	@[ -f /boot/vmlinuz-$(IMAGE_KVER) ] && command -v qemu-system-x86_64 >/dev/null || \
	  { echo "image: kernel $(IMAGE_KVER) or QEMU missing; running make deps" >&2; \
	    $(MAKE) --no-print-directory deps; }

image: $(B)/ferry | image-deps
	image/build.sh --board $(BOARD) --ferry $(B)/ferry

run-vm vm-cluster: image
	qemu/cluster.sh --board $(BOARD) --nodes $(VM_NODES) --hold

# The VM tests are part of make test: install QEMU and the board kernel
# first if they are missing, so they run rather than skip.
test: | image-deps
test-vm: $(B)/ferry | image-deps
	tests/run --ferry $(B)/ferry --kinds integ --only vm_
