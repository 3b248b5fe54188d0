/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The registry's KEX mailbox and reports, on a thread of their own
 * (docs/registry.md POST/GET /v1/kex, POST /v1/reports; issue 7).
 *
 * The node's main registry thread spends its time in long polls; KEX
 * messages must not wait for one to end. This thread has its own client and
 * sleeps on a condition variable until the loop queues a message or a
 * report, the event stream announces a message for us (agent_mailbox_poke),
 * or a fetch is due anyway (every AGENT_MAILBOX_FETCH_S, in case an event
 * was missed). Records received are queued for the loop, which is woken
 * through the wake callback and takes them with agent_mailbox_take.
 *
 * Nothing here trusts the registry: records are handed on raw, and the
 * key-exchange driver verifies each one against the sender's certificate.
 * Queues are bounded (AGENT_MAILBOX_QUEUE_MAX): when full the oldest goes,
 * which only delays a rotation (the driver resends).
 */
#ifndef AGENT_MAILBOX_H
#define AGENT_MAILBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/regclient.h"
#include "proto/limits.h"

#define AGENT_MAILBOX_QUEUE_MAX 256
#define AGENT_MAILBOX_FETCH_S	30

struct agent_mailbox;

struct agent_mailbox_params {
	const char *url;
	const struct proto_netdef *net; /* verified; copied */
	const uint8_t *identity_seed;	/* copied, wiped on free */
	void (*wake)(void *ctx);	/* records arrived (called on the mailbox thread) */
	void (*log)(void *ctx, bool error, const char *line);
	void *ctx;
};

/* Starts the thread. 0 and *out, -EINVAL, -ENOMEM, or pthread's error. */
int agent_mailbox_new(const struct agent_mailbox_params *p, struct agent_mailbox **out);
/* Stops and joins the thread (within a request timeout). NULL is fine. */
void agent_mailbox_free(struct agent_mailbox *mb);

/* Queue a signed KEX record for peer `to` (any thread). 0, -E2BIG, -ENOMEM. */
int agent_mailbox_send(struct agent_mailbox *mb, const char *to, const uint8_t *rec, size_t len);
/* Fetch now: the event stream said a message waits for us, or the node has
 * just joined (nothing is fetched before the first poke or
 * AGENT_MAILBOX_FETCH_S). */
void agent_mailbox_poke(struct agent_mailbox *mb);
/* Replace the pending report (sent once, as soon as possible). The report
 * is copied. 0 or -ENOMEM. */
int agent_mailbox_report(struct agent_mailbox *mb, const struct regclient_report *r);

struct agent_mailbox_rec {
	struct agent_mailbox_rec *next;
	size_t len;
	uint8_t rec[]; /* the raw signed KEX record */
};
/* Take every record received so far (a list, oldest first; NULL if none).
 * The caller frees each with free(). */
struct agent_mailbox_rec *agent_mailbox_take(struct agent_mailbox *mb);

#endif
