// SPDX-License-Identifier: GPL-2.0-only
/*
 * Registry client: libcurl for the transport, src/proto for signing,
 * agent_peer_from_json for every peer document that comes back.
 */
#include "agent/regclient.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <jansson.h>

#include "common/compiler.h"
#include "common/encode.h"
#include "crypto/ct.h"
#include "crypto/rand.h"
#include "proto/netdef.h"
#include "proto/sigreq.h"

struct regclient {
	CURL *curl;
	char base[PROTO_URL_MAX + 1]; /* without a trailing slash */
	size_t prefix;		      /* offset of the path prefix in base */
	char *cafile;
	struct proto_netdef net;
	uint8_t seed[32];
	const struct proto_revoke *rl;
	agent_refuse_fn refuse;
	void *refuse_ctx;
	char err[320];
	char code[40];
	char observed[PROTO_ADDR_STRLEN];
	char curl_err[CURL_ERROR_SIZE];
};

/* A response body, refused past max. */
struct resp {
	char *p;
	size_t len, cap, max;
	bool over;
};

__attribute__((format(printf, 2, 3))) static void fail(struct regclient *rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rc->err, sizeof(rc->err), fmt, ap);
	va_end(ap);
}

/* Untrusted text for a log line: printable ASCII, capped. */
static void sanitize(char *out, size_t cap, const char *in)
{
	size_t i, n = 0;

	for (i = 0; in && in[i] && n + 1 < cap && i < AGENT_ERR_TEXT_MAX; i++)
		out[n++] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[n] = '\0';
}

int regclient_new(const char *url, const struct proto_netdef *net, const uint8_t identity_seed[32],
		  struct regclient **out)
{
	struct regclient *rc;
	size_t n = url ? strlen(url) : 0;
	const char *host = url ? strstr(url, "://") : NULL, *path;

	if (!url || !proto_url_valid(url, n) || !host || strpbrk(url, "?#"))
		return -EINVAL;
	while (n && url[n - 1] == '/')
		n--;
	path = strchr(host + 3, '/');
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return -ENOMEM;
	rc->curl = curl_easy_init();
	if (!rc->curl) {
		free(rc);
		return -ENOMEM;
	}
	memcpy(rc->base, url, n);
	rc->prefix = path && (size_t)(path - url) < n ? (size_t)(path - url) : n;
	rc->net = *net;
	memcpy(rc->seed, identity_seed, sizeof(rc->seed));
	*out = rc;
	return 0;
}

void regclient_free(struct regclient *rc)
{
	if (!rc)
		return;
	curl_easy_cleanup(rc->curl);
	free(rc->cafile);
	cry_wipe(rc->seed, sizeof(rc->seed));
	free(rc);
}

int regclient_set_cafile(struct regclient *rc, const char *path)
{
	char *p = path ? strdup(path) : NULL;

	if (path && !p)
		return -ENOMEM;
	free(rc->cafile);
	rc->cafile = p;
	return 0;
}

void regclient_set_revocations(struct regclient *rc, const struct proto_revoke *rl)
{
	rc->rl = rl;
}

void regclient_set_refuse_cb(struct regclient *rc, agent_refuse_fn fn, void *ctx)
{
	rc->refuse = fn;
	rc->refuse_ctx = ctx;
}

const char *regclient_error(const struct regclient *rc)
{
	return rc->err;
}

const char *regclient_error_code(const struct regclient *rc)
{
	return rc->code;
}

const char *regclient_observed_ip(const struct regclient *rc)
{
	return rc->observed;
}

/* ---- transport ---- */

static size_t sink(char *p, size_t sz, size_t nmemb, void *ctx)
{
	struct resp *r = ctx;
	size_t n = sz * nmemb;

	if (n > r->max - r->len) {
		r->over = true;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = SC_MAX(r->cap * 2, r->len + n + 1);
		char *np = realloc(r->p, SC_MIN(cap, r->max + 1));

		if (!np)
			return 0;
		r->p = np;
		r->cap = SC_MIN(cap, r->max + 1);
	}
	memcpy(r->p + r->len, p, n);
	r->len += n;
	r->p[r->len] = '\0';
	return n;
}

static int curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return -ECONNRESET;
	case CURLE_FILESIZE_EXCEEDED:
		return -EMSGSIZE;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		return -EKEYREJECTED;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EPROTO;
	}
}

/* Scope-* headers of a signed request for path (as sent) and body. */
static int sign_headers(struct regclient *rc, const char *method, const char *path,
			const char *body, size_t len, struct curl_slist **hdrs)
{
	struct proto_sigreq_msg m = {
		.network = rc->net.name,
		.method = method,
		.path = path,
		.body = body,
		.body_len = len,
	};
	uint8_t nonce[PROTO_SIGREQ_NONCE_LEN];
	struct proto_sigreq_hdr h;
	char line[160];
	struct curl_slist *l = *hdrs;
	int err = cry_random(nonce, sizeof(nonce));

	if (!err)
		err = proto_sigreq_sign(&h, rc->seed, &m, (uint64_t)time(NULL), nonce);
	if (err)
		return err;
	snprintf(line, sizeof(line), "%s: %s", PROTO_SIGREQ_HDR_KEY, h.key);
	l = curl_slist_append(l, line);
	snprintf(line, sizeof(line), "%s: %s", PROTO_SIGREQ_HDR_TIMESTAMP, h.timestamp);
	l = l ? curl_slist_append(l, line) : NULL;
	snprintf(line, sizeof(line), "%s: %s", PROTO_SIGREQ_HDR_NONCE, h.nonce);
	l = l ? curl_slist_append(l, line) : NULL;
	snprintf(line, sizeof(line), "%s: %s", PROTO_SIGREQ_HDR_SIGNATURE, h.signature);
	l = l ? curl_slist_append(l, line) : NULL;
	if (!l)
		return -ENOMEM;
	*hdrs = l;
	return 0;
}

