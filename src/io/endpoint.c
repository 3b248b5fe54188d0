// SPDX-License-Identifier: GPL-2.0-only
#include "io/endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/parse.h"

static size_t addr_len(sa_family_t family)
{
	return family == AF_INET ? sizeof(struct in_addr) : sizeof(struct in6_addr);
}

bool io_endpoint_equal(const struct io_endpoint *a, const struct io_endpoint *b)
{
	if (a->family != b->family || a->port != b->port || a->scope_id != b->scope_id)
		return false;
	if (a->family != AF_INET && a->family != AF_INET6)
		return true;
	return memcmp(&a->addr, &b->addr, addr_len(a->family)) == 0; /* not secret */
}

bool io_endpoint_equal_src(const struct io_endpoint *a, const struct io_endpoint *b)
{
	if (!io_endpoint_equal(a, b) || a->src_ifindex != b->src_ifindex)
		return false;
	if (a->family != AF_INET && a->family != AF_INET6)
		return true;
	return memcmp(&a->src, &b->src, addr_len(a->family)) == 0; /* not secret */
}

bool io_endpoint_has_src(const struct io_endpoint *ep)
{
	static const union io_addr zero;

	if (ep->family != AF_INET && ep->family != AF_INET6)
		return false;
	return memcmp(&ep->src, &zero, addr_len(ep->family)) != 0; /* not secret */
}

void io_endpoint_clear_src(struct io_endpoint *ep)
{
	memset(&ep->src, 0, sizeof(ep->src));
	ep->src_ifindex = 0;
}

int io_endpoint_format(const struct io_endpoint *ep, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN], zone[12] = "";
	int n;

	if (ep->family != AF_INET && ep->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!inet_ntop(ep->family, &ep->addr, host, sizeof(host)))
		return -EAFNOSUPPORT;
	if (ep->family == AF_INET) {
		n = snprintf(buf, len, "%s:%u", host, ep->port);
	} else {
		if (ep->scope_id)
			snprintf(zone, sizeof(zone), "%%%u", ep->scope_id);
		n = snprintf(buf, len, "[%s%s]:%u", host, zone, ep->port);
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	/* Port 0 is "any" for bind, never a destination. */
	if (sc_parse_u64(s, 1, UINT16_MAX, &v))
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int parse_v4(const char *s, size_t n, struct io_endpoint *ep)
{
	char host[INET_ADDRSTRLEN];

	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	/* glibc's inet_pton takes dotted quads only: no "1.2.3", no octal, no hex. */
	if (inet_pton(AF_INET, host, &ep->addr.v4) != 1)
		return -EINVAL;
	ep->family = AF_INET;
	return 0;
}

static int parse_zone(const char *s, uint32_t *zone)
{
	uint64_t v;

	/* Numeric only: resolving an interface name is I/O, not parsing. */
	if (sc_parse_u64(s, 1, UINT32_MAX, &v))
		return -EINVAL;
	*zone = (uint32_t)v;
	return 0;
}

static int parse_v6(const char *s, size_t n, struct io_endpoint *ep)
{
	char host[INET6_ADDRSTRLEN + 1 + 10 + 1], *pct;
	struct in6_addr a;
	uint32_t zone = 0;

	if (n >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	pct = strchr(host, '%');
	if (pct) {
		*pct = '\0';
		if (parse_zone(pct + 1, &zone))
			return -EINVAL;
	}
	if (inet_pton(AF_INET6, host, &a) != 1)
		return -EINVAL;
	/* A zone means something only on a link-scoped address. */
	if (zone && !IN6_IS_ADDR_LINKLOCAL(&a) && !IN6_IS_ADDR_MC_LINKLOCAL(&a))
		return -EINVAL;
	if (IN6_IS_ADDR_V4MAPPED(&a)) {
		ep->family = AF_INET;
		memcpy(&ep->addr.v4, &a.s6_addr[12], 4);
		return 0;
	}
	ep->family = AF_INET6;
	ep->addr.v6 = a;
	ep->scope_id = zone;
	return 0;
}

int io_endpoint_parse(const char *s, struct io_endpoint *out)
{
	struct io_endpoint ep = { 0 };
	const char *end, *port;
	int ret;

	if (!s || strnlen(s, IO_ENDPOINT_STRLEN) >= IO_ENDPOINT_STRLEN)
		return -EINVAL;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		ret = parse_v6(s + 1, (size_t)(end - s - 1), &ep);
		port = end + 2;
	} else {
		end = strchr(s, ':');
		/* A second colon is an unbracketed IPv6 address: ambiguous, refused. */
		if (!end || strchr(end + 1, ':'))
			return -EINVAL;
		ret = parse_v4(s, (size_t)(end - s), &ep);
		port = end + 1;
	}
	if (ret || parse_port(port, &ep.port))
		return -EINVAL;
	*out = ep;
	return 0;
}

int io_endpoint_from_sockaddr(const struct sockaddr *sa, socklen_t salen, struct io_endpoint *out)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	struct io_endpoint ep = { 0 };

	if (salen < sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		if (salen < sizeof(*in))
			return -EINVAL;
		ep.family = AF_INET;
		ep.addr.v4 = in->sin_addr;
		ep.port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		if (salen < sizeof(*in6))
			return -EINVAL;
		ep.port = ntohs(in6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			ep.family = AF_INET;
			memcpy(&ep.addr.v4, &in6->sin6_addr.s6_addr[12], 4);
		} else {
			ep.family = AF_INET6;
			ep.addr.v6 = in6->sin6_addr;
			ep.scope_id = in6->sin6_scope_id;
		}
	} else {
		return -EAFNOSUPPORT;
	}
	*out = ep;
	return 0;
}

