// SPDX-License-Identifier: GPL-2.0-only
/*
 * The UAPI client: parsing `get` replies (Scope's own, checked field by field
 * against the device; one captured from wireguard-go 0.0.20220316 with
 * forms Scope does not write; malformed ones refused whole), and requests
 * over a real socket to the server on a real loop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "common/encode.h"
#include "crypto/ct.h"
#include "io/env.h"
#include "io/loop.h"
#include "uapi/client.h"
#include "uapi/server.h"
#include "test.h"
#include "fixture.h"

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"
#define KS "5555555555555555555555555555555555555555555555555555555555555555"
#define K0 "0000000000000000000000000000000000000000000000000000000000000000"

static int parse(const char *s, struct uapi_dev_state **out)
{
	return uapi_get_parse(s, strlen(s), out);
}

/* ---- parsing ----------------------------------------------------------- */

static void test_parse_own_get(void)
{
	static const char set[] =
		"set=1\nprivate_key=" KS "\npublic_key=" K1 "\npreshared_key=" KS
		"\nendpoint=[fe80::1%3]:443\npersistent_keepalive_interval=25\n"
		"allowed_ip=10.0.0.0/24\nallowed_ip=2001:db8::/64\npublic_key=" K2
		"\nendpoint=192.0.2.9:9\npublic_key=" K0 "\nallowed_ip=0.0.0.0/0\n\n";
	struct wg_dev *dev = wg_dev_new(&env);
	struct uapi_reply r = { 0 };
	struct uapi_dev_state *s = NULL;
	struct uapi_peer_state *p;
	struct io_endpoint ep;
	uint8_t priv[32], k[32];

	CHECK_EQ(uapi_handle(dev, &host, 1, NULL, set, sizeof(set) - 1, &r), 0);
	uapi_reply_reset(&r);
	CHECK_EQ(uapi_handle(dev, &host, 1, NULL, "get=1\n\n", 7, &r), 0);
	CHECK_EQ(uapi_get_parse(r.buf, r.len, &s), 0);
	if (!s)
		goto out;
	CHECK(s->has_private_key);
	CHECK_EQ(wg_dev_get_keys(dev, priv, NULL), 0);
	CHECK_MEM(s->private_key, priv, 32);
	CHECK_EQ(s->listen_port, 51820);
	CHECK_EQ(s->fwmark, 0);
	CHECK_EQ(s->n_peers, 3);
	CHECK_EQ(s->n_aips, 3);
	if (s->n_peers != 3)
		goto out;
	p = &s->peers[0];
	memset(k, 0x11, 32);
	CHECK_MEM(p->public_key, k, 32);
	memset(k, 0x55, 32);
	CHECK_MEM(p->preshared_key, k, 32);
	CHECK_EQ(io_endpoint_parse("[fe80::1%3]:443", &ep), 0);
	CHECK(io_endpoint_equal(&p->endpoint, &ep));
	CHECK(strcmp(p->endpoint_text, "[fe80::1%3]:443") == 0);
	CHECK_EQ(p->persistent_keepalive, 25);
	CHECK_EQ(p->last_handshake_ns, 0);
	CHECK_EQ(p->n_allowedips, 2);
	CHECK_EQ(p->allowedips[0].family, AF_INET);
	CHECK_EQ(p->allowedips[0].cidr, 24);
	CHECK_EQ(ntohl(p->allowedips[0].addr.ip4.s_addr), 0x0a000000);
	CHECK_EQ(p->allowedips[1].family, AF_INET6);
	CHECK_EQ(p->allowedips[1].cidr, 64);
	p = &s->peers[1];
	CHECK_EQ(p->endpoint.family, AF_INET);
	CHECK_EQ(p->endpoint.port, 9);
	CHECK_EQ(p->n_allowedips, 0);
	CHECK(cry_is_zero(p->preshared_key, 32));
	p = &s->peers[2];
	CHECK(cry_is_zero(p->public_key, 32));
	CHECK_EQ(p->endpoint.family, AF_UNSPEC);
	CHECK_EQ(p->endpoint_text[0], '\0');
	CHECK_EQ(p->n_allowedips, 1);
	CHECK_EQ(p->allowedips[0].cidr, 0);
out:
	uapi_dev_state_free(s);
	uapi_dev_state_free(NULL);
	uapi_reply_free(&r);
	wg_dev_free(dev);
}

/* What wireguard-go 0.0.20220316 answered to a device set up with forms
 * Scope does not write itself: a v4-mapped endpoint, port 0, a handshake. */
