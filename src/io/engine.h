/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine: one WireGuard interface made of the protocol core (src/wg), a
 * TUN device, the shared UDP port with its demultiplexer, all driven by one
 * event loop. `scoped wg IFNAME` is this plus the UAPI socket; the node
 * daemon adds its STUN and Scope handlers on engine_demux().
 *
 * Data path, one thread (the loop's):
 *
 *   UDP readable  recvmmsg (IO_UDP_BATCH_MAX) -> demux -> wg_dev_recv_udp
 *                 -> inner packets written to TUN as they are decrypted;
 *                 relayed packets and replies queued for one sendmmsg
 *   TUN readable  read up to IO_UDP_BATCH_MAX frames; with offloads (the
 *                 default) a TCP super-packet is split into MSS-sized
 *                 packets (src/io/offload.h), each into a slot with
 *                 WG_HEADROOM/WG_TAILROOM -> wg_dev_send_tun encrypts in
 *                 place -> sendmmsg batches
 *
 * With offloads, decrypted TCP segments of one flow are coalesced back into
 * one TUN write per receive batch (GRO in userspace).
 *   timer         wg_dev_tick at wg_dev_next_deadline
 *
 * With crypto workers (engine_config.workers > 0) each batch is split at the
 * AEAD (wg.h): the loop prepares every packet in order, the pool
 * (io/workers.h) seals or opens them all, the loop thread included, and the
 * loop finishes them in order before it sends, writes to TUN or reuses a
 * buffer. Handshakes, non-WireGuard datagrams and packets without a session
 * first finish the pending jobs and then take the one-call path.
 *
 * Buffers are allocated once by engine_new(); nothing is allocated per
 * packet. A full socket buffer applies back-pressure: the engine waits (up
 * to ENGINE_TX_WAIT_MS) for room before dropping, so TCP inside the tunnel
 * sees a slower link instead of a lossy one.
 *
 * Lifetime: engine_new() registers its fds with the loop; engine_free()
 * removes them and closes the TUN device (which deletes the interface). If
 * the TUN device fails (the interface was deleted, e.g. by `wg-quick down`),
 * the engine stops reading it and calls the down callback: the program
 * around it shuts down, as wireguard-go does.
 */
#ifndef IO_ENGINE_H
#define IO_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "io/demux.h"
#include "io/endpoint.h"
#include "io/err.h"
#include "io/loop.h"
#include "io/udp.h"
#include "wg/wg.h"

/* wireguard-go's and wg-quick's default MTU. */
#define ENGINE_DEFAULT_MTU 1420
/* How long a full UDP socket buffer may stall the loop before the rest of a
 * batch is dropped. */
#define ENGINE_TX_WAIT_MS 20

struct engine;

/* The TUN device failed (err is the -errno of the read or write). */
typedef void (*engine_down_fn)(void *ctx, int err);
/* A protocol event of the core, for logs and the control layer. */
typedef void (*engine_event_fn)(void *ctx, struct wg_peer *peer, enum wg_event ev);

struct engine_config {
	const char *ifname; /* TUN name; NULL or "" lets the kernel pick */
	uint16_t port;	    /* UDP port; 0: the kernel picks one */
	unsigned int mtu;   /* 0: ENGINE_DEFAULT_MTU */
	bool forwarding;    /* in-engine relaying between peers */
	bool no_offload;    /* plain TUN, one packet per read/write (default: offloads) */
	bool no_gso;	    /* one datagram per send and receive (default: UDP GSO/GRO) */
	/* Crypto threads besides the loop's (at most WORKERS_MAX); 0: the loop
	 * thread does all the crypto. engine_default_workers() is the measured
	 * choice. */
	unsigned int workers;
	engine_down_fn down;
	engine_event_fn event; /* may be NULL */
	void *ctx;	       /* for down and event */
};

struct engine_stats {
	struct udp_stats udp;
	struct demux_stats demux;
	struct wg_dev_stats wg;
	bool offload;			       /* TUN offloads (TSO/GRO) in use */
	uint64_t tun_rx_frames;		       /* TUN reads */
	uint64_t tun_rx_dropped;	       /* malformed or unsplittable frames */
	uint64_t tun_rx_packets, tun_rx_bytes; /* IP packets read from TUN (after TSO split) */
	uint64_t tun_tx_packets, tun_tx_bytes; /* TUN writes (frames, with offloads) */
	uint64_t tun_tx_dropped;	       /* TUN queue full */
	uint64_t udp_tx_dropped;	       /* socket full past ENGINE_TX_WAIT_MS */
};

/* The number of crypto workers to use when the user did not say: 1 with two
 * or more online CPUs, else 0. Measured on 2 vCPUs only (docs/benchmarks.md,
 * "crypto workers"): one worker gains on UDP and is even on TCP; as many
 * workers as CPUs loses. Larger machines may want more; not measured. */
unsigned int engine_default_workers(void);

/* Create the TUN device (up, with the MTU), bind the UDP port and register
 * both with loop. 0 or -errno with a message in err; *out only on success. */
int engine_new(const struct engine_config *cfg, struct loop *loop, struct engine **out,
	       struct io_err *err);
/* Unregister from the loop, close the sockets and the TUN device. NULL ok. */
void engine_free(struct engine *e);

/* The protocol core, for configuration (UAPI). After changing it from
 * outside a data-path callback, call engine_kick(). */
struct wg_dev *engine_dev(struct engine *e);
/* The sink to pass to wg_dev_* calls made on the engine's behalf. */
const struct wg_sink *engine_sink(struct engine *e);
/* Send what configuration queued and re-arm the core's timer. */
void engine_kick(struct engine *e);

/* The port demultiplexer: register STUN and Scope handlers here. */
struct demux *engine_demux(struct engine *e);
/* Send one datagram on the engine's port (for STUN and Scope handlers).
 * 0 or -errno; a full socket drops it (-EAGAIN). */
int engine_send(struct engine *e, const struct io_endpoint *to, const uint8_t *p, size_t n);

const char *engine_ifname(const struct engine *e);
int engine_ifindex(const struct engine *e);
uint16_t engine_listen_port(const struct engine *e);
/* Move the UDP port; on failure nothing changes. 0 or -errno with a message. */
int engine_set_listen_port(struct engine *e, uint16_t port, struct io_err *err);
uint32_t engine_fwmark(const struct engine *e);
int engine_set_fwmark(struct engine *e, uint32_t mark, struct io_err *err);

void engine_get_stats(const struct engine *e, struct engine_stats *out);

#endif
