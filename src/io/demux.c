// SPDX-License-Identifier: GPL-2.0-only
#include "io/demux.h"

#include <errno.h>
#include <stdlib.h>

#include "common/compiler.h"

struct demux_handler {
	demux_fn fn;
	void *ctx;
};

struct demux {
	struct demux_handler h[DEMUX_KIND_COUNT];
	struct demux_stats stats;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int is_wg(const uint8_t *p, size_t n)
{
	if (n < 4 || p[1] || p[2] || p[3])
		return 0;
	switch (p[0]) {
	case 1:
		return n == DEMUX_WG_INITIATION_LEN;
	case 2:
		return n == DEMUX_WG_RESPONSE_LEN;
	case 3:
		return n == DEMUX_WG_COOKIE_LEN;
	case 4:
		/* Padding to 16 stops at the MTU, so a full-size data
		 * message need not be a multiple of 16 (Linux, wireguard-go). */
		return n >= DEMUX_WG_DATA_MIN_LEN;
	default:
		return 0;
	}
}

static int is_stun(const uint8_t *p, size_t n)
{
	if (n < DEMUX_STUN_HDR_LEN || n % 4 || (p[0] & 0xC0))
		return 0;
	if (be32(p + 4) != DEMUX_STUN_MAGIC)
		return 0;
	return ((size_t)p[2] << 8 | p[3]) + DEMUX_STUN_HDR_LEN == n;
}

static int is_scope(const uint8_t *p, size_t n)
{
	return n >= DEMUX_SCOPE_MIN_LEN && p[0] == DEMUX_SCOPE_MAGIC0 &&
	       p[1] == DEMUX_SCOPE_MAGIC1 && p[2] == DEMUX_SCOPE_MAGIC2 &&
	       p[3] == DEMUX_SCOPE_VERSION;
}

enum demux_kind demux_classify(const uint8_t *p, size_t n)
{
	/* WireGuard first: it is the hot path, and its sizes are exact. */
	if (is_wg(p, n))
		return DEMUX_WG;
	if (is_stun(p, n))
		return DEMUX_STUN;
	if (is_scope(p, n))
		return DEMUX_SCOPE;
	return DEMUX_DROP;
}

const char *demux_kind_name(enum demux_kind kind)
{
	static const char *const names[DEMUX_KIND_COUNT] = {
		[DEMUX_DROP] = "drop",
		[DEMUX_WG] = "wireguard",
		[DEMUX_STUN] = "stun",
		[DEMUX_SCOPE] = "scope",
	};

	if ((unsigned int)kind >= DEMUX_KIND_COUNT)
		return "?";
	return names[kind];
}

int demux_new(struct demux **out)
{
	struct demux *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	*out = d;
	return 0;
}

void demux_free(struct demux *d)
{
	free(d);
}

int demux_set_handler(struct demux *d, enum demux_kind kind, demux_fn fn, void *ctx)
{
	if ((unsigned int)kind >= DEMUX_KIND_COUNT || kind == DEMUX_DROP)
		return -EINVAL;
	d->h[kind].fn = fn;
	d->h[kind].ctx = fn ? ctx : NULL;
	return 0;
}

enum demux_kind demux_input(struct demux *d, uint8_t *p, size_t n, const struct io_endpoint *from)
{
	enum demux_kind kind = demux_classify(p, n);
	const struct demux_handler *h = &d->h[kind];

	d->stats.packets[kind]++;
	d->stats.bytes[kind] += n;
	if (sc_likely(h->fn))
		h->fn(h->ctx, p, n, from);
	else
		d->stats.unhandled[kind]++;
	return kind;
}

void demux_get_stats(const struct demux *d, struct demux_stats *out)
{
	*out = d->stats;
}
