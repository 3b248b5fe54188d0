/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An in-memory network of WireGuard devices for the unit tests: one virtual
 * clock, a deterministic RNG per node, sinks that queue datagrams and TUN
 * packets, and a pump that carries datagrams to the node whose address they
 * are sent to. No sockets, no real time: a 10-minute schedule runs in
 * microseconds.
 */
#ifndef WG_TEST_HARNESS_H
#define WG_TEST_HARNESS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "test.h"

#include "wg/device.h"
#include "wg/wg.h"

#define H_MAXQ	 256
#define H_MAXLOG 2048
#define H_NODES	 8

struct h_dgram {
	uint8_t data[2048];
	size_t len;
	struct wg_endpoint to;
	unsigned int flags;
};

struct h_node {
	const char *name;
	struct wg_dev *dev;
	struct sc_env env;
	struct wg_sink sink;
	uint64_t rng;
	uint64_t wall_offset;
	struct wg_endpoint addr; /* where it receives, and the source it sends from */
	uint8_t priv[32], pub[32];
	struct h_dgram out[H_MAXQ];
	int n_out;
	struct h_dgram tun[H_MAXQ];
	int n_tun;
	int events[4];
	struct {
		uint64_t at;
		size_t len;
		int type;
	} log[H_MAXLOG];
	int n_log;
	bool lossy;  /* what it sends is lost */
	int last_rc; /* of its last wg_dev_recv_udp */
};

static uint64_t h_now;
static struct h_node *h_nodes[H_NODES];
static int h_n_nodes;

static uint64_t h_env_now(void *ctx)
{
	return h_now;
}

static uint64_t h_env_wall(void *ctx)
{
	struct h_node *n = ctx;

	return 1700000000ull * SC_NSEC_PER_SEC + h_now + n->wall_offset;
}

static int h_env_random(void *ctx, void *buf, size_t len)
{
	struct h_node *n = ctx;
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t z = (n->rng += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		p[i] = (uint8_t)(z ^ (z >> 31));
	}
	return 0;
}

static void h_sink_send(void *ctx, struct wg_peer *peer, const struct wg_endpoint *ep,
			const uint8_t *pkt, size_t len, unsigned int flags)
{
	struct h_node *n = ctx;

	if (n->n_log < H_MAXLOG) {
		n->log[n->n_log].at = h_now;
		n->log[n->n_log].len = len;
		n->log[n->n_log].type = (int)wg_get_le32(pkt);
		n->n_log++;
	}
	if (n->lossy || n->n_out >= H_MAXQ || len > sizeof(n->out[0].data))
		return;
	memcpy(n->out[n->n_out].data, pkt, len);
	n->out[n->n_out].len = len;
	n->out[n->n_out].to = *ep;
	n->out[n->n_out].flags = flags;
	n->n_out++;
}

static void h_sink_tun(void *ctx, struct wg_peer *peer, const uint8_t *pkt, size_t len,
		       unsigned int flags)
{
	struct h_node *n = ctx;

	if (n->n_tun >= H_MAXQ || len > sizeof(n->tun[0].data))
		return;
	memcpy(n->tun[n->n_tun].data, pkt, len);
	n->tun[n->n_tun].len = len;
	n->tun[n->n_tun].flags = flags;
	n->n_tun++;
}

static void h_sink_event(void *ctx, struct wg_peer *peer, enum wg_event ev)
{
	((struct h_node *)ctx)->events[ev]++;
}

static void h_set_addr(struct h_node *n, uint8_t last, uint16_t port)
{
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.addr.in4.sin_family = AF_INET;
	n->addr.addr.in4.sin_port = htons(port);
	n->addr.addr.in4.sin_addr.s_addr = htonl(0xc0000200u | last); /* 192.0.2.x */
}

/* A node with private key bytes all `id`, at 192.0.2.id:51820. */
static void h_node_init(struct h_node *n, const char *name, uint8_t id)
{
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->rng = id * 0x100000001b3ull;
	n->env = (struct sc_env){ h_env_now, h_env_wall, h_env_random, n };
	n->sink = (struct wg_sink){
		.send_udp = h_sink_send, .deliver_tun = h_sink_tun, .event = h_sink_event, .ctx = n
	};
	n->dev = wg_dev_new(&n->env);
	memset(n->priv, id, 32);
	CHECK_EQ(wg_dev_set_private_key(n->dev, n->priv), 0);
	CHECK_EQ(wg_dev_get_keys(n->dev, NULL, n->pub), 0);
	h_set_addr(n, id, 51820);
	h_nodes[h_n_nodes++] = n;
}

static void h_reset(void)
{
	int i;

	for (i = 0; i < h_n_nodes; i++)
		wg_dev_free(h_nodes[i]->dev);
	h_n_nodes = 0;
	h_now = 0;
}

/* a's peer for b: endpoint b->addr, allowed IP ip/cidr (may be NULL). */
static struct wg_peer *h_peer(struct h_node *a, struct h_node *b, const char *ip, int cidr)
{
	struct wg_allowedip aip;
	struct wg_peer_config cfg;
	struct wg_peer *p = NULL;

