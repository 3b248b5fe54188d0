// SPDX-License-Identifier: GPL-2.0-only
/*
 * Registry load benchmark (issue 5): a real scope-registry on 127.0.0.1
 * with a fresh database, a network and admin key made here with src/proto,
 * and 10,000 certified peers issued in-process. Over real HTTP on loopback
 * (libcurl) it measures:
 *
 *	joins/s            every peer joins, several connections in parallel
 *	full peer list     GET /v1/peers: the first after the joins (uncached),
 *	                   then cached runs, then runs each after one change
 *	delta              GET /v1/peers?since=V after one change
 *	signed requests/s  POST /v1/update from every peer, in parallel
 *	event fan-out      1,000 long polls on /v1/events, one connection each;
 *	                   one join; the time until every poll has its answer
 *
 * and prints the figures with the verdicts against the bar of issue 5: a
 * full list of 10,000 peers in under 100 ms, a change reaching 1,000 waiting
 * clients within 1 s. It never asserts on time; it exits 1 only if the
 * registry misbehaves (a request refused, an answer with the wrong content).
 *
 * Requests are signed before each timed batch (nodes sign their own, so a
 * registry's throughput should not include the clients' signing), with
 * timestamps well inside the registry's 60 s window.
 *
 * Usage: bench-registry [--registry PATH] [--peers N] [--polls N] [--conns N]
 *
 * The registry runs under /tmp/scope-bench-reg-XXXXXX, removed at the end
 * (kept, with the registry's log, if something failed). If the benchmark is
 * killed, the registry gets SIGTERM (PR_SET_PDEATHSIG) and stops; the
 * directory stays.
 */
#define _GNU_SOURCE /* prctl */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "common/parse.h"
#include "regtest.h"

#ifndef BENCH_REGISTRY_BIN
#define BENCH_REGISTRY_BIN "scope-registry"
#endif

#define NET_NAME   "bench"
#define PEERS_MAX  60000 /* overlay /16, and under the registry's REG_PEERS_MAX */
#define POLLS_MAX  16000 /* the registry's REG_HTTP_CONN_MAX, minus some room */
#define LIST_RUNS  50	 /* cached full-list runs */
#define FRESH_RUNS 10	 /* full-list runs each after a change */
#define DELTA_RUNS 50
#define POLL_WAIT  60 /* long-poll timeout asked for, seconds (the registry's max) */

struct opts {
	const char *registry;
	unsigned peers, polls, conns;
};

/* A growable response buffer, kept between requests so a large answer is
 * not timed with its reallocations. */
struct rbuf {
	char *p;
	size_t len, cap;
};

/* One prepared, signed request. */
struct job {
	const char *method;
	char uri[96];
	char *body; /* owned; NULL: none */
	size_t len;
	struct proto_sigreq_hdr sig;
	long status;
	double t_done; /* run_parallel: when the answer was complete */
};

