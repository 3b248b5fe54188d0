// SPDX-License-Identifier: GPL-2.0-only
#include "policy/pskver.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "crypto/ct.h"
#include "crypto/xwing.h"
#include "proto/cert.h"

/*
 * Phases of the exchange in progress (docs/pq.md has the full table):
 *
 *   IDLE        no exchange; the decapsulator starts one when next_start
 *               is due (EK sent), the encapsulator waits for an EK
 *   D_EK_SENT   decapsulator: EK out, holds dk; CT in -> ACK out
 *   D_ACK_SENT  decapsulator: its ACK out, dk forgotten; peer's ACK in ->
 *               confirmed
 *   E_CT_SENT   encapsulator: CT out; decapsulator's ACK in -> our ACK
 *               out, confirmed
 *
 * Every phase but IDLE resends its last message every `retry` and is
 * abandoned after `timeout`.
 */
enum phase {
	IDLE = 0,
	D_EK_SENT,
	D_ACK_SENT,
	E_CT_SENT,
};

struct kept {
	uint64_t v;
	uint8_t psk[PROTO_KEX_PSK_LEN];
};

struct pol_psk {
	struct pol_psk_config cfg;
	const struct sc_env *env;
	struct proto_cert self, peer; /* only names and keys are used */
	uint64_t self_joined, peer_joined;
	uint64_t last_now;
	uint64_t max_v;	      /* highest version of any exchange started or accepted */
	uint64_t confirmed_v; /* highest version this side confirmed */

	/* The exchange in progress (or the last one, for repeats). */
	enum phase ph;
	uint64_t xv, x_started, x_sent;
	unsigned int x_tries;		 /* decapsulator: EKs of version xv that timed out */
	uint8_t dk[CRY_XWING_SK];	 /* D_EK_SENT only */
	uint8_t xpsk[PROTO_KEX_PSK_LEN]; /* derived, not yet confirmed */
	struct proto_kex ek, ct, ack;	 /* ack: the last one we sent */
	struct proto_kex peer_ack;	 /* encapsulator: the ACK it confirmed on */
	bool have_peer_ack;

	/* Decapsulator: the last exchange abandoned after our ACK went out.
	 * The encapsulator confirmed it if our ACK reached it; its late ACK
	 * still confirms the version here (until late_until), else the
	 * encapsulator would switch alone and revert. */
	uint64_t late_v, late_until;
	struct proto_kex late_ct;
	uint8_t late_psk[PROTO_KEX_PSK_LEN];

	/* Confirmed, waiting for its activation time. */
	uint64_t pend_v, act_at;
	uint8_t pend_psk[PROTO_KEX_PSK_LEN];

	/* Installed versions, oldest first. */
	struct kept kept[POL_PSK_KEEP_MAX + 1];
	size_t n_kept;
	uint64_t active, working;
	bool probation;
	uint64_t switch_at, last_rx;
	uint64_t next_start;

	/* Hashes of every ek this side made or accepted (a ring). */
	uint8_t seen[POL_PSK_SEEN_MAX][PROTO_KEX_HASH_LEN];
	size_t n_seen, seen_next;

	uint32_t state;
};

void pol_psk_config_default(struct pol_psk_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->period = 3600 * SC_NSEC_PER_SEC;
	cfg->activation = 60 * SC_NSEC_PER_SEC;
	cfg->revert = 15 * SC_NSEC_PER_SEC;
	cfg->retry = 10 * SC_NSEC_PER_SEC;
	cfg->timeout = 120 * SC_NSEC_PER_SEC;
	cfg->keep = 3;
}

int pol_psk_config_check(const struct pol_psk_config *cfg)
{
	if (!cfg->period || (cfg->period < POL_PSK_PERIOD_MIN && !cfg->test_only_short_period))
		return -EINVAL;
	if (!cfg->retry || !cfg->revert || cfg->timeout <= cfg->retry)
		return -EINVAL;
	/* Reverting needs the last working version besides the new one. */
	if (cfg->keep < 2 || cfg->keep > POL_PSK_KEEP_MAX)
		return -EINVAL;
	return 0;
}

