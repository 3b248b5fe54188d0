// SPDX-License-Identifier: GPL-2.0-only
/*
 * Arbitrary UDP payloads into a WireGuard device that has a peer and a live
 * session with it. Must never crash, leak or read out of bounds (ASan/UBSan).
 *
 * The first byte picks how the rest is used, so the fuzzer reaches past the
 * cheap checks:
 *   0: the bytes as they are, from the peer's address or another one;
 *   1: the bytes framed as the type their length suggests, with a correct
 *      mac1 (and the type word fixed), so Noise processing runs on them;
 *   2: the bytes as an inner packet that the peer encrypts and sends, so the
 *      receiver's inner-header parsing, source filter and forwarding run;
 *   3: time passes (by the next bytes' value) and the timers run.
 * Whatever the devices send is carried between them, so handshakes, cookie
 * replies and rekeys happen along the way. The clock only moves forward.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/blake2s.h"
#include "wg/cookie.h"
#include "wg/wg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QMAX 64

struct node {
	struct wg_dev *dev;
	struct sc_env env;
	struct wg_sink sink;
	struct wg_endpoint addr;
	uint64_t rng;
	uint8_t pub[32];
	uint8_t q[QMAX][2048];
	size_t qlen[QMAX];
	int nq;
};

static struct node nodes[2];
static struct wg_peer *peer_of[2];
static uint64_t now = 1;
static volatile uint8_t tun_sum;

static uint64_t env_now(void *ctx)
{
	return now;
}

static uint64_t env_wall(void *ctx)
{
	return 1700000000ull * 1000000000ull + now;
}

static int env_random(void *ctx, void *buf, size_t len)
{
	struct node *n = ctx;
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		n->rng = n->rng * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(n->rng >> 56);
	}
	return 0;
}

static void sink_send(void *ctx, struct wg_peer *peer, const struct wg_endpoint *ep,
		      const uint8_t *pkt, size_t len, unsigned int flags)
{
	struct node *n = ctx;

	if (n->nq < QMAX && len <= sizeof(n->q[0])) {
		memcpy(n->q[n->nq], pkt, len);
		n->qlen[n->nq++] = len;
	}
}

static void sink_tun(void *ctx, struct wg_peer *peer, const uint8_t *pkt, size_t len,
		     unsigned int flags)
{
	size_t i;

	/* Touch every byte so ASan sees an out-of-bounds length. */
	for (i = 0; i < len; i++)
		tun_sum ^= pkt[i];
}

static void setup_node(struct node *n, uint8_t id)
{
	uint8_t priv[32];

	n->rng = id;
	n->env = (struct sc_env){ env_now, env_wall, env_random, n };
	n->sink = (struct wg_sink){ .send_udp = sink_send, .deliver_tun = sink_tun, .ctx = n };
	n->dev = wg_dev_new(&n->env);
	if (!n->dev)
		abort();
	memset(priv, id, 32);
	wg_dev_set_private_key(n->dev, priv);
	wg_dev_get_keys(n->dev, NULL, n->pub);
	n->addr.addr.in4.sin_family = AF_INET;
	n->addr.addr.in4.sin_port = htons(51820);
	n->addr.addr.in4.sin_addr.s_addr = htonl(0xc0000200u | id);
	wg_dev_set_forwarding(n->dev, true);
}

static void add_peer(int a, int b, const char *net, uint8_t cidr)
{
	struct wg_allowedip aip = { .family = AF_INET, .cidr = cidr };
	struct wg_peer_config cfg = { 0 };

	inet_pton(AF_INET, net, &aip.addr);
	cfg.flags = WG_PEER_HAS_PUBLIC_KEY | WG_PEER_HAS_ENDPOINT;
	memcpy(cfg.public_key, nodes[b].pub, 32);
	cfg.endpoint = nodes[b].addr;
	cfg.allowedips = &aip;
	cfg.n_allowedips = 1;
	wg_dev_set_peer(nodes[a].dev, now, &cfg, &nodes[a].sink, &peer_of[a]);
}

static void recv_on(int to, const uint8_t *p, size_t len, const struct wg_endpoint *src)
{
	static uint8_t buf[64 + 65536 + 64];
	struct wg_buf b = { buf + 64, len, 64, 64 };

	if (len > 65536)
		return;
	memcpy(buf + 64, p, len);
	wg_dev_recv_udp(nodes[to].dev, now, &b, src, &nodes[to].sink);
}