struct bench {
	struct opts o;
	char dir[64], netfile[96], db[96], log[96];
	pid_t pid;
	uint16_t port;
	struct rt_net net;
	struct rt_peer *peers; /* o.peers + 1: the last one joins during the fan-out */
	unsigned *port_of;     /* each peer's current endpoint port */
	int bar_list, bar_list_fresh, bar_fan;
	int failed;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_s(void)
{
	return (uint64_t)time(NULL);
}

/* The registry misbehaved: say how; the run will exit 1. */
__attribute__((format(printf, 2, 3))) static void fail(struct bench *b, const char *fmt, ...)
{
	va_list ap;

	fputs("bench-registry: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	b->failed = 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of v[0, n) (sorts v), permille 1..1000. */
static double pct(double *v, size_t n, unsigned permille)
{
	size_t k = (permille * n + 999) / 1000;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[k ? k - 1 : 0];
}

/* ---- the registry process ---- */

static int write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t w;

	if (fd < 0)
		return -errno;
	w = write(fd, p, n);
	if (close(fd) || w < 0 || (size_t)w != n)
		return -EIO;
	return 0;
}

static int write_netdef(struct bench *b)
{
	size_t cap = proto_armor_len(PROTO_T_NETDEF, b->net.len);
	char *armor = malloc(cap);
	int r = -ENOMEM;

	if (armor && proto_armor_encode(armor, cap, b->net.bytes, b->net.len) == 0)
		r = write_file(b->netfile, armor, strlen(armor));
	free(armor);
	return r;
}

/* The bound port, from the registry's "subsys=http event=listening" line. */
static int wait_port(struct bench *b)
{
	double until = mono() + 15;
	uint64_t port;

	while (mono() < until) {
		char buf[4096] = "", *line, *p, *end;
		int fd = open(b->log, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		buf[n > 0 ? n : 0] = '\0';
		line = strstr(buf, "subsys=http event=listening");
		p = line ? strstr(line, "port=") : NULL;
		if (p) {
			p += 5;
			end = p + strspn(p, "0123456789");
			*end = '\0';
			if (sc_parse_u64(p, 1, 65535, &port))
				return -EINVAL;
			b->port = (uint16_t)port;
			return 0;
		}
		if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
			b->pid = 0;
			return -ECHILD;
		}
		usleep(20000);
	}
	return -ETIMEDOUT;
}

static int registry_start(struct bench *b)
{
	const char *argv[] = { b->o.registry, "--foreground", "--network", b->netfile,
			       "--db",	      b->db,	      "--listen",  "127.0.0.1:0",
			       "--stun",      "off",	      NULL };
	pid_t parent = getpid();
	int fd;

	b->pid = fork();
	if (b->pid < 0)
		return -errno;
	if (b->pid == 0) {
		/* do not outlive the benchmark if it is interrupted */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		fd = open(b->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(b->o.registry, (char *const *)argv);
		_exit(127);
	}
	return wait_port(b);
}

/* SIGTERM, then SIGKILL after 10 s; 0 if it exited 0. */
static int registry_stop(struct bench *b)
{
	double until = mono() + 10;
	int st = 0;

	if (b->pid <= 0)
		return 0;
	kill(b->pid, SIGTERM);
	while (waitpid(b->pid, &st, WNOHANG) == 0) {
		if (mono() > until) {
			kill(b->pid, SIGKILL);
			waitpid(b->pid, &st, 0);
			break;
		}
		usleep(20000);
	}
	b->pid = 0;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Remove what this run made; the directory only if nothing else is in it. */
static void cleanup_dir(struct bench *b)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char path[128];
	size_t i;

	unlink(b->netfile);
	unlink(b->log);
	for (i = 0; i < SC_ARRAY_SIZE(sfx); i++) {
		snprintf(path, sizeof(path), "%s%s", b->db, sfx[i]);
		unlink(path);
	}
	if (rmdir(b->dir))
		fprintf(stderr, "bench-registry: could not remove %s: %s\n", b->dir,
			strerror(errno));
}

/* ---- HTTP ---- */

static size_t sink(char *p, size_t sz, size_t n, void *ctx)
{
	struct rbuf *r = ctx;
	size_t add = sz * n;

	if (r->len + add + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *np;

		while (cap < r->len + add + 1)
			cap *= 2;
		np = realloc(r->p, cap);
		if (!np)
			return 0;
		r->p = np;
		r->cap = cap;
	}
	memcpy(r->p + r->len, p, add);
	r->len += add;
	r->p[r->len] = '\0';
	return add;
}

static void job_free(struct job *j)
{
	free(j->body);
	j->body = NULL;
}

/* Fill j with method, uri and a copy of body, signed by p now. */
static int job_make(struct job *j, const struct rt_peer *p, const char *method, const char *uri,
		    const char *body)
{
	memset(j, 0, sizeof(*j));
	j->method = method;
	snprintf(j->uri, sizeof(j->uri), "%s", uri);
	if (body) {
		j->len = strlen(body);
		j->body = strdup(body);
		if (!j->body)
			return -ENOMEM;
	}
	return rt_sign(p, NET_NAME, method, j->uri, body ? body : "", j->len, now_s(), &j->sig);
}

/* Point e at j (a request on b's registry); out gets the answer. The header
 * list is returned for the caller to free after the transfer. */
static struct curl_slist *setup_easy(const struct bench *b, CURL *e, const struct job *j,
				     struct rbuf *out)
{
	struct curl_slist *h = NULL;
	char url[160], line[160];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", b->port, j->uri);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, j->method);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)POLL_WAIT + 30);
	curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
	if (j->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->len);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, j->method);
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
	snprintf(line, sizeof(line), "Scope-Key: %s", j->sig.key);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "Scope-Timestamp: %s", j->sig.timestamp);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "Scope-Nonce: %s", j->sig.nonce);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "Scope-Signature: %s", j->sig.signature);
	h = curl_slist_append(h, line);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	return h;
}

/* One blocking request on e (kept for connection reuse); status, or -1. */
static long do_job(const struct bench *b, CURL *e, struct job *j, struct rbuf *out)
{
	struct curl_slist *h;
	long st = -1;

	out->len = 0;
	if (out->p)
		out->p[0] = '\0';
	h = setup_easy(b, e, j, out);
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
	curl_slist_free_all(h);
	j->status = st;
	return st;
}

