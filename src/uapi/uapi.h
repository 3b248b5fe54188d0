/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The WireGuard cross-platform UAPI (https://www.wireguard.com/xplatform/),
 * the text protocol that `wg` speaks to a userspace WireGuard over
 * /var/run/wireguard/IFNAME.sock. This module is the protocol without the
 * socket (that is server.h): one request in, one reply out, applied to a
 * struct wg_dev and to the two settings the device around the core owns
 * (struct uapi_host). docs/uapi.md has the protocol as implemented.
 *
 *	get=1\n\n              ->  key=value\n ... errno=0\n\n
 *	set=1\n key=value\n ... \n  ->  errno=N\n\n
 *	anything else          ->  no reply; the connection is closed
 *
 * `get` replies byte for byte as wireguard-go does, peers in the order they
 * were added.
 *
 * `set` is ALL-OR-NOTHING, unlike wireguard-go, which applies each line as it
 * reads it and stops at the first bad one. The whole request is parsed into a
 * transaction and validated first: every line, the caps of uapi/limits.h and
 * the device's own caps (peers, allowed IPs; a request that could exceed them
 * at any point of its application is refused with -ENOSPC). A refusal leaves
 * the device and the host settings exactly as they were. Then it is applied:
 * listen_port, then fwmark (the host may refuse them; the earlier one is then
 * undone), the private key, replace_peers, and the peers in request order.
 * ONLY -ENOMEM CAN LEAVE A PARTIAL APPLY: peers and allowed IPs applied
 * before an allocation failed stay applied (host settings and the private
 * key are applied and stay so by then).
 *
 * Reply errnos (negative, as wireguard-go writes them): -EPROTO for a line
 * without '=', -E2BIG over a cap of uapi/limits.h, -ENOSPC over a device cap,
 * -EOPNOTSUPP for listen_port/fwmark when the host has no setter, the host's
 * own errno when it refuses one, -EIO when OpenSSL fails on the private key,
 * -ENOMEM, and -EINVAL for everything else.
 *
 * Requests and replies carry private and preshared keys in hex: every buffer
 * here that held one is wiped before it is freed or reused.
 */
#ifndef UAPI_UAPI_H
#define UAPI_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/endpoint.h"
#include "wg/wg.h"

/* What the device around the core provides. Any member may be NULL: a NULL
 * getter reads as 0 (not printed by `get`), a NULL setter refuses that key
 * with -EOPNOTSUPP. */
struct uapi_host {
	uint16_t (*listen_port)(void *ctx);
	/* 0 or -errno, nothing changed on error. Port 0 picks any free port. */
	int (*set_listen_port)(void *ctx, uint16_t port);
	uint32_t (*fwmark)(void *ctx);
	/* 0 or -errno, nothing changed on error. */
	int (*set_fwmark)(void *ctx, uint32_t mark);
	void *ctx;
};

/* A growable reply buffer, capped at UAPI_MAX_REPLY. Zero-initialise it (or
 * call uapi_reply_init); release it with uapi_reply_free. The fields are the
 * caller's to read; write them only through the functions below. */
struct uapi_reply {
	char *buf;  /* len bytes of reply, not NUL-terminated */
	size_t len; /* bytes in buf */
	size_t cap; /* bytes allocated */
	/* Set when the request was not one: nothing was appended and the
	 * connection must be closed after what is already queued. */
	bool close;
};

void uapi_reply_init(struct uapi_reply *r);
/* Append n bytes. 0, or -ENOMEM (also past UAPI_MAX_REPLY); r unchanged on error. */
int uapi_reply_append(struct uapi_reply *r, const void *p, size_t n);
/* Empty r (it was sent), wiping it; a large buffer is freed, a small one kept. */
void uapi_reply_reset(struct uapi_reply *r);
/* Wipe and free the buffer; r is then empty and reusable. NULL ok. */
void uapi_reply_free(struct uapi_reply *r);

/* Length of the first complete request in buf[0..len): up to and including
 * the empty line that ends a get or set, or just the first line when it is
 * neither (uapi_handle then asks to close). 0 if more bytes are needed.
 * seen: the len of an earlier call on the same bytes that returned 0 (or
 * 0), so that a request arriving in pieces is scanned once, not once per
 * piece. */
size_t uapi_request_len(const char *buf, size_t len, size_t seen);

/* Process one complete request req[0..len) (as framed by uapi_request_len;
 * a set without its final empty line is refused) and append the whole
 * reply, "...errno=N\n\n", to out. now and sink go to wg_dev_set_peer (sink
 * may be NULL: the device is down, nothing is sent). host may be NULL.
 * Returns the N of the reply (0 or a negative errno). When nothing could be
 * appended it sets out->close and returns -EBADMSG (not a get or set) or
 * -ENOMEM (not even room for the errno line). */
int uapi_handle(struct wg_dev *dev, const struct uapi_host *host, uint64_t now,
		const struct wg_sink *sink, const char *req, size_t len, struct uapi_reply *out);

#endif
