/*
 * The posix file sink for packet capture (dev/pcap.h): what --pcap=FILE
 * writes to on the hosted targets. It is not buffered (each record is one
 * write(2), so a capture survives a crash up to the last frame) and does not
 * rotate files. It depends on libc and dev/pcap.h (its sink type, and its
 * capturing device for posix_pcap_capture()).
 */
#ifndef MIST_PLATFORM_POSIX_PCAP_FILE_H
#define MIST_PLATFORM_POSIX_PCAP_FILE_H

#include "dev/pcap.h"

/*
 * Creates or truncates the file at `path` (mode 0644 before the umask) and
 * fills *sink with callbacks that append to it and close it. Returns 0, or
 * MIST_EIO when the file cannot be opened (the reason is logged under the
 * tag "pcap"). The sink is released by its close callback, which
 * mist_pcap_wrap()'s device calls on close; a caller that never wraps calls
 * it itself.
 */
int posix_pcap_file_sink(const char *path, struct mist_pcap_sink *sink);

/*
 * Wraps `lower` in a capture to the file at `path` (mist_pcap_wrap() on
 * posix_pcap_file_sink()), for mist_plat_capture(). Returns 0 or a MIST_E*
 * code; on failure `lower` stays the caller's and the file is closed.
 */
int posix_pcap_capture(const char *path, struct mist_netdev *lower, struct mist_netdev **out);

#endif
