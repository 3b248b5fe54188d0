// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registry's request handling in-process (src/registry/reg.h) on a fake
 * clock: what needs time to pass, which the HTTP suite cannot wait for —
 * relay tiers after the 120 s grace, certificates expiring while joined —
 * plus the peer-list cache, long-poll answers, and that the signed records
 * the registry hands out verify for any node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include "test.h"
#include "regtest.h"
#include "registry/reg.h"

#define T0 1700000000

static int64_t fake_now = T0;

static int64_t now_fn(void *ctx)
{
	return fake_now;
}

struct fixture {
	char dir[64], db[96];
	struct rt_net net;
	struct reg *reg;
	uint64_t notified;
};

static void notify_fn(void *ctx, uint64_t v)
{
	((struct fixture *)ctx)->notified = v;
}

static int fx_open(struct fixture *f)
{
	struct reg_config cfg = { .now = now_fn, .notify = notify_fn, .notify_ctx = f };
	char err[256] = "";

	if (reg_auth_new(f->net.bytes, f->net.len, f->net.admin_pub, &cfg.auth, err, sizeof(err)) ||
	    reg_store_sqlite_open(f->db, &cfg.store, err, sizeof(err)) ||
	    reg_new(&cfg, &f->reg, err, sizeof(err))) {
		fprintf(stderr, "# open: %s\n", err);
		return -1;
	}
	return 0;
}

static int fx_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	fake_now = T0;
	snprintf(f->dir, sizeof(f->dir), "/tmp/scope-core-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/reg.db", f->dir);
	if (rt_net_make(&f->net, NULL, T0))
		return -1;
	return fx_open(f);
}

static void fx_done(struct fixture *f)
{
	char p[128];

	reg_free(f->reg);
	unlink(f->db);
	snprintf(p, sizeof(p), "%s-wal", f->db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->db);
	unlink(p);
	rmdir(f->dir);
}

/* A signed request by p (unsigned if p is NULL) at fake_now. Returns the
 * status; *out (if not NULL) the parsed JSON body. */
static unsigned call(struct fixture *f, const char *method, const char *uri, const char *body,
		     const struct rt_peer *p, json_t **out, struct reg_response *keep)
{
	struct proto_sigreq_hdr h;
	struct reg_request q = {
		.method = method,
		.uri = uri,
		.body = (const uint8_t *)(body ? body : ""),
		.body_len = body ? strlen(body) : 0,
		.client_ip = "192.0.2.9",
	};
	struct reg_response resp;
	unsigned st;

	if (p) {
		if (rt_sign(p, f->net.def.name, method, uri, q.body, q.body_len, (uint64_t)fake_now,
			    &h))
			return 0;
		q.sig = (struct proto_sigreq_in){ h.key, h.timestamp, h.nonce, h.signature };
	}
	if (reg_handle(f->reg, &q, &resp))
		return 0;
	if (resp.wait)
		st = 1;
	else
		st = resp.status;
	if (out)
		*out = resp.body ? json_loadb(resp.body->data, resp.body->len, 0, NULL) : NULL;
	if (keep)
		*keep = resp;
	else
		reg_blob_put(resp.body);
	return st;
}

static unsigned join(struct fixture *f, const struct rt_peer *p, const char *role)
{
	char *body = rt_join_body(p, role, "\"198.51.100.1:51820\"");
	unsigned st = call(f, "POST", "/v1/join", body, p, NULL, NULL);

	free(body);
	return st;
}

static const char *tier_of(struct fixture *f, const struct rt_peer *asker, const char *name)
{
	static char buf[16];
	json_t *o = NULL;
	const char *t;

	buf[0] = '\0';
	if (call(f, "GET", "/v1/tiers", NULL, asker, &o, NULL) == 200) {
		t = json_string_value(json_object_get(json_object_get(o, "tiers"), name));
		snprintf(buf, sizeof(buf), "%s", t ? t : "");
	}
	json_decref(o);
	return buf;
}

static unsigned report(struct fixture *f, const struct rt_peer *p, const char *entries)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"peers\":[%s]}", entries);
	return call(f, "POST", "/v1/reports", body, p, NULL, NULL);
}

/* Tiers follow DESIGN.md 7.4 through the registry: nobody is a pipe within
 * the grace; after it, a relay with few links and a poor report is; it is a
 * relay again once its report meets the bar. */
