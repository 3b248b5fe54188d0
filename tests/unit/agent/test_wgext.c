// SPDX-License-Identifier: GPL-2.0-only
/*
 * PSK-only mode's UAPI backend (agent/wgext.h) against Scope's own UAPI
 * server and a wg_dev on a real loop: the interface's public key; a PSK
 * change that changes nothing else of the interface (the whole `get`
 * compared before and after); refusing a peer the interface lacks; the
 * tunnel view of a peer; `get` replies refused whole; the cache.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "agent/wgext.h"
#include "common/encode.h"
#include "crypto/ct.h"
#include "crypto/x25519.h"
#include "io/env.h"
#include "io/loop.h"
#include "uapi/client.h"
#include "uapi/server.h"
#include "test.h"
#include "../uapi/fixture.h"

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"
#define K3 "3333333333333333333333333333333333333333333333333333333333333333"
#define KP "7777777777777777777777777777777777777777777777777777777777777777"
#define KS "5555555555555555555555555555555555555555555555555555555555555555"
#define K0 "0000000000000000000000000000000000000000000000000000000000000000"

static struct {
	char dir[64], sock[96];
	struct loop *loop;
	struct wg_dev *dev;
	unsigned int gets, sets;
	bool timed_out;
	void (*body)(void);
} F;

static void on_request(void *ctx, const char *req, size_t len, struct uapi_reply *out)
{
	if (len >= 6 && memcmp(req, "get=1\n", 6) == 0)
		F.gets++;
	else
		F.sets++;
	uapi_handle(F.dev, &host, 1, NULL, req, len, out);
}

static void on_timeout(void *ctx, uint64_t now)
{
	F.timed_out = true;
	loop_stop(F.loop);
}

static void *client_thread(void *arg)
{
	F.body();
	loop_stop(F.loop);
	return NULL;
}

/* Run body on a client thread while the server runs on this one. */
static void with_server(void (*body)(void))
{
	struct uapi_server *srv = NULL;
	struct io_err err = { "" };
	pthread_t th;

	memset(&F, 0, sizeof(F));
	F.body = body;
	snprintf(F.dir, sizeof(F.dir), "/tmp/scope-wgext.XXXXXX");
	CHECK(mkdtemp(F.dir) != NULL);
	snprintf(F.sock, sizeof(F.sock), "%s/wgx0.sock", F.dir);
	F.dev = wg_dev_new(&env);
	CHECK_EQ(loop_new(&F.loop), 0);
	loop_set_timer_fn(F.loop, on_timeout, NULL);
	CHECK_EQ(uapi_server_new(F.dir, "wgx0", F.loop, on_request, NULL, &srv, &err), 0);
	loop_set_deadline(F.loop, io_now_ns() + 20 * SC_NSEC_PER_SEC);
	CHECK_EQ(pthread_create(&th, NULL, client_thread, NULL), 0);
	CHECK_EQ(loop_run(F.loop), 0);
	pthread_join(th, NULL);
	CHECK(!F.timed_out);
	uapi_server_free(srv);
	loop_free(F.loop);
	wg_dev_free(F.dev);
	rmdir(F.dir);
}

/* A raw request from the client thread; the reply text in a fresh buffer. */
static char *raw(const char *req, int *status)
{
	struct uapi_reply r = { 0 };
	char *text = NULL;
	int fd = -1;

	CHECK_EQ(uapi_client_connect(F.sock, 2000, &fd, NULL), 0);
	CHECK_EQ(uapi_client_request(fd, req, strlen(req), &r, status), 0);
	close(fd);
	text = strndup(r.buf ? r.buf : "", r.len);
	uapi_reply_free(&r);
	return text;
}

static void key_of(uint8_t k[32], char c)
{
	char hex[65];

	memset(hex, c, 64);
	hex[64] = '\0';
	CHECK_EQ(sc_hex_decode(k, 32, hex, 64), 0);
}

/* ---- over the socket ------------------------------------------------------ */

static void body_public_key(void)
{
	struct wgext *w = NULL;
	uint8_t pub[32], want[32], priv[32];
	int st = 1;
	char *t;

	CHECK_EQ(wgext_new(F.sock, &w), 0);
	/* No private key yet. */
	CHECK_EQ(wgext_public_key(w, pub), -ENOKEY);
	CHECK(strstr(wgext_error(w), "no private key") != NULL);
	t = raw("set=1\nprivate_key=" KS "\n\n", &st);
	CHECK_EQ(st, 0);
	free(t);
	CHECK_EQ(wgext_public_key(w, pub), 0);
	key_of(priv, '5');
	CHECK_EQ(cry_x25519_pubkey(want, priv), 0);
	CHECK_MEM(pub, want, 32);
	wgext_free(w);
	wgext_free(NULL);
}

