// SPDX-License-Identifier: GPL-2.0-only
/*
 * libmicrohttpd glue (http.h).
 *
 * Each request gets a struct hreq from the URI log callback, which is the
 * only place libmicrohttpd shows the request target exactly as sent (the
 * access handler's url is unescaped and has lost its query), and that is
 * what a node signed. The access handler then runs a small state machine:
 * headers -> body (capped) -> handled, or -> waiting (suspended long poll)
 * -> resumed -> answered.
 *
 * Long polls: a waiting request sits in a list under wlock with its cursor
 * and deadline. reg's notifier resumes every waiter whose cursor is below
 * the new version; reg_http_tick resumes those past their deadline. A
 * request checks the version under wlock before it suspends, so an event
 * that lands between its first look and the suspension still wakes it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>

#include "common/parse.h"
#include "crypto/ct.h"
#include "registry/http.h"

enum hstate { H_NEW, H_BODY, H_WAITING, H_RESUMED };

struct hreq {
	struct hreq *prev, *next; /* waiter list, under wlock */
	struct MHD_Connection *conn;
	char *uri; /* as sent */
	enum hstate state;
	struct reg_buf body;
	size_t cap;	 /* body cap of the route */
	int too_large;	 /* body went past cap: discard, then 413 */
	size_t received; /* bytes seen, kept or not */
	uint64_t cursor; /* long poll */
	uint64_t deadline_ms;
	int timed_out;
	int waiting; /* in the list */
};

struct reg_http {
	struct MHD_Daemon *d;
	struct reg *reg;
	struct proto_prefix trusted[REG_TRUSTED_PROXIES_MAX];
	size_t ntrusted;
	uint16_t port;
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
	int verbose;
	char *tls_cert, *tls_key;

	pthread_mutex_t wlock;
	struct hreq waiters; /* list head */
	uint64_t nwaiting;
	int stopping;

	uint64_t connections; /* atomic */
	uint64_t too_large;   /* atomic */
};

