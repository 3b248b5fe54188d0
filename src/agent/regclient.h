/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The registry client of the node daemon (docs/registry.md, docs/agent.md):
 * blocking libcurl over HTTP or HTTPS, one connection kept alive, every node
 * request signed with the identity key (proto_sigreq_sign over the request
 * target exactly as sent). The agent runs it on a thread of its own; one
 * regclient is not thread-safe. The program calls curl_global_init once
 * before starting threads.
 *
 * Trust: nothing the registry says about a peer is taken on its word. Peer
 * documents in lists and events are verified with agent_peer_from_json; a
 * refused one is counted, reported through the refusal callback and left
 * out, and the rest of the answer is used. An answer that is not the shape
 * docs/registry.md describes is refused whole (-EPROTO). Kill switches come
 * back raw: the agent verifies them against its network definition.
 *
 * Errors: 0 or a negative errno. Transport: -ECONNREFUSED, -ETIMEDOUT,
 * -EHOSTUNREACH (name not resolved), -ECONNRESET, -EKEYREJECTED (TLS
 * certificate not trusted), -EPROTO (TLS or HTTP failure, or a malformed
 * answer), -EMSGSIZE (answer over its cap). Registry refusals: 400 -EINVAL,
 * 401 -EACCES, 403 -EPERM or, by code, -ENOENT (unknown_peer: join again),
 * -EKEYREVOKED, -EKEYEXPIRED, -EXDEV (wrong_network); 404 -ENOENT, 409
 * -EEXIST, 410 -ESTALE, 413/414 -E2BIG, 503 -EAGAIN, other 5xx -EIO.
 * regclient_error() then says what happened, for the log.
 */
#ifndef AGENT_REGCLIENT_H
#define AGENT_REGCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/limits.h"
#include "agent/peer.h"
#include "proto/addr.h"

struct proto_netdef;
struct proto_revoke;
struct regclient;

/* A client for the registry at url (http:// or https://, optionally with a
 * path prefix that a reverse proxy forwards unchanged) of the network net
 * (verified; copied), signing with identity_seed (copied, wiped on free).
 * 0, -EINVAL (bad URL), -ENOMEM. */
int regclient_new(const char *url, const struct proto_netdef *net, const uint8_t identity_seed[32],
		  struct regclient **out);
void regclient_free(struct regclient *rc);

/* HTTPS: trust the CA certificates in this PEM file instead of the system's
 * (NULL: the system's). 0 or -ENOMEM. */
int regclient_set_cafile(struct regclient *rc, const char *path);
/* The revocation list documents are checked against (verified; borrowed,
 * must outlive its use here; NULL: none). */
void regclient_set_revocations(struct regclient *rc, const struct proto_revoke *rl);
/* Where refused documents are reported (NULL: nowhere). */
void regclient_set_refuse_cb(struct regclient *rc, agent_refuse_fn fn, void *ctx);

/* The last failure, for logs: "POST /v1/join: 409 name_taken: ..." or a
 * transport error; "" after a success. The registry's text is sanitised. */
const char *regclient_error(const struct regclient *rc);
/* The registry's stable error code of the last refusal ("" if none). */
const char *regclient_error_code(const struct regclient *rc);
/* The address the registry saw on the last join ("" if none). */
const char *regclient_observed_ip(const struct regclient *rc);

/* POST /v1/join with the certificate (canonical bytes), one role bit and the
 * endpoints (n <= AGENT_MAX_ENDPOINTS). *version: the registry's version. */
int regclient_join(struct regclient *rc, const uint8_t *cert, size_t cert_len, uint8_t role,
		   const struct proto_endpoint *eps, size_t n, uint64_t *version);
/* POST /v1/update. */
int regclient_update(struct regclient *rc, const struct proto_endpoint *eps, size_t n,
		     uint64_t *version);
/* POST /v1/leave. */
int regclient_leave(struct regclient *rc);

struct regclient_peers {
	struct agent_peer *peers; /* verified, sorted by name, names distinct */
	size_t n;
	char (*left)[PROTO_PEER_NAME_MAX + 1]; /* names that left (delta only) */
	size_t n_left;
	uint64_t version; /* continue deltas and events from here */
	bool full;	  /* replace the whole view (else apply as a delta) */
	size_t refused;	  /* documents that failed verification */
};

