// SPDX-License-Identifier: GPL-2.0-only
/*
 * The UDP socket on loopback only (127.0.0.0/8 and ::1 exist on every host
 * and in every namespace; nothing leaves the machine).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

#include "io/udp.h"
#include "test.h"

#define N 32

static uint8_t bufs[IO_UDP_BATCH_MAX][256];

static void msgs_init(struct udp_msg *m, unsigned int n)
{
	unsigned int i;

	memset(m, 0, sizeof(*m) * n);
	for (i = 0; i < n; i++) {
		m[i].buf = bufs[i];
		m[i].cap = sizeof(bufs[i]);
	}
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Receive until want datagrams arrived (or a second passes without any). */
static unsigned int recv_all(struct udp *u, struct udp_msg *m, unsigned int want)
{
	unsigned int have = 0, got;

	while (have < want && wait_readable(udp_fd(u), 1000)) {
		if (udp_recv(u, m + have, want - have, &got))
			break;
		have += got;
	}
	return have;
}

static void ep_set(struct io_endpoint *ep, const char *s)
{
	int ret = io_endpoint_parse(s, ep);

	CHECK_EQ(ret, 0);
}

static void batch_to_self(const char *host, int family)
{
	struct udp_msg m[N];
	struct udp_stats st;
	struct udp *u = NULL;
	struct io_endpoint self, rx;
	char txt[IO_ENDPOINT_STRLEN];
	unsigned int i, done = 0;

	CHECK_EQ(udp_new(0, &u, NULL), 0);
	if (!u)
		return;
	CHECK(udp_port(u) != 0);
	snprintf(txt, sizeof(txt), family == AF_INET ? "%s:%u" : "[%s]:%u", host, udp_port(u));
	ep_set(&self, txt);

	msgs_init(m, N);
	for (i = 0; i < N; i++) {
		m[i].ep = self;
		m[i].len = (size_t)snprintf((char *)m[i].buf, m[i].cap, "datagram %u", i);
	}
	CHECK_EQ(udp_send(u, m, N, &done), 0);
	CHECK_EQ(done, N);

	msgs_init(m, N);
	CHECK_EQ(recv_all(u, m, N), N);
	for (i = 0; i < N; i++) {
		char want[32];

		snprintf(want, sizeof(want), "datagram %u", i);
		CHECK_EQ(m[i].len, strlen(want));
		CHECK_MEM(m[i].buf, want, strlen(want));
		/* The sender is ourselves, in plain (not v4-mapped) form, and
		 * the local address is the one we sent to. */
		CHECK_EQ(m[i].ep.family, family);
		CHECK(io_endpoint_equal(&m[i].ep, &self));
		rx = self;
		rx.src = self.addr;
		rx.src_ifindex = m[i].ep.src_ifindex;
		CHECK(io_endpoint_equal_src(&m[i].ep, &rx));
		CHECK(m[i].ep.src_ifindex > 0);
	}
	CHECK_EQ(udp_recv(u, m, N, &done), -EAGAIN);
	udp_get_stats(u, &st);
	CHECK_EQ(st.tx_packets, N);
	CHECK_EQ(st.rx_packets, N);
	CHECK_EQ(st.rx_bytes, st.tx_bytes);
	CHECK_EQ(st.tx_errors, 0);
	udp_free(u);
	udp_free(NULL);
}

static void test_batch_v4(void)
{
	batch_to_self("127.0.0.1", AF_INET);
}

static int have_ipv6_loopback(void)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void test_batch_v6(void)
{
	if (!have_ipv6_loopback()) {
		t_skip("no IPv6 loopback");
		return;
	}
	batch_to_self("::1", AF_INET6);
}

/* A plain IPv4 socket on 127.0.0.1 playing the peer. */
static int peer_open(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static void peer_send(int fd, uint32_t dst_host, uint16_t port, const char *txt)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	sa.sin_addr.s_addr = htonl(dst_host);
	CHECK_EQ(sendto(fd, txt, strlen(txt), 0, (struct sockaddr *)&sa, sizeof(sa)),
		 (ssize_t)strlen(txt));
}