static void setup(struct regclient *rc, const char *url, long timeout, struct resp *r)
{
	CURL *c = rc->curl;

	/* reset keeps the connection cache: one kept-alive connection */
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* the signed target is the sent one */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)AGENT_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "scoped");
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, rc->curl_err);
	if (rc->cafile)
		curl_easy_setopt(c, CURLOPT_CAINFO, rc->cafile);
}

/* One request. 0 with *status set (any HTTP status) or a transport error.
 * path is below the base URL's prefix ("/v1/peers?since=3"). */
static int request(struct regclient *rc, const char *method, const char *path, const char *body,
		   bool sign, long timeout, struct resp *r, long *status)
{
	char url[PROTO_URL_MAX + 64 + PROTO_SIGREQ_PATH_MAX];
	struct curl_slist *hdrs = NULL;
	size_t len = body ? strlen(body) : 0;
	CURLcode cc;
	int err = 0;

	rc->err[0] = rc->code[0] = rc->curl_err[0] = '\0';
	snprintf(url, sizeof(url), "%s%s", rc->base, path);
	setup(rc, url, timeout, r);
	if (body) {
		curl_easy_setopt(rc->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(rc->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	} else {
		curl_easy_setopt(rc->curl, CURLOPT_HTTPGET, 1L);
		hdrs = curl_slist_append(hdrs, "Accept: application/json");
	}
	if (hdrs)
		hdrs = curl_slist_append(hdrs, "Expect:");
	if (!hdrs)
		err = -ENOMEM;
	if (!err && sign)
		err = sign_headers(rc, method, url + rc->prefix, body, len, &hdrs);
	if (err) {
		fail(rc, "%s %s: cannot sign the request: %s", method, path, strerror(-err));
		goto out;
	}
	curl_easy_setopt(rc->curl, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(rc->curl);
	if (cc == CURLE_WRITE_ERROR && r->over)
		cc = CURLE_FILESIZE_EXCEEDED;
	if (cc != CURLE_OK) {
		err = curl_errno(cc);
		fail(rc, "%s %s%s: %s%s%s", method, rc->base, path, curl_easy_strerror(cc),
		     rc->curl_err[0] ? ": " : "", rc->curl_err);
		goto out;
	}
	curl_easy_getinfo(rc->curl, CURLINFO_RESPONSE_CODE, status);
out:
	curl_slist_free_all(hdrs);
	return err;
}

static int code_errno(long st, const char *code)
{
	static const struct {
		const char *code;
		int err;
	} by_code[] = {
		{ "unknown_peer", -ENOENT },
		{ "revoked", -EKEYREVOKED },
		{ "cert_expired", -EKEYEXPIRED },
		{ "wrong_network", -EXDEV },
	};
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(by_code); i++)
		if (!strcmp(code, by_code[i].code))
			return by_code[i].err;
	switch (st) {
	case 400:
		return -EINVAL;
	case 401:
		return -EACCES;
	case 403:
		return -EPERM;
	case 404:
		return -ENOENT;
	case 409:
		return -EEXIST;
	case 410:
		return -ESTALE;
	case 413:
	case 414:
		return -E2BIG;
	case 503:
		return -EAGAIN;
	default:
		return st >= 500 ? -EIO : -EPROTO;
	}
}

/* A non-2xx answer: its code and text into rc, the errno. */
static int refusal(struct regclient *rc, const char *method, const char *path, long st,
		   const struct resp *r)
{
	char text[AGENT_ERR_TEXT_MAX + 1] = "";
	json_t *o = NULL;

	if (r->p && agent_json_load(r->p, r->len, AGENT_SMALL_BODY_MAX, &o) == 0) {
		sanitize(rc->code, sizeof(rc->code), json_string_value(json_object_get(o, "code")));
		sanitize(text, sizeof(text), json_string_value(json_object_get(o, "error")));
		json_decref(o);
	}
	fail(rc, "%s %s: %ld %s%s%s", method, path, st, rc->code[0] ? rc->code : "(no code)",
	     text[0] ? ": " : "", text);
	return code_errno(st, rc->code);
}

/* A request whose 200 answer is a JSON object, into *out. */
static int call(struct regclient *rc, const char *method, const char *path, const char *body,
		bool sign, long timeout, size_t max, json_t **out, struct resp *keep)
{
	struct resp r = { .max = max };
	long st = 0;
	int err = request(rc, method, path, body, sign, timeout, &r, &st);

	if (!err && (st < 200 || st > 299))
		err = refusal(rc, method, path, st, &r);
	if (!err && out) {
		json_t *o = NULL;

		if (agent_json_load(r.p ? r.p : "", r.len, max, &o) || !json_is_object(o)) {
			json_decref(o);
			fail(rc, "%s %s: the answer is not a JSON object", method, path);
			err = -EPROTO;
		} else {
			*out = o;
		}
	}
	if (!err && keep) {
		*keep = r;
		return 0;
	}
	free(r.p);
	return err;
}

/* ---- join, update, leave ---- */

static int put_endpoints(char *out, size_t cap, const struct proto_endpoint *eps, size_t n)
{
	char s[PROTO_ENDPOINT_STRLEN];
	size_t i, len = 0;
	int k;

	for (i = 0; i < n; i++) {
		proto_endpoint_format(s, &eps[i]);
		k = snprintf(out + len, cap - len, "%s\"%s\"", i ? "," : "", s);
		if (k < 0 || (size_t)k >= cap - len)
			return -ENOBUFS;
		len += (size_t)k;
	}
	out[len] = '\0';
	return 0;
}

static int version_of(struct regclient *rc, json_t *o, const char *what, uint64_t *version)
{
	json_t *v = json_object_get(o, "version");

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		fail(rc, "%s: no version in the answer", what);
		return -EPROTO;
	}
	*version = (uint64_t)json_integer_value(v);
	return 0;
}

#define EPS_TEXT_MAX (AGENT_MAX_ENDPOINTS * (PROTO_ENDPOINT_STRLEN + 3) + 1)

int regclient_join(struct regclient *rc, const uint8_t *cert, size_t cert_len, uint8_t role,
		   const struct proto_endpoint *eps, size_t n, uint64_t *version)
{
	static const char *const names[] = { [PROTO_ROLE_EDGE] = "edge",
					     [PROTO_ROLE_RELAY] = "relay",
					     [PROTO_ROLE_MASTER] = "master" };
	char eptext[EPS_TEXT_MAX], *b64 = NULL, *body = NULL;
	size_t cap = SC_B64_LEN(cert_len) + EPS_TEXT_MAX + 64;
	const char *ip;
	json_t *o = NULL;
	uint64_t v = 0;
	int err;

	if (!cert || !cert_len || cert_len > PROTO_RECORD_MAX || n > AGENT_MAX_ENDPOINTS ||
	    role >= SC_ARRAY_SIZE(names) || !names[role] ||
	    put_endpoints(eptext, sizeof(eptext), eps, n))
		return -EINVAL;
	b64 = malloc(SC_B64_LEN(cert_len) + 1);
	body = malloc(cap);
	err = b64 && body ? 0 : -ENOMEM;
	if (!err) {
		sc_b64_encode(b64, cert, cert_len);
		snprintf(body, cap, "{\"cert\":\"%s\",\"role\":\"%s\",\"endpoints\":[%s]}", b64,
			 names[role], eptext);
		err = call(rc, "POST", "/v1/join", body, true, AGENT_REQUEST_TIMEOUT,
			   AGENT_SMALL_BODY_MAX, &o, NULL);
	}
	if (!err)
		err = version_of(rc, o, "POST /v1/join", &v);
	if (!err) {
		ip = json_string_value(json_object_get(o, "observed_ip"));
		sanitize(rc->observed, sizeof(rc->observed), ip && strlen(ip) < 46 ? ip : "");
		*version = v;
	}
	json_decref(o);
	free(b64);
	free(body);
	return err;
}

int regclient_update(struct regclient *rc, const struct proto_endpoint *eps, size_t n,
		     uint64_t *version)
{
	char eptext[EPS_TEXT_MAX], body[EPS_TEXT_MAX + 32];
	json_t *o = NULL;
	uint64_t v = 0;
	int err;

	if (n > AGENT_MAX_ENDPOINTS || put_endpoints(eptext, sizeof(eptext), eps, n))
		return -EINVAL;
	snprintf(body, sizeof(body), "{\"endpoints\":[%s]}", eptext);
	err = call(rc, "POST", "/v1/update", body, true, AGENT_REQUEST_TIMEOUT,
		   AGENT_SMALL_BODY_MAX, &o, NULL);
	if (!err)
		err = version_of(rc, o, "POST /v1/update", &v);
	if (!err)
		*version = v;
	json_decref(o);
	return err;
}

int regclient_leave(struct regclient *rc)
{
	return call(rc, "POST", "/v1/leave", "{}", true, AGENT_REQUEST_TIMEOUT,
		    AGENT_SMALL_BODY_MAX, NULL, NULL);
}

/* ---- peer list ---- */

static void refused(agent_refuse_fn fn, void *ctx, const json_t *doc, int err, const char *why)
{
	const char *name = json_string_value(json_object_get(doc, "name"));
	char clean[PROTO_PEER_NAME_MAX + 1];

	if (!fn)
		return;
	sanitize(clean, sizeof(clean), name ? name : "");
	fn(ctx, clean, err, why);
}

static bool name_ok(const json_t *v)
{
	return json_is_string(v) &&
	       proto_peer_name_valid(json_string_value(v), json_string_length(v));
}

static int peers_from(const json_t *o, const struct proto_netdef *net,
		      const struct proto_revoke *rl, uint64_t now, agent_refuse_fn fn, void *ctx,
		      struct regclient_peers *p)
{
	const json_t *peers = json_object_get(o, "peers"), *left = json_object_get(o, "left"),
		     *ver = json_object_get(o, "version"), *full = json_object_get(o, "full"), *v;
	char why[160];
	size_t i;
	int err;

	if (!json_is_integer(ver) || json_integer_value(ver) < 0 || !json_is_boolean(full) ||
	    !json_is_array(peers) || json_array_size(peers) > AGENT_PEERS_MAX ||
	    !json_is_array(left) || json_array_size(left) > AGENT_LEFT_MAX)
		return -EPROTO;
	p->version = (uint64_t)json_integer_value(ver);
	p->full = json_is_true(full);
	p->peers = calloc(json_array_size(peers) + 1, sizeof(*p->peers));
	p->left = calloc(json_array_size(left) + 1, sizeof(*p->left));
	if (!p->peers || !p->left)
		return -ENOMEM;
	json_array_foreach(left, i, v)
	{
		if (!name_ok(v))
			return -EPROTO;
		memcpy(p->left[p->n_left++], json_string_value(v), json_string_length(v) + 1);
	}
	json_array_foreach(peers, i, v)
	{
		why[0] = '\0';
		err = agent_peer_from_json(v, net, rl, now, &p->peers[p->n], why, sizeof(why));
		if (err == -ENOMEM)
			return err;
		if (err) {
			refused(fn, ctx, v, err, why);
			p->refused++;
			continue;
		}
		p->peers[p->n++].version = p->version;
	}
	i = p->n;
	p->n = agent_peers_dedup(p->peers, p->n, fn, ctx);
	p->refused += i - p->n;
	return 0;
}

int regclient_parse_peers(const char *body, size_t len, const struct proto_netdef *net,
			  const struct proto_revoke *rl, uint64_t now, agent_refuse_fn fn,
			  void *ctx, struct regclient_peers *out)
{
	struct regclient_peers p = { 0 };
	json_t *o = NULL;
	int err = agent_json_load(body, len, AGENT_LIST_BODY_MAX, &o);

	if (err)
		return err == -EMSGSIZE ? err : -EPROTO;
	err = json_is_object(o) ? peers_from(o, net, rl, now, fn, ctx, &p) : -EPROTO;
	json_decref(o);
	if (err) {
		regclient_peers_clear(&p);
		return err;
	}
	*out = p;
	return 0;
}

int regclient_peers(struct regclient *rc, uint64_t since, uint64_t now, struct regclient_peers *out)
{
	struct resp r = { 0 };
	char path[64];
	int err;

	if (since)
		snprintf(path, sizeof(path), "/v1/peers?since=%llu", (unsigned long long)since);
	else
		snprintf(path, sizeof(path), "/v1/peers");
	err = call(rc, "GET", path, NULL, true, AGENT_REQUEST_TIMEOUT, AGENT_LIST_BODY_MAX, NULL,
		   &r);
	if (!err)
		err = regclient_parse_peers(r.p ? r.p : "", r.len, &rc->net, rc->rl, now,
					    rc->refuse, rc->refuse_ctx, out);
	if (err && !rc->err[0])
		fail(rc, "GET %s: malformed answer (%s)", path, strerror(-err));
	free(r.p);
	return err;
}

void regclient_peers_clear(struct regclient_peers *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; p->peers && i < p->n; i++)
		agent_peer_clear(&p->peers[i]);
	free(p->peers);
	free(p->left);
	memset(p, 0, sizeof(*p));
}

