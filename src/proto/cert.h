/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Peer certificates: the admin key binds a peer's name, identity key,
 * WireGuard key, allowed roles, overlay addresses, advertised subnets and
 * validity window, within one network (DESIGN.md section 5). Issued offline
 * by scopectl; verified by every node and by the registry.
 *
 * A plain struct, filled by proto_cert_decode or by the caller before
 * proto_cert_sign. Layout: docs/certs.md.
 */
#ifndef PROTO_CERT_H
#define PROTO_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/limits.h"
#include "proto/record.h"

#define PROTO_CERT_LABEL "scope cert v1"

#define PROTO_ROLE_EDGE	  0x01u
#define PROTO_ROLE_RELAY  0x02u
#define PROTO_ROLE_MASTER 0x04u
#define PROTO_ROLES_ALL	  0x07u

struct proto_netdef;
struct proto_revoke;

struct proto_cert {
	char network[PROTO_NET_NAME_MAX + 1];
	uint64_t serial; /* chosen by the issuer; names the certificate for humans */
	char name[PROTO_PEER_NAME_MAX + 1];
	uint8_t identity[PROTO_KEY_LEN]; /* Ed25519: signs everything the peer publishes */
	uint8_t wgkey[PROTO_KEY_LEN];	 /* X25519: the WireGuard static public key */
	uint8_t roles;			 /* PROTO_ROLE_* bits, at least one */
	uint64_t not_before, not_after;	 /* valid for not_before <= now < not_after */
	uint8_t addr4[4], addr6[16];	 /* overlay addresses */
	size_t n_subnets;		 /* advertised subnets, a set */
	struct proto_prefix subnets[PROTO_CERT_MAX_SUBNETS];
	uint8_t signature[PROTO_SIG_LEN];
	uint8_t fingerprint[PROTO_FP_LEN]; /* set by decode and sign, not encoded */
};

/* Check every field, sort the subnets into their canonical order, sign with
 * the admin seed and set the fingerprint. 0, -EINVAL or -EIO. */
int proto_cert_sign(struct proto_cert *c, const uint8_t admin_seed[32]);
/* Canonical bytes of a signed certificate. 0, -EINVAL, -ENOBUFS. */
int proto_cert_encode(const struct proto_cert *c, uint8_t *out, size_t cap, size_t *len);
/* Parse in[0, len) into *out (written only on success). Signature not checked.
 * 0, PROTO_ERR_MALFORMED, PROTO_ERR_VERSION or PROTO_ERR_TYPE. */
int proto_cert_decode(struct proto_cert *out, const uint8_t *in, size_t len);

/* Everything a node or the registry checks, in this order:
 *   PROTO_ERR_MALFORMED c is not a valid certificate struct
 *   PROTO_ERR_NETWORK  c->network is not net->name
 *   PROTO_ERR_SIG      not signed by net->admin (bit flip, other admin key)
 *   PROTO_ERR_NOTYET   now < not_before
 *   PROTO_ERR_EXPIRED  now >= not_after
 *   PROTO_ERR_ADDR     an overlay address outside net's prefixes, or the
 *                      network or broadcast address of the IPv4 prefix
 *   PROTO_ERR_REVOKED  rl lists its fingerprint or its identity key
 * net must have been verified (proto_netdef_verify) against the pinned admin
 * key, and rl (NULL: none) with proto_revoke_verify; an rl of another network
 * is PROTO_ERR_NETWORK. now is Unix seconds. 0 if the certificate is good. */
int proto_cert_verify(const struct proto_cert *c, const struct proto_netdef *net,
		      const struct proto_revoke *rl, uint64_t now);

/* true if every role bit in roles is allowed by the certificate. */
bool proto_cert_allows(const struct proto_cert *c, uint8_t roles);

/* Role bits from "edge,relay,master" (any order, no repeats). 0 or -EINVAL. */
int proto_roles_parse(const char *s, uint8_t *out);
/* "edge,relay,master" order; out needs 18 bytes. */
void proto_roles_format(char out[18], uint8_t roles);

#endif