static void test_tiers(void)
{
	struct fixture f;
	struct rt_peer r1, r2, r3, e1;
	json_t *o = NULL;
	const char *all = "{\"peer\":\"r2\",\"reach\":0,\"handshake\":true,\"pq\":true},"
			  "{\"peer\":\"r3\",\"reach\":0,\"handshake\":true,\"pq\":true},"
			  "{\"peer\":\"e1\",\"reach\":0}";
	const char *all_r2 = "{\"peer\":\"r1\",\"reach\":0,\"handshake\":true,\"pq\":true},"
			     "{\"peer\":\"r3\",\"reach\":0,\"handshake\":true,\"pq\":true},"
			     "{\"peer\":\"e1\",\"reach\":0}";
	const char *weak_r3 = "{\"peer\":\"r1\",\"reach\":2,\"handshake\":true,\"pq\":false}";

	CHECK_EQ(fx_init(&f), 0);
	CHECK_EQ(rt_peer_make(&r1, &f.net, "r1", PROTO_ROLE_RELAY, 1, T0 - 10, T0 + 86400, NULL,
			      NULL),
		 0);
	CHECK_EQ(rt_peer_make(&r2, &f.net, "r2", PROTO_ROLE_RELAY, 2, T0 - 10, T0 + 86400, NULL,
			      NULL),
		 0);
	CHECK_EQ(rt_peer_make(&r3, &f.net, "r3", PROTO_ROLE_RELAY | PROTO_ROLE_EDGE, 3, T0 - 10,
			      T0 + 86400, NULL, NULL),
		 0);
	CHECK_EQ(rt_peer_make(&e1, &f.net, "e1", PROTO_ROLE_EDGE, 4, T0 - 10, T0 + 86400, NULL,
			      NULL),
		 0);
	CHECK_EQ(join(&f, &r1, "relay"), 200);
	CHECK_EQ(join(&f, &r2, "relay"), 200);
	CHECK_EQ(join(&f, &r3, "relay"), 200);
	CHECK_EQ(join(&f, &e1, "edge"), 200);
	CHECK(strcmp(tier_of(&f, &e1, "r1"), "relay") == 0);
	CHECK(strcmp(tier_of(&f, &e1, "e1"), "") == 0); /* edges have no tier */

	fake_now = T0 + 119;
	CHECK_EQ(report(&f, &r1, all), 200);
	CHECK_EQ(report(&f, &r3, weak_r3), 200);
	CHECK_EQ(report(&f, &e1, "{\"peer\":\"r1\",\"reach\":0}"), 200);
	reg_tick(f.reg);
	CHECK(strcmp(tier_of(&f, &e1, "r2"), "relay") == 0); /* within grace */
	CHECK(strcmp(tier_of(&f, &e1, "r3"), "relay") == 0);

	fake_now = T0 + 125;
	reg_tick(f.reg);
	CHECK(strcmp(tier_of(&f, &e1, "r1"), "relay") == 0);
	CHECK(strcmp(tier_of(&f, &e1, "r2"), "pipe") == 0); /* no report at all */
	CHECK(strcmp(tier_of(&f, &e1, "r3"), "pipe") == 0); /* no PQ link, reach only via master */
	CHECK(f.notified > 0);
	/* the change is an event with the rule's evidence */
	CHECK_EQ(call(&f, "GET", "/v1/events?cursor=4&timeout=0", NULL, &e1, &o, NULL), 200);
	{
		json_t *evs = json_object_get(o, "events"), *ev;
		size_t i;
		int tiers = 0;

		json_array_foreach(evs, i, ev)
		{
			if (strcmp(json_string_value(json_object_get(ev, "type")), "tier") == 0) {
				json_t *d = json_object_get(ev, "data");

				tiers++;
				CHECK(strcmp(json_string_value(json_object_get(d, "tier")),
					     "pipe") == 0);
				CHECK(json_integer_value(json_object_get(d, "links_needed")) == 1);
			}
		}
		CHECK_EQ(tiers, 2);
	}
	json_decref(o);

	/* r2 reports links to both relays and reaches everyone: relay again */
	fake_now = T0 + 131;
	CHECK_EQ(report(&f, &r2, all_r2), 200);
	reg_tick(f.reg);
	CHECK(strcmp(tier_of(&f, &e1, "r2"), "relay") == 0);
	CHECK(strcmp(tier_of(&f, &e1, "r3"), "pipe") == 0);
	fx_done(&f);
}

/* A certificate that runs out while joined: refused at once, removed by the
 * next housekeeping with a leave event. */
