/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The key-exchange driver's view of one peer (kexd_peer_status) in the two
 * places a node shows it: the control socket's status document (ctlsock.h,
 * `scopectl status`) and the registry report (regclient.h, POST
 * /v1/reports). One mapping for managed mode (agent.c) and PSK-only mode
 * (pskonly.c), so the two cannot drift apart.
 *
 * Pure: no locks, no clock; `now` comes from the caller. Only the fields
 * named below are written; the caller zeroes the struct first and fills
 * the rest (name, tunnel, reachability) from its backend.
 */
#ifndef AGENT_PQSTATUS_H
#define AGENT_PQSTATUS_H

#include <stdint.h>

#include "agent/ctlsock.h"
#include "agent/kexd.h"
#include "agent/regclient.h"

/* Registry reports, in both modes: the first this long after start, then
 * every AGENT_REPORT_S (a newer report replaces one still queued). */
#define AGENT_REPORT_FIRST_S 5
#define AGENT_REPORT_S	     30

/* sp's has_kex, pq_state, classical, psk_kept, psk_reverts, psk_working,
 * and, with an active PQ version, has_psk, psk_version and psk_age_s
 * (now_s - when it was installed; 0 if the clock went back). now_s: wall
 * clock, s since the epoch. */
void agent_pqstatus_peer(struct agent_status_peer *sp, const struct kexd_peer_status *ks,
			 uint64_t now_s);
/* rp's has_kex, kex_version, classical, pq_state and pq (pq_state 3). */
void agent_pqstatus_report(struct regclient_report_peer *rp, const struct kexd_peer_status *ks);

#endif
