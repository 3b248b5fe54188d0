// SPDX-License-Identifier: GPL-2.0-only
#include "io/engine.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/aead.h"
#include "io/env.h"
#include "io/limits.h"
#include "io/offload.h"
#include "io/tun.h"
#include "io/workers.h"

#define B IO_UDP_BATCH_MAX
/* TUN-side slots and the send queue: one TSO super-packet splits into up to
 * 64 KiB / MSS segments (48 at MTU 1420, 122 at the minimum IPv4 MSS). */
#define TX_SLOTS 128
/* Room for any UDP payload or TUN packet, so nothing is truncated. */
#define SLOT_CAP (IO_PKT_MAX + 1)
#define TUN_SLOT (WG_HEADROOM + SLOT_CAP + WG_TAILROOM)
/* Batches handled per readable event before the loop looks at other fds. */
#define BATCHES_PER_EVENT 16

struct engine {
	struct loop *loop;
	struct tun *tun;
	struct udp *udp;
	struct demux *demux;
	struct wg_dev *dev;
	struct wg_sink sink;
	struct sc_env env;
	engine_down_fn down;
	engine_event_fn event;
	void *ctx;
	int ifindex;
	bool tun_dead;
	uint64_t armed; /* deadline given to the loop; 0 none */
	uint64_t now;	/* io_now_ns() of the current batch */

	/* Handshake messages seen in back-to-back full batches: the core's
	 * under-load signal (see engine_rx). */
	unsigned int hs_backlog;
	size_t rx_tail; /* free bytes after the datagram in wg_input() */

	struct udp_msg rx[B];
	uint8_t *rxbuf;
	uint8_t *tunbuf; /* TX_SLOTS slots of TUN_SLOT */
	bool offload;	 /* TUN frames carry a virtio_net_hdr */
	uint8_t *frame;	 /* one TUN read with offloads: header + super-packet */
	uint8_t *bounce; /* a delivered packet without room for the header */
	struct off_gro *gro;

	/* One sendmmsg batch: entries point into rx/tun buffers (in-place
	 * packets) or into copy[] (scratch bytes of the core). */
	struct udp_msg tx[TX_SLOTS];
	unsigned int ntx;
	uint8_t *copy;

	/* Crypto workers (NULL: none). Jobs prepared since the last
	 * jobs_flush(), all of one direction; each thread of the pool has its
	 * own cipher context, aead[0] the loop's. */
	struct workers *pool;
	unsigned int nworkers;
	struct cry_aead **aead; /* nworkers + 1 */
	struct wg_job *jobs;	/* TX_SLOTS */
	unsigned int njobs;
	bool jobs_rx;

	uint64_t tun_rx_packets, tun_rx_bytes, tun_rx_frames, tun_rx_dropped;
	uint64_t tun_tx_packets, tun_tx_bytes, tun_tx_dropped;
	uint64_t udp_tx_dropped;
};

static void tun_failed(struct engine *e, int err)
{
	if (e->tun_dead)
		return;
	e->tun_dead = true;
	loop_del_fd(e->loop, tun_fd(e->tun));
	if (e->down)
		e->down(e->ctx, err);
}

/* Send the queued batch. A full socket buffer stalls for up to
 * ENGINE_TX_WAIT_MS; what still does not fit is dropped. */
static void tx_flush(struct engine *e)
{
	unsigned int off = 0, done;
	int r;

	while (off < e->ntx) {
		r = udp_send(e->udp, e->tx + off, e->ntx - off, &done);
		if (r == 0 || (r == -EAGAIN && done)) {
			off += done;
			continue;
		}
		if (r == -EAGAIN) {
			struct pollfd p = { .fd = udp_fd(e->udp), .events = POLLOUT };

			if (poll(&p, 1, ENGINE_TX_WAIT_MS) > 0)
				continue;
		}
		e->udp_tx_dropped += e->ntx - off;
		break;
	}
	e->ntx = 0;
}