static void test_cert_expiry_while_joined(void)
{
	struct fixture f;
	struct rt_peer a, b;
	json_t *o = NULL;

	CHECK_EQ(fx_init(&f), 0);
	CHECK_EQ(rt_peer_make(&a, &f.net, "shortlived", PROTO_ROLE_EDGE, 5, T0 - 10, T0 + 100, NULL,
			      NULL),
		 0);
	CHECK_EQ(rt_peer_make(&b, &f.net, "observer", PROTO_ROLE_EDGE, 6, T0 - 10, T0 + 9999, NULL,
			      NULL),
		 0);
	CHECK_EQ(join(&f, &a, "edge"), 200);
	CHECK_EQ(join(&f, &b, "edge"), 200);
	CHECK_EQ(call(&f, "GET", "/v1/peers", NULL, &a, NULL, NULL), 200);
	fake_now = T0 + 100;
	CHECK_EQ(call(&f, "GET", "/v1/peers", NULL, &a, &o, NULL), 403);
	CHECK(o && strcmp(json_string_value(json_object_get(o, "code")), "cert_expired") == 0);
	json_decref(o);
	reg_tick(f.reg);
	CHECK_EQ(call(&f, "GET", "/v1/peers?since=2", NULL, &b, &o, NULL), 200);
	CHECK_EQ(json_array_size(json_object_get(o, "left")), 1);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(o, "left"), 0)),
		     "shortlived") == 0);
	json_decref(o);
	CHECK_EQ(call(&f, "GET", "/v1/events?cursor=2&timeout=0", NULL, &b, &o, NULL), 200);
	CHECK(strcmp(json_string_value(json_object_get(
			     json_object_get(json_array_get(json_object_get(o, "events"), 0),
					     "data"),
			     "reason")),
		     "expired") == 0);
	json_decref(o);
	fx_done(&f);
}

/* The full list is built once per version and shared; a change rebuilds it. */
static void test_peer_list_cache(void)
{
	struct fixture f;
	struct rt_peer a, b;
	struct reg_response r1, r2, r3;

	CHECK_EQ(fx_init(&f), 0);
	CHECK_EQ(rt_peer_make(&a, &f.net, "a", PROTO_ROLE_EDGE, 7, T0 - 1, T0 + 999, NULL, NULL),
		 0);
	CHECK_EQ(rt_peer_make(&b, &f.net, "b", PROTO_ROLE_EDGE, 8, T0 - 1, T0 + 999, NULL, NULL),
		 0);
	CHECK_EQ(join(&f, &a, "edge"), 200);
	CHECK_EQ(call(&f, "GET", "/v1/peers", NULL, &a, NULL, &r1), 200);
	CHECK_EQ(call(&f, "GET", "/v1/peers", NULL, &a, NULL, &r2), 200);
	CHECK(r1.body == r2.body);
	CHECK_EQ(join(&f, &b, "edge"), 200);
	CHECK_EQ(call(&f, "GET", "/v1/peers", NULL, &a, NULL, &r3), 200);
	CHECK(r3.body != r1.body);
	CHECK(r3.body->len > r1.body->len);
	reg_blob_put(r1.body);
	reg_blob_put(r2.body);
	reg_blob_put(r3.body);
	fx_done(&f);
}

/* Every node can check what a peer published without trusting the
 * registry: the record in the peer list is the signed join request. */
static void test_records_verify(void)
{
	struct fixture f;
	struct rt_peer a;
	json_t *o = NULL, *rec;
	struct proto_sigreq_in in;
	struct proto_sigreq_msg m;
	uint8_t signer[32], id[32];
	const char *body;

	CHECK_EQ(fx_init(&f), 0);
	CHECK_EQ(
		rt_peer_make(&a, &f.net, "alice", PROTO_ROLE_EDGE, 9, T0 - 1, T0 + 999, NULL, NULL),
		0);
	CHECK_EQ(join(&f, &a, "edge"), 200);
	CHECK_EQ(call(&f, "GET", "/v1/peers", NULL, &a, &o, NULL), 200);
	rec = json_object_get(json_array_get(json_object_get(o, "peers"), 0), "record");
	CHECK(rec != NULL);
	in.key = json_string_value(json_object_get(rec, "key"));
	in.timestamp = json_string_value(json_object_get(rec, "timestamp"));
	in.nonce = json_string_value(json_object_get(rec, "nonce"));
	in.signature = json_string_value(json_object_get(rec, "signature"));
	body = json_string_value(json_object_get(rec, "body"));
	m.network = f.net.def.name;
	m.method = json_string_value(json_object_get(rec, "method"));
	m.path = json_string_value(json_object_get(rec, "uri"));
	m.body = body;
	m.body_len = body ? strlen(body) : 0;
	CHECK_EQ(proto_sigreq_verify(&in, &m, (uint64_t)fake_now, 60, signer, id), 0);
	CHECK_MEM(signer, a.pub, 32);
	/* and a registry that edits the endpoints is caught */
	if (body) {
		char *forged = strdup(body);
		char *p = strstr(forged, "198.51.100.1");

		CHECK(p != NULL);
		if (p)
			p[0] = '2';
		m.body = forged;
		CHECK_EQ(proto_sigreq_verify(&in, &m, (uint64_t)fake_now, 60, signer, id),
			 PROTO_ERR_SIG);
		free(forged);
	}
	CHECK(strcmp(json_string_value(json_object_get(
			     json_array_get(json_object_get(o, "peers"), 0), "observed_ip")),
		     "192.0.2.9") == 0);
	json_decref(o);
	fx_done(&f);
}

