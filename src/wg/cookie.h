/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mac1, mac2 and cookie replies (paper, section 5.4.4 and 5.4.7).
 *
 * Every handshake message ends with two MACs. mac1 is keyed with
 * HASH("mac1----" || receiver's public key): only someone who knows whom
 * they are talking to can make a message we spend a DH on. mac2 is keyed with
 * a cookie, a MAC of the sender's address under a secret of ours that changes
 * every COOKIE_SECRET_MAX_AGE; under load, a message without a valid mac2 is
 * answered with a cookie reply instead of being processed, so a flood from
 * spoofed addresses costs us one BLAKE2s and an XChaCha20-Poly1305 each.
 * The cookie travels encrypted under HASH("cookie--" || receiver's key),
 * bound to the mac1 it answers, so only the real sender can use it.
 *
 * The checker is the device's side (our key, the secret); the maker is the
 * per-peer side (their key, the last cookie they gave us). Sans-I/O: the
 * secret is drawn from env->random and aged with the caller's `now`.
 */
#ifndef WG_COOKIE_H
#define WG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/env.h"
#include "wg/messages.h"

struct cry_aead;

#define COOKIE_LABEL_MAC1   "mac1----"
#define COOKIE_LABEL_COOKIE "cookie--"

/* Who sent a message, as the cookie binds it: address bytes and UDP port. */
struct cookie_source {
	uint8_t addr[16];
	uint8_t addr_len; /* 4 or 16 */
	uint16_t port;	  /* host order */
};

struct cookie_checker {
	uint8_t secret[NOISE_HASH_LEN];
	uint64_t secret_birthdate;
	bool has_secret;
	uint8_t mac1_key[NOISE_SYMMETRIC_KEY_LEN];   /* HASH(LABEL_MAC1 || our pub) */
	uint8_t cookie_key[NOISE_SYMMETRIC_KEY_LEN]; /* HASH(LABEL_COOKIE || our pub) */
	bool has_identity;
};

struct cookie_maker {
	uint8_t mac1_key[NOISE_SYMMETRIC_KEY_LEN];   /* HASH(LABEL_MAC1 || their pub) */
	uint8_t cookie_key[NOISE_SYMMETRIC_KEY_LEN]; /* HASH(LABEL_COOKIE || their pub) */
	uint8_t cookie[COOKIE_LEN];
	uint64_t cookie_birthdate;
	bool cookie_valid;
	/* The reply must answer our latest mac1, so we remember it. */
	uint8_t last_mac1_sent[COOKIE_LEN];
	bool have_sent_mac1;
};

enum cookie_mac_state {
	COOKIE_MAC_INVALID,
	COOKIE_MAC_VALID_NO_COOKIE,
	COOKIE_MAC_VALID_WITH_COOKIE,
};

/* Recompute the checker's keys from our public key (NULL: no identity, every
 * message is then invalid). The secret is kept. */
void cookie_checker_init(struct cookie_checker *c, const uint8_t *our_pub);
void cookie_checker_wipe(struct cookie_checker *c);
/* Derive the maker's keys from the peer's public key and forget any cookie. */
void cookie_maker_init(struct cookie_maker *m, const uint8_t their_pub[32]);

/* Check the MACs of a handshake message of len bytes (the MACs are its last
 * 32). mac2 is checked only if check_cookie. Returns a cookie_mac_state, or
 * a negative errno if the RNG failed while renewing the secret. */
int cookie_validate(struct cookie_checker *c, const struct sc_env *env, uint64_t now,
		    const void *msg, size_t len, const struct cookie_source *src,
		    bool check_cookie);

/* Fill in mac1 and (if we hold a fresh cookie) mac2 of an outgoing message. */
void cookie_add_macs(struct cookie_maker *m, uint64_t now, void *msg, size_t len);

/* A cookie reply to the message of len bytes from src, addressed to
 * receiver index idx. 0 or a negative errno (RNG, AEAD). */
int cookie_reply_create(struct cookie_checker *c, struct cry_aead *a, const struct sc_env *env,
			uint64_t now, const void *msg, size_t len, const struct cookie_source *src,
			uint32_t idx, struct wg_msg_cookie *out);

/* Take the cookie from a reply: 0, -EBADMSG if it does not decrypt against
 * our last mac1, -EPROTO if we sent no handshake it could answer. */
int cookie_reply_consume(struct cookie_maker *m, struct cry_aead *a, uint64_t now,
			 const struct wg_msg_cookie *msg);

#endif
