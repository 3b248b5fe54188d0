/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Request body parsers: JSON text in, a plain struct out, every field
 * checked (docs/registry.md lists them). All-or-nothing: on error the output
 * is untouched (except reg_report, which is cleared) and e says why. Unknown
 * fields are refused, so a typo never silently drops data. Pure functions:
 * the fuzz target tests/fuzz/fuzz_reg_body.c runs each on arbitrary bytes.
 */
#ifndef REG_BODY_H
#define REG_BODY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/addr.h"
#include "registry/limits.h"

/* An API error: the HTTP status, a stable code for programs and a reason
 * for people. Functions that fill one return a negative errno. */
struct reg_err {
	unsigned status;
	const char *code;
	char why[160];
};

struct reg_endpoints {
	size_t n;
	struct proto_endpoint ep[REG_ENDPOINTS_MAX];
};

/* POST /v1/join */
struct reg_join {
	uint8_t cert[REG_CERT_MAX];
	size_t cert_len;
	uint8_t role; /* one PROTO_ROLE_* bit: the role the peer acts in */
	struct reg_endpoints eps;
};

/* POST /v1/update */
struct reg_update {
	struct reg_endpoints eps;
};

#define REG_REACH_NONE	   (-1)
#define REG_LATENCY_NONE   UINT32_MAX
#define REG_KEX_STATE_NONE (-1) /* classical, pq_state: not reported */

/* One entry of a report: what the reporter knows about one other peer. */
struct reg_reach {
	char peer[REG_NAME_MAX + 1];
	int8_t reach;	     /* REG_REACH_NONE, or class 0 direct, 1 via relays, 2 via master */
	uint8_t handshake;   /* classical WireGuard handshake completed */
	uint8_t pq;	     /* post-quantum key exchange completed */
	uint32_t latency_us; /* REG_LATENCY_NONE if not measured */
	uint32_t kex_version;
	int8_t classical; /* REG_KEX_STATE_NONE, or 0 no handshake, 1 in progress, 2 session */
	int8_t pq_state;  /* REG_KEX_STATE_NONE, or docs/pq.md's KEX state 0..3 */
};

/* POST /v1/reports */
struct reg_report {
	int has_eps;
	struct reg_endpoints eps;
	size_t n;
	struct reg_reach *e; /* sorted by peer name */
};

/* POST /v1/kex */
struct reg_kex {
	char to[REG_NAME_MAX + 1];
	uint8_t msg[REG_KEX_MSG_MAX];
	size_t len;
	uint32_t ttl; /* seconds */
};

/* POST /v1/kill and /v1/revocations: a canonical record in base64. */
struct reg_record {
	uint8_t *rec; /* heap; reg_record_clear frees */
	size_t len;
};

int reg_body_join(const uint8_t *body, size_t len, struct reg_join *out, struct reg_err *e);
int reg_body_update(const uint8_t *body, size_t len, struct reg_update *out, struct reg_err *e);
/* An empty body or {}. */
int reg_body_leave(const uint8_t *body, size_t len, struct reg_err *e);
int reg_body_report(const uint8_t *body, size_t len, struct reg_report *out, struct reg_err *e);
void reg_report_clear(struct reg_report *r);
int reg_body_kex(const uint8_t *body, size_t len, struct reg_kex *out, struct reg_err *e);
/* {"kill": base64}, at most REG_KILL_MAX bytes decoded. */
int reg_body_kill(const uint8_t *body, size_t len, struct reg_record *out, struct reg_err *e);
/* {"revocations": base64}, at most REG_REVOKE_MAX bytes decoded. */
int reg_body_revoke(const uint8_t *body, size_t len, struct reg_record *out, struct reg_err *e);
void reg_record_clear(struct reg_record *r);

/* Find a peer in a parsed report (binary search); NULL if absent. */
const struct reg_reach *reg_report_find(const struct reg_report *r, const char *peer);

/* Error codes of the body parsers, besides those of json.h. */
#define REG_E_BAD_FIELD "bad_field"

#endif
