// SPDX-License-Identifier: GPL-2.0-only
/*
 * TUN devices, tested inside a network namespace of our own: main() calls
 * unshare(CLONE_NEWNET) before any case runs, so the devices, addresses
 * (10.99.0.0/24, fd00:99::/64) and routes exist only in this process's
 * namespace and vanish with it. Needs root and /dev/net/tun; skipped
 * otherwise.
 *
 *   socket 10.99.0.1 --route--> tun (10.99.0.1/24) --read--> test
 *   socket 10.99.0.1 <--------- tun <-------------- write -- "10.99.0.2"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "io/tun.h"
#include "io/udp.h"
#include "test.h"

static const char *skip_reason;

/* The kernel's struct in6_ifreq (linux/ipv6.h clashes with netinet/in.h). */
struct t_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static int need_netns(void)
{
	if (skip_reason) {
		t_skip("%s", skip_reason);
		return 0;
	}
	return 1;
}

static int if_flags(const char *name)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ret = ioctl(s, SIOCGIFFLAGS, &ifr) ? -errno : ifr.ifr_flags;
	close(s);
	return ret;
}

static int set_addr4(const char *name, const char *addr, const char *mask)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	if (ioctl(s, SIOCSIFADDR, &ifr))
		ret = -errno;
	inet_pton(AF_INET, mask, &sin->sin_addr);
	if (!ret && ioctl(s, SIOCSIFNETMASK, &ifr))
		ret = -errno;
	close(s);
	return ret;
}

static int set_addr6(int ifindex, const char *addr, uint32_t prefixlen)
{
	struct t_in6_ifreq r = { .prefixlen = prefixlen, .ifindex = ifindex };
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	inet_pton(AF_INET6, addr, &r.addr);
	if (ioctl(s, SIOCSIFADDR, &r))
		ret = -errno;
	close(s);
	return ret;
}

/* A new IPv6 address is tentative until the kernel's DAD work has run (at
 * once on a NOARP device, but asynchronously): wait until it can be bound. */
static int wait_addr6(const char *addr)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };
	int i, s, ok = 0;

	inet_pton(AF_INET6, addr, &sa.sin6_addr);
	for (i = 0; i < 200 && !ok; i++) {
		s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ok = bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(s);
		if (!ok)
			usleep(10 * 1000);
	}
	return ok;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Read packets from the TUN until a UDP datagram to dport shows up (the
 * kernel also sends IPv6 router solicitations and MLD reports); 0 on timeout. */
static size_t read_udp(struct tun *t, uint8_t *buf, size_t cap, uint16_t dport)
{
	struct pollfd p = { .fd = tun_fd(t), .events = POLLIN };
	size_t len = 0, l4;

	while (poll(&p, 1, 2000) == 1) {
		if (tun_read(t, buf, cap, &len))
			continue;
		if (len >= 28 && buf[0] >> 4 == 4 && buf[9] == 17)
			l4 = (size_t)(buf[0] & 15) * 4;
		else if (len >= 48 && buf[0] >> 4 == 6 && buf[6] == 17)
			l4 = 40;
		else
			continue;
		if (len >= l4 + 8 && be16(buf + l4 + 2) == dport)
			return len;
	}
	return 0;
}

static void test_open_setup(void)
{
	struct io_err err = { { 0 } };
	struct tun *t = NULL;
	unsigned int mtu = 0;
	uint8_t buf[64];
	size_t len;
	int fl, ifindex = 0;
	char name[IFNAMSIZ];

	if (!need_netns())
		return;
	CHECK_EQ(tun_open("sctest%d", &t, &err), 0);
	if (!t) {
		fprintf(stderr, "# %s\n", err.msg);
		return;
	}
	CHECK(strncmp(tun_name(t), "sctest", 6) == 0);
	CHECK(strchr(tun_name(t), '%') == NULL);
	fl = fcntl(tun_fd(t), F_GETFL);
	CHECK(fl & O_NONBLOCK);
	CHECK(fcntl(tun_fd(t), F_GETFD) & FD_CLOEXEC);
	CHECK_EQ(tun_read(t, buf, sizeof(buf), &len), -EAGAIN);

	CHECK_EQ(tun_set_mtu(t, 1420, &err), 0);
	CHECK_EQ(tun_get_mtu(t, &mtu, &err), 0);
	CHECK_EQ(mtu, 1420);
	CHECK(!(if_flags(tun_name(t)) & IFF_UP));
	CHECK_EQ(tun_set_up(t, 1, &err), 0);
	CHECK(if_flags(tun_name(t)) & IFF_UP);
	CHECK_EQ(tun_set_up(t, 0, &err), 0);
	CHECK(!(if_flags(tun_name(t)) & IFF_UP));
	CHECK_EQ(tun_get_ifindex(t, &ifindex, &err), 0);
	CHECK(ifindex > 1);
	CHECK_EQ((int)if_nametoindex(tun_name(t)), ifindex);

	/* Not persistent: closing the fd removes the device. */
	snprintf(name, sizeof(name), "%s", tun_name(t));
	tun_free(t);
	tun_free(NULL);
	CHECK_EQ(if_nametoindex(name), 0);
}