/* Receive one datagram on the peer socket; returns the source IPv4 address. */
static uint32_t peer_recv(int fd, const char *want)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char buf[64];
	ssize_t r;

	if (!wait_readable(fd, 1000)) {
		CHECK(!"peer got nothing");
		return 0;
	}
	r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&sa, &len);
	CHECK_EQ(r, (ssize_t)strlen(want));
	if (r > 0)
		CHECK_MEM(buf, want, (size_t)r);
	return ntohl(sa.sin_addr.s_addr);
}

/* The peer writes to 127.0.0.2; our reply must come from 127.0.0.2 even
 * though the route to 127.0.0.1 would pick 127.0.0.1. */
static void test_source_sticky(void)
{
	struct udp *u = NULL;
	struct udp_msg m[1];
	uint16_t pport = 0;
	unsigned int n = 0;
	int peer = peer_open(&pport);

	CHECK(peer >= 0);
	CHECK_EQ(udp_new(0, &u, NULL), 0);
	if (peer < 0 || !u)
		goto out;
	peer_send(peer, 0x7f000002, udp_port(u), "hello");
	msgs_init(m, 1);
	CHECK_EQ(recv_all(u, m, 1), 1);
	CHECK_EQ(m[0].ep.family, AF_INET);
	CHECK_EQ(m[0].ep.port, pport);
	CHECK_EQ(ntohl(m[0].ep.addr.v4.s_addr), 0x7f000001);
	CHECK_EQ(ntohl(m[0].ep.src.v4.s_addr), 0x7f000002);

	memcpy(m[0].buf, "reply", 5);
	m[0].len = 5;
	CHECK_EQ(udp_send(u, m, 1, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(peer_recv(peer, "reply"), 0x7f000002);

	/* Without the sticky source the kernel picks 127.0.0.1. */
	io_endpoint_clear_src(&m[0].ep);
	CHECK_EQ(udp_send(u, m, 1, &n), 0);
	CHECK_EQ(peer_recv(peer, "reply"), 0x7f000001);
out:
	udp_free(u);
	if (peer >= 0)
		close(peer);
}

/* A sticky source that is not (or no longer) ours: cleared and resent. */
static void test_source_reset(void)
{
	struct udp *u = NULL;
	struct udp_msg m[1];
	struct udp_stats st;
	uint16_t pport = 0;
	unsigned int n = 0;
	int peer = peer_open(&pport);
	char txt[32];

	CHECK(peer >= 0);
	CHECK_EQ(udp_new(0, &u, NULL), 0);
	if (peer < 0 || !u)
		goto out;
	msgs_init(m, 1);
	snprintf(txt, sizeof(txt), "127.0.0.1:%u", pport);
	ep_set(&m[0].ep, txt);
	/* 192.0.2.0/24 is TEST-NET-1: on no host. */
	inet_pton(AF_INET, "192.0.2.1", &m[0].ep.src.v4);
	memcpy(m[0].buf, "again", 5);
	m[0].len = 5;
	CHECK_EQ(udp_send(u, m, 1, &n), 0);
	CHECK_EQ(n, 1);
	CHECK(!io_endpoint_has_src(&m[0].ep));
	CHECK_EQ(peer_recv(peer, "again"), 0x7f000001);
	udp_get_stats(u, &st);
	CHECK_EQ(st.tx_src_reset, 1);
	CHECK_EQ(st.tx_packets, 1);
	CHECK_EQ(st.tx_errors, 0);

	/* IPv6 (the kernel says EINVAL there): to ourselves from 2001:db8::1. */
	if (have_ipv6_loopback()) {
		snprintf(txt, sizeof(txt), "[::1]:%u", udp_port(u));
		ep_set(&m[0].ep, txt);
		inet_pton(AF_INET6, "2001:db8::1", &m[0].ep.src.v6);
		CHECK_EQ(udp_send(u, m, 1, &n), 0);
		CHECK(!io_endpoint_has_src(&m[0].ep));
		msgs_init(m, 1);
		CHECK_EQ(recv_all(u, m, 1), 1);
		CHECK_EQ(m[0].len, 5);
		udp_get_stats(u, &st);
		CHECK_EQ(st.tx_src_reset, 2);
	}
out:
	udp_free(u);
	if (peer >= 0)
		close(peer);
}

/* Unsendable entries in a batch are dropped and counted; the rest go out. */
static void test_send_errors(void)
{
	struct udp *u = NULL;
	struct udp_msg m[4];
	struct udp_stats st;
	unsigned int n = 0, i;
	char txt[32];

	CHECK_EQ(udp_new(0, &u, NULL), 0);
	if (!u)
		return;
	msgs_init(m, 4);
	snprintf(txt, sizeof(txt), "127.0.0.1:%u", udp_port(u));
	for (i = 0; i < 4; i++) {
		ep_set(&m[i].ep, txt);
		m[i].len = 10;
	}
	memset(&m[1].ep, 0, sizeof(m[1].ep)); /* unset: no family */
	m[3].len = IO_PKT_MAX + 1;	      /* too big for UDP: EMSGSIZE */
	m[3].buf = malloc(m[3].len);
	CHECK_EQ(udp_send(u, m, 4, &n), 0);
	CHECK_EQ(n, 4);
	udp_get_stats(u, &st);
	CHECK_EQ(st.tx_packets, 2);
	CHECK_EQ(st.tx_errors, 2);
	free(m[3].buf);
	msgs_init(m, 4);
	CHECK_EQ(recv_all(u, m, 2), 2);
	udp_free(u);
}

/* A datagram bigger than its buffer is dropped; the array is compacted. */
static void test_truncated(void)
{
	struct udp *u = NULL;
	struct udp_msg m[2];
	struct udp_stats st;
	uint8_t *b0, *b1;
	unsigned int n = 0;
	char txt[32];

	CHECK_EQ(udp_new(0, &u, NULL), 0);
	if (!u)
		return;
	msgs_init(m, 2);
	snprintf(txt, sizeof(txt), "127.0.0.1:%u", udp_port(u));
	ep_set(&m[0].ep, txt);
	ep_set(&m[1].ep, txt);
	m[0].len = 100;
	memset(m[0].buf, 'L', 100);
	m[1].len = 10;
	memset(m[1].buf, 's', 10);
	CHECK_EQ(udp_send(u, m, 2, &n), 0);
	CHECK_EQ(n, 2);

	msgs_init(m, 2);
	m[0].cap = m[1].cap = 50;
	b0 = m[0].buf;
	b1 = m[1].buf;
	CHECK(wait_readable(udp_fd(u), 1000));
	usleep(10 * 1000); /* let both arrive for one recvmmsg */
	CHECK_EQ(udp_recv(u, m, 2, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(m[0].len, 10);
	CHECK_EQ(m[0].buf[0], 's');
	/* Both buffers are still in the array. */
	CHECK(m[0].buf == b1 && m[1].buf == b0);
	udp_get_stats(u, &st);
	CHECK_EQ(st.rx_truncated, 1);
	CHECK_EQ(st.rx_packets, 1);
	udp_free(u);
}

/* Another dual-stack socket on port (0: any); returns the fd and the port. */
static int bind_dual(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), off = 0;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		close(fd);
		return -1;
	}
	*bound = ntohs(sa.sin6_port);
	return fd;
}

static void test_port_change(void)
{
	struct io_err err = { { 0 } };
	struct udp *u = NULL;
	struct udp_msg m[1];
	uint16_t old, busy_port = 0, p;
	unsigned int n;
	int busy, oldfd, fd;
	char txt[32];

	CHECK_EQ(udp_new(0, &u, NULL), 0);
	if (!u)
		return;
	old = udp_port(u);
	oldfd = udp_fd(u);
	CHECK_EQ(udp_set_port(u, old, NULL), 0); /* same port: no-op */
	CHECK_EQ(udp_fd(u), oldfd);

	/* A busy port: the change fails and the old socket stays. */
	busy = bind_dual(0, &busy_port);
	CHECK(busy >= 0);
	CHECK_EQ(udp_set_port(u, busy_port, &err), -EADDRINUSE);
	CHECK(strstr(err.msg, "bind UDP port") != NULL);
	CHECK_EQ(udp_port(u), old);
	CHECK_EQ(udp_fd(u), oldfd);

	/* Port 0: a fresh kernel-chosen port, and the old one is released. */
	CHECK_EQ(udp_set_port(u, 0, NULL), 0);
	CHECK(udp_port(u) != old);
	fd = bind_dual(old, &p);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	msgs_init(m, 1);
	snprintf(txt, sizeof(txt), "127.0.0.1:%u", udp_port(u));
	ep_set(&m[0].ep, txt);
	m[0].len = 3;
	CHECK_EQ(udp_send(u, m, 1, &n), 0);
	msgs_init(m, 1);
	CHECK_EQ(recv_all(u, m, 1), 1);
	if (busy >= 0)
		close(busy);
	udp_free(u);
}

static void test_fwmark(void)
{
	struct io_err err = { { 0 } };
	struct udp *u = NULL;
	uint32_t mark = 0;
	socklen_t len = sizeof(mark);
	int ret;

	CHECK_EQ(udp_new(0, &u, NULL), 0);
	if (!u)
		return;
	CHECK_EQ(udp_fwmark(u), 0);
	ret = udp_set_fwmark(u, 0x5c0e, &err);
	if (ret == -EPERM) {
		CHECK(strstr(err.msg, "CAP_NET_ADMIN") != NULL);
		t_skip("SO_MARK needs CAP_NET_ADMIN");
		udp_free(u);
		return;
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(getsockopt(udp_fd(u), SOL_SOCKET, SO_MARK, &mark, &len), 0);
	CHECK_EQ(mark, 0x5c0e);
	/* The mark follows the socket to a new port. */
	CHECK_EQ(udp_set_port(u, 0, NULL), 0);
	mark = 0;
	CHECK_EQ(getsockopt(udp_fd(u), SOL_SOCKET, SO_MARK, &mark, &len), 0);
	CHECK_EQ(mark, 0x5c0e);
	CHECK_EQ(udp_set_fwmark(u, 0, NULL), 0);
	CHECK_EQ(getsockopt(udp_fd(u), SOL_SOCKET, SO_MARK, &mark, &len), 0);
	CHECK_EQ(mark, 0);
	udp_free(u);
}

static void test_new_errors(void)
{
	struct io_err err = { { 0 } };
	struct udp *u = (struct udp *)&err;
	uint16_t port = 0;
	int busy = bind_dual(0, &port);

	CHECK(busy >= 0);
	CHECK_EQ(udp_new(port, &u, &err), -EADDRINUSE);
	CHECK(u == (struct udp *)&err); /* untouched */
	CHECK(strstr(err.msg, "Address already in use") != NULL);
	if (busy >= 0)
		close(busy);
}

/* ---- segmented sends (UDP GSO) ---- */

#define GSO_N	  150
#define GSO_BUF	  1500
#define GSO_PEERS 2

static uint8_t gso_tx[GSO_N][GSO_BUF], gso_rx[GSO_N][GSO_BUF];
static uint8_t gso_big[IO_UDP_BATCH_MAX][IO_PKT_MAX];

struct gso_bed {
	struct udp *tx, *rx[GSO_PEERS];
	struct io_endpoint to[GSO_PEERS];
	struct udp_msg m[GSO_N];
	unsigned int n;
};

/* Sockets for the GSO/GRO tests; false (skipped) without UDP_SEGMENT. */
static bool gso_open(struct gso_bed *b)
{
	char txt[32];
	unsigned int i;

	memset(b, 0, sizeof(*b));
	CHECK_EQ(udp_new(0, &b->tx, NULL), 0);
	for (i = 0; i < GSO_PEERS; i++) {
		CHECK_EQ(udp_new(0, &b->rx[i], NULL), 0);
		if (!b->rx[i])
			return false;
		snprintf(txt, sizeof(txt), "127.0.0.1:%u", udp_port(b->rx[i]));
		ep_set(&b->to[i], txt);
	}
	if (!b->tx)
		return false;
	if (!udp_gso(b->tx)) {
		t_skip("the kernel has no UDP_SEGMENT");
		return false;
	}
	return true;
}

static void gso_close(struct gso_bed *b)
{
	unsigned int i;

	udp_free(b->tx);
	for (i = 0; i < GSO_PEERS; i++)
		udp_free(b->rx[i]);
}

/* Queue a datagram of len bytes to peer p; its bytes name its index. */
static void gso_add(struct gso_bed *b, unsigned int p, size_t len)
{
	struct udp_msg *m = &b->m[b->n];

	m->ep = b->to[p];
	m->buf = gso_tx[b->n];
	m->len = len;
	memset(m->buf, (int)(b->n * 7 + 1), len);
	snprintf((char *)m->buf, 8, "%u", b->n);
	b->n++;
}

/* Receive want datagrams on u into the gso_rx buffers, one per entry, or
 * coalesced ones split apart (udp_msg_next): r[] gets one entry per datagram. */
static unsigned int gso_recv(struct udp *u, struct udp_msg *r, unsigned int want)
{
	struct udp_msg in[IO_UDP_BATCH_MAX];
	unsigned int got = 0, i, g;
	size_t off, n;
	uint8_t *p;

	while (got < want && wait_readable(udp_fd(u), 1000)) {
		for (i = 0; i < IO_UDP_BATCH_MAX; i++)
			in[i] = (struct udp_msg){ .buf = gso_big[i], .cap = sizeof(gso_big[i]) };
		g = 0;
		if (udp_recv(u, in, IO_UDP_BATCH_MAX, &g))
			break;
		for (i = 0; i < g; i++)
			for (off = 0; (n = udp_msg_next(&in[i], &off, &p)) && got < GSO_N; got++) {
				memcpy(gso_rx[got], p, n);
				r[got] = (struct udp_msg){ .ep = in[i].ep,
							   .buf = gso_rx[got],
							   .len = n };
			}
	}
	return got;
}

/* Send the queue; each peer must get exactly its datagrams, whole, in
 * order. Returns the segmented sends it took. */
static uint64_t gso_check(struct gso_bed *b)
{
	struct udp_stats before, after;
	struct udp_msg r[GSO_N];
	unsigned int p, i, k, done = 0, got;

	udp_get_stats(b->tx, &before);
	CHECK_EQ(udp_send(b->tx, b->m, b->n, &done), 0);
	CHECK_EQ(done, b->n);
	for (p = 0; p < GSO_PEERS; p++) {
		unsigned int want = 0;

		for (i = 0; i < b->n; i++)
			want += io_endpoint_equal(&b->m[i].ep, &b->to[p]);
		got = gso_recv(b->rx[p], r, want);
		CHECK_EQ(got, want);
		for (i = 0, k = 0; i < b->n && k < got; i++) {
			if (!io_endpoint_equal(&b->m[i].ep, &b->to[p]))
				continue;
			CHECK_EQ(r[k].len, b->m[i].len);
			if (r[k].len == b->m[i].len)
				CHECK_MEM(r[k].buf, b->m[i].buf, r[k].len);
			k++;
		}
	}
	udp_get_stats(b->tx, &after);
	CHECK_EQ(after.tx_packets - before.tx_packets, b->n);
	CHECK_EQ(after.tx_errors, before.tx_errors);
	b->n = 0;
	return after.tx_gso_sends - before.tx_gso_sends;
}

/* Runs of equal datagrams to one peer leave as one segmented send; what
 * arrives is the same datagrams. The runs end at another peer, a longer
 * datagram, after a shorter one, at 64 datagrams or 65000 bytes. */
static void test_gso_runs(void)
{
	struct gso_bed b;
	unsigned int i;

	if (!gso_open(&b))
		goto out;
	/* 40 x 1200 and a shorter last one: one send. */
	for (i = 0; i < 40; i++)
		gso_add(&b, 0, 1200);
	gso_add(&b, 0, 700);
	CHECK_EQ(gso_check(&b), 1);
	/* Another peer in between, a longer one, data after a shorter one. */
	gso_add(&b, 0, 1000);
	gso_add(&b, 0, 1000);
	gso_add(&b, 1, 1000);
	gso_add(&b, 1, 1000);
	gso_add(&b, 1, 1400); /* longer: a new run */
	gso_add(&b, 1, 1400);
	gso_add(&b, 1, 600); /* shorter: ends it */
	gso_add(&b, 1, 600); /* a new run of two */
	gso_add(&b, 1, 600);
	gso_add(&b, 0, 900); /* alone */
	CHECK_EQ(gso_check(&b), 4);
	/* Peers alternating: nothing to group. */
	for (i = 0; i < 20; i++)
		gso_add(&b, i % 2, 1000);
	CHECK_EQ(gso_check(&b), 0);
	/* 64 datagrams of 1000 bytes per batch (the segment cap), then the
	 * rest; 1400-byte ones: 46 per send (the byte cap). */
	for (i = 0; i < 100; i++)
		gso_add(&b, 0, 1000);
	CHECK_EQ(gso_check(&b), 2);
	for (i = 0; i < 100; i++)
		gso_add(&b, 0, 1400);
	CHECK_EQ(gso_check(&b), 3); /* 46 + 18 of the first batch, then 36 */
	/* Off: the same bytes, datagram by datagram. */
	udp_set_gso(b.tx, false);
	CHECK(!udp_gso(b.tx));
	for (i = 0; i < 30; i++)
		gso_add(&b, 0, 1200);
	CHECK_EQ(gso_check(&b), 0);
	udp_set_gso(b.tx, true);
	CHECK(udp_gso(b.tx));
out:
	gso_close(&b);
}

/* A segmented send the kernel refuses (here: a sticky source that is not
 * ours) is redone datagram by datagram: each source is reset, all arrive. */
static void test_gso_refused(void)
{
	struct gso_bed b;
	struct udp_stats st;
	unsigned int i;

	if (!gso_open(&b))
		goto out;
	for (i = 0; i < 10; i++) {
		gso_add(&b, 0, 1000);
		inet_pton(AF_INET, "192.0.2.1", &b.m[i].ep.src.v4); /* TEST-NET-1 */
	}
	gso_add(&b, 0, 1000); /* the kernel's source: ends the run */
	CHECK_EQ(gso_check(&b), 0);
	for (i = 0; i < 10; i++)
		CHECK(!io_endpoint_has_src(&b.m[i].ep));
	udp_get_stats(b.tx, &st);
	CHECK_EQ(st.tx_src_reset, 10);
	CHECK_EQ(st.tx_gso_off, 0);
	CHECK(udp_gso(b.tx));
	/* The next run from the kernel's source is segmented again. */
	for (i = 0; i < 10; i++)
		gso_add(&b, 0, 1000);
	CHECK_EQ(gso_check(&b), 1);
out:
	gso_close(&b);
}

/* A segmented send of 20 datagrams reaches rx[0] as 20 plain ones. */
static void gso_uncoalesced(struct gso_bed *b)
{
	struct udp_stats before, after;
	unsigned int i;

	udp_get_stats(b->rx[0], &before);
	for (i = 0; i < 20; i++)
		gso_add(b, 0, 900);
	CHECK_EQ(gso_check(b), 1);
	udp_get_stats(b->rx[0], &after);
	CHECK_EQ(after.rx_gro, before.rx_gro);
	CHECK_EQ(after.rx_packets, before.rx_packets + 20);
}

/* Coalesced receives: a segmented send arrives as one buffer with its
 * segment size, and walking it gives back every datagram, whole and in
 * order; the counters count datagrams. Kept across a port change; off
 * again, the same traffic arrives datagram by datagram. */
static void test_gro_receive(void)
{
	struct gso_bed b;
	struct udp_stats st;
	struct udp_msg one = { .buf = gso_rx[0], .len = 3 };
	char txt[32];
	unsigned int i;
	size_t off = 0;
	uint8_t *p = NULL;

	/* Walking a plain message: itself once; a coalesced one: 4 + 4 + 2. */
	CHECK_EQ(udp_msg_next(&one, &off, &p), 3);
	CHECK(p == gso_rx[0]);
	CHECK_EQ(udp_msg_next(&one, &off, &p), 0);
	one.len = 10;
	one.seg = 4;
	off = 0;
	CHECK_EQ(udp_msg_next(&one, &off, &p), 4);
	CHECK_EQ(udp_msg_next(&one, &off, &p), 4);
	CHECK_EQ(udp_msg_next(&one, &off, &p), 2);
	CHECK(p == gso_rx[0] + 8);
	CHECK_EQ(udp_msg_next(&one, &off, &p), 0);

	if (!gso_open(&b))
		goto out;
	if (udp_set_gro(b.rx[0], true)) {
		t_skip("the kernel has no UDP_GRO");
		goto out;
	}
	CHECK(udp_gro(b.rx[0]));
	CHECK(!udp_gro(b.rx[1]));
	for (i = 0; i < 30; i++)
		gso_add(&b, 0, 1100);
	gso_add(&b, 0, 300);
	for (i = 0; i < 5; i++)
		gso_add(&b, 1, 1100); /* rx[1] without GRO */
	CHECK_EQ(gso_check(&b), 2);
	udp_get_stats(b.rx[0], &st);
	CHECK(st.rx_gro >= 1);
	CHECK_EQ(st.rx_packets, 31);
	CHECK_EQ(st.rx_bytes, 30 * 1100 + 300);
	udp_get_stats(b.rx[1], &st);
	CHECK_EQ(st.rx_gro, 0);
	CHECK_EQ(st.rx_packets, 5);

	/* A new port keeps it. */
	CHECK_EQ(udp_set_port(b.rx[0], 0, NULL), 0);
	CHECK(udp_gro(b.rx[0]));
	snprintf(txt, sizeof(txt), "127.0.0.1:%u", udp_port(b.rx[0]));
	ep_set(&b.to[0], txt);
	for (i = 0; i < 20; i++)
		gso_add(&b, 0, 900);
	CHECK_EQ(gso_check(&b), 1);
	udp_get_stats(b.rx[0], &st);
	CHECK(st.rx_gro >= 2);

	/* A coalesced buffer larger than the caller's: dropped, counted, and
	 * coalescing goes off for the socket; the next run arrives whole,
	 * datagram by datagram. */
	for (i = 0; i < 20; i++)
		gso_add(&b, 0, 900);
	{
		struct udp_msg small = { .buf = gso_big[0], .cap = 2000 };
		unsigned int g = 0;

		CHECK_EQ(udp_send(b.tx, b.m, b.n, &g), 0);
		CHECK_EQ(g, 20);
		b.n = 0;
		CHECK(wait_readable(udp_fd(b.rx[0]), 1000));
		CHECK_EQ(udp_recv(b.rx[0], &small, 1, &g), 0);
		CHECK_EQ(g, 0);
	}
	udp_get_stats(b.rx[0], &st);
	CHECK_EQ(st.rx_gro_off, 1);
	CHECK_EQ(st.rx_truncated, 1);
	CHECK(!udp_gro(b.rx[0]));
	gso_uncoalesced(&b);
	CHECK_EQ(udp_set_gro(b.rx[0], true), 0);

	/* Off: the same traffic, datagram by datagram. */
	CHECK_EQ(udp_set_gro(b.rx[0], false), 0);
	CHECK(!udp_gro(b.rx[0]));
	gso_uncoalesced(&b);
out:
	gso_close(&b);
}

static const struct t_case cases[] = {
	T(test_batch_v4),    T(test_batch_v6),	T(test_source_sticky), T(test_source_reset),
	T(test_send_errors), T(test_truncated), T(test_port_change),   T(test_fwmark),
	T(test_new_errors),  T(test_gso_runs),	T(test_gso_refused),   T(test_gro_receive),
};

int main(void)
{
	return t_main("io-udp", cases, SC_ARRAY_SIZE(cases));
}
