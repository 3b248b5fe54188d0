/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The registry's HTTP/1.1 server: libmicrohttpd with its own epoll thread
 * pool, feeding reg_handle (reg.h). It owns what is HTTP: body size caps
 * before and while reading, the client address (trusted proxies and
 * X-Forwarded-For), optional TLS, and long polls, which it suspends
 * (MHD_suspend_connection) until an event or their timeout resumes them.
 */
#ifndef REG_HTTP_H
#define REG_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proto/addr.h"
#include "registry/limits.h"
#include "registry/reg.h"

struct reg_http;

struct reg_http_config {
	struct reg *reg; /* not owned; outlives the server */
	const struct sockaddr *addr;
	socklen_t addrlen;
	/* Peers whose X-Forwarded-For is believed (at most
	 * REG_TRUSTED_PROXIES_MAX). */
	const struct proto_prefix *trusted;
	size_t ntrusted;
	/* PEM text of the certificate chain and key; both NULL: plain HTTP. */
	const char *tls_cert;
	const char *tls_key;
	unsigned threads; /* 0: one per CPU, at most 8 */
	/* Error and (if verbose) request log lines, key=value; may be NULL. */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	int verbose;
};

/* Start serving. Registers itself as reg's notifier. 0, or -errno with
 * errbuf saying why. */
int reg_http_start(const struct reg_http_config *cfg, struct reg_http **out, char *errbuf,
		   size_t errlen);
/* The bound port (useful after asking for port 0). */
uint16_t reg_http_port(const struct reg_http *h);
/* Time out long polls and publish HTTP stats; returns the milliseconds until
 * the next long-poll deadline (at most 1000). Call from one thread. */
int reg_http_tick(struct reg_http *h);
/* Answer every waiting long poll, stop the daemon, free. Accepts NULL. */
void reg_http_stop(struct reg_http *h);

/* The client address of a connection from peer (a socket address), given
 * its X-Forwarded-For header (may be NULL): the rightmost address not in a
 * trusted proxy, when peer itself is trusted. out gets text. 0 or -EINVAL. */
int reg_http_client_ip(const struct sockaddr *peer, const char *xff,
		       const struct proto_prefix *trusted, size_t ntrusted,
		       char out[PROTO_ADDR_STRLEN]);

#endif