static void test_errors(void)
{
	struct io_err err = { { 0 } };
	struct tun *t = NULL, *t2 = (struct tun *)&err;

	if (!need_netns())
		return;
	CHECK_EQ(tun_open("a-name-much-too-long", &t2, &err), -EINVAL);
	CHECK(strstr(err.msg, "longer than 15") != NULL);
	CHECK(t2 == (struct tun *)&err);

	CHECK_EQ(tun_open("sctestx", &t, &err), 0);
	if (!t)
		return;
	CHECK(strcmp(tun_name(t), "sctestx") == 0);
	/* A single-queue device attached to an fd is busy. */
	CHECK_EQ(tun_open("sctestx", &t2, &err), -EBUSY);
	CHECK(strstr(err.msg, "TUNSETIFF sctestx") != NULL);
	CHECK(t2 == (struct tun *)&err);
	/* "lo" exists and is no TUN. */
	CHECK_EQ(tun_open("lo", &t2, &err), -EINVAL);

	CHECK_EQ(tun_set_mtu(t, 70000, &err), -EINVAL);
	CHECK(strstr(err.msg, "MTU 70000") != NULL);
	CHECK_EQ(tun_set_mtu(t, 10, &err), -EINVAL); /* below the kernel's 68 */
	CHECK(strstr(err.msg, "set MTU 10 on sctestx: Invalid argument") != NULL);
	/* Garbage is refused on write. */
	CHECK(tun_write(t, (const uint8_t *)"\x00\x01", 2) < 0);
	tun_free(t);
	/* No message buffer: still just the errno. */
	CHECK_EQ(tun_open("a-name-much-too-long", &t2, NULL), -EINVAL);
}

static void build_udp4_reply(uint8_t *p, const uint8_t *req, const char *payload)
{
	size_t n = strlen(payload);

	memset(p, 0, 28);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(28 + n));
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, req + 16, 4); /* src = request's dst */
	memcpy(p + 16, req + 12, 4);
	put16(p + 10, csum_fold(csum_add(0, p, 20)));
	memcpy(p + 20, req + 22, 2); /* sport = request's dport */
	memcpy(p + 22, req + 20, 2);
	put16(p + 24, (uint16_t)(8 + n));
	memcpy(p + 28, payload, n); /* UDP checksum 0: none, legal on IPv4 */
}