/* GET /v1/peers (since = 0: the full list) and verify every document at
 * now (Unix seconds). Documents carry version = the answer's version. */
int regclient_peers(struct regclient *rc, uint64_t since, uint64_t now,
		    struct regclient_peers *out);
void regclient_peers_clear(struct regclient_peers *p);

enum regclient_ev_type {
	RC_EV_JOIN,
	RC_EV_MOVE,
	RC_EV_LEAVE,
	RC_EV_TIER,
	RC_EV_KEX,
	RC_EV_KILL,
};

struct regclient_event {
	uint64_t seq;
	enum regclient_ev_type type;
	char peer[PROTO_PEER_NAME_MAX + 1]; /* "" for kill */
	struct agent_peer doc;		    /* join/move: verified, version = seq */
	uint8_t tier;			    /* tier: enum agent_tier (registry's word) */
	char from[PROTO_PEER_NAME_MAX + 1]; /* kex: the sender (peer is the recipient) */
	char reason[16];		    /* leave: "leave", "revoked", "expired" or "" */
	uint8_t *kill;			    /* kill: the raw record, NOT verified */
	size_t kill_len;
};

struct regclient_events {
	struct regclient_event *ev;
	size_t n;
	uint64_t cursor; /* ask for events after this next */
	bool expired;	 /* 410: fetch the full peer list, continue from its version */
	size_t refused;	 /* join/move events whose document failed verification */
};

/* GET /v1/events after cursor, waiting up to timeout_s (at most
 * AGENT_POLL_MAX; 0 answers at once). Events of unknown types are skipped;
 * join/move events with a refused document are dropped (counted), but the
 * cursor moves past them. */
int regclient_events(struct regclient *rc, uint64_t cursor, unsigned int timeout_s, uint64_t now,
		     struct regclient_events *out);
void regclient_events_clear(struct regclient_events *e);

/* GET /v1/kill: the stored kill switch with the highest serial, raw (the
 * caller verifies it and decides whether it applies). -ENOENT if none.
 * *rec is the caller's to free. */
int regclient_get_kill(struct regclient *rc, uint8_t **rec, size_t *len);
/* GET /v1/kill: all of them (at most AGENT_KILLS_MAX), highest serial first. */
struct regclient_kills {
	struct {
		uint8_t *rec;
		size_t len;
	} * k;
	size_t n;
};
int regclient_get_kills(struct regclient *rc, struct regclient_kills *out);
void regclient_kills_clear(struct regclient_kills *k);
/* GET /v1/revocations: the stored list, raw (the caller verifies it).
 * -ENOENT if the network has none. *rec is the caller's to free. */
int regclient_get_revocations(struct regclient *rc, uint8_t **rec, size_t *len);

/* ---- KEX mailbox (docs/registry.md "POST /v1/kex", docs/pq.md) ---- */

/* POST /v1/kex: the signed KEX record rec[0, len) for the peer named to,
 * kept by the registry for ttl_s seconds (1..AGENT_KEX_TTL_MAX; 0: the
 * registry's default, 600). *id: the message's mailbox id. -EINVAL (bad
 * name, len 0 or ttl), -E2BIG (len > PROTO_KEX_RECORD_MAX, not sent; or the
 * registry's 413), -ENOENT (404 no_such_peer: the recipient is not
 * joined), or the errors above. */
int regclient_kex_post(struct regclient *rc, const char *to, const uint8_t *rec, size_t len,
		       unsigned int ttl_s, uint64_t *id);

/* One mailbox message addressed to us. rec is the raw KEX record (the
 * "msg" of the signed request that carried it), NOT verified: the KEX
 * driver decodes it and checks its own signature against the sender's
 * certificate. from, created and expires are the registry's word. */
struct regclient_kex_msg {
	uint64_t id;
	char from[PROTO_PEER_NAME_MAX + 1];
	uint64_t created, expires; /* Unix seconds */
	size_t len;
	uint8_t rec[PROTO_KEX_RECORD_MAX];
};

/* Messages in one answer (the registry's page). */
#define REGCLIENT_KEX_PAGE_MAX AGENT_KEX_FETCH_MAX