/* An unsigned GET (healthz, metrics). */
static long get_plain(const struct bench *b, CURL *e, const char *uri, struct rbuf *out)
{
	char url[160];
	long st = -1;

	out->len = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", b->port, uri);
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
	curl_easy_reset(e);
	return st;
}

/* The registry's version (from /healthz), or UINT64_MAX. */
static uint64_t version_of(const struct bench *b, CURL *e, struct rbuf *buf)
{
	json_t *j;
	uint64_t v = UINT64_MAX;

	if (get_plain(b, e, "/healthz", buf) != 200)
		return v;
	j = json_loads(buf->p, 0, NULL);
	if (j && json_is_integer(json_object_get(j, "version")))
		v = (uint64_t)json_integer_value(json_object_get(j, "version"));
	json_decref(j);
	return v;
}

/* A gauge from /metrics, or -1. */
static long long metric(const struct bench *b, CURL *e, const char *name, struct rbuf *buf)
{
	char key[96], num[20];
	const char *p;
	uint64_t v;
	size_t n;

	if (get_plain(b, e, "/metrics", buf) != 200)
		return -1;
	snprintf(key, sizeof(key), "\n%s ", name);
	p = strstr(buf->p, key);
	if (!p)
		return -1;
	p += strlen(key);
	n = strspn(p, "0123456789");
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, p, n);
	num[n] = '\0';
	return sc_parse_u64(num, 0, INT64_MAX, &v) ? -1 : (long long)v;
}

/* Run jobs[0, n) with conns transfers in flight (curl multi; connections
 * are reused). Every job's status is stored; returns the seconds taken. */
static double run_parallel(const struct bench *b, struct job *jobs, size_t n, unsigned conns)
{
	struct slot {
		CURL *e;
		struct curl_slist *h;
		struct rbuf out;
		size_t job;
	} *s = calloc(conns, sizeof(*s));
	CURLM *m = curl_multi_init();
	size_t next = 0, done = 0, i;
	double t0 = mono(), t;
	int running = 0;

	if (!s || !m)
		goto out;
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conns);
	for (i = 0; i < conns && next < n; i++) {
		s[i].e = curl_easy_init();
		if (!s[i].e)
			goto out;
		curl_easy_setopt(s[i].e, CURLOPT_PRIVATE, &s[i]);
		s[i].job = next++;
		s[i].h = setup_easy(b, s[i].e, &jobs[s[i].job], &s[i].out);
		curl_multi_add_handle(m, s[i].e);
	}
	while (done < n) {
		CURLMsg *msg;
		int left;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct slot *sl;
			long st = -1;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
			if (msg->data.result == CURLE_OK)
				curl_easy_getinfo(sl->e, CURLINFO_RESPONSE_CODE, &st);
			jobs[sl->job].status = st;
			jobs[sl->job].t_done = mono() - t0;
			if (st != 200 && st != -1 && sl->out.p)
				fprintf(stderr, "# %s %s: %ld %.200s\n", jobs[sl->job].method,
					jobs[sl->job].uri, st, sl->out.p);
			done++;
			curl_multi_remove_handle(m, sl->e);
			curl_slist_free_all(sl->h);
			sl->h = NULL;
			sl->out.len = 0;
			if (next < n) {
				sl->job = next++;
				sl->h = setup_easy(b, sl->e, &jobs[sl->job], &sl->out);
				curl_multi_add_handle(m, sl->e);
			}
		}
		if (done < n)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
out:
	t = mono() - t0;
	for (i = 0; s && i < conns; i++) {
		if (s[i].e) {
			curl_multi_remove_handle(m, s[i].e);
			curl_easy_cleanup(s[i].e);
		}
		curl_slist_free_all(s[i].h);
		free(s[i].out.p);
	}
	free(s);
	curl_multi_cleanup(m);
	return t;
}

static size_t count_ok(const struct job *jobs, size_t n)
{
	size_t i, ok = 0;

	for (i = 0; i < n; i++)
		ok += jobs[i].status == 200;
	return ok;
}

/* ---- the phases ---- */

static void endpoint_of(char *out, size_t cap, unsigned i, unsigned port)
{
	snprintf(out, cap, "\"198.18.%u.%u:%u\"", (i >> 8) & 0xff, i & 0xff, port);
}

