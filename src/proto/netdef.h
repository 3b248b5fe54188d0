/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The network definition: what every node of a network agrees on, signed by
 * the network's admin key (DESIGN.md sections 5 and 12). Nodes pin the admin
 * public key in their config; the definition carries it too, so one file
 * names the network, its overlay prefixes, its master relays, its registry
 * and its constants, and proves who made it.
 *
 * A plain struct, filled by proto_netdef_decode or by the caller before
 * proto_netdef_sign. Layout: docs/certs.md.
 */
#ifndef PROTO_NETDEF_H
#define PROTO_NETDEF_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/limits.h"
#include "proto/record.h"

#define PROTO_NETDEF_LABEL "scope netdef v1"

/* DESIGN.md section 12, all configurable per network. Ranges: docs/certs.md. */
struct proto_params {
	uint32_t relay_grace_s;	   /* relay -> pipe grace after join (120) */
	uint32_t report_fresh_s;   /* report freshness (150) */
	uint32_t reach_bar_pct;	   /* reachability bar, percent (90) */
	uint32_t dampening_s;	   /* dampening of non-failure changes (300) */
	uint32_t psk_rotation_s;   /* PSK rotation (3600, at least 120) */
	uint32_t kex_activation_s; /* activation delay after KEX confirmation (60) */
	uint32_t psk_versions;	   /* kept PSK versions (3) */
	uint32_t revert_s;	   /* revert after loss following a switch (15) */
};

/* Names and bounds of the constants, in struct order, for the CLI and JSON. */
#define PROTO_N_PARAMS 8
struct proto_param_info {
	const char *name; /* "relay-grace", ... */
	uint32_t min, max;
};
extern const struct proto_param_info proto_params_info[PROTO_N_PARAMS];

/* The i-th constant (i < PROTO_N_PARAMS). */
uint32_t proto_params_get(const struct proto_params *p, size_t i);
/* Set a constant by name: 0, -ENOENT (unknown name) or -ERANGE. */
int proto_params_set(struct proto_params *p, const char *name, uint64_t v);

struct proto_relay {
	char name[PROTO_PEER_NAME_MAX + 1];
	uint8_t wgkey[PROTO_KEY_LEN];
	struct proto_endpoint endpoint;
};

struct proto_netdef {
	char name[PROTO_NET_NAME_MAX + 1];
	uint64_t serial; /* a newer definition has a larger serial */
	uint64_t issued; /* Unix seconds */
	uint8_t admin[PROTO_KEY_LEN];
	struct proto_prefix v4, v6; /* overlay prefixes */
	char registry[PROTO_URL_MAX + 1];
	size_t n_relays; /* master relays, in order of preference */
	struct proto_relay relays[PROTO_NETDEF_MAX_RELAYS];
	struct proto_params params;
	uint8_t signature[PROTO_SIG_LEN];
	uint8_t fingerprint[PROTO_FP_LEN]; /* set by decode and sign, not encoded */
};

void proto_params_default(struct proto_params *p);
/* 0 if every constant is within its bounds, else -EINVAL. */
int proto_params_check(const struct proto_params *p);

/* true if s is an http:// or https:// URL of printable ASCII without spaces. */
bool proto_url_valid(const char *s, size_t n);

/* Check every field, set n->admin to the seed's public key, sign and set the
 * fingerprint. 0, -EINVAL (a field out of range) or -EIO. */
int proto_netdef_sign(struct proto_netdef *n, const uint8_t admin_seed[32]);
/* Canonical bytes of a signed definition into out[cap]. 0, -EINVAL, -ENOBUFS. */
int proto_netdef_encode(const struct proto_netdef *n, uint8_t *out, size_t cap, size_t *len);
/* Parse in[0, len) into *out (written only on success). Signature not checked.
 * 0, PROTO_ERR_MALFORMED, PROTO_ERR_VERSION or PROTO_ERR_TYPE. */
int proto_netdef_decode(struct proto_netdef *out, const uint8_t *in, size_t len);
/* Check the signature by n->admin, and that n->admin equals pinned_admin
 * (unless NULL). 0, PROTO_ERR_ADMIN, PROTO_ERR_SIG or -ENOMEM. */
int proto_netdef_verify(const struct proto_netdef *n, const uint8_t *pinned_admin);
/* 0 if cand (verified) may replace cur: same network and admin key, larger
 * serial. PROTO_ERR_OLD, PROTO_ERR_NETWORK or PROTO_ERR_ADMIN otherwise. */
int proto_netdef_replaces(const struct proto_netdef *cur, const struct proto_netdef *cand);

#endif
