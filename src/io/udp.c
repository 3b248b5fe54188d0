// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include "io/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/compiler.h"

/* Control space per datagram: an IPv4 packet on the dual-stack socket
 * carries both IP_PKTINFO and IPV6_PKTINFO, and a coalesced one UDP_GRO
 * (an int); a segmented send carries one pktinfo and UDP_SEGMENT. */
#define UDP_CTL_LEN                                                                       \
	(CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)) + \
	 CMSG_SPACE(sizeof(int)))

union udp_ctl {
	char buf[UDP_CTL_LEN];
	struct cmsghdr align;
};

/* What the kernel reads or fills for one batch; one set for each direction. */
struct udp_scratch {
	struct mmsghdr hdr[IO_UDP_BATCH_MAX];
	struct iovec iov[IO_UDP_BATCH_MAX];
	union io_sockaddr name[IO_UDP_BATCH_MAX];
	union udp_ctl ctl[IO_UDP_BATCH_MAX];
	unsigned int nseg[IO_UDP_BATCH_MAX]; /* send: datagrams of header i */
};

struct udp {
	int fd;
	int family; /* AF_INET6 (dual-stack), or AF_INET without kernel IPv6 */
	uint16_t port;
	uint32_t fwmark;
	bool gso_want;		/* udp_set_gso() */
	bool gso;		/* segmented sends: wanted, probed and not refused */
	bool gro;		/* coalesced receives, udp_set_gro() */
	struct udp_stats stats; /* rx_* written by udp_recv only, tx_* by udp_send only */
	struct udp_scratch rx, tx;
};

static int sock_open(int *family)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		*family = AF_INET6;
		return fd;
	}
	if (errno != EAFNOSUPPORT)
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	*family = AF_INET;
	return fd;
}

static void sock_bufs(int fd)
{
	int sz = IO_UDP_SOCKBUF;

	/* FORCE ignores net.core.[rw]mem_max but needs CAP_NET_ADMIN; without
	 * it take what the sysctl allows. A smaller buffer only costs drops. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static int sock_opt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) ? -errno : 0;
}

static int sock_setup(int fd, int family, uint32_t fwmark, struct io_err *err)
{
	int ret;

	if (family == AF_INET6) {
		ret = sock_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
		if (!ret)
			ret = sock_opt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
		if (ret)
			return io_errf(err, ret, "UDP dual-stack socket options");
	}
	/* On the dual-stack socket IP_PKTINFO adds ipi_spec_dst for IPv4: the
	 * address replies should come from (it differs from the destination
	 * for broadcasts). Optional there, since IPV6_PKTINFO covers IPv4 too. */
	ret = sock_opt(fd, IPPROTO_IP, IP_PKTINFO, 1);
	if (ret && family == AF_INET)
		return io_errf(err, ret, "UDP socket option IP_PKTINFO");
	sock_bufs(fd);
	if (fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)))
		return io_errf(err, -errno, "set fwmark 0x%x", fwmark);
	return 0;
}

static int sock_bind(int fd, int family, uint16_t port, uint16_t *bound)
{
	union io_sockaddr sa;
	socklen_t len;

	memset(&sa, 0, sizeof(sa));
	if (family == AF_INET6) {
		sa.in6.sin6_family = AF_INET6;
		sa.in6.sin6_addr = in6addr_any;
		sa.in6.sin6_port = htons(port);
		len = sizeof(sa.in6);
	} else {
		sa.in.sin_family = AF_INET;
		sa.in.sin_addr.s_addr = htonl(INADDR_ANY);
		sa.in.sin_port = htons(port);
		len = sizeof(sa.in);
	}
	if (bind(fd, &sa.sa, len))
		return -errno;
	len = sizeof(sa);
	if (getsockname(fd, &sa.sa, &len))
		return -errno;
	*bound = ntohs(family == AF_INET6 ? sa.in6.sin6_port : sa.in.sin_port);
	return 0;
}

