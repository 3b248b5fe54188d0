// SPDX-License-Identifier: GPL-2.0-only
/*
 * kexd_peer_status into status documents and registry reports (pqstatus.h).
 */
#include "agent/pqstatus.h"

void agent_pqstatus_peer(struct agent_status_peer *sp, const struct kexd_peer_status *ks,
			 uint64_t now_s)
{
	sp->has_kex = true;
	sp->pq_state = ks->psk.state;
	sp->classical = ks->classical;
	sp->psk_kept = (uint32_t)ks->psk.n_kept;
	sp->psk_reverts = ks->reverts;
	sp->psk_working = ks->psk.working;
	/* Version 0 is "no PQ PSK": the classical one (or none) is in use. */
	if (!ks->psk.active)
		return;
	sp->has_psk = true;
	sp->psk_version = ks->psk.active;
	sp->psk_age_s = now_s > ks->active_since_s ? now_s - ks->active_since_s : 0;
}

void agent_pqstatus_report(struct regclient_report_peer *rp, const struct kexd_peer_status *ks)
{
	rp->has_kex = true;
	rp->kex_version = ks->psk.active;
	rp->classical = ks->classical;
	rp->pq_state = ks->psk.state;
	rp->pq = ks->psk.state == POL_PSK_STATE_ACTIVE;
}