enum pol_psk_role pol_psk_role(const uint8_t self_wg[PROTO_KEY_LEN],
			       const uint8_t peer_wg[PROTO_KEY_LEN], uint64_t self_joined,
			       uint64_t peer_joined, uint64_t v)
{
	if (v == 1 && self_joined != peer_joined)
		return self_joined > peer_joined ? POL_PSK_ENCAPS : POL_PSK_DECAPS;
	/* memcmp orders bytes as unsigned, first byte most significant: the
	 * 32-byte big-endian comparison. */
	return memcmp(self_wg, peer_wg, PROTO_KEY_LEN) > 0 /* not secret: public keys */
		       ? POL_PSK_DECAPS
		       : POL_PSK_ENCAPS;
}

static enum pol_psk_role role_of(const struct pol_psk *p, uint64_t v)
{
	return pol_psk_role(p->self.wgkey, p->peer.wgkey, p->self_joined, p->peer_joined, v);
}

static void emit(struct pol_psk_out *out, enum pol_psk_action_type type, uint64_t v,
		 const uint8_t *psk, const struct proto_kex *msg)
{
	struct pol_psk_action *a;

	/* A step emits at most 7 actions (event: SEND, INSTALL, RETIRE; timers:
	 * SEND, INSTALL, RETIRE or REVERT, RETIRE; STATE); more is a bug here. */
	assert(out->n < POL_PSK_ACTION_MAX);
	a = &out->a[out->n++];
	memset(a, 0, sizeof(*a));
	a->type = type;
	a->version = v;
	if (psk)
		memcpy(a->psk, psk, PROTO_KEX_PSK_LEN);
	a->msg = msg;
}

static bool seen_has(const struct pol_psk *p, const uint8_t h[PROTO_KEX_HASH_LEN])
{
	size_t i;

	for (i = 0; i < p->n_seen; i++)
		if (memcmp(p->seen[i], h, PROTO_KEX_HASH_LEN) == 0) /* not secret: public hash */
			return true;
	return false;
}

static void seen_add(struct pol_psk *p, const uint8_t h[PROTO_KEX_HASH_LEN])
{
	memcpy(p->seen[p->seen_next], h, PROTO_KEX_HASH_LEN);
	p->seen_next = (p->seen_next + 1) % POL_PSK_SEEN_MAX;
	if (p->n_seen < POL_PSK_SEEN_MAX)
		p->n_seen++;
}

static int env_random(const struct pol_psk *p, void *buf, size_t n)
{
	return p->env->random(p->env->ctx, buf, n) ? -EIO : 0;
}

static uint64_t issued_now(const struct pol_psk *p)
{
	return p->env->wall_ns ? p->env->wall_ns(p->env->ctx) / SC_NSEC_PER_SEC : 0;
}

static void end_exchange(struct pol_psk *p)
{
	cry_wipe(p->dk, sizeof(p->dk));
	cry_wipe(p->xpsk, sizeof(p->xpsk));
	p->ph = IDLE;
}

/* When a version confirmed at now activates. Locally: a delay after
 * confirmation. Agreed: at the wall-clock instant issued + activation,
 * issued being the encapsulator's ACK's (the decapsulator confirms one
 * message latency later, but on the same instant). */
static uint64_t activation_at(const struct pol_psk *p, uint64_t now, uint64_t issued)
{
	uint64_t act = p->cfg.activation, cap = 2 * act, wall, at;

	if (!p->cfg.agreed_activation)
		return now + act;
	wall = p->env->wall_ns(p->env->ctx);
	/* A peer's clock far ahead (or a bogus issue time) delays the switch
	 * by at most 2 x activation, never for ever. */
	if (issued > (UINT64_MAX - act) / SC_NSEC_PER_SEC)
		return now + cap;
	at = issued * SC_NSEC_PER_SEC + act;
	if (at <= wall)
		return now;
	return now + SC_MIN(at - wall, cap);
}

static void drop_late(struct pol_psk *p)
{
	cry_wipe(p->late_psk, sizeof(p->late_psk));
	p->late_v = 0;
}

/* v (key psk) is agreed: it becomes the pending version. */
static void set_pending(struct pol_psk *p, uint64_t v, const uint8_t *psk, uint64_t now,
			uint64_t issued)
{
	p->pend_v = p->confirmed_v = v;
	memcpy(p->pend_psk, psk, PROTO_KEX_PSK_LEN);
	p->act_at = activation_at(p, now, issued);
	if (p->late_v <= v)
		drop_late(p);
}