static const char go_reply[] =
	"private_key=f8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f\n"
	"listen_port=49358\n"
	"fwmark=7\n"
	"jc=3\n" /* amneziawg-go adds keys like this one */
	"public_key=" K1 "\n"
	"preshared_key=" K0 "\n"
	"protocol_version=1\n"
	"endpoint=[::ffff:192.0.2.1]:51820\n"
	"last_handshake_time_sec=1700000001\n"
	"last_handshake_time_nsec=234567891\n"
	"tx_bytes=1184\n"
	"rx_bytes=18446744073709551615\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=::ffff:10.0.0.0/104\n"
	"public_key=" K2 "\n"
	"preshared_key=" K0 "\n"
	"protocol_version=1\n"
	"endpoint=1.2.3.4:0\n"
	"last_handshake_time_sec=0\n"
	"last_handshake_time_nsec=0\n"
	"tx_bytes=0\n"
	"rx_bytes=0\n"
	"persistent_keepalive_interval=65535\n"
	"errno=0\n\n";

static void test_parse_wireguard_go(void)
{
	struct uapi_dev_state *s = NULL;

	CHECK_EQ(parse(go_reply, &s), 0);
	if (!s)
		return;
	CHECK_EQ(s->private_key[0], 0xf8);
	CHECK_EQ(s->listen_port, 49358);
	CHECK_EQ(s->fwmark, 7);
	CHECK_EQ(s->n_peers, 2);
	if (s->n_peers != 2) {
		uapi_dev_state_free(s);
		return;
	}
	/* Stored as IPv4, like every Scope endpoint (io/endpoint.h). */
	CHECK_EQ(s->peers[0].endpoint.family, AF_INET);
	CHECK_EQ(s->peers[0].endpoint.port, 51820);
	CHECK_EQ(s->peers[0].last_handshake_ns, 1700000001234567891ull);
	CHECK_EQ(s->peers[0].tx_bytes, 1184);
	CHECK(s->peers[0].rx_bytes == UINT64_MAX);
	CHECK_EQ(s->peers[0].allowedips[0].family, AF_INET6);
	/* Port 0: kept as text only. */
	CHECK_EQ(s->peers[1].endpoint.family, AF_UNSPEC);
	CHECK(strcmp(s->peers[1].endpoint_text, "1.2.3.4:0") == 0);
	CHECK_EQ(s->peers[1].persistent_keepalive, 65535);
	uapi_dev_state_free(s);
	/* No key, no peers. */
	CHECK_EQ(parse("listen_port=1\nerrno=0\n\n", &s), 0);
	if (s) {
		CHECK(!s->has_private_key);
		CHECK_EQ(s->n_peers, 0);
		uapi_dev_state_free(s);
	}
}

static void test_parse_refusals(void)
{
	static const struct {
		const char *reply;
		int err;
	} bad[] = {
		{ "errno=-22\n\n", -22 }, /* the server's refusal is passed on */
		{ "errno=-1\n\n", -1 },
		{ "", -EBADMSG },
		{ "listen_port=1\n", -EBADMSG },	  /* no errno line */
		{ "listen_port=1\nerrno=0\n", -EBADMSG }, /* no empty line */
		{ "errno=0\n\nx", -EBADMSG },		  /* bytes after the end */
		{ "errno=0\n\nerrno=0\n\n", -EBADMSG },
		{ "errno=5\n\n", -EBADMSG },
		{ "errno=-\n\n", -EBADMSG },
		{ "errno=-4096\n\n", -EBADMSG },
		{ "errno=\n\n", -EBADMSG },
		{ "listen_port\nerrno=0\n\n", -EBADMSG },
		{ "\nerrno=0\n\n", -EBADMSG },
		{ "listen_port=65536\nerrno=0\n\n", -EBADMSG },
		{ "fwmark=x\nerrno=0\n\n", -EBADMSG },
		{ "private_key=" K1 "0\nerrno=0\n\n", -EBADMSG },
		{ "allowed_ip=10.0.0.0/8\nerrno=0\n\n", -EBADMSG }, /* before public_key */
		{ "endpoint=1.2.3.4:5\nerrno=0\n\n", -EBADMSG },
		{ "public_key=" K1 "\nallowed_ip=10.0.0.0/33\nerrno=0\n\n", -EBADMSG },
		{ "public_key=" K1 "\nallowed_ip=-10.0.0.0/8\nerrno=0\n\n", -EBADMSG },
		{ "public_key=" K1 "\nprotocol_version=2\nerrno=0\n\n", -EBADMSG },
		{ "public_key=" K1 "\nlast_handshake_time_nsec=1000000000\nerrno=0\n\n", -EBADMSG },
		{ "public_key=" K1 "\ntx_bytes=18446744073709551616\nerrno=0\n\n", -EBADMSG },
		/* An endpoint too long even to keep as text. */
		{ "public_key=" K1 "\nendpoint=[" K1 K1 "]:1\nerrno=0\n\n", -EBADMSG },
		{ "public_key=zz\nerrno=0\n\n", -EBADMSG },
	};
	struct uapi_dev_state *s;
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(bad); i++) {
		s = NULL;
		if (parse(bad[i].reply, &s) != bad[i].err)
			fprintf(stderr, "# case %zu: %s\n", i, bad[i].reply);
		CHECK_EQ(parse(bad[i].reply, &s), bad[i].err);
		CHECK(s == NULL);
	}
	/* A NUL inside a line. */
	CHECK_EQ(uapi_get_parse("fwmark=1\0\nerrno=0\n\n", 19, &s), -EBADMSG);
}

