/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The registry's built-in STUN responder (DESIGN.md section 6): one UDP
 * socket that answers Binding requests with the sender's reflexive address,
 * so a network needs no third-party STUN server. The message work is
 * proto/stun.h's stun_respond(); this module owns the socket.
 *
 * The socket is non-blocking; the registry's event loop watches
 * reg_stun_fd() for input and calls reg_stun_on_readable(), which handles
 * at most one batch (REG_STUN_BATCH datagrams) so a flood cannot starve the
 * HTTP side of the same loop. Replies leave from the address the request
 * arrived on (IP_PKTINFO/IPV6_PKTINFO), so a registry with several
 * addresses on a wildcard socket answers through the NAT mapping the client
 * actually made. Nothing is allocated per datagram.
 *
 * Threads: one thread drives the socket; reg_stun_get_stats() may be called
 * from any thread (the counters are atomic).
 */
#ifndef REG_STUN_SERVER_H
#define REG_STUN_SERVER_H

#include <stdint.h>

/* Datagrams per recvmmsg/sendmmsg. Each slot holds a request and a reply
 * of STUN_MSG_MAX bytes: 32 slots are about 100 KiB. */
#define REG_STUN_BATCH 32
/* Room for reg_stun_new()'s error message. */
#define REG_STUN_ERRLEN 160

struct reg_stun;

struct reg_stun_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_oversize; /* longer than STUN_MSG_MAX: dropped */
	uint64_t dropped;     /* not STUN, or malformed and not a Binding request */
	/* STUN that gets no reply: indications, responses, other methods, and
	 * RFC 3489 requests for an answer from another address or port. */
	uint64_t ignored;
	uint64_t tx_success; /* Binding success responses sent */
	uint64_t tx_error;   /* error responses (400, 420) sent */
	uint64_t tx_failed;  /* replies the kernel refused (unreachable, no buffer) */
};

/* Open and bind the responder. addr is a numeric IPv4 or IPv6 address, or
 * NULL/""/"::" for every address of both families (dual-stack; IPv4 only if
 * the kernel has no IPv6); "0.0.0.0" is every IPv4 address. port 0 lets the
 * kernel choose (see reg_stun_port()). 0 with *out set, or -errno with a
 * message in errbuf (may be NULL). */
int reg_stun_new(const char *addr, uint16_t port, struct reg_stun **out,
		 char errbuf[REG_STUN_ERRLEN]);
/* Close the socket. Accepts NULL. */
void reg_stun_free(struct reg_stun *s);

/* The non-blocking socket to watch for input. */
int reg_stun_fd(const struct reg_stun *s);
/* The bound port. */
uint16_t reg_stun_port(const struct reg_stun *s);

/* Read one batch and answer it. Returns the number of datagrams read (0 if
 * none were queued) or -errno for a socket error other than EAGAIN. */
int reg_stun_on_readable(struct reg_stun *s);

/* A snapshot of the counters. */
void reg_stun_get_stats(const struct reg_stun *s, struct reg_stun_stats *out);

#endif
