/*
 * The PVH command line (`qemu -append`), split into the platform's own words
 * and the boot arguments for the common parser (core/args.c).
 *
 * Words are separated by blanks; there is no quoting. The platform takes
 * out virtio_mmio.device=<size>@<base>:<irq>[:<id>] (Linux's syntax, which
 * QEMU microvm appends for each virtio-mmio device) and the Linux words that
 * hypervisors add out of habit (console=, earlyprintk=, reboot=, panic=,
 * pci=, acpi=, i8042.*), which mean nothing here. Every other word is a
 * boot argument, so that a mistyped one is reported by the common parser.
 * Pure: no I/O, so that unit tests run it on the host.
 */
#ifndef MIST_PLATFORM_PVH_CMDLINE_H
#define MIST_PLATFORM_PVH_CMDLINE_H

#include <stddef.h>

#include "pvh.h"

#define PVH_ARGV_MAX        64 /* boot arguments, program name included */
#define PVH_VIRTIO_MMIO_MAX 16

struct pvh_cmdline {
	int argc;
	char *argv[PVH_ARGV_MAX + 1]; /* argv[argc] is NULL */
	unsigned virtio_count;
	struct pvh_virtio_mmio virtio[PVH_VIRTIO_MMIO_MAX];
};

/*
 * Splits the NUL-terminated `text` in place (blanks become NULs; argv
 * points into it, so it must outlive them) into *out, with argv[0] =
 * `program`. Returns 0, or MIST_EINVAL with a one-line reason in `error` of
 * `error_len` bytes: a malformed virtio_mmio.device word, or more words or
 * devices than fit.
 */
int pvh_cmdline_parse(char *text, const char *program, struct pvh_cmdline *out, char *error,
                      size_t error_len);

#endif