/* ---- events ---- */

static int type_of(const char *s, enum regclient_ev_type *t)
{
	static const char *const names[] = {
		[RC_EV_JOIN] = "join", [RC_EV_MOVE] = "move", [RC_EV_LEAVE] = "leave",
		[RC_EV_TIER] = "tier", [RC_EV_KEX] = "kex",   [RC_EV_KILL] = "kill"
	};
	size_t i;

	for (i = 0; s && i < SC_ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*t = (enum regclient_ev_type)i;
			return 0;
		}
	}
	return -ENOENT;
}

static void copy_name(char *out, const json_t *v)
{
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
}

/* The data of a non-document event. -EPROTO if malformed. */
static int event_data(const json_t *data, struct regclient_event *e)
{
	const json_t *v;
	const char *s;
	size_t n;

	switch (e->type) {
	case RC_EV_LEAVE:
		s = json_string_value(json_object_get(data, "reason"));
		if (s && strlen(s) < sizeof(e->reason))
			memcpy(e->reason, s, strlen(s) + 1);
		return 0;
	case RC_EV_TIER:
		s = json_string_value(json_object_get(data, "tier"));
		if (!s)
			return -EPROTO;
		e->tier = !strcmp(s, "relay")  ? AGENT_TIER_RELAY
			  : !strcmp(s, "pipe") ? AGENT_TIER_PIPE
					       : AGENT_TIER_NONE;
		return !strcmp(s, "relay") || !strcmp(s, "pipe") || !strcmp(s, "none") ? 0
										       : -EPROTO;
	case RC_EV_KEX:
		v = json_object_get(data, "from");
		if (!name_ok(v))
			return -EPROTO;
		copy_name(e->from, v);
		return 0;
	case RC_EV_KILL:
		v = json_object_get(data, "kill");
		if (!json_is_string(v))
			return -EPROTO;
		s = json_string_value(v);
		n = json_string_length(v);
		if (n == 0 || n % 4 || n / 4 * 3 > PROTO_RECORD_MAX + 2)
			return -EPROTO;
		e->kill_len = n / 4 * 3 - (s[n - 1] == '=') - (s[n - 2] == '=');
		e->kill = malloc(e->kill_len);
		if (!e->kill)
			return -ENOMEM;
		if (e->kill_len > PROTO_RECORD_MAX || sc_b64_decode(e->kill, e->kill_len, s, n))
			return -EPROTO;
		return 0;
	default:
		return 0;
	}
}

