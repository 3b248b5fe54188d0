// SPDX-License-Identifier: GPL-2.0-only
/*
 * Signed node requests: what the signature covers (every part of the
 * request), the timestamp window at its edges, replay ids, and malformed
 * headers.
 */
#include <errno.h>

#include "fixtures.h"
#include "proto/sigreq.h"

#define NOW    1750000000ull
#define WINDOW 30ull

static const char body[] = "{\"endpoints\":[\"198.51.100.7:51820\"]}";

static void msg_init(struct proto_sigreq_msg *m)
{
	m->network = "lab";
	m->method = "POST";
	m->path = "/v1/reports?full=1";
	m->body = body;
	m->body_len = sizeof(body) - 1;
}

static void sign(struct proto_sigreq_hdr *h, const struct proto_sigreq_msg *m, uint64_t now,
		 uint8_t nonce_byte)
{
	uint8_t seed[32], nonce[PROTO_SIGREQ_NONCE_LEN];

	fx_seq(seed, 32, 0x21);
	memset(nonce, nonce_byte, sizeof(nonce));
	CHECK_EQ(proto_sigreq_sign(h, seed, m, now, nonce), 0);
}

static int verify(const struct proto_sigreq_hdr *h, const struct proto_sigreq_msg *m, uint64_t now,
		  uint8_t id[32])
{
	struct proto_sigreq_in in = { h->key, h->timestamp, h->nonce, h->signature };

	return proto_sigreq_verify(&in, m, now, WINDOW, NULL, id);
}

static void test_round_trip(void)
{
	struct proto_sigreq_msg m;
	struct proto_sigreq_hdr h;
	struct proto_sigreq_in in;
	uint8_t seed[32], pub[32], signer[32], id[32];

	msg_init(&m);
	sign(&h, &m, NOW, 7);
	fx_seq(seed, 32, 0x21);
	CHECK_EQ(cry_ed25519_pubkey(pub, seed), 0);
	CHECK_EQ(strlen(h.key), 44);
	CHECK_EQ(strlen(h.nonce), 24);
	CHECK_EQ(strlen(h.signature), 88);
	CHECK(strcmp(h.timestamp, "1750000000") == 0);
	in = (struct proto_sigreq_in){ h.key, h.timestamp, h.nonce, h.signature };
	CHECK_EQ(proto_sigreq_verify(&in, &m, NOW, WINDOW, signer, id), 0);
	CHECK_MEM(signer, pub, 32);
	/* An empty body (GET) is fine, with a NULL pointer too. */
	m.method = "GET";
	m.path = "/v1/peers?since=12";
	m.body = NULL;
	m.body_len = 0;
	sign(&h, &m, NOW, 7);
	CHECK_EQ(verify(&h, &m, NOW, id), 0);
}

static void test_window(void)
{
	struct proto_sigreq_msg m;
	struct proto_sigreq_hdr h;
	uint8_t id[32];

	msg_init(&m);
	sign(&h, &m, NOW, 1);
	CHECK_EQ(verify(&h, &m, NOW + WINDOW, id), 0);
	CHECK_EQ(verify(&h, &m, NOW - WINDOW, id), 0);
	CHECK_EQ(verify(&h, &m, NOW + WINDOW + 1, id), PROTO_ERR_STALE);
	CHECK_EQ(verify(&h, &m, NOW - WINDOW - 1, id), PROTO_ERR_STALE);
	CHECK_EQ(verify(&h, &m, 0, id), PROTO_ERR_STALE);
	CHECK_EQ(verify(&h, &m, UINT64_MAX, id), PROTO_ERR_STALE);
	/* A timestamp moved into the window by the sender's adversary breaks
	 * the signature. */
	snprintf(h.timestamp, sizeof(h.timestamp), "%llu", NOW + 1);
	CHECK_EQ(verify(&h, &m, NOW, id), PROTO_ERR_SIG);
}

/* Every part of the request is covered. */
static void test_covered(void)
{
	struct proto_sigreq_msg m, x;
	struct proto_sigreq_hdr h, y;
	uint8_t id[32];
	static const char other_body[] = "{\"endpoints\":[\"198.51.100.8:51820\"]}";

	msg_init(&m);
	sign(&h, &m, NOW, 2);
	x = m;
	x.body = other_body;
	CHECK_EQ(verify(&h, &x, NOW, id), PROTO_ERR_SIG);
	x = m;
	x.body_len--;
	CHECK_EQ(verify(&h, &x, NOW, id), PROTO_ERR_SIG);
	x = m;
	x.path = "/v1/reports?full=0";
	CHECK_EQ(verify(&h, &x, NOW, id), PROTO_ERR_SIG);
	x = m;
	x.path = "/v1/reports";
	CHECK_EQ(verify(&h, &x, NOW, id), PROTO_ERR_SIG);
	x = m;
	x.method = "PUT";
	CHECK_EQ(verify(&h, &x, NOW, id), PROTO_ERR_SIG);
	x = m;
	x.network = "prod";
	CHECK_EQ(verify(&h, &x, NOW, id), PROTO_ERR_SIG);
	/* Another nonce, or another valid key, in the headers. */
	sign(&y, &m, NOW, 3);
	memcpy(h.nonce, y.nonce, sizeof(h.nonce));
	CHECK_EQ(verify(&h, &m, NOW, id), PROTO_ERR_SIG);
	sign(&h, &m, NOW, 2);
	{
		uint8_t seed[32], nonce[16] = { 2 };
		struct proto_sigreq_hdr z;

		fx_seq(seed, 32, 0x50);
		CHECK_EQ(proto_sigreq_sign(&z, seed, &m, NOW, nonce), 0);
		memcpy(h.key, z.key, sizeof(h.key));
		CHECK_EQ(verify(&h, &m, NOW, id), PROTO_ERR_SIG);
	}
	sign(&h, &m, NOW, 2);
	h.signature[10] = h.signature[10] == 'A' ? 'B' : 'A';
	CHECK_EQ(verify(&h, &m, NOW, id), PROTO_ERR_SIG);
}

