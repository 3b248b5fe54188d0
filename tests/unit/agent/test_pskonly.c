// SPDX-License-Identifier: GPL-2.0-only
/*
 * PSK-only mode's status document (agent/pskonly.c, statics reached by
 * including the .c): a listed peer as the external interface shows it
 * (endpoint, handshake age, counters, allowed IPs, capped), a listed peer
 * the interface lacks (no handshake, no endpoint), the peer's role from
 * its certificate, and the whole status read over a real UAPI socket
 * (Scope's own server on a wg_dev), including the refusal when the
 * interface is gone. The PSK fields come from pqstatus (test_pqstatus.c).
 */
#define _GNU_SOURCE
#include "agent/pskonly.c"

#include <arpa/inet.h>

#include "uapi/server.h"
#include "uapi/uapi.h"
#include "wg/wg.h"
#include "test.h"
#include "../uapi/fixture.h"

#define NOW_S FX_WALL_S

static void key_fill(uint8_t k[32], uint8_t b)
{
	memset(k, b, 32);
}

/* ---- one peer's tunnel fields -------------------------------------------- */

static void test_tunnel_v4(void)
{
	struct wg_allowedip aips[2];
	struct uapi_peer_state p;
	struct agent_status_peer sp;
	static struct proto_prefix out[AGENT_CTL_MAX_ALLOWED];
	const uint8_t want4[4] = { 192, 0, 2, 20 };

	memset(&p, 0, sizeof(p));
	memset(aips, 0, sizeof(aips));
	p.endpoint.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.20", &p.endpoint.addr.v4);
	p.endpoint.port = 51820;
	p.last_handshake_ns = (NOW_S - 17) * SC_NSEC_PER_SEC + 999999999;
	p.rx_bytes = 1000;
	p.tx_bytes = 2000;
	aips[0].family = AF_INET;
	inet_pton(AF_INET, "10.66.0.2", &aips[0].addr.ip4);
	aips[0].cidr = 32;
	aips[1].family = AF_INET6;
	inet_pton(AF_INET6, "fd66::", &aips[1].addr.ip6);
	aips[1].cidr = 64;
	p.allowedips = aips;
	p.n_allowedips = 2;
	memset(&sp, 0, sizeof(sp));
	status_tunnel(&sp, &p, NOW_S, out);
	CHECK(sp.has_endpoint);
	CHECK_EQ(sp.endpoint.family, 4);
	CHECK_MEM(sp.endpoint.addr, want4, 4);
	CHECK_EQ(sp.endpoint.port, 51820);
	CHECK(sp.has_handshake);
	CHECK_EQ(sp.handshake_age, 17);
	CHECK_EQ(sp.rx_bytes, 1000);
	CHECK_EQ(sp.tx_bytes, 2000);
	CHECK_EQ(sp.n_allowed, 2);
	CHECK(sp.allowed == out);
	CHECK_EQ(out[0].family, 4);
	CHECK_EQ(out[0].len, 32);
	CHECK_MEM(out[0].addr, "\x0a\x42\x00\x02", 4);
	CHECK_EQ(out[1].family, 6);
	CHECK_EQ(out[1].len, 64);
	CHECK_MEM(out[1].addr, "\xfd\x66\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	CHECK_EQ(proto_prefix_check(&out[0]), 0);
	CHECK_EQ(proto_prefix_check(&out[1]), 0);
}

static void test_tunnel_v6_and_edges(void)
{
	struct uapi_peer_state p;
	struct agent_status_peer sp;
	static struct proto_prefix out[AGENT_CTL_MAX_ALLOWED];
	uint8_t want6[16];

	memset(&p, 0, sizeof(p));
	p.endpoint.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::2", &p.endpoint.addr.v6);
	memcpy(want6, &p.endpoint.addr.v6, 16);
	p.endpoint.port = 7;
	/* A handshake "in the future" (the clock went back): age 0. */
	p.last_handshake_ns = (NOW_S + 5) * SC_NSEC_PER_SEC;
	memset(&sp, 0, sizeof(sp));
	status_tunnel(&sp, &p, NOW_S, out);
	CHECK(sp.has_endpoint);
	CHECK_EQ(sp.endpoint.family, 6);
	CHECK_MEM(sp.endpoint.addr, want6, 16);
	CHECK(sp.has_handshake);
	CHECK_EQ(sp.handshake_age, 0);
	CHECK_EQ(sp.n_allowed, 0);

	/* No endpoint (or one Scope does not take), never a handshake. */
	memset(&p, 0, sizeof(p));
	p.endpoint.family = AF_UNSPEC;
	p.rx_bytes = 5;
	memset(&sp, 0, sizeof(sp));
	status_tunnel(&sp, &p, NOW_S, out);
	CHECK(!sp.has_endpoint);
	CHECK(!sp.has_handshake);
	CHECK_EQ(sp.rx_bytes, 5);

	/* A peer the interface lacks: nothing at all. */
	memset(&sp, 0, sizeof(sp));
	sp.rx_bytes = 77;
	status_tunnel(&sp, NULL, NOW_S, out);
	CHECK(!sp.has_endpoint);
	CHECK(!sp.has_handshake);
	CHECK_EQ(sp.rx_bytes, 77);
	CHECK_EQ(sp.n_allowed, 0);
	CHECK(sp.allowed == NULL);
}

/* More allowed IPs than a status document carries: the first
 * AGENT_CTL_MAX_ALLOWED, so that the document is still answered. */
static void test_tunnel_allowed_cap(void)
{
	const size_t n = AGENT_CTL_MAX_ALLOWED + 3;
	struct wg_allowedip *aips = calloc(n, sizeof(*aips));
	static struct proto_prefix out[AGENT_CTL_MAX_ALLOWED];
	struct agent_status st;
	struct uapi_peer_state p;
	struct agent_status_peer sp;

	CHECK(aips != NULL);
	if (!aips)
		return;
	for (size_t i = 0; i < n; i++) {
		aips[i].family = AF_INET;
		aips[i].addr.ip4.s_addr = htonl(0x0a000000u | (uint32_t)i);
		aips[i].cidr = 32;
	}
	memset(&p, 0, sizeof(p));
	p.allowedips = aips;
	p.n_allowedips = n;
	memset(&sp, 0, sizeof(sp));
	status_tunnel(&sp, &p, NOW_S, out);
	CHECK_EQ(sp.n_allowed, AGENT_CTL_MAX_ALLOWED);
	CHECK_MEM(out[AGENT_CTL_MAX_ALLOWED - 1].addr, "\x0a\x00\x03\xff", 4);
	memset(&st, 0, sizeof(st));
	CHECK_EQ(agent_status_add_peer(&st, &sp), 0);
	agent_status_reset(&st);
	free(aips);
}

static void test_cert_role(void)
{
	struct proto_cert c;

	memset(&c, 0, sizeof(c));
	c.roles = PROTO_ROLE_EDGE;
	CHECK_EQ(cert_role(&c), PROTO_ROLE_EDGE);
	c.roles = PROTO_ROLE_MASTER;
	CHECK_EQ(cert_role(&c), PROTO_ROLE_MASTER);
	/* Several allowed: which one the peer runs as is not known here. */
	c.roles = PROTO_ROLE_EDGE | PROTO_ROLE_RELAY;
	CHECK_EQ(cert_role(&c), 0);
	c.roles = 0;
	CHECK_EQ(cert_role(&c), 0);
}

/* ---- the whole status over a UAPI socket ------------------------------------ */

#define KS "5555555555555555555555555555555555555555555555555555555555555555"
#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"

static struct {
	char dir[64];
	struct loop *loop;
	struct wg_dev *dev;
	struct pskonly po;
	struct agent_config cfg;
	struct uapi_server *srv;
	int ret_up, ret_gone;
	struct agent_status up, gone;
} F;

static void on_request(void *ctx, const char *req, size_t len, struct uapi_reply *out)
{
	uapi_handle(F.dev, &host, 1, NULL, req, len, out);
}

static void *client_thread(void *arg)
{
	F.ret_up = status_fn(&F.po, &F.up);
	/* The interface goes away (wireguard-go stopped): no document. */
	snprintf(F.po.sock_path, sizeof(F.po.sock_path), "%s/gone.sock", F.dir);
	wgext_free(F.po.ext);
	F.po.ext = NULL;
	F.ret_gone = wgext_new(F.po.sock_path, &F.po.ext);
	if (!F.ret_gone)
		F.ret_gone = status_fn(&F.po, &F.gone);
	loop_stop(F.loop);
	return NULL;
}

static void cfg_peer(struct proto_cert *c, const char *name, uint8_t key, uint8_t roles)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	key_fill(c->wgkey, key);
	c->roles = roles;
}