static void event_clear(struct regclient_event *e)
{
	agent_peer_clear(&e->doc);
	free(e->kill);
	memset(e, 0, sizeof(*e));
}

/* One event into *e: 0, 1 if it is to be skipped (unknown type or a refused
 * document), or a negative errno. */
static int event_one(const json_t *v, uint64_t after, const struct proto_netdef *net,
		     const struct proto_revoke *rl, uint64_t now, agent_refuse_fn fn, void *ctx,
		     struct regclient_event *e, size_t *refused_n)
{
	const json_t *seq = json_object_get(v, "seq"), *peer = json_object_get(v, "peer"),
		     *data = json_object_get(v, "data");
	char why[160] = "";
	int err;

	if (!json_is_integer(seq) || json_integer_value(seq) < 0 ||
	    (uint64_t)json_integer_value(seq) <= after || !json_is_string(peer) ||
	    !json_is_object(data))
		return -EPROTO;
	e->seq = (uint64_t)json_integer_value(seq);
	if (type_of(json_string_value(json_object_get(v, "type")), &e->type))
		return 1; /* a newer registry's event: not ours to understand */
	if (e->type == RC_EV_KILL ? json_string_length(peer) != 0 : !name_ok(peer))
		return -EPROTO;
	copy_name(e->peer, peer);
	if (e->type != RC_EV_JOIN && e->type != RC_EV_MOVE)
		return event_data(data, e);
	err = agent_peer_from_json(data, net, rl, now, &e->doc, why, sizeof(why));
	if (!err && strcmp(e->doc.name, e->peer)) {
		snprintf(why, sizeof(why), "event for %s carries the document of %s", e->peer,
			 e->doc.name);
		err = -EBADMSG;
	}
	if (err == -ENOMEM)
		return err;
	if (err) {
		refused(fn, ctx, data, err, why);
		(*refused_n)++;
		return 1;
	}
	e->doc.version = e->seq;
	return 0;
}

