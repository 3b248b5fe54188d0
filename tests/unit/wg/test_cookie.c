// SPDX-License-Identifier: GPL-2.0-only
/*
 * mac1/mac2, cookie replies and secret rotation (cookie.c), and the
 * handshake rate limiter (ratelimiter.c), on a virtual clock.
 */
#include <errno.h>
#include <stdint.h>

#include "test.h"

#include "crypto/aead.h"
#include "crypto/ct.h"
#include "wg/cookie.h"
#include "wg/limits.h"
#include "wg/ratelimiter.h"

static uint64_t seed = 7;

static int fill(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(seed >> 56);
	}
	return 0;
}

static uint64_t wall(void *ctx)
{
	return 0;
}

static const struct sc_env env = { NULL, wall, fill, NULL };

static void src_of(struct cookie_source *s, uint8_t last, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	s->addr[0] = 192, s->addr[1] = 0, s->addr[2] = 2, s->addr[3] = last;
	s->addr_len = 4;
	s->port = port;
}

static void test_mac1(void)
{
	struct cookie_checker c;
	struct cookie_maker m;
	struct wg_msg_initiation msg;
	struct cookie_source s;
	uint8_t pub[32], other[32];

	memset(pub, 3, 32), memset(other, 4, 32);
	memset(&c, 0, sizeof(c));
	cookie_checker_init(&c, pub);
	cookie_maker_init(&m, pub);
	memset(&msg, 0x5a, sizeof(msg));
	src_of(&s, 1, 51820);
	cookie_add_macs(&m, 0, &msg, sizeof(msg));
	CHECK(m.have_sent_mac1);
	CHECK_EQ(cookie_validate(&c, &env, 0, &msg, sizeof(msg), &s, false),
		 COOKIE_MAC_VALID_NO_COOKIE);
	CHECK_EQ(cookie_validate(&c, &env, 0, &msg, sizeof(msg), &s, true),
		 COOKIE_MAC_VALID_NO_COOKIE);
	msg.ephemeral[0] ^= 1;
	CHECK_EQ(cookie_validate(&c, &env, 0, &msg, sizeof(msg), &s, false), COOKIE_MAC_INVALID);
	/* A MAC for someone else's key. */
	cookie_maker_init(&m, other);
	cookie_add_macs(&m, 0, &msg, sizeof(msg));
	CHECK_EQ(cookie_validate(&c, &env, 0, &msg, sizeof(msg), &s, false), COOKIE_MAC_INVALID);
	/* No identity: nothing is valid. */
	cookie_checker_init(&c, NULL);
	cookie_maker_init(&m, pub);
	cookie_add_macs(&m, 0, &msg, sizeof(msg));
	CHECK_EQ(cookie_validate(&c, &env, 0, &msg, sizeof(msg), &s, false), COOKIE_MAC_INVALID);
}

static void test_cookie_exchange(void)
{
	struct cry_aead *a = cry_aead_new();
	struct cookie_checker c;
	struct cookie_maker m;
	struct wg_msg_response msg, old;
	struct wg_msg_cookie reply;
	struct cookie_source s, s2;
	uint8_t pub[32];
	uint64_t t = 1000;

	memset(pub, 9, 32);
	memset(&c, 0, sizeof(c));
	cookie_checker_init(&c, pub);
	cookie_maker_init(&m, pub);
	src_of(&s, 7, 4000);
	src_of(&s2, 7, 4001);
	memset(&msg, 0x11, sizeof(msg));

	/* A reply before we sent anything is refused. */
	memset(&reply, 0, sizeof(reply));
	CHECK_EQ(cookie_reply_consume(&m, a, t, &reply), -EPROTO);

	cookie_add_macs(&m, t, &msg, sizeof(msg));
	CHECK_EQ(cookie_reply_create(&c, a, &env, t, &msg, sizeof(msg), &s, 0x77, &reply), 0);
	CHECK_EQ(wg_get_le32(reply.type), MESSAGE_HANDSHAKE_COOKIE);
	CHECK_EQ(wg_get_le32(reply.receiver), 0x77);
	/* Bound to the mac1 we sent: after sending another message it no
	 * longer opens. */
	old = msg;
	msg.ephemeral[5] ^= 0xff;
	cookie_add_macs(&m, t, &msg, sizeof(msg));
	CHECK_EQ(cookie_reply_consume(&m, a, t, &reply), -EBADMSG);
	msg = old;
	cookie_add_macs(&m, t, &msg, sizeof(msg));
	CHECK_EQ(cookie_reply_consume(&m, a, t, &reply), 0);
	CHECK(m.cookie_valid);
	/* Only one reply per mac1. */
	CHECK_EQ(cookie_reply_consume(&m, a, t, &reply), -EPROTO);

	/* Now mac2 is filled in, and valid from the same address only. */
	cookie_add_macs(&m, t + 1, &msg, sizeof(msg));
	CHECK_EQ(cookie_validate(&c, &env, t + 1, &msg, sizeof(msg), &s, true),
		 COOKIE_MAC_VALID_WITH_COOKIE);
	CHECK_EQ(cookie_validate(&c, &env, t + 1, &msg, sizeof(msg), &s2, true),
		 COOKIE_MAC_VALID_NO_COOKIE);

	/* The maker stops using it COOKIE_SECRET_LATENCY before it expires. */
	cookie_add_macs(&m, t + COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY - 1, &msg,
			sizeof(msg));
	CHECK(!cry_is_zero(msg.macs.mac2, 16));
	cookie_add_macs(&m, t + COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY, &msg, sizeof(msg));
	CHECK(cry_is_zero(msg.macs.mac2, 16));

	/* After COOKIE_SECRET_MAX_AGE the checker's secret changes: an old
	 * cookie no longer makes a valid mac2. */
	cookie_add_macs(&m, t + 1, &msg, sizeof(msg));
	CHECK_EQ(cookie_validate(&c, &env, t + COOKIE_SECRET_MAX_AGE, &msg, sizeof(msg), &s, true),
		 COOKIE_MAC_VALID_NO_COOKIE);
	cry_aead_free(a);
}

