/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The revocation list of a network: a set of certificate fingerprints and
 * identity keys that are no longer trusted, with a serial, signed by the
 * admin key. A list replaces the current one only if its serial is larger,
 * so a registry cannot roll a node back to an older list.
 *
 * Opaque (it may hold PROTO_REVOKE_MAX_ENTRIES entries), kept sorted so
 * lookups are a binary search. Layout: docs/certs.md.
 */
#ifndef PROTO_REVOKE_H
#define PROTO_REVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/record.h"

#define PROTO_REVOKE_LABEL "scope revoke v1"

/* Entry kinds. */
#define PROTO_REVOKE_CERT     1 /* a certificate fingerprint (proto_cert.fingerprint) */
#define PROTO_REVOKE_IDENTITY 2 /* an identity key: every certificate that carries it */

struct proto_netdef;
struct proto_revoke;

/* An empty, unsigned list. serial >= 1. 0, -EINVAL or -ENOMEM. */
int proto_revoke_new(struct proto_revoke **out, const char *network, uint64_t serial,
		     uint64_t issued);
/* An unsigned copy of cur with serial + 1 and the given issue time: the start
 * of the next list. 0, -EOVERFLOW or -ENOMEM. */
int proto_revoke_next(struct proto_revoke **out, const struct proto_revoke *cur, uint64_t issued);
void proto_revoke_free(struct proto_revoke *rl);

/* Add an entry (kind PROTO_REVOKE_*). 0, -EEXIST if already listed, -ENOSPC
 * at PROTO_REVOKE_MAX_ENTRIES, -EINVAL for an unknown kind. The signature is
 * then stale until proto_revoke_sign. */
int proto_revoke_add(struct proto_revoke *rl, uint8_t kind, const uint8_t key[PROTO_KEY_LEN]);
bool proto_revoke_has(const struct proto_revoke *rl, uint8_t kind,
		      const uint8_t key[PROTO_KEY_LEN]);

/* Sign with the admin seed. 0, -ENOMEM or -EIO. */
int proto_revoke_sign(struct proto_revoke *rl, const uint8_t admin_seed[32]);
/* Bytes needed by proto_revoke_encode. */
size_t proto_revoke_encoded_len(const struct proto_revoke *rl);
int proto_revoke_encode(const struct proto_revoke *rl, uint8_t *out, size_t cap, size_t *len);
/* Parse a list (signature not checked). 0, PROTO_ERR_MALFORMED,
 * PROTO_ERR_VERSION, PROTO_ERR_TYPE or -ENOMEM. */
int proto_revoke_decode(struct proto_revoke **out, const uint8_t *in, size_t len);
/* Signed by net->admin, for net->name. 0, PROTO_ERR_NETWORK, PROTO_ERR_SIG, -ENOMEM. */
int proto_revoke_verify(const struct proto_revoke *rl, const struct proto_netdef *net);
/* 0 if cand (verified) may replace cur (NULL: none yet): same network and a
 * larger serial. PROTO_ERR_OLD or PROTO_ERR_NETWORK otherwise. */
int proto_revoke_replaces(const struct proto_revoke *cur, const struct proto_revoke *cand);

const char *proto_revoke_network(const struct proto_revoke *rl);
uint64_t proto_revoke_serial(const struct proto_revoke *rl);
uint64_t proto_revoke_issued(const struct proto_revoke *rl);
size_t proto_revoke_count(const struct proto_revoke *rl);
/* Entry i < count, in canonical order. */
void proto_revoke_entry(const struct proto_revoke *rl, size_t i, uint8_t *kind,
			uint8_t key[PROTO_KEY_LEN]);
/* Fingerprint of the signed body (set by decode and sign). */
const uint8_t *proto_revoke_fingerprint(const struct proto_revoke *rl);

#endif
