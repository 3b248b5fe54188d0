// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registry client against a real scope-registry (argv[1]) on 127.0.0.1
 * with a port the kernel picks: join, full list and delta, a long poll woken
 * by a join, move and leave events, a kill switch, the KEX mailbox (post,
 * fetch, pages, events, refusals) and its answer parser, reports with the
 * KEX state fields, refusals with their codes, and the registry gone.
 * Skipped if the binary is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "test.h"
#include "agent/peerdoc.h"
#include "agent/regclient.h"
#include "proto/kex.h"

static const char *registry_bin;
static char tmpdir[64], logpath[128];
static pid_t reg_pid;
static uint16_t reg_port;
static char url[64];
static struct rt_net net;
static struct rt_peer alice, bob, carol;

static uint64_t now_s(void)
{
	return (uint64_t)time(NULL);
}

static int parse_port(const char *s, uint16_t *out)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 6; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (!i || v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* Start the registry; its port from the "event=listening" log line. */
static int reg_start(void)
{
	char netfile[128], db[128];
	FILE *f;
	int i;

	snprintf(netfile, sizeof(netfile), "%s/net.scope", tmpdir);
	snprintf(db, sizeof(db), "%s/reg.db", tmpdir);
	snprintf(logpath, sizeof(logpath), "%s/registry.log", tmpdir);
	f = fopen(netfile, "wb");
	if (!f || fwrite(net.bytes, 1, net.len, f) != net.len) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	reg_pid = fork();
	if (reg_pid < 0)
		return -1;
	if (reg_pid == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execl(registry_bin, registry_bin, "--foreground", "--network", netfile, "--db", db,
		      "--listen", "127.0.0.1:0", "--stun", "off", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		char *log = t_slurp(logpath, NULL), *l, *p;

		l = log ? strstr(log, "event=listening") : NULL;
		p = l ? strstr(l, "port=") : NULL;
		if (p && parse_port(p + 5, &reg_port) == 0) {
			free(log);
			snprintf(url, sizeof(url), "http://127.0.0.1:%u", reg_port);
			return 0;
		}
		free(log);
		if (waitpid(reg_pid, NULL, WNOHANG) == reg_pid)
			break;
		usleep(20000);
	}
	return -1;
}

static void reg_stop(void)
{
	if (reg_pid > 0) {
		kill(reg_pid, SIGTERM);
		waitpid(reg_pid, NULL, 0);
		reg_pid = 0;
	}
}

static struct regclient *client(const struct rt_peer *p)
{
	struct regclient *rc = NULL;

	return regclient_new(url, &net.def, p->seed, &rc) ? NULL : rc;
}

static int ep(const char *s, struct proto_endpoint *e)
{
	return proto_endpoint_parse(s, e);
}

static int join(const struct rt_peer *p, const char *epstr, uint64_t *v)
{
	struct regclient *rc = client(p);
	struct proto_endpoint e;
	int r;

	if (!rc || ep(epstr, &e))
		return -1;
	r = regclient_join(rc, p->cert, p->cert_len, PROTO_ROLE_EDGE, &e, 1, v);
	if (r)
		fprintf(stderr, "# join %s: %s\n", p->name, regclient_error(rc));
	regclient_free(rc);
	return r;
}

static uint64_t v_alice, v_bob;

static void test_join_and_list(void)
{
	struct regclient *rc = client(&alice);
	struct regclient_peers l;

	CHECK(rc != NULL);
	CHECK_EQ(join(&alice, "198.51.100.1:51820", &v_alice), 0);
	CHECK_EQ(join(&bob, "198.51.100.2:51820", &v_bob), 0);
	CHECK(v_bob > v_alice);
	CHECK(strcmp(regclient_error(rc), "") == 0);
	CHECK_EQ(regclient_peers(rc, 0, now_s(), &l), 0);
	CHECK(l.full);
	CHECK_EQ(l.n, 2);
	CHECK_EQ(l.refused, 0);
	CHECK_EQ(l.version, v_bob);
	CHECK(l.n == 2 && strcmp(l.peers[0].name, "alice") == 0 &&
	      strcmp(l.peers[1].name, "bob") == 0);
	if (l.n == 2) {
		CHECK_MEM(l.peers[1].cert.wgkey, bob.wg, 32);
		CHECK_EQ(l.peers[1].n_endpoints, 1);
		CHECK_EQ(l.peers[1].endpoints[0].port, 51820);
		CHECK_EQ(l.peers[1].version, v_bob);
		CHECK(l.peers[1].role == PROTO_ROLE_EDGE && l.peers[1].role_signed);
		CHECK_EQ(l.peers[1].observed_family, 4);
	}
	regclient_peers_clear(&l);
	/* a delta: only what changed after alice joined */
	CHECK_EQ(regclient_peers(rc, v_alice, now_s(), &l), 0);
	CHECK(!l.full);
	CHECK(l.n == 1 && strcmp(l.peers[0].name, "bob") == 0);
	CHECK_EQ(l.n_left, 0);
	regclient_peers_clear(&l);
	/* documents verified at the caller's clock: all expired by then */
	CHECK_EQ(regclient_peers(rc, 0, now_s() + 20000, &l), 0);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(l.refused, 2);
	regclient_peers_clear(&l);
	regclient_free(rc);
}

struct poll_arg {
	uint64_t cursor;
	struct regclient_events ev;
	int ret;
	double took;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *poller(void *p)
{
	struct poll_arg *a = p;
	struct regclient *rc = client(&alice);
	double t = mono();

	a->ret = rc ? regclient_events(rc, a->cursor, 20, now_s(), &a->ev) : -1;
	a->took = mono() - t;
	regclient_free(rc);
	return NULL;
}

static uint64_t v_carol;

static void test_long_poll(void)
{
	struct poll_arg a = { .cursor = v_bob };
	pthread_t th;

	CHECK_EQ(pthread_create(&th, NULL, poller, &a), 0);
	usleep(300000);
	CHECK_EQ(join(&carol, "198.51.100.3:51820", &v_carol), 0);
	pthread_join(th, NULL);
	CHECK_EQ(a.ret, 0);
	CHECK(a.took < 5);
	CHECK_EQ(a.ev.n, 1);
	CHECK_EQ(a.ev.cursor, v_carol);
	if (a.ev.n == 1) {
		CHECK_EQ(a.ev.ev[0].type, RC_EV_JOIN);
		CHECK(strcmp(a.ev.ev[0].peer, "carol") == 0);
		CHECK(strcmp(a.ev.ev[0].doc.name, "carol") == 0);
		CHECK_MEM(a.ev.ev[0].doc.cert.identity, carol.pub, 32);
		CHECK_EQ(a.ev.ev[0].doc.version, v_carol);
	}
	regclient_events_clear(&a.ev);
}

static void test_move_and_leave(void)
{
	struct regclient *rb = client(&bob), *rcarol = client(&carol), *ra = client(&alice);
	struct proto_endpoint e[2];
	struct regclient_events ev;
	struct regclient_peers l;
	uint64_t v = 0;

	CHECK(rb && rcarol && ra);
	CHECK_EQ(ep("203.0.113.20:4000", &e[0]), 0);
	CHECK_EQ(ep("[2001:db8::20]:4000", &e[1]), 0);
	CHECK_EQ(regclient_update(rb, e, 2, &v), 0);
	CHECK(v > v_carol);
	CHECK_EQ(regclient_leave(rcarol), 0);
	CHECK_EQ(regclient_events(ra, v_carol, 0, now_s(), &ev), 0);
	CHECK_EQ(ev.n, 2);
	if (ev.n == 2) {
		CHECK_EQ(ev.ev[0].type, RC_EV_MOVE);
		CHECK(strcmp(ev.ev[0].peer, "bob") == 0);
		CHECK_EQ(ev.ev[0].doc.n_endpoints, 2);
		CHECK(!ev.ev[0].doc.role_signed); /* an update record */
		CHECK(ev.ev[0].doc.endpoints[1].family == 6 &&
		      ev.ev[0].doc.endpoints[1].port == 4000);
		CHECK_EQ(ev.ev[1].type, RC_EV_LEAVE);
		CHECK(strcmp(ev.ev[1].peer, "carol") == 0);
		CHECK(strcmp(ev.ev[1].reason, "leave") == 0);
		CHECK(ev.cursor == ev.ev[1].seq);
	}
	/* nothing newer: timeout=0 answers at once, the cursor stays */
	{
		uint64_t cur = ev.cursor;

		regclient_events_clear(&ev);
		CHECK_EQ(regclient_events(ra, cur, 0, now_s(), &ev), 0);
		CHECK_EQ(ev.n, 0);
		CHECK_EQ(ev.cursor, cur);
		regclient_events_clear(&ev);
		/* a cursor the registry never reached: 410, refetch */
		CHECK_EQ(regclient_events(ra, cur + 1000, 0, now_s(), &ev), 0);
		CHECK(ev.expired);
		regclient_events_clear(&ev);
	}
	CHECK_EQ(regclient_peers(ra, v_carol, now_s(), &l), 0);
	CHECK(l.n_left == 1 && strcmp(l.left[0], "carol") == 0);
	CHECK(l.n == 1 && strcmp(l.peers[0].name, "bob") == 0 && l.peers[0].n_endpoints == 2);
	regclient_peers_clear(&l);
	/* carol is gone: her signed requests are refused, and said so */
	CHECK_EQ(regclient_update(rcarol, e, 1, &v), -ENOENT);
	CHECK(strcmp(regclient_error_code(rcarol), "unknown_peer") == 0);
	CHECK(strstr(regclient_error(rcarol), "403") != NULL);
	regclient_free(ra);
	regclient_free(rb);
	regclient_free(rcarol);
}

/* POST a kill switch the way scopectl does. */
static long post_kill(const uint8_t *rec, size_t len)
{
	char *body = rt_b64_body("kill", rec, len), u[128];
	CURL *c = curl_easy_init();
	long st = -1;

	snprintf(u, sizeof(u), "%s/v1/kill", url);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, stderr);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_cleanup(c);
	free(body);
	return st;
}

static void test_kill(void)
{
	struct regclient *ra = client(&alice);
	struct regclient_events ev;
	uint8_t rec[PROTO_RECORD_MAX], *got = NULL;
	size_t len = 0, glen = 0;
	uint64_t v = 0;

	CHECK(ra != NULL);
	CHECK_EQ(regclient_get_kill(ra, &got, &glen), -ENOENT);
	{
		struct regclient_peers l;

		CHECK_EQ(regclient_peers(ra, 0, now_s(), &l), 0);
		v = l.version;
		regclient_peers_clear(&l);
	}
	CHECK_EQ(rt_kill(&net, net.admin_seed, 7, "bob", rec, sizeof(rec), &len), 0);
	CHECK_EQ(post_kill(rec, len), 200);
	CHECK_EQ(regclient_get_kill(ra, &got, &glen), 0);
	CHECK(glen == len && got && memcmp(got, rec, len) == 0);
	free(got);
	CHECK_EQ(regclient_events(ra, v, 0, now_s(), &ev), 0);
	CHECK(ev.n == 1 && ev.ev[0].type == RC_EV_KILL && ev.ev[0].kill_len == len &&
	      memcmp(ev.ev[0].kill, rec, len) == 0 && ev.ev[0].peer[0] == '\0');
	regclient_events_clear(&ev);
	/* no revocation list yet */
	CHECK_EQ(regclient_get_revocations(ra, &got, &glen), -ENOENT);
	regclient_free(ra);
}

/* ---- KEX mailbox ---- */

/* A real signed EK record from `from` to `to` for version v (what the KEX
 * driver sends), so the receiving side can decode and verify what came
 * back. */
static int kex_ek(const struct rt_peer *from, const struct rt_peer *to, uint64_t v, uint8_t *out,
		  size_t *len)
{
	struct proto_cert a, b;
	struct proto_kex m;
	uint8_t dk[CRY_XWING_SK];

	if (proto_cert_decode(&a, from->cert, from->cert_len) ||
	    proto_cert_decode(&b, to->cert, to->cert_len))
		return -1;
	memset(&m, 0, sizeof(m));
	m.type = PROTO_T_KEX_EK;
	memcpy(m.network, a.network, sizeof(m.network));
	memcpy(m.from, a.name, sizeof(m.from));
	memcpy(m.from_id, a.identity, 32);
	memcpy(m.from_wg, a.wgkey, 32);
	memcpy(m.to, b.name, sizeof(m.to));
	memcpy(m.to_wg, b.wgkey, 32);
	m.version = v;
	m.issued = now_s();
	if (cry_random(m.nonce, sizeof(m.nonce)) || cry_xwing_keygen(m.ek, dk) ||
	    proto_kex_sign(&m, from->seed) || proto_kex_encode(&m, out, PROTO_KEX_RECORD_MAX, len))
		return -1;
	return 0;
}

/* The record decodes and verifies as from -> to. */
static bool kex_verifies(const uint8_t *rec, size_t len, const struct rt_peer *from,
			 const struct rt_peer *to)
{
	struct proto_cert a, b;
	struct proto_kex m;

	return proto_cert_decode(&a, from->cert, from->cert_len) == 0 &&
	       proto_cert_decode(&b, to->cert, to->cert_len) == 0 &&
	       proto_kex_decode(&m, rec, len) == 0 && proto_kex_verify(&m, &a, &b) == 0;
}

static void test_kex_mailbox(void)
{
	struct regclient *ra = client(&alice), *rb = client(&bob);
	uint8_t rec1[PROTO_KEX_RECORD_MAX], rec2[PROTO_KEX_RECORD_MAX],
		big[PROTO_KEX_RECORD_MAX + 1];
	size_t len1 = 0, len2 = 0, i, kex_events = 0;
	struct regclient_kex_msgs k;
	struct regclient_events ev;
	struct regclient_peers l;
	uint64_t v0 = 0, id1 = 0, id2 = 0, id = 0;

	CHECK(ra && rb);
	CHECK_EQ(regclient_peers(rb, 0, now_s(), &l), 0);
	v0 = l.version;
	regclient_peers_clear(&l);
	CHECK_EQ(kex_ek(&alice, &bob, 1, rec1, &len1), 0);
	CHECK_EQ(kex_ek(&alice, &bob, 2, rec2, &len2), 0);
	/* alice -> bob, twice: ids grow */
	CHECK_EQ(regclient_kex_post(ra, "bob", rec1, len1, 0, &id1), 0);
	CHECK_EQ(regclient_kex_post(ra, "bob", rec2, len2, 60, &id2), 0);
	CHECK(id1 > 0 && id2 > id1);

	/* bob reads both, oldest first, the exact bytes, verifiable */
	CHECK_EQ(regclient_kex_get(rb, 0, now_s(), &k), 0);
	CHECK_EQ(k.n, 2);
	CHECK_EQ(k.next, id2);
	CHECK(!k.more && k.refused == 0 && k.expired == 0);
	if (k.n == 2) {
		CHECK_EQ(k.m[0].id, id1);
		CHECK(strcmp(k.m[0].from, "alice") == 0);
		CHECK_EQ(k.m[0].len, len1);
		CHECK_MEM(k.m[0].rec, rec1, len1);
		CHECK(kex_verifies(k.m[0].rec, k.m[0].len, &alice, &bob));
		CHECK(k.m[0].created <= now_s() && k.m[0].created + 5 >= now_s());
		CHECK_EQ(k.m[0].expires - k.m[0].created, 600); /* the registry's default */
		CHECK_EQ(k.m[1].id, id2);
		CHECK_EQ(k.m[1].expires - k.m[1].created, 60);
		CHECK_MEM(k.m[1].rec, rec2, len2);
		CHECK(kex_verifies(k.m[1].rec, k.m[1].len, &alice, &bob));
		/* a record checked against the wrong pair fails */
		CHECK(!kex_verifies(k.m[1].rec, k.m[1].len, &bob, &alice));
	}
	regclient_kex_msgs_clear(&k);
	/* after pages: past the first, past both */
	CHECK_EQ(regclient_kex_get(rb, id1, now_s(), &k), 0);
	CHECK(k.n == 1 && k.m[0].id == id2 && k.next == id2);
	regclient_kex_msgs_clear(&k);
	CHECK_EQ(regclient_kex_get(rb, id2, now_s(), &k), 0);
	CHECK_EQ(k.n, 0);
	CHECK_EQ(k.next, id2);
	regclient_kex_msgs_clear(&k);
	/* not addressed to alice */
	CHECK_EQ(regclient_kex_get(ra, 0, now_s(), &k), 0);
	CHECK_EQ(k.n, 0);
	regclient_kex_msgs_clear(&k);
	/* read at a clock past both expiries: skipped and counted, next moves */
	CHECK_EQ(regclient_kex_get(rb, 0, now_s() + 700, &k), 0);
	CHECK(k.n == 0 && k.expired == 2 && k.next == id2);
	regclient_kex_msgs_clear(&k);

	/* bob's event stream announced both, sender named */
	CHECK_EQ(regclient_events(rb, v0, 0, now_s(), &ev), 0);
	for (i = 0; i < ev.n; i++) {
		if (ev.ev[i].type != RC_EV_KEX)
			continue;
		kex_events++;
		CHECK(strcmp(ev.ev[i].peer, "bob") == 0 && strcmp(ev.ev[i].from, "alice") == 0);
	}
	CHECK_EQ(kex_events, 2);
	regclient_events_clear(&ev);

	/* refusals: unknown or departed recipient (the registry's 404), to
	 * oneself (its 400), and what never reaches the wire */
	CHECK_EQ(regclient_kex_post(ra, "nobody", rec1, len1, 0, &id), -ENOENT);
	CHECK(strcmp(regclient_error_code(ra), "no_such_peer") == 0);
	CHECK_EQ(regclient_kex_post(ra, "carol", rec1, len1, 0, &id), -ENOENT);
	CHECK_EQ(regclient_kex_post(ra, "alice", rec1, len1, 0, &id), -EINVAL);
	CHECK(strcmp(regclient_error_code(ra), "bad_field") == 0);
	memset(big, 0x5a, sizeof(big));
	CHECK_EQ(regclient_kex_post(ra, "bob", big, sizeof(big), 0, &id), -E2BIG);
	CHECK(strstr(regclient_error(ra), "not sent") && !regclient_error_code(ra)[0]);
	CHECK_EQ(regclient_kex_post(ra, "bob", rec1, 0, 0, &id), -EINVAL);
	CHECK_EQ(regclient_kex_post(ra, "Bad Name", rec1, len1, 0, &id), -EINVAL);
	CHECK_EQ(regclient_kex_post(ra, "bob", rec1, len1, AGENT_KEX_TTL_MAX + 1, &id), -EINVAL);
	CHECK_EQ(id, 0); /* out-parameters only on success */
	/* none of them was stored */
	CHECK_EQ(regclient_kex_get(rb, id2, now_s(), &k), 0);
	CHECK_EQ(k.n, 0);
	regclient_kex_msgs_clear(&k);
	regclient_free(ra);
	regclient_free(rb);
}

/* ---- the GET /v1/kex answer parser ---- */

struct refusals {
	size_t n;
	char peer[PROTO_PEER_NAME_MAX + 1];
};

static void on_refuse(void *ctx, const char *peer, int err, const char *why)
{
	struct refusals *r = ctx;

	r->n++;
	snprintf(r->peer, sizeof(r->peer), "%s", peer);
	fprintf(stderr, "# refused %s: %s\n", peer, why);
}

/* One message of an answer whose signed body carries msg. */
static char *kex_msg_json(uint64_t id, const char *from, const char *msg)
{
	json_t *body = json_pack("{s:s,s:s,s:i}", "to", "bob", "msg", msg, "ttl", 600);
	char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_t *m =
		b ? json_pack("{s:I,s:s,s:I,s:I,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s}}", "id",
			      (json_int_t)id, "from", from, "created", (json_int_t)1000, "expires",
			      (json_int_t)1600, "record", "method", "POST", "uri", "/v1/kex", "key",
			      "k", "timestamp", "1000", "nonce", "n", "signature", "s", "body", b)
		  : NULL;
	char *out = m ? json_dumps(m, JSON_COMPACT) : NULL;

	json_decref(body);
	json_decref(m);
	free(b);
	return out;
}

__attribute__((format(printf, 4, 5))) static int
parse_kex(uint64_t after, struct refusals *rf, struct regclient_kex_msgs *k, const char *fmt, ...)
{
	char text[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return regclient_parse_kex(text, strlen(text), after, 1100, on_refuse, rf, k);
}

static void test_kex_parse(void)
{
	char *good = kex_msg_json(5, "alice", "AQID"), *bad64 = kex_msg_json(6, "carol", "AQI*"),
	     *empty = kex_msg_json(6, "carol", ""), *big, *again = kex_msg_json(5, "alice", "AQID");
	char big64[SC_B64_LEN(PROTO_KEX_RECORD_MAX + 3) + 1];
	uint8_t raw[PROTO_KEX_RECORD_MAX + 3];
	struct regclient_kex_msgs k, untouched = { .next = 77 };
	struct refusals rf = { 0 };
	json_t *over;
	char *overs;
	size_t i;

	memset(raw, 7, sizeof(raw));
	sc_b64_encode(big64, raw, sizeof(raw));
	big = kex_msg_json(7, "dave", big64);
	CHECK(good && bad64 && empty && big && again);
	/* a good message and one with an unreadable record: the good one is
	 * used, the other refused, counted and named, next moves past it */
	CHECK_EQ(parse_kex(0, &rf, &k, "{\"messages\":[%s,%s],\"next\":6}", good, bad64), 0);
	CHECK(k.n == 1 && k.m[0].id == 5 && k.m[0].len == 3 && k.m[0].rec[2] == 3);
	CHECK(k.refused == 1 && k.next == 6 && rf.n == 1 && strcmp(rf.peer, "carol") == 0);
	regclient_kex_msgs_clear(&k);
	CHECK_EQ(parse_kex(0, &rf, &k, "{\"messages\":[%s],\"next\":6}", empty), 0);
	CHECK(k.n == 0 && k.refused == 1);
	regclient_kex_msgs_clear(&k);
	/* a record over PROTO_KEX_RECORD_MAX is refused, not truncated */
	CHECK_EQ(parse_kex(0, &rf, &k, "{\"messages\":[%s],\"next\":7}", big), 0);
	CHECK(k.n == 0 && k.refused == 1);
	regclient_kex_msgs_clear(&k);
	/* a broken shape refuses the whole answer, *out untouched */
	k = untouched;
	CHECK_EQ(parse_kex(0, &rf, &k, "{\"messages\":[%s,%s],\"next\":5}", good, again),
		 -EPROTO); /* ids must grow */
	CHECK_EQ(parse_kex(5, &rf, &k, "{\"messages\":[%s],\"next\":5}", good),
		 -EPROTO); /* not after `after` */
	CHECK_EQ(parse_kex(0, &rf, &k, "{\"messages\":[%s],\"next\":4}", good),
		 -EPROTO); /* next goes back */
	CHECK_EQ(parse_kex(0, &rf, &k, "{\"messages\":[%s]}", good), -EPROTO);
	CHECK_EQ(parse_kex(0, &rf, &k, "{\"messages\":{},\"next\":1}"), -EPROTO);
	CHECK_EQ(parse_kex(0, &rf, &k,
			   "{\"messages\":[{\"id\":5,\"from\":\"a b\",\"created\":1,"
			   "\"expires\":2,\"record\":{}}],\"next\":5}"),
		 -EPROTO);
	CHECK_EQ(parse_kex(0, &rf, &k,
			   "{\"messages\":[{\"id\":5,\"from\":\"ab\",\"created\":3,"
			   "\"expires\":2,\"record\":{}}],\"next\":5}"),
		 -EPROTO);
	CHECK_EQ(parse_kex(0, &rf, &k, "[]"), -EPROTO);
	CHECK_EQ(parse_kex(0, &rf, &k, "{\"messages\":[%s],\"next\":6,\"next\":7}", good),
		 -EPROTO); /* duplicate keys */
	CHECK_EQ(k.next, 77);
	CHECK(k.m == NULL);
	/* more than a page */
	over = json_pack("{s:[],s:i}", "messages", "next", 1000);
	for (i = 0; over && i <= AGENT_KEX_FETCH_MAX; i++) {
		char *m = kex_msg_json(i + 1, "alice", "AQID");

		json_array_append_new(json_object_get(over, "messages"),
				      m ? json_loads(m, 0, NULL) : NULL);
		free(m);
	}
	overs = over ? json_dumps(over, JSON_COMPACT) : NULL;
	CHECK(overs != NULL);
	if (overs)
		CHECK_EQ(regclient_parse_kex(overs, strlen(overs), 0, 1100, NULL, NULL, &k),
			 -EPROTO);
	/* exactly a page: accepted, and says there may be more */
	json_array_remove(json_object_get(over, "messages"), 0);
	free(overs);
	overs = over ? json_dumps(over, JSON_COMPACT) : NULL;
	if (overs) {
		CHECK_EQ(regclient_parse_kex(overs, strlen(overs), 0, 1100, NULL, NULL, &k), 0);
		CHECK(k.n == AGENT_KEX_FETCH_MAX && k.more);
		regclient_kex_msgs_clear(&k);
	}
	free(overs);
	json_decref(over);
	free(good);
	free(bad64);
	free(empty);
	free(big);
	free(again);
}

/* ---- reports ---- */

/* GET uri signed by p; the answer's JSON (NULL unless 200). */
static json_t *signed_get(const struct rt_peer *p, const char *uri)
{
	struct proto_sigreq_hdr h;
	struct curl_slist *hdrs = NULL;
	char u[256], line[160];
	CURL *c = curl_easy_init();
	FILE *mem;
	char *buf = NULL;
	size_t n = 0;
	long st = 0;
	json_t *o = NULL;

	if (!c || rt_sign(p, net.def.name, "GET", uri, "", 0, now_s(), &h))
		goto out;
	mem = open_memstream(&buf, &n);
	if (!mem)
		goto out;
	snprintf(u, sizeof(u), "%s%s", url, uri);
	snprintf(line, sizeof(line), "Scope-Key: %s", h.key);
	hdrs = curl_slist_append(hdrs, line);
	snprintf(line, sizeof(line), "Scope-Timestamp: %s", h.timestamp);
	hdrs = curl_slist_append(hdrs, line);
	snprintf(line, sizeof(line), "Scope-Nonce: %s", h.nonce);
	hdrs = curl_slist_append(hdrs, line);
	snprintf(line, sizeof(line), "Scope-Signature: %s", h.signature);
	hdrs = curl_slist_append(hdrs, line);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
	fclose(mem);
	if (st == 200)
		o = json_loads(buf, 0, NULL);
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	free(buf);
	return o;
}

/* The body alice's stored report was signed over, parsed. */
static json_t *alice_report(void)
{
	json_t *a = signed_get(&bob, "/v1/reports?peer=alice"), *body = NULL;
	const char *s = json_string_value(json_object_get(json_object_get(a, "record"), "body"));

	if (s)
		body = json_loads(s, 0, NULL);
	json_decref(a);
	return body;
}

static json_int_t entry_int(json_t *body, size_t i, const char *key)
{
	json_t *v = json_object_get(json_array_get(json_object_get(body, "peers"), i), key);

	return json_is_integer(v) ? json_integer_value(v) : -100;
}

static void test_report(void)
{
	struct regclient *ra = client(&alice);
	struct regclient_report_peer e[2];
	struct regclient_report r = { .peers = e, .n = 2 }, *copy = NULL;
	struct proto_endpoint moved;
	struct regclient_peers l;
	json_t *body, *p1;

	CHECK(ra != NULL);
	memset(e, 0, sizeof(e));
	snprintf(e[0].peer, sizeof(e[0].peer), "bob");
	e[0].reach = 0;
	e[0].has_latency = true;
	e[0].latency_us = 1200;
	e[0].handshake = e[0].pq = true;
	e[0].has_kex = true;
	e[0].kex_version = 3;
	e[0].classical = 2;
	e[0].pq_state = 3;
	snprintf(e[1].peer, sizeof(e[1].peer), "carol");
	e[1].reach = RC_REACH_NONE;
	e[1].has_kex = true;
	CHECK_EQ(ep("198.51.100.77:51820", &moved), 0);
	r.has_endpoints = true;
	r.eps = &moved;
	r.n_eps = 1;
	/* the queue's copy is what is sent */
	CHECK_EQ(regclient_report_dup(&r, &copy), 0);
	memset(e, 0, sizeof(e));
	CHECK_EQ(regclient_report(ra, copy), 0);
	regclient_report_free(copy);
	body = alice_report();
	CHECK(body != NULL);
	CHECK_EQ(entry_int(body, 0, "reach"), 0);
	CHECK_EQ(entry_int(body, 0, "latency_us"), 1200);
	CHECK_EQ(entry_int(body, 0, "kex_version"), 3);
	CHECK_EQ(entry_int(body, 0, "classical"), 2);
	CHECK_EQ(entry_int(body, 0, "pq_state"), 3);
	CHECK(json_is_true(
		json_object_get(json_array_get(json_object_get(body, "peers"), 0), "pq")));
	p1 = json_array_get(json_object_get(body, "peers"), 1);
	CHECK(json_is_null(json_object_get(p1, "reach")));
	CHECK(json_object_get(p1, "latency_us") == NULL);
	CHECK_EQ(entry_int(body, 1, "classical"), 0);
	CHECK_EQ(entry_int(body, 1, "pq_state"), 0);
	json_decref(body);
	/* the endpoints acted as an update */
	CHECK_EQ(regclient_peers(ra, 0, now_s(), &l), 0);
	CHECK(l.n >= 1 && strcmp(l.peers[0].name, "alice") == 0 && l.peers[0].n_endpoints == 1 &&
	      l.peers[0].endpoints[0].port == 51820 && l.peers[0].endpoints[0].addr[3] == 77);
	regclient_peers_clear(&l);

	/* out of range: the registry refuses, and the stored report stays */
	memset(e, 0, sizeof(e));
	r = (struct regclient_report){ .peers = e, .n = 1 };
	snprintf(e[0].peer, sizeof(e[0].peer), "bob");
	e[0].has_kex = true;
	e[0].pq_state = 4;
	CHECK_EQ(regclient_report(ra, &r), -EINVAL);
	CHECK(strcmp(regclient_error_code(ra), "bad_field") == 0);
	e[0].pq_state = 3;
	e[0].classical = 3;
	CHECK_EQ(regclient_report(ra, &r), -EINVAL);
	CHECK(strcmp(regclient_error_code(ra), "bad_field") == 0);
	e[0].classical = 2;
	e[0].reach = 3;
	CHECK_EQ(regclient_report(ra, &r), -EINVAL);
	CHECK(strcmp(regclient_error_code(ra), "bad_field") == 0);
	body = alice_report();
	CHECK_EQ(entry_int(body, 0, "pq_state"), 3);
	CHECK_EQ(json_array_size(json_object_get(body, "peers")), 2);
	json_decref(body);
	/* refused before the wire: a bad name, a version over 32 bits */
	e[0].reach = 0;
	snprintf(e[0].peer, sizeof(e[0].peer), "Bob!");
	CHECK_EQ(regclient_report(ra, &r), -EINVAL);
	CHECK(strcmp(regclient_error_code(ra), "") == 0);
	snprintf(e[0].peer, sizeof(e[0].peer), "bob");
	e[0].kex_version = (uint64_t)UINT32_MAX + 1;
	CHECK_EQ(regclient_report(ra, &r), -EINVAL);
	r.n = AGENT_REPORT_PEERS_MAX + 1;
	CHECK_EQ(regclient_report(ra, &r), -EINVAL);
	CHECK_EQ(regclient_report_dup(&r, &copy), -EINVAL);
	regclient_free(ra);
}

/* A report of every peer the registry could hold, each entry as long as it
 * gets, is over the registry's body cap: refused here, unsent. */
static void test_report_too_big(void)
{
	struct regclient *ra = client(&alice);
	struct regclient_report_peer *e = calloc(AGENT_REPORT_PEERS_MAX, sizeof(*e));
	struct regclient_report r = { .peers = e, .n = AGENT_REPORT_PEERS_MAX };
	size_t i;

	CHECK(ra && e);
	for (i = 0; e && i < AGENT_REPORT_PEERS_MAX; i++) {
		memset(e[i].peer, 'p', PROTO_PEER_NAME_MAX);
		snprintf(e[i].peer + PROTO_PEER_NAME_MAX - 6, 7, "%06zu", i);
		e[i].reach = RC_REACH_NONE;
		e[i].has_latency = true;
		e[i].latency_us = 60000000;
		e[i].has_kex = true;
		e[i].kex_version = UINT32_MAX;
	}
	if (ra && e)
		CHECK_EQ(regclient_report(ra, &r), -E2BIG);
	free(e);
	regclient_free(ra);
}

static void test_refusals(void)
{
	struct rt_peer mallory;
	uint8_t other_seed[32], other_pub[32];
	struct proto_endpoint e;
	struct regclient *rc;
	uint64_t v = 0;

	CHECK_EQ(cry_ed25519_genkey(other_seed, other_pub), 0);
	CHECK_EQ(rt_peer_make(&mallory, &net, "mallory", PROTO_ROLE_EDGE, 9, now_s() - 100,
			      now_s() + 1000, other_seed, NULL),
		 0);
	rc = client(&mallory);
	CHECK_EQ(ep("198.51.100.9:1", &e), 0);
	CHECK_EQ(regclient_join(rc, mallory.cert, mallory.cert_len, PROTO_ROLE_EDGE, &e, 1, &v),
		 -EPERM);
	CHECK(strcmp(regclient_error_code(rc), "cert_bad_signature") == 0);
	fprintf(stderr, "# %s\n", regclient_error(rc));
	/* a role the certificate does not grant */
	CHECK_EQ(regclient_join(rc, alice.cert, alice.cert_len, PROTO_ROLE_MASTER, &e, 1, &v),
		 -EPERM);
	/* bad arguments never reach the wire */
	CHECK_EQ(regclient_join(rc, alice.cert, alice.cert_len, 3, &e, 1, &v), -EINVAL);
	regclient_free(rc);
	CHECK_EQ(regclient_new("ftp://x", &net.def, alice.seed, &rc), -EINVAL);
	CHECK_EQ(regclient_new("http://x/?a", &net.def, alice.seed, &rc), -EINVAL);
}

/* The registry gone: a clear error, quickly. */
static void test_registry_gone(void)
{
	struct regclient *rc = client(&alice);
	struct regclient_peers l;
	double t = mono();

	reg_stop();
	CHECK_EQ(regclient_peers(rc, 0, now_s(), &l), -ECONNREFUSED);
	CHECK(mono() - t < 5);
	CHECK(strstr(regclient_error(rc), "127.0.0.1") != NULL);
	fprintf(stderr, "# %s\n", regclient_error(rc));
	regclient_free(rc);
}

static const struct t_case cases[] = {
	T(test_join_and_list), T(test_long_poll),      T(test_move_and_leave),
	T(test_kill),	       T(test_kex_mailbox),    T(test_kex_parse),
	T(test_report),	       T(test_report_too_big), T(test_refusals),
	T(test_registry_gone),
};

int main(int argc, char **argv)
{
	char cmd[128];
	int r;

	registry_bin = argc > 1 ? argv[1] : NULL;
	if (!registry_bin || access(registry_bin, X_OK)) {
		printf("1..0 # SKIP scope-registry binary not found\n");
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/scope-regclient-XXXXXX");
	if (!mkdtemp(tmpdir) || rt_net_make(&net, NULL, now_s()) ||
	    rt_peer_make(&alice, &net, "alice", PROTO_ROLE_EDGE, 2, now_s() - 100, now_s() + 10000,
			 NULL, NULL) ||
	    rt_peer_make(&bob, &net, "bob", PROTO_ROLE_EDGE, 3, now_s() - 100, now_s() + 10000,
			 NULL, NULL) ||
	    rt_peer_make(&carol, &net, "carol", PROTO_ROLE_EDGE, 4, now_s() - 100, now_s() + 10000,
			 NULL, NULL) ||
	    reg_start()) {
		printf("1..1\nnot ok 1 - setup (registry did not start, see %s)\n", logpath);
		reg_stop();
		return 1;
	}
	r = t_main("agent-regclient", cases, SC_ARRAY_SIZE(cases));
	reg_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		r = 1;
	curl_global_cleanup();
	return r;
}