/* Our side has checked the peer's MAC: v is agreed. issued: the issue time
 * of the encapsulator's ACK. */
static void confirm(struct pol_psk *p, uint64_t now, uint64_t issued)
{
	set_pending(p, p->xv, p->xpsk, now, issued);
	p->next_start = now + p->cfg.period;
	if (p->next_start < p->act_at) /* test periods below the delay */
		p->next_start = p->act_at;
	end_exchange(p);
}

/* ---- messages ---- */

static bool same_name(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool same_key(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, PROTO_KEY_LEN) == 0; /* not secret: public keys */
}

static bool of_pair(const struct pol_psk *p, const struct proto_kex *m)
{
	return same_name(m->network, p->self.network) && same_name(m->from, p->peer.name) &&
	       same_key(m->from_id, p->peer.identity) && same_key(m->from_wg, p->peer.wgkey) &&
	       same_name(m->to, p->self.name) && same_key(m->to_wg, p->self.wgkey);
}

/* Encapsulator: an EK from the peer. */
static int on_ek(struct pol_psk *p, uint64_t now, const struct proto_kex *m,
		 struct pol_psk_out *out)
{
	uint8_t h[PROTO_KEX_HASH_LEN], eseed[CRY_XWING_ESEED], nonce[PROTO_KEX_NONCE_LEN];
	uint8_t psk[PROTO_KEX_PSK_LEN];
	struct proto_kex ct;
	int ret;

	proto_kex_hash(h, m->ek, CRY_XWING_PK);
	if (p->ph == E_CT_SENT && m->version == p->xv &&
	    memcmp(h, p->ct.ek_hash, sizeof(h)) == 0) { /* not secret */
		/* The same EK again (our CT was lost or is slow): same answer. */
		p->x_sent = now;
		emit(out, POL_PSK_ACT_SEND, p->xv, NULL, &p->ct);
		return POL_PSK_DUPLICATE;
	}
	/* Any version above the ones we confirmed, but not below the one in
	 * progress (a late copy of an abandoned EK). The same version with a
	 * fresh ek is a decapsulator that gave up waiting for our CT. */
	if (m->version <= p->confirmed_v || (p->ph == E_CT_SENT && m->version < p->xv))
		return PROTO_ERR_KEX_VERSION;
	if (seen_has(p, h))
		return POL_PSK_ERR_EK_REUSED;
	ret = env_random(p, eseed, sizeof(eseed)) ?: env_random(p, nonce, sizeof(nonce));
	if (!ret) {
		proto_kex_reply(&ct, m, PROTO_T_KEX_CT, p->self.identity, nonce, issued_now(p));
		ret = proto_kex_encaps(&ct, psk, m, eseed);
	}
	cry_wipe(eseed, sizeof(eseed));
	if (ret)
		return ret == -EINVAL ? PROTO_ERR_KEX_BINDING : ret;
	/* A newer EK supersedes an exchange we had not confirmed. */
	end_exchange(p);
	p->ek = *m;
	p->ct = ct;
	memcpy(p->xpsk, psk, sizeof(psk));
	cry_wipe(psk, sizeof(psk));
	seen_add(p, h);
	p->xv = m->version;
	if (p->max_v < p->xv)
		p->max_v = p->xv;
	p->ph = E_CT_SENT;
	p->x_started = p->x_sent = now;
	emit(out, POL_PSK_ACT_SEND, p->xv, NULL, &p->ct);
	return 0;
}

/* Decapsulator: a CT answering our EK. */
static int on_ct(struct pol_psk *p, uint64_t now, const struct proto_kex *m,
		 struct pol_psk_out *out)
{
	uint8_t nonce[PROTO_KEX_NONCE_LEN], psk[PROTO_KEX_PSK_LEN];
	struct proto_kex ack;
	int ret;