static void test_ratelimiter(void)
{
	uint8_t key[16] = { 1 }, a[16] = { 10, 0, 0, 1 }, b[16] = { 10, 0, 0, 2 };
	uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 1 };
	uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 2, 3 };
	struct wg_ratelimiter *rl = wg_ratelimiter_new(key);
	uint64_t t = 5 * SC_NSEC_PER_SEC;
	int i, allowed;

	CHECK(rl != NULL);
	/* A burst of PACKETS_BURST, then nothing at the same instant. */
	for (allowed = 0, i = 0; i < 20; i++)
		allowed += wg_ratelimiter_allow(rl, t, a, 4);
	CHECK_EQ(allowed, PACKETS_BURST);
	/* Another source has its own bucket. */
	CHECK(wg_ratelimiter_allow(rl, t, b, 4));
	/* One packet's cost later, one more. */
	CHECK(!wg_ratelimiter_allow(rl, t + PACKET_COST - 1, a, 4));
	CHECK(wg_ratelimiter_allow(rl, t + PACKET_COST, a, 4));
	CHECK(!wg_ratelimiter_allow(rl, t + PACKET_COST, a, 4));
	/* Sustained: PACKETS_PER_SECOND a second. */
	for (allowed = 0, i = 1; i <= 1000; i++)
		allowed += wg_ratelimiter_allow(rl, t + PACKET_COST + i * (SC_NSEC_PER_SEC / 100),
						a, 4);
	CHECK(allowed >= 10 * PACKETS_PER_SECOND - 1 && allowed <= 10 * PACKETS_PER_SECOND + 1);
	/* IPv6 shares a bucket per /64. */
	t += 100 * SC_NSEC_PER_SEC;
	for (allowed = 0, i = 0; i < 10; i++)
		allowed += wg_ratelimiter_allow(rl, t, i % 2 ? v6a : v6b, 16);
	CHECK_EQ(allowed, PACKETS_BURST);
	/* Idle entries are collected. */
	CHECK(wg_ratelimiter_count(rl) >= 1);
	wg_ratelimiter_allow(rl, t + 3 * SC_NSEC_PER_SEC, b, 4);
	CHECK_EQ(wg_ratelimiter_count(rl), 1);
	wg_ratelimiter_free(rl);
}

static void test_ratelimiter_full(void)
{
	uint8_t key[16] = { 2 }, a[4];
	struct wg_ratelimiter *rl = wg_ratelimiter_new(key);
	uint32_t i;

	for (i = 0; i < WG_RATELIMIT_ENTRIES; i++) {
		wg_put_le32(a, i + 1);
		CHECK(wg_ratelimiter_allow(rl, 10, a, 4));
	}
	CHECK_EQ(wg_ratelimiter_count(rl), WG_RATELIMIT_ENTRIES);
	/* A new source while the table is full is refused, a known one not. */
	wg_put_le32(a, 0xffffff);
	CHECK(!wg_ratelimiter_allow(rl, 20, a, 4));
	wg_put_le32(a, 1);
	CHECK(wg_ratelimiter_allow(rl, 20, a, 4));
	/* Once they age out there is room again. */
	wg_put_le32(a, 0xffffff);
	CHECK(wg_ratelimiter_allow(rl, 10 + 2 * SC_NSEC_PER_SEC, a, 4));
	wg_ratelimiter_free(rl);
}

static const struct t_case cases[] = {
	T(test_mac1),
	T(test_cookie_exchange),
	T(test_ratelimiter),
	T(test_ratelimiter_full),
};

int main(void)
{
	return t_main("wg-cookie", cases, SC_ARRAY_SIZE(cases));
}