/* ---- over a socket ----------------------------------------------------- */

static struct {
	char dir[64], sock[96];
	struct loop *loop;
	struct wg_dev *dev;
	bool timed_out;
} F;

static void on_request(void *ctx, const char *req, size_t len, struct uapi_reply *out)
{
	uapi_handle(F.dev, &host, 1, NULL, req, len, out);
}

static void on_timeout(void *ctx, uint64_t now)
{
	F.timed_out = true;
	loop_stop(F.loop);
}

static void *client_thread(void *arg)
{
	struct uapi_reply r = { 0 };
	struct uapi_dev_state *s = NULL;
	struct io_err err = { "" };
	int fd = -1, st = 1;

	CHECK_EQ(uapi_client_connect(F.sock, 5000, &fd, &err), 0);
	static const char set[] = "set=1\nlisten_port=7\npublic_key=" K1 "\n\n";
	CHECK_EQ(uapi_client_request(fd, set, sizeof(set) - 1, &r, &st), 0);
	CHECK_EQ(st, 0);
	CHECK(r.len == 9 && memcmp(r.buf, "errno=0\n\n", 9) == 0);
	uapi_reply_reset(&r);
	CHECK_EQ(uapi_client_request(fd, "set=1\nlisten_port=70000\n\n", 25, &r, &st), 0);
	CHECK_EQ(st, -EINVAL);
	uapi_reply_reset(&r);
	CHECK_EQ(uapi_client_request(fd, "get=1\n\n", 7, &r, &st), 0);
	CHECK_EQ(st, 0);
	CHECK_EQ(uapi_get_parse(r.buf, r.len, &s), 0);
	if (s) {
		CHECK_EQ(s->listen_port, 7);
		CHECK_EQ(s->n_peers, 1);
	}
	uapi_dev_state_free(s);
	uapi_reply_reset(&r);
	/* Not an operation: the server closes without a reply. */
	CHECK_EQ(uapi_client_request(fd, "hello\n", 6, &r, &st), -EPROTO);
	CHECK_EQ(r.len, 0);
	uapi_reply_free(&r);
	close(fd);
	loop_stop(F.loop);
	return NULL;
}

static void test_client_server(void)
{
	struct uapi_server *srv = NULL;
	struct io_err err = { "" };
	pthread_t th;
	int fd;

	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/scope-uapi-client.XXXXXX");
	CHECK(mkdtemp(F.dir) != NULL);
	snprintf(F.sock, sizeof(F.sock), "%s/wgc0.sock", F.dir);
	/* Nobody there yet. */
	CHECK_EQ(uapi_client_connect(F.sock, 100, &fd, &err), -ENOENT);
	CHECK(strstr(err.msg, F.sock) != NULL);
	F.dev = wg_dev_new(&env);
	CHECK_EQ(loop_new(&F.loop), 0);
	loop_set_timer_fn(F.loop, on_timeout, NULL);
	CHECK_EQ(uapi_server_new(F.dir, "wgc0", F.loop, on_request, NULL, &srv, &err), 0);
	loop_set_deadline(F.loop, io_now_ns() + 10 * SC_NSEC_PER_SEC);
	CHECK_EQ(pthread_create(&th, NULL, client_thread, NULL), 0);
	CHECK_EQ(loop_run(F.loop), 0);
	pthread_join(th, NULL);
	CHECK(!F.timed_out);
	uapi_server_free(srv);
	loop_free(F.loop);
	wg_dev_free(F.dev);
	rmdir(F.dir);
}

static const struct t_case cases[] = {
	T(test_parse_own_get),
	T(test_parse_wireguard_go),
	T(test_parse_refusals),
	T(test_client_server),
};

int main(void)
{
	return t_main("uapi-client", cases, SC_ARRAY_SIZE(cases));
}
