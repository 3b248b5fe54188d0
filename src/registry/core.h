/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals shared by the registry's handler files (core.c, peers.c,
 * mailbox.c, admin.c, tiers.c). Not an API.
 */
#ifndef REG_CORE_H
#define REG_CORE_H

#include <pthread.h>
#include <stdint.h>

#include "registry/body.h"
#include "registry/reg.h"

enum reg_route {
	R_NETWORK,
	R_JOIN,
	R_UPDATE,
	R_LEAVE,
	R_PEERS,
	R_EVENTS,
	R_REPORTS_POST,
	R_REPORTS_GET,
	R_KEX_POST,
	R_KEX_GET,
	R_KILL_POST,
	R_KILL_GET,
	R_REVOKE_POST,
	R_REVOKE_GET,
	R_TIERS,
	R_HEALTHZ,
	R_METRICS,
	R_NOT_FOUND,
	R__COUNT
};

/* Statuses counted per route in /metrics. */
#define REG_STATUSES 12

struct reg {
	struct reg_store *store;
	struct reg_auth *auth;
	int64_t (*now)(void *ctx);
	void *now_ctx;
	void (*notify)(void *ctx, uint64_t version);
	void *notify_ctx;

	pthread_mutex_t lock;  /* store, caches, tick state */
	struct reg_blob *full; /* cached full peer list */
	uint64_t full_version;
	int64_t last_prune, last_expiry, last_tiers;

	/* metrics (atomics) */
	uint64_t hits[R__COUNT][REG_STATUSES];
	uint64_t store_errors;
	struct reg_http_stats http;
	int (*metrics_hook)(void *ctx, struct reg_buf *out);
	void *metrics_ctx;
};

/* One request being handled. */
struct reg_ctx {
	struct reg *reg;
	const struct reg_request *req;
	struct reg_response *resp;
	int64_t now;
	char query[PROTO_SIGREQ_PATH_MAX + 1]; /* query string, without '?' */
	uint8_t signer[PROTO_KEY_LEN];
	struct reg_peer peer; /* the caller, after require_peer */
	struct reg_err err;
};

/* Reply with a JSON body (takes b's memory) or an error. Both return 0 or
 * -ENOMEM. */
int reg_reply(struct reg_ctx *c, unsigned status, struct reg_buf *b);
/* reg_reply() of a body whose building returned err: non-zero (out of
 * memory) frees b and answers 500 instead. */
int reg_reply_built(struct reg_ctx *c, unsigned status, struct reg_buf *b, int err);
int reg_reply_err(struct reg_ctx *c, const struct reg_err *e);
int reg_reply_status(struct reg_ctx *c, unsigned status, const char *code, const char *why);
/* A store error as a response (and a metric). */
int reg_reply_store(struct reg_ctx *c, int err);

/* Verify the signature, then look the signer up among joined peers in good
 * standing (fills c->peer). 0, or the error response has been made and a
 * negative value is returned: the handler just returns 0. */
int reg_require_signed(struct reg_ctx *c);
int reg_require_peer(struct reg_ctx *c);

/* Query parameters: name=value with value [A-Za-z0-9_-]{1,64}. *out is the
 * value or NULL if absent; -EINVAL on a bad query (the reply is made). */
int reg_query(struct reg_ctx *c, const char *name, const char **out, char *buf, size_t buflen);
int reg_query_u64(struct reg_ctx *c, const char *name, uint64_t max, uint64_t *out, int *present);
/* The query may carry only these names (NULL-terminated). */
int reg_query_only(struct reg_ctx *c, const char *const *names);

/* A JSON record of the current signed request: method, uri, key, timestamp,
 * nonce, signature and the body as a JSON string. */
int reg_signed_record(const struct reg_request *req, struct reg_buf *out);

void reg_notify(struct reg *r, uint64_t version);

/* Handlers (0 or -ENOMEM; errors are responses). */
int reg_h_join(struct reg_ctx *c);
int reg_h_update(struct reg_ctx *c);
int reg_h_leave(struct reg_ctx *c);
int reg_h_peers(struct reg_ctx *c);
int reg_h_events(struct reg_ctx *c);
int reg_h_report_post(struct reg_ctx *c);
int reg_h_report_get(struct reg_ctx *c);
int reg_h_kex_post(struct reg_ctx *c);
int reg_h_kex_get(struct reg_ctx *c);
int reg_h_kill_post(struct reg_ctx *c);
int reg_h_kill_get(struct reg_ctx *c);
int reg_h_revoke_post(struct reg_ctx *c);
int reg_h_revoke_get(struct reg_ctx *c);
int reg_h_network(struct reg_ctx *c);
int reg_h_tiers(struct reg_ctx *c);
int reg_h_healthz(struct reg_ctx *c);
int reg_h_metrics(struct reg_ctx *c);

/* The events answer for cursor (lock not held). 0, -EAGAIN (none and not
 * final) or -ENOMEM. */
int reg_events_answer(struct reg *r, uint64_t cursor, int final, struct reg_response *resp);

/* Remove the peers whose certificate expired (leave events). Lock held. */
void reg_expire_peers(struct reg *r, int64_t now);
/* Recompute relay tiers and write tier events for changes. Lock held; the
 * highest version written goes to *version (unchanged if none). */
void reg_tiers_update(struct reg *r, int64_t now, uint64_t *version);

/* Route names and counted statuses (0: any other) for /metrics. */
const char *reg_route_name(int route);
unsigned reg_status_at(size_t i);

/* Base64 of n bytes appended as a JSON string. */
int reg_buf_b64(struct reg_buf *b, const uint8_t *p, size_t n);

#endif
