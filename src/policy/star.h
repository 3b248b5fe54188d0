/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The star topology (issue 6, DESIGN.md sections 1 and 7.5): which WireGuard
 * peers a node configures and which kernel routes it installs on its overlay
 * interface, as a pure function of the signed network definition, the node
 * itself and the peers whose certificates and records it has verified.
 *
 * Rules:
 *   - An edge (and, until the relay mesh exists, a non-master relay) peers
 *     only with the master relays of the NETWORK DEFINITION: key and
 *     endpoint come from the admin-signed definition, never from the
 *     registry, so a registry cannot redirect an edge. The primary master
 *     (in->primary, an index into net->relays) carries the allowed IPs: the
 *     overlay prefixes plus every accepted subnet of other peers. The other
 *     masters are configured with no allowed IPs, as warm standbys (WireGuard
 *     gives an allowed IP to one peer only). All get in->keepalive.
 *   - A master relay peers with every accepted edge and relay: allowed IPs
 *     its overlay /32 and /128 plus its accepted subnets; endpoint its first
 *     signed published endpoint (the definition's for another master), else
 *     none (learned when the peer's handshake arrives); no keepalive, since
 *     edges keep their own NAT mappings open.
 *   - Nobody installs a peer with its own WireGuard key.
 *
 * Peers refused (and reported in the result, not configured):
 *   - one whose key or name is a master's in the definition without being
 *     that master (name and key both match, joined as master);
 *   - one that joined as master without being listed in the definition;
 *   - one whose key is the node's own, or whose name is the node's own;
 *   - one sharing its key, name or an overlay address with another peer:
 *     a master keeps what it shares, every other holder is refused;
 *   - one whose overlay address is the node's own.
 * Subnets dropped (the peer stays): one overlapping an overlay prefix (this
 * also drops default routes: exit nodes are a later issue), one the node
 * itself advertises, and a duplicate of a subnet another peer advertises
 * (the peer with the lowest key keeps it, so every node agrees).
 *
 * Routes: the overlay prefixes and every accepted subnet of another peer.
 *
 * Output is deterministic: peers sorted by key, allowed IPs and routes by
 * (family, address, length).
 */
#ifndef POL_STAR_H
#define POL_STAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "proto/limits.h"
#include "proto/netdef.h"

/* Peers in one computation: the registry's peer list is capped to this
 * before it reaches the policy. */
#define POL_STAR_MAX_PEERS 65536
/* Signed published endpoints of one peer that the policy looks at. */
#define POL_STAR_MAX_ENDPOINTS 8

/* A node: the verified facts about one peer, or about the node itself. */
struct pol_star_node {
	char name[PROTO_PEER_NAME_MAX + 1];
	uint8_t role; /* the one PROTO_ROLE_* bit it joined as */
	uint8_t wgkey[PROTO_KEY_LEN];
	uint8_t addr4[4], addr6[16];
	size_t n_subnets; /* from its certificate */
	const struct proto_prefix *subnets;
	size_t n_endpoints; /* signed published endpoints, preferred first */
	const struct proto_endpoint *endpoints;
};

struct pol_star_input {
	const struct proto_netdef *net; /* verified */
	const struct pol_star_node *self;
	const struct pol_star_node *peers; /* any order */
	size_t n_peers;
	size_t primary;	    /* index into net->relays of an edge's primary master */
	uint16_t keepalive; /* s, an edge's keepalive towards masters (25) */
};

/* A desired WireGuard peer. */
struct pol_star_wgpeer {
	uint8_t key[PROTO_KEY_LEN];
	char name[PROTO_PEER_NAME_MAX + 1];
	bool has_endpoint; /* false: leave the endpoint to roaming */
	struct proto_endpoint endpoint;
	uint16_t keepalive; /* s, 0 off */
	size_t n_allowed;
	struct proto_prefix *allowed; /* sorted */
};

enum pol_star_refusal {
	POL_STAR_R_SELF = 1,	 /* the node's own key, name or overlay address */
	POL_STAR_R_MASTER_CLAIM, /* a master's key or name, or joined as master, unlisted */
	POL_STAR_R_DUPLICATE,	 /* key, name or address shared with another peer */
	POL_STAR_R_INVALID,	 /* no single role, bad subnet, too many of something */
};

struct pol_star_refused {
	char name[PROTO_PEER_NAME_MAX + 1];
	uint8_t key[PROTO_KEY_LEN];
	enum pol_star_refusal why;
};

struct pol_star {
	size_t n_peers;
	struct pol_star_wgpeer *peers; /* sorted by key */
	size_t n_routes;
	struct proto_prefix *routes; /* sorted */
	size_t n_refused;
	struct pol_star_refused *refused; /* in input order */
	size_t n_dropped_subnets;	  /* subnets dropped by the rules above */
};

/* Compute the star. 0 with *out set (free with pol_star_free), -EINVAL (bad
 * input: no netdef, self not a single role, a master self not listed in the
 * definition, primary out of range, too many peers) or -ENOMEM. */
int pol_star_compute(const struct pol_star_input *in, struct pol_star **out);
void pol_star_free(struct pol_star *s);

/* The peer with this key, or NULL. */
const struct pol_star_wgpeer *pol_star_find(const struct pol_star *s,
					    const uint8_t key[PROTO_KEY_LEN]);

/* What changed for one peer. */
#define POL_STAR_CH_ENDPOINT  0x1u
#define POL_STAR_CH_KEEPALIVE 0x2u
#define POL_STAR_CH_ALLOWED   0x4u

enum pol_star_op {
	POL_STAR_ADD = 1,
	POL_STAR_UPDATE,
	POL_STAR_REMOVE,
};

struct pol_star_change {
	enum pol_star_op op;
	const struct pol_star_wgpeer *peer; /* the new one; the old one for REMOVE */
	unsigned int changed;		    /* POL_STAR_CH_* (UPDATE only) */
};

struct pol_star_route_change {
	bool add; /* else remove */
	struct proto_prefix prefix;
};

/* Desired state against desired state: an endpoint roaming learned is never
 * overwritten unless the desired one changes. */
struct pol_star_diff {
	size_t n_changes;
	struct pol_star_change *changes; /* sorted by key; removals too */
	size_t n_routes;
	struct pol_star_route_change *routes; /* sorted by prefix */
};

/* What turns old (NULL: nothing yet) into new. The changes point into old
 * and new, which must outlive the diff. 0 with *out set, or -ENOMEM. */
int pol_star_diff(const struct pol_star *old, const struct pol_star *new,
		  struct pol_star_diff **out);
void pol_star_diff_free(struct pol_star_diff *d);

/* Ordering of prefixes in the output: family, address bytes, length. */
int pol_star_prefix_cmp(const struct proto_prefix *a, const struct proto_prefix *b);

/* "self", "master-claim", "duplicate", "invalid"; "?" otherwise. */
const char *pol_star_refusal_name(enum pol_star_refusal why);

#endif