static void sink_send_udp(void *ctx, struct wg_peer *peer, const struct wg_endpoint *ep,
			  const uint8_t *pkt, size_t len, unsigned int flags)
{
	struct engine *e = ctx;
	struct udp_msg *m;

	(void)peer;
	if (len > SLOT_CAP)
		return;
	if (e->ntx == TX_SLOTS)
		tx_flush(e);
	m = &e->tx[e->ntx];
	if (io_endpoint_from_wg(ep, &m->ep) || m->ep.family == AF_UNSPEC)
		return;
	if (flags & WG_OUT_SCRATCH) {
		uint8_t *slot = e->copy + (size_t)e->ntx * SLOT_CAP;

		memcpy(slot, pkt, len);
		m->buf = slot;
	} else {
		/* In place in a buffer of the current batch, which is not
		 * reused before the batch's tx_flush(). */
		m->buf = (uint8_t *)pkt;
	}
	m->len = len;
	e->ntx++;
}

/* Write one packet or frame to TUN. */
static int tun_out(void *ctx, const uint8_t *p, size_t len)
{
	struct engine *e = ctx;
	int r;

	if (e->tun_dead)
		return -EIO;
	r = tun_write(e->tun, p, len);
	if (r == 0) {
		e->tun_tx_packets++;
		e->tun_tx_bytes += len;
	} else if (r == -EAGAIN || r == -ENOBUFS || r == -EINVAL || r == -EIO) {
		/* Queue full, or the kernel refused this one packet. */
		e->tun_tx_dropped++;
	} else {
		tun_failed(e, r);
	}
	return r;
}

static bool in_rx_slots(const struct engine *e, const uint8_t *p)
{
	return p >= e->rxbuf + OFF_VNET_HDR_LEN && p < e->rxbuf + (size_t)B * SLOT_CAP;
}

static void sink_deliver_tun(void *ctx, struct wg_peer *peer, const uint8_t *pkt, size_t len,
			     unsigned int flags)
{
	struct engine *e = ctx;

	(void)peer;
	(void)flags;
	if (!e->offload) {
		tun_out(e, pkt, len);
		return;
	}
	/* Decrypted packets lie in a receive slot behind the 16-byte data
	 * header, room for the virtio header; anything else is copied. */
	if (in_rx_slots(e, pkt)) {
		off_gro_add(e->gro, (uint8_t *)pkt, len);
	} else if (len <= SLOT_CAP) {
		memcpy(e->bounce + OFF_VNET_HDR_LEN, pkt, len);
		off_gro_add(e->gro, e->bounce + OFF_VNET_HDR_LEN, len);
		off_gro_flush(e->gro);
	}
}

static void sink_event(void *ctx, struct wg_peer *peer, enum wg_event ev)
{
	struct engine *e = ctx;

	if (e->event)
		e->event(e->ctx, peer, ev);
}

/* Give the loop the core's next deadline, if it changed. */
static void rearm(struct engine *e)
{
	uint64_t d = wg_dev_next_deadline(e->dev);

	if (d == UINT64_MAX)
		d = 0;
	else if (d == 0)
		d = 1; /* due now; 0 would mean "disarm" to the loop */
	if (d != e->armed && loop_set_deadline(e->loop, d) == 0)
		e->armed = d;
}

static void job_run(void *ctx, unsigned int thread, size_t i)
{
	struct engine *e = ctx;

	wg_job_run(e->aead[thread], &e->jobs[i]);
}

/* Seal or open the pending jobs on the pool, then finish them in the order
 * they were prepared. Must run before anything reuses their buffers, sends
 * the tx queue they go into, or calls the core another way. */
static void jobs_flush(struct engine *e)
{
	unsigned int n = e->njobs;

	if (!n)
		return;
	workers_run(e->pool, n, job_run, e);
	e->njobs = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (e->jobs_rx)
			wg_dev_recv_finish(e->dev, e->now, &e->jobs[i], &e->sink);
		else
			wg_dev_send_finish(e->dev, e->now, &e->jobs[i], &e->sink);
	}
}

/* A free job of direction rx, after finishing those of the other one. */
static struct wg_job *job_slot(struct engine *e, bool rx)
{
	if (e->njobs && (e->jobs_rx != rx || e->njobs == TX_SLOTS))
		jobs_flush(e);
	e->jobs_rx = rx;
	return &e->jobs[e->njobs];
}