static void test_wgext_public_key(void)
{
	with_server(body_public_key);
}

/* Everything of the interface, as `get` shows it, with the preshared_key
 * line of peer K1 (the second line after public_key=K1) blanked. */
static void blank_psk_of_k1(char *t)
{
	char *p = strstr(t, "public_key=" K1 "\n");
	char *q = p ? strstr(p, "preshared_key=") : NULL;

	CHECK(q != NULL);
	if (q)
		memset(q + 14, 'x', 64);
}

static void body_set_psk(void)
{
	static const char setup[] = "set=1\nprivate_key=" KS "\nlisten_port=4242\n"
				    "public_key=" K1 "\npreshared_key=" K3 "\n"
				    "endpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n"
				    "allowed_ip=10.9.0.2/32\nallowed_ip=fd00:9::2/128\n"
				    "public_key=" K2 "\nendpoint=[2001:db8::2]:7\n"
				    "allowed_ip=10.9.0.3/32\n\n";
	struct wgext *w = NULL;
	struct kexd_psk ring[2];
	uint8_t k1[32], k2[32], k9[32];
	char *before, *after;
	int st = 1;

	free(raw(setup, &st));
	CHECK_EQ(st, 0);
	key_of(k1, '1');
	key_of(k2, '2');
	key_of(k9, '9');
	CHECK_EQ(wgext_new(F.sock, &w), 0);
	before = raw("get=1\n\n", &st);
	CHECK(strstr(before, "preshared_key=" K3 "\n") != NULL);
	/* The newest of the ring, and nothing else. */
	ring[0].version = 4;
	key_of(ring[0].key, '7');
	ring[1].version = 3;
	key_of(ring[1].key, '3');
	F.sets = 0;
	CHECK_EQ(wgext_set_psk(w, k1, ring, 2), 0);
	CHECK_EQ(F.sets, 1);
	after = raw("get=1\n\n", &st);
	CHECK(strstr(after, "public_key=" K1 "\npreshared_key=" KP "\n") != NULL);
	/* The other peer's key is untouched (it had none). */
	CHECK(strstr(after, "public_key=" K2 "\npreshared_key=" K0 "\n") != NULL);
	blank_psk_of_k1(before);
	blank_psk_of_k1(after);
	CHECK(strcmp(before, after) == 0);
	free(after);
	/* n == 0: no PSK. */
	CHECK_EQ(wgext_set_psk(w, k1, ring, 0), 0);
	after = raw("get=1\n\n", &st);
	CHECK(strstr(after, "public_key=" K1 "\npreshared_key=" K0 "\n") != NULL);
	blank_psk_of_k1(after);
	CHECK(strcmp(before, after) == 0);
	free(after);
	/* A peer the interface lacks: refused, nothing sent, nothing created. */
	F.sets = 0;
	CHECK_EQ(wgext_set_psk(w, k9, ring, 1), -ENOENT);
	CHECK_EQ(F.sets, 0);
	CHECK(strstr(wgext_error(w), "no such peer") != NULL);
	after = raw("get=1\n\n", &st);
	blank_psk_of_k1(after);
	CHECK(strcmp(before, after) == 0);
	free(after);
	free(before);
	wgext_free(w);
}

static void test_wgext_set_psk_only(void)
{
	with_server(body_set_psk);
}

static void body_tunnel(void)
{
	struct wgext *w = NULL;
	struct kexd_tunnel t;
	uint8_t k1[32], k9[32];
	struct kexd_psk ring[1];
	int st = 1;

	free(raw("set=1\npublic_key=" K1 "\nallowed_ip=10.9.0.2/32\n\n", &st));
	key_of(k1, '1');
	key_of(k9, '9');
	CHECK_EQ(wgext_new(F.sock, &w), 0);
	F.gets = 0;
	memset(&t, 0xa5, sizeof(t));
	CHECK_EQ(wgext_tunnel(w, k1, &t), 0);
	CHECK(t.known);
	CHECK_EQ(t.last_handshake_ns, 0);
	CHECK_EQ(t.rx_bytes, 0);
	CHECK(!t.has_session);
	CHECK_EQ(t.session_version, 0);
	CHECK_EQ(wgext_tunnel(w, k9, &t), 0);
	CHECK(!t.known);
	/* Both answered from one `get` (the cache). */
	CHECK_EQ(F.gets, 1);
	usleep((WGEXT_CACHE_NS / 1000) + 50000);
	CHECK_EQ(wgext_tunnel(w, k1, &t), 0);
	CHECK_EQ(F.gets, 2);
	/* A set invalidates it: the next poll asks again. */
	ring[0].version = 1;
	key_of(ring[0].key, '7');
	CHECK_EQ(wgext_set_psk(w, k1, ring, 1), 0);
	F.gets = 0;
	CHECK_EQ(wgext_tunnel(w, k1, &t), 0);
	CHECK_EQ(F.gets, 1);
	wgext_invalidate(w);
	CHECK_EQ(wgext_tunnel(w, k1, &t), 0);
	CHECK_EQ(F.gets, 2);
	wgext_free(w);
}

