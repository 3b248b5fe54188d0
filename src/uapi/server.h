/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The UAPI socket: DIR/IFNAME.sock (normally /var/run/wireguard/wg0.sock),
 * a unix stream socket served on the event loop, where `wg` and wg-quick
 * find a userspace WireGuard.
 *
 * The socket file is created like wireguard-go's: the directory 0755 if
 * missing, the socket srwx------ (root only, in practice). A socket file
 * nobody listens on (left by a crash) is replaced; one that answers is
 * refused (-EADDRINUSE), as is a path that exists but is not a socket
 * (-EEXIST). uapi_server_free() unlinks the file if it is still ours.
 *
 * Each connection gets a read buffer capped at UAPI_MAX_REQUEST and carries
 * any number of requests, handled in order: the bytes of one whole request
 * (uapi_request_len) go to the request callback, which appends its reply.
 * The next request is read only once the reply is written, so a client that
 * does not read its replies holds one reply's memory and stops being read;
 * writes are non-blocking (EPOLLOUT while a reply waits), so a slow client
 * never blocks the loop or the others. A request over the cap is answered
 * "errno=-7" (E2BIG) and the connection closed; so is a connection the
 * callback asks to close (not a get or set), after its queued replies. A
 * connection that ends in the middle of a request hands the callback the
 * incomplete bytes (uapi_handle refuses them). At most UAPI_MAX_CLIENTS
 * connections are served at once; more are accepted and closed.
 *
 * Single-threaded: everything runs in loop callbacks. The callback must not
 * free the server.
 */
#ifndef UAPI_SERVER_H
#define UAPI_SERVER_H

#include <stddef.h>

#include "io/err.h"
#include "io/loop.h"
#include "uapi/uapi.h"

struct uapi_server;

/* Handle one complete request req[0..len) and append its reply to out
 * (uapi_handle does exactly this). */
typedef void (*uapi_request_fn)(void *ctx, const char *req, size_t len, struct uapi_reply *out);

/* Listen on DIR/IFNAME.sock. ifname: 1 to 15 characters, no '/'. 0 or
 * -errno with a message in err (may be NULL); *out only on success. */
int uapi_server_new(const char *dir, const char *ifname, struct loop *loop, uapi_request_fn fn,
		    void *ctx, struct uapi_server **out, struct io_err *err);
/* Close every connection and the socket, unlink its file. NULL ok. */
void uapi_server_free(struct uapi_server *s);

/* The socket's path. */
const char *uapi_server_path(const struct uapi_server *s);
/* Connections open now. */
size_t uapi_server_clients(const struct uapi_server *s);

#endif