/* Everything queued leaves: jobs first, then the sendmmsg batch. */
static void batch_flush(struct engine *e)
{
	jobs_flush(e);
	tx_flush(e);
}

static void on_timer(void *ctx, uint64_t now)
{
	struct engine *e = ctx;

	e->armed = 0;
	e->now = now;
	wg_dev_tick(e->dev, now, &e->sink);
	tx_flush(e);
	rearm(e);
}

/* WireGuard datagrams from the demultiplexer. */
static void wg_input(void *ctx, uint8_t *p, size_t n, const struct io_endpoint *from)
{
	struct engine *e = ctx;
	struct wg_endpoint src;
	/* p is in a receive slot; what follows it there (rx_tail) is
	 * tailroom, which relaying uses to re-pad the packet for the next
	 * peer in place (the core copies when it is too small). */
	struct wg_buf b = { .data = p, .len = n, .headroom = 0, .tailroom = e->rx_tail };

	if (io_endpoint_to_wg(from, &src))
		return;
	if (e->pool) {
		int r = wg_dev_recv_prepare(e->dev, e->now, &b, &src, job_slot(e, true));

		if (r == 0)
			e->njobs++;
		if (r != WG_SYNC)
			return;
		jobs_flush(e); /* a handshake sees the data before it */
	}
	wg_dev_recv_udp(e->dev, e->now, &b, &src, &e->sink);
}

static bool is_handshake(const uint8_t *p, size_t n)
{
	return n > 0 && (p[0] == 1 || p[0] == 2) && n != DEMUX_WG_DATA_MIN_LEN;
}

/* One datagram through the demultiplexer, with tail bytes free after it.
 * STUN and Scope handlers may call into the core (or send): the data
 * before them is finished first. */
static void rx_one(struct engine *e, uint8_t *p, size_t n, size_t tail,
		   const struct io_endpoint *from)
{
	if (e->njobs && demux_classify(p, n) != DEMUX_WG)
		jobs_flush(e);
	e->rx_tail = tail;
	demux_input(e->demux, p, n, from);
}

/* One recvmmsg batch through the demultiplexer. Returns how many datagrams
 * the kernel gave, or -errno. */
static int rx_batch(struct engine *e)
{
	unsigned int got = 0, hs = 0;
	size_t off, n;
	uint8_t *p;
	int r;

	for (unsigned int i = 0; i < B; i++) {
		e->rx[i].buf = e->rxbuf + (size_t)i * SLOT_CAP;
		e->rx[i].cap = SLOT_CAP;
	}
	r = udp_recv(e->udp, e->rx, B, &got);
	if (r)
		return r;
	e->now = io_now_ns();
	/* With UDP GRO a buffer may hold many datagrams of one sender: each
	 * is counted and handled on its own, in order. */
	for (unsigned int i = 0; i < got; i++)
		for (off = 0; (n = udp_msg_next(&e->rx[i], &off, &p));)
			hs += is_handshake(p, n);
	/* A full batch means the socket held more: count its handshakes as
	 * waiting. The core demands cookies past UNDER_LOAD_BACKLOG. */
	e->hs_backlog = got == B ? e->hs_backlog + hs : hs;
	wg_dev_set_handshake_backlog(e->dev, e->hs_backlog);
	/* The room after a datagram is the rest of its slot only for the last
	 * one of a buffer: the others are followed by the next datagram. */
	for (unsigned int i = 0; i < got; i++)
		for (off = 0; (n = udp_msg_next(&e->rx[i], &off, &p));)
			rx_one(e, p, n, off < e->rx[i].len ? 0 : SLOT_CAP - off, &e->rx[i].ep);
	jobs_flush(e);
	if (e->gro)
		off_gro_flush(e->gro);
	tx_flush(e);
	return (int)got;
}

static void on_udp(void *ctx, int fd, uint32_t events)
{
	struct engine *e = ctx;

	(void)fd;
	(void)events;
	for (int i = 0; i < BATCHES_PER_EVENT; i++) {
		int r = rx_batch(e);

		/* 0 (all of a batch dropped) means: read again. */
		if (r < 0 || (r > 0 && r < B))
			break;
	}
	e->hs_backlog = 0;
	rearm(e);
}