__attribute__((format(printf, 2, 3))) static void hlog(struct reg_http *h, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!h->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	h->log(h->log_ctx, line);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- client address ---- */

/* A socket address as (family, 16 address bytes); v4-mapped v6 is v4. */
static int sa_addr(const struct sockaddr *sa, uint8_t *family, uint8_t addr[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(addr, 0, 16);
	if (sa->sa_family == AF_INET) {
		*family = 4;
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (memcmp(a, mapped, 12) == 0) { /* not secret */
			*family = 4;
			memcpy(addr, a + 12, 4);
		} else {
			*family = 6;
			memcpy(addr, a, 16);
		}
		return 0;
	}
	return -EINVAL;
}

static int is_trusted(uint8_t family, const uint8_t *addr, const struct proto_prefix *trusted,
		      size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (trusted[i].family == family && proto_prefix_contains(&trusted[i], addr))
			return 1;
	}
	return 0;
}

/* One X-Forwarded-For hop: an address with optional spaces around. */
static int xff_hop(const char *s, size_t n, uint8_t *family, uint8_t addr[16])
{
	char buf[PROTO_ADDR_STRLEN];

	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (proto_addr_parse(buf, 4, addr) == 0) {
		*family = 4;
		return 0;
	}
	if (proto_addr_parse(buf, 6, addr) == 0) {
		*family = 6;
		return 0;
	}
	return -EINVAL;
}

int reg_http_client_ip(const struct sockaddr *peer, const char *xff,
		       const struct proto_prefix *trusted, size_t ntrusted,
		       char out[PROTO_ADDR_STRLEN])
{
	uint8_t family, addr[16], hf, ha[16];
	const char *end;
	unsigned hops = 0;

	if (sa_addr(peer, &family, addr))
		return -EINVAL;
	/* walk right to left while the hop we stand on is a trusted proxy:
	 * the first untrusted address is the client */
	end = xff ? xff + strlen(xff) : NULL;
	while (end && is_trusted(family, addr, trusted, ntrusted) && hops++ < REG_XFF_HOPS_MAX) {
		const char *start = end;

		while (start > xff && start[-1] != ',')
			start--;
		if (xff_hop(start, (size_t)(end - start), &hf, ha))
			break; /* garbage: stop at the last address we could read */
		family = hf;
		memcpy(addr, ha, 16);
		if (start == xff)
			break;
		end = start - 1;
	}
	proto_addr_format(out, family, addr);
	return 0;
}

/* ---- responses ---- */

static void blob_free_cb(void *cls)
{
	reg_blob_put(cls);
}

static enum MHD_Result send_resp(struct reg_http *h, struct hreq *q, struct reg_response *resp)
{
	struct MHD_Response *mr;
	enum MHD_Result ret;
	struct reg_blob *bl = resp->body;

	if (!bl)
		return MHD_NO;
	mr = MHD_create_response_from_buffer_with_free_callback_cls(bl->len, bl->data, blob_free_cb,
								    bl);
	if (!mr) {
		reg_blob_put(bl);
		return MHD_NO;
	}
	resp->body = NULL; /* the response owns the reference now */
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	/* after an oversized body, do not wait for the next request on this
	 * connection: the client may still be sending */
	if (resp->status == 413)
		MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(q->conn, resp->status, mr);
	MHD_destroy_response(mr);
	if (h->verbose || resp->status >= 500)
		hlog(h, "subsys=http event=request uri=%.200s status=%u bytes=%zu", q->uri,
		     resp->status, bl->len);
	return ret;
}

static enum MHD_Result send_error(struct reg_http *h, struct hreq *q, unsigned status,
				  const char *code, const char *why)
{
	struct reg_response resp = { 0 };

	if (reg_error_response(&resp, status, code, why))
		return MHD_NO;
	return send_resp(h, q, &resp);
}

/* ---- long polls ---- */

static void waiter_add(struct reg_http *h, struct hreq *q)
{
	q->next = h->waiters.next;
	q->prev = &h->waiters;
	h->waiters.next->prev = q;
	h->waiters.next = q;
	q->waiting = 1;
	h->nwaiting++;
}

static void waiter_del(struct reg_http *h, struct hreq *q)
{
	if (!q->waiting)
		return;
	q->prev->next = q->next;
	q->next->prev = q->prev;
	q->prev = q->next = NULL;
	q->waiting = 0;
	h->nwaiting--;
}

static void waiter_resume(struct reg_http *h, struct hreq *q)
{
	waiter_del(h, q);
	q->state = H_RESUMED;
	MHD_resume_connection(q->conn);
}

static void http_notify(void *ctx, uint64_t version)
{
	struct reg_http *h = ctx;
	struct hreq *q, *next;

	pthread_mutex_lock(&h->wlock);
	for (q = h->waiters.next; q != &h->waiters; q = next) {
		next = q->next;
		if (q->cursor < version)
			waiter_resume(h, q);
	}
	pthread_mutex_unlock(&h->wlock);
}

/* Suspend q until an event after q->cursor or its deadline; or, if an event
 * already landed, answer now. */
static enum MHD_Result wait_or_answer(struct reg_http *h, struct hreq *q)
{
	struct reg_response resp;
	uint64_t version = 0, cursor = q->cursor;
	int err;

	pthread_mutex_lock(&h->wlock);
	err = reg_version(h->reg, &version);
	if (err == 0 && version <= cursor && !h->stopping) {
		q->state = H_WAITING;
		waiter_add(h, q);
		MHD_suspend_connection(q->conn);
		pthread_mutex_unlock(&h->wlock);
		return MHD_YES;
	}
	pthread_mutex_unlock(&h->wlock);
	err = reg_poll_answer(h->reg, cursor, 1, &resp);
	return err ? MHD_NO : send_resp(h, q, &resp);
}

static enum MHD_Result resumed(struct reg_http *h, struct hreq *q)
{
	struct reg_response resp;
	int final, err;

	pthread_mutex_lock(&h->wlock);
	final = q->timed_out || h->stopping;
	pthread_mutex_unlock(&h->wlock);
	err = reg_poll_answer(h->reg, q->cursor, final, &resp);
	if (err == -EAGAIN) /* woken by a version our cursor covers: wait on */
		return wait_or_answer(h, q);
	return err ? MHD_NO : send_resp(h, q, &resp);
}

int reg_http_tick(struct reg_http *h)
{
	struct reg_http_stats st;
	uint64_t now = mono_ms(), next = now + 1000;
	struct hreq *q, *nq;

	pthread_mutex_lock(&h->wlock);
	for (q = h->waiters.next; q != &h->waiters; q = nq) {
		nq = q->next;
		if (q->deadline_ms <= now) {
			q->timed_out = 1;
			waiter_resume(h, q);
		} else if (q->deadline_ms < next) {
			next = q->deadline_ms;
		}
	}
	st.waiting = h->nwaiting;
	pthread_mutex_unlock(&h->wlock);
	st.connections = __atomic_load_n(&h->connections, __ATOMIC_RELAXED);
	st.too_large = __atomic_load_n(&h->too_large, __ATOMIC_RELAXED);
	reg_set_http_stats(h->reg, &st);
	return (int)(next - now);
}

/* ---- request handling ---- */

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static enum MHD_Result handle(struct reg_http *h, struct hreq *q, const char *method)
{
	const union MHD_ConnectionInfo *ci;
	char ip[PROTO_ADDR_STRLEN] = "";
	struct reg_request req = {
		.method = method,
		.uri = q->uri,
		.body = (const uint8_t *)(q->body.p ? q->body.p : ""),
		.body_len = q->body.len,
		.sig = {
			.key = header(q->conn, PROTO_SIGREQ_HDR_KEY),
			.timestamp = header(q->conn, PROTO_SIGREQ_HDR_TIMESTAMP),
			.nonce = header(q->conn, PROTO_SIGREQ_HDR_NONCE),
			.signature = header(q->conn, PROTO_SIGREQ_HDR_SIGNATURE),
		},
	};
	struct reg_response resp;

	ci = MHD_get_connection_info(q->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr &&
	    reg_http_client_ip(ci->client_addr, header(q->conn, "X-Forwarded-For"), h->trusted,
			       h->ntrusted, ip) == 0)
		req.client_ip = ip;
	if (reg_handle(h->reg, &req, &resp))
		return MHD_NO;
	if (resp.wait) {
		q->cursor = resp.cursor;
		q->deadline_ms = mono_ms() + (uint64_t)resp.timeout_s * 1000;
		return wait_or_answer(h, q);
	}
	return send_resp(h, q, &resp);
}

/* First call: headers are in. Refuse a declared oversized body now, before
 * the client sends it (and before "100 Continue"). */
static enum MHD_Result on_headers(struct reg_http *h, struct hreq *q, const char *method)
{
	const char *cl = header(q->conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t len = 0;

	q->cap = reg_body_max(method, q->uri);
	q->state = H_BODY;
	/* a body for a resource that does not exist: 404/405 rather than 413 */
	if (cl && sc_parse_u64(cl, 0, UINT64_MAX, &len) == 0 && len > 0 &&
	    !reg_route_exists(method, q->uri))
		return handle(h, q, method);
	if (cl && (sc_parse_u64(cl, 0, UINT64_MAX, &len) || len > q->cap)) {
		__atomic_add_fetch(&h->too_large, 1, __ATOMIC_RELAXED);
		return send_error(h, q, 413, "body_too_large", "request body too large");
	}
	return MHD_YES;
}

static enum MHD_Result on_data(struct reg_http *h, struct hreq *q, const char *data, size_t *size)
{
	q->received += *size;
	if (!q->too_large && q->body.len + *size > q->cap) {
		q->too_large = 1;
		__atomic_add_fetch(&h->too_large, 1, __ATOMIC_RELAXED);
		reg_buf_free(&q->body);
	}
	/* a chunked body far past its cap is not worth reading to the end */
	if (q->too_large && q->received > 2 * q->cap + 65536)
		return MHD_NO;
	if (!q->too_large && reg_buf_put(&q->body, data, *size))
		return MHD_NO;
	*size = 0;
	return MHD_YES;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
				 const char *method, const char *version, const char *upload_data,
				 size_t *upload_data_size, void **req_cls)
{
	struct reg_http *h = cls;
	struct hreq *q = *req_cls;

	if (!q || !q->uri)
		return MHD_NO;
	q->conn = conn;
	switch (q->state) {
	case H_NEW:
		return on_headers(h, q, method);
	case H_BODY:
		if (*upload_data_size)
			return on_data(h, q, upload_data, upload_data_size);
		if (q->too_large)
			return send_error(h, q, 413, "body_too_large", "request body too large");
		return handle(h, q, method);
	case H_RESUMED:
		return resumed(h, q);
	case H_WAITING:
		break;
	}
	return MHD_YES;
}

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct hreq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->uri = strdup(uri);
	q->conn = conn;
	return q;
}

static void completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct reg_http *h = cls;
	struct hreq *q = *req_cls;

	if (!q)
		return;
	pthread_mutex_lock(&h->wlock);
	waiter_del(h, q);
	pthread_mutex_unlock(&h->wlock);
	reg_buf_free(&q->body);
	free(q->uri);
	free(q);
	*req_cls = NULL;
}