static void test_wgext_tunnel(void)
{
	with_server(body_tunnel);
}

/* No interface: the connection error, with the path. */
static void test_wgext_no_interface(void)
{
	struct wgext *w = NULL;
	struct kexd_tunnel t;
	uint8_t k[32] = { 1 }, pub[32];
	char path[300];

	CHECK_EQ(wgext_new("/tmp/scope-wgext-absent/none.sock", &w), 0);
	CHECK_EQ(wgext_tunnel(w, k, &t), -ENOENT);
	CHECK(strstr(wgext_error(w), "/tmp/scope-wgext-absent/none.sock") != NULL);
	CHECK_EQ(wgext_public_key(w, pub), -ENOENT);
	CHECK_EQ(wgext_set_psk(w, k, NULL, 0), -ENOENT);
	wgext_free(w);
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	w = NULL;
	CHECK_EQ(wgext_new(path, &w), -ENAMETOOLONG);
	CHECK(w == NULL);
}

/* ---- the parser ----------------------------------------------------------- */

static void test_wgext_parse(void)
{
	/* wireguard-go's form: handshake time in two keys, counters, extra keys. */
	static const char go[] = "private_key=" KS "\nlisten_port=51820\n"
				 "public_key=" K1 "\npreshared_key=" K0 "\n"
				 "protocol_version=1\nendpoint=192.0.2.1:51820\n"
				 "last_handshake_time_sec=1700000100\n"
				 "last_handshake_time_nsec=250000000\n"
				 "tx_bytes=1000\nrx_bytes=123456\n"
				 "persistent_keepalive_interval=0\nallowed_ip=10.9.0.2/32\n"
				 "public_key=" K2 "\npreshared_key=" K0 "\n"
				 "last_handshake_time_sec=0\nlast_handshake_time_nsec=0\n"
				 "tx_bytes=0\nrx_bytes=0\nerrno=0\n\n";
	static const struct {
		const char *reply;
		int err;
	} bad[] = {
		/* The same peer twice. */
		{ "public_key=" K1 "\nrx_bytes=1\npublic_key=" K2 "\npublic_key=" K1
		  "\nerrno=0\n\n",
		  -EBADMSG },
		{ "errno=-22\n\n", -22 },
		{ "public_key=" K1 "\nrx_bytes=-1\nerrno=0\n\n", -EBADMSG },
		{ "public_key=" K1 "\nlast_handshake_time_nsec=1000000000\nerrno=0\n\n", -EBADMSG },
		{ "public_key=" K1 "\nrx_bytes=1\n", -EBADMSG }, /* no end */
		{ "rx_bytes=1\nerrno=0\n\n", -EBADMSG },	 /* before public_key */
	};
	struct uapi_dev_state *st = NULL;
	struct kexd_tunnel t;
	uint8_t k1[32], k2[32], k9[32];

	key_of(k1, '1');
	key_of(k2, '2');
	key_of(k9, '9');
	CHECK_EQ(wgext_get_parse(go, sizeof(go) - 1, &st), 0);
	if (!st)
		return;
	wgext_peer_tunnel(st, k1, &t);
	CHECK(t.known);
	CHECK_EQ(t.last_handshake_ns, 1700000100ull * SC_NSEC_PER_SEC + 250000000ull);
	CHECK_EQ(t.rx_bytes, 123456);
	wgext_peer_tunnel(st, k2, &t);
	CHECK(t.known);
	CHECK_EQ(t.last_handshake_ns, 0);
	wgext_peer_tunnel(st, k9, &t);
	CHECK(!t.known);
	uapi_dev_state_free(st);
	for (size_t i = 0; i < SC_ARRAY_SIZE(bad); i++) {
		st = NULL;
		CHECK_EQ(wgext_get_parse(bad[i].reply, strlen(bad[i].reply), &st), bad[i].err);
		CHECK(st == NULL);
	}
}

static const struct t_case cases[] = {
	T(test_wgext_public_key),   T(test_wgext_set_psk_only), T(test_wgext_tunnel),
	T(test_wgext_no_interface), T(test_wgext_parse),
};

int main(void)
{
	return t_main("agent-wgext", cases, SC_ARRAY_SIZE(cases));
}
