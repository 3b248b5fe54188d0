/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Signed node requests to the registry (DESIGN.md section 6). A node signs
 * every HTTP request with its identity key over a canonical string:
 *
 *	scope request v1 LF network LF METHOD LF path?query LF
 *	hex(SHA3-256(body)) LF timestamp LF nonce LF key
 *
 * and sends the parts that are not in the request itself as headers:
 *
 *	Scope-Key:       base64 identity public key (44 characters)
 *	Scope-Timestamp: Unix seconds, decimal
 *	Scope-Nonce:     base64 of 16 random bytes (24 characters)
 *	Scope-Signature: base64 Ed25519 signature (88 characters)
 *
 * The verifier refuses a timestamp more than `window` seconds from its own
 * clock (PROTO_ERR_STALE). Replays inside the window are the caller's to
 * catch: verify returns a replay id, SHA3-256 of the canonical string, which
 * is the same for a replayed request and different for any new one (the
 * nonce makes two identical requests in the same second distinct). Keep the
 * ids of accepted requests for 2 * window seconds and refuse a repeat.
 *
 * Verifying the signature proves who signed; whether that identity holds a
 * valid certificate is the caller's check (proto_cert_verify).
 */
#ifndef PROTO_SIGREQ_H
#define PROTO_SIGREQ_H

#include <stddef.h>
#include <stdint.h>

#include "proto/limits.h"
#include "proto/record.h"

#define PROTO_SIGREQ_LABEL "scope request v1"

#define PROTO_SIGREQ_HDR_KEY	   "Scope-Key"
#define PROTO_SIGREQ_HDR_TIMESTAMP "Scope-Timestamp"
#define PROTO_SIGREQ_HDR_NONCE	   "Scope-Nonce"
#define PROTO_SIGREQ_HDR_SIGNATURE "Scope-Signature"

#define PROTO_SIGREQ_NONCE_LEN 16
#define PROTO_SIGREQ_ID_LEN    32

/* What the signature covers besides the headers. */
struct proto_sigreq_msg {
	const char *network; /* the network name */
	const char *method;  /* "GET", "POST": [A-Z], 1..PROTO_SIGREQ_METHOD_MAX */
	const char *path;    /* "/v1/peers?since=7": printable ASCII, no spaces */
	const void *body;    /* may be NULL if body_len is 0 */
	size_t body_len;
};

/* Header values, NUL-terminated, as sent. */
struct proto_sigreq_hdr {
	char key[45];
	char timestamp[21];
	char nonce[25];
	char signature[89];
};

/* Header values as received (any may be NULL when absent). */
struct proto_sigreq_in {
	const char *key, *timestamp, *nonce, *signature;
};

/* Sign msg at time now (Unix seconds) with the identity seed and a fresh
 * random nonce from the caller. 0, -EINVAL (bad method, path or network),
 * -ENOMEM or -EIO; out is written only on success. */
int proto_sigreq_sign(struct proto_sigreq_hdr *out, const uint8_t seed[32],
		      const struct proto_sigreq_msg *msg, uint64_t now,
		      const uint8_t nonce[PROTO_SIGREQ_NONCE_LEN]);

/* Check a request: -EINVAL if a header is missing or malformed or msg is
 * invalid, PROTO_ERR_STALE if |now - timestamp| > window, PROTO_ERR_SIG if
 * the signature does not verify (e.g. the body, path or method changed).
 * On 0, signer (if not NULL) is the identity key and replay_id (if not NULL)
 * the request's replay id. */
int proto_sigreq_verify(const struct proto_sigreq_in *hdr, const struct proto_sigreq_msg *msg,
			uint64_t now, uint64_t window, uint8_t signer[PROTO_KEY_LEN],
			uint8_t replay_id[PROTO_SIGREQ_ID_LEN]);

#endif
