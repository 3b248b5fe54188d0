/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Watching the host's underlay: a non-blocking rtnetlink socket subscribed
 * to address, link and route changes, read on the agent's event loop. It
 * tells its owner only *that* something changed (and roughly what), because
 * the answer is the same whatever it was: forget sticky source addresses
 * and send every peer a keepalive, so peers roam to the new source at once
 * (docs/agent.md, "Address changes").
 *
 * Changes on the overlay interface itself (its addresses, the routes the
 * agent installs) are ignored: they are the agent's own doing, and reacting
 * to them would make every reconcile look like a migration.
 *
 * Debouncing: one readable event drains the socket (up to
 * NLMON_BATCH_MAX datagrams) and calls back at most once, so `ip addr
 * flush` of ten addresses is one change, not ten. Changes made by separate
 * commands may still arrive in separate loop batches and call back once
 * each; a callback costs one keepalive per peer.
 *
 * Runs on the loop thread; not thread-safe. Works in the network namespace
 * the socket was opened in.
 */
#ifndef AGENT_NLMON_H
#define AGENT_NLMON_H

#include <stddef.h>

#include "io/loop.h"

/* Datagrams read per readable event before the loop gets a turn (the rest
 * stays queued, level-triggered, for the next batch). */
#define NLMON_BATCH_MAX 64

/* What changed in one batch (bits, or-ed). */
enum {
	NLMON_ADDR = 1u << 0,	 /* an address added or removed */
	NLMON_LINK = 1u << 1,	 /* an interface went up, down, or away */
	NLMON_ROUTE = 1u << 2,	 /* a route in the main table */
	NLMON_OVERRUN = 1u << 3, /* the socket overflowed: events were lost */
};

struct nlmon;

/* The host's addresses, links or routes changed; what is NLMON_* bits. */
typedef void (*nlmon_fn)(void *ctx, unsigned int what);

/* Subscribe and register with loop; changes on ignore_ifindex (0: none) are
 * not reported. 0 or -errno; *out only on success. */
int nlmon_new(struct loop *loop, int ignore_ifindex, nlmon_fn fn, void *ctx, struct nlmon **out);
/* Unregister from the loop and close the socket. NULL ok. */
void nlmon_free(struct nlmon *m);

/* Classify one buffer of rtnetlink messages (the kernel's notifications):
 * the NLMON_* bits of the changes that concern interfaces other than
 * ignore_ifindex. Malformed or truncated messages end the walk; what was
 * read before them counts. Exposed for tests. */
unsigned int nlmon_classify(const void *buf, size_t len, int ignore_ifindex);

#endif
