/*
 * UDP endpoints (mist/udp.h) over host datagram sockets. The kernel queues
 * received datagrams (up to the socket's receive buffer, rather than
 * MIST_UDP_RX_QUEUE datagrams). A datagram is read into one pool buffer
 * when it fits; a larger one spills into the stack's scratch area and is copied
 * into a chain of buffers, a copy only datagrams over SOCK_BUF_SIZE pay.
 *
 * ICMP errors come through IP_RECVERR (ip(7)): the kernel queues each on
 * the socket's error queue and signals EPOLLERR, and the watch drains the
 * queue into the endpoint's error at once, for mist_udp_take_error(). Until
 * it is drained, the kernel also fails the next send or receive with that
 * error; those calls drain it the same way and try again, so that as on
 * Mist's own stack the error is reported only by mist_udp_take_error().
 */
#define MIST_LOG_TAG "sock"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* After <time.h>: it uses struct timespec without including it. */
#include <linux/errqueue.h>

#include "base/compiler.h"
#include "core/mem.h"
#include "core/panic.h"
#include "sock.h"

/* RFC 6056 §2.1: the dynamic port range suggested by IANA, as Mist's own stack uses. */
#define UDP_EPHEMERAL_FIRST 49152u
#define UDP_EPHEMERAL_COUNT 16384u

/* Room for the sock_extended_err and the offender's address of one queued error. */
#define UDP_ERR_CONTROL_LEN 128

struct mist_udp {
	struct posix_watch watch;
	struct mist_stack *stack;
	struct mist_udp *prev, *next; /* in stack->udps */
	int fd;
	uint16_t port;
	int error; /* the last ICMP error, for mist_udp_take_error() */
	struct mist_waitq readers;
};

/*
 * Moves every error queued on the socket into u->error, the last one
 * winning as on Mist's own stack. Returns true if there was any.
 */
static bool udp_drain_errors(struct mist_udp *u)
{
	bool any = false;
	for (;;) {
		union {
			uint8_t bytes[UDP_ERR_CONTROL_LEN];
			struct cmsghdr align;
		} control;
		struct msghdr msg = {.msg_control = control.bytes,
		                     .msg_controllen = sizeof(control.bytes)};
		if (recvmsg(u->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return any;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
				continue;
			struct sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if (ee.ee_origin == SO_EE_ORIGIN_ICMP) {
				u->error = sock_error_from_icmp(ee.ee_type, ee.ee_code);
				u->stack->stats.udp_icmp_errors++;
				any = true;
			}
		}
	}
}

static void udp_ready(struct posix_watch *watch, uint32_t events)
{
	struct mist_udp *u = mist_container_of(watch, struct mist_udp, watch);
	if (events & EPOLLERR)
		udp_drain_errors(u);
	if (events & EPOLLIN)
		mist_wake_all(&u->readers);
}

/*
 * The errors a send or receive reports instead of doing its job while an
 * ICMP error is pending on the socket (the kernel clears it as it does so).
 */
static bool udp_is_icmp_errno(int errnum)
{
	switch (errnum) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EMSGSIZE:
	case EPROTO:
		return true;
	default:
		return false;
	}
}

/* Binds `fd` to the stack's address and `port`. Returns 0 or a negative errno. */
static int udp_bind(const struct mist_stack *s, int fd, uint16_t port)
{
	struct sockaddr_in sa = {
	        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = s->addr};
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
}

/* RFC 6056 §3.3.1 (Algorithm 1): a random start, then the next port free to bind. */
static int udp_bind_ephemeral(const struct mist_stack *s, int fd, uint16_t *port)
{
	uint32_t start = mist_random_below(UDP_EPHEMERAL_COUNT);
	for (uint32_t i = 0; i < UDP_EPHEMERAL_COUNT; i++) {
		uint16_t candidate =
		        (uint16_t)(UDP_EPHEMERAL_FIRST + (start + i) % UDP_EPHEMERAL_COUNT);
		int err = udp_bind(s, fd, candidate);
		if (err == 0) {
			*port = candidate;
			return 0;
		}
		if (err != -EADDRINUSE)
			return err;
	}
	return -EADDRINUSE;
}