/* Carry queued datagrams between the two nodes, a bounded number of rounds. */
static void pump(void)
{
	int round, i, k;

	for (round = 0; round < 8; round++) {
		int moved = 0;

		for (i = 0; i < 2; i++) {
			struct node *n = &nodes[i];
			int cnt = n->nq;

			n->nq = 0;
			for (k = 0; k < cnt; k++) {
				static uint8_t tmp[2048];
				size_t l = n->qlen[k];

				memcpy(tmp, n->q[k], l);
				recv_on(1 - i, tmp, l, &n->addr);
				moved++;
			}
		}
		if (!moved)
			break;
	}
}

static void init_once(void)
{
	static int done;
	uint8_t ip[28] = { 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17 };

	if (done)
		return;
	done = 1;
	setup_node(&nodes[0], 1);
	setup_node(&nodes[1], 2);
	add_peer(0, 1, "10.0.0.0", 24);
	add_peer(1, 0, "10.0.0.1", 32);
	/* Bring the session up. */
	inet_pton(AF_INET, "10.0.0.1", ip + 12);
	inet_pton(AF_INET, "10.0.0.2", ip + 16);
	{
		static uint8_t buf[16 + 28 + 64];
		struct wg_buf b = { buf + 16, 28, 16, 64 };

		memcpy(buf + 16, ip, 28);
		wg_dev_send_tun(nodes[0].dev, now, &b, &nodes[0].sink);
	}
	pump();
}

/* Frame p as a handshake message of the type its length fits, with a mac1
 * that node 1 accepts, so the fuzzer's bytes reach the Noise code. */
static void send_framed(const uint8_t *p, size_t n)
{
	static const size_t lens[] = { 148, 92, 64 };
	uint8_t msg[148], key[32];
	struct cry_blake2s s;
	size_t len = lens[n % 3], mac_off;

	memset(msg, 0, sizeof(msg));
	memcpy(msg, p, n < len ? n : len);
	msg[0] = (uint8_t)(1 + n % 3);
	msg[1] = msg[2] = msg[3] = 0;
	if (msg[0] != 3) {
		cry_blake2s_init(&s, 32, NULL, 0);
		cry_blake2s_update(&s, COOKIE_LABEL_MAC1, 8);
		cry_blake2s_update(&s, nodes[1].pub, 32);
		cry_blake2s_final(&s, key);
		mac_off = len - 32;
		cry_blake2s(msg + mac_off, 16, key, 32, msg, mac_off);
	}
	recv_on(1, msg, len, &nodes[0].addr);
}

static void send_inner(const uint8_t *p, size_t n)
{
	static uint8_t buf[16 + 2048 + 64];
	struct wg_buf b = { buf + 16, n, 16, 64 };

	if (n > 2048)
		return;
	memcpy(buf + 16, p, n);
	/* Route by whatever destination the bytes claim; unroutable ones are
	 * dropped, so give most a routable one. */
	if (n >= 20 && (buf[16] >> 4) == 4) {
		buf[16 + 16] = 10, buf[16 + 17] = 0, buf[16 + 18] = 0;
	}
	wg_dev_send_tun(nodes[0].dev, now, &b, &nodes[0].sink);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_endpoint other;
	uint64_t dt;

	init_once();
	if (!size)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if (size > 1 && data[1] & 1) {
			other = nodes[0].addr;
			other.addr.in4.sin_port = htons(9999);
			recv_on(1, data + 1, size - 1, &other);
		} else {
			recv_on(1, data + 1, size - 1, &nodes[0].addr);
		}
		break;
	case 1:
		send_framed(data + 1, size - 1);
		break;
	case 2:
		send_inner(data + 1, size - 1);
		break;
	case 3:
		dt = 0;
		memcpy(&dt, data + 1, size - 1 < 3 ? size - 1 : 3);
		now += dt * 1000000ull; /* up to ~4.6 hours, in ms steps */
		wg_dev_tick(nodes[0].dev, now, &nodes[0].sink);
		wg_dev_tick(nodes[1].dev, now, &nodes[1].sink);
		break;
	}
	pump();
	return 0;
}
