// SPDX-License-Identifier: GPL-2.0-only
#include "agent/pq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent/kexnet.h"
#include "agent/limits.h"
#include "agent/mailbox.h"
#include "io/env.h"

/* The backend's counters are polled: traffic proves a version within this. */
#define PQ_POLL_NS (1000ull * 1000 * 1000)

struct agent_pq {
	struct loop *loop;
	struct kexd *kd;
	struct kexnet *kn;
	struct agent_mailbox *mb;
	const struct kexd_ops *backend;
	void *bctx;
	struct kexd_ops ops; /* the backend's, plus our transports */
	int timer_fd;
};

/* ---- the ops kexd sees ------------------------------------------------------ */

static int op_set_psks(void *ctx, const uint8_t wg[PROTO_KEY_LEN], const struct kexd_psk *ring,
		       size_t n)
{
	struct agent_pq *pq = ctx;

	return pq->backend->set_psks(pq->bctx, wg, ring, n);
}

static int op_tunnel(void *ctx, const uint8_t wg[PROTO_KEY_LEN], struct kexd_tunnel *out)
{
	struct agent_pq *pq = ctx;

	return pq->backend->tunnel(pq->bctx, wg, out);
}

static void op_initiate(void *ctx, const uint8_t wg[PROTO_KEY_LEN])
{
	struct agent_pq *pq = ctx;

	pq->backend->initiate(pq->bctx, wg);
}

static int op_send_tunnel(void *ctx, const struct proto_cert *peer, const uint8_t *rec, size_t len)
{
	struct agent_pq *pq = ctx;

	return kexnet_send(pq->kn, peer->addr4, rec, len);
}

static int op_send_mailbox(void *ctx, const struct proto_cert *peer, const uint8_t *rec, size_t len)
{
	struct agent_pq *pq = ctx;

	return agent_mailbox_send(pq->mb, peer->name, rec, len);
}

static void op_log(void *ctx, bool error, const char *line)
{
	struct agent_pq *pq = ctx;

	if (pq->backend->log)
		pq->backend->log(pq->bctx, error, line);
}

/* ---- timer ------------------------------------------------------------------ */

/* Next wake-up: the driver's deadline, and at least every PQ_POLL_NS. */
static void rearm(struct agent_pq *pq)
{
	uint64_t now = io_now_ns(), t = kexd_next_timer(pq->kd);
	struct itimerspec its = { 0 };

	if (t > now + PQ_POLL_NS)
		t = now + PQ_POLL_NS;
	if (t <= now)
		t = now + 1;
	its.it_value.tv_sec = (time_t)(t / 1000000000ull);
	its.it_value.tv_nsec = (long)(t % 1000000000ull);
	timerfd_settime(pq->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void on_timer(void *ctx, int fd, uint32_t events)
{
	struct agent_pq *pq = ctx;
	uint64_t ticks;

	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno == EAGAIN)
		return;
	kexd_tick(pq->kd, io_now_ns());
	rearm(pq);
}

/* ---- arrivals ----------------------------------------------------------------- */

static void on_tunnel_rec(void *ctx, const uint8_t *rec, size_t len, const uint8_t src4[4])
{
	struct agent_pq *pq = ctx;

	(void)src4; /* not trusted: the record's signature names the sender */
	kexd_receive(pq->kd, rec, len, KEXD_VIA_TUNNEL, io_now_ns());
	rearm(pq);
}

void agent_pq_drain_mailbox(struct agent_pq *pq)
{
	struct agent_mailbox_rec *r;

	if (!pq || !pq->mb)
		return;
	r = agent_mailbox_take(pq->mb);
	while (r) {
		struct agent_mailbox_rec *next = r->next;

		kexd_receive(pq->kd, r->rec, r->len, KEXD_VIA_MAILBOX, io_now_ns());
		free(r);
		r = next;
	}
	rearm(pq);
}

/* ---- peers ---------------------------------------------------------------------- */

int agent_pq_peer_add(struct agent_pq *pq, const struct proto_cert *peer)
{
	int r = kexd_peer_add(pq->kd, peer, io_now_ns());

	rearm(pq);
	return r;
}

void agent_pq_peer_reapply(struct agent_pq *pq, const uint8_t wg[PROTO_KEY_LEN])
{
	kexd_peer_reapply(pq->kd, wg);
}

void agent_pq_peer_remove(struct agent_pq *pq, const uint8_t wg[PROTO_KEY_LEN])
{
	kexd_peer_remove(pq->kd, wg);
}

const struct kexd *agent_pq_kexd(const struct agent_pq *pq)
{
	return pq->kd;
}

/* ---- life ------------------------------------------------------------------------ */

int agent_pq_new(const struct agent_pq_params *p, struct loop *loop, struct agent_pq **out,
		 char *err, size_t errlen)
{
	struct agent_pq *pq = calloc(1, sizeof(*pq));
	struct io_err ierr = { "" };
	int r;

	if (!pq)
		return -ENOMEM;
	pq->loop = loop;
	pq->backend = p->backend;
	pq->bctx = p->backend_ctx;
	pq->mb = p->mailbox;
	pq->ops = (struct kexd_ops){
		.set_psks = op_set_psks,
		.tunnel = op_tunnel,
		.initiate = p->backend->initiate ? op_initiate : NULL,
		.send_tunnel = op_send_tunnel,
		.send_mailbox = p->mailbox ? op_send_mailbox : NULL,
		.log = op_log,
	};
	pq->timer_fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (pq->timer_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "PQ timer: %s", strerror(-r));
		free(pq);
		return r;
	}
	r = kexd_new(&p->kex, &pq->ops, pq, &pq->kd);
	if (r) {
		snprintf(err, errlen, "PQ key exchange: %s", strerror(-r));
		goto fail;
	}
	r = kexnet_new(loop, p->kex.self->addr4, AGENT_KEX_PORT, NULL, on_tunnel_rec, pq, &pq->kn,
		       &ierr);
	if (r) {
		snprintf(err, errlen, "in-tunnel KEX socket: %s", ierr.msg);
		goto fail;
	}
	r = loop_add_fd(loop, pq->timer_fd, EPOLLIN, on_timer, pq);
	if (r) {
		snprintf(err, errlen, "PQ timer: %s", strerror(-r));
		goto fail;
	}
	rearm(pq);
	*out = pq;
	return 0;
fail:
	agent_pq_free(pq);
	return r;
}

void agent_pq_free(struct agent_pq *pq)
{
	if (!pq)
		return;
	if (pq->timer_fd >= 0) {
		loop_del_fd(pq->loop, pq->timer_fd);
		close(pq->timer_fd);
	}
	kexnet_free(pq->kn);
	kexd_free(pq->kd);
	free(pq);
}