/* A non-blocking datagram socket bound to `*port` (0: an ephemeral one), or a negative errno. */
static int udp_socket(const struct mist_stack *s, uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	int err = setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) == 0 ? 0 : -errno;
	if (err == 0)
		err = *port != 0 ? udp_bind(s, fd, *port) : udp_bind_ephemeral(s, fd, port);
	if (err != 0) {
		close(fd);
		return err;
	}
	return fd;
}

int mist_udp_open(struct mist_stack *net, uint16_t port, struct mist_udp **out)
{
	if (net == NULL)
		return MIST_EINVAL;
	struct mist_udp *u = mist_calloc(1, sizeof(*u));
	if (u == NULL)
		return MIST_ENOMEM;
	u->fd = udp_socket(net, &port);
	if (u->fd < 0) {
		int err = sock_error_from_errno(-u->fd);
		mist_free(u);
		return err;
	}
	u->stack = net;
	u->port = port;
	u->watch.ready = udp_ready;
	mist_waitq_init(&u->readers);
	int err = posix_poll_watch(u->fd, EPOLLIN | EPOLLERR | EPOLLET, &u->watch);
	if (err != 0) {
		close(u->fd);
		mist_free(u);
		return sock_error_from_errno(-err);
	}
	u->next = net->udps;
	if (net->udps != NULL)
		net->udps->prev = u;
	net->udps = u;
	*out = u;
	return 0;
}

static void udp_free(struct mist_udp *u)
{
	struct mist_stack *s = u->stack;
	posix_poll_remove(u->fd);
	close(u->fd);
	if (u->prev != NULL)
		u->prev->next = u->next;
	else
		s->udps = u->next;
	if (u->next != NULL)
		u->next->prev = u->prev;
	mist_free(u);
}

void mist_udp_close(struct mist_udp *u)
{
	if (!mist_waitq_empty(&u->readers))
		MIST_MISUSE("mist_udp_close", "a fiber is still waiting in mist_udp_recv");
	udp_free(u);
}

void sock_udp_destroy(struct mist_stack *s)
{
	while (s->udps != NULL)
		udp_free(s->udps);
}

/*
 * Appends the `len` bytes at `data` to chain `head` in pool buffers. Returns
 * 0, or MIST_ENOMEM when the pool ran out (the chain is then the caller's to
 * free).
 */
static int udp_copy_spilled(struct mist_stack *s, struct mist_buf *head, const uint8_t *data,
                            size_t len)
{
	while (len > 0) {
		uint32_t n = (uint32_t)MIST_MIN(len, (size_t)SOCK_BUF_SIZE);
		struct mist_buf *b = mist_buf_alloc(s->pool, n);
		if (b == NULL)
			return MIST_ENOMEM;
		memcpy(b->data, data, n);
		mist_buf_chain(head, b);
		data += n;
		len -= n;
	}
	return 0;
}

/*
 * Receives one datagram without blocking. Returns 0 with it in *payload;
 * MIST_EAGAIN when none is queued; MIST_ETIMEDOUT when no buffer came free
 * before `deadline`; MIST_ENOMEM when a large one found too few buffers
 * (it is dropped).
 */
static int udp_recv_one(struct mist_udp *u, struct mist_buf **payload, struct mist_addr *from,
                        uint64_t deadline)
{
	struct mist_stack *s = u->stack;
	struct mist_buf *b = sock_read_buf(s, deadline);
	if (b == NULL)
		return MIST_ETIMEDOUT;
	struct sockaddr_in sa;
	struct iovec iov[2] = {{.iov_base = b->data, .iov_len = b->len},
	                       {.iov_base = s->udp_scratch, .iov_len = SOCK_UDP_PAYLOAD_MAX}};
	struct msghdr msg = {
	        .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov, .msg_iovlen = 2};
	ssize_t n = recvmsg(u->fd, &msg, MSG_DONTWAIT);
	if (n < 0 && udp_is_icmp_errno(errno)) {
		/* Receiving has no error of its own to give: this one was pending. */
		int errnum = errno;
		if (!udp_drain_errors(u))
			u->error = sock_error_from_errno(errnum);
		n = recvmsg(u->fd, &msg, MSG_DONTWAIT);
	}
	if (n < 0) {
		int errnum = errno;
		mist_buf_free(b);
		return errnum == EAGAIN ? MIST_EAGAIN : sock_error_from_errno(errnum);
	}
	s->stats.udp_rx++;
	if ((size_t)n <= b->len) {
		mist_buf_trim(b, (uint32_t)n);
	} else if (udp_copy_spilled(s, b, s->udp_scratch, (size_t)n - b->len) != 0) {
		mist_buf_free_chain(b);
		return MIST_ENOMEM;
	}
	*payload = b;
	*from = sock_addr_from(&sa);
	return 0;
}

