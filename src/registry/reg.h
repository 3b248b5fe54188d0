/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The registry's request handling, independent of HTTP: a request (method,
 * target, headers that matter, body, client address) in, a response (status,
 * JSON) out. http.c adapts libmicrohttpd to it; tests and the fuzzer can
 * drive it in-process.
 *
 * The registry advises only (DESIGN.md sections 5 and 6): it stores signed
 * material and hands it out; nodes verify everything themselves. It checks
 * signatures and certificates only to turn junk away early.
 *
 * Thread-safe: handlers may run on several threads; store access is
 * serialised inside.
 */
#ifndef REG_REG_H
#define REG_REG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/sigreq.h"
#include "registry/auth.h"
#include "registry/buf.h"
#include "registry/store.h"

struct reg;

struct reg_config {
	struct reg_store *store; /* reg_new takes both over, even on failure */
	struct reg_auth *auth;
	/* Wall-clock Unix seconds. */
	int64_t (*now)(void *ctx);
	void *now_ctx;
	/* Called after every change that wrote an event, with the new version,
	 * outside any lock of the registry: wakes long-polls. May be NULL. */
	void (*notify)(void *ctx, uint64_t version);
	void *notify_ctx;
};

struct reg_request {
	const char *method;
	const char *uri; /* request target as sent: path and query */
	const uint8_t *body;
	size_t body_len;
	struct proto_sigreq_in sig; /* Scope-* header values, NULL when absent */
	const char *client_ip;	    /* after the trusted-proxy rule; may be NULL */
};

struct reg_response {
	unsigned status;
	const char *content_type; /* static */
	struct reg_blob *body;	  /* one reference, the caller puts it */
	/* Long poll: set instead of a body when GET /v1/events has nothing
	 * after cursor yet; call reg_poll_answer when notified or after
	 * timeout_s seconds. */
	int wait;
	uint64_t cursor;
	unsigned timeout_s;
};

/* Statistics of the HTTP layer, for /metrics. */
struct reg_http_stats {
	uint64_t connections; /* open now */
	uint64_t waiting;     /* suspended long polls */
	uint64_t too_large;   /* bodies refused by size before parsing */
};

/* 0, -ENOMEM, or -EIO/-EPROTO if the stored state cannot be loaded (errbuf
 * says why). */
int reg_new(const struct reg_config *cfg, struct reg **out, char *errbuf, size_t errlen);
void reg_free(struct reg *r);

/* Largest body the route of (method, uri) accepts, so the HTTP layer can
 * refuse a body before reading it; 0 if the route takes no body. */
size_t reg_body_max(const char *method, const char *uri);

/* 1 if (method, uri) names a resource, else 0 (404 or 405). */
int reg_route_exists(const char *method, const char *uri);

/* Handle one request; resp is always filled (errors become JSON error
 * responses). 0, or -ENOMEM when not even an error response could be made. */
int reg_handle(struct reg *r, const struct reg_request *req, struct reg_response *resp);

/* The answer to a waiting long poll: events after cursor, or, if there are
 * none, -EAGAIN unless final (timeout reached: an empty answer). */
int reg_poll_answer(struct reg *r, uint64_t cursor, int final, struct reg_response *resp);

/* A JSON error response {"error": why, "code": code} with status. */
int reg_error_response(struct reg_response *resp, unsigned status, const char *code,
		       const char *why);

/* Set (or replace) the notifier of reg_config; before serving. */
void reg_set_notify(struct reg *r, void (*notify)(void *ctx, uint64_t version), void *ctx);
/* Extra lines for /metrics (Prometheus text), e.g. the STUN responder's
 * counters; appended after the registry's own. Before serving. */
void reg_set_metrics_hook(struct reg *r, int (*fn)(void *ctx, struct reg_buf *out), void *ctx);
/* The current version (sequence number of the last event). */
int reg_version(struct reg *r, uint64_t *version);

/* Housekeeping, about once a second: prune the store, expire peers whose
 * certificate ran out, recompute tiers. */
void reg_tick(struct reg *r);

/* The HTTP layer's numbers for /metrics. */
void reg_set_http_stats(struct reg *r, const struct reg_http_stats *st);

#endif