static void conn_cb(void *cls, struct MHD_Connection *conn, void **socket_context,
		    enum MHD_ConnectionNotificationCode toe)
{
	struct reg_http *h = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		__atomic_add_fetch(&h->connections, 1, __ATOMIC_RELAXED);
	else
		__atomic_sub_fetch(&h->connections, 1, __ATOMIC_RELAXED);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct reg_http *h = cls;
	char msg[400];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	hlog(h, "subsys=http event=mhd msg=\"%s\"", msg);
}

static unsigned thread_count(unsigned want)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (want)
		return want;
	return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

static int start_daemon(struct reg_http *h, const struct reg_http_config *cfg, char *errbuf,
			size_t errlen)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *di;
	struct MHD_OptionItem tls[3] = { { MHD_OPTION_END, 0, NULL } };

	if (cfg->addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (h->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(errbuf, errlen, "libmicrohttpd was built without TLS");
			return -ENOTSUP;
		}
		flags |= MHD_USE_TLS;
		tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert };
		tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key };
	}
	/* the logger first, so no option is reported through MHD's own */
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, h, MHD_OPTION_EXTERNAL_LOGGER,
				mhd_log, h, MHD_OPTION_SOCK_ADDR, cfg->addr,
				MHD_OPTION_THREAD_POOL_SIZE, thread_count(cfg->threads),
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)REG_HTTP_CONN_MAX,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)REG_HTTP_CONN_MEM,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)REG_HTTP_IDLE_TIMEOUT,
				MHD_OPTION_URI_LOG_CALLBACK, uri_cb, h, MHD_OPTION_NOTIFY_COMPLETED,
				completed_cb, h, MHD_OPTION_NOTIFY_CONNECTION, conn_cb, h,
				MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	if (!h->d) {
		snprintf(errbuf, errlen, "cannot start the HTTP server (address in use?)");
		return -EADDRINUSE;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	return 0;
}