static uint8_t *tun_slot(const struct engine *e, unsigned int i)
{
	return e->tunbuf + (size_t)i * TUN_SLOT;
}

/* Encrypt the IP packet at WG_HEADROOM in slot i, in place, and queue it. */
static void send_slot(struct engine *e, unsigned int i, size_t len)
{
	uint8_t *p = tun_slot(e, i) + WG_HEADROOM;
	struct wg_buf b = {
		.data = p,
		.len = len,
		.headroom = WG_HEADROOM,
		.tailroom = TUN_SLOT - WG_HEADROOM - len,
	};

	e->tun_rx_packets++;
	e->tun_rx_bytes += len;
	if (e->pool) {
		int r = wg_dev_send_prepare(e->dev, e->now, &b, job_slot(e, false));

		if (r == 0)
			e->njobs++;
		if (r != WG_SYNC)
			return;
		jobs_flush(e); /* keep the peer's packets in order */
	}
	wg_dev_send_tun(e->dev, e->now, &b, &e->sink);
}

/* One frame read with offloads: a plain packet (checksum finished) or a TSO
 * super-packet split into MSS-sized packets, each into its own slot from
 * *next on. Slots are reused only after the queue referencing them is
 * flushed. */
static void tun_frame(struct engine *e, size_t len, unsigned int *next)
{
	uint8_t *bufs[TX_SLOTS];
	size_t lens[TX_SLOTS];
	struct virtio_net_hdr h;
	const uint8_t *pkt = e->frame + OFF_VNET_HDR_LEN;
	size_t plen = len - OFF_VNET_HDR_LEN;
	int n;

	memcpy(&h, e->frame, sizeof(h));
	if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (off_csum_complete(&h, e->frame + OFF_VNET_HDR_LEN, plen) || plen > SLOT_CAP)
			goto drop;
		if (*next == TX_SLOTS) {
			batch_flush(e);
			*next = 0;
		}
		memcpy(tun_slot(e, *next) + WG_HEADROOM, pkt, plen);
		send_slot(e, (*next)++, plen);
		return;
	}
	for (;;) {
		for (unsigned int i = *next; i < TX_SLOTS; i++)
			bufs[i - *next] = tun_slot(e, i) + WG_HEADROOM;
		n = off_tso_split(&h, pkt, plen, bufs, SLOT_CAP, TX_SLOTS - *next, lens);
		if (n != -ENOSPC || *next == 0)
			break;
		batch_flush(e);
		*next = 0;
	}
	if (n < 0)
		goto drop;
	for (int i = 0; i < n; i++)
		send_slot(e, *next + (unsigned int)i, lens[i]);
	*next += (unsigned int)n;
	return;
drop:
	e->tun_rx_dropped++;
}

/* Up to one batch of TUN reads, encrypted in place, sent in sendmmsg
 * batches. Returns the number of reads. */
static int tun_batch(struct engine *e)
{
	unsigned int n = 0, next = 0;
	size_t len;
	int r = 0;

	e->now = io_now_ns();
	for (; n < B; n++) {
		if (e->offload) {
			r = tun_read(e->tun, e->frame, OFF_VNET_HDR_LEN + IO_PKT_MAX, &len);
			if (r)
				break;
			e->tun_rx_frames++;
			if (len > OFF_VNET_HDR_LEN)
				tun_frame(e, len, &next);
			continue;
		}
		if (next == TX_SLOTS) {
			batch_flush(e);
			next = 0;
		}
		r = tun_read(e->tun, tun_slot(e, next) + WG_HEADROOM, SLOT_CAP, &len);
		if (r)
			break;
		e->tun_rx_frames++;
		send_slot(e, next++, len);
	}
	batch_flush(e);
	if (r && r != -EAGAIN)
		tun_failed(e, r);
	return (int)n;
}

static void on_tun(void *ctx, int fd, uint32_t events)
{
	struct engine *e = ctx;

	(void)fd;
	if (events & (EPOLLERR | EPOLLHUP)) {
		tun_failed(e, -EIO);
		return;
	}
	for (int i = 0; i < BATCHES_PER_EVENT && !e->tun_dead; i++)
		if (tun_batch(e) < B)
			break;
	rearm(e);
}

