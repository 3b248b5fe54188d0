// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registry's STUN responder over loopback: a real socket, real
 * datagrams. The reflexive address it reports must be the client socket's
 * own address, for IPv4, IPv6 and IPv4 on the dual-stack socket; junk and
 * non-requests get no answer; the counters say what happened; bad
 * configuration is refused with a message.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/stun.h"
#include "registry/stun_server.h"
#include "test.h"

static const uint8_t txid[STUN_TXID_LEN] = "scope-stun-1";

union sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

/* A client socket of family bound to loopback, and the server's address. */
static int client(int family, uint16_t port, union sa *server, socklen_t *slen)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	union sa me;

	memset(&me, 0, sizeof(me));
	memset(server, 0, sizeof(*server));
	if (family == AF_INET) {
		me.in.sin_family = AF_INET;
		me.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*server = me;
		server->in.sin_port = htons(port);
		*slen = sizeof(server->in);
	} else {
		me.in6.sin6_family = AF_INET6;
		me.in6.sin6_addr = in6addr_loopback;
		*server = me;
		server->in6.sin6_port = htons(port);
		*slen = sizeof(server->in6);
	}
	if (fd >= 0 && bind(fd, &me.sa, *slen)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Let the server handle what is queued (its socket is non-blocking). */
static void serve(struct reg_stun *s)
{
	struct pollfd p = { .fd = reg_stun_fd(s), .events = POLLIN };

	if (poll(&p, 1, 1000) == 1)
		CHECK(reg_stun_on_readable(s) > 0);
}

/* A reply within 1 s, or -1. */
static ssize_t reply(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return recv(fd, buf, cap, 0);
}

/* Binding request from a loopback client of `family` to the server; the
 * answer must name the client socket. */
static void binding(struct reg_stun *s, int family)
{
	uint8_t req[64], rep[STUN_MSG_MAX];
	union sa server, me;
	struct sockaddr_storage mapped;
	socklen_t slen, mlen, melen = sizeof(me);
	int fd = client(family, reg_stun_port(s), &server, &slen), n;
	ssize_t r;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(getsockname(fd, &me.sa, &melen), 0);
	n = stun_build_binding_request(req, sizeof(req), txid, STUN_F_FINGERPRINT);
	CHECK_EQ(sendto(fd, req, (size_t)n, 0, &server.sa, slen), n);
	serve(s);
	r = reply(fd, rep, sizeof(rep), 1000);
	CHECK(r > 0);
	if (r > 0) {
		CHECK_EQ(stun_parse_binding_response(rep, (size_t)r, txid, &mapped, &mlen), 0);
		CHECK_EQ(mlen, melen);
		CHECK_MEM(&mapped, &me, melen);
	}
	close(fd);
}

static void test_ipv4(void)
{
	struct reg_stun *s = NULL;
	struct reg_stun_stats st;
	char err[REG_STUN_ERRLEN];

	CHECK_EQ(reg_stun_new("127.0.0.1", 0, &s, err), 0);
	if (!s)
		return;
	CHECK(reg_stun_port(s) != 0);
	binding(s, AF_INET);
	reg_stun_get_stats(s, &st);
	CHECK_EQ(st.rx_packets, 1);
	CHECK_EQ(st.tx_success, 1);
	CHECK_EQ(st.tx_error + st.dropped + st.ignored + st.tx_failed, 0);
	reg_stun_free(s);
}

static void test_dual_stack(void)
{
	struct reg_stun *s = NULL;
	struct reg_stun_stats st;
	char err[REG_STUN_ERRLEN];
	union sa probe;
	socklen_t plen;
	int fd = client(AF_INET6, 9, &probe, &plen);

	if (fd < 0) {
		t_skip("no IPv6 loopback here");
		return;
	}
	close(fd);
	CHECK_EQ(reg_stun_new(NULL, 0, &s, err), 0);
	if (!s)
		return;
	/* IPv4 arrives v4-mapped and must be reported as plain IPv4; the
	 * reply leaves from the address it was sent to (IP_PKTINFO path). */
	binding(s, AF_INET);
	binding(s, AF_INET6);
	reg_stun_get_stats(s, &st);
	CHECK_EQ(st.tx_success, 2);
	CHECK_EQ(st.tx_failed, 0);
	reg_stun_free(s);
}

/* Junk, responses and indications: no reply, but counted. A request
 * with broken attributes: 400. An RFC 3489 request: MAPPED-ADDRESS. */
static void test_no_reply_and_errors(void)
{
	static uint8_t big[STUN_MSG_MAX + 100];
	uint8_t msg[64], rep[STUN_MSG_MAX];
	struct reg_stun *s = NULL;
	struct reg_stun_stats st;
	char err[REG_STUN_ERRLEN];
	union sa server;
	socklen_t slen;
	struct stun_msg m;
	int fd, n;
	ssize_t r;

	CHECK_EQ(reg_stun_new("127.0.0.1", 0, &s, err), 0);
	if (!s)
		return;
	fd = client(AF_INET, reg_stun_port(s), &server, &slen);
	CHECK(fd >= 0);
	/* A WireGuard-looking packet, a success response, an oversize one. */
	memset(msg, 0, sizeof(msg));
	msg[0] = 1;
	CHECK_EQ(sendto(fd, msg, 48, 0, &server.sa, slen), 48);
	n = stun_build_binding_success(msg, sizeof(msg), txid,
				       &(struct stun_addr){ .family = STUN_FAMILY_IPV4 }, NULL, 0);
	CHECK_EQ(sendto(fd, msg, (size_t)n, 0, &server.sa, slen), n);
	CHECK_EQ(sendto(fd, big, sizeof(big), 0, &server.sa, slen), (ssize_t)sizeof(big));
	/* A Binding request whose MAPPED-ADDRESS has family 9. */
	n = stun_build_binding_request(msg, sizeof(msg), txid, 0);
	memcpy(msg + n, "\x00\x01\x00\x04\x00\x09\x00\x00", 8);
	msg[3] = 8;
	CHECK_EQ(sendto(fd, msg, (size_t)n + 8, 0, &server.sa, slen), n + 8);
	serve(s);
	r = reply(fd, rep, sizeof(rep), 1000);
	CHECK(r > 0);
	CHECK_EQ(stun_parse(rep, (size_t)(r > 0 ? r : 0), &m), 0);
	CHECK_EQ(m.error_code, 400);
	/* Nothing else came back. */
	CHECK(reply(fd, rep, sizeof(rep), 200) < 0);
	reg_stun_get_stats(s, &st);
	CHECK_EQ(st.rx_packets, 4);
	CHECK_EQ(st.dropped, 1);
	CHECK_EQ(st.ignored, 1);
	CHECK_EQ(st.rx_oversize, 1);
	CHECK_EQ(st.tx_error, 1);
	CHECK_EQ(st.tx_success, 0);
	close(fd);
	reg_stun_free(s);
}

static void test_batch(void)
{
	uint8_t req[64], rep[STUN_MSG_MAX];
	struct reg_stun *s = NULL;
	struct reg_stun_stats st;
	char err[REG_STUN_ERRLEN];
	union sa server;
	socklen_t slen;
	int fd, n, i, got = 0;

	CHECK_EQ(reg_stun_new("127.0.0.1", 0, &s, err), 0);
	if (!s)
		return;
	fd = client(AF_INET, reg_stun_port(s), &server, &slen);
	n = stun_build_binding_request(req, sizeof(req), txid, 0);
	/* More than one batch: one call handles at most REG_STUN_BATCH. */
	for (i = 0; i < REG_STUN_BATCH + 5; i++)
		CHECK_EQ(sendto(fd, req, (size_t)n, 0, &server.sa, slen), n);
	usleep(50000);
	CHECK_EQ(reg_stun_on_readable(s), REG_STUN_BATCH);
	CHECK_EQ(reg_stun_on_readable(s), 5);
	CHECK_EQ(reg_stun_on_readable(s), 0);
	while (reply(fd, rep, sizeof(rep), 200) > 0)
		got++;
	CHECK_EQ(got, REG_STUN_BATCH + 5);
	reg_stun_get_stats(s, &st);
	CHECK_EQ(st.tx_success, REG_STUN_BATCH + 5);
	close(fd);
	reg_stun_free(s);
}

static void test_refusals(void)
{
	struct reg_stun *s = NULL, *s2 = (struct reg_stun *)&s;
	char err[REG_STUN_ERRLEN] = "";

	CHECK_EQ(reg_stun_new("stun.example.org", 3478, &s2, err), -EINVAL);
	CHECK(s2 == (struct reg_stun *)&s);
	CHECK(strstr(err, "not a numeric IP address") != NULL);
	CHECK_EQ(reg_stun_new("192.0.2.1", 0, &s2, err), -EADDRNOTAVAIL);
	CHECK(strstr(err, "bind STUN") != NULL);
	/* The same port twice. */
	CHECK_EQ(reg_stun_new("127.0.0.1", 0, &s, err), 0);
	if (s) {
		CHECK_EQ(reg_stun_new("127.0.0.1", reg_stun_port(s), &s2, NULL), -EADDRINUSE);
		reg_stun_free(s);
	}
	reg_stun_free(NULL);
}

static const struct t_case cases[] = {
	T(test_ipv4),  T(test_dual_stack), T(test_no_reply_and_errors),
	T(test_batch), T(test_refusals),
};

int main(void)
{
	return t_main("registry-stun", cases, SC_ARRAY_SIZE(cases));
}