static int events_from(const json_t *o, uint64_t cursor, const struct proto_netdef *net,
		       const struct proto_revoke *rl, uint64_t now, agent_refuse_fn fn, void *ctx,
		       struct regclient_events *out)
{
	const json_t *evs = json_object_get(o, "events"), *cur = json_object_get(o, "cursor"), *v;
	uint64_t last = cursor;
	size_t i;
	int err;

	if (!json_is_array(evs) || json_array_size(evs) > AGENT_EVENTS_MAX ||
	    !json_is_integer(cur) || json_integer_value(cur) < 0)
		return -EPROTO;
	out->ev = calloc(json_array_size(evs) + 1, sizeof(*out->ev));
	if (!out->ev)
		return -ENOMEM;
	json_array_foreach(evs, i, v)
	{
		struct regclient_event *e = &out->ev[out->n];

		err = event_one(v, last, net, rl, now, fn, ctx, e, &out->refused);
		if (err < 0) {
			event_clear(e);
			return err;
		}
		/* sequence numbers only grow, skipped events included */
		last = e->seq;
		if (err == 1)
			event_clear(e);
		else
			out->n++;
	}
	/* the cursor must cover what was sent and never go back */
	if ((uint64_t)json_integer_value(cur) < last)
		return -EPROTO;
	out->cursor = (uint64_t)json_integer_value(cur);
	return 0;
}

int regclient_parse_events(const char *body, size_t len, uint64_t cursor,
			   const struct proto_netdef *net, const struct proto_revoke *rl,
			   uint64_t now, agent_refuse_fn fn, void *ctx,
			   struct regclient_events *out)
{
	struct regclient_events e = { 0 };
	json_t *o = NULL;
	int err = agent_json_load(body, len, AGENT_LIST_BODY_MAX, &o);

	if (err)
		return err == -EMSGSIZE ? err : -EPROTO;
	err = json_is_object(o) ? events_from(o, cursor, net, rl, now, fn, ctx, &e) : -EPROTO;
	json_decref(o);
	if (err) {
		regclient_events_clear(&e);
		return err;
	}
	*out = e;
	return 0;
}

int regclient_events(struct regclient *rc, uint64_t cursor, unsigned int timeout_s, uint64_t now,
		     struct regclient_events *out)
{
	struct resp r = { 0 };
	char path[96];
	int err;

	timeout_s = SC_MIN(timeout_s, AGENT_POLL_MAX);
	snprintf(path, sizeof(path), "/v1/events?cursor=%llu&timeout=%u",
		 (unsigned long long)cursor, timeout_s);
	err = call(rc, "GET", path, NULL, true, (long)timeout_s + AGENT_POLL_SLACK,
		   AGENT_LIST_BODY_MAX, NULL, &r);
	if (err == -ESTALE) {
		/* 410: the registry no longer has events after cursor */
		memset(out, 0, sizeof(*out));
		out->cursor = cursor;
		out->expired = true;
		return 0;
	}
	if (!err)
		err = regclient_parse_events(r.p ? r.p : "", r.len, cursor, &rc->net, rc->rl, now,
					     rc->refuse, rc->refuse_ctx, out);
	if (err && !rc->err[0])
		fail(rc, "GET %s: malformed answer (%s)", path, strerror(-err));
	free(r.p);
	return err;
}