	if (p->ph == D_ACK_SENT && m->version == p->xv) {
		/* The same CT again: answer again. Another CT for an ek we
		 * already decapsulated with: never (the key is gone anyway). */
		if (memcmp(m->ct, p->ct.ct, CRY_XWING_CT) != 0) /* not secret: public */
			return POL_PSK_ERR_EK_REUSED;
		p->x_sent = now;
		emit(out, POL_PSK_ACT_SEND, p->xv, NULL, &p->ack);
		return POL_PSK_DUPLICATE;
	}
	if (p->ph != D_EK_SENT || m->version != p->xv)
		return PROTO_ERR_KEX_VERSION;
	ret = env_random(p, nonce, sizeof(nonce));
	if (!ret)
		ret = proto_kex_decaps(psk, m, &p->ek, p->dk);
	if (!ret) {
		proto_kex_reply(&ack, m, PROTO_T_KEX_ACK, p->self.identity, nonce, issued_now(p));
		ret = proto_kex_ack_fill(&ack, m, psk);
	}
	if (ret) {
		cry_wipe(psk, sizeof(psk));
		return ret;
	}
	/* One ciphertext per ek: the secret key goes now. */
	p->x_tries = 0;
	cry_wipe(p->dk, sizeof(p->dk));
	memcpy(p->xpsk, psk, sizeof(psk));
	cry_wipe(psk, sizeof(psk));
	p->ct = *m;
	p->ack = ack;
	p->ph = D_ACK_SENT;
	/* The peer answered: the confirmation legs get a whole timeout. */
	p->x_started = p->x_sent = now;
	emit(out, POL_PSK_ACT_SEND, p->xv, NULL, &p->ack);
	return 0;
}

static bool same_ack(const struct proto_kex *a, const struct proto_kex *b)
{
	return a->version == b->version &&
	       memcmp(a->ek_hash, b->ek_hash, PROTO_KEX_HASH_LEN) == 0 && /* not secret */
	       memcmp(a->ct_hash, b->ct_hash, PROTO_KEX_HASH_LEN) == 0 && /* not secret */
	       cry_memeq(a->mac, b->mac, PROTO_KEX_MAC_LEN);
}

/* Decapsulator: the encapsulator's ACK for an exchange we gave up on after
 * sending ours. It confirmed the version; so do we, without touching the
 * exchange now in progress (a newer version, which may confirm later). */
static int on_late_ack(struct pol_psk *p, uint64_t now, const struct proto_kex *m)
{
	int ret;

	if (now >= p->late_until || p->late_v <= p->confirmed_v) {
		drop_late(p);
		return PROTO_ERR_KEX_VERSION;
	}
	ret = proto_kex_ack_check(m, &p->late_ct, p->late_psk);
	if (ret)
		return ret;
	p->peer_ack = *m;
	p->have_peer_ack = true;
	set_pending(p, p->late_v, p->late_psk, now, m->issued);
	return 0;
}

/* An ACK from the peer; who we are for its version says which one. */
static int on_ack(struct pol_psk *p, uint64_t now, const struct proto_kex *m, bool decaps,
		  struct pol_psk_out *out)
{
	uint8_t nonce[PROTO_KEX_NONCE_LEN];
	struct proto_kex ack;
	int ret;

	if (p->have_peer_ack && same_ack(m, &p->peer_ack)) {
		/* The ACK we confirmed on, again. The encapsulator's answer
		 * was lost: resend it. The decapsulator has nothing to say
		 * (copies cross its own resends, or come both ways). */
		if (!decaps)
			emit(out, POL_PSK_ACT_SEND, p->ack.version, NULL, &p->ack);
		return POL_PSK_DUPLICATE;
	}
	if (decaps && p->late_v && m->version == p->late_v)
		return on_late_ack(p, now, m);
	if (p->ph != (decaps ? D_ACK_SENT : E_CT_SENT) || m->version != p->xv)
		return PROTO_ERR_KEX_VERSION;
	ret = proto_kex_ack_check(m, &p->ct, p->xpsk);
	if (ret || decaps) {
		if (!ret) {
			p->peer_ack = *m;
			p->have_peer_ack = true;
			confirm(p, now, m->issued);
		}
		return ret;
	}
	ret = env_random(p, nonce, sizeof(nonce));
	if (!ret) {
		proto_kex_reply(&ack, m, PROTO_T_KEX_ACK, p->self.identity, nonce, issued_now(p));
		ret = proto_kex_ack_fill(&ack, &p->ct, p->xpsk);
	}
	if (ret)
		return ret;
	p->ack = ack;
	p->peer_ack = *m;
	p->have_peer_ack = true;
	confirm(p, now, ack.issued);
	emit(out, POL_PSK_ACT_SEND, p->ack.version, NULL, &p->ack);
	return 0;
}

