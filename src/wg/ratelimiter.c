// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "crypto/blake2s.h"
#include "crypto/ct.h"
#include "wg/constants.h"
#include "wg/limits.h"
#include "wg/ratelimiter.h"

_Static_assert((WG_RATELIMIT_BUCKETS & (WG_RATELIMIT_BUCKETS - 1)) == 0, "power of 2");

#define NIL UINT32_MAX

struct rl_entry {
	uint64_t last_ns;
	uint64_t tokens; /* in ns of credit, at most TOKEN_MAX */
	uint32_t next;	 /* chain in a bucket, or in the free list */
	uint8_t key_len;
	uint8_t key[8];
};

struct wg_ratelimiter {
	uint8_t hash_key[16];
	uint64_t last_gc;
	size_t count;
	uint32_t free_head;
	uint32_t bucket[WG_RATELIMIT_BUCKETS];
	struct rl_entry entry[WG_RATELIMIT_ENTRIES];
};

struct wg_ratelimiter *wg_ratelimiter_new(const uint8_t key[16])
{
	struct wg_ratelimiter *rl = calloc(1, sizeof(*rl));
	uint32_t i;

	if (!rl)
		return NULL;
	memcpy(rl->hash_key, key, sizeof(rl->hash_key));
	for (i = 0; i < WG_RATELIMIT_BUCKETS; i++)
		rl->bucket[i] = NIL;
	for (i = 0; i < WG_RATELIMIT_ENTRIES; i++)
		rl->entry[i].next = i + 1 < WG_RATELIMIT_ENTRIES ? i + 1 : NIL;
	rl->free_head = 0;
	return rl;
}

void wg_ratelimiter_free(struct wg_ratelimiter *rl)
{
	if (!rl)
		return;
	cry_wipe(rl->hash_key, sizeof(rl->hash_key));
	free(rl);
}

size_t wg_ratelimiter_count(const struct wg_ratelimiter *rl)
{
	return rl->count;
}

static void gc(struct wg_ratelimiter *rl, uint64_t now)
{
	uint32_t b, *link, i;

	for (b = 0; b < WG_RATELIMIT_BUCKETS; b++) {
		link = &rl->bucket[b];
		while ((i = *link) != NIL) {
			if (now - rl->entry[i].last_ns > RATELIMITER_GC_AGE) {
				*link = rl->entry[i].next;
				rl->entry[i].next = rl->free_head;
				rl->free_head = i;
				rl->count--;
			} else {
				link = &rl->entry[i].next;
			}
		}
	}
	rl->last_gc = now;
}

bool wg_ratelimiter_allow(struct wg_ratelimiter *rl, uint64_t now, const uint8_t *addr, size_t alen)
{
	uint8_t key[8] = { 0 }, h[4];
	uint8_t klen = alen == 4 ? 4 : 8;
	struct rl_entry *e;
	uint32_t b, i;
	uint64_t tokens;

	if (now - rl->last_gc >= RATELIMITER_GC_AGE)
		gc(rl, now);
	memcpy(key, addr, klen);
	cry_blake2s(h, sizeof(h), rl->hash_key, sizeof(rl->hash_key), key, klen);
	b = (uint32_t)(h[0] | h[1] << 8 | h[2] << 16 | (uint32_t)h[3] << 24) &
	    (WG_RATELIMIT_BUCKETS - 1);
	for (i = rl->bucket[b]; i != NIL; i = rl->entry[i].next) {
		e = &rl->entry[i];
		if (e->key_len != klen ||
		    memcmp(e->key, key, klen) != 0) /* not secret: addresses */
			continue;
		/* Refill by the time elapsed, spend one packet's cost if we can. */
		tokens = e->tokens + (now - e->last_ns);
		if (tokens > TOKEN_MAX)
			tokens = TOKEN_MAX;
		e->last_ns = now;
		if (tokens < PACKET_COST) {
			e->tokens = tokens;
			return false;
		}
		e->tokens = tokens - PACKET_COST;
		return true;
	}
	if (rl->free_head == NIL)
		return false;
	i = rl->free_head;
	e = &rl->entry[i];
	rl->free_head = e->next;
	e->key_len = klen;
	memcpy(e->key, key, sizeof(e->key));
	e->last_ns = now;
	e->tokens = TOKEN_MAX - PACKET_COST;
	e->next = rl->bucket[b];
	rl->bucket[b] = i;
	rl->count++;
	return true;
}
