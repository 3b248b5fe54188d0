// SPDX-License-Identifier: GPL-2.0-only
/*
 * The UAPI request processor: `get` bytes exactly as wireguard-go writes
 * them, `set` round trips for every key, the semantics of replace_peers,
 * remove, update_only and replace_allowed_ips, framing, and every refusal,
 * each checked to leave the `get` output byte-identical (all-or-nothing).
 */
#include <errno.h>

#include "common/encode.h"
#include "crypto/x25519.h"
#include "io/endpoint.h"
#include "uapi/limits.h"
#include "uapi/uapi.h"
/* The in-memory network of the wg tests, for a peer with a live session. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "wg/harness.h"

/* ---- fixtures ---------------------------------------------------------- */

/* The device around the core, as the host callbacks see it. */
struct fake_host {
	uint16_t port;
	uint32_t mark;
	int fail_port, fail_mark; /* errno the setters return, 0: succeed */
	int port_calls, mark_calls;
};

static uint16_t fh_port(void *ctx)
{
	return ((struct fake_host *)ctx)->port;
}

static int fh_set_port(void *ctx, uint16_t port)
{
	struct fake_host *h = ctx;

	h->port_calls++;
	if (h->fail_port)
		return h->fail_port;
	h->port = port ? port : 40000; /* 0: "any free port" */
	return 0;
}

static uint32_t fh_mark(void *ctx)
{
	return ((struct fake_host *)ctx)->mark;
}

static int fh_set_mark(void *ctx, uint32_t mark)
{
	struct fake_host *h = ctx;

	h->mark_calls++;
	if (h->fail_mark)
		return h->fail_mark;
	h->mark = mark;
	return 0;
}

static struct fake_host fh;
static struct uapi_host host = { fh_port, fh_set_port, fh_mark, fh_set_mark, &fh };
static struct h_node N;

static struct wg_dev *fresh(void)
{
	h_reset();
	h_node_init(&N, "N", 7);
	/* No key: the request under test sets one if it wants. */
	CHECK_EQ(wg_dev_set_private_key(N.dev, (const uint8_t[32]){ 0 }), 0);
	memset(&fh, 0, sizeof(fh));
	return N.dev;
}

/* Run one request; the reply as a NUL-terminated heap string. */
static char *run(struct wg_dev *dev, const char *req, size_t len, int *status)
{
	struct uapi_reply r;
	char *s;
	int ret;

	uapi_reply_init(&r);
	ret = uapi_handle(dev, &host, h_now, NULL, req, len, &r);
	if (status)
		*status = ret;
	s = malloc(r.len + 1);
	memcpy(s, r.buf ? r.buf : "", r.len);
	s[r.len] = '\0';
	uapi_reply_free(&r);
	return s;
}

static int set(struct wg_dev *dev, const char *req)
{
	int ret;
	char *s = run(dev, req, strlen(req), &ret);
	char want[32];

	snprintf(want, sizeof(want), "errno=%d\n\n", ret);
	CHECK(strcmp(s, want) == 0);
	free(s);
	return ret;
}

static char *get(struct wg_dev *dev)
{
	int ret;
	char *s = run(dev, "get=1\n\n", 7, &ret);

	CHECK_EQ(ret, 0);
	return s;
}

static void check_get(struct wg_dev *dev, const char *want)
{
	char *s = get(dev);

	if (strcmp(s, want) != 0)
		fprintf(stderr, "# get:\n%s# want:\n%s", s, want);
	CHECK(strcmp(s, want) == 0);
	free(s);
}

static void hex(char *out, const uint8_t *k)
{
	sc_hex_encode(out, k, 32);
}

#define K1 "1111111111111111111111111111111111111111111111111111111111111111"
#define K2 "2222222222222222222222222222222222222222222222222222222222222222"
#define K3 "3333333333333333333333333333333333333333333333333333333333333333"
#define KS "5555555555555555555555555555555555555555555555555555555555555555"
#define K0 "0000000000000000000000000000000000000000000000000000000000000000"

/* The lines of a peer that never shook hands. */
#define PEER_HEAD(pub, psk) "public_key=" pub "\npreshared_key=" psk "\nprotocol_version=1\n"
#define PEER_STATS(ka)                                                                    \
	"last_handshake_time_sec=0\nlast_handshake_time_nsec=0\ntx_bytes=0\nrx_bytes=0\n" \
	"persistent_keepalive_interval=" ka "\n"

/* ---- get --------------------------------------------------------------- */

static void test_get_empty(void)
{
	struct wg_dev *dev = fresh();

	check_get(dev, "errno=0\n\n");
	fh.port = 51820;
	fh.mark = 0;
	check_get(dev, "listen_port=51820\nerrno=0\n\n");
	fh.mark = 7;
	check_get(dev, "listen_port=51820\nfwmark=7\nerrno=0\n\n");
	/* No host at all: nothing to print, and nothing to set. */
	{
		struct uapi_reply r = { 0 };

		CHECK_EQ(uapi_handle(dev, NULL, 0, NULL, "get=1\n\n", 7, &r), 0);
		CHECK_EQ(r.len, 9);
		CHECK_MEM(r.buf, "errno=0\n\n", 9);
		uapi_reply_free(&r);
		CHECK_EQ(uapi_handle(dev, NULL, 0, NULL, "set=1\nlisten_port=1\n\n", 21, &r),
			 -EOPNOTSUPP);
		uapi_reply_free(&r);
	}
	h_reset();
}