static int on_msg(struct pol_psk *p, uint64_t now, const struct proto_kex *m,
		  struct pol_psk_out *out)
{
	bool decaps;

	if (!m || !of_pair(p, m))
		return POL_PSK_ERR_NOT_PAIR;
	decaps = role_of(p, m->version) == POL_PSK_DECAPS;
	switch (m->type) {
	case PROTO_T_KEX_EK:
		return decaps ? POL_PSK_ERR_ROLE : on_ek(p, now, m, out);
	case PROTO_T_KEX_CT:
		return decaps ? on_ct(p, now, m, out) : POL_PSK_ERR_ROLE;
	case PROTO_T_KEX_ACK:
		return on_ack(p, now, m, decaps, out);
	default:
		return -EINVAL;
	}
}

static void on_rx(struct pol_psk *p, uint64_t now, uint64_t version)
{
	/* Strict: a ring backend proves the new version by a handshake with
	 * it; traffic on an older session says nothing about the new key. */
	if (p->probation && p->cfg.strict_probation && version != p->active)
		return;
	p->last_rx = now;
	if (p->probation && version == p->active) {
		p->working = p->active;
		p->probation = false;
	}
}

/* ---- timers ---- */

static int start_exchange(struct pol_psk *p, uint64_t now, struct pol_psk_out *out)
{
	uint8_t dk[CRY_XWING_SK], nonce[PROTO_KEX_NONCE_LEN], h[PROTO_KEX_HASH_LEN];
	struct proto_kex ek = { .type = PROTO_T_KEX_EK, .version = p->max_v + 1 };
	int ret = env_random(p, dk, sizeof(dk)) ?: env_random(p, nonce, sizeof(nonce));

	if (!ret)
		ret = cry_xwing_pubkey(ek.ek, dk);
	if (ret) {
		cry_wipe(dk, sizeof(dk));
		return ret;
	}
	memcpy(ek.network, p->self.network, sizeof(ek.network));
	memcpy(ek.from, p->self.name, sizeof(ek.from));
	memcpy(ek.from_id, p->self.identity, PROTO_KEY_LEN);
	memcpy(ek.from_wg, p->self.wgkey, PROTO_KEY_LEN);
	memcpy(ek.to, p->peer.name, sizeof(ek.to));
	memcpy(ek.to_wg, p->peer.wgkey, PROTO_KEY_LEN);
	memcpy(ek.nonce, nonce, sizeof(nonce));
	ek.issued = issued_now(p);
	memcpy(p->dk, dk, sizeof(dk));
	cry_wipe(dk, sizeof(dk));
	proto_kex_hash(h, ek.ek, CRY_XWING_PK);
	seen_add(p, h);
	p->ek = ek;
	p->max_v = p->xv = ek.version;
	p->ph = D_EK_SENT;
	p->x_started = p->x_sent = now;
	emit(out, POL_PSK_ACT_SEND, p->xv, NULL, &p->ek);
	return 0;
}

static struct kept *find_kept(struct pol_psk *p, uint64_t v)
{
	size_t i;

	for (i = 0; i < p->n_kept; i++)
		if (p->kept[i].v == v)
			return &p->kept[i];
	return NULL;
}

static void drop_kept(struct pol_psk *p, size_t i, struct pol_psk_out *out)
{
	emit(out, POL_PSK_ACT_RETIRE, p->kept[i].v, NULL, NULL);
	cry_wipe(&p->kept[i], sizeof(p->kept[i]));
	memmove(&p->kept[i], &p->kept[i + 1], (p->n_kept - i - 1) * sizeof(p->kept[0]));
	p->n_kept--;
	cry_wipe(&p->kept[p->n_kept], sizeof(p->kept[0]));
}

static void activate(struct pol_psk *p, uint64_t now, struct pol_psk_out *out)
{
	struct kept *k = &p->kept[p->n_kept++];
	size_t i;

	k->v = p->pend_v;
	memcpy(k->psk, p->pend_psk, PROTO_KEX_PSK_LEN);
	cry_wipe(p->pend_psk, sizeof(p->pend_psk));
	p->pend_v = 0;
	emit(out, POL_PSK_ACT_INSTALL, k->v, k->psk, NULL);
	p->active = k->v;
	p->probation = true;
	p->switch_at = now;
	/* Over the limit: the oldest goes, unless it is the version a revert
	 * would return to (keep >= 2, so another one can go). */
	if (p->n_kept > p->cfg.keep) {
		i = p->kept[0].v == p->working ? 1 : 0;
		drop_kept(p, i, out);
	}
}

