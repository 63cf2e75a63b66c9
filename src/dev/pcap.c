/*
 * The pcap capture wrapper (pcap.h). Each record is gathered into one
 * buffer and handed to the sink in a single write, so that a sink never sees
 * half a record and a failed write cannot leave the file misaligned; the
 * copy costs one memcpy per captured frame, which a debugging aid can
 * afford. It is not a ring buffer: a slow sink slows the loop. Freestanding:
 * it depends on src/base, the core heap, the buffer chain accessors and the
 * wall clock of mist.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIST_LOG_TAG "pcap"

#include "base/compiler.h"
#include "base/str.h"
#include "core/mem.h"
#include "core/netdev.h"
#include "core/panic.h"
#include "dev/pcap.h"
#include "mist/buf.h"
#include "mist/log.h"
#include "mist/mist.h"

#define PCAP_NS_PER_SEC  1000000000u
#define PCAP_NS_PER_USEC 1000u

/* Offsets of the fields of a record header (four 32-bit words). */
#define PCAP_REC_TS_SEC   0
#define PCAP_REC_TS_USEC  4
#define PCAP_REC_INCL_LEN 8
#define PCAP_REC_ORIG_LEN 12

/* Offsets of the fields of the global header. */
#define PCAP_HDR_MAGIC    0
#define PCAP_HDR_VMAJOR   4
#define PCAP_HDR_VMINOR   6
#define PCAP_HDR_THISZONE 8
#define PCAP_HDR_SIGFIGS  12
#define PCAP_HDR_SNAPLEN  16
#define PCAP_HDR_LINKTYPE 20

struct pcap_dev {
	struct mist_netdev netdev; /* first, so that ops can cast back */
	struct mist_netdev *lower;
	struct mist_pcap_sink sink;
	bool stopped;    /* a write failed: capture no more */
	uint8_t *record; /* MIST_PCAP_RECORD_HDR_LEN + MIST_PCAP_SNAPLEN bytes */
};

static struct pcap_dev *pcap_of(struct mist_netdev *netdev)
{
	return mist_container_of(netdev, struct pcap_dev, netdev);
}

/* Fields are in the writer's byte order, which the magic number tells the reader. */
static void pcap_put32(uint8_t *p, uint32_t v)
{
	mist_memcpy(p, &v, sizeof(v));
}

static void pcap_put16(uint8_t *p, uint16_t v)
{
	mist_memcpy(p, &v, sizeof(v));
}

/*
 * Gathers a record of the chain `frame`, timestamped now, into pc->record
 * and returns its length. The 32-bit seconds field runs out in 2106, as in
 * every classic pcap file.
 */
static size_t pcap_gather(struct pcap_dev *pc, const struct mist_buf *frame)
{
	size_t len = mist_buf_chain_len(frame);
	uint32_t incl = (uint32_t)MIST_MIN(len, (size_t)MIST_PCAP_SNAPLEN);
	uint64_t now = mist_wallclock();
	uint8_t *rec = pc->record;

	pcap_put32(rec + PCAP_REC_TS_SEC, (uint32_t)(now / PCAP_NS_PER_SEC));
	pcap_put32(rec + PCAP_REC_TS_USEC, (uint32_t)(now % PCAP_NS_PER_SEC / PCAP_NS_PER_USEC));
	pcap_put32(rec + PCAP_REC_INCL_LEN, incl);
	pcap_put32(rec + PCAP_REC_ORIG_LEN, (uint32_t)MIST_MIN(len, (size_t)UINT32_MAX));
	int err = mist_buf_copyout(frame, 0, rec + MIST_PCAP_RECORD_HDR_LEN, incl);
	MIST_ASSERT(err == 0);
	return MIST_PCAP_RECORD_HDR_LEN + incl;
}

/* Writes the record gathered in pc->record; stops the capture when the sink fails. */
static void pcap_emit(struct pcap_dev *pc, size_t rec_len)
{
	int err = pc->sink.write(pc->sink.ctx, pc->record, rec_len);
	if (err != 0) {
		pc->stopped = true;
		mist_warn("%s: capture stopped: %s", pc->netdev.name, mist_strerror(err));
	}
}