#define ROUNDTRIP                                                                     \
	"set=1\nprivate_key=%s\nlisten_port=51820\nfwmark=4660\nreplace_peers=true\n" \
	"public_key=" K1 "\npreshared_key=" KS "\nendpoint=192.0.2.1:51820\n"         \
	"persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"                \
	"allowed_ip=10.0.0.0/24\nallowed_ip=2001:db8::/64\nprotocol_version=1\n"      \
	"public_key=" K2 "\nendpoint=[2001:db8::2]:443\nallowed_ip=10.0.1.7/32\n%s\n"

/* Every key of set, and get's answer byte for byte. */
static void test_set_get_roundtrip(void)
{
	struct wg_dev *dev = fresh();
	uint8_t priv[32], clamped[32];
	char ph[65], ch[65], req[2048], want[2048];

	memset(priv, 0xff, sizeof(priv));
	memcpy(clamped, priv, 32);
	cry_x25519_clamp(clamped);
	hex(ph, priv);
	hex(ch, clamped);
	/* update_only=false is refused (only "true" is a value), and with it
	 * the whole request. */
	snprintf(req, sizeof(req), ROUNDTRIP, ph, "update_only=false\n");
	CHECK_EQ(set(dev, req), -EINVAL);
	check_get(dev, "errno=0\n\n");
	snprintf(req, sizeof(req), ROUNDTRIP, ph, "");
	CHECK_EQ(set(dev, req), 0);
	snprintf(
		want, sizeof(want),
		"private_key=%s\nlisten_port=51820\nfwmark=4660\n" PEER_HEAD(
			K1,
			KS) "endpoint=192.0.2.1:51820\n" PEER_STATS("25") "allowed_ip=10.0.0.0/"
									  "24\nallowed_ip=2001:db8:"
									  ":/64\n" PEER_HEAD(
										  K2,
										  K0) "e"
										      "n"
										      "d"
										      "p"
										      "o"
										      "i"
										      "n"
										      "t"
										      "="
										      "["
										      "2"
										      "0"
										      "0"
										      "1"
										      ":"
										      "d"
										      "b"
										      "8"
										      ":"
										      ":"
										      "2"
										      "]"
										      ":"
										      "4"
										      "4"
										      "3"
										      "\n" PEER_STATS(
											      "0") "allowed_ip=10.0.1.7/32\nerrno=0\n\n",
		ch);
	check_get(dev, want);
	CHECK_EQ(fh.port, 51820);
	CHECK_EQ(fh.mark, 4660);

	/* Setting what is already set changes nothing, and the host is not
	 * asked to rebind for an unchanged port or mark. */
	fh.port_calls = fh.mark_calls = 0;
	CHECK_EQ(set(dev, "set=1\nlisten_port=51820\nfwmark=4660\n\n"), 0);
	CHECK_EQ(fh.port_calls, 0);
	CHECK_EQ(fh.mark_calls, 0);
	check_get(dev, want);
	/* Port 0 always asks (any free port); fwmark 0 clears and is not printed. */
	CHECK_EQ(set(dev, "set=1\nlisten_port=0\nfwmark=0\n\n"), 0);
	CHECK_EQ(fh.port_calls, 1);
	CHECK_EQ(fh.port, 40000);
	CHECK_EQ(fh.mark, 0);
	/* A zero private key removes it; a zero PSK removes the PSK. */
	CHECK_EQ(set(dev, "set=1\nprivate_key=" K0 "\npublic_key=" K1 "\npreshared_key=" K0
			  "\npersistent_keepalive_interval=0\n\n"),
		 0);
	snprintf(
		want, sizeof(want),
		"listen_port=40000\n" PEER_HEAD(K1, K0) "endpoint=192.0.2.1:51820\n" PEER_STATS("0") "allowed_ip=10.0.0.0/24\nallowed_ip=2001:db8::/64\n" PEER_HEAD(
			K2, K0) "endpoint=[2001:db8::2]:443\n" PEER_STATS("0") "allowed_ip=10.0.1."
									       "7/32\n"
									       "errno=0\n\n");
	check_get(dev, want);
	/* An empty set is fine. */
	CHECK_EQ(set(dev, "set=1\n\n"), 0);
	check_get(dev, want);
	h_reset();
}

