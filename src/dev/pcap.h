/*
 * Packet capture as device middleware: a network device (core/netdev.h) that
 * wraps another and writes every frame passing through it, in both
 * directions, to a sink in the classic libpcap file format, readable by
 * tcpdump and Wireshark. The sink is a pair of callbacks, so that the same
 * code captures on every target: a file on posix, a console or memory buffer
 * elsewhere. It is not the pcapng format and does not filter. It depends on
 * the buffer pools' chain accessors, the core heap and the wall clock.
 *
 * The format (https://wiki.wireshark.org/Development/LibpcapFileFormat, and
 * draft-ietf-opsawg-pcap): a 24-byte global header, then per frame a 16-byte
 * record header and the frame's bytes; every field in the writer's byte
 * order, which the reader learns from the magic number.
 */
#ifndef MIST_DEV_PCAP_H
#define MIST_DEV_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/netdev.h"

/* Magic number of a capture with microsecond timestamps. */
#define MIST_PCAP_MAGIC_USEC    0xa1b2c3d4u
#define MIST_PCAP_VERSION_MAJOR 2u
#define MIST_PCAP_VERSION_MINOR 4u
/* Bytes kept of each frame; longer frames are cut, their full length recorded. */
#define MIST_PCAP_SNAPLEN 65535u
/* The link type of frames that start with an Ethernet II header (tcpdump.org/linktypes). */
#define MIST_PCAP_LINKTYPE_ETHERNET 1u
#define MIST_PCAP_FILE_HDR_LEN      24u
#define MIST_PCAP_RECORD_HDR_LEN    16u

/* Where a capture goes. */
struct mist_pcap_sink {
	/*
	 * Appends `len` bytes. Returns 0 once all are written, or a negative
	 * MIST_E* code, after which the capture stops.
	 */
	int (*write)(void *ctx, const void *data, size_t len);
	/* Releases the sink; called once, when the wrapping device closes. May be NULL. */
	void (*close)(void *ctx);
	void *ctx;
};

/*
 * Wraps `lower` in a device that captures to `sink` and stores it in *out.
 * The global header is written at once. Then each frame that lower's
 * rx_burst() delivers is recorded before it is handed up, and each frame
 * given to tx() is recorded, its chain gathered in order, if lower's tx()
 * accepts it (a frame the device refuses never reached the wire). Records
 * carry the wall clock (mist_wallclock()) at the time of the call.
 *
 * The wrapper has lower's name, mac, mtu, offloads and rx_large_pool as
 * they are now (set the lower device's MAC first), and after every call its
 * stats are lower's. Super-frames (core/netdev.h) are recorded as they
 * are, unsegmented; TCP makes none longer than the snaplen, a received one
 * may be cut by up to 14 bytes.
 * Its close() closes lower, then the sink. When a sink write fails, the
 * failure is logged under the tag "pcap", capturing stops and the frames
 * keep flowing.
 *
 * Returns 0; MIST_EINVAL for a NULL argument or a sink without write;
 * MIST_ENOMEM when out of memory; or the sink's error when the global header
 * cannot be written. On failure lower and the sink stay the caller's.
 */
int mist_pcap_wrap(struct mist_netdev *lower, const struct mist_pcap_sink *sink,
                   struct mist_netdev **out);

#endif
