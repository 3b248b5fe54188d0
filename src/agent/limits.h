/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hard caps of the node agent (STYLE.md section 4): everything it reads from
 * the registry or from its state directory is bounded by a number named
 * here. docs/agent.md explains the values.
 */
#ifndef AGENT_LIMITS_H
#define AGENT_LIMITS_H

#include "proto/limits.h"

/* Endpoints one peer publishes (the registry's cap too). */
#define AGENT_MAX_ENDPOINTS 16

/* Peers in one peer list, and names in its "left" part (the registry holds
 * at most 32,768 peers; tombstones of departed ones can add as many). */
#define AGENT_PEERS_MAX 32768
#define AGENT_LEFT_MAX	(2 * AGENT_PEERS_MAX)
/* Events in one long-poll answer (the registry sends at most 1,000). */
#define AGENT_EVENTS_MAX 1000
/* Kill switches in one GET /v1/kill answer (the registry keeps 64). */
#define AGENT_KILLS_MAX 64

/* One peer document. Its record may be a report that carried endpoints
 * (a body of up to 4 MiB, which JSON-escaping can double), hence the size. */
#define AGENT_DOC_MAX ((8u << 20) + (64u << 10))
/* Whole answers: the peer list and an event batch; the small answers (join,
 * update, leave, errors) and the kill-switch list (64 records of 16 KiB in
 * base64). */
#define AGENT_LIST_BODY_MAX  (256u << 20)
#define AGENT_SMALL_BODY_MAX (4u << 20)
/* JSON nesting of any answer or document (an event batch nests 4 deep). */
#define AGENT_JSON_DEPTH_MAX 8

/* The registry answers in this long (seconds): connecting, a plain request,
 * and the slack added to a long poll's own timeout. Long polls wait at most
 * AGENT_POLL_MAX seconds (the registry's cap). */
#define AGENT_CONNECT_TIMEOUT 10
#define AGENT_REQUEST_TIMEOUT 30
#define AGENT_POLL_SLACK      15
#define AGENT_POLL_MAX	      60

/* The persistent cache: the peer file holds every document plus a little. */
#define AGENT_CACHE_FILE_MAX  (AGENT_LIST_BODY_MAX + (1u << 20))
#define AGENT_CACHE_SMALL_MAX 4096

/* Registry error text kept for logs (it is untrusted: sanitised, capped). */
#define AGENT_ERR_TEXT_MAX 200

/* The KEX mailbox (docs/registry.md "POST /v1/kex"): messages in one
 * GET /v1/kex answer (the registry sends at most 256), the body of the
 * signed request that carried each one (the registry's 32 KiB body cap),
 * and the whole answer: 256 stored records of at most 18 KiB each (the
 * registry's REG_KEX_RECORD_MAX) plus their summaries, with room to spare.
 * Each KEX record itself is at most PROTO_KEX_RECORD_MAX (proto/limits.h).
 * Messages live at most AGENT_KEX_TTL_MAX seconds (the registry's cap). */
#define AGENT_KEX_FETCH_MAX	  256
#define AGENT_KEX_SIGNED_BODY_MAX (32u << 10)
#define AGENT_KEX_BODY_MAX	  (8u << 20)
#define AGENT_KEX_TTL_MAX	  3600

/* POST /v1/reports: entries (one per peer, the registry's cap) and the body
 * (the registry's 4 MiB cap; a larger one is refused before sending). */
#define AGENT_REPORT_PEERS_MAX 32768
#define AGENT_REPORT_BODY_MAX  (4u << 20)

/* In-tunnel KEX messages (src/agent/kexnet.h): UDP to this port on a
 * peer's overlay IPv4 address; at most this many datagrams are read per
 * wake-up, so a flood cannot hold the loop. */
#define AGENT_KEX_PORT	   51899
#define AGENT_KEX_RX_BURST 64

#endif