static unsigned pcap_rx_burst(struct mist_netdev *netdev, struct mist_buf **bufs, unsigned max)
{
	struct pcap_dev *pc = pcap_of(netdev);
	unsigned n = pc->lower->ops->rx_burst(pc->lower, bufs, max);

	for (unsigned i = 0; i < n && !pc->stopped; i++)
		pcap_emit(pc, pcap_gather(pc, bufs[i]));
	netdev->stats = pc->lower->stats;
	return n;
}

/*
 * The frame is gathered before lower's tx() takes it (and may release it),
 * and written only once tx() has accepted it.
 */
static int pcap_tx(struct mist_netdev *netdev, struct mist_buf *frame)
{
	struct pcap_dev *pc = pcap_of(netdev);
	size_t rec_len = pc->stopped ? 0 : pcap_gather(pc, frame);
	int ret = pc->lower->ops->tx(pc->lower, frame);

	if (ret == 0 && !pc->stopped)
		pcap_emit(pc, rec_len);
	netdev->stats = pc->lower->stats;
	return ret;
}

static void pcap_flush(struct mist_netdev *netdev)
{
	struct pcap_dev *pc = pcap_of(netdev);

	pc->lower->ops->flush(pc->lower);
	netdev->stats = pc->lower->stats;
}

static void pcap_close(struct mist_netdev *netdev)
{
	struct pcap_dev *pc = pcap_of(netdev);

	pc->lower->ops->close(pc->lower);
	if (pc->sink.close != NULL)
		pc->sink.close(pc->sink.ctx);
	mist_free(pc->record);
	mist_free(pc);
}

static const struct mist_netdev_ops pcap_ops = {
        .rx_burst = pcap_rx_burst,
        .tx = pcap_tx,
        .flush = pcap_flush,
        .close = pcap_close,
};

int mist_pcap_wrap(struct mist_netdev *lower, const struct mist_pcap_sink *sink,
                   struct mist_netdev **out)
{
	if (lower == NULL || sink == NULL || sink->write == NULL || out == NULL) {
		MIST_MISUSE("mist_pcap_wrap", "NULL device, sink, sink write or result");
		return MIST_EINVAL;
	}
	struct pcap_dev *pc = mist_calloc(1, sizeof(*pc));
	if (pc == NULL)
		return MIST_ENOMEM;
	pc->record = mist_alloc(MIST_PCAP_RECORD_HDR_LEN + MIST_PCAP_SNAPLEN);
	if (pc->record == NULL) {
		mist_free(pc);
		return MIST_ENOMEM;
	}

	uint8_t *hdr = pc->record;
	pcap_put32(hdr + PCAP_HDR_MAGIC, MIST_PCAP_MAGIC_USEC);
	pcap_put16(hdr + PCAP_HDR_VMAJOR, MIST_PCAP_VERSION_MAJOR);
	pcap_put16(hdr + PCAP_HDR_VMINOR, MIST_PCAP_VERSION_MINOR);
	/* Timestamps are UTC and of unstated accuracy: both fields stay 0, as the format says. */
	pcap_put32(hdr + PCAP_HDR_THISZONE, 0);
	pcap_put32(hdr + PCAP_HDR_SIGFIGS, 0);
	pcap_put32(hdr + PCAP_HDR_SNAPLEN, MIST_PCAP_SNAPLEN);
	pcap_put32(hdr + PCAP_HDR_LINKTYPE, MIST_PCAP_LINKTYPE_ETHERNET);
	int err = sink->write(sink->ctx, hdr, MIST_PCAP_FILE_HDR_LEN);
	if (err != 0) {
		mist_free(pc->record);
		mist_free(pc);
		return err;
	}

	pc->netdev.ops = &pcap_ops;
	mist_memcpy(pc->netdev.name, lower->name, sizeof(pc->netdev.name));
	mist_memcpy(pc->netdev.mac, lower->mac, sizeof(pc->netdev.mac));
	pc->netdev.mtu = lower->mtu;
	pc->netdev.offloads = lower->offloads;
	pc->netdev.rx_large_pool = lower->rx_large_pool;
	pc->netdev.stats = lower->stats;
	pc->lower = lower;
	pc->sink = *sink;
	*out = &pc->netdev;
	return 0;
}