void regclient_events_clear(struct regclient_events *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; e->ev && i < e->n; i++)
		event_clear(&e->ev[i]);
	free(e->ev);
	memset(e, 0, sizeof(*e));
}

/* ---- kill switches and revocations (raw: the caller verifies) ---- */

static int b64_field(const json_t *v, size_t cap, uint8_t **rec, size_t *len)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), out;
	uint8_t *p;

	if (!s || n == 0 || n % 4 || n / 4 * 3 > cap + 2)
		return -EPROTO;
	out = n / 4 * 3 - (s[n - 1] == '=') - (s[n - 2] == '=');
	if (out > cap)
		return -EPROTO;
	p = malloc(out);
	if (!p)
		return -ENOMEM;
	if (sc_b64_decode(p, out, s, n)) {
		free(p);
		return -EPROTO;
	}
	*rec = p;
	*len = out;
	return 0;
}

int regclient_get_kills(struct regclient *rc, struct regclient_kills *out)
{
	struct regclient_kills k = { 0 };
	json_t *o = NULL, *a, *v;
	size_t i;
	int err = call(rc, "GET", "/v1/kill", NULL, false, AGENT_REQUEST_TIMEOUT,
		       AGENT_SMALL_BODY_MAX, &o, NULL);

	if (err)
		return err;
	a = json_object_get(o, "kills");
	err = json_is_array(a) && json_array_size(a) <= AGENT_KILLS_MAX ? 0 : -EPROTO;
	if (!err) {
		k.k = calloc(json_array_size(a) + 1, sizeof(*k.k));
		err = k.k ? 0 : -ENOMEM;
	}
	json_array_foreach(a, i, v)
	{
		if (err)
			break;
		err = b64_field(json_object_get(v, "kill"), PROTO_RECORD_MAX, &k.k[k.n].rec,
				&k.k[k.n].len);
		if (!err)
			k.n++;
	}
	json_decref(o);
	if (err) {
		if (err == -EPROTO)
			fail(rc, "GET /v1/kill: malformed answer");
		regclient_kills_clear(&k);
		return err;
	}
	*out = k;
	return 0;
}

void regclient_kills_clear(struct regclient_kills *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; k->k && i < k->n; i++)
		free(k->k[i].rec);
	free(k->k);
	memset(k, 0, sizeof(*k));
}

int regclient_get_kill(struct regclient *rc, uint8_t **rec, size_t *len)
{
	struct regclient_kills k;
	int err = regclient_get_kills(rc, &k);

	if (err)
		return err;
	if (!k.n) {
		regclient_kills_clear(&k);
		return -ENOENT;
	}
	/* highest serial first, as the registry sends them; the caller reads
	 * the serial from the verified record, not from this order */
	*rec = k.k[0].rec;
	*len = k.k[0].len;
	k.k[0].rec = NULL;
	regclient_kills_clear(&k);
	return 0;
}

int regclient_get_revocations(struct regclient *rc, uint8_t **rec, size_t *len)
{
	json_t *o = NULL;
	int err = call(rc, "GET", "/v1/revocations", NULL, false, AGENT_REQUEST_TIMEOUT,
		       AGENT_SMALL_BODY_MAX, &o, NULL);

	if (!err)
		err = b64_field(json_object_get(o, "revocations"), PROTO_REVOKE_RECORD_MAX, rec,
				len);
	if (err == -EPROTO)
		fail(rc, "GET /v1/revocations: malformed answer");
	json_decref(o);
	return err;
}

/* ---- KEX mailbox ---- */

/* A request refused before the wire: says so for the log, no registry code. */
static int unsent(struct regclient *rc, const char *what, int err, const char *why)
{
	rc->code[0] = '\0';
	fail(rc, "%s: not sent: %s", what, why);
	return err;
}

int regclient_kex_post(struct regclient *rc, const char *to, const uint8_t *rec, size_t len,
		       unsigned int ttl_s, uint64_t *id)
{
	char *body = NULL, ttl[24] = "";
	size_t cap = SC_B64_LEN(PROTO_KEX_RECORD_MAX) + PROTO_PEER_NAME_MAX + 64, n;
	json_t *o = NULL, *v;
	int err;

	if (len > PROTO_KEX_RECORD_MAX)
		return unsent(rc, "POST /v1/kex", -E2BIG, "record over PROTO_KEX_RECORD_MAX");
	if (!to || !proto_peer_name_valid(to, strlen(to)) || !rec || !len ||
	    ttl_s > AGENT_KEX_TTL_MAX)
		return unsent(rc, "POST /v1/kex", -EINVAL, "bad recipient, record or ttl");
	if (ttl_s)
		snprintf(ttl, sizeof(ttl), ",\"ttl\":%u", ttl_s);
	body = malloc(cap);
	if (!body)
		return -ENOMEM;
	/* a valid peer name needs no JSON escaping */
	n = (size_t)snprintf(body, cap, "{\"to\":\"%s\",\"msg\":\"", to);
	sc_b64_encode(body + n, rec, len);
	n += SC_B64_LEN(len);
	snprintf(body + n, cap - n, "\"%s}", ttl);
	err = call(rc, "POST", "/v1/kex", body, true, AGENT_REQUEST_TIMEOUT, AGENT_SMALL_BODY_MAX,
		   &o, NULL);
	if (!err) {
		v = json_object_get(o, "id");
		if (json_is_integer(v) && json_integer_value(v) > 0) {
			*id = (uint64_t)json_integer_value(v);
		} else {
			fail(rc, "POST /v1/kex: no id in the answer");
			err = -EPROTO;
		}
	}
	json_decref(o);
	free(body);
	return err;
}

