/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Names, prefixes and endpoints as Scope's records carry them, with their
 * text forms. Pure: no sockets, no resolver (inet_pton/inet_ntop only).
 *
 * Network and peer names are [a-z0-9_-], starting with a letter or digit:
 * valid Linux interface names, safe in file names, logs and JSON, and never
 * mistaken for a command-line option.
 */
#ifndef PROTO_ADDR_H
#define PROTO_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/limits.h"

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128", "[...]:65535" + NUL */
#define PROTO_ADDR_STRLEN     46
#define PROTO_PREFIX_STRLEN   (PROTO_ADDR_STRLEN + 4)
#define PROTO_ENDPOINT_STRLEN (PROTO_ADDR_STRLEN + 8)

/* An IPv4 or IPv6 prefix with every host bit zero (so one value, one form). */
struct proto_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;	/* prefix length in bits */
	uint8_t addr[16];
};

/* A public IP:port. */
struct proto_endpoint {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port; /* host order, nonzero */
};

/* 1..PROTO_NET_NAME_MAX / 1..PROTO_PEER_NAME_MAX characters of [a-z0-9_-],
 * first one [a-z0-9]. n is the length (no NUL needed). */
bool proto_net_name_valid(const char *s, size_t n);
bool proto_peer_name_valid(const char *s, size_t n);

/* Address bytes of a family: 4, 16, or 0 for anything else. */
size_t proto_family_len(uint8_t family);

/* "10.1.0.0/16" or "fd00::/48"; host bits must be zero. 0 or -EINVAL. */
int proto_prefix_parse(const char *s, struct proto_prefix *out);
void proto_prefix_format(char out[PROTO_PREFIX_STRLEN], const struct proto_prefix *p);
/* 0 if the prefix is well formed (family, length, zero host bits), else -EINVAL. */
int proto_prefix_check(const struct proto_prefix *p);
/* true if addr (of p's family) lies inside p. */
bool proto_prefix_contains(const struct proto_prefix *p, const uint8_t *addr);

/* One address of the given family (4 or 6), e.g. "10.1.0.7", into out
 * (4 or 16 bytes). 0 or -EINVAL. */
int proto_addr_parse(const char *s, uint8_t family, uint8_t *out);
void proto_addr_format(char out[PROTO_ADDR_STRLEN], uint8_t family, const uint8_t *addr);

/* "203.0.113.1:51820" or "[2001:db8::1]:51820", port 1..65535. 0 or -EINVAL. */
int proto_endpoint_parse(const char *s, struct proto_endpoint *out);
void proto_endpoint_format(char out[PROTO_ENDPOINT_STRLEN], const struct proto_endpoint *e);

#endif