static int issue_certs(struct bench *b)
{
	uint64_t now = now_s();
	char name[16];
	double t;
	unsigned i;

	b->peers = calloc(b->o.peers + 1, sizeof(*b->peers));
	if (!b->peers || rt_net_make(&b->net, NET_NAME, now))
		return -ENOMEM;
	t = mono();
	for (i = 0; i <= b->o.peers; i++) {
		snprintf(name, sizeof(name), "p%05u", i + 1);
		if (rt_peer_make(&b->peers[i], &b->net, name, PROTO_ROLE_EDGE, i + 1, now - 60,
				 now + 86400, NULL, NULL))
			return -EIO;
	}
	t = mono() - t;
	printf("certificates   %6u issued in %.2f s: %.0f/s (key pairs + signing, in-process)\n",
	       b->o.peers + 1, t, (double)(b->o.peers + 1) / t);
	return 0;
}

/* Does the join rate hold as the registry fills? The rate of the first and
 * the last tenth of the joins, by completion time. */
static void join_spread(const struct job *jobs, size_t n)
{
	double *t = malloc(n * sizeof(*t));
	size_t i, k = n / 10;

	if (!t || k < 2) {
		free(t);
		return;
	}
	for (i = 0; i < n; i++)
		t[i] = jobs[i].t_done;
	qsort(t, n, sizeof(*t), cmp_double);
	printf("               first %zu: %.0f joins/s, last %zu: %.0f joins/s\n", k,
	       (double)k / t[k - 1], k, (double)k / (t[n - 1] - t[n - k - 1]));
	free(t);
}

static int phase_join(struct bench *b)
{
	struct job *jobs = calloc(b->o.peers, sizeof(*jobs));
	char ep[48];
	double t;
	size_t ok;
	unsigned i;
	int r = 0;

	if (!jobs)
		return -ENOMEM;
	for (i = 0; i < b->o.peers && r == 0; i++) {
		char *body;

		b->port_of[i] = 51820;
		endpoint_of(ep, sizeof(ep), i, 51820);
		body = rt_join_body(&b->peers[i], "edge", ep);
		r = body ? job_make(&jobs[i], &b->peers[i], "POST", "/v1/join", body) : -ENOMEM;
		free(body);
	}
	if (r == 0) {
		t = run_parallel(b, jobs, b->o.peers, b->o.conns);
		ok = count_ok(jobs, b->o.peers);
		printf("join           %6u in %.2f s: %.0f joins/s (%u connections)\n", b->o.peers,
		       t, (double)b->o.peers / t, b->o.conns);
		join_spread(jobs, b->o.peers);
		if (ok != b->o.peers) {
			fail(b, "%zu of %u joins refused", b->o.peers - ok, b->o.peers);
			r = -EIO;
		}
	}
	for (i = 0; i < b->o.peers; i++)
		job_free(&jobs[i]);
	free(jobs);
	return r;
}

/* GET /v1/peers[?since=V] as peer 0; the seconds it took, or -1. */
static double get_peers(struct bench *b, CURL *e, uint64_t since, struct rbuf *out)
{
	struct job j;
	char uri[64];
	double t;
	long st;

	if (since)
		snprintf(uri, sizeof(uri), "/v1/peers?since=%llu", (unsigned long long)since);
	else
		snprintf(uri, sizeof(uri), "/v1/peers");
	if (job_make(&j, &b->peers[0], "GET", uri, NULL))
		return -1;
	t = mono();
	st = do_job(b, e, &j, out);
	t = mono() - t;
	if (st != 200) {
		fail(b, "GET %s: %ld %.300s", uri, st, out->p ? out->p : "");
		return -1;
	}
	return t;
}

/* Peers in a /v1/peers answer and its "full" flag, or -1. */
static long list_size(const struct rbuf *out, int *full)
{
	json_t *j = json_loads(out->p, 0, NULL);
	json_t *peers = j ? json_object_get(j, "peers") : NULL;
	long n = json_is_array(peers) ? (long)json_array_size(peers) : -1;

	*full = j ? json_is_true(json_object_get(j, "full")) : -1;
	json_decref(j);
	return n;
}

/* Peer i moves to a new port: one change (a move event, a new version). */
static int move_peer(struct bench *b, CURL *e, unsigned i, unsigned port, struct rbuf *out)
{
	char ep[48], body[96];
	struct job j;
	long st;
	int r;

	endpoint_of(ep, sizeof(ep), i, port);
	snprintf(body, sizeof(body), "{\"endpoints\":[%s]}", ep);
	r = job_make(&j, &b->peers[i], "POST", "/v1/update", body);
	st = r ? -1 : do_job(b, e, &j, out);
	job_free(&j);
	if (st != 200 || !strstr(out->p, "\"moved\":true")) {
		fail(b, "update (move): %ld %.300s", st, out->p ? out->p : "");
		return -EIO;
	}
	b->port_of[i] = port;
	return 0;
}

static void verdict(const char *what, int met)
{
	printf("bar: %-52s %s\n", what, met ? "MET" : "NOT MET");
}