/* The KEX record inside a stored signed request: its body (a JSON string)
 * is {"to":..,"msg":"<base64>","ttl":..}; rec[0, *len) gets msg decoded.
 * The envelope is not checked cryptographically: the KEX record is signed
 * by its sender, which is what the KEX driver verifies. 0 or a reason. */
static const char *kex_record(const json_t *record, uint8_t *rec, size_t *len)
{
	const json_t *body = json_object_get(record, "body");
	const char *why = NULL, *s;
	json_t *o = NULL, *msg;
	size_t n, out;

	if (!json_is_object(record) || !json_is_string(body))
		return "no signed request body";
	if (agent_json_load(json_string_value(body), json_string_length(body),
			    AGENT_KEX_SIGNED_BODY_MAX, &o) ||
	    !json_is_object(o)) {
		json_decref(o);
		return "the signed body is not a JSON object";
	}
	msg = json_object_get(o, "msg");
	s = json_string_value(msg);
	n = json_string_length(msg);
	if (!s || n == 0 || n % 4 || n / 4 * 3 > PROTO_KEX_RECORD_MAX + 2) {
		why = "no base64 msg of at most PROTO_KEX_RECORD_MAX bytes";
	} else {
		out = n / 4 * 3 - (s[n - 1] == '=') - (s[n - 2] == '=');
		if (out == 0 || out > PROTO_KEX_RECORD_MAX || sc_b64_decode(rec, out, s, n))
			why = "msg is not canonical base64 of at most PROTO_KEX_RECORD_MAX bytes";
		else
			*len = out;
	}
	json_decref(o);
	return why;
}

static bool u64_field(const json_t *o, const char *key, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

/* One message into *m: 0, 1 if it is to be skipped (refused or expired:
 * *why says which, NULL for expired), or -EPROTO for a broken shape. */
static int kex_one(const json_t *v, uint64_t after, uint64_t now, struct regclient_kex_msg *m,
		   const char **why)
{
	const json_t *from = json_object_get(v, "from");

	if (!json_is_object(v) || !u64_field(v, "id", &m->id) || m->id <= after ||
	    !u64_field(v, "created", &m->created) || !u64_field(v, "expires", &m->expires) ||
	    m->created > m->expires || !name_ok(from) || !json_object_get(v, "record"))
		return -EPROTO;
	copy_name(m->from, from);
	*why = NULL;
	if (m->expires < now)
		return 1;
	*why = kex_record(json_object_get(v, "record"), m->rec, &m->len);
	return *why ? 1 : 0;
}

static int kex_from(const json_t *o, uint64_t after, uint64_t now, agent_refuse_fn fn, void *ctx,
		    struct regclient_kex_msgs *out)
{
	const json_t *msgs = json_object_get(o, "messages"), *v;
	uint64_t last = after, next;
	const char *why;
	size_t i;
	int err;

	if (!json_is_array(msgs) || json_array_size(msgs) > AGENT_KEX_FETCH_MAX ||
	    !u64_field(o, "next", &next))
		return -EPROTO;
	out->m = calloc(json_array_size(msgs) + 1, sizeof(*out->m));
	if (!out->m)
		return -ENOMEM;
	json_array_foreach(msgs, i, v)
	{
		struct regclient_kex_msg *m = &out->m[out->n];

		/* ids only grow: each must be above the previous one */
		err = kex_one(v, last, now, m, &why);
		if (err < 0)
			return err;
		last = m->id;
		if (err == 0) {
			out->n++;
			continue;
		}
		if (why) {
			char text[160];

			snprintf(text, sizeof(text), "KEX message %llu: %s",
				 (unsigned long long)m->id, why);
			if (fn)
				fn(ctx, m->from, -EBADMSG, text);
			out->refused++;
		} else {
			out->expired++;
		}
		memset(m, 0, sizeof(*m));
	}
	/* next covers what was sent and never goes back */
	if (next < last)
		return -EPROTO;
	out->next = next;
	out->more = json_array_size(msgs) == AGENT_KEX_FETCH_MAX;
	return 0;
}

int regclient_parse_kex(const char *body, size_t len, uint64_t after, uint64_t now,
			agent_refuse_fn fn, void *ctx, struct regclient_kex_msgs *out)
{
	struct regclient_kex_msgs k = { 0 };
	json_t *o = NULL;
	int err = agent_json_load(body, len, AGENT_KEX_BODY_MAX, &o);

	if (err)
		return err == -EMSGSIZE ? err : -EPROTO;
	err = json_is_object(o) ? kex_from(o, after, now, fn, ctx, &k) : -EPROTO;
	json_decref(o);
	if (err) {
		regclient_kex_msgs_clear(&k);
		return err;
	}
	*out = k;
	return 0;
}

int regclient_kex_get(struct regclient *rc, uint64_t after_id, uint64_t now,
		      struct regclient_kex_msgs *out)
{
	struct resp r = { 0 };
	char path[64];
	int err;

	if (after_id > INT64_MAX)
		return unsent(rc, "GET /v1/kex", -EINVAL, "id out of range");
	snprintf(path, sizeof(path), "/v1/kex?after=%llu", (unsigned long long)after_id);
	err = call(rc, "GET", path, NULL, true, AGENT_REQUEST_TIMEOUT, AGENT_KEX_BODY_MAX, NULL,
		   &r);
	if (!err)
		err = regclient_parse_kex(r.p ? r.p : "", r.len, after_id, now, rc->refuse,
					  rc->refuse_ctx, out);
	if (err && !rc->err[0])
		fail(rc, "GET %s: malformed answer (%s)", path, strerror(-err));
	free(r.p);
	return err;
}

void regclient_kex_msgs_clear(struct regclient_kex_msgs *k)
{
	if (!k)
		return;
	free(k->m);
	memset(k, 0, sizeof(*k));
}

/* ---- reports ---- */

/* A growing text buffer, refused past max. */
struct text {
	char *p;
	size_t len, cap, max;
	int err;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *np;
	int k;

	while (!t->err) {
		va_start(ap, fmt);
		k = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			t->err = -EINVAL;
		} else if (t->p && (size_t)k < t->cap - t->len) {
			t->len += (size_t)k;
			return;
		} else if (t->len + (size_t)k > t->max) {
			t->err = -E2BIG;
		} else {
			cap = SC_MIN(SC_MAX(t->cap * 2, t->len + (size_t)k + 1), t->max + 1);
			np = realloc(t->p, cap);
			if (!np) {
				t->err = -ENOMEM;
			} else {
				t->p = np;
				t->cap = cap;
			}
		}
	}
}