/* Go's netip formatting of addresses, which wireguard-go prints. */
static void test_get_formats(void)
{
	struct wg_dev *dev = fresh();

	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\nendpoint=[FE80::1:0:0:1%3]:1\n"
			  "allowed_ip=2001:DB8:0:0:1:0:0:0/64\n"
			  "allowed_ip=2001:db8:0:0:1::1/128\n"
			  "allowed_ip=2001:0:0:1:0:0:0:1/128\n"
			  "allowed_ip=0:1:0:1:0:1:0:1/128\n"
			  "allowed_ip=::ffff:10.0.0.0/104\n"
			  "allowed_ip=::1.2.3.4/128\n"
			  "allowed_ip=::/0\nallowed_ip=::1/128\nallowed_ip=1::/16\n"
			  "allowed_ip=10.1.2.3/8\nallowed_ip=0.0.0.0/0\nallowed_ip=10.1.2.3/31\n"
			  "allowed_ip=ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/9\n"
			  "public_key=" K2 "\nendpoint=[::ffff:198.51.100.7]:65535\n"
			  "public_key=" K3 "\nendpoint=[2001:db8::1]:51820\n\n"),
		 0);
	check_get(
		dev,
		PEER_HEAD(K1, K0) "endpoint=[fe80::1:0:0:1%3]:1\n" PEER_STATS(
			"0") "allowed_ip=2001:db8::/64\n"
			     "allowed_ip=2001:db8::1:0:0:1/128\n"
			     "allowed_ip=2001:0:0:1::1/128\n"
			     "allowed_ip=0:1:0:1:0:1:0:1/128\n"
			     "allowed_ip=::ffff:10.0.0.0/104\n"
			     "allowed_ip=::102:304/128\n"
			     "allowed_ip=::/0\nallowed_ip=::1/128\nallowed_ip=1::/16\n"
			     "allowed_ip=10.0.0.0/8\nallowed_ip=0.0.0.0/0\nallowed_ip=10.1.2.2/31\n"
			     "allowed_ip=80::/9\n" PEER_HEAD(K2, K0)
		/* v4-mapped endpoints are stored as IPv4 (io/endpoint.h) */
		"endpoint=198.51.100.7:65535\n" PEER_STATS("0") PEER_HEAD(
			K3, K0) "endpoint=[2001:db8::1]:51820\n" PEER_STATS("0") "errno=0\n\n");
	/* Keys in either case in, lowercase out; numbers with leading zeros in,
	 * as Go's ParseUint takes them. */
	CHECK_EQ(set(dev, "set=1\nlisten_port=00080\npublic_key=" K1 "\npreshared_key="
			  "ABCDEFabcdef0123456789ABCDEFabcdef0123456789ABCDEFabcdef01234567\n"
			  "persistent_keepalive_interval=065535\n\n"),
		 0);
	{
		char *s = get(dev);

		CHECK(strstr(s, "listen_port=80\n") == s);
		CHECK(strstr(s,
			     "preshared_key=abcdefabcdef0123456789abcdefabcdef0123456789abcdefabcd"
			     "ef01234567\n") != NULL);
		CHECK(strstr(s, "persistent_keepalive_interval=65535\n") != NULL);
		free(s);
	}
	h_reset();
}

/* A peer with a session: handshake time and byte counters. */
static void test_get_live_peer(void)
{
	struct h_node B;
	struct wg_peer_info info;
	struct wg_peer *pn;
	uint8_t pkt[256];
	char *s, want[256];

	h_reset();
	h_node_init(&N, "N", 7);
	h_node_init(&B, "B", 8);
	pn = h_peer(&N, &B, "10.0.0.2", 32);
	h_peer(&B, &N, "10.0.0.1", 32);
	h_advance(1234567891);
	h_send(&N, pkt, h_ip4(pkt, "10.0.0.1", "10.0.0.2", 100, 1));
	h_pump();
	h_send(&B, pkt, h_ip4(pkt, "10.0.0.2", "10.0.0.1", 10, 1));
	h_pump();
	wg_peer_get_info(pn, &info);
	CHECK(info.has_session);
	CHECK(info.tx_bytes > 0 && info.rx_bytes > 0);
	s = get(N.dev);
	snprintf(want, sizeof(want),
		 "endpoint=192.0.2.8:51820\nlast_handshake_time_sec=%llu\n"
		 "last_handshake_time_nsec=%llu\ntx_bytes=%llu\nrx_bytes=%llu\n",
		 (unsigned long long)(info.last_handshake_ns / SC_NSEC_PER_SEC),
		 (unsigned long long)(info.last_handshake_ns % SC_NSEC_PER_SEC),
		 (unsigned long long)info.tx_bytes, (unsigned long long)info.rx_bytes);
	CHECK(strstr(s, want) != NULL);
	CHECK(info.last_handshake_ns % SC_NSEC_PER_SEC != 0); /* both parts are shown */
	CHECK(strncmp(s, "private_key=0707070707", 22) != 0); /* clamped: 00 first */
	CHECK(strncmp(s, "private_key=00070707", 20) == 0);
	free(s);
	h_reset();
}

/* ---- set semantics ----------------------------------------------------- */

static void test_replace_peers(void)
{
	struct wg_dev *dev = fresh();

	CHECK_EQ(
		set(dev, "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.1/32\npublic_key=" K2 "\n\n"),
		0);
	CHECK_EQ(set(dev, "set=1\nreplace_peers=true\npublic_key=" K3 "\n\n"), 0);
	check_get(dev, PEER_HEAD(K3, K0) PEER_STATS("0") "errno=0\n\n");
	/* A peer taken over keeps its settings only if named again. */
	CHECK_EQ(set(dev, "set=1\nreplace_peers=true\n\n"), 0);
	check_get(dev, "errno=0\n\n");
	CHECK_EQ(set(dev, "set=1\nreplace_peers=true\nreplace_peers=true\n\n"), 0);
	h_reset();
}

