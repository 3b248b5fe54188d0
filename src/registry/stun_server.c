// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include "registry/stun_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/stun.h"

/* Control space per datagram: an IPv4 datagram on a dual-stack socket may
 * carry both kinds of packet info. */
#define STUN_CTL_LEN \
	(CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)))

union ctl {
	char buf[STUN_CTL_LEN];
	struct cmsghdr align;
};

union sockname {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

/* Where a request arrived: the reply goes out from there. */
struct local {
	int level; /* IPPROTO_IP or IPPROTO_IPV6; 0 when unknown */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

struct slot {
	uint8_t req[STUN_MSG_MAX];
	uint8_t rep[STUN_MSG_MAX];
	union sockname from;
	struct local local;
	/* Last: clang sees CMSG_SPACE() as a folded variable size, allowed
	 * only at the end of a struct. [0] receives, [1] sends. */
	union ctl ctl[2];
};

struct reg_stun {
	int fd;
	uint16_t port;
	bool pktinfo; /* bound to a wildcard address: track local addresses */
	struct mmsghdr rx[REG_STUN_BATCH], tx[REG_STUN_BATCH];
	struct iovec rx_iov[REG_STUN_BATCH], tx_iov[REG_STUN_BATCH];
	struct slot *slots; /* REG_STUN_BATCH of them */
	_Atomic uint64_t rx_packets, rx_bytes, rx_oversize, dropped, ignored;
	_Atomic uint64_t tx_success, tx_error, tx_failed;
};

static void count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

__attribute__((format(printf, 3, 4))) static int fail(char *errbuf, int err, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!errbuf)
		return err;
	va_start(ap, fmt);
	vsnprintf(errbuf, REG_STUN_ERRLEN, fmt, ap);
	va_end(ap);
	n = strlen(errbuf);
	if (n < REG_STUN_ERRLEN - 1)
		snprintf(errbuf + n, REG_STUN_ERRLEN - n, ": %s", strerror(-err));
	return err;
}

static int opt(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) ? -errno : 0;
}

/* The address to bind: a literal, or the dual-stack wildcard. */
static int bind_addr(const char *addr, uint16_t port, union sockname *sa, socklen_t *len,
		     bool *wildcard)
{
	memset(sa, 0, sizeof(*sa));
	if (!addr || !*addr)
		addr = "::";
	if (inet_pton(AF_INET6, addr, &sa->in6.sin6_addr) == 1) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons(port);
		*len = sizeof(sa->in6);
		*wildcard = IN6_IS_ADDR_UNSPECIFIED(&sa->in6.sin6_addr);
		return 0;
	}
	if (inet_pton(AF_INET, addr, &sa->in.sin_addr) == 1) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(port);
		*len = sizeof(sa->in);
		*wildcard = sa->in.sin_addr.s_addr == htonl(INADDR_ANY);
		return 0;
	}
	return -EINVAL;
}