/* Whether this socket takes UDP_SEGMENT (Linux 4.18). Setting the socket's
 * default segment size to 0 changes nothing and tells. */
static bool sock_gso(int fd)
{
	return sock_opt(fd, SOL_UDP, UDP_SEGMENT, 0) == 0;
}

/* A configured, bound socket; on failure nothing is left open. */
static int sock_create(uint16_t port, uint32_t fwmark, int *fd_out, int *family_out,
		       uint16_t *bound, struct io_err *err)
{
	int fd, family = 0, ret;

	fd = sock_open(&family);
	if (fd < 0)
		return io_errf(err, fd, "UDP socket");
	ret = sock_setup(fd, family, fwmark, err);
	if (ret)
		goto err_close;
	ret = sock_bind(fd, family, port, bound);
	if (ret) {
		io_errf(err, ret, "bind UDP port %u", port);
		goto err_close;
	}
	*fd_out = fd;
	*family_out = family;
	return 0;

err_close:
	close(fd);
	return ret;
}

/* Point each header at its own iovec, name and control slot, once. */
static void scratch_init(struct udp_scratch *s)
{
	unsigned int i;

	for (i = 0; i < IO_UDP_BATCH_MAX; i++) {
		s->hdr[i].msg_hdr.msg_iov = &s->iov[i];
		s->hdr[i].msg_hdr.msg_iovlen = 1;
		s->hdr[i].msg_hdr.msg_name = &s->name[i];
	}
}

int udp_new(uint16_t port, struct udp **out, struct io_err *err)
{
	struct udp *u;
	int ret;

	u = calloc(1, sizeof(*u));
	if (!u)
		return io_errf(err, -ENOMEM, "UDP socket");
	ret = sock_create(port, 0, &u->fd, &u->family, &u->port, err);
	if (ret) {
		free(u);
		return ret;
	}
	scratch_init(&u->rx);
	scratch_init(&u->tx);
	u->gso_want = true;
	u->gso = sock_gso(u->fd);
	*out = u;
	return 0;
}

void udp_free(struct udp *u)
{
	if (!u)
		return;
	close(u->fd);
	free(u);
}

int udp_fd(const struct udp *u)
{
	return u->fd;
}

uint16_t udp_port(const struct udp *u)
{
	return u->port;
}

int udp_set_port(struct udp *u, uint16_t port, struct io_err *err)
{
	uint16_t bound = 0;
	int fd = -1, family = 0, ret;

	/* 0 always moves to a fresh port, as the kernel module does. */
	if (port && port == u->port)
		return 0;
	ret = sock_create(port, u->fwmark, &fd, &family, &bound, err);
	if (ret)
		return ret;
	close(u->fd);
	u->fd = fd;
	u->family = family;
	u->port = bound;
	u->gso = u->gso_want && sock_gso(fd);
	/* Best effort: the old socket had it, so this kernel has it. */
	if (u->gro && sock_opt(fd, SOL_UDP, UDP_GRO, 1))
		u->gro = false;
	return 0;
}

int udp_set_gro(struct udp *u, bool on)
{
	int ret = sock_opt(u->fd, SOL_UDP, UDP_GRO, on);

	if (!ret)
		u->gro = on;
	return ret;
}

bool udp_gro(const struct udp *u)
{
	return u->gro;
}

size_t udp_msg_next(const struct udp_msg *m, size_t *off, uint8_t **p)
{
	size_t n;

	if (*off >= m->len)
		return 0;
	n = m->len - *off;
	if (m->seg && n > m->seg)
		n = m->seg;
	*p = m->buf + *off;
	*off += n;
	return n;
}

void udp_set_gso(struct udp *u, bool on)
{
	u->gso_want = on;
	u->gso = on && sock_gso(u->fd);
}

bool udp_gso(const struct udp *u)
{
	return u->gso;
}