static void mapped_v6(struct in6_addr *dst, struct in_addr v4)
{
	memset(dst, 0, sizeof(*dst));
	dst->s6_addr[10] = 0xff;
	dst->s6_addr[11] = 0xff;
	memcpy(&dst->s6_addr[12], &v4, 4);
}

int io_endpoint_to_sockaddr(const struct io_endpoint *ep, int sock_family, union io_sockaddr *sa,
			    socklen_t *len)
{
	if (sock_family == AF_INET && ep->family == AF_INET) {
		memset(sa, 0, sizeof(*sa));
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(ep->port);
		sa->in.sin_addr = ep->addr.v4;
		*len = sizeof(sa->in);
		return 0;
	}
	if (sock_family != AF_INET6 || (ep->family != AF_INET && ep->family != AF_INET6))
		return -EAFNOSUPPORT;
	memset(sa, 0, sizeof(*sa));
	sa->in6.sin6_family = AF_INET6;
	sa->in6.sin6_port = htons(ep->port);
	if (ep->family == AF_INET) {
		mapped_v6(&sa->in6.sin6_addr, ep->addr.v4);
	} else {
		sa->in6.sin6_addr = ep->addr.v6;
		sa->in6.sin6_scope_id = ep->scope_id;
	}
	*len = sizeof(sa->in6);
	return 0;
}

int io_endpoint_to_wg(const struct io_endpoint *ep, struct wg_endpoint *out)
{
	struct wg_endpoint w = { 0 };

	w.addr.sa.sa_family = AF_UNSPEC;
	if (ep->family == AF_INET) {
		w.addr.in4.sin_family = AF_INET;
		w.addr.in4.sin_port = htons(ep->port);
		w.addr.in4.sin_addr = ep->addr.v4;
		w.src.v4 = ep->src.v4;
	} else if (ep->family == AF_INET6) {
		w.addr.in6.sin6_family = AF_INET6;
		w.addr.in6.sin6_port = htons(ep->port);
		w.addr.in6.sin6_addr = ep->addr.v6;
		w.addr.in6.sin6_scope_id = ep->scope_id;
		w.src.v6 = ep->src.v6;
	} else if (ep->family != AF_UNSPEC) {
		return -EAFNOSUPPORT;
	}
	w.src_ifindex = (int)ep->src_ifindex;
	*out = w;
	return 0;
}

int io_endpoint_from_wg(const struct wg_endpoint *ep, struct io_endpoint *out)
{
	struct io_endpoint e = { 0 };
	int r = 0;

	e.family = AF_UNSPEC;
	if (ep->addr.sa.sa_family == AF_INET)
		r = io_endpoint_from_sockaddr(&ep->addr.sa, sizeof(ep->addr.in4), &e);
	else if (ep->addr.sa.sa_family == AF_INET6)
		r = io_endpoint_from_sockaddr(&ep->addr.sa, sizeof(ep->addr.in6), &e);
	else if (ep->addr.sa.sa_family != AF_UNSPEC)
		r = -EAFNOSUPPORT;
	if (r)
		return r;
	/* A v4-mapped wg endpoint came back as AF_INET: its source, if any,
	 * was stored as IPv6 and is dropped rather than misread. */
	if (e.family == AF_INET && ep->addr.sa.sa_family == AF_INET)
		e.src.v4 = ep->src.v4;
	else if (e.family == AF_INET6)
		e.src.v6 = ep->src.v6;
	if (e.family != AF_UNSPEC)
		e.src_ifindex = ep->src_ifindex > 0 ? (uint32_t)ep->src_ifindex : 0;
	*out = e;
	return 0;
}
