// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registry's request body parsers (src/registry/body.h) on arbitrary
 * bytes, one per leading selector byte, plus the X-Forwarded-For walk. They
 * must never crash or leak, must keep their caps on success, must say why
 * on failure, and a body they accept must survive the trip through a JSON
 * string (that is how the registry republishes signed bodies).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <jansson.h>

#include "common/jsondepth.h"
#include "proto/cert.h"
#include "proto/kill.h"
#include "proto/revoke.h"
#include "registry/body.h"
#include "registry/buf.h"
#include "registry/http.h"
#include "registry/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An accepted body as a JSON string parses back to the same bytes. */
static void round_trip(const uint8_t *p, size_t n)
{
	struct reg_buf b = { 0 };
	json_t *v;

	if (reg_buf_put(&b, "[", 1) || reg_buf_json_str(&b, (const char *)p, n) ||
	    reg_buf_put(&b, "]", 1))
		abort();
	v = json_loadb(b.p, b.len, JSON_ALLOW_NUL, NULL);
	if (!v || json_string_length(json_array_get(v, 0)) != n ||
	    memcmp(json_string_value(json_array_get(v, 0)), p, n) != 0)
		abort();
	json_decref(v);
	reg_buf_free(&b);
}

static void check_err(int r, const struct reg_err *e)
{
	if (r && r != -ENOMEM && (!e->code || e->status != 400 || !e->why[0]))
		abort();
}

static void endpoints_ok(const struct reg_endpoints *eps)
{
	size_t i;

	if (eps->n > REG_ENDPOINTS_MAX)
		abort();
	for (i = 0; i < eps->n; i++) {
		if ((eps->ep[i].family != 4 && eps->ep[i].family != 6) || eps->ep[i].port == 0)
			abort();
	}
}

static void fuzz_join(const uint8_t *p, size_t n)
{
	struct reg_join *j = calloc(1, sizeof(*j));
	struct proto_cert *c = calloc(1, sizeof(*c));
	struct reg_err e = { 0 };
	int r;

	if (!j || !c)
		abort();
	r = reg_body_join(p, n, j, &e);
	check_err(r, &e);
	if (!r) {
		if (j->cert_len == 0 || j->cert_len > REG_CERT_MAX ||
		    (j->role != PROTO_ROLE_EDGE && j->role != PROTO_ROLE_RELAY &&
		     j->role != PROTO_ROLE_MASTER))
			abort();
		endpoints_ok(&j->eps);
		proto_cert_decode(c, j->cert, j->cert_len);
		round_trip(p, n);
	}
	free(c);
	free(j);
}

static void fuzz_report(const uint8_t *p, size_t n)
{
	struct reg_report rep;
	struct reg_err e = { 0 };
	size_t i;
	int r = reg_body_report(p, n, &rep, &e);

	check_err(r, &e);
	if (r)
		return;
	if (rep.n > REG_REPORT_ENTRIES_MAX)
		abort();
	for (i = 0; i < rep.n; i++) {
		if (rep.e[i].reach < REG_REACH_NONE || rep.e[i].reach > 2 ||
		    (i && strcmp(rep.e[i - 1].peer, rep.e[i].peer) >= 0) ||
		    reg_report_find(&rep, rep.e[i].peer) != &rep.e[i])
			abort();
	}
	if (rep.has_eps)
		endpoints_ok(&rep.eps);
	round_trip(p, n);
	reg_report_clear(&rep);
}

static void fuzz_kex(const uint8_t *p, size_t n)
{
	struct reg_kex *k = calloc(1, sizeof(*k));
	struct reg_err e = { 0 };
	int r;

	if (!k)
		abort();
	r = reg_body_kex(p, n, k, &e);
	check_err(r, &e);
	if (!r && (k->len == 0 || k->len > REG_KEX_MSG_MAX || k->ttl == 0 ||
		   k->ttl > REG_KEX_TTL_MAX || !proto_peer_name_valid(k->to, strlen(k->to))))
		abort();
	free(k);
}

static void fuzz_record(const uint8_t *p, size_t n, int kill)
{
	struct reg_record rec = { 0 };
	struct reg_err e = { 0 };
	int r = kill ? reg_body_kill(p, n, &rec, &e) : reg_body_revoke(p, n, &rec, &e);

	check_err(r, &e);
	if (r)
		return;
	if (rec.len == 0 || rec.len > (kill ? REG_KILL_MAX : REG_REVOKE_MAX))
		abort();
	if (kill) {
		struct proto_kill *k = calloc(1, sizeof(*k));

		if (!k)
			abort();
		proto_kill_decode(k, rec.rec, rec.len);
		free(k);
	} else {
		struct proto_revoke *rl = NULL;

		if (proto_revoke_decode(&rl, rec.rec, rec.len) == 0)
			proto_revoke_free(rl);
	}
	reg_record_clear(&rec);
}

static void fuzz_update_leave(const uint8_t *p, size_t n)
{
	struct reg_update u;
	struct reg_err e = { 0 };
	int r = reg_body_update(p, n, &u, &e);

	check_err(r, &e);
	if (!r)
		endpoints_ok(&u.eps);
	memset(&e, 0, sizeof(e));
	check_err(reg_body_leave(p, n, &e), &e);
	if (sc_json_depth(p, n, REG_JSON_DEPTH_MAX) > REG_JSON_DEPTH_MAX + 1)
		abort();
}

static void fuzz_xff(const uint8_t *p, size_t n)
{
	struct proto_prefix any[2];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char ip[PROTO_ADDR_STRLEN], *s = malloc(n + 1);
	uint8_t a[16];

	if (!s || proto_prefix_parse("0.0.0.0/0", &any[0]) || proto_prefix_parse("::/0", &any[1]))
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	if (reg_http_client_ip((struct sockaddr *)&sa, s, any, 2, ip) != 0 ||
	    (proto_addr_parse(ip, 4, a) != 0 && proto_addr_parse(ip, 6, a) != 0))
		abort();
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > REG_BODY_MAX + 1)
		return 0;
	switch (data[0] % 7) {
	case 0:
		fuzz_join(data + 1, size - 1);
		break;
	case 1:
		fuzz_report(data + 1, size - 1);
		break;
	case 2:
		fuzz_kex(data + 1, size - 1);
		break;
	case 3:
		fuzz_record(data + 1, size - 1, 1);
		break;
	case 4:
		fuzz_record(data + 1, size - 1, 0);
		break;
	case 5:
		fuzz_update_leave(data + 1, size - 1);
		break;
	case 6:
		fuzz_xff(data + 1, size - 1);
		break;
	}
	return 0;
}