static void test_remove(void)
{
	struct wg_dev *dev = fresh();

	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.1/32\npublic_key=" K2
			  "\nallowed_ip=10.0.0.2/32\n\n"),
		 0);
	/* remove wins wherever it stands in the block; lines after it are
	 * still validated. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.9/32\nremove=true\n"
			  "endpoint=192.0.2.1:1\n\n"),
		 0);
	check_get(dev, PEER_HEAD(K2, K0) PEER_STATS("0") "allowed_ip=10.0.0.2/32\nerrno=0\n\n");
	/* Removing an unknown peer is not an error. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K3 "\nremove=true\n\n"), 0);
	/* Remove, then the same key again: a new peer, nothing kept. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K2 "\nremove=true\npublic_key=" K2
			  "\nallowed_ip=10.0.0.3/32\n\n"),
		 0);
	check_get(dev, PEER_HEAD(K2, K0) PEER_STATS("0") "allowed_ip=10.0.0.3/32\nerrno=0\n\n");
	h_reset();
}

static void test_update_only(void)
{
	struct wg_dev *dev = fresh();

	/* An unknown peer is not created, wherever update_only stands. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.1/32\nupdate_only=true\n\n"),
		 0);
	check_get(dev, "errno=0\n\n");
	/* A known one is updated, lines before update_only included. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\n\n"), 0);
	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\npersistent_keepalive_interval=5\n"
			  "update_only=true\nallowed_ip=10.0.0.1/32\n\n"),
		 0);
	check_get(dev, PEER_HEAD(K1, K0) PEER_STATS("5") "allowed_ip=10.0.0.1/32\nerrno=0\n\n");
	/* Created by an earlier block of the same request: it exists. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K2 "\npublic_key=" K2
			  "\nupdate_only=true\nallowed_ip=10.0.0.2/32\n\n"),
		 0);
	check_get(dev, PEER_HEAD(K1, K0) PEER_STATS("5") "allowed_ip=10.0.0.1/32\n" PEER_HEAD(
			       K2, K0) PEER_STATS("0") "allowed_ip=10.0.0.2/32\nerrno=0\n\n");
	h_reset();
}

static void test_replace_allowed_ips(void)
{
	struct wg_dev *dev = fresh();

	CHECK_EQ(set(dev,
		     "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.1/32\nallowed_ip=10.0.0.2/32\n"
		     "public_key=" K2 "\nallowed_ip=10.0.0.3/32\n\n"),
		 0);
	/* Allowed IPs add up without replace_allowed_ips. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.4/32\n\n"), 0);
	/* replace_allowed_ips drops the old ones and those before it in the block. */
	CHECK_EQ(set(dev,
		     "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.5/32\nreplace_allowed_ips=true"
		     "\nallowed_ip=10.0.0.6/32\n\n"),
		 0);
	check_get(dev, PEER_HEAD(K1, K0) PEER_STATS("0") "allowed_ip=10.0.0.6/32\n" PEER_HEAD(
			       K2, K0) PEER_STATS("0") "allowed_ip=10.0.0.3/32\nerrno=0\n\n");
	/* A prefix moves from one peer to another; re-adding keeps its place. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.3/32\nallowed_ip=10.0.0.6/32"
			  "\n\n"),
		 0);
	check_get(dev, PEER_HEAD(K1, K0) PEER_STATS("0") "allowed_ip=10.0.0.6/32\nallowed_ip="
							 "10.0.0.3/32\n" PEER_HEAD(K2, K0)
								 PEER_STATS("0") "errno=0\n\n");
	/* Removal of one prefix ("-", newer wireguard-tools); absent ones are fine. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\nallowed_ip=-10.0.0.6/32\n"
			  "allowed_ip=-10.9.9.9/32\nallowed_ip=-10.0.0.3/24\n\n"),
		 0);
	check_get(dev, PEER_HEAD(K1, K0) PEER_STATS("0") "allowed_ip=10.0.0.3/32\n" PEER_HEAD(
			       K2, K0) PEER_STATS("0") "errno=0\n\n");
	/* Replace with nothing empties. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\nreplace_allowed_ips=true\n\n"), 0);
	check_get(dev, PEER_HEAD(K1, K0) PEER_STATS("0") PEER_HEAD(K2, K0)
			       PEER_STATS("0") "errno=0\n\n");
	h_reset();
}

/* A peer with our own public key is ignored; a private key equal to a
 * peer's removes that peer (wireguard-go and Linux). */
static void test_own_key(void)
{
	struct wg_dev *dev = fresh();
	uint8_t priv[32], pub[32];
	char ph[65], pubh[65], req[512];

	memset(priv, 0x42, sizeof(priv));
	CHECK_EQ(cry_x25519_pubkey(pub, priv), 0);
	hex(ph, priv);
	hex(pubh, pub);
	snprintf(req, sizeof(req), "set=1\npublic_key=%s\npublic_key=" K1 "\n\n", pubh);
	CHECK_EQ(set(dev, req), 0);
	CHECK_EQ(wg_dev_peer_count(dev), 2);
	snprintf(req, sizeof(req), "set=1\nprivate_key=%s\n\n", ph);
	CHECK_EQ(set(dev, req), 0);
	CHECK_EQ(wg_dev_peer_count(dev), 1);
	snprintf(req, sizeof(req), "set=1\npublic_key=%s\nallowed_ip=10.0.0.1/32\n\n", pubh);
	CHECK_EQ(set(dev, req), 0);
	CHECK_EQ(wg_dev_peer_count(dev), 1);
	CHECK(wg_dev_find_peer(dev, pub) == NULL);
	h_reset();
}

