/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The client side of the UAPI: talk to any implementation's socket
 * (wireguard-go, boringtun, Scope's own) and read its `get` reply into a
 * struct. For backends that are not the built-in engine, e.g. PSK-only mode
 * against an existing userspace WireGuard (docs/uapi.md).
 *
 * Blocking calls with a timeout: meant for a control thread or a short-lived
 * command, not for the engine's loop. Replies are capped at UAPI_MAX_REPLY;
 * a parsed state holds keys and is wiped when freed.
 */
#ifndef UAPI_CLIENT_H
#define UAPI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/endpoint.h"
#include "io/err.h"
#include "uapi/uapi.h"

/* Connect to the socket at path (e.g. /var/run/wireguard/wg0.sock); reads
 * and writes on it give up after timeout_ms. *fdp (close it yourself) only
 * on success; 0 or -errno with a message in err (may be NULL). */
int uapi_client_connect(const char *path, int timeout_ms, int *fdp, struct io_err *err);

/* Send one whole request ("get=1\n\n", "set=1\n...\n\n") and read its reply,
 * up to and including "errno=N\n\n", appending it to out. *status gets N.
 * 0, or -errno: I/O errors, -ETIMEDOUT, -EPROTO (closed without a whole
 * reply), -E2BIG (reply over UAPI_MAX_REPLY), -ENOMEM. */
int uapi_client_request(int fd, const char *req, size_t len, struct uapi_reply *out, int *status);

struct uapi_peer_state {
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN]; /* zero: none */
	/* AF_UNSPEC when the peer has none, or when the text (kept in
	 * endpoint_text) is a form Scope does not take, such as port 0. */
	struct io_endpoint endpoint;
	char endpoint_text[IO_ENDPOINT_STRLEN + 16];
	uint64_t last_handshake_ns; /* wall clock; 0 never */
	uint64_t tx_bytes, rx_bytes;
	uint16_t persistent_keepalive;
	const struct wg_allowedip *allowedips; /* in the state's one array */
	size_t n_allowedips;
};

struct uapi_dev_state {
	bool has_private_key;
	uint8_t private_key[WG_KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
	struct uapi_peer_state *peers; /* in the order of the reply */
	size_t n_peers;
	struct wg_allowedip *aips; /* every peer's allowed IPs */
	size_t n_aips;
};

/* Parse a whole `get` reply (the "errno=0\n\n" end included), all or
 * nothing, at most UAPI_MAX_PEERS peers and UAPI_MAX_ALLOWEDIPS allowed IPs.
 * Keys it does not know are skipped (other implementations add some); a
 * known key with a bad value, a peer key before public_key, or a missing
 * end is -EBADMSG; a reply with errno=N, N != 0, is N. *out only on
 * success; free it with uapi_dev_state_free. */
int uapi_get_parse(const char *reply, size_t len, struct uapi_dev_state **out);
/* Wipe and free. NULL ok. */
void uapi_dev_state_free(struct uapi_dev_state *s);

#endif
