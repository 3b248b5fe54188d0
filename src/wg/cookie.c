// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/blake2s.h"
#include "crypto/ct.h"
#include "wg/cookie.h"

/* key = HASH(label || pub) */
static void derive_key(uint8_t key[NOISE_SYMMETRIC_KEY_LEN], const char *label,
		       const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	struct cry_blake2s s;

	cry_blake2s_init(&s, NOISE_SYMMETRIC_KEY_LEN, NULL, 0);
	cry_blake2s_update(&s, label, 8);
	cry_blake2s_update(&s, pub, NOISE_PUBLIC_KEY_LEN);
	cry_blake2s_final(&s, key);
}

/* mac1 = MAC(key, msg up to mac1) */
static void compute_mac1(uint8_t mac1[COOKIE_LEN], const uint8_t *msg, size_t len,
			 const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	cry_blake2s(mac1, COOKIE_LEN, key, NOISE_SYMMETRIC_KEY_LEN, msg,
		    len - sizeof(struct wg_msg_macs));
}

/* mac2 = MAC(cookie, msg up to mac2) */
static void compute_mac2(uint8_t mac2[COOKIE_LEN], const uint8_t *msg, size_t len,
			 const uint8_t cookie[COOKIE_LEN])
{
	cry_blake2s(mac2, COOKIE_LEN, cookie, COOKIE_LEN, msg, len - COOKIE_LEN);
}

void cookie_checker_init(struct cookie_checker *c, const uint8_t *our_pub)
{
	if (!our_pub) {
		cry_wipe(c->mac1_key, sizeof(c->mac1_key));
		cry_wipe(c->cookie_key, sizeof(c->cookie_key));
		c->has_identity = false;
		return;
	}
	derive_key(c->mac1_key, COOKIE_LABEL_MAC1, our_pub);
	derive_key(c->cookie_key, COOKIE_LABEL_COOKIE, our_pub);
	c->has_identity = true;
}

void cookie_checker_wipe(struct cookie_checker *c)
{
	cry_wipe(c, sizeof(*c));
}

void cookie_maker_init(struct cookie_maker *m, const uint8_t their_pub[32])
{
	cry_wipe(m, sizeof(*m));
	derive_key(m->mac1_key, COOKIE_LABEL_MAC1, their_pub);
	derive_key(m->cookie_key, COOKIE_LABEL_COOKIE, their_pub);
}

/* cookie = MAC(secret, address || port), renewing the secret when it is
 * COOKIE_SECRET_MAX_AGE old. */
static int make_cookie(struct cookie_checker *c, const struct sc_env *env, uint64_t now,
		       const struct cookie_source *src, uint8_t cookie[COOKIE_LEN])
{
	uint8_t in[18];
	int ret;

	if (!c->has_secret || now >= c->secret_birthdate + COOKIE_SECRET_MAX_AGE) {
		ret = env->random(env->ctx, c->secret, sizeof(c->secret));
		if (ret) {
			c->has_secret = false;
			return ret < 0 ? ret : -EIO;
		}
		c->secret_birthdate = now;
		c->has_secret = true;
	}
	memcpy(in, src->addr, src->addr_len);
	in[src->addr_len] = (uint8_t)(src->port >> 8);
	in[src->addr_len + 1] = (uint8_t)src->port;
	cry_blake2s(cookie, COOKIE_LEN, c->secret, sizeof(c->secret), in, src->addr_len + 2u);
	return 0;
}