struct regclient_kex_msgs {
	struct regclient_kex_msg *m; /* ids strictly increasing, all > after */
	size_t n;
	uint64_t next;	/* ask for messages after this id next */
	size_t refused; /* messages whose record could not be read (skipped) */
	size_t expired; /* messages that had expired by now (skipped) */
	bool more;	/* a full page (skipped ones included): ask again from next */
};

/* GET /v1/kex?after=after_id: unexpired messages to us with a larger id,
 * oldest first, at most AGENT_KEX_FETCH_MAX. A message whose record is not
 * a signed request carrying a base64 "msg" of 1..PROTO_KEX_RECORD_MAX bytes
 * is counted in refused, reported through the refusal callback and
 * skipped; so is one that expired before now (Unix seconds; counted in
 * expired, not reported). `next` moves past both. */
int regclient_kex_get(struct regclient *rc, uint64_t after_id, uint64_t now,
		      struct regclient_kex_msgs *out);
void regclient_kex_msgs_clear(struct regclient_kex_msgs *k);

/* ---- reports (docs/registry.md "POST /v1/reports") ---- */

#define RC_REACH_NONE (-1) /* reach: the peer is unreachable */

/* What this node knows about one other peer. */
struct regclient_report_peer {
	char peer[PROTO_PEER_NAME_MAX + 1];
	int reach; /* RC_REACH_NONE, 0 direct, 1 through relays, 2 through the master relay */
	bool has_latency;
	uint32_t latency_us; /* 0..60,000,000 */
	bool handshake;	     /* a classical WireGuard handshake completed */
	bool pq;	     /* a post-quantum PSK is the newest (pq_state 3) */
	/* Sent only with has_kex (the KEX driver runs for this peer): */
	bool has_kex;
	uint64_t kex_version; /* the active PSK version, 0 none; at most UINT32_MAX */
	uint32_t classical;   /* 0 no handshake, 1 handshake in progress, 2 session */
	uint32_t pq_state;    /* docs/pq.md KEX state 0..3 */
};

struct regclient_report {
	const struct regclient_report_peer *peers; /* names distinct */
	size_t n;				   /* at most AGENT_REPORT_PEERS_MAX */
	bool has_endpoints;			   /* also update the endpoints */
	const struct proto_endpoint *eps;
	size_t n_eps; /* at most AGENT_MAX_ENDPOINTS */
};

/* POST /v1/reports: the latest report replaces the previous one. The values
 * are the registry's to check (one rule, in one place): one out of range
 * comes back as its refusal, -EINVAL with code "bad_field". Refused here,
 * unsent: a bad peer name, a kex_version over UINT32_MAX, too many peers
 * or endpoints (-EINVAL), a body over AGENT_REPORT_BODY_MAX (-E2BIG). */
int regclient_report(struct regclient *rc, const struct regclient_report *r);
/* A deep copy of r in one allocation (for a queue), freed by
 * regclient_report_free (NULL is fine). 0, -EINVAL (over the caps), -ENOMEM. */
int regclient_report_dup(const struct regclient_report *r, struct regclient_report **out);
void regclient_report_free(struct regclient_report *r);

/* The answer parsers, for tests and fuzzing: body[0, len) of a 200 answer
 * to /v1/peers and /v1/events?cursor=cursor. All-or-nothing for the shape;
 * refused documents counted and reported through fn (may be NULL). */
int regclient_parse_peers(const char *body, size_t len, const struct proto_netdef *net,
			  const struct proto_revoke *rl, uint64_t now, agent_refuse_fn fn,
			  void *ctx, struct regclient_peers *out);
int regclient_parse_events(const char *body, size_t len, uint64_t cursor,
			   const struct proto_netdef *net, const struct proto_revoke *rl,
			   uint64_t now, agent_refuse_fn fn, void *ctx,
			   struct regclient_events *out);
/* body[0, len) of a 200 answer to GET /v1/kex?after=after, read at now. */
int regclient_parse_kex(const char *body, size_t len, uint64_t after, uint64_t now,
			agent_refuse_fn fn, void *ctx, struct regclient_kex_msgs *out);

#endif