int mist_udp_recv(struct mist_udp *u, struct mist_buf **payload, struct mist_addr *from,
                  uint64_t deadline)
{
	for (;;) {
		int err = udp_recv_one(u, payload, from, deadline);
		if (err == 0 || err == MIST_ETIMEDOUT)
			return err;
		/* A datagram dropped for want of buffers: the next may be queued already. */
		if (err == MIST_ENOMEM)
			continue;
		if (err != MIST_EAGAIN)
			u->stack->stats.udp_rx_errors++;
		err = mist_wait(&u->readers, deadline);
		if (err != 0)
			return err;
	}
}

/* Sends the `count` pieces of `iov` as one datagram to `to`. */
static int udp_sendmsg(struct mist_udp *u, const struct mist_addr *to, struct iovec *iov,
                       size_t count)
{
	struct sockaddr_in sa = sock_addr_in(to->ip, to->port);
	struct msghdr msg = {
	        .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov, .msg_iovlen = count};
	ssize_t n = sendmsg(u->fd, &msg, MSG_DONTWAIT);
	/*
	 * A queued ICMP error means the failure was that error's, reported
	 * instead of sending: the datagram itself may go. Otherwise (no route,
	 * say) the failure is this datagram's own.
	 */
	if (n < 0 && udp_is_icmp_errno(errno) && udp_drain_errors(u))
		n = sendmsg(u->fd, &msg, MSG_DONTWAIT);
	if (n < 0) {
		u->stack->stats.udp_tx_errors++;
		/* A full socket buffer is the kernel's way of running out of buffers. */
		return sock_error_from_errno(errno == EAGAIN ? ENOBUFS : errno);
	}
	u->stack->stats.udp_tx++;
	return 0;
}

int mist_udp_send(struct mist_udp *u, const struct mist_addr *to, struct mist_buf *payload)
{
	struct iovec iov[SOCK_IOV_MAX];
	size_t len = mist_buf_chain_len(payload);
	unsigned count = 0;
	int err;

	for (const struct mist_buf *b = payload; b != NULL; b = b->next)
		count++;
	if (len > SOCK_UDP_PAYLOAD_MAX) {
		err = MIST_EMSGSIZE;
	} else if (count <= SOCK_IOV_MAX) {
		count = 0;
		for (struct mist_buf *b = payload; b != NULL; b = b->next)
			iov[count++] = (struct iovec){.iov_base = b->data, .iov_len = b->len};
		err = udp_sendmsg(u, to, iov, count);
	} else {
		/* A chain of many small pieces is gathered in the scratch area first. */
		mist_buf_copyout(payload, 0, u->stack->udp_scratch, len);
		iov[0] = (struct iovec){.iov_base = u->stack->udp_scratch, .iov_len = len};
		err = udp_sendmsg(u, to, iov, 1);
	}
	mist_buf_free_chain(payload);
	return err;
}

int mist_udp_send_copy(struct mist_udp *u, const struct mist_addr *to, const void *data, size_t len)
{
	if (len > SOCK_UDP_PAYLOAD_MAX)
		return MIST_EMSGSIZE;
	/* The kernel copies the bytes itself: no pool buffer is needed. */
	struct iovec iov = {.iov_base = (void *)(uintptr_t)data, .iov_len = len};
	return udp_sendmsg(u, to, &iov, 1);
}

int mist_udp_take_error(struct mist_udp *u)
{
	udp_drain_errors(u);
	int err = u->error;
	u->error = 0;
	return err;
}

struct mist_addr mist_udp_local(const struct mist_udp *u)
{
	return (struct mist_addr){.ip = mist_net_ipv4(u->stack), .port = u->port};
}