static void test_status_over_uapi(void)
{
	static const char setup[] = "set=1\nprivate_key=" KS "\n"
				    "public_key=" K1 "\nendpoint=192.0.2.20:51820\n"
				    "allowed_ip=10.66.0.2/32\n"
				    "public_key=" K2 "\nallowed_ip=10.66.0.3/32\n\n";
	struct uapi_reply r = { 0 };
	struct io_err err = { "" };
	const struct agent_status_peer *b, *c;
	pthread_t th;

	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/scope-pskonly.XXXXXX");
	CHECK(mkdtemp(F.dir) != NULL);
	F.dev = wg_dev_new(&env);
	CHECK(F.dev != NULL);
	CHECK_EQ(uapi_handle(F.dev, &host, 1, NULL, setup, strlen(setup), &r), 0);
	CHECK(r.len > 0 && strstr(r.buf, "errno=0\n") != NULL);
	uapi_reply_free(&r);
	CHECK_EQ(loop_new(&F.loop), 0);
	CHECK_EQ(uapi_server_new(F.dir, "wgp0", F.loop, on_request, NULL, &F.srv, &err), 0);

	/* What pskonly_new would have set up, without a driver or registry. */
	snprintf(F.cfg.net.name, sizeof(F.cfg.net.name), "pq");
	snprintf(F.cfg.ifname, sizeof(F.cfg.ifname), "wgp0");
	key_fill(F.cfg.cert.wgkey, 0xaa);
	F.cfg.role = PROTO_ROLE_EDGE;
	F.cfg.registry_off = true;
	F.cfg.n_peers = 2;
	cfg_peer(&F.cfg.peers[0], "bravo", 0x11, PROTO_ROLE_EDGE);
	cfg_peer(&F.cfg.peers[1], "charlie", 0x99, PROTO_ROLE_EDGE | PROTO_ROLE_RELAY);
	F.po.cfg = &F.cfg;
	F.po.env = env;
	F.po.report_fd = -1;
	pthread_mutex_init(&F.po.lock, NULL);
	snprintf(F.po.sock_path, sizeof(F.po.sock_path), "%s/wgp0.sock", F.dir);
	CHECK_EQ(wgext_new(F.po.sock_path, &F.po.ext), 0);

	loop_set_deadline(F.loop, io_now_ns() + 20 * SC_NSEC_PER_SEC);
	CHECK_EQ(pthread_create(&th, NULL, client_thread, NULL), 0);
	CHECK_EQ(loop_run(F.loop), 0);
	pthread_join(th, NULL);

	CHECK_EQ(F.ret_up, 0);
	CHECK(!strcmp(F.up.network, "pq"));
	CHECK(!strcmp(F.up.ifname, "wgp0"));
	CHECK(!strcmp(F.up.registry, "off"));
	CHECK(!F.up.registry_reachable);
	CHECK(!F.up.has_registry_contact);
	CHECK_EQ(F.up.listen_port, 51820);
	CHECK_EQ(F.up.role, PROTO_ROLE_EDGE);
	CHECK_MEM(F.up.public_key, F.cfg.cert.wgkey, 32);
	CHECK_EQ(F.up.n_peers, 2);
	if (F.up.n_peers == 2) {
		b = &F.up.peers[0];
		c = &F.up.peers[1];
		/* Listed and on the interface (K1 = 0x11...). */
		CHECK(!strcmp(b->name, "bravo"));
		CHECK_EQ(b->role, PROTO_ROLE_EDGE);
		CHECK(b->has_endpoint);
		CHECK_EQ(b->endpoint.port, 51820);
		CHECK(!b->has_handshake);
		CHECK_EQ(b->n_allowed, 1);
		CHECK(b->n_allowed == 1 && b->allowed[0].len == 32 &&
		      !memcmp(b->allowed[0].addr, "\x0a\x42\x00\x02", 4)); /* not secret */
		CHECK_EQ(b->path, AGENT_PATH_NONE);
		CHECK(!b->has_kex); /* no driver in this test */
		/* Listed but not on the interface (K2 is, 0x99... is not). */
		CHECK(!strcmp(c->name, "charlie"));
		CHECK_EQ(c->role, 0);
		CHECK(!c->has_endpoint);
		CHECK(!c->has_handshake);
		CHECK_EQ(c->n_allowed, 0);
		CHECK_EQ(c->rx_bytes, 0);
	}
	/* The interface gone: an error for the client, not an empty document. */
	CHECK(F.ret_gone == -ENOENT || F.ret_gone == -ECONNREFUSED);
	CHECK_EQ(F.gone.n_peers, 0);

	agent_status_reset(&F.up);
	agent_status_reset(&F.gone);
	pthread_mutex_destroy(&F.po.lock);
	wgext_free(F.po.ext);
	uapi_server_free(F.srv);
	loop_free(F.loop);
	wg_dev_free(F.dev);
	rmdir(F.dir);
}

int main(void)
{
	static const struct t_case tc[] = {
		T(test_tunnel_v4), T(test_tunnel_v6_and_edges), T(test_tunnel_allowed_cap),
		T(test_cert_role), T(test_status_over_uapi),
	};

	return t_main("agent-pskonly", tc, SC_ARRAY_SIZE(tc));
}
