// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wg/aip.h"
#include "wg/limits.h"

struct aip_node {
	struct aip_node *child[2];
	struct aip_node *parent;
	/* NULL for a glue node, which only joins two branches. */
	struct aip_list *owner;
	struct aip_node *owner_prev;
	struct aip_node *owner_next;
	uint8_t v6;
	uint8_t cidr;
	/* Network byte order, bits past cidr zero. */
	uint8_t key[16];
};

struct aip_table {
	struct aip_node *root[2];
	size_t entries;
};

static unsigned int family_bits(int family)
{
	if (family == AF_INET)
		return 32;
	if (family == AF_INET6)
		return 128;
	return 0;
}

static unsigned int bit_at(const uint8_t *key, unsigned int i)
{
	return (key[i / 8] >> (7 - i % 8)) & 1;
}

/* Whether the first cidr bits of a and b agree. */
static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned int cidr)
{
	unsigned int full = cidr / 8, rem = cidr % 8;

	if (memcmp(a, b, full) != 0) /* not secret: addresses */
		return false;
	return !rem || !((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rem)));
}

/* Length of the common prefix of a and b, at most max bits. */
static unsigned int common_bits(const uint8_t *a, const uint8_t *b, unsigned int max)
{
	unsigned int i, n;

	for (i = 0; i * 8 < max; i++) {
		uint8_t x = a[i] ^ b[i];

		if (x) {
			n = i * 8 + (unsigned int)__builtin_clz(x) - 24;
			return n < max ? n : max;
		}
	}
	return max;
}

static void mask_key(uint8_t key[16], const void *addr, unsigned int bits, unsigned int cidr)
{
	unsigned int i;

	memset(key, 0, 16);
	memcpy(key, addr, bits / 8);
	for (i = cidr / 8; i < 16; i++)
		key[i] = i == cidr / 8 && cidr % 8 ? key[i] & (uint8_t)(0xff << (8 - cidr % 8)) : 0;
}

static struct aip_node *node_new(const uint8_t key[16], unsigned int cidr, bool v6)
{
	struct aip_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	mask_key(n->key, key, v6 ? 128 : 32, cidr);
	n->cidr = (uint8_t)cidr;
	n->v6 = v6;
	return n;
}

static struct aip_node **slot_of(struct aip_table *t, struct aip_node *n)
{
	if (!n->parent)
		return &t->root[n->v6];
	return &n->parent->child[bit_at(n->key, n->parent->cidr)];
}

static void owner_link(struct aip_node *n, struct aip_list *owner)
{
	n->owner = owner;
	n->owner_next = NULL;
	n->owner_prev = owner->last;
	if (owner->last)
		owner->last->owner_next = n;
	else
		owner->first = n;
	owner->last = n;
	owner->count++;
}

static void owner_unlink(struct aip_node *n)
{
	struct aip_list *owner = n->owner;

	if (n->owner_prev)
		n->owner_prev->owner_next = n->owner_next;
	else
		owner->first = n->owner_next;
	if (n->owner_next)
		n->owner_next->owner_prev = n->owner_prev;
	else
		owner->last = n->owner_prev;
	owner->count--;
	n->owner = NULL;
	n->owner_prev = n->owner_next = NULL;
}

struct aip_table *aip_new(void)
{
	return calloc(1, sizeof(struct aip_table));
}

static void free_subtree(struct aip_node *n)
{
	if (!n)
		return;
	free_subtree(n->child[0]);
	free_subtree(n->child[1]);
	if (n->owner) {
		n->owner->first = n->owner->last = NULL;
		n->owner->count = 0;
	}
	free(n);
}

void aip_free(struct aip_table *t)
{
	if (!t)
		return;
	free_subtree(t->root[0]);
	free_subtree(t->root[1]);
	free(t);
}

int aip_insert(struct aip_table *t, int family, const void *addr, uint8_t cidr,
	       struct aip_list *owner)
{
	unsigned int bits = family_bits(family), c;
	struct aip_node **slot, *node, *parent = NULL, *n, *glue = NULL;
	uint8_t key[16];
	bool v6 = family == AF_INET6;

