/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hard caps of the registry (STYLE.md section 4). Everything a node or a
 * client can make the registry hold, parse or keep waiting is bounded by a
 * number named here; docs/registry.md lists them for operators.
 */
#ifndef REG_LIMITS_H
#define REG_LIMITS_H

#include "proto/limits.h"

/* Request bodies, checked against Content-Length before reading and again
 * while reading (chunked uploads). Reports carry one entry per peer and revocation
 * lists up to PROTO_REVOKE_MAX_ENTRIES, so those two get the large cap;
 * everything else is a few hundred bytes (a KEX message a few KiB). */
#define REG_BODY_MAX	   (32 * 1024)
#define REG_BODY_LARGE_MAX (4 * 1024 * 1024)

/* JSON shape, checked before and after jansson parses a body. Scope's bodies
 * nest three levels; 8 leaves room for extensions. */
#define REG_JSON_DEPTH_MAX  8
#define REG_JSON_ARRAY_MAX  REG_PEERS_MAX
#define REG_JSON_STRING_MAX 8192

/* Peers a registry serves: the benchmark bar of issue 5 is 10,000. */
#define REG_PEERS_MAX 32768

/* Peer names as certificates carry them. */
#define REG_NAME_MAX PROTO_PEER_NAME_MAX

/* Encoded records, before base64 (proto/limits.h). */
#define REG_CERT_MAX   PROTO_RECORD_MAX
#define REG_KILL_MAX   PROTO_RECORD_MAX
#define REG_REVOKE_MAX PROTO_REVOKE_RECORD_MAX

/* Endpoints a peer may advertise in one join/update/report. */
#define REG_ENDPOINTS_MAX 16
/* Longest textual endpoint: "[" IPv6 "]:" port. */
#define REG_ENDPOINT_STRLEN (1 + 45 + 2 + 5 + 1)

/* Entries in one report: one per peer. */
#define REG_REPORT_ENTRIES_MAX REG_PEERS_MAX
/* Latencies are reported in microseconds, at most a minute. */
#define REG_LATENCY_US_MAX (60ull * 1000 * 1000)
/* KEX state per reported peer (docs/pq.md): classical 0 no handshake, 1 in
 * progress, 2 session; PQ 0 none, 1 exchanging, 2 confirmed, 3 PQ PSK newest. */
#define REG_CLASSICAL_MAX 2
#define REG_PQ_STATE_MAX  3

/* KEX mailbox: opaque signed messages, bounded in size, per (from, to) pair,
 * per recipient, and in lifetime. A sender can only evict its own older
 * messages to a recipient (oldest go first). */
#define REG_KEX_MSG_MAX 8192
/* A stored mailbox entry: the message's signed request (headers and the
 * body that carried the message in base64) as JSON. */
#define REG_KEX_RECORD_MAX  (2 * REG_KEX_MSG_MAX + 2048)
#define REG_KEX_PER_PAIR    8
#define REG_KEX_TTL_DEFAULT 600
#define REG_KEX_TTL_MAX	    3600
#define REG_KEX_FETCH_MAX   256

/* Kill messages kept (the lowest serial is dropped beyond this). */
#define REG_KILLS_MAX 64

/* Event log: retained events (older ones are pruned; a cursor that fell
 * behind gets 410 and resynchronises with a full peer list) and events per
 * long-poll answer. */
#define REG_EVENTS_RETAIN    20000
#define REG_EVENTS_BATCH_MAX 1000

/* Long poll: default and largest wait, seconds. */
#define REG_POLL_TIMEOUT_DEFAULT 25
#define REG_POLL_TIMEOUT_MAX	 60

/* Relay tiers are recomputed this often (seconds); a change shows up as a
 * tier event at most this late. */
#define REG_TIER_PERIOD 5

/* Signed requests: accepted clock skew (either way), seconds, and the replay
 * cache, which must hold every signature seen within twice that window. When
 * it is full of live entries new requests are refused (503), never let
 * through unchecked. */
#define REG_SIG_WINDOW	     60
#define REG_REPLAY_CACHE_MAX (1u << 18)

/* HTTP server: connections (long-poll clients included), per-connection
 * memory for headers, idle timeout, trusted proxies. */
#define REG_HTTP_CONN_MAX	16384
#define REG_HTTP_CONN_MEM	(32 * 1024)
#define REG_HTTP_IDLE_TIMEOUT	30
#define REG_TRUSTED_PROXIES_MAX 32
#define REG_XFF_HOPS_MAX	16

#endif