static int env_setup(struct engine *e)
{
	io_env_init(&e->env);
	e->dev = wg_dev_new(&e->env);
	if (!e->dev)
		return -ENOMEM;
	e->sink = (struct wg_sink){ .send_udp = sink_send_udp,
				    .deliver_tun = sink_deliver_tun,
				    .event = sink_event,
				    .ctx = e };
	return 0;
}

/* Large, lazily touched allocations: only the bytes packets reach become
 * resident. */
static int buffers_alloc(struct engine *e)
{
	e->rxbuf = malloc((size_t)B * SLOT_CAP);
	e->tunbuf = malloc((size_t)TX_SLOTS * TUN_SLOT);
	e->copy = malloc((size_t)TX_SLOTS * SLOT_CAP);
	e->frame = malloc(OFF_VNET_HDR_LEN + IO_PKT_MAX);
	e->bounce = malloc(OFF_VNET_HDR_LEN + SLOT_CAP);
	return e->rxbuf && e->tunbuf && e->copy && e->frame && e->bounce ? 0 : -ENOMEM;
}

static int tun_setup(struct engine *e, const struct engine_config *cfg, struct io_err *err)
{
	unsigned int mtu = cfg->mtu ? cfg->mtu : ENGINE_DEFAULT_MTU;
	int r;

	r = cfg->no_offload ? tun_open(cfg->ifname, &e->tun, err)
			    : tun_open_offload(cfg->ifname, &e->tun, err);
	if (!r && tun_offload(e->tun)) {
		e->offload = true;
		r = off_gro_new(tun_out, e, &e->gro);
		if (r)
			io_errf(err, r, "TUN offloads");
	}
	if (!r)
		r = tun_set_mtu(e->tun, mtu, err);
	if (!r)
		r = tun_set_up(e->tun, 1, err);
	if (!r)
		r = tun_get_ifindex(e->tun, &e->ifindex, err);
	if (!r)
		wg_dev_set_mtu(e->dev, mtu);
	return r;
}

/* The pool and one cipher context per thread, the loop's included. */
static int workers_setup(struct engine *e, unsigned int n, struct io_err *err)
{
	int r;

	if (n > WORKERS_MAX)
		return io_errf(err, -EINVAL, "at most %d crypto workers", WORKERS_MAX);
	e->jobs = calloc(TX_SLOTS, sizeof(*e->jobs));
	e->aead = calloc(n + 1, sizeof(*e->aead));
	if (!e->jobs || !e->aead)
		return io_errf(err, -ENOMEM, "crypto workers");
	e->nworkers = n;
	for (unsigned int i = 0; i <= n; i++) {
		e->aead[i] = cry_aead_new();
		if (!e->aead[i])
			return io_errf(err, -ENOMEM, "crypto workers");
	}
	r = workers_new(n, &e->pool);
	return r ? io_errf(err, r, "starting %u crypto workers", n) : 0;
}

static int loop_setup(struct engine *e, struct io_err *err)
{
	int r;

	loop_set_timer_fn(e->loop, on_timer, e);
	r = loop_add_fd(e->loop, udp_fd(e->udp), EPOLLIN, on_udp, e);
	if (r)
		return io_errf(err, r, "watching the UDP socket");
	r = loop_add_fd(e->loop, tun_fd(e->tun), EPOLLIN, on_tun, e);
	if (r) {
		loop_del_fd(e->loop, udp_fd(e->udp));
		return io_errf(err, r, "watching the TUN device");
	}
	return 0;
}

unsigned int engine_default_workers(void)
{
	return sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 1 : 0;
}

