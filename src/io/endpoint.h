/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A UDP endpoint: the peer's address and port, plus the local address the
 * peer's last packet arrived on (source stickiness).
 *
 * WireGuard replies from the address a peer wrote to: on a multihomed host
 * the kernel's route lookup might otherwise pick another source, which a NAT
 * or the peer's firewall drops. udp_recv() records the local address in
 * src/src_ifindex; udp_send() sends from src when it is set.
 *
 * The textual forms are UAPI's `endpoint=`: "192.0.2.1:51820" and
 * "[2001:db8::1]:51820", a numeric zone for IPv6 link-local addresses
 * ("[fe80::1%2]:51820"). Nothing else: no host names, no unbracketed IPv6,
 * no port 0. IPv4-mapped IPv6 addresses ("[::ffff:192.0.2.1]:51820") are
 * accepted and stored as plain AF_INET, the form a dual-stack socket's
 * packets are normalised to, so one peer has one endpoint however written.
 *
 * Plain struct, copied by value; no resources.
 */
#ifndef IO_ENDPOINT_H
#define IO_ENDPOINT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "io/limits.h"
#include "wg/wg.h"

union io_addr {
	struct in_addr v4;
	struct in6_addr v6;
};

/* Room for any socket address this layer hands to or takes from the kernel. */
union io_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct io_endpoint {
	sa_family_t family; /* AF_INET, AF_INET6, or AF_UNSPEC when unset */
	uint16_t port;	    /* host byte order, 1..65535 */
	uint32_t scope_id;  /* AF_INET6 link-local zone (ifindex), else 0 */
	union io_addr addr; /* the peer */
	/* Local side, same family as addr. All-zero src means "let the kernel
	 * choose"; src_ifindex is the interface it arrived on (informative:
	 * sending pins the address only, so a route change cannot strand it). */
	union io_addr src;
	uint32_t src_ifindex;
};

/* True if a and b name the same peer address, port and zone (local side ignored). */
bool io_endpoint_equal(const struct io_endpoint *a, const struct io_endpoint *b);
/* True if a and b are equal including the local source address. */
bool io_endpoint_equal_src(const struct io_endpoint *a, const struct io_endpoint *b);
/* True if the local source address is set. */
bool io_endpoint_has_src(const struct io_endpoint *ep);
/* Forget the local source address (the kernel picks one again). */
void io_endpoint_clear_src(struct io_endpoint *ep);

/* Write the UAPI text form into buf (IO_ENDPOINT_STRLEN is always enough).
 * 0, -EAFNOSUPPORT for an unset endpoint, -ENOSPC if len is too small. */
int io_endpoint_format(const struct io_endpoint *ep, char *buf, size_t len);
/* Parse the whole string s (forms above). 0 or -EINVAL; *out untouched on error. */
int io_endpoint_parse(const char *s, struct io_endpoint *out);

/* From a received sockaddr (AF_INET or AF_INET6, v4-mapped normalised to
 * AF_INET); the local side is cleared. 0 or -EAFNOSUPPORT / -EINVAL. */
int io_endpoint_from_sockaddr(const struct sockaddr *sa, socklen_t salen, struct io_endpoint *out);
/* To a sockaddr for a socket of family sock_family: an AF_INET endpoint on
 * an AF_INET6 socket becomes v4-mapped. 0 or -EAFNOSUPPORT (unset endpoint,
 * or an IPv6 endpoint on an IPv4-only socket). */
int io_endpoint_to_sockaddr(const struct io_endpoint *ep, int sock_family, union io_sockaddr *sa,
			    socklen_t *len);

/* The protocol core keeps endpoints as a struct wg_endpoint (sockaddr plus
 * local source); these convert both ways, keeping the local side. An unset
 * endpoint converts to an unset one (AF_UNSPEC); other families are
 * -EAFNOSUPPORT. *out only on success. */
int io_endpoint_to_wg(const struct io_endpoint *ep, struct wg_endpoint *out);
int io_endpoint_from_wg(const struct wg_endpoint *ep, struct io_endpoint *out);

#endif
