/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Post-quantum PSK rotation on a node's event loop (issue 7, docs/pq.md):
 * the key-exchange driver (agent/kexd.h) with its timer, the in-tunnel
 * transport (agent/kexnet.h) and the registry mailbox (agent/mailbox.h),
 * over a backend given as kexd_ops (the built-in engine in managed mode,
 * an external interface in PSK-only mode).
 *
 * The owner tells it which peers are connected (agent_pq_peer_add/remove)
 * and hands it what the mailbox brought; everything else runs on the loop:
 * the timer fires at the driver's next deadline and at least every second
 * (the backend's counters are polled, not pushed).
 */
#ifndef AGENT_PQ_H
#define AGENT_PQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/kexd.h"
#include "io/loop.h"

struct agent_mailbox;
struct agent_pq;

struct agent_pq_params {
	struct kexd_config kex;		/* see kexd.h; copied */
	const struct kexd_ops *backend; /* set_psks, tunnel, initiate (may be NULL); log */
	void *backend_ctx;
	struct agent_mailbox *mailbox; /* NULL: in-tunnel only; borrowed */
};

/* 0 and *out, or -errno with a message in err. */
int agent_pq_new(const struct agent_pq_params *p, struct loop *loop, struct agent_pq **out,
		 char *err, size_t errlen);
/* NULL is fine. Wipes every key; the backend keeps what it was given. */
void agent_pq_free(struct agent_pq *pq);

/* The peer is connected (its certificate verified): exchange keys with it. */
int agent_pq_peer_add(struct agent_pq *pq, const struct proto_cert *peer);
/* The backend lost the peer's PSKs (it was removed and added again). */
void agent_pq_peer_reapply(struct agent_pq *pq, const uint8_t wg[PROTO_KEY_LEN]);
void agent_pq_peer_remove(struct agent_pq *pq, const uint8_t wg[PROTO_KEY_LEN]);

/* Feed the records the mailbox has received (call from the loop, e.g.
 * when the mailbox wakes it). */
void agent_pq_drain_mailbox(struct agent_pq *pq);

/* The driver, for status and reports (valid until agent_pq_free). */
const struct kexd *agent_pq_kexd(const struct agent_pq *pq);

#endif