/* A long poll with nothing new waits; an event makes the answer. */
static void test_long_poll(void)
{
	struct fixture f;
	struct rt_peer a, b;
	struct reg_response w, ans;
	json_t *o;

	CHECK_EQ(fx_init(&f), 0);
	CHECK_EQ(rt_peer_make(&a, &f.net, "a", PROTO_ROLE_EDGE, 10, T0 - 1, T0 + 999, NULL, NULL),
		 0);
	CHECK_EQ(rt_peer_make(&b, &f.net, "b", PROTO_ROLE_EDGE, 11, T0 - 1, T0 + 999, NULL, NULL),
		 0);
	CHECK_EQ(join(&f, &a, "edge"), 200);
	CHECK_EQ(call(&f, "GET", "/v1/events?timeout=30", NULL, &a, NULL, &w), 1);
	CHECK(w.wait && w.cursor == 1 && w.timeout_s == 30);
	CHECK_EQ(reg_poll_answer(f.reg, w.cursor, 0, &ans), -EAGAIN);
	CHECK_EQ(join(&f, &b, "edge"), 200);
	CHECK_EQ(f.notified, 2);
	CHECK_EQ(reg_poll_answer(f.reg, w.cursor, 0, &ans), 0);
	CHECK_EQ(ans.status, 200);
	o = json_loadb(ans.body->data, ans.body->len, 0, NULL);
	CHECK_EQ(json_integer_value(json_object_get(o, "cursor")), 2);
	CHECK(strcmp(json_string_value(json_object_get(
			     json_array_get(json_object_get(o, "events"), 0), "peer")),
		     "b") == 0);
	json_decref(o);
	reg_blob_put(ans.body);
	/* timeout: an empty answer that keeps the cursor */
	CHECK_EQ(reg_poll_answer(f.reg, 2, 1, &ans), 0);
	o = json_loadb(ans.body->data, ans.body->len, 0, NULL);
	CHECK_EQ(json_integer_value(json_object_get(o, "cursor")), 2);
	CHECK_EQ(json_array_size(json_object_get(o, "events")), 0);
	json_decref(o);
	reg_blob_put(ans.body);
	/* the timeout is capped */
	CHECK_EQ(call(&f, "GET", "/v1/events?timeout=61", NULL, &a, NULL, NULL), 400);
	fx_done(&f);
}

/* Refusals at the request layer: body over the route's cap, unknown route,
 * wrong method, bad query. */
static void test_routing_refusals(void)
{
	struct fixture f;
	struct rt_peer a;
	struct reg_request q = { .method = "POST", .uri = "/v1/join" };
	struct reg_response resp;
	uint8_t *big = calloc(1, REG_BODY_MAX + 1);

	CHECK_EQ(fx_init(&f), 0);
	CHECK_EQ(rt_peer_make(&a, &f.net, "a", PROTO_ROLE_EDGE, 12, T0 - 1, T0 + 999, NULL, NULL),
		 0);
	q.body = big;
	q.body_len = REG_BODY_MAX + 1;
	CHECK_EQ(reg_handle(f.reg, &q, &resp), 0);
	CHECK_EQ(resp.status, 413);
	reg_blob_put(resp.body);
	CHECK_EQ(reg_body_max("POST", "/v1/join"), REG_BODY_MAX);
	CHECK_EQ(reg_body_max("POST", "/v1/reports"), REG_BODY_LARGE_MAX);
	CHECK_EQ(reg_body_max("GET", "/v1/peers"), 0);
	CHECK_EQ(call(&f, "GET", "/v1/nope", NULL, NULL, NULL, NULL), 404);
	CHECK_EQ(call(&f, "DELETE", "/v1/peers", NULL, NULL, NULL, NULL), 405);
	CHECK_EQ(join(&f, &a, "edge"), 200);
	CHECK_EQ(call(&f, "GET", "/v1/peers?since=abc", NULL, &a, NULL, NULL), 400);
	CHECK_EQ(call(&f, "GET", "/v1/peers?since=1&since=2", NULL, &a, NULL, NULL), 400);
	CHECK_EQ(call(&f, "GET", "/v1/peers?color=red", NULL, &a, NULL, NULL), 400);
	CHECK_EQ(call(&f, "GET", "/v1/peers?since=", NULL, &a, NULL, NULL), 400);
	CHECK_EQ(call(&f, "GET", "/v1/peers?since=0", NULL, &a, NULL, NULL), 200);
	free(big);
	fx_done(&f);
}

static const struct t_case cases[] = {
	T(test_tiers),		 T(test_cert_expiry_while_joined),
	T(test_peer_list_cache), T(test_records_verify),
	T(test_long_poll),	 T(test_routing_refusals),
};

int main(void)
{
	return t_main("registry-core", cases, SC_ARRAY_SIZE(cases));
}
