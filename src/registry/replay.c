// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ct.h"
#include "registry/replay.h"

/* 16 bytes of the 32-byte id: the ids are SHA3-256 outputs, so a prefix
 * collision between two requests is a 2^-64 birthday event over 2^32 ids. */
#define KEYLEN 16

struct gen {
	uint8_t (*slot)[KEYLEN]; /* all-zero = empty */
	size_t n;
};

struct reg_replay {
	uint64_t span; /* seconds per generation: 2 * window */
	size_t max;    /* ids per generation */
	size_t cap;    /* slots per generation: a power of two >= 2 * max */
	int64_t start; /* when the current generation began */
	int started;
	struct gen cur, prev;
};

int reg_replay_new(uint64_t window, size_t max_ids, struct reg_replay **out)
{
	struct reg_replay *rc;

	if (window == 0 || max_ids == 0 || max_ids > (SIZE_MAX >> 4) / KEYLEN)
		return -EINVAL;
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return -ENOMEM;
	rc->span = 2 * window;
	rc->max = max_ids;
	rc->cap = 1;
	while (rc->cap < 2 * max_ids)
		rc->cap <<= 1;
	/* calloc of a large block maps zero pages: untouched slots cost no RAM */
	rc->cur.slot = calloc(rc->cap, KEYLEN);
	if (!rc->cur.slot) {
		free(rc);
		return -ENOMEM;
	}
	*out = rc;
	return 0;
}

void reg_replay_free(struct reg_replay *rc)
{
	if (!rc)
		return;
	free(rc->cur.slot);
	free(rc->prev.slot);
	free(rc);
}

static size_t hash(const uint8_t *k)
{
	size_t h;

	memcpy(&h, k, sizeof(h)); /* already uniform */
	return h;
}

/* Index of key or of the empty slot where it would go. */
static size_t probe(const struct reg_replay *rc, const struct gen *g, const uint8_t *k)
{
	size_t i = hash(k) & (rc->cap - 1);

	while (!cry_is_zero(g->slot[i], KEYLEN) &&
	       memcmp(g->slot[i], k, KEYLEN) != 0) /* not secret: public signatures' hashes */
		i = (i + 1) & (rc->cap - 1);
	return i;
}

static int has(const struct reg_replay *rc, const struct gen *g, const uint8_t *k)
{
	return g->slot && !cry_is_zero(g->slot[probe(rc, g, k)], KEYLEN);
}

static int rotate(struct reg_replay *rc, int64_t now)
{
	uint8_t(*fresh)[KEYLEN];

	if (now - rc->start < (int64_t)rc->span)
		return 0;
	fresh = calloc(rc->cap, KEYLEN);
	if (!fresh)
		return -ENOMEM;
	free(rc->prev.slot);
	/* two spans with no request at all: the current generation is old too */
	if (now - rc->start >= 2 * (int64_t)rc->span) {
		free(rc->cur.slot);
		rc->prev.slot = NULL;
		rc->prev.n = 0;
	} else {
		rc->prev = rc->cur;
	}
	rc->cur.slot = fresh;
	rc->cur.n = 0;
	rc->start = now;
	return 0;
}

int reg_replay_check(struct reg_replay *rc, const uint8_t id[32], int64_t now)
{
	uint8_t k[KEYLEN];
	size_t i;
	int r;

	memcpy(k, id, KEYLEN);
	/* an all-zero prefix marks empty slots; map it to another value */
	if (cry_is_zero(k, KEYLEN))
		k[0] = 1;
	if (!rc->started) {
		rc->start = now;
		rc->started = 1;
	}
	r = rotate(rc, now);
	if (r)
		return r;
	if (has(rc, &rc->prev, k) || has(rc, &rc->cur, k))
		return -EEXIST;
	if (rc->cur.n >= rc->max)
		return -EBUSY;
	i = probe(rc, &rc->cur, k);
	memcpy(rc->cur.slot[i], k, KEYLEN);
	rc->cur.n++;
	return 0;
}

size_t reg_replay_count(const struct reg_replay *rc)
{
	return rc->cur.n + rc->prev.n;
}