static void put_report_peer(struct text *t, const struct regclient_report_peer *e)
{
	char reach[8] = "null";

	if (e->reach != RC_REACH_NONE)
		snprintf(reach, sizeof(reach), "%d", e->reach);
	/* a valid peer name needs no JSON escaping */
	put(t, "{\"peer\":\"%s\",\"reach\":%s", e->peer, reach);
	if (e->has_latency)
		put(t, ",\"latency_us\":%u", e->latency_us);
	put(t, ",\"handshake\":%s,\"pq\":%s", e->handshake ? "true" : "false",
	    e->pq ? "true" : "false");
	if (e->has_kex)
		put(t, ",\"kex_version\":%llu,\"classical\":%u,\"pq_state\":%u",
		    (unsigned long long)e->kex_version, e->classical, e->pq_state);
	put(t, "}");
}

int regclient_report(struct regclient *rc, const struct regclient_report *r)
{
	struct text t = { .max = AGENT_REPORT_BODY_MAX };
	char eptext[EPS_TEXT_MAX];
	size_t i;
	int err;

	if (r->n > AGENT_REPORT_PEERS_MAX || (r->n && !r->peers) ||
	    (r->has_endpoints && (r->n_eps > AGENT_MAX_ENDPOINTS ||
				  put_endpoints(eptext, sizeof(eptext), r->eps, r->n_eps))))
		return unsent(rc, "POST /v1/reports", -EINVAL, "too many peers or endpoints");
	for (i = 0; i < r->n; i++) {
		const struct regclient_report_peer *e = &r->peers[i];

		if (!proto_peer_name_valid(e->peer, strnlen(e->peer, sizeof(e->peer))) ||
		    e->kex_version > UINT32_MAX)
			return unsent(rc, "POST /v1/reports", -EINVAL,
				      "a bad peer name or a kex_version over 32 bits");
	}
	put(&t, "{");
	if (r->has_endpoints)
		put(&t, "\"endpoints\":[%s],", eptext);
	put(&t, "\"peers\":[");
	for (i = 0; i < r->n && !t.err; i++) {
		put(&t, "%s", i ? "," : "");
		put_report_peer(&t, &r->peers[i]);
	}
	put(&t, "]}");
	err = t.err;
	if (err == -E2BIG)
		unsent(rc, "POST /v1/reports", err, "body over AGENT_REPORT_BODY_MAX");
	if (!err)
		err = call(rc, "POST", "/v1/reports", t.p, true, AGENT_REQUEST_TIMEOUT,
			   AGENT_SMALL_BODY_MAX, NULL, NULL);
	free(t.p);
	return err;
}

int regclient_report_dup(const struct regclient_report *r, struct regclient_report **out)
{
	struct regclient_report *c;
	struct regclient_report_peer *peers;
	struct proto_endpoint *eps;
	size_t n_eps = r->has_endpoints ? r->n_eps : 0;

	if (r->n > AGENT_REPORT_PEERS_MAX || n_eps > AGENT_MAX_ENDPOINTS || (r->n && !r->peers) ||
	    (n_eps && !r->eps))
		return -EINVAL;
	c = malloc(sizeof(*c) + r->n * sizeof(*peers) + n_eps * sizeof(*eps));
	if (!c)
		return -ENOMEM;
	peers = (struct regclient_report_peer *)(c + 1);
	eps = (struct proto_endpoint *)(peers + r->n);
	if (r->n)
		memcpy(peers, r->peers, r->n * sizeof(*peers));
	if (n_eps)
		memcpy(eps, r->eps, n_eps * sizeof(*eps));
	*c = *r;
	c->peers = r->n ? peers : NULL;
	c->eps = n_eps ? eps : NULL;
	c->n_eps = n_eps;
	*out = c;
	return 0;
}

void regclient_report_free(struct regclient_report *r)
{
	free(r);
}
