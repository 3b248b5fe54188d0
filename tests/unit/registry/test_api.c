// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registry API over real HTTP: scope-registry (argv[1]) runs on
 * 127.0.0.1 with a port the kernel picks, and libcurl talks to it. Every
 * resource, and every refusal a node or an attacker can cause: unsigned,
 * wrongly signed, tampered, replayed, stale, unknown peer, revoked,
 * expired, forged kill switch, oversized, malformed and too-deep bodies.
 * After each refusal a later read checks that nothing changed. Then a
 * restart on the same database: state intact, event cursor continues.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "test.h"
#include "regtest.h"
#include "registry/http.h"
#include "registry/limits.h"

static const char *registry_bin;
static char tmpdir[64];

struct rproc {
	pid_t pid;
	char log[128];
	uint16_t port;
	int tls;
};

static struct rt_net net;
static struct rproc main_reg;

static uint64_t now_s(void)
{
	return (uint64_t)time(NULL);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	int r;

	if (!f)
		return -1;
	r = fwrite(p, 1, n, f) == n ? 0 : -1;
	return fclose(f) == 0 ? r : -1;
}

/* The port from the "subsys=http event=listening" log line. */
static int wait_port(struct rproc *p)
{
	double until = mono() + 10;

	while (mono() < until) {
		char *log = t_slurp(p->log, NULL);
		char *line = log ? strstr(log, "subsys=http event=listening") : NULL;
		char *port = line ? strstr(line, "port=") : NULL;

		if (port) {
			p->port = (uint16_t)atol(port + 5);
			free(log);
			return p->port ? 0 : -1;
		}
		free(log);
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid)
			return -1;
		usleep(20000);
	}
	return -1;
}

static int reg_start(struct rproc *p, const char *db, const char *tag, const char *const *extra)
{
	char netfile[128];
	const char *argv[24];
	size_t n = 0;
	int fd;

	snprintf(netfile, sizeof(netfile), "%s/net.scope", tmpdir);
	snprintf(p->log, sizeof(p->log), "%s/registry-%s.log", tmpdir, tag);
	argv[n++] = registry_bin;
	argv[n++] = "--foreground";
	argv[n++] = "--network";
	argv[n++] = netfile;
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--stun";
	argv[n++] = "127.0.0.1:0";
	while (extra && *extra && n < SC_ARRAY_SIZE(argv) - 1)
		argv[n++] = *extra++;
	argv[n] = NULL;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(registry_bin, (char *const *)argv);
		_exit(127);
	}
	return wait_port(p);
}

/* SIGTERM; 0 if it exited 0 after logging event=stopped. */
static int reg_stop(struct rproc *p)
{
	int st = 0, ok;
	char *log;

	if (p->pid <= 0)
		return -1;
	kill(p->pid, SIGTERM);
	if (waitpid(p->pid, &st, 0) != p->pid)
		return -1;
	p->pid = 0;
	log = t_slurp(p->log, NULL);
	ok = log && strstr(log, "event=stopped") && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	free(log);
	return ok ? 0 : -1;
}

/* ---- HTTP ---- */

struct hresp {
	long status;
	char *body;
	size_t len;
	json_t *json;
};

static size_t sink(char *p, size_t sz, size_t n, void *ctx)
{
	struct hresp *r = ctx;
	char *nb = realloc(r->body, r->len + sz * n + 1);

	if (!nb)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, p, sz * n);
	r->len += sz * n;
	r->body[r->len] = '\0';
	return sz * n;
}