/* Two keep-alive connections: one asks for lists, the other makes changes. */
struct lister {
	CURL *e, *e2;
	struct rbuf out, tmp;
};

/* Full lists: the first after the joins, cached runs, runs after a change
 * (each must show the change: the cache follows the version). */
static int phase_full(struct bench *b, struct lister *l)
{
	double cached[LIST_RUNS], fresh[FRESH_RUNS], first, parse;
	char ep[48];
	size_t bytes;
	unsigned i;
	int full = 0;
	long n;

	first = get_peers(b, l->e, 0, &l->out);
	if (first < 0)
		return -EIO;
	bytes = l->out.len;
	parse = mono();
	n = list_size(&l->out, &full);
	parse = mono() - parse;
	if (n != (long)b->o.peers || full != 1) {
		fail(b, "full list: %ld peers, full=%d", n, full);
		return -EIO;
	}
	for (i = 0; i < LIST_RUNS; i++) {
		cached[i] = get_peers(b, l->e, 0, &l->out);
		if (cached[i] < 0 || l->out.len != bytes)
			return -EIO;
	}
	for (i = 0; i < FRESH_RUNS; i++) {
		if (move_peer(b, l->e2, i + 1, 40000 + i, &l->tmp))
			return -EIO;
		fresh[i] = get_peers(b, l->e, 0, &l->out);
		endpoint_of(ep, sizeof(ep), i + 1, 40000 + i);
		if (fresh[i] >= 0 && !strstr(l->out.p, ep))
			fail(b, "full list after a move lacks the new endpoint %s", ep);
		if (fresh[i] < 0 || b->failed)
			return -EIO;
	}
	printf("full list      %u peers, %.1f MB: first after the joins (builds the list) "
	       "%.1f ms\n",
	       b->o.peers, (double)bytes / 1e6, first * 1e3);
	printf("full list      cached, %d runs: median %.1f ms, p99 %.1f ms\n", LIST_RUNS,
	       pct(cached, LIST_RUNS, 500) * 1e3, pct(cached, LIST_RUNS, 990) * 1e3);
	printf("full list      after one change, %d runs: median %.1f ms, p99 %.1f ms\n",
	       FRESH_RUNS, pct(fresh, FRESH_RUNS, 500) * 1e3, pct(fresh, FRESH_RUNS, 990) * 1e3);
	printf("               (client: jansson parses the list in %.0f ms, not counted)\n",
	       parse * 1e3);
	b->bar_list = pct(cached, LIST_RUNS, 990) < 0.1;
	b->bar_list_fresh = first < 0.1 && pct(fresh, FRESH_RUNS, 990) < 0.1;
	return 0;
}

/* ?since=V right after one change: exactly the changed peer comes back. */
static int phase_delta(struct bench *b, struct lister *l)
{
	double delta[DELTA_RUNS];
	unsigned i;
	int full = 0;
	long n;

	for (i = 0; i < DELTA_RUNS; i++) {
		uint64_t v = version_of(b, l->e2, &l->tmp);

		if (v == UINT64_MAX || move_peer(b, l->e2, i + 1, 41000 + i, &l->tmp))
			return -EIO;
		delta[i] = get_peers(b, l->e, v, &l->out);
		if (delta[i] < 0)
			return -EIO;
		n = list_size(&l->out, &full);
		if (n != 1 || full != 0) {
			fail(b, "delta: %ld peers (full=%d), not the one that changed", n, full);
			return -EIO;
		}
	}
	printf("delta          ?since=V after one change, %d runs: median %.2f ms, p99 %.2f ms\n",
	       DELTA_RUNS, pct(delta, DELTA_RUNS, 500) * 1e3, pct(delta, DELTA_RUNS, 990) * 1e3);
	return 0;
}

static int phase_lists(struct bench *b)
{
	struct lister l = { curl_easy_init(), curl_easy_init(), { 0 }, { 0 } };
	int r = -ENOMEM;

	if (l.e && l.e2) {
		r = phase_full(b, &l);
		if (!r)
			r = phase_delta(b, &l);
	}
	free(l.out.p);
	free(l.tmp.p);
	curl_easy_cleanup(l.e);
	curl_easy_cleanup(l.e2);
	return r;
}

/* Every peer sends POST /v1/update with the endpoints it already has: a
 * signed request that the registry verifies, checks against the peer's
 * certificate and stores (the refreshed record), without an event. */
