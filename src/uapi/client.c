// SPDX-License-Identifier: GPL-2.0-only
/* The UAPI client (client.h): connect, one request, one reply; `get` parsing. */
#include "uapi/client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "crypto/ct.h"
#include "uapi/limits.h"
#include "uapi/text.h"

/* ---- the socket -------------------------------------------------------- */

int uapi_client_connect(const char *path, int timeout_ms, int *fdp, struct io_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fd, ret;

	if (strlen(path) >= sizeof(sun.sun_path))
		return io_errf(err, -ENAMETOOLONG, "UAPI socket path %s is too long", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return io_errf(err, -errno, "socket");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		ret = io_errf(err, -errno, "cannot connect to the UAPI socket %s", path);
		close(fd);
		return ret;
	}
	*fdp = fd;
	return 0;
}

/* Where the reply that starts at buf ends: just past "errno=N\n\n" at the
 * start of a line, or 0. *status gets N. The scan resumes at from. */
static size_t reply_end(const char *buf, size_t len, size_t *from, int *status)
{
	size_t i = *from, j;
	uint64_t v;
	bool neg;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);

		if (!nl)
			break;
		j = (size_t)(nl - buf);
		if (j - i > 6 && memcmp(buf + i, "errno=", 6) == 0) { /* not secret */
			if (j + 1 >= len)
				break; /* the empty line may follow */
			neg = buf[i + 6] == '-';
			if (buf[j + 1] != '\n' ||
			    uapi_text_uint(buf + i + 6 + neg, j - i - 6 - neg, 4095, &v) ||
			    (!neg && v))
				return (size_t)-1;
			*status = neg ? -(int)v : 0;
			return j + 2;
		}
		i = j + 1;
	}
	*from = i;
	return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int uapi_client_request(int fd, const char *req, size_t len, struct uapi_reply *out, int *status)
{
	size_t start = out->len, scanned = 0, end;
	char chunk[4096];
	ssize_t n;
	int ret, st = 0;

	ret = send_all(fd, req, len);
	while (!ret) {
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			break;
		}
		if (n == 0) {
			ret = -EPROTO;
			break;
		}
		ret = uapi_reply_append(out, chunk, (size_t)n);
		if (ret) {
			ret = ret == -ENOMEM && out->len + (size_t)n > UAPI_MAX_REPLY ? -E2BIG
										      : ret;
			break;
		}
		end = reply_end(out->buf + start, out->len - start, &scanned, &st);
		if (end == (size_t)-1)
			ret = -EPROTO;
		else if (end && start + end != out->len)
			ret = -EPROTO; /* bytes past the reply: not a UAPI server */
		else if (end)
			break;
	}
	cry_wipe(chunk, sizeof(chunk));
	if (ret) {
		if (out->len > start)
			cry_wipe(out->buf + start, out->len - start);
		out->len = start;
		return ret;
	}
	*status = st;
	return 0;
}

/* ---- get replies ------------------------------------------------------- */

struct parse {
	struct uapi_dev_state *s;
	size_t cap_peers, cap_aips;
	size_t *aip_first; /* per peer: its first entry in s->aips */
	size_t cap_first;
};

static bool key_is(const char *k, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(k, lit, n) == 0; /* not secret */
}