static void test_replay_id(void)
{
	struct proto_sigreq_msg m;
	struct proto_sigreq_hdr a, b;
	uint8_t ia[32], ib[32], ic[32];

	msg_init(&m);
	sign(&a, &m, NOW, 4);
	CHECK_EQ(verify(&a, &m, NOW, ia), 0);
	/* The same request seen again (a replay): the same id, even later. */
	CHECK_EQ(verify(&a, &m, NOW + 5, ib), 0);
	CHECK_MEM(ia, ib, 32);
	/* The same request made again by the node: a new nonce, a new id. */
	sign(&b, &m, NOW, 5);
	CHECK_EQ(verify(&b, &m, NOW, ic), 0);
	CHECK(memcmp(ia, ic, 32) != 0);
	/* Same nonce, another second: also new. */
	sign(&b, &m, NOW + 1, 4);
	CHECK_EQ(verify(&b, &m, NOW, ic), 0);
	CHECK(memcmp(ia, ic, 32) != 0);
}

static void test_malformed(void)
{
	struct proto_sigreq_msg m, x;
	struct proto_sigreq_hdr h;
	struct proto_sigreq_in in;
	uint8_t seed[32], nonce[16] = { 0 }, id[32];
	char buf[128];

	msg_init(&m);
	sign(&h, &m, NOW, 6);
#define IN_REFUSED(field, value)                                                           \
	do {                                                                               \
		in = (struct proto_sigreq_in){ h.key, h.timestamp, h.nonce, h.signature }; \
		in.field = (value);                                                        \
		CHECK_EQ(proto_sigreq_verify(&in, &m, NOW, WINDOW, NULL, id), -EINVAL);    \
	} while (0)
	IN_REFUSED(key, NULL);
	IN_REFUSED(timestamp, NULL);
	IN_REFUSED(nonce, NULL);
	IN_REFUSED(signature, NULL);
	IN_REFUSED(timestamp, "");
	IN_REFUSED(timestamp, "01750000000");
	IN_REFUSED(timestamp, "+1750000000");
	IN_REFUSED(timestamp, "1750000000 ");
	IN_REFUSED(timestamp, "18446744073709551616");
	snprintf(buf, sizeof(buf), "%.43s", h.key);
	IN_REFUSED(key, buf);
	snprintf(buf, sizeof(buf), "%s=", h.key);
	IN_REFUSED(key, buf);
	snprintf(buf, sizeof(buf), "%.23s", h.nonce);
	IN_REFUSED(nonce, buf);
	snprintf(buf, sizeof(buf), "%.87s", h.signature);
	IN_REFUSED(signature, buf);
	/* Non-canonical base64 of the nonce (bits under the padding). */
	snprintf(buf, sizeof(buf), "%s", h.nonce);
	buf[21] = buf[21] == 'A' ? 'B' : (char)(buf[21] ^ 1);
	IN_REFUSED(nonce, buf);
#undef IN_REFUSED
	/* Requests that cannot be signed or verified at all. */
	fx_seq(seed, 32, 0x21);
	in = (struct proto_sigreq_in){ h.key, h.timestamp, h.nonce, h.signature };
	x = m;
	x.path = "/v1/peers\nX-Evil: 1";
	CHECK_EQ(proto_sigreq_sign(&h, seed, &x, NOW, nonce), -EINVAL);
	CHECK_EQ(proto_sigreq_verify(&in, &x, NOW, WINDOW, NULL, id), -EINVAL);
	x.path = "/v1/a b";
	CHECK_EQ(proto_sigreq_sign(&h, seed, &x, NOW, nonce), -EINVAL);
	x.path = "v1/peers";
	CHECK_EQ(proto_sigreq_sign(&h, seed, &x, NOW, nonce), -EINVAL);
	x = m;
	x.method = "post";
	CHECK_EQ(proto_sigreq_sign(&h, seed, &x, NOW, nonce), -EINVAL);
	x.method = "";
	CHECK_EQ(proto_sigreq_sign(&h, seed, &x, NOW, nonce), -EINVAL);
	x = m;
	x.network = "toolongname";
	CHECK_EQ(proto_sigreq_sign(&h, seed, &x, NOW, nonce), -EINVAL);
	x = m;
	x.body = NULL;
	CHECK_EQ(proto_sigreq_sign(&h, seed, &x, NOW, nonce), -EINVAL);
	{
		char path[PROTO_SIGREQ_PATH_MAX + 2];

		memset(path, 'a', sizeof(path) - 1);
		path[0] = '/';
		path[sizeof(path) - 1] = '\0';
		x = m;
		x.path = path;
		CHECK_EQ(proto_sigreq_sign(&h, seed, &x, NOW, nonce), -EINVAL);
		path[sizeof(path) - 2] = '\0';
		CHECK_EQ(proto_sigreq_sign(&h, seed, &x, NOW, nonce), 0);
		CHECK_EQ(verify(&h, &x, NOW, id), 0);
	}
}

static const struct t_case cases[] = {
	T(test_round_trip), T(test_window), T(test_covered), T(test_replay_id), T(test_malformed),
};

int main(void)
{
	return t_main("proto-sigreq", cases, SC_ARRAY_SIZE(cases));
}