static int phase_updates(struct bench *b)
{
	struct job *jobs = calloc(b->o.peers, sizeof(*jobs));
	char ep[48], body[96];
	double t;
	size_t ok;
	unsigned i;
	int r = 0;

	if (!jobs)
		return -ENOMEM;
	for (i = 0; i < b->o.peers && r == 0; i++) {
		endpoint_of(ep, sizeof(ep), i, b->port_of[i]);
		snprintf(body, sizeof(body), "{\"endpoints\":[%s]}", ep);
		r = job_make(&jobs[i], &b->peers[i], "POST", "/v1/update", body);
	}
	if (r == 0) {
		t = run_parallel(b, jobs, b->o.peers, b->o.conns);
		ok = count_ok(jobs, b->o.peers);
		printf("signed update  %6u in %.2f s: %.0f requests/s (%u connections)\n",
		       b->o.peers, t, (double)b->o.peers / t, b->o.conns);
		if (ok != b->o.peers) {
			fail(b, "%zu of %u updates refused", b->o.peers - ok, b->o.peers);
			r = -EIO;
		}
	}
	for (i = 0; i < b->o.peers; i++)
		job_free(&jobs[i]);
	free(jobs);
	return r;
}

/* ---- event fan-out ---- */

struct poller {
	CURL *e;
	struct curl_slist *h;
	struct rbuf out;
	struct job job;
	double t_first, t_done;
	long status;
};

struct fan {
	const struct bench *b;
	struct poller *p;
	unsigned n;
	unsigned finished; /* atomic */
	int stop;	   /* atomic */
};

static size_t sink_first(char *p, size_t sz, size_t n, void *ctx)
{
	struct poller *pl = ctx;

	if (pl->t_first == 0)
		pl->t_first = mono();
	return sink(p, sz, n, &pl->out);
}

/* Drives every long poll on one curl multi handle, each on its own
 * connection, and stamps the moment each answer is complete. */
static void *fan_thread(void *arg)
{
	struct fan *f = arg;
	CURLM *m = curl_multi_init();
	double until = mono() + POLL_WAIT + 30;
	unsigned i;
	int running = 0;

	if (!m) {
		__atomic_store_n(&f->finished, f->n, __ATOMIC_RELEASE);
		return NULL;
	}
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)f->n + 16);
	for (i = 0; i < f->n; i++) {
		struct poller *pl = &f->p[i];

		curl_easy_setopt(pl->e, CURLOPT_PRIVATE, pl);
		curl_easy_setopt(pl->e, CURLOPT_WRITEFUNCTION, sink_first);
		curl_easy_setopt(pl->e, CURLOPT_WRITEDATA, pl);
		curl_multi_add_handle(m, pl->e);
	}
	while (__atomic_load_n(&f->finished, __ATOMIC_ACQUIRE) < f->n && mono() < until &&
	       !__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
		CURLMsg *msg;
		int left;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left))) {
			struct poller *pl;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&pl);
			pl->t_done = mono();
			pl->status = -1;
			if (msg->data.result == CURLE_OK)
				curl_easy_getinfo(pl->e, CURLINFO_RESPONSE_CODE, &pl->status);
			__atomic_add_fetch(&f->finished, 1, __ATOMIC_ACQ_REL);
		}
		curl_multi_poll(m, NULL, 0, 20, NULL);
	}
	for (i = 0; i < f->n; i++)
		curl_multi_remove_handle(m, f->p[i].e);
	curl_multi_cleanup(m);
	return NULL;
}

/* Is this long-poll answer the join of name? */
static int answer_is_join(const struct poller *pl, const char *name)
{
	json_t *j = pl->out.p ? json_loads(pl->out.p, 0, NULL) : NULL;
	json_t *ev = j ? json_array_get(json_object_get(j, "events"), 0) : NULL;
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *peer = json_string_value(json_object_get(ev, "peer"));
	int ok = pl->status == 200 && type && peer && strcmp(type, "join") == 0 &&
		 strcmp(peer, name) == 0;

	json_decref(j);
	return ok;
}

