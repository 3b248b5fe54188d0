/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reg_auth: what the registry checks before it believes a request, bound to
 * the trust model of src/proto (DESIGN.md section 5).
 *
 *  - the network definition, verified at start against the admin key it
 *    carries (and a pinned key, if the operator gives one);
 *  - signed requests (proto/sigreq.h): headers, freshness within
 *    REG_SIG_WINDOW, signature, and the replay cache;
 *  - certificates at join (proto_cert_verify against the network definition
 *    and the current revocation list);
 *  - the current revocation list, kill switches (admin signatures).
 *
 * The registry checks to reject junk early; nodes check everything again
 * themselves. Thread-safe (an internal mutex guards the replay cache and the
 * revocation list).
 */
#ifndef REG_AUTH_H
#define REG_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "proto/cert.h"
#include "proto/kill.h"
#include "proto/netdef.h"
#include "proto/revoke.h"
#include "proto/sigreq.h"
#include "registry/body.h"

/* API error codes of authentication (docs/registry.md). */
#define REG_E_UNSIGNED	    "unsigned"
#define REG_E_BAD_SIG	    "bad_signature"
#define REG_E_STALE	    "stale_timestamp"
#define REG_E_REPLAYED	    "replayed"
#define REG_E_BUSY	    "busy"
#define REG_E_BAD_CERT	    "bad_cert"
#define REG_E_CERT_SIG	    "cert_bad_signature"
#define REG_E_CERT_NOTYET   "cert_not_yet_valid"
#define REG_E_CERT_EXPIRED  "cert_expired"
#define REG_E_CERT_ADDR	    "cert_bad_address"
#define REG_E_REVOKED	    "revoked"
#define REG_E_WRONG_NETWORK "wrong_network"
#define REG_E_KEY_MISMATCH  "key_mismatch"
#define REG_E_ROLE	    "role_not_allowed"
#define REG_E_BAD_RECORD    "bad_record"
#define REG_E_RECORD_SIG    "record_bad_signature"
#define REG_E_STALE_SERIAL  "stale_serial"

struct reg_auth;

/* netdef: the canonical bytes or the armored text of a signed network
 * definition. pinned_admin (NULL: none) must equal its admin key. */
int reg_auth_new(const uint8_t *netdef, size_t len, const uint8_t *pinned_admin,
		 struct reg_auth **out, char *errbuf, size_t errlen);
void reg_auth_free(struct reg_auth *a);

const struct proto_netdef *reg_auth_netdef(const struct reg_auth *a);
/* Canonical bytes of the network definition. */
const uint8_t *reg_auth_netdef_bytes(const struct reg_auth *a, size_t *len);

/* Functions below return 0, or a negative errno with e filled (status 400,
 * 401, 403, 409 or 503 and a code from the list above). */

/* A signed request: 0 and the signer's identity key. uri is the request target as sent
 * (path and query). */
int reg_auth_request(struct reg_auth *a, const struct proto_sigreq_in *hdr, const char *method,
		     const char *uri, const uint8_t *body, size_t len, int64_t now,
		     uint8_t signer[PROTO_KEY_LEN], struct reg_err *e);

/* A certificate offered at join: decoded and verified at now. Returns 0 and
 * the certificate (heap, the caller frees). */
int reg_auth_cert(struct reg_auth *a, const uint8_t *cert, size_t len, int64_t now,
		  struct proto_cert **out, struct reg_err *e);

/* Is a joined peer still in good standing: certificate unexpired and neither
 * its fingerprint nor its identity revoked? */
int reg_auth_standing(struct reg_auth *a, const uint8_t certfp[PROTO_FP_LEN],
		      const uint8_t ident[PROTO_KEY_LEN], int64_t not_after, int64_t now,
		      struct reg_err *e);

/* A kill switch: decoded and verified against the admin key. */
int reg_auth_kill(struct reg_auth *a, const uint8_t *rec, size_t len, struct proto_kill *out,
		  struct reg_err *e);

/* A revocation list that must replace the current one: decoded, verified,
 * newer. On 0 the caller owns *out. */
int reg_auth_revoke_check(struct reg_auth *a, const uint8_t *rec, size_t len,
			  struct proto_revoke **out, struct reg_err *e);
/* Make rl (verified) the current list; takes ownership. */
void reg_auth_revoke_install(struct reg_auth *a, struct proto_revoke *rl);

/* Replay ids remembered, for /metrics. */
size_t reg_auth_replay_count(struct reg_auth *a);

#endif
