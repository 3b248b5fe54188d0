// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel backend's dump parser (wgkernel_parse_dump), fed the reply to
 * a request for "wg0" (family 0x1c, sequence 1, port id 0): never
 * crashes; a refusal leaves nothing behind; an accepted reply lists every
 * peer once, within the caps, each allowed IP a valid prefix inside the
 * one array, and each peer's tunnel view is the one the reply gave it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/wgkernel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_peers(const struct uapi_dev_state *s)
{
	size_t total = 0;

	if (s->n_peers > UAPI_MAX_PEERS || s->n_aips > UAPI_MAX_ALLOWEDIPS)
		abort();
	for (size_t i = 0; i < s->n_peers; i++) {
		const struct uapi_peer_state *p = &s->peers[i];

		/* Pairwise: fine at fuzz sizes. */
		for (size_t j = i + 1; j < s->n_peers; j++)
			if (memcmp(p->public_key, s->peers[j].public_key, 32) == 0)
				abort();
		if (p->endpoint.family != AF_UNSPEC && p->endpoint.family != AF_INET &&
		    p->endpoint.family != AF_INET6)
			abort();
		if (p->n_allowedips && (p->allowedips < s->aips ||
					p->allowedips + p->n_allowedips > s->aips + s->n_aips))
			abort();
		for (size_t j = 0; j < p->n_allowedips; j++) {
			const struct wg_allowedip *a = &p->allowedips[j];

			if (!((a->family == AF_INET && a->cidr <= 32) ||
			      (a->family == AF_INET6 && a->cidr <= 128)) ||
			    a->remove)
				abort();
		}
		total += p->n_allowedips;
	}
	if (total != s->n_aips)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct wgkernel_req req = { 0x1c, 1, 0, "wg0" };
	struct wgkernel_state st = { 0 };
	struct kexd_tunnel t;
	uint8_t *buf;

	/* The socket code hands the parser an aligned buffer. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (wgkernel_parse_dump(buf, size, &req, &st)) {
		if (st.dev)
			abort();
		free(buf);
		return 0;
	}
	free(buf);
	if (!st.dev)
		abort();
	check_peers(st.dev);
	for (size_t i = 0; i < st.dev->n_peers; i++) {
		const struct uapi_peer_state *p = &st.dev->peers[i];

		wgkernel_peer_tunnel(&st, p->public_key, &t);
		if (!t.known || t.rx_bytes != p->rx_bytes ||
		    t.last_handshake_ns != p->last_handshake_ns || t.has_session)
			abort();
	}
	wgkernel_state_clear(&st);
	if (st.dev)
		abort();
	return 0;
}