static bool is_peer_key(const char *k, size_t n)
{
	static const char *const keys[] = { "preshared_key",
					    "endpoint",
					    "last_handshake_time_sec",
					    "last_handshake_time_nsec",
					    "tx_bytes",
					    "rx_bytes",
					    "persistent_keepalive_interval",
					    "allowed_ip",
					    "protocol_version" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (key_is(k, n, keys[i]))
			return true;
	return false;
}

static int parse_device(struct uapi_dev_state *s, const char *k, size_t kn, const char *v,
			size_t vn)
{
	uint64_t x;

	if (is_peer_key(k, kn))
		return -EBADMSG; /* before any public_key */

	if (key_is(k, kn, "private_key")) {
		if (uapi_text_key(v, vn, s->private_key))
			return -EBADMSG;
		s->has_private_key = !cry_is_zero(s->private_key, WG_KEY_LEN);
	} else if (key_is(k, kn, "listen_port")) {
		if (uapi_text_uint(v, vn, UINT16_MAX, &x))
			return -EBADMSG;
		s->listen_port = (uint16_t)x;
	} else if (key_is(k, kn, "fwmark")) {
		if (uapi_text_uint(v, vn, UINT32_MAX, &x))
			return -EBADMSG;
		s->fwmark = (uint32_t)x;
	}
	return 0; /* other keys (amneziawg's jc=, ...) are not ours */
}

static int parse_peer(struct parse *ps, const char *k, size_t kn, const char *v, size_t vn)
{
	struct uapi_dev_state *s = ps->s;
	struct uapi_peer_state *p = &s->peers[s->n_peers - 1];
	uint64_t x;
	int ret;

	if (key_is(k, kn, "preshared_key")) {
		if (uapi_text_key(v, vn, p->preshared_key))
			return -EBADMSG;
	} else if (key_is(k, kn, "endpoint")) {
		if (vn >= sizeof(p->endpoint_text))
			return -EBADMSG;
		memcpy(p->endpoint_text, v, vn);
		p->endpoint_text[vn] = '\0';
		/* A form Scope does not take (port 0, a named zone) stays text. */
		if (uapi_text_endpoint(v, vn, &p->endpoint))
			p->endpoint.family = AF_UNSPEC;
	} else if (key_is(k, kn, "last_handshake_time_sec")) {
		if (uapi_text_uint(v, vn, UINT64_MAX / 1000000000u - 1, &x))
			return -EBADMSG;
		p->last_handshake_ns = x * 1000000000u + p->last_handshake_ns % 1000000000u;
	} else if (key_is(k, kn, "last_handshake_time_nsec")) {
		if (uapi_text_uint(v, vn, 999999999u, &x))
			return -EBADMSG;
		p->last_handshake_ns = p->last_handshake_ns / 1000000000u * 1000000000u + x;
	} else if (key_is(k, kn, "tx_bytes")) {
		if (uapi_text_uint(v, vn, UINT64_MAX, &p->tx_bytes))
			return -EBADMSG;
	} else if (key_is(k, kn, "rx_bytes")) {
		if (uapi_text_uint(v, vn, UINT64_MAX, &p->rx_bytes))
			return -EBADMSG;
	} else if (key_is(k, kn, "persistent_keepalive_interval")) {
		if (uapi_text_uint(v, vn, UINT16_MAX, &x))
			return -EBADMSG;
		p->persistent_keepalive = (uint16_t)x;
	} else if (key_is(k, kn, "allowed_ip")) {
		ret = uapi_text_grow((void **)&s->aips, &ps->cap_aips, s->n_aips, sizeof(*s->aips),
				     UAPI_MAX_ALLOWEDIPS);
		if (ret)
			return ret == -E2BIG ? -EBADMSG : ret;
		if (uapi_text_allowedip(v, vn, &s->aips[s->n_aips]) || s->aips[s->n_aips].remove)
			return -EBADMSG;
		s->n_aips++;
		p->n_allowedips++;
	} else if (key_is(k, kn, "protocol_version")) {
		if (!key_is(v, vn, "1"))
			return -EBADMSG;
	}
	return 0;
}

static int parse_public_key(struct parse *ps, const char *v, size_t vn)
{
	struct uapi_dev_state *s = ps->s;
	int ret;

	ret = uapi_text_grow((void **)&s->peers, &ps->cap_peers, s->n_peers, sizeof(*s->peers),
			     UAPI_MAX_PEERS);
	if (!ret)
		ret = uapi_text_grow((void **)&ps->aip_first, &ps->cap_first, s->n_peers,
				     sizeof(*ps->aip_first), UAPI_MAX_PEERS);
	if (ret)
		return ret == -E2BIG ? -EBADMSG : ret;
	memset(&s->peers[s->n_peers], 0, sizeof(s->peers[0]));
	if (uapi_text_key(v, vn, s->peers[s->n_peers].public_key))
		return -EBADMSG;
	ps->aip_first[s->n_peers] = s->n_aips;
	s->n_peers++;
	return 0;
}

static int parse_lines(struct parse *ps, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *nl, *eq;
	size_t n;
	int ret;

	for (;;) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl || nl == p)
			return -EBADMSG; /* the reply ends with errno=, not here */
		n = (size_t)(nl - p);
		eq = memchr(p, '=', n);
		if (!eq || n > UAPI_MAX_LINE || memchr(p, '\0', n))
			return -EBADMSG;
		if (key_is(p, (size_t)(eq - p), "errno")) {
			uint64_t v;
			bool neg = eq[1] == '-';

			if (nl + 2 != end || nl[1] != '\n' ||
			    uapi_text_uint(eq + 1 + neg, (size_t)(nl - eq - 1 - neg), 4095, &v) ||
			    (!neg && v))
				return -EBADMSG;
			return neg ? -(int)v : 0;
		}
		if (key_is(p, (size_t)(eq - p), "public_key"))
			ret = parse_public_key(ps, eq + 1, (size_t)(nl - eq - 1));
		else if (ps->s->n_peers)
			ret = parse_peer(ps, p, (size_t)(eq - p), eq + 1, (size_t)(nl - eq - 1));
		else
			ret = parse_device(ps->s, p, (size_t)(eq - p), eq + 1,
					   (size_t)(nl - eq - 1));
		if (ret)
			return ret;
		p = nl + 1;
	}
}

void uapi_dev_state_free(struct uapi_dev_state *s)
{
	if (!s)
		return;
	if (s->peers) {
		cry_wipe(s->peers, s->n_peers * sizeof(*s->peers));
		free(s->peers);
	}
	free(s->aips);
	cry_wipe(s, sizeof(*s));
	free(s);
}

int uapi_get_parse(const char *reply, size_t len, struct uapi_dev_state **out)
{
	struct parse ps = { 0 };
	size_t i;
	int ret;

	if (!len)
		return -EBADMSG;
	ps.s = calloc(1, sizeof(*ps.s));
	if (!ps.s)
		return -ENOMEM;
	ret = parse_lines(&ps, reply, len);
	if (!ret) {
		/* The array no longer moves: point each peer at its entries. */
		for (i = 0; i < ps.s->n_peers; i++)
			ps.s->peers[i].allowedips =
				ps.s->n_aips ? ps.s->aips + ps.aip_first[i] : NULL;
		*out = ps.s;
	} else {
		/* Wipe the peers the grown array held (cap, not n, elements). */
		if (ps.s->peers)
			cry_wipe(ps.s->peers, ps.cap_peers * sizeof(*ps.s->peers));
		uapi_dev_state_free(ps.s);
	}
	free(ps.aip_first);
	return ret;
}
