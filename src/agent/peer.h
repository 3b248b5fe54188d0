/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A peer as the node knows it, verified by the node itself (DESIGN.md
 * section 5: nobody relies on the registry's checks).
 *
 * The registry serves a peer document (docs/registry.md): a summary, the
 * admin-signed certificate ("cert") and the signed request that published
 * the endpoints ("record"). Here the certificate is verified against the
 * network definition, the revocation list and the clock; the record's
 * signature against the certificate's identity key; and name, keys,
 * addresses, role and endpoints are taken from the certificate and the
 * signed body only. A summary field that contradicts them refuses the
 * whole document: a registry that swaps a WireGuard key or edits an
 * endpoint is caught, not silently corrected.
 *
 * The record is a past request, not a fresh one: its timestamp is kept
 * (signed_at) but not held to the registry's 60 s window.
 *
 * What stays unsigned, and is the registry's word: the tier, the observed
 * address, and the role when the record is an update or a report (only a
 * join body names the role; the certificate must still allow it).
 */
#ifndef AGENT_PEER_H
#define AGENT_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/limits.h"
#include "proto/addr.h"
#include "proto/cert.h"

struct json_t;
struct proto_netdef;
struct proto_revoke;

enum agent_tier {
	AGENT_TIER_NONE = 0, /* an edge, or no tier in the document */
	AGENT_TIER_RELAY,
	AGENT_TIER_PIPE,
};

struct agent_peer {
	char name[PROTO_PEER_NAME_MAX + 1];
	uint8_t role;		/* the role it joined as (PROTO_ROLE_* bit) */
	struct proto_cert cert; /* decoded and verified */
	struct proto_endpoint endpoints[AGENT_MAX_ENDPOINTS];
	size_t n_endpoints;
	uint64_t version;   /* registry version of this document (set by the caller) */
	uint64_t signed_at; /* the record's timestamp, Unix seconds */
	bool role_signed;   /* the role came from a signed join body */
	/* unsigned, from the registry */
	uint8_t tier;		 /* enum agent_tier */
	uint8_t observed_family; /* 0 if absent, else 4 or 6 */
	uint8_t observed_ip[16];
	char *doc; /* the document as received (NUL-terminated), for the cache */
	size_t doc_len;
};

/* Called for each document refused while reading a list, an event batch or
 * the cache: peer name (as claimed, may be ""), the error, the reason. */
typedef void (*agent_refuse_fn)(void *ctx, const char *peer, int err, const char *why);

/* Parse one peer document (a JSON object of at most AGENT_DOC_MAX bytes) and
 * verify it: the certificate against net (verified), rl (verified; NULL:
 * none) and now (Unix seconds); the record's signature with the
 * certificate's identity key; the summary against both. On 0, *out is
 * filled (the caller clears it with agent_peer_clear). Errors: -EINVAL
 * (malformed), -EMSGSIZE, -ENOMEM, the PROTO_ERR_* of the certificate check,
 * PROTO_ERR_SIG (record signature), -EPERM (record of another identity,
 * role not allowed), -EBADMSG (summary contradicts the signed parts). why
 * (whylen may be 0) gets a reason for the log. */
int agent_peer_from_doc(const char *json, size_t len, const struct proto_netdef *net,
			const struct proto_revoke *rl, uint64_t now, struct agent_peer *out,
			char *why, size_t whylen);
/* The same on an already parsed object (for list, event and cache readers);
 * doc is then the compact re-serialisation of o. */
int agent_peer_from_json(const struct json_t *o, const struct proto_netdef *net,
			 const struct proto_revoke *rl, uint64_t now, struct agent_peer *out,
			 char *why, size_t whylen);
/* Free the document text and zero p (NULL is fine). */
void agent_peer_clear(struct agent_peer *p);

/* Sort peers[0, n) by name and keep one document per name, the one with the
 * newest record (the registry serves one per name: only a lying registry
 * or an edited cache repeats one). Dropped ones are cleared and reported
 * through fn (may be NULL) with -EEXIST. Returns the new count. */
size_t agent_peers_dedup(struct agent_peer *peers, size_t n, agent_refuse_fn fn, void *ctx);

/* Parse JSON text of at most cap bytes, nesting at most AGENT_JSON_DEPTH_MAX,
 * duplicate keys refused, NUL in strings refused. 0, -EMSGSIZE, -EINVAL. */
int agent_json_load(const char *s, size_t len, size_t cap, struct json_t **out);

#endif