	if (!bits || cidr > bits || !owner)
		return -EINVAL;
	mask_key(key, addr, bits, cidr);
	slot = &t->root[v6];
	node = *slot;
	while (node && node->cidr <= cidr && prefix_match(node->key, key, node->cidr)) {
		if (node->cidr == cidr) {
			if (node->owner == owner)
				return 0;
			if (node->owner)
				owner_unlink(node);
			else if (t->entries >= WG_MAX_ALLOWEDIPS)
				return -ENOSPC;
			else
				t->entries++;
			owner_link(node, owner);
			return 0;
		}
		parent = node;
		slot = &node->child[bit_at(key, node->cidr)];
		node = *slot;
	}
	if (t->entries >= WG_MAX_ALLOWEDIPS)
		return -ENOSPC;
	n = node_new(key, cidr, v6);
	if (!n)
		return -ENOMEM;
	if (node) {
		c = common_bits(node->key, key, cidr < node->cidr ? cidr : node->cidr);
		if (c < cidr) {
			/* Both continue past bit c in different directions. */
			glue = node_new(key, c, v6);
			if (!glue) {
				free(n);
				return -ENOMEM;
			}
		}
	}
	n->parent = parent;
	owner_link(n, owner);
	t->entries++;
	if (!node) {
		*slot = n;
	} else if (!glue) {
		/* The new prefix contains node's: it goes above it. */
		n->child[bit_at(node->key, cidr)] = node;
		node->parent = n;
		*slot = n;
	} else {
		glue->parent = parent;
		glue->child[bit_at(node->key, glue->cidr)] = node;
		glue->child[bit_at(key, glue->cidr)] = n;
		node->parent = glue;
		n->parent = glue;
		*slot = glue;
	}
	return 0;
}

/* Free n if it no longer carries anything: an ownerless node with one child
 * is replaced by that child, one with none disappears, and its parent may
 * then have become such a node too. */
static void collapse(struct aip_table *t, struct aip_node *n)
{
	while (n && !n->owner && !(n->child[0] && n->child[1])) {
		struct aip_node *child = n->child[0] ? n->child[0] : n->child[1];
		struct aip_node *parent = n->parent;

		*slot_of(t, n) = child;
		if (child)
			child->parent = parent;
		free(n);
		n = parent;
	}
}

static void node_remove(struct aip_table *t, struct aip_node *n)
{
	owner_unlink(n);
	t->entries--;
	collapse(t, n);
}

int aip_remove(struct aip_table *t, int family, const void *addr, uint8_t cidr,
	       struct aip_list *owner)
{
	unsigned int bits = family_bits(family);
	struct aip_node *node;
	uint8_t key[16];

	if (!bits || cidr > bits)
		return -EINVAL;
	mask_key(key, addr, bits, cidr);
	node = t->root[family == AF_INET6];
	while (node && node->cidr <= cidr && prefix_match(node->key, key, node->cidr)) {
		if (node->cidr == cidr) {
			if (!node->owner || node->owner != owner)
				return -ENOENT;
			node_remove(t, node);
			return 0;
		}
		node = node->child[bit_at(key, node->cidr)];
	}
	return -ENOENT;
}

void aip_remove_owner(struct aip_table *t, struct aip_list *owner)
{
	while (owner->first)
		node_remove(t, owner->first);
}

struct aip_list *aip_lookup(const struct aip_table *t, int family, const void *addr)
{
	unsigned int bits = family_bits(family);
	const struct aip_node *node;
	struct aip_list *best = NULL;
	uint8_t key[16] = { 0 };

	if (!bits)
		return NULL;
	memcpy(key, addr, bits / 8);
	node = t->root[family == AF_INET6];
	while (node && prefix_match(node->key, key, node->cidr)) {
		if (node->owner)
			best = node->owner;
		if (node->cidr == bits)
			break;
		node = node->child[bit_at(key, node->cidr)];
	}
	return best;
}

int aip_walk(const struct aip_list *owner, aip_walk_fn fn, void *ctx)
{
	const struct aip_node *n;
	int ret;

	for (n = owner->first; n; n = n->owner_next) {
		ret = fn(ctx, n->v6 ? AF_INET6 : AF_INET, n->key, n->cidr);
		if (ret)
			return ret;
	}
	return 0;
}

size_t aip_count(const struct aip_table *t)
{
	return t->entries;
}