static void hresp_free(struct hresp *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/* One request to p; h (NULL: unsigned) gives the Scope-* headers. */
static long http_to(const struct rproc *p, const char *method, const char *uri, const void *body,
		    size_t len, const struct proto_sigreq_hdr *h, const char *xff, struct hresp *r)
{
	struct curl_slist *hdrs = NULL;
	char url[2400], line[160];
	CURL *c = curl_easy_init();

	memset(r, 0, sizeof(*r));
	if (!c)
		return -1;
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u%s", p->tls ? "https" : "http", p->port, uri);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 70L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	if (p->tls) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	if (h) {
		snprintf(line, sizeof(line), "Scope-Key: %s", h->key);
		hdrs = curl_slist_append(hdrs, line);
		snprintf(line, sizeof(line), "Scope-Timestamp: %s", h->timestamp);
		hdrs = curl_slist_append(hdrs, line);
		snprintf(line, sizeof(line), "Scope-Nonce: %s", h->nonce);
		hdrs = curl_slist_append(hdrs, line);
		snprintf(line, sizeof(line), "Scope-Signature: %s", h->signature);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (xff) {
		snprintf(line, sizeof(line), "X-Forwarded-For: %s", xff);
		hdrs = curl_slist_append(hdrs, line);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	else
		r->status = -1;
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (r->body)
		r->json = json_loads(r->body, 0, NULL);
	return r->status;
}

/* Signed by p now (or unsigned if p is NULL). */
static long req_to(const struct rproc *rp, const char *method, const char *uri, const char *body,
		   const struct rt_peer *p, struct hresp *r)
{
	struct proto_sigreq_hdr h;
	size_t len = body ? strlen(body) : 0;

	if (p && rt_sign(p, net.def.name, method, uri, body ? body : "", len, now_s(), &h))
		return -1;
	return http_to(rp, method, uri, body, len, p ? &h : NULL, NULL, r);
}

static long req(const char *method, const char *uri, const char *body, const struct rt_peer *p,
		struct hresp *r)
{
	return req_to(&main_reg, method, uri, body, p, r);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static int has_code(const struct hresp *r, const char *code)
{
	int ok = r->json && strcmp(jstr(r->json, "code"), code) == 0 &&
		 json_is_string(json_object_get(r->json, "error"));

	if (!ok)
		fprintf(stderr, "# expected code %s, got %ld %s\n", code, r->status,
			r->body ? r->body : "(none)");
	return ok;
}

/* Status and code of a request, then free it. */
static int expect(long status, const char *code, long got, struct hresp *r)
{
	int ok = got == status && (!code || has_code(r, code));

	if (got != status)
		fprintf(stderr, "# expected %ld, got %ld %s\n", status, got,
			r->body ? r->body : "(none)");
	hresp_free(r);
	return ok;
}

static uint64_t version_of(const struct rproc *rp)
{
	struct hresp r;
	uint64_t v = UINT64_MAX;

	if (http_to(rp, "GET", "/healthz", NULL, 0, NULL, NULL, &r) == 200)
		v = (uint64_t)json_integer_value(json_object_get(r.json, "version"));
	hresp_free(&r);
	return v;
}

static uint64_t version(void)
{
	return version_of(&main_reg);
}

/* Is name in the full peer list, as seen by asker? */
static int listed(const struct rt_peer *asker, const char *name)
{
	struct hresp r;
	json_t *v;
	size_t i;
	int found = 0;

	if (req("GET", "/v1/peers", NULL, asker, &r) == 200) {
		json_array_foreach(json_object_get(r.json, "peers"), i, v) found |=
			strcmp(jstr(v, "name"), name) == 0;
	} else {
		found = -1;
	}
	hresp_free(&r);
	return found;
}

static struct rt_peer alice, bob, carol;

static int join_as(const struct rt_peer *p, const char *role, const char *eps)
{
	struct hresp r;
	char *body = rt_join_body(p, role, eps);
	long st = req("POST", "/v1/join", body, p, &r);

	free(body);
	if (st != 200)
		fprintf(stderr, "# join %s: %ld %s\n", p->name, st, r.body ? r.body : "");
	hresp_free(&r);
	return (int)st;
}

static void test_network_public(void)
{
	struct hresp r;
	uint8_t raw[PROTO_RECORD_MAX], admin[32];
	const char *nd, *ad;

	CHECK_EQ(req("GET", "/v1/network", NULL, NULL, &r), 200);
	CHECK(strcmp(jstr(r.json, "name"), RT_NET) == 0);
	nd = jstr(r.json, "netdef");
	CHECK(strlen(nd) == SC_B64_LEN(net.len));
	CHECK_EQ(sc_b64_decode(raw, net.len, nd, strlen(nd)), 0);
	CHECK_MEM(raw, net.bytes, net.len);
	ad = jstr(r.json, "admin");
	CHECK_EQ(sc_b64_decode(admin, 32, ad, strlen(ad)), 0);
	CHECK_MEM(admin, net.admin_pub, 32);
	hresp_free(&r);
	CHECK_EQ(req("GET", "/healthz", NULL, NULL, &r), 200);
	CHECK(strcmp(jstr(r.json, "status"), "ok") == 0);
	hresp_free(&r);
	CHECK(expect(404, "not_found", req("GET", "/v1/whatever", NULL, NULL, &r), &r));
	CHECK(expect(405, "method_not_allowed", req("PUT", "/v1/peers", NULL, NULL, &r), &r));
	CHECK(expect(404, "not_found", req("POST", "/v1/whatever", "{}", NULL, &r), &r));
	CHECK(expect(413, "body_too_large", req("GET", "/v1/network", "{}", NULL, &r), &r));
}

static void test_join_and_list(void)
{
	struct hresp r;
	uint64_t v0 = version();
	json_t *p0;

	CHECK_EQ(join_as(&alice, "edge", "\"198.51.100.10:51820\",\"[2001:db8::10]:51820\""), 200);
	CHECK_EQ(join_as(&bob, "relay", "\"198.51.100.11:51820\""), 200);
	CHECK_EQ(version(), v0 + 2);
	CHECK_EQ(req("GET", "/v1/peers", NULL, &alice, &r), 200);
	CHECK(json_is_true(json_object_get(r.json, "full")));
	CHECK_EQ(json_integer_value(json_object_get(r.json, "version")), v0 + 2);
	p0 = json_array_get(json_object_get(r.json, "peers"), 0);
	CHECK(strcmp(jstr(p0, "name"), "alice") == 0);
	CHECK(strcmp(jstr(p0, "tier"), "none") == 0);
	CHECK(strcmp(jstr(p0, "role"), "edge") == 0);
	CHECK_EQ(json_array_size(json_object_get(p0, "endpoints")), 2);
	CHECK(strcmp(jstr(p0, "addr4"), "10.77.0.1") == 0);
	CHECK(strcmp(jstr(json_array_get(json_object_get(r.json, "peers"), 1), "tier"), "relay") ==
	      0);
	hresp_free(&r);
	/* delta since the first join: bob only */
	{
		char uri[64];

		snprintf(uri, sizeof(uri), "/v1/peers?since=%llu", (unsigned long long)v0 + 1);
		CHECK_EQ(req("GET", uri, NULL, &alice, &r), 200);
		CHECK(json_is_false(json_object_get(r.json, "full")));
		CHECK_EQ(json_array_size(json_object_get(r.json, "peers")), 1);
		CHECK(strcmp(jstr(json_array_get(json_object_get(r.json, "peers"), 0), "name"),
			     "bob") == 0);
		hresp_free(&r);
	}
	CHECK_EQ(req("GET", "/v1/tiers", NULL, &alice, &r), 200);
	CHECK(strcmp(jstr(json_object_get(r.json, "tiers"), "bob"), "relay") == 0);
	CHECK(json_object_get(json_object_get(r.json, "tiers"), "alice") == NULL);
	hresp_free(&r);
}

/* Requests that must not authenticate; none changes anything. */
static void test_auth_refusals(void)
{
	struct proto_sigreq_hdr h, h2;
	struct rt_peer mallory;
	struct hresp r;
	char *body = rt_join_body(&carol, "edge", "\"198.51.100.12:51820\"");
	uint64_t v0 = version();
	size_t len = strlen(body);

	/* unsigned */
	CHECK(expect(401, "unsigned", req("POST", "/v1/join", body, NULL, &r), &r));
	CHECK(expect(401, "unsigned", req("GET", "/v1/peers", NULL, NULL, &r), &r));
	/* wrongly signed: carol's key header, mallory's signature */
	CHECK_EQ(rt_peer_make(&mallory, &net, "mallory", PROTO_ROLE_EDGE, 66, now_s() - 10,
			      now_s() + 3600, NULL, NULL),
		 0);
	CHECK_EQ(rt_sign(&carol, RT_NET, "POST", "/v1/join", body, len, now_s(), &h), 0);
	CHECK_EQ(rt_sign(&mallory, RT_NET, "POST", "/v1/join", body, len, now_s(), &h2), 0);
	memcpy(h2.key, h.key, sizeof(h.key));
	CHECK(expect(401, "bad_signature",
		     http_to(&main_reg, "POST", "/v1/join", body, len, &h2, NULL, &r), &r));
	/* a body changed after signing */
	body[len - 4] = '1';
	CHECK(expect(401, "bad_signature",
		     http_to(&main_reg, "POST", "/v1/join", body, len, &h, NULL, &r), &r));
	body[len - 4] = '0';
	/* signed for another path */
	CHECK_EQ(rt_sign(&carol, RT_NET, "POST", "/v1/update", body, len, now_s(), &h2), 0);
	CHECK(expect(401, "bad_signature",
		     http_to(&main_reg, "POST", "/v1/join", body, len, &h2, NULL, &r), &r));
	/* signed for another network */
	CHECK_EQ(rt_sign(&carol, "othernet", "POST", "/v1/join", body, len, now_s(), &h2), 0);
	CHECK(expect(401, "bad_signature",
		     http_to(&main_reg, "POST", "/v1/join", body, len, &h2, NULL, &r), &r));
	/* stale and future timestamps */
	CHECK_EQ(rt_sign(&carol, RT_NET, "POST", "/v1/join", body, len, now_s() - 120, &h2), 0);
	CHECK(expect(401, "stale_timestamp",
		     http_to(&main_reg, "POST", "/v1/join", body, len, &h2, NULL, &r), &r));
	CHECK_EQ(rt_sign(&carol, RT_NET, "POST", "/v1/join", body, len, now_s() + 120, &h2), 0);
	CHECK(expect(401, "stale_timestamp",
		     http_to(&main_reg, "POST", "/v1/join", body, len, &h2, NULL, &r), &r));
	/* malformed header */
	h2 = h;
	h2.signature[3] = '*';
	CHECK(expect(401, "unsigned",
		     http_to(&main_reg, "POST", "/v1/join", body, len, &h2, NULL, &r), &r));
	CHECK_EQ(version(), v0);
	CHECK_EQ(listed(&alice, "carol"), 0);

	/* replay: the same signed request twice */
	CHECK_EQ(http_to(&main_reg, "POST", "/v1/join", body, len, &h, NULL, &r), 200);
	hresp_free(&r);
	CHECK_EQ(version(), v0 + 1);
	CHECK(expect(401, "replayed",
		     http_to(&main_reg, "POST", "/v1/join", body, len, &h, NULL, &r), &r));
	CHECK_EQ(version(), v0 + 1);
	/* a certified but never joined peer */
	CHECK(expect(403, "unknown_peer", req("GET", "/v1/peers", NULL, &mallory, &r), &r));
	CHECK(expect(403, "unknown_peer",
		     req("POST", "/v1/update", "{\"endpoints\":[]}", &mallory, &r), &r));
	CHECK_EQ(version(), v0 + 1);
	free(body);
}

/* Certificates the registry must refuse at join. */
static void test_cert_refusals(void)
{
	struct rt_peer p;
	struct hresp r;
	uint8_t other_seed[32], other_pub[32];
	uint64_t now = now_s(), v0 = version();
	char *body;

	CHECK_EQ(cry_ed25519_genkey(other_seed, other_pub), 0);
	/* signed by another admin */
	CHECK_EQ(rt_peer_make(&p, &net, "forged", PROTO_ROLE_EDGE, 20, now - 10, now + 3600,
			      other_seed, NULL),
		 0);
	body = rt_join_body(&p, "edge", "");
	CHECK(expect(403, "cert_bad_signature", req("POST", "/v1/join", body, &p, &r), &r));
	free(body);
	/* expired, not yet valid */
	CHECK_EQ(rt_peer_make(&p, &net, "old", PROTO_ROLE_EDGE, 21, now - 100, now - 1, NULL, NULL),
		 0);
	body = rt_join_body(&p, "edge", "");
	CHECK(expect(403, "cert_expired", req("POST", "/v1/join", body, &p, &r), &r));
	free(body);
	CHECK_EQ(rt_peer_make(&p, &net, "future", PROTO_ROLE_EDGE, 22, now + 100, now + 200, NULL,
			      NULL),
		 0);
	body = rt_join_body(&p, "edge", "");
	CHECK(expect(403, "cert_not_yet_valid", req("POST", "/v1/join", body, &p, &r), &r));
	free(body);
	/* another network's certificate, same admin */
	CHECK_EQ(rt_peer_make(&p, &net, "stranger", PROTO_ROLE_EDGE, 23, now - 10, now + 3600, NULL,
			      "othernet"),
		 0);
	body = rt_join_body(&p, "edge", "");
	CHECK(expect(403, "wrong_network", req("POST", "/v1/join", body, &p, &r), &r));
	free(body);
	/* a role the certificate does not grant */
	CHECK_EQ(rt_peer_make(&p, &net, "edgy", PROTO_ROLE_EDGE, 24, now - 10, now + 3600, NULL,
			      NULL),
		 0);
	body = rt_join_body(&p, "relay", "");
	CHECK(expect(403, "role_not_allowed", req("POST", "/v1/join", body, &p, &r), &r));
	/* someone else's certificate, signed with one's own key */
	CHECK(expect(403, "key_mismatch", req("POST", "/v1/join", body, &alice, &r), &r));
	free(body);
	/* alice's name under another identity */
	CHECK_EQ(rt_peer_make(&p, &net, "alice", PROTO_ROLE_EDGE, 25, now - 10, now + 3600, NULL,
			      NULL),
		 0);
	body = rt_join_body(&p, "edge", "");
	CHECK(expect(409, "name_taken", req("POST", "/v1/join", body, &p, &r), &r));
	free(body);
	/* a certificate that is not one */
	CHECK(expect(400, "bad_cert",
		     req("POST", "/v1/join",
			 "{\"cert\":\"AAAA\",\"role\":\"edge\",\"endpoints\":[]}", &alice, &r),
		     &r));
	CHECK_EQ(version(), v0);
	CHECK_EQ(listed(&alice, "forged"), 0);
	CHECK_EQ(listed(&alice, "edgy"), 0);
}

/* Bodies the parsers must refuse before anything is stored. */
static void test_body_refusals(void)
{
	struct hresp r;
	uint64_t v0 = version();
	char deep[64], *big;
	size_t i;

	CHECK(expect(400, "bad_json", req("POST", "/v1/update", "{\"endpoints\":[", &alice, &r),
		     &r));
	CHECK(expect(400, "bad_json", req("POST", "/v1/update", "[1,2]", &alice, &r), &r));
	CHECK(expect(400, "bad_json",
		     req("POST", "/v1/update", "{\"endpoints\":[],\"endpoints\":[]}", &alice, &r),
		     &r));
	for (i = 0; i < 20; i++)
		deep[i] = '[';
	for (; i < 40; i++)
		deep[i] = ']';
	deep[40] = '\0';
	{
		char body[128];

		snprintf(body, sizeof(body), "{\"endpoints\":%s}", deep);
		CHECK(expect(400, "json_too_deep", req("POST", "/v1/update", body, &alice, &r),
			     &r));
	}
	CHECK(expect(400, "bad_field",
		     req("POST", "/v1/update", "{\"endpoints\":[\"1.2.3.4\"]}", &alice, &r), &r));
	CHECK(expect(400, "bad_field",
		     req("POST", "/v1/update", "{\"endpoints\":[\"1.2.3.4:0\"]}", &alice, &r), &r));
	CHECK(expect(400, "bad_field",
		     req("POST", "/v1/update", "{\"endpoints\":[],\"color\":1}", &alice, &r), &r));
	CHECK(expect(400, "bad_field",
		     req("POST", "/v1/reports", "{\"peers\":[{\"peer\":\"bob\",\"reach\":3}]}",
			 &alice, &r),
		     &r));
	CHECK(expect(400, "bad_field",
		     req("POST", "/v1/reports",
			 "{\"peers\":[{\"peer\":\"bob\",\"reach\":0},{\"peer\":\"bob\",\"reach\":"
			 "1}]}",
			 &alice, &r),
		     &r));
	/* over the cap: refused from Content-Length, before the body is read */
	big = malloc(REG_BODY_MAX + 2);
	memset(big, ' ', REG_BODY_MAX + 1);
	big[0] = '{';
	big[REG_BODY_MAX] = '}';
	big[REG_BODY_MAX + 1] = '\0';
	CHECK(expect(413, "body_too_large", req("POST", "/v1/update", big, &alice, &r), &r));
	free(big);
	CHECK_EQ(version(), v0);
}

/* A chunked body that grows past the cap (no Content-Length to refuse). */
static void test_chunked_too_large(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char chunk[8192 + 16], resp[512] = "";
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const char *head = "POST /v1/update HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
			   "Content-Type: application/json\r\n\r\n";
	size_t got = 0;
	ssize_t n;
	int i;

	sa.sin_port = htons(main_reg.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
	snprintf(chunk, sizeof(chunk), "2000\r\n");
	memset(chunk + 6, 'x', 8192);
	memcpy(chunk + 6 + 8192, "\r\n", 2);
	for (i = 0; i < 6; i++) {
		if (write(fd, chunk, 6 + 8192 + 2) < 0)
			break;
	}
	if (write(fd, "0\r\n\r\n", 5) < 0) {
		/* the server may have answered and closed already */
	}
	while (got < sizeof(resp) - 1 && (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)n;
	resp[got] = '\0';
	close(fd);
	CHECK(strncmp(resp, "HTTP/1.1 413", 12) == 0);
	CHECK(strstr(resp, "body_too_large") != NULL);
}

struct poller {
	const struct rt_peer *who;
	char uri[96];
	long status;
	double secs;
	json_t *json;
};

static void *poll_thread(void *arg)
{
	struct poller *p = arg;
	struct hresp r;
	double t = mono();

	p->status = req("GET", p->uri, NULL, p->who, &r);
	p->secs = mono() - t;
	p->json = json_incref(r.json);
	hresp_free(&r);
	return NULL;
}

/* A waiting long poll gets the next event at once; moves and leaves are
 * events; a cursor from the future is 410. */
static void test_events_long_poll(void)
{
	struct poller p = { .who = &alice };
	struct hresp r;
	pthread_t th;
	uint64_t v0 = version();
	json_t *ev;

	snprintf(p.uri, sizeof(p.uri), "/v1/events?cursor=%llu&timeout=20", (unsigned long long)v0);
	CHECK_EQ(pthread_create(&th, NULL, poll_thread, &p), 0);
	usleep(300000);
	CHECK_EQ(req("POST", "/v1/update", "{\"endpoints\":[\"198.51.100.99:51820\"]}", &bob, &r),
		 200);
	CHECK(json_is_true(json_object_get(r.json, "moved")));
	hresp_free(&r);
	pthread_join(th, NULL);
	CHECK_EQ(p.status, 200);
	CHECK(p.secs < 1.5);
	ev = json_array_get(json_object_get(p.json, "events"), 0);
	CHECK(strcmp(jstr(ev, "type"), "move") == 0);
	CHECK(strcmp(jstr(ev, "peer"), "bob") == 0);
	CHECK_EQ(json_integer_value(json_object_get(p.json, "cursor")), v0 + 1);
	json_decref(p.json);

	/* the same endpoints again: no move, no event */
	CHECK_EQ(req("POST", "/v1/update", "{\"endpoints\":[\"198.51.100.99:51820\"]}", &bob, &r),
		 200);
	CHECK(json_is_false(json_object_get(r.json, "moved")));
	hresp_free(&r);
	CHECK_EQ(version(), v0 + 1);

	/* timeout: an empty answer after about a second */
	snprintf(p.uri, sizeof(p.uri), "/v1/events?cursor=%llu&timeout=1",
		 (unsigned long long)v0 + 1);
	poll_thread(&p);
	CHECK_EQ(p.status, 200);
	CHECK(p.secs >= 0.9 && p.secs < 3);
	CHECK_EQ(json_array_size(json_object_get(p.json, "events")), 0);
	json_decref(p.json);

	CHECK(expect(410, "cursor_expired",
		     req("GET", "/v1/events?cursor=999999", NULL, &alice, &r), &r));
	/* every event from the start, paged, in order */
	{
		uint64_t cursor = 0, expect_seq = 1;
		int rounds = 0;

		while (rounds++ < 50) {
			char uri[96];
			size_t i, n;

			snprintf(uri, sizeof(uri), "/v1/events?cursor=%llu&timeout=0",
				 (unsigned long long)cursor);
			CHECK_EQ(req("GET", uri, NULL, &alice, &r), 200);
			n = json_array_size(json_object_get(r.json, "events"));
			json_array_foreach(json_object_get(r.json, "events"), i, ev) CHECK_EQ(
				json_integer_value(json_object_get(ev, "seq")), expect_seq++);
			cursor = (uint64_t)json_integer_value(json_object_get(r.json, "cursor"));
			hresp_free(&r);
			if (n == 0)
				break;
		}
		CHECK_EQ(cursor, version());
	}
}

static void test_reports(void)
{
	struct hresp r;
	const char *body = "{\"endpoints\":[\"198.51.100.10:51820\"],\"peers\":["
			   "{\"peer\":\"bob\",\"reach\":0,\"latency_us\":1200,\"handshake\":true,"
			   "\"pq\":true,\"kex_version\":3},{\"peer\":\"carol\",\"reach\":null}]}";
	json_t *rec;

	CHECK_EQ(req("POST", "/v1/reports", body, &alice, &r), 200);
	hresp_free(&r);
	CHECK_EQ(req("GET", "/v1/reports?peer=alice", NULL, &bob, &r), 200);
	rec = json_object_get(r.json, "record");
	CHECK(strcmp(jstr(rec, "body"), body) == 0);
	CHECK(strcmp(jstr(rec, "uri"), "/v1/reports") == 0);
	CHECK(json_integer_value(json_object_get(r.json, "at")) >= (json_int_t)now_s() - 5);
	hresp_free(&r);
	CHECK(expect(404, "no_report", req("GET", "/v1/reports?peer=carol", NULL, &bob, &r), &r));
	CHECK(expect(400, "bad_query", req("GET", "/v1/reports?peer=a%20b", NULL, &bob, &r), &r));
}

/* The KEX state fields of issue 7: accepted in range and served back inside
 * the signed record; out of range, or not integers, refused like the other
 * fields, leaving the stored report and the version as they were. */
static void test_reports_kex_state(void)
{
	static const char *const bad[] = {
		"{\"peers\":[{\"peer\":\"alice\",\"reach\":0,\"classical\":3}]}",
		"{\"peers\":[{\"peer\":\"alice\",\"reach\":0,\"pq_state\":4}]}",
		"{\"peers\":[{\"peer\":\"alice\",\"reach\":0,\"pq_state\":-1}]}",
		"{\"peers\":[{\"peer\":\"alice\",\"reach\":0,\"classical\":\"2\"}]}",
		"{\"peers\":[{\"peer\":\"alice\",\"reach\":0,\"pq_state\":true}]}",
		"{\"peers\":[{\"peer\":\"alice\",\"reach\":0,\"pq_state\":1.5}]}",
	};
	const char *body = "{\"peers\":[{\"peer\":\"alice\",\"reach\":0,\"handshake\":true,"
			   "\"pq\":true,\"kex_version\":7,\"classical\":2,\"pq_state\":3},"
			   "{\"peer\":\"carol\",\"reach\":null,\"classical\":0,\"pq_state\":0}]}";
	struct hresp r;
	json_t *inner;
	uint64_t v0;
	size_t i;

	CHECK_EQ(req("POST", "/v1/reports", body, &bob, &r), 200);
	hresp_free(&r);
	v0 = version();
	CHECK_EQ(req("GET", "/v1/reports?peer=bob", NULL, &alice, &r), 200);
	CHECK(strcmp(jstr(json_object_get(r.json, "record"), "body"), body) == 0);
	inner = json_loads(jstr(json_object_get(r.json, "record"), "body"), 0, NULL);
	CHECK_EQ(json_integer_value(json_object_get(
			 json_array_get(json_object_get(inner, "peers"), 0), "pq_state")),
		 3);
	CHECK_EQ(json_integer_value(json_object_get(
			 json_array_get(json_object_get(inner, "peers"), 0), "classical")),
		 2);
	json_decref(inner);
	hresp_free(&r);
	for (i = 0; i < SC_ARRAY_SIZE(bad); i++) {
		CHECK(expect(400, "bad_field", req("POST", "/v1/reports", bad[i], &bob, &r), &r));
		CHECK_EQ(req("GET", "/v1/reports?peer=bob", NULL, &alice, &r), 200);
		CHECK(strcmp(jstr(json_object_get(r.json, "record"), "body"), body) == 0);
		hresp_free(&r);
	}
	CHECK_EQ(version(), v0);
}

static void test_kex_mailbox(void)
{
	struct hresp r;
	uint64_t v0 = version();
	char body[256];
	int i;
	json_t *m;

	CHECK_EQ(req("POST", "/v1/kex", "{\"to\":\"bob\",\"msg\":\"aGVsbG8gYm9i\",\"ttl\":60}",
		     &alice, &r),
		 200);
	CHECK(json_integer_value(json_object_get(r.json, "id")) > 0);
	hresp_free(&r);
	CHECK_EQ(version(), v0 + 1); /* a kex event for bob */
	CHECK_EQ(req("GET", "/v1/kex", NULL, &bob, &r), 200);
	m = json_array_get(json_object_get(r.json, "messages"), 0);
	CHECK(strcmp(jstr(m, "from"), "alice") == 0);
	CHECK(strstr(jstr(json_object_get(m, "record"), "body"), "aGVsbG8gYm9i") != NULL);
	hresp_free(&r);
	/* nothing for alice; refusals */
	CHECK_EQ(req("GET", "/v1/kex", NULL, &alice, &r), 200);
	CHECK_EQ(json_array_size(json_object_get(r.json, "messages")), 0);
	hresp_free(&r);
	CHECK(expect(404, "no_such_peer",
		     req("POST", "/v1/kex", "{\"to\":\"nobody\",\"msg\":\"AAAA\"}", &alice, &r),
		     &r));
	CHECK(expect(400, "bad_field",
		     req("POST", "/v1/kex", "{\"to\":\"alice\",\"msg\":\"AAAA\"}", &alice, &r),
		     &r));
	CHECK(expect(400, "bad_field",
		     req("POST", "/v1/kex", "{\"to\":\"bob\",\"msg\":\"AAAA\",\"ttl\":99999}",
			 &alice, &r),
		     &r));
	CHECK(expect(400, "bad_field",
		     req("POST", "/v1/kex", "{\"to\":\"bob\",\"msg\":\"not base64!\"}", &alice, &r),
		     &r));
	CHECK_EQ(version(), v0 + 1);
	/* bounded per pair: the oldest go */
	for (i = 0; i < REG_KEX_PER_PAIR + 2; i++) {
		snprintf(body, sizeof(body), "{\"to\":\"bob\",\"msg\":\"%c%c%c%c\"}", 'A' + i,
			 'A' + i, 'A' + i, 'A' + i);
		CHECK_EQ(req("POST", "/v1/kex", body, &carol, &r), 200);
		hresp_free(&r);
	}
	CHECK_EQ(req("GET", "/v1/kex", NULL, &bob, &r), 200);
	CHECK_EQ(json_array_size(json_object_get(r.json, "messages")), 1 + REG_KEX_PER_PAIR);
	m = json_array_get(json_object_get(r.json, "messages"), 1);
	CHECK(strstr(jstr(json_object_get(m, "record"), "body"), "CCCC") != NULL);
	hresp_free(&r);
}

static void test_kill_switch(void)
{
	struct hresp r;
	uint8_t rec[PROTO_RECORD_MAX], other_seed[32], other_pub[32];
	struct rt_net other;
	size_t len;
	uint64_t v0 = version();
	char *body;

	/* forged: another key signs a kill for this network */
	CHECK_EQ(cry_ed25519_genkey(other_seed, other_pub), 0);
	CHECK_EQ(rt_kill(&net, other_seed, 7, NULL, rec, sizeof(rec), &len), 0);
	body = rt_b64_body("kill", rec, len);
	CHECK(expect(403, "record_bad_signature", req("POST", "/v1/kill", body, NULL, &r), &r));
	free(body);
	/* another network's genuine kill */
	CHECK_EQ(rt_net_make(&other, "othernet", now_s()), 0);
	CHECK_EQ(rt_kill(&other, other.admin_seed, 7, NULL, rec, sizeof(rec), &len), 0);
	body = rt_b64_body("kill", rec, len);
	CHECK(expect(403, "wrong_network", req("POST", "/v1/kill", body, NULL, &r), &r));
	free(body);
	CHECK(expect(400, "bad_record", req("POST", "/v1/kill", "{\"kill\":\"AAAA\"}", NULL, &r),
		     &r));
	CHECK_EQ(req("GET", "/v1/kill", NULL, NULL, &r), 200);
	CHECK_EQ(json_array_size(json_object_get(r.json, "kills")), 0);
	hresp_free(&r);
	CHECK_EQ(version(), v0);

	/* the admin's kill is stored and distributed, once */
	CHECK_EQ(rt_kill(&net, net.admin_seed, 7, "carol", rec, sizeof(rec), &len), 0);
	body = rt_b64_body("kill", rec, len);
	CHECK_EQ(req("POST", "/v1/kill", body, NULL, &r), 200);
	CHECK(json_is_true(json_object_get(r.json, "stored")));
	hresp_free(&r);
	CHECK_EQ(req("POST", "/v1/kill", body, NULL, &r), 200);
	CHECK(json_is_false(json_object_get(r.json, "stored")));
	hresp_free(&r);
	free(body);
	CHECK_EQ(version(), v0 + 1);
	CHECK_EQ(req("GET", "/v1/kill", NULL, NULL, &r), 200);
	CHECK_EQ(json_array_size(json_object_get(r.json, "kills")), 1);
	CHECK_EQ(json_integer_value(json_object_get(
			 json_array_get(json_object_get(r.json, "kills"), 0), "serial")),
		 7);
	hresp_free(&r);
	/* a different kill under the same serial */
	CHECK_EQ(rt_kill(&net, net.admin_seed, 7, NULL, rec, sizeof(rec), &len), 0);
	body = rt_b64_body("kill", rec, len);
	CHECK(expect(409, "kill_conflict", req("POST", "/v1/kill", body, NULL, &r), &r));
	free(body);
	CHECK_EQ(version(), v0 + 1);
}

static void test_revocation(void)
{
	struct rt_peer dave;
	struct hresp r;
	uint8_t rec[PROTO_REVOKE_RECORD_MAX];
	size_t len;
	uint64_t now = now_s(), v0;
	char *body, *join;

	CHECK_EQ(rt_peer_make(&dave, &net, "dave", PROTO_ROLE_EDGE, 30, now - 10, now + 3600, NULL,
			      NULL),
		 0);
	CHECK_EQ(join_as(&dave, "edge", "\"198.51.100.30:51820\""), 200);
	v0 = version();
	/* forged list */
	{
		struct rt_net fake = net;

		CHECK_EQ(cry_ed25519_genkey(fake.admin_seed, fake.admin_pub), 0);
		CHECK_EQ(rt_revoke(&fake, 5, dave.fp, rec, sizeof(rec), &len), 0);
		body = rt_b64_body("revocations", rec, len);
		CHECK(expect(403, "record_bad_signature",
			     req("POST", "/v1/revocations", body, NULL, &r), &r));
		free(body);
	}
	CHECK_EQ(version(), v0);
	CHECK_EQ(listed(&alice, "dave"), 1);
	CHECK(expect(404, "no_revocations", req("GET", "/v1/revocations", NULL, NULL, &r), &r));

	CHECK_EQ(rt_revoke(&net, 5, dave.fp, rec, sizeof(rec), &len), 0);
	body = rt_b64_body("revocations", rec, len);
	CHECK_EQ(req("POST", "/v1/revocations", body, NULL, &r), 200);
	CHECK(strcmp(json_string_value(json_array_get(json_object_get(r.json, "removed"), 0)),
		     "dave") == 0);
	hresp_free(&r);
	CHECK_EQ(version(), v0 + 1);
	CHECK_EQ(listed(&alice, "dave"), 0);
	/* the same serial again, or an older one */
	CHECK(expect(409, "stale_serial", req("POST", "/v1/revocations", body, NULL, &r), &r));
	free(body);
	CHECK_EQ(rt_revoke(&net, 4, NULL, rec, sizeof(rec), &len), 0);
	body = rt_b64_body("revocations", rec, len);
	CHECK(expect(409, "stale_serial", req("POST", "/v1/revocations", body, NULL, &r), &r));
	free(body);
	/* dave is out and stays out */
	CHECK(expect(403, "unknown_peer", req("GET", "/v1/peers", NULL, &dave, &r), &r));
	join = rt_join_body(&dave, "edge", "");
	CHECK(expect(403, "revoked", req("POST", "/v1/join", join, &dave, &r), &r));
	free(join);
	CHECK_EQ(version(), v0 + 1);
	CHECK_EQ(req("GET", "/v1/revocations", NULL, NULL, &r), 200);
	CHECK_EQ(json_integer_value(json_object_get(r.json, "serial")), 5);
	hresp_free(&r);
}

/* The registry started with --trusted-proxy 127.0.0.1/32 believes the
 * X-Forwarded-For of a request from loopback; the pure rule besides. */
static void test_forwarded_for(void)
{
	struct proto_sigreq_hdr h;
	struct proto_prefix lo, ten;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct hresp r;
	const char *body = "{\"endpoints\":[\"198.51.100.10:51821\"]}";
	char ip[PROTO_ADDR_STRLEN];
	json_t *v;
	size_t i;

	CHECK_EQ(rt_sign(&alice, RT_NET, "POST", "/v1/update", body, strlen(body), now_s(), &h), 0);
	CHECK_EQ(http_to(&main_reg, "POST", "/v1/update", body, strlen(body), &h, "203.0.113.77",
			 &r),
		 200);
	hresp_free(&r);
	CHECK_EQ(req("GET", "/v1/peers", NULL, &alice, &r), 200);
	json_array_foreach(json_object_get(r.json, "peers"), i, v)
	{
		if (strcmp(jstr(v, "name"), "alice") == 0)
			CHECK(strcmp(jstr(v, "observed_ip"), "203.0.113.77") == 0);
	}
	hresp_free(&r);

	CHECK_EQ(proto_prefix_parse("127.0.0.1/32", &lo), 0);
	CHECK_EQ(proto_prefix_parse("10.0.0.0/8", &ten), 0);
	sa.sin_addr.s_addr = htonl(0x7f000001);
	/* untrusted peer: its own address, whatever the header says */
	CHECK_EQ(reg_http_client_ip((struct sockaddr *)&sa, "1.2.3.4", NULL, 0, ip), 0);
	CHECK(strcmp(ip, "127.0.0.1") == 0);
	/* trusted: the rightmost hop that is not a trusted proxy */
	{
		struct proto_prefix both[2] = { lo, ten };

		CHECK_EQ(reg_http_client_ip((struct sockaddr *)&sa, "6.6.6.6, 1.2.3.4, 10.1.1.1",
					    both, 2, ip),
			 0);
		CHECK(strcmp(ip, "1.2.3.4") == 0);
		CHECK_EQ(reg_http_client_ip((struct sockaddr *)&sa, "garbage", both, 2, ip), 0);
		CHECK(strcmp(ip, "127.0.0.1") == 0);
		CHECK_EQ(reg_http_client_ip((struct sockaddr *)&sa, "2001:db8::7", both, 2, ip), 0);
		CHECK(strcmp(ip, "2001:db8::7") == 0);
	}
}

static void test_leave(void)
{
	struct hresp r;
	uint64_t v0 = version();

	CHECK(expect(400, "bad_field", req("POST", "/v1/leave", "{\"x\":1}", &carol, &r), &r));
	CHECK_EQ(req("POST", "/v1/leave", "", &carol, &r), 200);
	hresp_free(&r);
	CHECK_EQ(version(), v0 + 1);
	CHECK_EQ(listed(&alice, "carol"), 0);
	CHECK(expect(403, "unknown_peer", req("POST", "/v1/leave", "", &carol, &r), &r));
	CHECK_EQ(version(), v0 + 1);
}

static void test_metrics(void)
{
	struct hresp r;

	CHECK_EQ(req("GET", "/metrics", NULL, NULL, &r), 200);
	CHECK(r.body && strstr(r.body, "scope_registry_requests_total{route=\"join\",status="
				       "\"200\"}") != NULL);
	CHECK(r.body && strstr(r.body, "scope_registry_requests_total{route=\"join\",status="
				       "\"401\"}") != NULL);
	CHECK(r.body &&
	      strstr(r.body, "# TYPE scope_registry_peers gauge\nscope_registry_peers 2\n"));
	CHECK(r.body && strstr(r.body, "scope_registry_stun_packets_total") != NULL);
	hresp_free(&r);
}

/* Stop and start on the same database: peers, kill switches and the event
 * numbering survive; a cursor from before the restart continues. */
static void test_restart(void)
{
	struct rproc p = { 0 };
	struct rt_peer a, b, c;
	struct hresp r;
	char db[128];
	uint64_t now = now_s(), cursor;
	json_t *ev;

	snprintf(db, sizeof(db), "%s/restart.db", tmpdir);
	CHECK_EQ(reg_start(&p, db, "restart1", NULL), 0);
	CHECK_EQ(
		rt_peer_make(&a, &net, "ra", PROTO_ROLE_EDGE, 40, now - 10, now + 3600, NULL, NULL),
		0);
	CHECK_EQ(rt_peer_make(&b, &net, "rb", PROTO_ROLE_RELAY, 41, now - 10, now + 3600, NULL,
			      NULL),
		 0);
	CHECK_EQ(
		rt_peer_make(&c, &net, "rc", PROTO_ROLE_EDGE, 42, now - 10, now + 3600, NULL, NULL),
		0);
	{
		char *ja = rt_join_body(&a, "edge", "\"192.0.2.40:1\"");
		char *jb = rt_join_body(&b, "relay", "\"192.0.2.41:1\"");

		CHECK_EQ(req_to(&p, "POST", "/v1/join", ja, &a, &r), 200);
		hresp_free(&r);
		CHECK_EQ(req_to(&p, "POST", "/v1/join", jb, &b, &r), 200);
		hresp_free(&r);
		free(ja);
		free(jb);
	}
	cursor = version_of(&p);
	CHECK_EQ(cursor, 2);
	CHECK_EQ(reg_stop(&p), 0);

	CHECK_EQ(reg_start(&p, db, "restart2", NULL), 0);
	CHECK_EQ(version_of(&p), 2);
	CHECK_EQ(req_to(&p, "GET", "/v1/peers", NULL, &a, &r), 200);
	CHECK_EQ(json_array_size(json_object_get(r.json, "peers")), 2);
	CHECK(strcmp(jstr(json_array_get(json_object_get(r.json, "peers"), 1), "tier"), "relay") ==
	      0);
	hresp_free(&r);
	{
		char *jc = rt_join_body(&c, "edge", "\"192.0.2.42:1\"");

		CHECK_EQ(req_to(&p, "POST", "/v1/join", jc, &c, &r), 200);
		hresp_free(&r);
		free(jc);
	}
	{
		char uri[64];

		snprintf(uri, sizeof(uri), "/v1/events?cursor=%llu&timeout=0",
			 (unsigned long long)cursor);
		CHECK_EQ(req_to(&p, "GET", uri, NULL, &a, &r), 200);
		CHECK_EQ(json_array_size(json_object_get(r.json, "events")), 1);
		ev = json_array_get(json_object_get(r.json, "events"), 0);
		CHECK_EQ(json_integer_value(json_object_get(ev, "seq")), 3);
		CHECK(strcmp(jstr(ev, "peer"), "rc") == 0);
		hresp_free(&r);
	}
	/* a long poll waiting at shutdown gets an answer, not a reset */
	{
		struct poller pl = { .who = &a };
		pthread_t th;
		struct rproc saved = main_reg;

		main_reg = p; /* poll_thread talks to main_reg */
		snprintf(pl.uri, sizeof(pl.uri), "/v1/events?cursor=3&timeout=30");
		CHECK_EQ(pthread_create(&th, NULL, poll_thread, &pl), 0);
		usleep(300000);
		CHECK_EQ(reg_stop(&p), 0);
		pthread_join(th, NULL);
		main_reg = saved;
		CHECK_EQ(pl.status, 200);
		CHECK(pl.secs < 5);
		json_decref(pl.json);
	}
}

static void test_tls(void)
{
	char cmd[512], cert[128], key[128], db[128];
	const char *extra[] = { "--tls-cert", cert, "--tls-key", key, NULL };
	struct rproc p = { .tls = 1 };
	struct hresp r;

	snprintf(cert, sizeof(cert), "%s/tls.crt", tmpdir);
	snprintf(key, sizeof(key), "%s/tls.key", tmpdir);
	snprintf(db, sizeof(db), "%s/tls.db", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
		 "-subj /CN=127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
		 key, cert);
	if (system(cmd) != 0) {
		t_skip("openssl cannot make a test certificate");
		return;
	}
	CHECK_EQ(reg_start(&p, db, "tls", extra), 0);
	CHECK_EQ(http_to(&p, "GET", "/healthz", NULL, 0, NULL, NULL, &r), 200);
	hresp_free(&r);
	CHECK_EQ(http_to(&p, "GET", "/v1/network", NULL, 0, NULL, NULL, &r), 200);
	CHECK(strcmp(jstr(r.json, "name"), RT_NET) == 0);
	hresp_free(&r);
	CHECK_EQ(reg_stop(&p), 0);
}

static const struct t_case cases[] = {
	T(test_network_public),	  T(test_join_and_list), T(test_auth_refusals),
	T(test_cert_refusals),	  T(test_body_refusals), T(test_chunked_too_large),
	T(test_events_long_poll), T(test_reports),	 T(test_reports_kex_state),
	T(test_kex_mailbox),	  T(test_kill_switch),	 T(test_revocation),
	T(test_forwarded_for),	  T(test_leave),	 T(test_metrics),
	T(test_restart),	  T(test_tls),
};

static int setup(void)
{
	char path[128], db[128];
	const char *extra[] = { "--trusted-proxy", "127.0.0.1/32", NULL };
	char *armor;
	size_t cap;
	uint64_t now = now_s();

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/scope-api-XXXXXX");
	if (!mkdtemp(tmpdir) || rt_net_make(&net, NULL, now))
		return -1;
	cap = proto_armor_len(PROTO_T_NETDEF, net.len);
	armor = malloc(cap);
	snprintf(path, sizeof(path), "%s/net.scope", tmpdir);
	if (!armor || proto_armor_encode(armor, cap, net.bytes, net.len) ||
	    write_file(path, armor, strlen(armor))) {
		free(armor);
		return -1;
	}
	free(armor);
	if (rt_peer_make(&alice, &net, "alice", PROTO_ROLE_EDGE, 1, now - 60, now + 86400, NULL,
			 NULL) ||
	    rt_peer_make(&bob, &net, "bob", PROTO_ROLE_RELAY | PROTO_ROLE_EDGE, 2, now - 60,
			 now + 86400, NULL, NULL) ||
	    rt_peer_make(&carol, &net, "carol", PROTO_ROLE_EDGE, 3, now - 60, now + 86400, NULL,
			 NULL))
		return -1;
	snprintf(db, sizeof(db), "%s/main.db", tmpdir);
	return reg_start(&main_reg, db, "main", extra);
}

int main(int argc, char **argv)
{
	char cmd[160];
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: %s path/to/scope-registry\n", argv[0]);
		return 2;
	}
	registry_bin = argv[1];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (setup()) {
		printf("1..1\nnot ok 1 - setup (registry did not start; see %s)\n", tmpdir);
		return 1;
	}
	r = t_main("registry-api", cases, SC_ARRAY_SIZE(cases));
	if (reg_stop(&main_reg)) {
		printf("# registry did not stop cleanly\n");
		r = 1;
	}
	curl_global_cleanup();
	if (r == 0) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			r = 1;
	} else {
		printf("# logs kept in %s\n", tmpdir);
	}
	return r;
}
