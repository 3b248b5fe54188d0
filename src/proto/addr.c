// SPDX-License-Identifier: GPL-2.0-only
#include "proto/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/parse.h"

static bool name_valid(const char *s, size_t n, size_t max)
{
	size_t i;

	if (n < 1 || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '-')))
			return false;
	}
	return true;
}

bool proto_net_name_valid(const char *s, size_t n)
{
	return name_valid(s, n, PROTO_NET_NAME_MAX);
}

bool proto_peer_name_valid(const char *s, size_t n)
{
	return name_valid(s, n, PROTO_PEER_NAME_MAX);
}

size_t proto_family_len(uint8_t family)
{
	return family == 4 ? 4 : family == 6 ? 16 : 0;
}

int proto_addr_parse(const char *s, uint8_t family, uint8_t *out)
{
	uint8_t a[16] = { 0 };

	if (family != 4 && family != 6)
		return -EINVAL;
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, s, a) != 1)
		return -EINVAL;
	memcpy(out, a, proto_family_len(family));
	return 0;
}

void proto_addr_format(char out[PROTO_ADDR_STRLEN], uint8_t family, const uint8_t *addr)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out, PROTO_ADDR_STRLEN))
		snprintf(out, PROTO_ADDR_STRLEN, "?");
}

/* Mask of the bits of byte i that belong to the host part of a /len. */
static uint8_t host_mask(size_t i, unsigned int len)
{
	if (8 * i >= len)
		return 0xff;
	if (8 * (i + 1) <= len)
		return 0;
	return (uint8_t)(0xff >> (len - 8 * i));
}

int proto_prefix_check(const struct proto_prefix *p)
{
	size_t i, n = proto_family_len(p->family);

	if (!n || p->len > 8 * n)
		return -EINVAL;
	for (i = 0; i < 16; i++)
		if (i >= n ? p->addr[i] != 0 : (p->addr[i] & host_mask(i, p->len)) != 0)
			return -EINVAL;
	return 0;
}

bool proto_prefix_contains(const struct proto_prefix *p, const uint8_t *addr)
{
	size_t i, n = proto_family_len(p->family);

	for (i = 0; i < n; i++)
		if ((addr[i] & (uint8_t)~host_mask(i, p->len)) != p->addr[i])
			return false;
	return n != 0;
}

int proto_prefix_parse(const char *s, struct proto_prefix *out)
{
	struct proto_prefix p = { 0 };
	char a[PROTO_ADDR_STRLEN];
	const char *slash = strchr(s, '/');
	uint64_t len;
	size_t n;

	if (!slash || (size_t)(slash - s) >= sizeof(a))
		return -EINVAL;
	n = (size_t)(slash - s);
	memcpy(a, s, n);
	a[n] = '\0';
	p.family = memchr(a, ':', n) ? 6 : 4;
	if (proto_addr_parse(a, p.family, p.addr))
		return -EINVAL;
	if (sc_parse_u64(slash + 1, 0, 8 * proto_family_len(p.family), &len))
		return -EINVAL;
	p.len = (uint8_t)len;
	if (proto_prefix_check(&p))
		return -EINVAL;
	*out = p;
	return 0;
}

void proto_prefix_format(char out[PROTO_PREFIX_STRLEN], const struct proto_prefix *p)
{
	char a[PROTO_ADDR_STRLEN];

	proto_addr_format(a, p->family, p->addr);
	snprintf(out, PROTO_PREFIX_STRLEN, "%s/%u", a, p->len);
}

int proto_endpoint_parse(const char *s, struct proto_endpoint *out)
{
	struct proto_endpoint e = { 0 };
	char a[PROTO_ADDR_STRLEN];
	const char *colon, *start = s;
	uint64_t port;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		start = s + 1;
		colon = close + 1;
		n = (size_t)(close - start);
		e.family = 6;
	} else {
		colon = strchr(s, ':');
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
		n = (size_t)(colon - s);
		e.family = 4;
	}
	if (n >= sizeof(a))
		return -EINVAL;
	memcpy(a, start, n);
	a[n] = '\0';
	if (proto_addr_parse(a, e.family, e.addr) || sc_parse_u64(colon + 1, 1, 65535, &port))
		return -EINVAL;
	e.port = (uint16_t)port;
	*out = e;
	return 0;
}

void proto_endpoint_format(char out[PROTO_ENDPOINT_STRLEN], const struct proto_endpoint *e)
{
	char a[PROTO_ADDR_STRLEN];

	proto_addr_format(a, e->family, e->addr);
	snprintf(out, PROTO_ENDPOINT_STRLEN, e->family == 6 ? "[%s]:%u" : "%s:%u", a, e->port);
}
