/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The little the core reads of inner IP packets: version, addresses and
 * length, as the Linux driver checks them before the allowed-IPs source
 * filter (receive.c) and destination lookup (device.c). All-or-nothing.
 */
#ifndef WG_IP_H
#define WG_IP_H

#include <stddef.h>
#include <stdint.h>

struct wg_ip_info {
	int family;	    /* AF_INET or AF_INET6 */
	const uint8_t *src; /* into the packet; 4 or 16 bytes */
	const uint8_t *dst;
	size_t len; /* length the header claims, <= the buffer's */
};

/* Parse the IPv4 or IPv6 header at pkt. -EINVAL for another version, a
 * short header, or a claimed length below the header or past len (the
 * "dishonest packet size" of Linux). IPv6 jumbograms are not supported. */
int wg_ip_parse(const uint8_t *pkt, size_t len, struct wg_ip_info *out);

/* Decrement the TTL/hop limit of a parsed packet before forwarding it
 * (fixing the IPv4 checksum incrementally, RFC 1624). -ETIMEDOUT, packet
 * untouched, if it would reach zero: the caller hands it to the host
 * instead, which answers with ICMP time exceeded. */
int wg_ip_dec_ttl(uint8_t *pkt, const struct wg_ip_info *info);

#endif