static void test_udp_v4(void)
{
	struct io_err err = { { 0 } };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct tun *t = NULL;
	socklen_t salen = sizeof(sa);
	uint8_t pkt[2048], reply[64];
	struct pollfd pfd;
	uint16_t sport;
	size_t len;
	char buf[16];
	int s = -1;

	if (!need_netns())
		return;
	CHECK_EQ(tun_open("sctun4", &t, &err), 0);
	if (!t)
		return;
	CHECK_EQ(tun_set_mtu(t, 1420, &err), 0);
	CHECK_EQ(tun_set_up(t, 1, &err), 0);
	CHECK_EQ(set_addr4("sctun4", "10.99.0.1", "255.255.255.0"), 0);

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.99.0.1", &sa.sin_addr);
	CHECK_EQ(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	CHECK_EQ(getsockname(s, (struct sockaddr *)&sa, &salen), 0);
	sport = ntohs(sa.sin_port);
	sa.sin_port = htons(9999);
	inet_pton(AF_INET, "10.99.0.2", &sa.sin_addr);
	CHECK_EQ(sendto(s, "ping", 4, 0, (struct sockaddr *)&sa, sizeof(sa)), 4);

	/* The datagram comes out of the TUN as an IPv4 packet. */
	len = read_udp(t, pkt, sizeof(pkt), 9999);
	CHECK_EQ(len, 20 + 8 + 4);
	if (len != 32)
		goto out;
	CHECK_EQ(pkt[0], 0x45);
	CHECK_EQ(be16(pkt + 2), 32);
	CHECK_EQ(pkt[9], 17);
	CHECK_EQ(csum_fold(csum_add(0, pkt, 20)), 0);
	CHECK_MEM(pkt + 12, "\x0a\x63\x00\x01", 4);
	CHECK_MEM(pkt + 16, "\x0a\x63\x00\x02", 4);
	CHECK_EQ(be16(pkt + 20), sport);
	CHECK_EQ(be16(pkt + 24), 12);
	CHECK_MEM(pkt + 28, "ping", 4);

	/* A reply written into the TUN reaches the socket. */
	build_udp4_reply(reply, pkt, "pong");
	CHECK_EQ(tun_write(t, reply, 32), 0);
	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	CHECK_EQ(poll(&pfd, 1, 2000), 1);
	salen = sizeof(sa);
	CHECK_EQ(recvfrom(s, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&sa, &salen), 4);
	CHECK_MEM(buf, "pong", 4);
	CHECK_EQ(ntohl(sa.sin_addr.s_addr), 0x0a630002);
	CHECK_EQ(ntohs(sa.sin_port), 9999);
out:
	close(s);
	tun_free(t);
}

static uint16_t udp6_csum(const uint8_t *ip6, const uint8_t *udp, size_t n)
{
	uint8_t pseudo[8] = { 0 };
	uint32_t sum;

	put16(pseudo + 2, (uint16_t)n);
	pseudo[7] = 17;
	sum = csum_add(0, ip6 + 8, 32); /* source and destination */
	sum = csum_add(sum, pseudo, sizeof(pseudo));
	return csum_fold(csum_add(sum, udp, n));
}

static void build_udp6_reply(uint8_t *p, const uint8_t *req, const char *payload)
{
	size_t n = strlen(payload);
	uint16_t c;

	memset(p, 0, 48);
	p[0] = 0x60;
	put16(p + 4, (uint16_t)(8 + n));
	p[6] = 17;
	p[7] = 64;
	memcpy(p + 8, req + 24, 16);
	memcpy(p + 24, req + 8, 16);
	memcpy(p + 40, req + 42, 2);
	memcpy(p + 42, req + 40, 2);
	put16(p + 44, (uint16_t)(8 + n));
	memcpy(p + 48, payload, n);
	c = udp6_csum(p, p + 40, 8 + n);
	put16(p + 46, c ? c : 0xffff);
}

/* The engine's own socket through the TUN over IPv6: the reply's endpoint
 * carries the TUN's address and ifindex as its sticky source. */
static void test_udp_v6_engine_socket(void)
{
	struct io_err err = { { 0 } };
	struct tun *t = NULL;
	struct udp *u = NULL;
	struct udp_msg m[2];
	struct io_endpoint want;
	uint8_t pkt[2048], reply[64], rbuf[2][64];
	struct pollfd pfd;
	unsigned int n = 0;
	int ifindex = 0;
	size_t len;

	if (!need_netns())
		return;
	CHECK_EQ(tun_open("sctun6", &t, &err), 0);
	CHECK_EQ(udp_new(0, &u, &err), 0);
	if (!t || !u)
		goto out;
	CHECK_EQ(tun_set_up(t, 1, &err), 0);
	CHECK_EQ(tun_get_ifindex(t, &ifindex, &err), 0);
	CHECK_EQ(set_addr6(ifindex, "fd00:99::1", 64), 0);
	CHECK(wait_addr6("fd00:99::1"));

	memset(m, 0, sizeof(m));
	CHECK_EQ(io_endpoint_parse("[fd00:99::2]:9999", &m[0].ep), 0);
	m[0].buf = (uint8_t *)"ping6";
	m[0].len = 5;
	CHECK_EQ(udp_send(u, m, 1, &n), 0);
	CHECK_EQ(n, 1);

	len = read_udp(t, pkt, sizeof(pkt), 9999);
	CHECK_EQ(len, 40 + 8 + 5);
	if (len != 53)
		goto out;
	CHECK_EQ(pkt[0] >> 4, 6);
	CHECK_EQ(be16(pkt + 4), 13);
	CHECK_EQ(be16(pkt + 40), udp_port(u));
	CHECK_EQ(udp6_csum(pkt, pkt + 40, 13), 0);
	CHECK_MEM(pkt + 48, "ping6", 5);

	build_udp6_reply(reply, pkt, "pong6");
	CHECK_EQ(tun_write(t, reply, 53), 0);
	pfd = (struct pollfd){ .fd = udp_fd(u), .events = POLLIN };
	CHECK_EQ(poll(&pfd, 1, 2000), 1);
	memset(m, 0, sizeof(m));
	m[0].buf = rbuf[0];
	m[1].buf = rbuf[1];
	m[0].cap = m[1].cap = sizeof(rbuf[0]);
	CHECK_EQ(udp_recv(u, m, 2, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(m[0].len, 5);
	CHECK_MEM(m[0].buf, "pong6", 5);
	CHECK_EQ(io_endpoint_parse("[fd00:99::2]:9999", &want), 0);
	inet_pton(AF_INET6, "fd00:99::1", &want.src.v6);
	want.src_ifindex = (uint32_t)ifindex;
	CHECK(io_endpoint_equal_src(&m[0].ep, &want));
out:
	udp_free(u);
	tun_free(t);
}

static const struct t_case cases[] = {
	T(test_open_setup),
	T(test_errors),
	T(test_udp_v4),
	T(test_udp_v6_engine_socket),
};

int main(void)
{
	if (geteuid() != 0)
		skip_reason = "needs root";
	else if (access("/dev/net/tun", R_OK | W_OK))
		skip_reason = "no /dev/net/tun";
	else if (unshare(CLONE_NEWNET))
		skip_reason = "cannot create a network namespace";
	return t_main("io-tun", cases, SC_ARRAY_SIZE(cases));
}
