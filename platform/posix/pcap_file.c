/*
 * The posix file sink for packet capture (pcap_file.h): a descriptor opened
 * once, written with write(2) until each record is wholly written, closed
 * with the capturing device. It is not a general file API. It depends on
 * libc and the logging of mist/log.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#define MIST_LOG_TAG "pcap"

#include "mist/log.h"
#include "mist/mist.h"
#include "pcap_file.h"

/* Permissions of a new capture file, before the umask: the usual for data files. */
#define PCAP_FILE_MODE 0644

/* The descriptor travels in the sink's context pointer, so the sink needs no allocation. */
static int pcap_file_fd(void *ctx)
{
	return (int)(intptr_t)ctx;
}

static int pcap_file_write(void *ctx, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(pcap_file_fd(ctx), p, len);
		if (n < 0 && errno == EINTR)
			continue;
		/* A regular file that takes no byte is as full as one that says ENOSPC. */
		if (n <= 0) {
			mist_warn("write failed: %s", n < 0 ? strerror(errno) : "no progress");
			return MIST_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void pcap_file_close(void *ctx)
{
	close(pcap_file_fd(ctx));
}

int posix_pcap_file_sink(const char *path, struct mist_pcap_sink *sink)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, PCAP_FILE_MODE);
	if (fd < 0) {
		mist_error("cannot open %s: %s", path, strerror(errno));
		return MIST_EIO;
	}
	sink->write = pcap_file_write;
	sink->close = pcap_file_close;
	sink->ctx = (void *)(intptr_t)fd;
	return 0;
}

int posix_pcap_capture(const char *path, struct mist_netdev *lower, struct mist_netdev **out)
{
	struct mist_pcap_sink sink;
	int err = posix_pcap_file_sink(path, &sink);
	if (err != 0)
		return err;
	err = mist_pcap_wrap(lower, &sink, out);
	if (err != 0)
		sink.close(sink.ctx);
	return err;
}