static int sock_open(union sockname *sa, socklen_t *len, bool wildcard, char *errbuf)
{
	int fd = socket(sa->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ret;

	/* "::" on a kernel without IPv6: serve IPv4 alone. */
	if (fd < 0 && errno == EAFNOSUPPORT && wildcard && sa->sa.sa_family == AF_INET6) {
		uint16_t port = sa->in6.sin6_port;

		memset(sa, 0, sizeof(*sa));
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = port;
		*len = sizeof(sa->in);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return fail(errbuf, -errno, "STUN socket");
	ret = 0;
	if (sa->sa.sa_family == AF_INET6) {
		/* Dual-stack only for the wildcard; a literal IPv6 address
		 * never receives IPv4 anyway. */
		if (wildcard)
			ret = opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
		if (!ret && wildcard)
			ret = opt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	} else if (wildcard) {
		ret = opt(fd, IPPROTO_IP, IP_PKTINFO, 1);
	}
	if (ret) {
		close(fd);
		return fail(errbuf, ret, "STUN socket options");
	}
	return fd;
}

static void setup_batches(struct reg_stun *s)
{
	unsigned int i;

	for (i = 0; i < REG_STUN_BATCH; i++) {
		struct slot *sl = &s->slots[i];

		/* A datagram longer than STUN_MSG_MAX arrives cut, with
		 * MSG_TRUNC set: counted and dropped in answer(). */
		s->rx_iov[i].iov_base = sl->req;
		s->rx_iov[i].iov_len = sizeof(sl->req);
		s->rx[i].msg_hdr.msg_iov = &s->rx_iov[i];
		s->rx[i].msg_hdr.msg_iovlen = 1;
		s->tx[i].msg_hdr.msg_iov = &s->tx_iov[i];
		s->tx[i].msg_hdr.msg_iovlen = 1;
	}
}

int reg_stun_new(const char *addr, uint16_t port, struct reg_stun **out,
		 char errbuf[REG_STUN_ERRLEN])
{
	struct reg_stun *s;
	union sockname sa;
	socklen_t len;
	bool wildcard;
	int fd, ret;

	if (bind_addr(addr, port, &sa, &len, &wildcard))
		return fail(errbuf, -EINVAL, "STUN address '%.64s' is not a numeric IP address",
			    addr ? addr : "");
	fd = sock_open(&sa, &len, wildcard, errbuf);
	if (fd < 0)
		return fd;
	if (bind(fd, &sa.sa, len)) {
		ret = fail(errbuf, -errno, "bind STUN to '%.64s' port %u",
			   addr && *addr ? addr : "::", port);
		goto err_fd;
	}
	len = sizeof(sa);
	if (getsockname(fd, &sa.sa, &len)) {
		ret = fail(errbuf, -errno, "getsockname");
		goto err_fd;
	}
	s = calloc(1, sizeof(*s));
	if (s)
		s->slots = calloc(REG_STUN_BATCH, sizeof(*s->slots));
	if (!s || !s->slots) {
		free(s);
		ret = fail(errbuf, -ENOMEM, "STUN buffers");
		goto err_fd;
	}
	s->fd = fd;
	s->pktinfo = wildcard;
	s->port = ntohs(sa.sa.sa_family == AF_INET6 ? sa.in6.sin6_port : sa.in.sin_port);
	setup_batches(s);
	*out = s;
	return 0;
err_fd:
	close(fd);
	return ret;
}

void reg_stun_free(struct reg_stun *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s->slots);
	free(s);
}

int reg_stun_fd(const struct reg_stun *s)
{
	return s->fd;
}

uint16_t reg_stun_port(const struct reg_stun *s)
{
	return s->port;
}

/* ---- local address tracking ---- */

static void local_from_cmsgs(struct msghdr *mh, struct local *l)
{
	struct cmsghdr *c;

	l->level = 0;
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			l->level = IPPROTO_IPV6;
			l->addr.v6 = pi.ipi6_addr;
			return;
		}
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			l->level = IPPROTO_IP;
			l->addr.v4 = pi.ipi_spec_dst;
			return;
		}
	}
}

/* Pin the reply's source address (interface left to the route). On a
 * dual-stack socket an IPv4 reply takes IPV6_PKTINFO with the v4-mapped
 * address, which Linux accepts for v4-mapped destinations. */
