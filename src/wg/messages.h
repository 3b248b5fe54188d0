/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * WireGuard wire messages (paper, section 5.4). Every field is a byte array
 * so that a struct can be laid over any received buffer whatever its
 * alignment; integers are read and written with the helpers at the bottom.
 * The type word is little-endian with three reserved zero bytes, and it is
 * compared as a whole, so non-zero reserved bytes make a message unknown.
 */
#ifndef WG_MESSAGES_H
#define WG_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "wg/constants.h"

#define NOISE_PUBLIC_KEY_LEN	32
#define NOISE_SYMMETRIC_KEY_LEN 32
#define NOISE_HASH_LEN		32
#define NOISE_TIMESTAMP_LEN	12
#define NOISE_AUTHTAG_LEN	16
#define COOKIE_LEN		16
#define COOKIE_NONCE_LEN	24

#define noise_encrypted_len(n) ((n) + NOISE_AUTHTAG_LEN)

struct wg_msg_macs {
	uint8_t mac1[COOKIE_LEN];
	uint8_t mac2[COOKIE_LEN];
};

struct wg_msg_initiation {
	uint8_t type[4];
	uint8_t sender[4];
	uint8_t ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_static[noise_encrypted_len(NOISE_PUBLIC_KEY_LEN)];
	uint8_t encrypted_timestamp[noise_encrypted_len(NOISE_TIMESTAMP_LEN)];
	struct wg_msg_macs macs;
};

struct wg_msg_response {
	uint8_t type[4];
	uint8_t sender[4];
	uint8_t receiver[4];
	uint8_t ephemeral[NOISE_PUBLIC_KEY_LEN];
	uint8_t encrypted_nothing[noise_encrypted_len(0)];
	struct wg_msg_macs macs;
};

struct wg_msg_cookie {
	uint8_t type[4];
	uint8_t receiver[4];
	uint8_t nonce[COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[noise_encrypted_len(COOKIE_LEN)];
};

/* Header of a transport data message; the ciphertext follows. */
struct wg_msg_data {
	uint8_t type[4];
	uint8_t receiver[4];
	uint8_t counter[8];
};

_Static_assert(sizeof(struct wg_msg_initiation) == 148, "initiation is 148 bytes");
_Static_assert(sizeof(struct wg_msg_response) == 92, "response is 92 bytes");
_Static_assert(sizeof(struct wg_msg_cookie) == 64, "cookie reply is 64 bytes");
_Static_assert(sizeof(struct wg_msg_data) == 16, "data header is 16 bytes");

/* Smallest transport message: a keepalive (header and an empty ciphertext). */
#define WG_MSG_DATA_MIN (sizeof(struct wg_msg_data) + noise_encrypted_len(0))

static inline uint32_t wg_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wg_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint64_t wg_get_le64(const uint8_t *p)
{
	return (uint64_t)wg_get_le32(p) | (uint64_t)wg_get_le32(p + 4) << 32;
}

static inline void wg_put_le64(uint8_t *p, uint64_t v)
{
	wg_put_le32(p, (uint32_t)v);
	wg_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* The message type of a UDP payload if it has exactly the length its type
 * requires (at least the minimum for data), else 0. No other check. */
static inline int wg_msg_type(const uint8_t *p, size_t len)
{
	if (len < 4)
		return 0;
	switch (wg_get_le32(p)) {
	case MESSAGE_HANDSHAKE_INITIATION:
		return len == sizeof(struct wg_msg_initiation) ? MESSAGE_HANDSHAKE_INITIATION : 0;
	case MESSAGE_HANDSHAKE_RESPONSE:
		return len == sizeof(struct wg_msg_response) ? MESSAGE_HANDSHAKE_RESPONSE : 0;
	case MESSAGE_HANDSHAKE_COOKIE:
		return len == sizeof(struct wg_msg_cookie) ? MESSAGE_HANDSHAKE_COOKIE : 0;
	case MESSAGE_DATA:
		return len >= WG_MSG_DATA_MIN ? MESSAGE_DATA : 0;
	default:
		return 0;
	}
}

#endif