int cookie_validate(struct cookie_checker *c, const struct sc_env *env, uint64_t now,
		    const void *msg, size_t len, const struct cookie_source *src, bool check_cookie)
{
	const struct wg_msg_macs *macs =
		(const struct wg_msg_macs *)((const uint8_t *)msg + len - sizeof(*macs));
	uint8_t mac[COOKIE_LEN], cookie[COOKIE_LEN];
	int ret = COOKIE_MAC_INVALID;

	if (!c->has_identity)
		goto out;
	compute_mac1(mac, msg, len, c->mac1_key);
	if (!cry_memeq(mac, macs->mac1, COOKIE_LEN))
		goto out;
	ret = COOKIE_MAC_VALID_NO_COOKIE;
	if (!check_cookie)
		goto out;
	ret = make_cookie(c, env, now, src, cookie);
	if (ret)
		goto out;
	compute_mac2(mac, msg, len, cookie);
	ret = cry_memeq(mac, macs->mac2, COOKIE_LEN) ? COOKIE_MAC_VALID_WITH_COOKIE
						     : COOKIE_MAC_VALID_NO_COOKIE;
out:
	cry_wipe(cookie, sizeof(cookie));
	return ret;
}

void cookie_add_macs(struct cookie_maker *m, uint64_t now, void *msg, size_t len)
{
	struct wg_msg_macs *macs = (struct wg_msg_macs *)((uint8_t *)msg + len - sizeof(*macs));

	compute_mac1(macs->mac1, msg, len, m->mac1_key);
	memcpy(m->last_mac1_sent, macs->mac1, COOKIE_LEN);
	m->have_sent_mac1 = true;
	/* A cookie close to its responder's secret renewal is left out: the
	 * responder would no longer accept it. */
	if (m->cookie_valid &&
	    now < m->cookie_birthdate + COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY)
		compute_mac2(macs->mac2, msg, len, m->cookie);
	else
		memset(macs->mac2, 0, COOKIE_LEN);
}

int cookie_reply_create(struct cookie_checker *c, struct cry_aead *a, const struct sc_env *env,
			uint64_t now, const void *msg, size_t len, const struct cookie_source *src,
			uint32_t idx, struct wg_msg_cookie *out)
{
	const struct wg_msg_macs *macs =
		(const struct wg_msg_macs *)((const uint8_t *)msg + len - sizeof(*macs));
	uint8_t cookie[COOKIE_LEN];
	struct wg_msg_cookie r;
	int ret;

	memset(&r, 0, sizeof(r));
	wg_put_le32(r.type, MESSAGE_HANDSHAKE_COOKIE);
	wg_put_le32(r.receiver, idx);
	ret = env->random(env->ctx, r.nonce, sizeof(r.nonce));
	if (ret) {
		ret = ret < 0 ? ret : -EIO;
		goto out;
	}
	ret = make_cookie(c, env, now, src, cookie);
	if (ret)
		goto out;
	/* Bound to the mac1 it answers: a reply cannot be replayed against
	 * another handshake, nor made by someone who did not see ours. */
	ret = cry_xaead_seal(a, c->cookie_key, r.nonce, macs->mac1, COOKIE_LEN, cookie, COOKIE_LEN,
			     r.encrypted_cookie)
		      ? -EIO
		      : 0;
	if (ret)
		goto out;
	*out = r;
out:
	cry_wipe(cookie, sizeof(cookie));
	return ret;
}

int cookie_reply_consume(struct cookie_maker *m, struct cry_aead *a, uint64_t now,
			 const struct wg_msg_cookie *msg)
{
	uint8_t cookie[COOKIE_LEN];
	int ret = -EPROTO;

	if (!m->have_sent_mac1)
		goto out;
	ret = cry_xaead_open(a, m->cookie_key, msg->nonce, m->last_mac1_sent, COOKIE_LEN,
			     msg->encrypted_cookie, sizeof(msg->encrypted_cookie), cookie)
		      ? -EBADMSG
		      : 0;
	if (ret)
		goto out;
	memcpy(m->cookie, cookie, COOKIE_LEN);
	m->cookie_birthdate = now;
	m->cookie_valid = true;
	/* One reply per mac1: a second copy of it changes nothing. */
	m->have_sent_mac1 = false;
out:
	cry_wipe(cookie, sizeof(cookie));
	return ret;
}