int engine_new(const struct engine_config *cfg, struct loop *loop, struct engine **out,
	       struct io_err *err)
{
	struct engine *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return io_errf(err, -ENOMEM, "engine");
	e->loop = loop;
	e->down = cfg->down;
	e->event = cfg->event;
	e->ctx = cfg->ctx;
	r = env_setup(e);
	if (!r)
		r = buffers_alloc(e);
	if (!r)
		r = demux_new(&e->demux);
	if (r) {
		io_errf(err, r, "engine");
		goto fail;
	}
	wg_dev_set_forwarding(e->dev, cfg->forwarding);
	demux_set_handler(e->demux, DEMUX_WG, wg_input, e);
	r = tun_setup(e, cfg, err);
	if (!r)
		r = udp_new(cfg->port, &e->udp, err);
	if (!r && cfg->no_gso)
		udp_set_gso(e->udp, false);
	if (!r && !cfg->no_gso)
		(void)udp_set_gro(e->udp, true); /* best effort: without it nothing changes */
	if (!r && cfg->workers)
		r = workers_setup(e, cfg->workers, err);
	if (!r)
		r = loop_setup(e, err);
	if (r)
		goto fail;
	*out = e;
	return 0;
fail:
	e->loop = NULL; /* nothing registered */
	engine_free(e);
	return r;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	if (e->loop) {
		loop_del_fd(e->loop, udp_fd(e->udp));
		if (!e->tun_dead)
			loop_del_fd(e->loop, tun_fd(e->tun));
		loop_set_deadline(e->loop, 0);
		loop_set_timer_fn(e->loop, NULL, NULL);
	}
	workers_free(e->pool);
	for (unsigned int i = 0; e->aead && i <= e->nworkers; i++)
		cry_aead_free(e->aead[i]);
	free(e->aead);
	free(e->jobs);
	wg_dev_free(e->dev);
	udp_free(e->udp);
	tun_free(e->tun);
	demux_free(e->demux);
	free(e->rxbuf);
	free(e->tunbuf);
	free(e->copy);
	free(e->frame);
	free(e->bounce);
	off_gro_free(e->gro);
	free(e);
}

struct wg_dev *engine_dev(struct engine *e)
{
	return e->dev;
}

const struct wg_sink *engine_sink(struct engine *e)
{
	return e->tun_dead ? NULL : &e->sink;
}

void engine_kick(struct engine *e)
{
	tx_flush(e);
	rearm(e);
}

struct demux *engine_demux(struct engine *e)
{
	return e->demux;
}

int engine_send(struct engine *e, const struct io_endpoint *to, const uint8_t *p, size_t n)
{
	struct udp_msg m = { .ep = *to, .buf = (uint8_t *)p, .len = n };
	unsigned int done;
	int r;

	/* Keep order with anything already queued by the core. */
	tx_flush(e);
	r = udp_send(e->udp, &m, 1, &done);
	return r ? r : 0;
}

const char *engine_ifname(const struct engine *e)
{
	return tun_name(e->tun);
}

int engine_ifindex(const struct engine *e)
{
	return e->ifindex;
}

uint16_t engine_listen_port(const struct engine *e)
{
	return udp_port(e->udp);
}

int engine_set_listen_port(struct engine *e, uint16_t port, struct io_err *err)
{
	int r;

	if (port != 0 && port == udp_port(e->udp))
		return 0;
	loop_del_fd(e->loop, udp_fd(e->udp));
	r = udp_set_port(e->udp, port, err);
	/* New socket on success, the old one on failure: watch it either way. */
	loop_add_fd(e->loop, udp_fd(e->udp), EPOLLIN, on_udp, e);
	return r;
}

uint32_t engine_fwmark(const struct engine *e)
{
	return udp_fwmark(e->udp);
}

int engine_set_fwmark(struct engine *e, uint32_t mark, struct io_err *err)
{
	return udp_set_fwmark(e->udp, mark, err);
}

void engine_get_stats(const struct engine *e, struct engine_stats *out)
{
	memset(out, 0, sizeof(*out));
	udp_get_stats(e->udp, &out->udp);
	demux_get_stats(e->demux, &out->demux);
	wg_dev_get_stats(e->dev, &out->wg);
	out->offload = e->offload;
	out->tun_rx_frames = e->tun_rx_frames;
	out->tun_rx_dropped = e->tun_rx_dropped;
	out->tun_rx_packets = e->tun_rx_packets;
	out->tun_rx_bytes = e->tun_rx_bytes;
	out->tun_tx_packets = e->tun_tx_packets;
	out->tun_tx_bytes = e->tun_tx_bytes;
	out->tun_tx_dropped = e->tun_tx_dropped;
	out->udp_tx_dropped = e->udp_tx_dropped;
}
