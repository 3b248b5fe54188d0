/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PSK-only mode (issue 7, docs/pskonly.md): `scoped run` with Backend =
 * uapi. scoped attaches to an existing WireGuard interface it does not
 * manage (its UAPI socket, WGEXT_SOCK_DIR/NAME.sock) and rotates only the
 * preshared keys of the peers listed in the config's [Peer] sections,
 * changing nothing else.
 *
 *   start    the interface's public key (UAPI get) must be the
 *            certificate's WireGuard key, else nothing starts; peers the
 *            interface lacks are logged (their PSK cannot be set)
 *   kex      the key-exchange driver (kexd.h, single-key backend: both
 *            sides switch at an agreed wall-clock time) with the wgext
 *            backend, through agent_pq (the in-tunnel socket on the
 *            certificate's overlay IPv4 address, the timer)
 *   status   the control socket of managed mode (ctlsock.h,
 *            AGENT_CTL_DIR/IFNAME.sock) answers `scopectl status`: the
 *            listed peers as the interface shows them (a fresh `get` per
 *            request) with the driver's PSK fields (pqstatus.h); a second
 *            daemon on the same interface finds it answering and stops
 *   registry unless Registry = off: a thread joins the registry (the
 *            configured role, no endpoints; the mailbox only accepts
 *            messages for joined nodes), then follows its event stream so
 *            a KEX message for us is fetched at once, and joins again
 *            after any failure; the mailbox thread (mailbox.h) carries
 *            the messages sent when no session exists, and the reports
 *            (every AGENT_REPORT_S: per listed peer reach, handshake and
 *            KEX state)
 *   exit     SIGINT/SIGTERM stop the loop; the interface keeps its
 *            current PSKs and everything else, the state directory keeps
 *            the last versions for the next start
 *
 * Everything but the two registry threads runs on the loop's thread; the
 * loop's wake callback is taken (the mailbox wakes the loop with it). The
 * caller owns the loop and its signals (scoped run: SIGINT/SIGTERM stop it)
 * and calls curl_global_init before pskonly_new when a registry is used.
 */
#ifndef AGENT_PSKONLY_H
#define AGENT_PSKONLY_H

#include <stddef.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "io/loop.h"

struct pskonly;

/* Start PSK-only mode for cfg (loaded, Backend = uapi; copied) on loop.
 * sock_dir: where NAME.sock is (NULL: WGEXT_SOCK_DIR). 0, or -errno with
 * a message in err (-EKEYREJECTED: the interface's key is not the
 * certificate's; -ENOKEY: it has none; -EADDRINUSE: a daemon already
 * answers on the interface's control socket). *out only on success. */
int pskonly_new(const struct agent_config *cfg, const char *sock_dir, struct loop *loop,
		agent_log_fn log, void *log_ctx, struct pskonly **out, char *err, size_t errlen);
/* Stop the threads, wipe every key. The interface stays as it is. NULL ok. */
void pskonly_free(struct pskonly *po);

#endif
