/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * In-tunnel transport of KEX records (docs/pq.md, docs/pskonly.md): one UDP
 * socket on the event loop, bound to this node's overlay IPv4 address and
 * AGENT_KEX_PORT, sending to the same port on a peer's overlay address. The
 * route to that address goes through the WireGuard interface, so a record
 * travels inside a session whenever one exists.
 *
 * The socket is bound with IP_FREEBIND: it can be opened before the overlay
 * address is on an interface (the engine adds it later; an external
 * interface may get it after the daemon started).
 *
 * Nothing received is trusted: the source address is only reported (kexd
 * matches records to peers by their signed sender, not by address).
 * Datagrams over PROTO_KEX_RECORD_MAX bytes, empty ones and, when a prefix
 * was given, ones from outside it are dropped and counted.
 *
 * Single-threaded: everything runs on the loop thread.
 */
#ifndef AGENT_KEXNET_H
#define AGENT_KEXNET_H

#include <stddef.h>
#include <stdint.h>

#include "io/err.h"
#include "io/loop.h"
#include "proto/addr.h"

struct kexnet;

/* A datagram arrived: rec[0, len), 1 <= len <= PROTO_KEX_RECORD_MAX, from
 * src4 (IPv4, network order). rec is valid during the call only. */
typedef void (*kexnet_recv_fn)(void *ctx, const uint8_t *rec, size_t len, const uint8_t src4[4]);

struct kexnet_stats {
	uint64_t rx;		/* handed to the callback */
	uint64_t rx_too_big;	/* over PROTO_KEX_RECORD_MAX (or empty): dropped */
	uint64_t rx_foreign;	/* source outside the allowed prefix: dropped */
	uint64_t tx, tx_errors; /* sent / refused by the kernel */
};

/* Bind to addr4:port (port 0: the kernel picks one, for tests; scoped
 * passes AGENT_KEX_PORT) and watch the socket on loop. allow: accept only
 * sources inside this IPv4 prefix (copied; NULL: any). Records are sent to
 * the bound port on the peer. 0 or -errno with a message in err (may be
 * NULL); *out only on success. */
int kexnet_new(struct loop *loop, const uint8_t addr4[4], uint16_t port,
	       const struct proto_prefix *allow, kexnet_recv_fn fn, void *ctx, struct kexnet **out,
	       struct io_err *err);
/* Stop watching and close the socket. NULL ok. */
void kexnet_free(struct kexnet *kn);

/* Send rec[0, len) (1..PROTO_KEX_RECORD_MAX bytes, else -EMSGSIZE) to
 * dst4's KEX port. Never blocks: 0, or -errno (-EAGAIN when the socket
 * buffer is full, -ENETUNREACH...); the caller's retry timers resend. */
int kexnet_send(struct kexnet *kn, const uint8_t dst4[4], const uint8_t *rec, size_t len);

/* The bound port (the kernel's choice when 0 was asked). */
uint16_t kexnet_port(const struct kexnet *kn);
void kexnet_get_stats(const struct kexnet *kn, struct kexnet_stats *out);

#endif