/* ---- refusals ---------------------------------------------------------- */

struct refusal {
	const char *req;
	int err;
};

static const struct refusal refusals[] = {
	/* framing and syntax */
	{ "set=1\nfwmark=1\n", -EINVAL },		  /* no final empty line */
	{ "set=1\nfwmark=1", -EINVAL },			  /* not even a newline */
	{ "set=1\nfwmark=1\n\nget=1\n\n", -EINVAL },	  /* bytes after the end */
	{ "set=1\nfwmark\n\n", -EPROTO },		  /* no '=' */
	{ "set=1\nfwmark=1\r\n\n", -EINVAL },		  /* CR is not stripped */
	{ "set=1\n=1\n\n", -EINVAL },			  /* empty key */
	{ "set=1\nFWMARK=1\n\n", -EINVAL },		  /* keys are case-sensitive */
	{ "set=1\nbogus=1\n\n", -EINVAL },		  /* unknown device key */
	{ "set=1\nlisten_port=1\nbogus=1\n\n", -EINVAL }, /* ... after a good line */
	{ "set=1\nendpoint=192.0.2.1:1\n\n", -EINVAL },	  /* peer key before public_key */
	{ "set=1\nprotocol_version=1\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nlisten_port=1\n\n", -EINVAL }, /* device key in a peer */
	{ "set=1\npublic_key=" K1 "\nbogus=1\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.1/32\npublic_key=" K2 "\nbogus=\n\n",
	  -EINVAL },
	/* keys */
	{ "set=1\nprivate_key=ERERERERERERERERERERERERERERERERERERERERERE=\n\n",
	  -EINVAL }, /* b64 */
	{ "set=1\npublic_key=ERERERERERERERERERERERERERERERERERERERERERE=\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "1\n\n", -EINVAL }, /* 65 digits */
	{ "set=1\npublic_key=111111111111111111111111111111111111111111111111111111111111111\n\n",
	  -EINVAL },
	{ "set=1\npublic_key=111111111111111111111111111111111111111111111111111111111111111g\n\n",
	  -EINVAL },
	{ "set=1\npublic_key=\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\npreshared_key=" K1 " \n\n", -EINVAL },
	{ "set=1\nprivate_key= " K1 "\n\n", -EINVAL },
	/* numbers */
	{ "set=1\nlisten_port=65536\n\n", -EINVAL },
	{ "set=1\nlisten_port=-1\n\n", -EINVAL },
	{ "set=1\nlisten_port=+1\n\n", -EINVAL },
	{ "set=1\nlisten_port=\n\n", -EINVAL },
	{ "set=1\nlisten_port=0x10\n\n", -EINVAL },
	{ "set=1\nlisten_port=1 \n\n", -EINVAL },
	{ "set=1\nfwmark=4294967296\n\n", -EINVAL },
	{ "set=1\nfwmark=99999999999999999999999\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\npersistent_keepalive_interval=65536\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nprotocol_version=2\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nprotocol_version=\n\n", -EINVAL },
	/* booleans */
	{ "set=1\nreplace_peers=false\n\n", -EINVAL },
	{ "set=1\nreplace_peers=1\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nremove=1\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nupdate_only=TRUE\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nreplace_allowed_ips=\n\n", -EINVAL },
	/* endpoints */
	{ "set=1\npublic_key=" K1 "\nendpoint=192.0.2.1\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nendpoint=192.0.2.1:0\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nendpoint=192.0.2.1:65536\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nendpoint=localhost:51820\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nendpoint=2001:db8::1:51820\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nendpoint=[2001:db8::1]\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nendpoint=[fe80::1%eth0]:1\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nendpoint=\n\n", -EINVAL },
	/* allowed IPs */
	{ "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.1\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.1/33\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=::/129\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.0/08\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.0/+8\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.0/\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=/8\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=010.0.0.0/8\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0/8\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=fe80::%1/64\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.0/8/8\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=--10.0.0.0/8\n\n", -EINVAL },
	{ "set=1\npublic_key=" K1 "\nallowed_ip=10.0.0.0/8,10.1.0.0/16\n\n", -EINVAL },
	/* unknown operations and a bad get are not set */
	{ "get=1\nfwmark=1\n\n", -EINVAL },
};

/* A device with a bit of everything, to see that refusals change nothing. */
static void populate(struct wg_dev *dev)
{
	CHECK_EQ(set(dev, "set=1\nprivate_key=" K3 "\nlisten_port=51820\nfwmark=9\npublic_key=" K1
			  "\npreshared_key=" KS "\nendpoint=192.0.2.1:1\n"
			  "persistent_keepalive_interval=7\nallowed_ip=10.0.0.0/8\npublic_key=" K2
			  "\nallowed_ip=2001:db8::/32\n\n"),
		 0);
}

static void test_refusals_change_nothing(void)
{
	struct wg_dev *dev = fresh();
	char *before, *after, *reply, want[32];
	size_t i;
	int ret;

	populate(dev);
	before = get(dev);
	for (i = 0; i < SC_ARRAY_SIZE(refusals); i++) {
		/* Each prefixed by lines that would change things if applied. */
		char req[1024];
		const char *r = refusals[i].req;

		if (strncmp(r, "set=1\n", 6) == 0)
			snprintf(req, sizeof(req),
				 "set=1\nlisten_port=1\nfwmark=2\nreplace_peers=true\n%s", r + 6);
		else
			snprintf(req, sizeof(req), "%s", r);
		fh.port_calls = fh.mark_calls = 0;
		reply = run(dev, req, strlen(req), &ret);
		snprintf(want, sizeof(want), "errno=%d\n\n", refusals[i].err);
		if (ret != refusals[i].err || strcmp(reply, want) != 0)
			fprintf(stderr, "# refusal %zu: %s-> %d\n", i, r, ret);
		CHECK_EQ(ret, refusals[i].err);
		CHECK(strcmp(reply, want) == 0);
		CHECK_EQ(fh.port_calls + fh.mark_calls, 0);
		free(reply);
		after = get(dev);
		CHECK(strcmp(before, after) == 0);
		free(after);
	}
	free(before);
	h_reset();
}

/* A NUL inside a value must not cut it short ("1\0junk" is not "1"). */
static void test_nul_bytes(void)
{
	static const char req[] = "set=1\nfwmark=1\0junk\n\n";
	struct wg_dev *dev = fresh();
	int ret;
	char *s = run(dev, req, sizeof(req) - 1, &ret);

	CHECK_EQ(ret, -EINVAL);
	free(s);
	CHECK_EQ(fh.mark, 0);
	s = run(dev, "get=1\n\0", 7, &ret);
	CHECK_EQ(ret, -EINVAL);
	free(s);
	h_reset();
}

/* The host refuses listen_port or fwmark: nothing changes. */
static void test_host_failure(void)
{
	struct wg_dev *dev = fresh();
	char *before, *after;

	populate(dev);
	before = get(dev);
	fh.port_calls = fh.mark_calls = 0;
	fh.fail_port = -EADDRINUSE;
	CHECK_EQ(set(dev, "set=1\nprivate_key=" K1 "\nlisten_port=2\nfwmark=3\nreplace_peers=true\n"
			  "\n"),
		 -EADDRINUSE);
	CHECK_EQ(fh.mark_calls, 0);
	after = get(dev);
	CHECK(strcmp(before, after) == 0);
	free(after);
	/* fwmark fails after the port changed: the port is put back. */
	fh.fail_port = 0;
	fh.fail_mark = -EPERM;
	fh.port_calls = 0;
	CHECK_EQ(set(dev, "set=1\nprivate_key=" K1 "\nlisten_port=2\nfwmark=3\nreplace_peers=true\n"
			  "\n"),
		 -EPERM);
	CHECK_EQ(fh.port_calls, 2);
	CHECK_EQ(fh.port, 51820);
	after = get(dev);
	CHECK(strcmp(before, after) == 0);
	free(after);
	/* A host that answers nonsense is reported as -EIO. */
	fh.fail_mark = 5;
	CHECK_EQ(set(dev, "set=1\nfwmark=3\n\n"), -EIO);
	free(before);
	h_reset();
}

/* ---- caps -------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void peer_key(char out[65], uint32_t i)
{
	uint8_t k[32] = { 0 };

	/* The device hashes a key's first bytes: make them differ. */
	k[0] = (uint8_t)i;
	k[1] = (uint8_t)(i >> 8);
	k[2] = (uint8_t)(i >> 16);
	k[3] = (uint8_t)(i >> 24);
	k[31] = 0xaa;
	hex(out, k);
}

