/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Allowed IPs: a longest-prefix-match table from IPv4/IPv6 prefixes to an
 * owner (a peer), used for the destination lookup on send and the source
 * check on receive (paper, section 2, "cryptokey routing").
 *
 * One path-compressed binary trie per family: a node holds a prefix and is
 * either an entry (it has an owner) or a glue node where two branches split.
 * Lookups and inserts cost one node per branching point on the path, at most
 * 33 or 129. Nodes are allocated by insert (configuration time), never on a
 * lookup.
 *
 * Owners embed a struct aip_list: it is the owner's identity in the table and
 * chains its entries in insertion order, for removal and for listing (UAPI
 * `get`). Lookups return that pointer; the owner gets back to itself with
 * container_of. Not thread-safe: the caller serialises writers against
 * readers.
 */
#ifndef WG_AIP_H
#define WG_AIP_H

#include <stddef.h>
#include <stdint.h>

struct aip_node;
struct aip_table;

struct aip_list {
	struct aip_node *first;
	struct aip_node *last;
	size_t count;
};

/* An empty table; NULL on allocation failure. */
struct aip_table *aip_new(void);
/* Free the table and every node; owners' lists are reset to empty. NULL ok. */
void aip_free(struct aip_table *t);

/* Map family (AF_INET/AF_INET6) addr/cidr to owner; host bits of addr are
 * ignored. An existing identical prefix changes owner. 0, -EINVAL (family or
 * cidr), -ENOSPC (WG_MAX_ALLOWEDIPS) or -ENOMEM; the table is unchanged on
 * failure. */
int aip_insert(struct aip_table *t, int family, const void *addr, uint8_t cidr,
	       struct aip_list *owner);
/* Remove the prefix if owner holds it: 0, -ENOENT or -EINVAL. */
int aip_remove(struct aip_table *t, int family, const void *addr, uint8_t cidr,
	       struct aip_list *owner);
/* Remove every prefix of owner. */
void aip_remove_owner(struct aip_table *t, struct aip_list *owner);

/* The owner of the longest prefix containing addr (4 or 16 bytes), or NULL. */
struct aip_list *aip_lookup(const struct aip_table *t, int family, const void *addr);

/* Call fn for each prefix of owner, in insertion order, until it returns
 * non-zero; returns that value or 0. addr is 4 or 16 bytes, host bits zero. */
typedef int (*aip_walk_fn)(void *ctx, int family, const uint8_t *addr, uint8_t cidr);
int aip_walk(const struct aip_list *owner, aip_walk_fn fn, void *ctx);

/* Entries (prefixes with an owner) in the table. */
size_t aip_count(const struct aip_table *t);

#endif
