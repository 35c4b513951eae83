/* SPDX-License-Identifier: Apache-2.0 */
/*
 * init.h - ferry as PID 1 of the node image.
 *
 * node/main.c calls init_main() when getpid() == 1. It mounts the pseudo
 * filesystems, reads the ferry.* keys, ip= and BOOTIF= from /proc/cmdline
 * (see cmdline.h), loads the board's kernel modules, configures the NIC,
 * finds (and if told, formats) the disks, logs what the box can do, then
 * starts `/init node ...` and/or `/init ctl ...` as children and supervises
 * them. It never returns: a fatal error is logged on the console and ends
 * in the ferry.on_fatal action.
 */
#ifndef FERRY_INIT_H
#define FERRY_INIT_H

/* QEMU isa-debug-exit values (iobase 0xf4) written when ferry.debug_exit=1;
 * QEMU exits with (value << 1) | 1. */
#define INIT_DEBUG_EXIT_FATAL    0x01 /* exit status 3: init hit a fatal error */
#define INIT_DEBUG_EXIT_SHUTDOWN 0x10 /* exit status 33: orderly shutdown */

/* init_main - run as PID 1; never returns. */
int init_main(int argc, char **argv) __attribute__((noreturn));

#endif