static int fan_prepare(struct fan *f, uint64_t cursor)
{
	char uri[96];
	unsigned i;

	for (i = 0; i < f->n; i++) {
		struct poller *pl = &f->p[i];

		snprintf(uri, sizeof(uri), "/v1/events?cursor=%llu&timeout=%d",
			 (unsigned long long)cursor, POLL_WAIT);
		pl->e = curl_easy_init();
		if (!pl->e || job_make(&pl->job, &f->b->peers[i % f->b->o.peers], "GET", uri, NULL))
			return -ENOMEM;
		pl->h = setup_easy(f->b, pl->e, &pl->job, &pl->out);
		/* one connection per poll, as separate nodes would have */
		curl_easy_setopt(pl->e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(pl->e, CURLOPT_FORBID_REUSE, 1L);
	}
	return 0;
}

static void fan_report(struct bench *b, struct fan *f, double t0, double t_join, double t_wait)
{
	const char *name = b->peers[b->o.peers].name;
	double *lat = calloc(f->n, sizeof(*lat)), *first = calloc(f->n, sizeof(*first));
	unsigned i, ok = 0;

	if (!lat || !first) {
		free(lat);
		free(first);
		b->failed = 1;
		return;
	}
	for (i = 0; i < f->n; i++) {
		struct poller *pl = &f->p[i];

		if (!answer_is_join(pl, name) || pl->t_done < t0)
			continue;
		lat[ok] = pl->t_done - t0;
		first[ok] = pl->t_first - t0;
		ok++;
	}
	printf("event fan-out  %u long polls waiting (set up in %.2f s); one join "
	       "(answered in %.1f ms)\n",
	       f->n, t_wait, t_join * 1e3);
	if (ok) {
		printf("event fan-out  %u/%u got the join: first byte median %.1f ms; complete: "
		       "median %.1f ms, p99 %.1f ms, max %.1f ms\n",
		       ok, f->n, pct(first, ok, 500) * 1e3, pct(lat, ok, 500) * 1e3,
		       pct(lat, ok, 990) * 1e3, pct(lat, ok, 1000) * 1e3);
	}
	if (ok != f->n)
		fail(b, "%u of %u long polls did not get the join", f->n - ok, f->n);
	b->bar_fan = ok == f->n && pct(lat, ok, 1000) < 1.0;
	free(lat);
	free(first);
}

static int phase_fanout(struct bench *b)
{
	struct fan f = { .b = b, .n = b->o.polls };
	struct rbuf buf = { 0 };
	CURL *e = curl_easy_init();
	struct job join = { 0 };
	pthread_t th;
	double t_wait, t0, t_join = 0, until;
	long long waiting = -1;
	uint64_t cursor;
	char ep[48], *body = NULL;
	unsigned i;
	int r = -EIO, started = 0;

	f.p = calloc(f.n, sizeof(*f.p));
	if (!e || !f.p)
		goto out;
	cursor = version_of(b, e, &buf);
	if (cursor == UINT64_MAX || fan_prepare(&f, cursor))
		goto out;
	/* the join that every poll must see, signed in advance */
	endpoint_of(ep, sizeof(ep), b->o.peers, 51820);
	body = rt_join_body(&b->peers[b->o.peers], "edge", ep);
	if (!body || job_make(&join, &b->peers[b->o.peers], "POST", "/v1/join", body))
		goto out;
	t_wait = mono();
	if (pthread_create(&th, NULL, fan_thread, &f))
		goto out;
	started = 1;
	/* wait until the registry holds every poll suspended (its gauge is
	 * refreshed about once a second) */
	until = mono() + 60;
	while (mono() < until && __atomic_load_n(&f.finished, __ATOMIC_ACQUIRE) == 0) {
		waiting = metric(b, e, "scope_registry_longpoll_waiting", &buf);
		if (waiting == (long long)f.n)
			break;
		usleep(50000);
	}
	t_wait = mono() - t_wait;
	if (waiting != (long long)f.n) {
		fail(b, "only %lld of %u long polls waiting (%u answered early)", waiting, f.n,
		     __atomic_load_n(&f.finished, __ATOMIC_ACQUIRE));
		goto out;
	}
	t0 = mono();
	if (do_job(b, e, &join, &buf) != 200) {
		fail(b, "fan-out join: %ld %.300s", join.status, buf.p ? buf.p : "");
		goto out;
	}
	t_join = mono() - t0;
	pthread_join(th, NULL);
	started = 0;
	fan_report(b, &f, t0, t_join, t_wait);
	r = b->failed ? -EIO : 0;
out:
	if (started) {
		__atomic_store_n(&f.stop, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
	}
	for (i = 0; f.p && i < f.n; i++) {
		curl_easy_cleanup(f.p[i].e);
		curl_slist_free_all(f.p[i].h);
		free(f.p[i].out.p);
		job_free(&f.p[i].job);
	}
	free(f.p);
	job_free(&join);
	free(body);
	free(buf.p);
	curl_easy_cleanup(e);
	return r;
}

/* ---- main ---- */

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "registry", required_argument, NULL, 'r' },
		{ "peers", required_argument, NULL, 'n' },
		{ "polls", required_argument, NULL, 'p' },
		{ "conns", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->registry = optarg;
			break;
		case 'n':
			if (sc_parse_u64(optarg, DELTA_RUNS + 2, PEERS_MAX, &v))
				return -EINVAL;
			o->peers = (unsigned)v;
			break;
		case 'p':
			if (sc_parse_u64(optarg, 1, POLLS_MAX, &v))
				return -EINVAL;
			o->polls = (unsigned)v;
			break;
		case 'c':
			if (sc_parse_u64(optarg, 1, 256, &v))
				return -EINVAL;
			o->conns = (unsigned)v;
			break;
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

/* Polls hold a socket each here and in the registry. */
static void raise_nofile(unsigned need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need + 64)
		fprintf(stderr, "bench-registry: RLIMIT_NOFILE %llu is low for %u polls\n",
			(unsigned long long)rl.rlim_cur, need);
}

static void print_machine(const struct bench *b)
{
	struct utsname u;
	char load[64] = "?";
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, load, sizeof(load) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n > 0) {
		load[n] = '\0';
		load[strcspn(load, " ")] = '\0';
	}
	uname(&u);
	printf("registry bench: %u peers, %u long polls, %u connections; %s %s, %ld CPUs, "
	       "load %s\n",
	       b->o.peers, b->o.polls, b->o.conns, u.sysname, u.release,
	       sysconf(_SC_NPROCESSORS_ONLN), load);
}

