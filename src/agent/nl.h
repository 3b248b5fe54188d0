/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rtnetlink for the node daemon: interface addresses, routes and link state
 * of the overlay interface, what wg-quick does with ip(8).
 *
 * Each call sends one request and waits for the kernel's acknowledgement,
 * so an error comes back from the call that caused it (-EEXIST, -ENODEV,
 * -EPERM...). Adding is idempotent where that is what a daemon re-applying
 * its state wants: nl_addr_add() and nl_route_add() replace an existing
 * entry instead of failing. Deleting a missing entry is -EADDRNOTAVAIL
 * (address) or -ESRCH (route), which callers that only want it gone ignore.
 *
 * Works in the network namespace the socket was opened in. Blocking, for
 * the control path only; not thread-safe (one socket, one sequence).
 */
#ifndef AGENT_NL_H
#define AGENT_NL_H

#include <stdbool.h>
#include <stdint.h>

struct nl;

/* An IPv4 or IPv6 prefix; addr is in network order, 4 or 16 bytes used. */
struct nl_prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t len; /* prefix length */
};

/* Open a NETLINK_ROUTE socket. 0 or -errno; *out only on success. */
int nl_open(struct nl **out);
void nl_close(struct nl *nl);

/* Address p (with its prefix length, like `ip addr add 10.0.0.1/24`). */
int nl_addr_add(struct nl *nl, int ifindex, const struct nl_prefix *p);
int nl_addr_del(struct nl *nl, int ifindex, const struct nl_prefix *p);
/* Route to p through the interface (scope link), in the main table. */
int nl_route_add(struct nl *nl, int ifindex, const struct nl_prefix *p);
int nl_route_del(struct nl *nl, int ifindex, const struct nl_prefix *p);
/* Link up or down; mtu 0 leaves the MTU alone. */
int nl_link_set(struct nl *nl, int ifindex, bool up, unsigned int mtu);

#endif