static void revert(struct pol_psk *p, uint64_t now, struct pol_psk_out *out)
{
	const struct kept *w = find_kept(p, p->working);
	uint8_t zero[PROTO_KEX_PSK_LEN] = { 0 };
	size_t i;

	emit(out, POL_PSK_ACT_REVERT, p->working, w ? w->psk : zero, NULL);
	for (i = 0; i < p->n_kept; i++)
		if (p->kept[i].v == p->active) {
			drop_kept(p, i, out);
			break;
		}
	p->active = p->working;
	p->probation = false;
	if (p->next_start < now + p->cfg.period)
		p->next_start = now + p->cfg.period;
}

static uint64_t resend_due(const struct pol_psk *p)
{
	return p->ph == IDLE ? UINT64_MAX : p->x_sent + p->cfg.retry;
}

static uint64_t revert_due(const struct pol_psk *p)
{
	if (!p->probation)
		return UINT64_MAX;
	return (p->last_rx > p->switch_at ? p->last_rx : p->switch_at) + p->cfg.revert;
}

static const struct proto_kex *last_sent(struct pol_psk *p)
{
	switch (p->ph) {
	case D_EK_SENT:
		return &p->ek;
	case E_CT_SENT:
		return &p->ct;
	default:
		return &p->ack;
	}
}

static int timers(struct pol_psk *p, uint64_t now, struct pol_psk_out *out)
{
	int ret = 0;

	if (p->late_v && now >= p->late_until)
		drop_late(p);
	if (p->ph != IDLE && now >= p->x_started + p->cfg.timeout) {
		/* Unanswered: give up. The decapsulator starts over at once with
		 * a fresh key (a refused ek ends here too). Without a CT the
		 * encapsulator may never have seen the version: retry it once,
		 * then move on, in case it is ahead of us (state lost here).
		 * Version 1 is retried for ever: its roles differ from the
		 * later ones', and moving on could leave both sides waiting.
		 * After a CT, the next version. The encapsulator waits. */
		if (p->ph == D_EK_SENT && (p->xv == 1 || ++p->x_tries < 2))
			p->max_v = p->xv - 1;
		else
			p->x_tries = 0;
		if (p->ph == D_ACK_SENT) {
			/* The peer confirmed if our ACK reached it: its ACK
			 * may still come, until the peer would revert. */
			p->late_v = p->xv;
			p->late_until = now + p->cfg.activation + p->cfg.revert;
			p->late_ct = p->ct;
			memcpy(p->late_psk, p->xpsk, PROTO_KEX_PSK_LEN);
		}
		if (p->ph != E_CT_SENT)
			p->next_start = now;
		end_exchange(p);
	}
	if (p->ph != IDLE && now >= resend_due(p)) {
		p->x_sent = now;
		emit(out, POL_PSK_ACT_SEND, p->xv, NULL, last_sent(p));
	}
	if (p->ph == IDLE && now >= p->next_start && role_of(p, p->max_v + 1) == POL_PSK_DECAPS)
		ret = start_exchange(p, now, out);
	if (p->pend_v && now >= p->act_at)
		activate(p, now, out);
	if (p->probation && now >= revert_due(p))
		revert(p, now, out);
	return ret;
}

static uint32_t state_of(const struct pol_psk *p)
{
	if (p->active)
		return POL_PSK_STATE_ACTIVE;
	if (p->pend_v)
		return POL_PSK_STATE_CONFIRMED;
	return p->ph != IDLE ? POL_PSK_STATE_EXCHANGE : POL_PSK_STATE_NONE;
}

int pol_psk_step(struct pol_psk *p, uint64_t now, const struct pol_psk_event *ev,
		 struct pol_psk_out *out)
{
	uint32_t st;
	int ret = 0, tret;

