/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine's one UDP socket: IPv4 and IPv6 on one port, batched I/O.
 *
 * An AF_INET6 socket with IPV6_V6ONLY off receives IPv4 as v4-mapped
 * addresses; every endpoint it reports is normalised to plain AF_INET, and
 * AF_INET endpoints are mapped back when sending. If the kernel has no IPv6
 * at all, the socket falls back to AF_INET and IPv6 endpoints fail to send
 * with -EAFNOSUPPORT.
 *
 * Source stickiness: udp_recv() fills each endpoint's local side from
 * IPV6_PKTINFO/IP_PKTINFO; udp_send() sends from msg->ep.src when set. If
 * that address has left the host the kernel refuses (-EINVAL for IPv6,
 * -ENETUNREACH for IPv4); udp_send() then clears msg->ep.src and sends again
 * with the kernel's choice, as the Linux WireGuard driver does, so the caller
 * sees the reset in its array (and counts it in tx_src_reset).
 *
 * Segmented sends (UDP GSO): udp_send() hands a run of datagrams to one
 * destination, of equal length but a shorter last one, to the kernel as one
 * buffer with UDP_SEGMENT, which cuts it back into the same datagrams
 * further down the stack (in the device or its driver): one trip through
 * the UDP and IP layers per run instead of per datagram. What leaves is
 * identical. On by default where the kernel has it (udp_gso()); a
 * segmented send the kernel refuses is retried datagram by datagram, and
 * EIO (a device that cannot checksum for us) turns it off for the socket.
 *
 * Coalesced receives (UDP GRO, off unless udp_set_gro()): the kernel may
 * hand over several datagrams of one sender, one flow and one size in one
 * buffer; udp_recv() says so in udp_msg.seg and the caller walks them
 * (udp_msg_next()). Buffers should then hold IO_PKT_MAX bytes; a coalesced
 * buffer that does not fit is dropped (rx_truncated) and turns coalescing
 * off for the socket (rx_gro_off).
 *
 * Batches use caller-provided arrays of struct udp_msg; the kernel-facing
 * headers live in scratch space allocated once by udp_new(), so nothing is
 * allocated per packet. At most IO_UDP_BATCH_MAX messages go per syscall.
 *
 * Threads: udp_recv() and udp_send() have separate scratch space and may run
 * concurrently with each other, but each only on one thread at a time.
 * udp_set_port() and udp_set_fwmark() must not overlap with either.
 */
#ifndef IO_UDP_H
#define IO_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/endpoint.h"
#include "io/err.h"

struct udp;

struct udp_msg {
	/* recv: the sender, and our local address it was sent to.
	 * send: the destination, and the local address to send from if set. */
	struct io_endpoint ep;
	uint8_t *buf; /* caller's buffer */
	size_t len;   /* recv: bytes received; send: bytes to send */
	size_t cap;   /* recv: size of buf; unused by send */
	/* recv with UDP GRO on: nonzero when buf holds several datagrams of
	 * one sender, each seg bytes long except a shorter last one; 0: buf is
	 * one datagram. Unused by send. */
	size_t seg;
};

struct udp_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_truncated; /* bigger than the caller's cap: dropped */
	uint64_t rx_gro;       /* buffers holding 2 or more datagrams */
	uint64_t rx_gro_off;   /* coalescing turned off: a buffer did not fit */
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_errors;    /* refused by the kernel (unreachable, too big...): dropped */
	uint64_t tx_src_reset; /* sticky source gone, resent from the kernel's choice */
	uint64_t tx_gso_sends; /* segmented sends (2 or more datagrams in one) */
	uint64_t tx_gso_off;   /* segmenting turned off after EIO */
};

/* Open the socket and bind it to port (0: the kernel picks one).
 * 0 or -errno with a message in err (may be NULL); *out only on success. */
int udp_new(uint16_t port, struct udp **out, struct io_err *err);
/* Close the socket. Accepts NULL. */
void udp_free(struct udp *u);

/* The non-blocking socket, for the event loop. Changes on udp_set_port(). */
int udp_fd(const struct udp *u);
/* The bound port (the kernel's choice if 0 was asked). */
uint16_t udp_port(const struct udp *u);
/* Move to another port (UAPI listen_port=; 0 = a fresh kernel-chosen one):
 * a new socket is bound first and replaces the old one only if that works, so
 * a failed change (-EADDRINUSE...) leaves the device on its old port. The fd
 * changes: the caller re-registers udp_fd() with its loop. Same port: no-op. */
int udp_set_port(struct udp *u, uint16_t port, struct io_err *err);

/* Set SO_MARK (UAPI fwmark=, for policy routing around the tunnel; 0 clears).
 * Needs CAP_NET_ADMIN. Kept across udp_set_port(). 0 or -errno with a message. */
int udp_set_fwmark(struct udp *u, uint32_t mark, struct io_err *err);
/* The current fwmark (0 if none). */
uint32_t udp_fwmark(const struct udp *u);

/* Receive up to n datagrams into msgs[0..n), each into its buf/cap. Truncated
 * ones are dropped and counted, and the array is compacted so msgs[0..*got)
 * hold the good ones (entries are swapped whole, so every buf stays in the
 * array). 0 with *got set (0 if every datagram of the batch was dropped:
 * call again), -EAGAIN if nothing is queued, or -errno. */
int udp_recv(struct udp *u, struct udp_msg *msgs, unsigned int n, unsigned int *got);
/* Send msgs[0..n) in order. Datagrams the kernel refuses are dropped and
 * counted in tx_errors (datagram semantics, like a lossy link). Stops early
 * when the socket buffer is full: *done is how many were consumed (sent or
 * dropped), the caller retries the rest on EPOLLOUT. 0, or -EAGAIN if none
 * was consumed, or -errno. */
int udp_send(struct udp *u, struct udp_msg *msgs, unsigned int n, unsigned int *done);

/* Segmented sends on (the default) or off; on only where the kernel has
 * them, probed again on udp_set_port(). */
void udp_set_gso(struct udp *u, bool on);
/* True if udp_send() segments runs. */
bool udp_gso(const struct udp *u);
/* Coalesced receives on or off (default off); kept across udp_set_port().
 * 0, or -errno (the kernel has no UDP_GRO: nothing changed). */
int udp_set_gro(struct udp *u, bool on);
/* True if udp_recv() may return coalesced buffers. */
bool udp_gro(const struct udp *u);

/* The datagrams of a received message, in order: start with *off = 0;
 * each call returns the next one's length and sets *p, 0 after the last.
 *   for (off = 0; (n = udp_msg_next(m, &off, &p)); ) use(p, n); */
size_t udp_msg_next(const struct udp_msg *m, size_t *off, uint8_t **p);

/* Copy the counters. */
void udp_get_stats(const struct udp *u, struct udp_stats *out);

#endif