static int run_sb(struct wg_dev *dev, struct sbuf *b)
{
	int ret;
	char *s = run(dev, b->p, b->len, &ret);

	free(s);
	free(b->p);
	memset(b, 0, sizeof(*b));
	return ret;
}

/* Over a cap of one request: -E2BIG, nothing applied. */
static void test_request_caps(void)
{
	struct wg_dev *dev = fresh();
	struct sbuf b = { 0 };
	char line[UAPI_MAX_LINE + 64], key[65];
	uint32_t i;

	/* Bytes. */
	b.cap = UAPI_MAX_REQUEST + 16;
	b.p = malloc(b.cap);
	memset(b.p, '\n', b.cap);
	memcpy(b.p, "set=1\nfwmark=1\n", 15);
	b.len = UAPI_MAX_REQUEST + 1;
	CHECK_EQ(run_sb(dev, &b), -E2BIG);
	/* Lines up to UAPI_MAX_LINE bytes (leading zeros make any length valid). */
	memset(line, '0', sizeof(line));
	memcpy(line, "fwmark=", 7);
	line[UAPI_MAX_LINE - 1] = '1';
	line[UAPI_MAX_LINE] = '\0';
	sb_add(&b, "set=1\n");
	sb_add(&b, line);
	sb_add(&b, "\n\n");
	CHECK_EQ(run_sb(dev, &b), 0);
	CHECK_EQ(fh.mark, 1);
	line[UAPI_MAX_LINE - 1] = '0';
	line[UAPI_MAX_LINE] = '2';
	line[UAPI_MAX_LINE + 1] = '\0';
	sb_add(&b, "set=1\n");
	sb_add(&b, line);
	sb_add(&b, "\n\n");
	CHECK_EQ(run_sb(dev, &b), -EINVAL);
	CHECK_EQ(fh.mark, 1);
	CHECK_EQ(set(dev, "set=1\nfwmark=0\n\n"), 0);
	/* Lines. */
	sb_add(&b, "set=1\npublic_key=" K1 "\n");
	for (i = 0; i < UAPI_MAX_LINES; i++)
		sb_add(&b, "remove=true\n");
	sb_add(&b, "\n");
	CHECK_EQ(run_sb(dev, &b), -E2BIG);
	/* Peer blocks. */
	sb_add(&b, "set=1\n");
	for (i = 0; i <= UAPI_MAX_PEERS; i++) {
		peer_key(key, i);
		snprintf(line, sizeof(line), "public_key=%s\n", key);
		sb_add(&b, line);
	}
	sb_add(&b, "\n");
	CHECK_EQ(run_sb(dev, &b), -E2BIG);
	/* Allowed IPs. */
	sb_add(&b, "set=1\npublic_key=" K1 "\n");
	for (i = 0; i <= UAPI_MAX_ALLOWEDIPS; i++) {
		snprintf(line, sizeof(line), "allowed_ip=10.%u.%u.%u/32\n", i >> 16 & 255,
			 i >> 8 & 255, i & 255);
		sb_add(&b, line);
	}
	sb_add(&b, "\n");
	CHECK_EQ(run_sb(dev, &b), -E2BIG);
	CHECK_EQ(wg_dev_peer_count(dev), 0);
	check_get(dev, "errno=0\n\n");
	h_reset();
}