int udp_set_fwmark(struct udp *u, uint32_t mark, struct io_err *err)
{
	if (mark == u->fwmark)
		return 0;
	if (setsockopt(u->fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) {
		int ret = -errno;

		return io_errf(err, ret, "set fwmark 0x%x%s", mark,
			       ret == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
	}
	u->fwmark = mark;
	return 0;
}

uint32_t udp_fwmark(const struct udp *u)
{
	return u->fwmark;
}

void udp_get_stats(const struct udp *u, struct udp_stats *out)
{
	*out = u->stats;
}

/* ---- receive ---- */

static void rx_prepare(struct udp_scratch *s, unsigned int i, const struct udp_msg *m)
{
	struct msghdr *mh = &s->hdr[i].msg_hdr;

	s->iov[i].iov_base = m->buf;
	s->iov[i].iov_len = m->cap;
	mh->msg_namelen = sizeof(s->name[i]);
	mh->msg_control = s->ctl[i].buf;
	mh->msg_controllen = sizeof(s->ctl[i].buf);
	mh->msg_flags = 0;
}

static void rx_pktinfo6(const struct cmsghdr *c, struct io_endpoint *ep)
{
	struct in6_pktinfo pi;

	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	if (ep->family == AF_INET6)
		ep->src.v6 = pi.ipi6_addr;
	else if (IN6_IS_ADDR_V4MAPPED(&pi.ipi6_addr))
		memcpy(&ep->src.v4, &pi.ipi6_addr.s6_addr[12], 4);
	ep->src_ifindex = (uint32_t)pi.ipi6_ifindex;
}

static void rx_pktinfo4(const struct cmsghdr *c, struct io_endpoint *ep)
{
	struct in_pktinfo pi;

	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	ep->src.v4 = pi.ipi_spec_dst;
	ep->src_ifindex = (uint32_t)pi.ipi_ifindex;
}

/* From the control messages: the local address the datagram was sent to,
 * and the segment size of a coalesced buffer (0: one datagram). */
static void rx_ctl(struct msghdr *mh, struct io_endpoint *ep, size_t *seg)
{
	struct cmsghdr *c;
	bool spec_dst = false;
	int gso;

	*seg = 0;
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo)) && ep->family == AF_INET) {
			/* spec_dst is the better reply address: it wins. */
			rx_pktinfo4(c, ep);
			spec_dst = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo)) && !spec_dst) {
			rx_pktinfo6(c, ep);
		} else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(&gso, CMSG_DATA(c), sizeof(gso));
			*seg = gso > 0 ? (size_t)gso : 0;
		}
	}
}

/* Fill m from the kernel's header; nonzero if the datagram is to be dropped. */
static int rx_finish(struct udp *u, struct mmsghdr *h, struct udp_msg *m)
{
	struct msghdr *mh = &h->msg_hdr;
	struct io_endpoint ep;

	if (mh->msg_flags & MSG_TRUNC) {
		struct io_endpoint unused = { .family = AF_UNSPEC };
		size_t seg;

		u->stats.rx_truncated++;
		rx_ctl(mh, &unused, &seg);
		if (seg && u->gro && !sock_opt(u->fd, SOL_UDP, UDP_GRO, 0)) {
			/* A coalesced buffer larger than the caller's (a device
			 * whose gro_max_size is above 64 KiB): its datagrams
			 * are lost; take the next ones one by one. */
			u->gro = false;
			u->stats.rx_gro_off++;
		}
		return -EMSGSIZE;
	}
	if (io_endpoint_from_sockaddr(mh->msg_name, mh->msg_namelen, &ep))
		return -EAFNOSUPPORT;
	rx_ctl(mh, &ep, &m->seg);
	m->ep = ep;
	m->len = h->msg_len;
	if (m->seg >= m->len)
		m->seg = 0;
	if (m->seg) {
		u->stats.rx_gro++;
		u->stats.rx_packets += (m->len + m->seg - 1) / m->seg;
	} else {
		u->stats.rx_packets++;
	}
	u->stats.rx_bytes += h->msg_len;
	return 0;
}

