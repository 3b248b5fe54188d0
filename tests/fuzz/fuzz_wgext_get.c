// SPDX-License-Identifier: GPL-2.0-only
/*
 * PSK-only mode's `get` parser (wgext_get_parse): never crashes; an
 * accepted reply lists every peer once, and each peer's tunnel view is the
 * one the reply gave it; an unknown key is not known.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/wgext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uapi_dev_state *st = NULL;
	struct kexd_tunnel t;
	uint8_t absent[32];
	bool any_absent = true;

	if (wgext_get_parse((const char *)data, size, &st)) {
		if (st)
			abort();
		return 0;
	}
	for (size_t i = 0; i < st->n_peers; i++) {
		const struct uapi_peer_state *p = &st->peers[i];

		wgext_peer_tunnel(st, p->public_key, &t);
		if (!t.known || t.rx_bytes != p->rx_bytes ||
		    t.last_handshake_ns != p->last_handshake_ns || t.has_session)
			abort();
	}
	/* A key no peer has: every byte 0xff unless some peer has it. */
	memset(absent, 0xff, sizeof(absent));
	for (size_t i = 0; i < st->n_peers; i++)
		if (memcmp(st->peers[i].public_key, absent, 32) == 0)
			any_absent = false;
	wgext_peer_tunnel(st, absent, &t);
	if (t.known != !any_absent)
		abort();
	uapi_dev_state_free(st);
	return 0;
}