	out->n = 0;
	if (now < p->last_now || !ev)
		return -EINVAL;
	p->last_now = now;
	switch (ev->type) {
	case POL_PSK_EV_TICK:
		break;
	case POL_PSK_EV_MSG:
		ret = on_msg(p, now, ev->msg, out);
		break;
	case POL_PSK_EV_RX:
		on_rx(p, now, ev->version);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	tret = timers(p, now, out);
	st = state_of(p);
	if (st != p->state) {
		p->state = st;
		emit(out, POL_PSK_ACT_STATE, 0, NULL, NULL);
		out->a[out->n - 1].state = st;
	}
	return ret ?: tret;
}

uint64_t pol_psk_next_timer(const struct pol_psk *p)
{
	uint64_t t = UINT64_MAX;

	if (p->ph != IDLE) {
		t = SC_MIN(t, p->x_started + p->cfg.timeout);
		t = SC_MIN(t, resend_due(p));
	} else if (role_of(p, p->max_v + 1) == POL_PSK_DECAPS) {
		t = SC_MIN(t, p->next_start);
	}
	if (p->pend_v)
		t = SC_MIN(t, p->act_at);
	return SC_MIN(t, revert_due(p));
}

void pol_psk_status(const struct pol_psk *p, struct pol_psk_status *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	st->state = state_of(p);
	st->exchange = p->ph != IDLE ? p->xv : 0;
	st->next_role = role_of(p, p->ph != IDLE ? p->xv : p->max_v + 1);
	st->pending = p->pend_v;
	st->pending_at = p->pend_v ? p->act_at : 0;
	st->active = p->active;
	st->working = p->working;
	st->n_kept = p->n_kept;
	for (i = 0; i < p->n_kept; i++)
		st->kept[i] = p->kept[i].v;
	st->next_start = p->next_start;
	st->max_v = p->max_v;
	st->confirmed = p->confirmed_v;
}

int pol_psk_new(struct pol_psk **out, const struct pol_psk_config *cfg,
		const struct proto_cert *self, const struct proto_cert *peer, uint64_t self_joined,
		uint64_t peer_joined, const struct sc_env *env, uint64_t now)
{
	struct pol_psk *p;

	if (pol_psk_config_check(cfg) || !env || !env->random ||
	    (cfg->agreed_activation && !env->wall_ns) ||
	    strcmp(self->network, peer->network) != 0 || strcmp(self->name, peer->name) == 0 ||
	    same_key(self->wgkey, peer->wgkey))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->cfg = *cfg;
	p->env = env;
	p->self = *self;
	p->peer = *peer;
	p->self_joined = self_joined;
	p->peer_joined = peer_joined;
	p->last_now = now;
	p->next_start = now;
	*out = p;
	return 0;
}

void pol_psk_free(struct pol_psk *p)
{
	if (!p)
		return;
	cry_wipe(p, sizeof(*p));
	free(p);
}

static int saved_check(const struct pol_psk *p, const struct pol_psk_saved *s)
{
	bool working_kept = s->working == 0;
	size_t i;

	if (s->n > p->cfg.keep || s->confirmed > s->max_v)
		return -EINVAL;
	for (i = 0; i < s->n; i++) {
		if (!s->v[i] || (i && s->v[i] <= s->v[i - 1]) ||
		    cry_is_zero(s->psk[i], PROTO_KEX_PSK_LEN))
			return -EINVAL;
		if (s->v[i] == s->working)
			working_kept = true;
	}
	if (!working_kept || (s->n && s->v[s->n - 1] > s->confirmed))
		return -EINVAL;
	return 0;
}

int pol_psk_restore(struct pol_psk *p, const struct pol_psk_saved *saved)
{
	size_t i;
	int ret;

	if (p->max_v || p->confirmed_v || p->n_kept || p->pend_v || p->ph != IDLE)
		return -EBUSY;
	ret = saved_check(p, saved);
	if (ret)
		return ret;
	for (i = 0; i < saved->n; i++) {
		p->kept[i].v = saved->v[i];
		memcpy(p->kept[i].psk, saved->psk[i], PROTO_KEX_PSK_LEN);
	}
	p->n_kept = saved->n;
	p->active = saved->n ? saved->v[saved->n - 1] : 0;
	p->working = saved->working;
	p->max_v = saved->max_v;
	p->confirmed_v = saved->confirmed;
	p->probation = false;
	return 0;
}