/* The registry's resident memory from /proc, in MB, or -1. */
static double registry_rss(const struct bench *b)
{
	char path[64], buf[4096], *p;
	uint64_t kb;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)b->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "VmRSS:");
	if (!p)
		return -1;
	p += 6;
	p += strspn(p, " \t");
	p[strspn(p, "0123456789")] = '\0';
	return sc_parse_u64(p, 0, UINT64_MAX, &kb) ? -1 : (double)kb / 1024;
}

static int run(struct bench *b)
{
	double t = mono();
	int r;

	b->port_of = calloc(b->o.peers, sizeof(*b->port_of));
	if (!b->port_of)
		return -ENOMEM;
	r = issue_certs(b);
	if (!r)
		r = write_netdef(b);
	if (!r) {
		r = registry_start(b);
		if (r)
			fprintf(stderr, "bench-registry: %s did not start (log: %s)\n",
				b->o.registry, b->log);
	}
	if (!r)
		r = phase_join(b);
	if (!r)
		r = phase_lists(b);
	if (!r)
		r = phase_updates(b);
	if (!r)
		r = phase_fanout(b);
	if (!r) {
		printf("registry RSS   %.0f MB at the end; whole run %.0f s\n", registry_rss(b),
		       mono() - t);
		verdict("full list of 10,000 peers < 100 ms (cached, p99)", b->bar_list);
		verdict("full list < 100 ms, also when rebuilt after a change", b->bar_list_fresh);
		verdict("a change reaches 1,000 waiting clients within 1 s", b->bar_fan);
		if (b->o.peers != 10000 || b->o.polls != 1000)
			printf("(verdicts are for the sizes of this run, not those of the bar)\n");
	}
	return r;
}

int main(int argc, char **argv)
{
	static struct bench b = {
		.o = { .registry = BENCH_REGISTRY_BIN, .peers = 10000, .polls = 1000, .conns = 16 },
	};
	int r;

	if (parse_opts(argc, argv, &b.o)) {
		fprintf(stderr, "usage: bench-registry [--registry PATH] [--peers N] [--polls N] "
				"[--conns N]\n");
		return 2;
	}
	if (b.o.polls > b.o.peers)
		b.o.polls = b.o.peers;
	if (access(b.o.registry, X_OK)) {
		fprintf(stderr, "bench-registry: %s: %s (build it, or give --registry PATH)\n",
			b.o.registry, strerror(errno));
		return 1;
	}
	raise_nofile(b.o.polls);
	signal(SIGPIPE, SIG_IGN);
	snprintf(b.dir, sizeof(b.dir), "/tmp/scope-bench-reg-XXXXXX");
	if (!mkdtemp(b.dir)) {
		perror("bench-registry: mkdtemp");
		return 1;
	}
	snprintf(b.netfile, sizeof(b.netfile), "%s/net.scope", b.dir);
	snprintf(b.db, sizeof(b.db), "%s/registry.db", b.dir);
	snprintf(b.log, sizeof(b.log), "%s/registry.log", b.dir);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	print_machine(&b);
	fflush(stdout);
	r = run(&b);
	if (registry_stop(&b)) {
		fprintf(stderr, "bench-registry: the registry did not stop cleanly\n");
		r = r ? r : -EIO;
	}
	curl_global_cleanup();
	if (r || b.failed)
		fprintf(stderr, "bench-registry: failed; registry log kept in %s\n", b.log);
	else
		cleanup_dir(&b);
	free(b.peers ? (void *)b.peers : NULL);
	free(b.port_of);
	return r || b.failed ? 1 : 0;
}
