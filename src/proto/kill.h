/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kill switch: a message signed by the admin key telling the whole
 * network, or listed peers, to tear their interface down and stay down
 * (DESIGN.md section 5). The registry stores and forwards it but cannot make
 * one. Layout: docs/certs.md.
 *
 * The target is explicit: PROTO_KILL_ALL carries no list, PROTO_KILL_LISTED
 * at least one entry, so an empty list can never mean "everyone".
 */
#ifndef PROTO_KILL_H
#define PROTO_KILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/limits.h"
#include "proto/record.h"

#define PROTO_KILL_LABEL "scope kill v1"

#define PROTO_KILL_ALL	  0
#define PROTO_KILL_LISTED 1

/* Target kinds. */
#define PROTO_TARGET_NAME     1 /* a peer name */
#define PROTO_TARGET_IDENTITY 2 /* an identity public key */

struct proto_netdef;

struct proto_kill_target {
	uint8_t kind;
	uint8_t len;		      /* name length, or PROTO_KEY_LEN */
	uint8_t value[PROTO_KEY_LEN]; /* name characters (no NUL) or the key */
};

struct proto_kill {
	char network[PROTO_NET_NAME_MAX + 1];
	uint64_t serial; /* nodes remember the largest serial they obeyed */
	uint64_t issued; /* Unix seconds */
	uint8_t scope;	 /* PROTO_KILL_ALL or PROTO_KILL_LISTED */
	size_t n_targets;
	struct proto_kill_target targets[PROTO_KILL_MAX_TARGETS];
	uint8_t signature[PROTO_SIG_LEN];
	uint8_t fingerprint[PROTO_FP_LEN]; /* set by decode and sign, not encoded */
};

/* Append a target to k (before signing). 0, -EINVAL (bad name), -ENOSPC. */
int proto_kill_add_name(struct proto_kill *k, const char *name);
int proto_kill_add_identity(struct proto_kill *k, const uint8_t key[PROTO_KEY_LEN]);

/* Check every field, sort the targets into their canonical order, sign.
 * 0, -EINVAL (incl. duplicate targets) or -EIO. */
int proto_kill_sign(struct proto_kill *k, const uint8_t admin_seed[32]);
int proto_kill_encode(const struct proto_kill *k, uint8_t *out, size_t cap, size_t *len);
/* 0, PROTO_ERR_MALFORMED, PROTO_ERR_VERSION or PROTO_ERR_TYPE. */
int proto_kill_decode(struct proto_kill *out, const uint8_t *in, size_t len);
/* Signed by net->admin, for net->name. 0, PROTO_ERR_NETWORK, PROTO_ERR_SIG, -ENOMEM. */
int proto_kill_verify(const struct proto_kill *k, const struct proto_netdef *net);
/* true if a verified kill switch applies to the peer with this name and
 * identity key (either may be NULL when unknown). */
bool proto_kill_applies(const struct proto_kill *k, const char *name,
			const uint8_t identity[PROTO_KEY_LEN]);

#endif