static void local_to_cmsg(struct msghdr *mh, union ctl *ctl, const struct local *l)
{
	struct cmsghdr *c;

	mh->msg_control = NULL;
	mh->msg_controllen = 0;
	if (!l->level)
		return;
	memset(ctl, 0, sizeof(*ctl));
	mh->msg_control = ctl->buf;
	c = (struct cmsghdr *)ctl->buf;
	if (l->level == IPPROTO_IPV6) {
		struct in6_pktinfo pi = { .ipi6_addr = l->addr.v6 };

		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	} else {
		struct in_pktinfo pi = { .ipi_spec_dst = l->addr.v4 };

		mh->msg_controllen = CMSG_SPACE(sizeof(pi));
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
}

/* ---- the batch ---- */

static void rx_prepare(struct reg_stun *s, unsigned int i)
{
	struct msghdr *mh = &s->rx[i].msg_hdr;
	struct slot *sl = &s->slots[i];

	mh->msg_name = &sl->from;
	mh->msg_namelen = sizeof(sl->from);
	mh->msg_control = s->pktinfo ? sl->ctl[0].buf : NULL;
	mh->msg_controllen = s->pktinfo ? sizeof(sl->ctl[0].buf) : 0;
	mh->msg_flags = 0;
}

/* Answer slot i; returns the reply length, or 0 for no reply. */
static size_t answer(struct reg_stun *s, unsigned int i)
{
	struct msghdr *mh = &s->rx[i].msg_hdr;
	struct slot *sl = &s->slots[i];
	size_t len = s->rx[i].msg_len;
	int r;

	count(&s->rx_packets, 1);
	count(&s->rx_bytes, len);
	if (mh->msg_flags & MSG_TRUNC) {
		count(&s->rx_oversize, 1);
		return 0;
	}
	r = stun_respond(sl->req, len, &sl->from.sa, sl->rep, sizeof(sl->rep));
	if (r < 0) {
		count(&s->dropped, 1);
		return 0;
	}
	if (r == 0) {
		count(&s->ignored, 1);
		return 0;
	}
	if (s->pktinfo)
		local_from_cmsgs(mh, &sl->local);
	else
		sl->local.level = 0;
	return (size_t)r;
}

static void tx_add(struct reg_stun *s, unsigned int k, unsigned int i, size_t len)
{
	struct msghdr *mh = &s->tx[k].msg_hdr;
	struct slot *sl = &s->slots[i];

	s->tx_iov[k].iov_base = sl->rep;
	s->tx_iov[k].iov_len = len;
	mh->msg_name = &sl->from;
	mh->msg_namelen = s->rx[i].msg_hdr.msg_namelen;
	mh->msg_flags = 0;
	local_to_cmsg(mh, &sl->ctl[1], &sl->local);
}

/* The reply's class bits say success or error (RFC 8489 section 5). */
static void count_sent(struct reg_stun *s, const struct mmsghdr *h)
{
	const uint8_t *rep = h->msg_hdr.msg_iov->iov_base;

	if ((rep[0] & 0x01) && (rep[1] & 0x10))
		count(&s->tx_error, 1);
	else
		count(&s->tx_success, 1);
}

/* Send tx[0..n); a datagram the kernel refuses is counted and skipped. */
static void tx_flush(struct reg_stun *s, unsigned int n)
{
	unsigned int done = 0;
	int r;

	while (done < n) {
		r = sendmmsg(s->fd, &s->tx[done], n - done, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* The first of the rest failed: drop it, go on. */
			count(&s->tx_failed, 1);
			done++;
			continue;
		}
		while (r-- > 0)
			count_sent(s, &s->tx[done++]);
	}
}

int reg_stun_on_readable(struct reg_stun *s)
{
	unsigned int i, k = 0;
	int r;

	for (i = 0; i < REG_STUN_BATCH; i++)
		rx_prepare(s, i);
	do {
		r = recvmmsg(s->fd, s->rx, REG_STUN_BATCH, MSG_DONTWAIT, NULL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	for (i = 0; i < (unsigned int)r; i++) {
		size_t len = answer(s, i);

		if (len)
			tx_add(s, k++, i, len);
	}
	tx_flush(s, k);
	return r;
}

void reg_stun_get_stats(const struct reg_stun *s, struct reg_stun_stats *out)
{
	const struct reg_stun *m = s;

	out->rx_packets = atomic_load_explicit(&m->rx_packets, memory_order_relaxed);
	out->rx_bytes = atomic_load_explicit(&m->rx_bytes, memory_order_relaxed);
	out->rx_oversize = atomic_load_explicit(&m->rx_oversize, memory_order_relaxed);
	out->dropped = atomic_load_explicit(&m->dropped, memory_order_relaxed);
	out->ignored = atomic_load_explicit(&m->ignored, memory_order_relaxed);
	out->tx_success = atomic_load_explicit(&m->tx_success, memory_order_relaxed);
	out->tx_error = atomic_load_explicit(&m->tx_error, memory_order_relaxed);
	out->tx_failed = atomic_load_explicit(&m->tx_failed, memory_order_relaxed);
}