	memset(&cfg, 0, sizeof(cfg));
	memset(&aip, 0, sizeof(aip));
	cfg.flags = WG_PEER_HAS_PUBLIC_KEY | WG_PEER_HAS_ENDPOINT;
	memcpy(cfg.public_key, b->pub, 32);
	cfg.endpoint = b->addr;
	if (ip) {
		aip.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
		inet_pton(aip.family, ip, &aip.addr);
		aip.cidr = (uint8_t)cidr;
		cfg.allowedips = &aip;
		cfg.n_allowedips = 1;
	}
	CHECK_EQ(wg_dev_set_peer(a->dev, h_now, &cfg, &a->sink, &p), 0);
	CHECK(p != NULL);
	return p;
}

static struct h_node *h_find(const struct wg_endpoint *to)
{
	int i;

	for (i = 0; i < h_n_nodes; i++) {
		const struct wg_endpoint *a = &h_nodes[i]->addr;

		if (a->addr.in4.sin_addr.s_addr == to->addr.in4.sin_addr.s_addr &&
		    a->addr.in4.sin_port == to->addr.in4.sin_port)
			return h_nodes[i];
	}
	return NULL;
}

/* Hand bytes to dst as if they came from src's address. */
static int h_inject(struct h_node *dst, const uint8_t *data, size_t len, const struct h_node *src)
{
	static uint8_t buf[64 + 2048 + 64];
	struct wg_buf b = { buf + 64, len, 64, 64 };

	memcpy(buf + 64, data, len);
	dst->last_rc = wg_dev_recv_udp(dst->dev, h_now, &b, &src->addr, &dst->sink);
	return dst->last_rc;
}

/* Deliver the oldest queued datagram of any node; 0 if none was queued. */
static int h_pump_one(void)
{
	struct h_dgram d;
	struct h_node *src, *dst;
	int i;

	for (i = 0; i < h_n_nodes; i++) {
		src = h_nodes[i];
		if (!src->n_out)
			continue;
		d = src->out[0];
		memmove(&src->out[0], &src->out[1], sizeof(d) * (size_t)--src->n_out);
		dst = h_find(&d.to);
		if (dst)
			h_inject(dst, d.data, d.len, src);
		return 1;
	}
	return 0;
}

static void h_pump(void)
{
	int guard = 0;

	while (h_pump_one() && ++guard < 100000)
		;
}

/* Run the clock forward by ns, ticking devices at their deadlines and
 * delivering what they send at once (a zero-latency network). */
static void h_advance(uint64_t ns)
{
	uint64_t target = h_now + ns, next;
	int i, guard = 0;

	h_pump();
	while (++guard < 1000000) {
		next = UINT64_MAX;
		for (i = 0; i < h_n_nodes; i++) {
			uint64_t d = wg_dev_next_deadline(h_nodes[i]->dev);

			if (d < next)
				next = d;
		}
		if (next > target)
			break;
		if (next > h_now)
			h_now = next;
		for (i = 0; i < h_n_nodes; i++)
			wg_dev_tick(h_nodes[i]->dev, h_now, &h_nodes[i]->sink);
		h_pump();
	}
	h_now = target;
}

/* An IPv4 packet of total length 20 + payload; returns its length. */
static size_t h_ip4(uint8_t *p, const char *src, const char *dst, size_t payload, uint8_t fill)
{
	uint32_t sum = 0;
	size_t len = 20 + payload, i;

	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	p[10] = (uint8_t)(~sum >> 8);
	p[11] = (uint8_t)~sum;
	memset(p + 20, fill, payload);
	return len;
}

static size_t h_ip6(uint8_t *p, const char *src, const char *dst, size_t payload, uint8_t fill)
{
	memset(p, 0, 40);
	p[0] = 0x60;
	p[4] = (uint8_t)(payload >> 8);
	p[5] = (uint8_t)payload;
	p[6] = 17;
	p[7] = 64;
	inet_pton(AF_INET6, src, p + 8);
	inet_pton(AF_INET6, dst, p + 24);
	memset(p + 40, fill, payload);
	return 40 + payload;
}

/* Send an inner packet into n's device as if read from its TUN. */
static int h_send(struct h_node *n, const uint8_t *pkt, size_t len)
{
	static uint8_t buf[16 + 2048 + 64];
	struct wg_buf b = { buf + 16, len, 16, 64 };

	memcpy(buf + 16, pkt, len);
	return wg_dev_send_tun(n->dev, h_now, &b, &n->sink);
}

static int h_count_log(const struct h_node *n, int type)
{
	int i, c = 0;

	for (i = 0; i < n->n_log; i++)
		c += n->log[i].type == type;
	return c;
}

static bool h_has_session(const struct wg_peer *p)
{
	struct wg_peer_info info;

	wg_peer_get_info(p, &info);
	return info.has_session;
}

#endif