int reg_http_start(const struct reg_http_config *cfg, struct reg_http **out, char *errbuf,
		   size_t errlen)
{
	struct reg_http *h;
	int err;

	if (cfg->ntrusted > REG_TRUSTED_PROXIES_MAX || !cfg->tls_cert != !cfg->tls_key) {
		snprintf(errbuf, errlen, "bad HTTP configuration");
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h || pthread_mutex_init(&h->wlock, NULL) != 0) {
		free(h);
		return -ENOMEM;
	}
	h->reg = cfg->reg;
	memcpy(h->trusted, cfg->trusted, cfg->ntrusted * sizeof(*cfg->trusted));
	h->ntrusted = cfg->ntrusted;
	h->log = cfg->log;
	h->log_ctx = cfg->log_ctx;
	h->verbose = cfg->verbose;
	h->waiters.next = h->waiters.prev = &h->waiters;
	h->tls_cert = cfg->tls_cert ? strdup(cfg->tls_cert) : NULL;
	h->tls_key = cfg->tls_key ? strdup(cfg->tls_key) : NULL;
	err = (cfg->tls_cert && (!h->tls_cert || !h->tls_key)) ? -ENOMEM : 0;
	reg_set_notify(h->reg, http_notify, h);
	if (!err)
		err = start_daemon(h, cfg, errbuf, errlen);
	if (err) {
		reg_set_notify(h->reg, NULL, NULL);
		reg_http_stop(h);
		return err;
	}
	*out = h;
	return 0;
}

uint16_t reg_http_port(const struct reg_http *h)
{
	return h->port;
}

void reg_http_stop(struct reg_http *h)
{
	int i;

	if (!h)
		return;
	reg_set_notify(h->reg, NULL, NULL);
	pthread_mutex_lock(&h->wlock);
	h->stopping = 1;
	while (h->waiters.next != &h->waiters)
		waiter_resume(h, h->waiters.next);
	pthread_mutex_unlock(&h->wlock);
	/* let resumed long polls get their (empty) answers out before the
	 * sockets close; at most half a second */
	for (i = 0; h->d && i < 50; i++) {
		const union MHD_DaemonInfo *di =
			MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

		if (!di || di->num_connections == 0)
			break;
		usleep(10000);
	}
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->tls_key)
		cry_wipe(h->tls_key, strlen(h->tls_key));
	free(h->tls_cert);
	free(h->tls_key);
	pthread_mutex_destroy(&h->wlock);
	free(h);
}
