/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An external WireGuard interface through its UAPI socket (wireguard-go,
 * boringtun, `scoped wg`): the backend of PSK-only mode (docs/pskonly.md).
 * It implements what kexd needs of a single-key backend (kexd.h: set_psks,
 * tunnel) and the start-up check of the interface's public key, and
 * nothing else: the only `set` it ever sends is
 *
 *	set=1
 *	public_key=<peer, hex>
 *	update_only=true
 *	preshared_key=<hex, zero for none>
 *	<empty line>
 *
 * for one peer that the interface already has (update_only: a peer removed
 * meanwhile is not re-created). Every other setting of the interface and of
 * its peers stays as the operator made it.
 *
 * Blocking calls with a timeout (WGEXT_TIMEOUT_MS), one connection per
 * request, so a restarted wireguard-go is picked up at the next call. A
 * `get` reply is parsed all-or-nothing (uapi_get_parse: every known key
 * checked, at most UAPI_MAX_PEERS peers, UAPI_MAX_REPLY bytes) and refused
 * whole if it lists a peer twice; the parsed state is reused for
 * WGEXT_CACHE_NS, so polling every peer once a tick costs one `get`.
 * Requests and replies carry keys: every buffer is wiped.
 *
 * One wgext is used from one thread.
 */
#ifndef AGENT_WGEXT_H
#define AGENT_WGEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/kexd.h"
#include "uapi/client.h"

#define WGEXT_TIMEOUT_MS 2000
#define WGEXT_CACHE_NS	 (250 * SC_NSEC_PER_MSEC)
#define WGEXT_SOCK_DIR	 "/var/run/wireguard"

struct wgext;

/* A backend for the UAPI socket at path (e.g. WGEXT_SOCK_DIR "/wg0.sock";
 * copied). Nothing is connected yet. 0, -ENAMETOOLONG, -ENOMEM. */
int wgext_new(const char *path, struct wgext **out);
/* Wipes the cached state. NULL ok. */
void wgext_free(struct wgext *w);

/* The interface's public key, from the private key its `get` shows.
 * 0, -ENOKEY (no private key set), or the errors below. */
int wgext_public_key(struct wgext *w, uint8_t pub[PROTO_KEY_LEN]);

/* kexd_ops.set_psks for a single-key backend: program ring[0] (n == 0: no
 * PSK) as the preshared key of peer wg, nothing else. 0, -ENOENT (the
 * interface has no such peer: nothing sent), or the errors below. */
int wgext_set_psk(struct wgext *w, const uint8_t wg[PROTO_KEY_LEN], const struct kexd_psk *ring,
		  size_t n);
/* kexd_ops.tunnel: known, last_handshake_ns and rx_bytes of peer wg (known
 * false when the interface does not have it); has_session stays false.
 * 0 or the errors below. */
int wgext_tunnel(struct wgext *w, const uint8_t wg[PROTO_KEY_LEN], struct kexd_tunnel *out);
/* A fresh read of the whole interface (status: endpoints, tx, allowed
 * IPs), not cached. *out only on success; free with uapi_dev_state_free. */
int wgext_read(struct wgext *w, struct uapi_dev_state **out);
/* Forget the cached state: the next call asks the interface again. */
void wgext_invalidate(struct wgext *w);

/* Errors: those of uapi_client_connect and uapi_client_request (-ENOENT or
 * -ECONNREFUSED: no such interface; -ETIMEDOUT), a reply errno=N (N),
 * -EBADMSG (a reply that does not parse, or lists a peer twice). The last
 * message, for the log: */
const char *wgext_error(const struct wgext *w);

/* The parser alone (tests, fuzz-wgext-get): uapi_get_parse plus the
 * duplicate check. *out only on success; free with uapi_dev_state_free. */
int wgext_get_parse(const char *reply, size_t len, struct uapi_dev_state **out);
/* One peer twice would make "the peer's handshake" ambiguous; no
 * implementation writes that. 0, -EBADMSG, -ENOMEM (sorted, not pairwise:
 * up to UAPI_MAX_PEERS). Shared with the kernel backend. */
int wgext_peers_distinct(const struct uapi_dev_state *st);
/* The peer wg of a parsed state as kexd sees it (known false if absent). */
void wgext_peer_tunnel(const struct uapi_dev_state *st, const uint8_t wg[PROTO_KEY_LEN],
		       struct kexd_tunnel *out);

#endif
