// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registry client against a real scope-registry (argv[1]) on 127.0.0.1
 * with a port the kernel picks: join, full list and delta, a long poll woken
 * by a join, move and leave events, a kill switch, refusals with their
 * codes, and the registry gone. Skipped if the binary is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "test.h"
#include "agent/peerdoc.h"
#include "agent/regclient.h"

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
	T(test_join_and_list), T(test_long_poll), T(test_move_and_leave),
	T(test_kill),	       T(test_refusals),  T(test_registry_gone),
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