static void msg_swap(struct udp_msg *a, struct udp_msg *b)
{
	struct udp_msg t = *a;

	*a = *b;
	*b = t;
}

int udp_recv(struct udp *u, struct udp_msg *msgs, unsigned int n, unsigned int *got)
{
	struct udp_scratch *s = &u->rx;
	unsigned int i, k = 0;
	int r;

	if (!n)
		return -EINVAL;
	n = SC_MIN(n, IO_UDP_BATCH_MAX);
	for (i = 0; i < n; i++)
		rx_prepare(s, i, &msgs[i]);
	do {
		r = recvmmsg(u->fd, s->hdr, n, MSG_DONTWAIT, NULL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	for (i = 0; i < (unsigned int)r; i++) {
		if (rx_finish(u, &s->hdr[i], &msgs[i]))
			continue;
		if (i != k)
			msg_swap(&msgs[i], &msgs[k]);
		k++;
	}
	*got = k;
	return 0;
}

/* ---- send ---- */

static void put_cmsg(struct msghdr *mh, int level, int type, const void *data, size_t len)
{
	struct cmsghdr *c = (struct cmsghdr *)((char *)mh->msg_control + mh->msg_controllen);

	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	mh->msg_controllen += CMSG_SPACE(len);
}

/* Control messages of one send: the sticky source, and the segment size of
 * a segmented send (seg 0: one datagram). */
static void tx_ctl(struct msghdr *mh, union udp_ctl *ctl, const struct io_endpoint *ep,
		   uint16_t seg)
{
	mh->msg_control = NULL;
	mh->msg_controllen = 0;
	if (!seg && !io_endpoint_has_src(ep))
		return; /* the common case: nothing to say */
	memset(ctl, 0, sizeof(*ctl));
	mh->msg_control = ctl->buf;
	/* Pin the address only (ifindex 0): the route picks the device, so a
	 * moved route does not strand the packet on the old interface. */
	if (io_endpoint_has_src(ep) && ep->family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = ep->src.v4 };

		put_cmsg(mh, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	} else if (io_endpoint_has_src(ep)) {
		struct in6_pktinfo pi = { .ipi6_addr = ep->src.v6 };

		put_cmsg(mh, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	if (seg)
		put_cmsg(mh, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg));
}

/* How many of msgs[0..n) one segmented send can carry: the same
 * destination and source, each msgs[0].len bytes long except a shorter
 * last one (the kernel cuts the payload at every msgs[0].len bytes). */
static unsigned int gso_run(const struct udp_msg *msgs, unsigned int n)
{
	size_t seg = msgs[0].len, total = seg;
	unsigned int k = 1;

	if (!seg || seg > UINT16_MAX)
		return 1;
	while (k < n && k < IO_UDP_GSO_SEGS && msgs[k].len && msgs[k].len <= seg &&
	       total + msgs[k].len <= IO_UDP_GSO_BYTES &&
	       io_endpoint_equal_src(&msgs[k].ep, &msgs[0].ep)) {
		total += msgs[k].len;
		if (msgs[k++].len < seg)
			break;
	}
	return k;
}

/* Build headers for the leading run of sendable messages, grouping runs
 * for segmented sends except among the first `plain` messages. Returns the
 * number of headers (0 if msgs[0] has an endpoint this socket cannot
 * reach); nseg[] says how many messages each one carries. */
static unsigned int tx_build(struct udp *u, const struct udp_msg *msgs, unsigned int n,
			     unsigned int plain)
{
	struct udp_scratch *s = &u->tx;
	unsigned int h = 0, i = 0, j;

	n = SC_MIN(n, IO_UDP_BATCH_MAX);
	while (i < n) {
		struct msghdr *mh = &s->hdr[h].msg_hdr;
		unsigned int k = u->gso && i >= plain ? gso_run(msgs + i, n - i) : 1;
		socklen_t len;

		if (io_endpoint_to_sockaddr(&msgs[i].ep, u->family, &s->name[h], &len))
			break;
		mh->msg_namelen = len;
		mh->msg_iov = &s->iov[i];
		mh->msg_iovlen = k;
		mh->msg_flags = 0;
		for (j = 0; j < k; j++) {
			s->iov[i + j].iov_base = msgs[i + j].buf;
			s->iov[i + j].iov_len = msgs[i + j].len;
		}
		tx_ctl(mh, &s->ctl[h], &msgs[i].ep, k > 1 ? (uint16_t)msgs[i].len : 0);
		s->nseg[h++] = k;
		i += k;
	}
	return h;
}

static void tx_account(struct udp *u, const struct udp_msg *msgs, unsigned int n)
{
	unsigned int i;

	u->stats.tx_packets += n;
	for (i = 0; i < n; i++)
		u->stats.tx_bytes += msgs[i].len;
}

/* After sendmmsg failed on msg: nonzero (the -errno) to stop the batch, 0 to
 * go on (msg dropped, or its source cleared for a retry). */
static int tx_error(struct udp *u, struct udp_msg *msg, int err, unsigned int *k)
{
	switch (err) {
	case EINTR:
		return 0;
	case EAGAIN:
	case EBADF:
	case ENOTSOCK:
	case ENOMEM:
		return -err;
	case EINVAL:	  /* IPv6: source address not on this host */
	case ENETUNREACH: /* IPv4: same, from the route lookup */
	case EADDRNOTAVAIL:
		/* Maybe the sticky source is no longer ours: retry once with the
		 * kernel's pick; if that fails too the message is dropped. (A
		 * network that is really unreachable costs a still-valid source;
		 * the peer's next authenticated packet brings it back.) */
		if (io_endpoint_has_src(&msg->ep)) {
			io_endpoint_clear_src(&msg->ep);
			u->stats.tx_src_reset++;
			return 0;
		}
		break;
	}
	u->stats.tx_errors++;
	(*k)++;
	return 0;
}

/* The messages carried by the first h headers of the last tx_build(). */
static unsigned int tx_sent(struct udp *u, unsigned int h)
{
	unsigned int i, n = 0;

	for (i = 0; i < h; i++) {
		n += u->tx.nseg[i];
		if (u->tx.nseg[i] > 1)
			u->stats.tx_gso_sends++;
	}
	return n;
}

int udp_send(struct udp *u, struct udp_msg *msgs, unsigned int n, unsigned int *done)
{
	unsigned int k = 0, plain_end = 0;
	int ret = 0;

	while (k < n && !ret) {
		unsigned int h = tx_build(u, msgs + k, n - k, plain_end > k ? plain_end - k : 0);
		int r, err;

		if (!h) {
			u->stats.tx_errors++;
			k++;
			continue;
		}
		r = sendmmsg(u->fd, u->tx.hdr, h, MSG_DONTWAIT);
		if (r > 0) {
			unsigned int sent = tx_sent(u, (unsigned int)r);

			tx_account(u, msgs + k, sent);
			k += sent;
			continue;
		}
		err = r < 0 ? errno : EIO;
		if (u->tx.nseg[0] > 1 && err != EAGAIN && err != EINTR) {
			/* The segmented send was refused: send its datagrams one
			 * by one, so each gets the plain path's handling (a
			 * stale source, a datagram too big). EIO: the route's
			 * device cannot checksum for us; stop segmenting on
			 * this socket, as wireguard-go does. */
			if (err == EIO) {
				u->gso = false;
				u->stats.tx_gso_off++;
			}
			plain_end = k + u->tx.nseg[0];
			continue;
		}
		ret = tx_error(u, &msgs[k], err, &k);
	}
	if (ret && !k)
		return ret;
	*done = k;
	return 0;
}