/* A request that would push the device past WG_MAX_PEERS or
 * WG_MAX_ALLOWEDIPS on the way is refused whole (-ENOSPC), where
 * wg_dev_set_peer would have failed halfway; one that stays within them at
 * every step is applied, even from a full device. */
static void test_device_caps(void)
{
	struct wg_dev *dev = fresh();
	struct sbuf b = { 0 };
	char line[256], key[65], *before, *after;
	uint32_t i;

	/* Fill the peer table (no private key: no DH per peer). */
	sb_add(&b, "set=1\n");
	for (i = 0; i < WG_MAX_PEERS; i++) {
		peer_key(key, i);
		snprintf(line, sizeof(line), "public_key=%s\n", key);
		sb_add(&b, line);
	}
	sb_add(&b, "\n");
	CHECK_EQ(run_sb(dev, &b), 0);
	CHECK_EQ(wg_dev_peer_count(dev), WG_MAX_PEERS);
	before = get(dev);
	/* One more, after a change that would be applied first. */
	peer_key(key, WG_MAX_PEERS);
	snprintf(line, sizeof(line), "set=1\nfwmark=5\npublic_key=" K1 "\npublic_key=%s\n\n", key);
	CHECK_EQ(set(dev, line), -ENOSPC);
	after = get(dev);
	CHECK(strcmp(before, after) == 0);
	free(after);
	/* Remove one, then add one: within the cap at every step. */
	peer_key(key, 0);
	snprintf(line, sizeof(line), "set=1\npublic_key=%s\nremove=true\npublic_key=" K1 "\n\n",
		 key);
	CHECK_EQ(set(dev, line), 0);
	CHECK_EQ(wg_dev_peer_count(dev), WG_MAX_PEERS);
	/* Add first, then remove: over the cap in between. */
	peer_key(key, 1);
	snprintf(line, sizeof(line), "set=1\npublic_key=" K2 "\npublic_key=%s\nremove=true\n\n",
		 key);
	CHECK_EQ(set(dev, line), -ENOSPC);
	/* update_only and known peers do not count. */
	snprintf(line, sizeof(line),
		 "set=1\npublic_key=" K2 "\nupdate_only=true\npublic_key=%s\n\n", key);
	CHECK_EQ(set(dev, line), 0);
	free(before);

	/* Allowed IPs: fill the table through one peer. */
	CHECK_EQ(set(dev, "set=1\nreplace_peers=true\n\n"), 0);
	sb_add(&b, "set=1\npublic_key=" K1 "\n");
	for (i = 0; i < WG_MAX_ALLOWEDIPS; i++) {
		snprintf(line, sizeof(line), "allowed_ip=10.%u.%u.%u/32\n", i >> 16 & 255,
			 i >> 8 & 255, i & 255);
		sb_add(&b, line);
	}
	sb_add(&b, "\n");
	CHECK_EQ(run_sb(dev, &b), 0);
	CHECK_EQ(set(dev, "set=1\npublic_key=" K2 "\nallowed_ip=192.0.2.0/24\n\n"), -ENOSPC);
	CHECK(wg_dev_find_peer(dev, (const uint8_t[32]){ [0 ... 31] = 0x22 }) == NULL);
	/* Replace the full set with another one: the old entries are counted out. */
	sb_add(&b, "set=1\npublic_key=" K1 "\nreplace_allowed_ips=true\n");
	for (i = 0; i < WG_MAX_ALLOWEDIPS; i++) {
		snprintf(line, sizeof(line), "allowed_ip=11.%u.%u.%u/32\n", i >> 16 & 255,
			 i >> 8 & 255, i & 255);
		sb_add(&b, line);
	}
	sb_add(&b, "\n");
	CHECK_EQ(run_sb(dev, &b), 0);
	/* Removing the peer makes room for another's. */
	CHECK_EQ(set(dev, "set=1\npublic_key=" K1 "\nremove=true\npublic_key=" K2
			  "\nallowed_ip=192.0.2.0/24\n\n"),
		 0);
	check_get(dev, PEER_HEAD(K2, K0) PEER_STATS("0") "allowed_ip=192.0.2.0/24\nerrno=0\n\n");
	h_reset();
}

/* ---- framing ----------------------------------------------------------- */

static void test_request_len(void)
{
	static const char two[] = "get=1\n\nset=1\nfwmark=1\n\n";
	size_t i, seen;

	CHECK_EQ(uapi_request_len("", 0, 0), 0);
	CHECK_EQ(uapi_request_len("get=1", 5, 0), 0);
	CHECK_EQ(uapi_request_len("get=1\n", 6, 0), 0);
	CHECK_EQ(uapi_request_len("get=1\n\n", 7, 0), 7);
	CHECK_EQ(uapi_request_len(two, sizeof(two) - 1, 0), 7);
	CHECK_EQ(uapi_request_len(two + 7, sizeof(two) - 8, 0), sizeof(two) - 8);
	CHECK_EQ(uapi_request_len("set=1\nfwmark=1\n", 15, 0), 0);
	/* Not an operation: the first line, at once. */
	CHECK_EQ(uapi_request_len("foo\nbar\n\n", 9, 0), 4);
	CHECK_EQ(uapi_request_len("get=2\n", 6, 0), 6);
	CHECK_EQ(uapi_request_len("set=1\r\n\n", 8, 0), 7);
	CHECK_EQ(uapi_request_len("x", 1, 0), 0);
	CHECK_EQ(uapi_request_len("\n", 1, 0), 1);
	/* Byte by byte, resuming where the last call stopped: the same answer. */
	for (i = 1; i <= sizeof(two) - 8; i++) {
		size_t got = uapi_request_len(two + 7, i, i - 1);

		CHECK_EQ(got, i == sizeof(two) - 8 ? i : 0);
	}
	for (i = 1, seen = 0; i <= 9; i++) {
		size_t got = uapi_request_len("foo\nbar\n\n", i, seen);

		CHECK_EQ(got, i >= 4 ? 4 : 0);
		if (!got)
			seen = i;
	}
}

static void test_operations(void)
{
	struct wg_dev *dev = fresh();
	struct uapi_reply r;
	char *s;
	int ret;

	uapi_reply_init(&r);
	/* Not get or set: no reply, close (wireguard-go). */
	CHECK_EQ(uapi_handle(dev, &host, 0, NULL, "foo=1\n", 6, &r), -EBADMSG);
	CHECK(r.close);
	CHECK_EQ(r.len, 0);
	uapi_reply_reset(&r);
	CHECK(!r.close);
	CHECK_EQ(uapi_handle(dev, &host, 0, NULL, "get=1\r\n", 7, &r), -EBADMSG);
	CHECK(r.close);
	uapi_reply_reset(&r);
	/* Replies append: two requests, two replies in order. */
	CHECK_EQ(uapi_handle(dev, &host, 0, NULL, "set=1\nfwmark=3\n\n", 16, &r), 0);
	CHECK_EQ(uapi_handle(dev, &host, 0, NULL, "get=1\n\n", 7, &r), 0);
	CHECK_EQ(r.len, 27);
	CHECK_MEM(r.buf, "errno=0\n\nfwmark=3\nerrno=0\n\n", 27);
	CHECK(!r.close);
	uapi_reply_free(&r);
	uapi_reply_free(NULL);
	/* get with anything after its line. */
	s = run(dev, "get=1\nx\n\n", 9, &ret);
	CHECK_EQ(ret, -EINVAL);
	CHECK(strcmp(s, "errno=-22\n\n") == 0);
	free(s);
	h_reset();
}

static const struct t_case cases[] = {
	T(test_get_empty),     T(test_set_get_roundtrip),
	T(test_get_formats),   T(test_get_live_peer),
	T(test_replace_peers), T(test_remove),
	T(test_update_only),   T(test_replace_allowed_ips),
	T(test_own_key),       T(test_refusals_change_nothing),
	T(test_nul_bytes),     T(test_host_failure),
	T(test_request_caps),  T(test_device_caps),
	T(test_request_len),   T(test_operations),
};

int main(void)
{
	return t_main("uapi-handle", cases, SC_ARRAY_SIZE(cases));
}
