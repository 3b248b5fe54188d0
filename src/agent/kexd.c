// SPDX-License-Identifier: GPL-2.0-only
#include "agent/kexd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/pskstore.h"
#include "common/compiler.h"
#include "crypto/ct.h"
#include "crypto/x25519.h"
#include "proto/addr.h"

/*
 * The driver around pol_psk (docs/pq.md "The driver"). Per pair it keeps
 * what it programmed into the backend (the kept PSKs as installed, which
 * with the test-only fault is not what the machine holds), mirrors it into
 * the pair's file, and turns backend counters into RX events.
 */

#define POLL_NS	   SC_NSEC_PER_SEC	   /* backend polled at most this often */
#define SESSION_NS (180 * SC_NSEC_PER_SEC) /* WireGuard's REJECT_AFTER_TIME */
#define SENT_MAX   8			   /* records remembered to spot a resend */
#define LINE_MAX   256
/* Refusals are caused by what others send: at most this many log lines a
 * second per kexd, the rest counted. */
#define REFUSED_LOG_PER_SEC 10

struct pair {
	struct proto_cert peer;
	struct pol_psk *p;
	/* As programmed, oldest first; the newest programmed is `active`. */
	struct kexd_store_psk kept[POL_PSK_KEEP_MAX + 1];
	size_t n_kept;
	uint64_t active, prev_active;
	uint64_t switch_ns; /* wall: the last INSTALL or REVERT (or restore) */
	/* What the file holds, to save only on a change. */
	uint64_t saved_max, saved_confirmed, saved_working;
	bool dirty;
	uint32_t state;
	uint64_t reverts, last_revert_s;
	/* The backend, as last polled. */
	bool polled, known;
	uint64_t poll_at, rx_bytes, last_hs;
	bool has_session;
	/* Fingerprints of records sent: the same bytes again are a resend. */
	uint8_t sent[SENT_MAX][PROTO_FP_LEN];
	size_t sent_next, n_sent;
};

struct kexd {
	struct pol_psk_config pcfg;
	bool ring;
	int dfd; /* state_dir/psk, -1: not kept */
	struct proto_cert self;
	uint8_t seed[32];
	const struct sc_env *env;
	uint64_t corrupt_v;
	struct kexd_ops ops;
	void *ctx;
	struct pair **pairs; /* sorted by the peer's WireGuard key */
	size_t n, cap;
	uint64_t log_sec;
	unsigned int log_count, log_suppressed;
};

/* ---- helpers ---- */

static uint64_t wall_now(const struct kexd *kd)
{
	return kd->env->wall_ns ? kd->env->wall_ns(kd->env->ctx) : 0;
}

__attribute__((format(printf, 3, 4))) static void kx_log(struct kexd *kd, bool error,
							 const char *fmt, ...)
{
	char line[LINE_MAX];
	va_list ap;

	if (!kd->ops.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	kd->ops.log(kd->ctx, error, line);
}

static int key_cmp(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, PROTO_KEY_LEN); /* not secret: public keys */
}

/* Index of wg in the sorted pairs, or where it would go (*found false). */
static size_t pair_pos(const struct kexd *kd, const uint8_t *wg, bool *found)
{
	size_t lo = 0, hi = kd->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(kd->pairs[mid]->peer.wgkey, wg);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct pair *pair_find(const struct kexd *kd, const uint8_t *wg)
{
	bool found;
	size_t i = pair_pos(kd, wg, &found);

	return found ? kd->pairs[i] : NULL;
}

static struct kexd_store_psk *kept_find(struct pair *pr, uint64_t v)
{
	size_t i;

	for (i = 0; i < pr->n_kept; i++)
		if (pr->kept[i].version == v)
			return &pr->kept[i];
	return NULL;
}

static void kept_drop(struct pair *pr, size_t i)
{
	cry_wipe(&pr->kept[i], sizeof(pr->kept[i]));
	memmove(&pr->kept[i], &pr->kept[i + 1], (pr->n_kept - i - 1) * sizeof(pr->kept[0]));
	pr->n_kept--;
	cry_wipe(&pr->kept[pr->n_kept], sizeof(pr->kept[0]));
}

static void pair_free(struct pair *pr)
{
	if (!pr)
		return;
	pol_psk_free(pr->p);
	cry_wipe(pr, sizeof(*pr));
	free(pr);
}

/* ---- backend ---- */

/* Program the ring: the active version first, then the other kept ones,
 * newest first (ring backends); the active one only (single-key); nothing
 * at all for version 0, "no PSK". */
static void program(struct kexd *kd, struct pair *pr)
{
	struct kexd_psk ring[POL_PSK_KEEP_MAX];
	const struct kexd_store_psk *a = kept_find(pr, pr->active);
	size_t n = 0, i;
	int ret;

	if (a) {
		ring[n].version = a->version;
		memcpy(ring[n++].key, a->key, PROTO_KEX_PSK_LEN);
	}
	for (i = pr->n_kept; a && kd->ring && i-- > 0 && n < SC_ARRAY_SIZE(ring);) {
		if (pr->kept[i].version == pr->active)
			continue;
		ring[n].version = pr->kept[i].version;
		memcpy(ring[n++].key, pr->kept[i].key, PROTO_KEX_PSK_LEN);
	}
	ret = kd->ops.set_psks(kd->ctx, pr->peer.wgkey, ring, n);
	cry_wipe(ring, sizeof(ring));
	if (ret)
		kx_log(kd, true, "event=psk_program_failed peer=%s version=%llu err=%d",
		       pr->peer.name, (unsigned long long)pr->active, ret);
}

/* A session to the peer exists now: the tunnel can carry KEX messages. */
static bool tunnel_up(struct kexd *kd, const struct pair *pr)
{
	struct kexd_tunnel t;
	uint64_t wall;

	memset(&t, 0, sizeof(t));
	if (kd->ops.tunnel(kd->ctx, pr->peer.wgkey, &t) || !t.known)
		return false;
	if (kd->ring)
		return t.has_session;
	wall = wall_now(kd);
	return t.last_handshake_ns &&
	       (t.last_handshake_ns >= wall || wall - t.last_handshake_ns <= SESSION_NS);
}

/* ---- persistence ---- */

static void save(struct kexd *kd, struct pair *pr)
{
	struct kexd_store_file f;
	struct pol_psk_status st;
	size_t i;
	int ret;

	if (kd->dfd < 0)
		return;
	pol_psk_status(pr->p, &st);
	if (!pr->dirty && st.max_v == pr->saved_max && st.confirmed == pr->saved_confirmed &&
	    st.working == pr->saved_working)
		return;
	pr->dirty = true;
	memset(&f, 0, sizeof(f));
	memcpy(f.wg, pr->peer.wgkey, PROTO_KEY_LEN);
	f.max_v = st.max_v;
	f.confirmed = st.confirmed;
	f.working = st.working;
	/* Only the last `keep`: what the machine keeps (a step may pass
	 * through keep + 1 between INSTALL and RETIRE, never at its end). */
	i = pr->n_kept > kd->pcfg.keep ? pr->n_kept - kd->pcfg.keep : 0;
	for (; i < pr->n_kept; i++)
		f.psk[f.n++] = pr->kept[i];
	ret = kexd_store_save(kd->dfd, pr->peer.name, &f);
	cry_wipe(&f, sizeof(f));
	if (ret) {
		/* Kept dirty: the next step tries again. */
		kx_log(kd, true, "event=psk_save_failed peer=%s err=%d", pr->peer.name, ret);
		return;
	}
	pr->dirty = false;
	pr->saved_max = st.max_v;
	pr->saved_confirmed = st.confirmed;
	pr->saved_working = st.working;
}

/* What the file says, checked and handed to the machine; anything wrong
 * and the file is ignored whole (the pair starts afresh and overwrites it
 * at its first save). */
static void restore(struct kexd *kd, struct pair *pr)
{
	struct kexd_store_file f;
	struct pol_psk_saved sv;
	const char *why = NULL;
	size_t i, skip;
	int ret;

	if (kd->dfd < 0)
		return;
	memset(&sv, 0, sizeof(sv));
	ret = kexd_store_load(kd->dfd, pr->peer.name, &f);
	if (ret == -ENOENT)
		return;
	if (ret) {
		kx_log(kd, true, "event=psk_file_ignored peer=%s reason=%s err=%d", pr->peer.name,
		       ret == -EINVAL  ? "malformed"
		       : ret == -EFBIG ? "too_big"
				       : "io",
		       ret);
		return;
	}
	if (key_cmp(f.wg, pr->peer.wgkey) != 0) {
		why = "other_key";
		goto out;
	}
	/* Fewer versions kept now than when the file was written. */
	skip = f.n > kd->pcfg.keep ? f.n - kd->pcfg.keep : 0;
	sv.max_v = f.max_v;
	sv.confirmed = f.confirmed;
	for (i = skip; i < f.n; i++) {
		sv.v[sv.n] = f.psk[i].version;
		memcpy(sv.psk[sv.n++], f.psk[i].key, PROTO_KEX_PSK_LEN);
		if (f.psk[i].version == f.working)
			sv.working = f.working;
	}
	if (pol_psk_restore(pr->p, &sv)) {
		why = "inconsistent";
		goto out;
	}
	for (i = skip; i < f.n; i++)
		pr->kept[pr->n_kept++] = f.psk[i];
	pr->active = pr->n_kept ? pr->kept[pr->n_kept - 1].version : 0;
	pr->prev_active = pr->n_kept > 1 ? pr->kept[pr->n_kept - 2].version : 0;
	pr->switch_ns = wall_now(kd);
	pr->saved_max = f.max_v;
	pr->saved_confirmed = f.confirmed;
	pr->saved_working = sv.working;
	pr->dirty = skip > 0;
	kx_log(kd, false, "event=psk_restored peer=%s version=%llu kept=%zu max=%llu",
	       pr->peer.name, (unsigned long long)pr->active, pr->n_kept,
	       (unsigned long long)f.max_v);
out:
	if (why)
		kx_log(kd, true, "event=psk_file_ignored peer=%s reason=%s", pr->peer.name, why);
	cry_wipe(&sv, sizeof(sv));
	cry_wipe(&f, sizeof(f));
}

/* ---- actions ---- */

static bool sent_before(struct pair *pr, const uint8_t fp[PROTO_FP_LEN])
{
	size_t i;

	for (i = 0; i < pr->n_sent; i++)
		if (memcmp(pr->sent[i], fp, PROTO_FP_LEN) == 0) /* not secret: public record */
			return true;
	memcpy(pr->sent[pr->sent_next], fp, PROTO_FP_LEN);
	pr->sent_next = (pr->sent_next + 1) % SENT_MAX;
	if (pr->n_sent < SENT_MAX)
		pr->n_sent++;
	return false;
}

/* Sign and send. First copies go in-tunnel when a session exists, else
 * through the mailbox (if there is one); a resend, the same bytes again,
 * goes both ways, so one blocked path only delays the exchange. */
static void do_send(struct kexd *kd, struct pair *pr, const struct proto_kex *msg)
{
	struct proto_kex m = *msg;
	uint8_t buf[PROTO_KEX_RECORD_MAX];
	bool again, tun, mail;
	size_t len;
	int ret = proto_kex_sign(&m, kd->seed);

	if (!ret)
		ret = proto_kex_encode(&m, buf, sizeof(buf), &len);
	if (ret) {
		kx_log(kd, true, "event=kex_send_failed peer=%s type=%s version=%llu err=%d",
		       pr->peer.name, proto_kex_type_name(m.type), (unsigned long long)m.version,
		       ret);
		return;
	}
	again = sent_before(pr, m.fingerprint);
	mail = kd->ops.send_mailbox && (again || !tunnel_up(kd, pr));
	tun = again || !mail;
	if (tun && (ret = kd->ops.send_tunnel(kd->ctx, &pr->peer, buf, len)))
		kx_log(kd, true, "event=kex_send_failed peer=%s type=%s via=tunnel err=%d",
		       pr->peer.name, proto_kex_type_name(m.type), ret);
	if (mail && (ret = kd->ops.send_mailbox(kd->ctx, &pr->peer, buf, len)))
		kx_log(kd, true, "event=kex_send_failed peer=%s type=%s via=mailbox err=%d",
		       pr->peer.name, proto_kex_type_name(m.type), ret);
}

static void do_install(struct kexd *kd, struct pair *pr, const struct pol_psk_action *a)
{
	struct kexd_store_psk *k = kept_find(pr, a->version);
	bool corrupt = kd->corrupt_v && a->version == kd->corrupt_v;

	if (!k) {
		if (pr->n_kept == SC_ARRAY_SIZE(pr->kept))
			kept_drop(pr, 0);
		k = &pr->kept[pr->n_kept++];
	}
	k->version = a->version;
	k->installed_ns = wall_now(kd);
	memcpy(k->key, a->psk, PROTO_KEX_PSK_LEN);
	/* TEST ONLY (the revert test): the backend, and the file, get another
	 * key than the peer's, while the machine holds the right one. */
	if (corrupt)
		k->key[0] ^= 1;
	pr->prev_active = pr->active;
	pr->active = a->version;
	pr->switch_ns = k->installed_ns;
	kx_log(kd, false, "event=psk_install peer=%s version=%llu%s", pr->peer.name,
	       (unsigned long long)a->version, corrupt ? " test_only_corrupted=1" : "");
}

static void do_retire(struct kexd *kd, struct pair *pr, uint64_t v)
{
	size_t i;

	for (i = 0; i < pr->n_kept; i++)
		if (pr->kept[i].version == v) {
			kept_drop(pr, i);
			kx_log(kd, false, "event=psk_retire peer=%s version=%llu", pr->peer.name,
			       (unsigned long long)v);
			return;
		}
}

static void do_revert(struct kexd *kd, struct pair *pr, const struct pol_psk_action *a)
{
	uint64_t wall = wall_now(kd);

	/* The machine reverts only to a version it kept, which is ours too;
	 * should it not be, the machine's key is taken. */
	if (a->version && !kept_find(pr, a->version) && pr->n_kept < SC_ARRAY_SIZE(pr->kept)) {
		struct kexd_store_psk *k = &pr->kept[pr->n_kept++];

		k->version = a->version;
		k->installed_ns = wall;
		memcpy(k->key, a->psk, PROTO_KEX_PSK_LEN);
	}
	kx_log(kd, true, "event=psk_revert peer=%s from=%llu to=%llu", pr->peer.name,
	       (unsigned long long)pr->active, (unsigned long long)a->version);
	pr->prev_active = pr->active;
	pr->active = a->version;
	pr->switch_ns = wall;
	pr->reverts++;
	pr->last_revert_s = wall / SC_NSEC_PER_SEC;
}

/* Ring backends, strict probation: the new newest version is proven only by
 * a session made with it, and the side that activates last must start it.
 * That is the decapsulator of the version: it confirms on the
 * encapsulator's ACK, which the encapsulator sends once it has confirmed,
 * so with local activation the encapsulator always holds v as its newest
 * (and answers with it) by the time the decapsulator's initiation arrives.
 * Had the encapsulator initiated instead, a decapsulator one message
 * latency behind would answer with v - 1; had both, the crossing
 * handshakes could leave either session current. */
static bool starts_session(const struct kexd *kd, const struct pair *pr, uint64_t v)
{
	return pol_psk_role(kd->self.wgkey, pr->peer.wgkey, kd->self.not_before,
			    pr->peer.not_before, v) == POL_PSK_DECAPS;
}

static void run_actions(struct kexd *kd, struct pair *pr, const struct pol_psk_out *out)
{
	bool changed = false, kick = false;
	size_t i;

	for (i = 0; i < out->n; i++) {
		const struct pol_psk_action *a = &out->a[i];

		switch (a->type) {
		case POL_PSK_ACT_SEND:
			do_send(kd, pr, a->msg);
			break;
		case POL_PSK_ACT_INSTALL:
			do_install(kd, pr, a);
			changed = kick = true;
			break;
		case POL_PSK_ACT_RETIRE:
			do_retire(kd, pr, a->version);
			changed = true;
			break;
		case POL_PSK_ACT_REVERT:
			do_revert(kd, pr, a);
			changed = true; /* the session already runs on that version */
			break;
		case POL_PSK_ACT_STATE:
			pr->state = a->state;
			kx_log(kd, false, "event=kex_state peer=%s state=%u", pr->peer.name,
			       a->state);
			break;
		}
	}
	if (changed) {
		pr->dirty = true;
		program(kd, pr);
	}
	/* Strict probation: the new newest version is proven only by a
	 * session made with it, so ask for one now. */
	if (kick && kd->ring && kd->ops.initiate && starts_session(kd, pr, pr->active))
		kd->ops.initiate(kd->ctx, pr->peer.wgkey);
	save(kd, pr);
}

static int step(struct kexd *kd, struct pair *pr, uint64_t now, const struct pol_psk_event *ev)
{
	struct pol_psk_status before, after;
	struct pol_psk_out out;
	int ret;

	pol_psk_status(pr->p, &before);
	ret = pol_psk_step(pr->p, now, ev, &out);
	run_actions(kd, pr, &out);
	pol_psk_status(pr->p, &after);
	if (after.working != before.working && after.working == after.active)
		kx_log(kd, false, "event=psk_proven peer=%s version=%llu", pr->peer.name,
		       (unsigned long long)after.working);
	cry_wipe(&out, sizeof(out));
	if (ret == -EINVAL || ret == -EIO)
		kx_log(kd, true, "event=kex_step_failed peer=%s err=%d", pr->peer.name, ret);
	return ret;
}

/* ---- polling ---- */

static bool on_probation(const struct pair *pr)
{
	struct pol_psk_status st;

	pol_psk_status(pr->p, &st);
	return st.active && st.active != st.working;
}

static void poll_pair(struct kexd *kd, struct pair *pr, uint64_t now)
{
	struct pol_psk_event ev = { .type = POL_PSK_EV_RX };
	struct kexd_tunnel t;
	bool first = !pr->polled, grew, hs;

	if (!first && now < pr->poll_at + POLL_NS)
		return;
	pr->polled = true;
	pr->poll_at = now;
	memset(&t, 0, sizeof(t));
	if (kd->ops.tunnel(kd->ctx, pr->peer.wgkey, &t) || !t.known) {
		pr->known = false;
		return;
	}
	/* Counters start again when the backend re-adds the peer. */
	grew = t.rx_bytes != pr->rx_bytes && t.rx_bytes > 0;
	hs = t.last_handshake_ns != pr->last_hs && t.last_handshake_ns;
	first = first || !pr->known;
	pr->known = true;
	pr->rx_bytes = t.rx_bytes;
	pr->last_hs = t.last_handshake_ns;
	pr->has_session = t.has_session;
	if (first) /* a baseline: when that traffic came is unknown */
		return;
	if (kd->ring) {
		/* On probation without a session on the new version yet (the
		 * first initiation was lost, or rate-limited by the engine:
		 * one per REKEY_TIMEOUT): ask again, once a poll. */
		if (pr->active && (!t.has_session || t.session_version != pr->active) &&
		    kd->ops.initiate && starts_session(kd, pr, pr->active) && on_probation(pr))
			kd->ops.initiate(kd->ctx, pr->peer.wgkey);
		if (!(grew || hs) || !t.has_session)
			return;
		ev.version = t.session_version;
	} else {
		if (!grew)
			return;
		/* The backend switches keys at its next handshake: a session
		 * older than the switch still runs on the previous key. */
		ev.version = t.last_handshake_ns >= pr->switch_ns ? pr->active : pr->prev_active;
	}
	step(kd, pr, now, &ev);
}

/* ---- public ---- */

int kexd_new(const struct kexd_config *cfg, const struct kexd_ops *ops, void *ctx,
	     struct kexd **out)
{
	uint8_t id[PROTO_KEY_LEN];
	struct kexd *kd;
	int ret;

	if (!cfg || !ops || !cfg->self || !cfg->identity_seed || !cfg->env || !cfg->env->random ||
	    !ops->set_psks || !ops->tunnel || !ops->send_tunnel ||
	    pol_psk_config_check(&cfg->psk) || (!cfg->ring && !cfg->env->wall_ns))
		return -EINVAL;
	/* The seed must be the certificate's identity: every message would
	 * fail verification at the peer otherwise. */
	if (cry_ed25519_pubkey(id, cfg->identity_seed) || key_cmp(id, cfg->self->identity) != 0)
		return -EINVAL;
	kd = calloc(1, sizeof(*kd));
	if (!kd)
		return -ENOMEM;
	kd->dfd = -1;
	if (cfg->state_dir) {
		ret = kexd_store_open(cfg->state_dir, &kd->dfd);
		if (ret) {
			free(kd);
			return ret;
		}
	}
	kd->pcfg = cfg->psk;
	kd->pcfg.strict_probation = cfg->ring;
	kd->pcfg.agreed_activation = !cfg->ring;
	kd->ring = cfg->ring;
	kd->self = *cfg->self;
	memcpy(kd->seed, cfg->identity_seed, sizeof(kd->seed));
	kd->env = cfg->env;
	kd->corrupt_v = cfg->test_only_corrupt_version;
	kd->ops = *ops;
	kd->ctx = ctx;
	*out = kd;
	return 0;
}

void kexd_free(struct kexd *kd)
{
	size_t i;

	if (!kd)
		return;
	for (i = 0; i < kd->n; i++)
		pair_free(kd->pairs[i]);
	free(kd->pairs);
	if (kd->dfd >= 0)
		close(kd->dfd);
	cry_wipe(kd, sizeof(*kd));
	free(kd);
}

static void pair_remove_at(struct kexd *kd, size_t i)
{
	pair_free(kd->pairs[i]);
	memmove(&kd->pairs[i], &kd->pairs[i + 1], (kd->n - i - 1) * sizeof(kd->pairs[0]));
	kd->n--;
}

static int pairs_reserve(struct kexd *kd)
{
	struct pair **np;
	size_t cap;

	if (kd->n < kd->cap)
		return 0;
	if (kd->n >= KEXD_PEERS_MAX)
		return -ENOSPC;
	cap = kd->cap ? SC_MIN(2 * kd->cap, (size_t)KEXD_PEERS_MAX) : 16;
	np = realloc(kd->pairs, cap * sizeof(*np));
	if (!np)
		return -ENOMEM;
	kd->pairs = np;
	kd->cap = cap;
	return 0;
}

int kexd_peer_add(struct kexd *kd, const struct proto_cert *peer, uint64_t now)
{
	struct pair *pr;
	bool found;
	size_t i;
	int ret;

	if (strcmp(peer->network, kd->self.network) != 0 ||
	    !proto_peer_name_valid(peer->name, strnlen(peer->name, sizeof(peer->name))) ||
	    strcmp(peer->name, kd->self.name) == 0 || key_cmp(peer->wgkey, kd->self.wgkey) == 0)
		return -EINVAL;
	/* One file per name: two pairs may not share one. */
	for (i = 0; i < kd->n; i++)
		if (strcmp(kd->pairs[i]->peer.name, peer->name) == 0 &&
		    key_cmp(kd->pairs[i]->peer.wgkey, peer->wgkey) != 0)
			return -EEXIST;
	i = pair_pos(kd, peer->wgkey, &found);
	if (found) {
		pr = kd->pairs[i];
		/* A renewed certificate of the same peer: just keep it. Another
		 * name or identity is another pair (its own file, its own
		 * messages): start over. */
		if (strcmp(pr->peer.name, peer->name) == 0 &&
		    key_cmp(pr->peer.identity, peer->identity) == 0) {
			pr->peer = *peer;
			return 0;
		}
		pair_remove_at(kd, i);
	}
	ret = pairs_reserve(kd);
	if (ret)
		return ret;
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return -ENOMEM;
	pr->peer = *peer;
	/* Join time = not_before: signed, the same on both sides. */
	ret = pol_psk_new(&pr->p, &kd->pcfg, &kd->self, peer, kd->self.not_before, peer->not_before,
			  kd->env, now);
	if (ret) {
		free(pr);
		return ret;
	}
	restore(kd, pr);
	i = pair_pos(kd, peer->wgkey, &found);
	memmove(&kd->pairs[i + 1], &kd->pairs[i], (kd->n - i) * sizeof(kd->pairs[0]));
	kd->pairs[i] = pr;
	kd->n++;
	/* Only what was saved: a peer without a file keeps whatever the
	 * backend has (PSK-only mode: the admin's key) until the first
	 * version is installed. */
	if (pr->n_kept)
		program(kd, pr);
	save(kd, pr);
	return 0;
}

int kexd_peer_reapply(struct kexd *kd, const uint8_t wg[PROTO_KEY_LEN])
{
	struct pair *pr = pair_find(kd, wg);

	if (!pr)
		return -ENOENT;
	program(kd, pr);
	return 0;
}

void kexd_peer_remove(struct kexd *kd, const uint8_t wg[PROTO_KEY_LEN])
{
	bool found;
	size_t i = pair_pos(kd, wg, &found);

	if (found)
		pair_remove_at(kd, i);
}

static const char *refusal(int err)
{
	switch (err) {
	case -ENOENT:
		return "no_pair";
	case PROTO_ERR_MALFORMED:
		return "malformed";
	case PROTO_ERR_VERSION:
		return "record_version";
	case PROTO_ERR_TYPE:
		return "record_type";
	case PROTO_ERR_NETWORK:
		return "network";
	case PROTO_ERR_KEX_SENDER:
		return "sender";
	case PROTO_ERR_KEX_RECIPIENT:
		return "recipient";
	case PROTO_ERR_SIG:
		return "signature";
	case PROTO_ERR_KEX_VERSION:
		return "psk_version";
	case PROTO_ERR_KEX_BINDING:
		return "binding";
	case PROTO_ERR_KEX_MAC:
		return "mac";
	case POL_PSK_ERR_ROLE:
		return "role";
	case POL_PSK_ERR_EK_REUSED:
		return "ek_reused";
	case POL_PSK_ERR_NOT_PAIR:
		return "not_pair";
	default:
		return "error";
	}
}

static void log_refused(struct kexd *kd, const struct proto_kex *m, enum kexd_via via, uint64_t now,
			int err)
{
	uint64_t sec = now / SC_NSEC_PER_SEC;

	if (sec != kd->log_sec) {
		if (kd->log_suppressed)
			kx_log(kd, true, "event=kex_refused suppressed=%u", kd->log_suppressed);
		kd->log_sec = sec;
		kd->log_count = kd->log_suppressed = 0;
	}
	if (kd->log_count++ >= REFUSED_LOG_PER_SEC) {
		kd->log_suppressed++;
		return;
	}
	/* Decoded names are [a-z0-9_-]: safe in a log line. */
	kx_log(kd, true, "event=kex_refused peer=%s via=%s type=%s version=%llu reason=%s err=%d",
	       m && m->from[0] ? m->from : "?", via == KEXD_VIA_TUNNEL ? "tunnel" : "mailbox",
	       m ? proto_kex_type_name(m->type) : "?", m ? (unsigned long long)m->version : 0ull,
	       refusal(err), err);
}

int kexd_receive(struct kexd *kd, const uint8_t *rec, size_t len, enum kexd_via via, uint64_t now)
{
	struct pol_psk_event ev = { .type = POL_PSK_EV_MSG };
	struct proto_kex *m = malloc(sizeof(*m));
	struct pair *pr = NULL;
	int ret;

	if (!m)
		return -ENOMEM;
	ret = proto_kex_decode(m, rec, len);
	if (ret) {
		log_refused(kd, NULL, via, now, ret);
		goto out;
	}
	pr = pair_find(kd, m->from_wg);
	ret = pr ? proto_kex_verify(m, &pr->peer, &kd->self) : -ENOENT;
	if (!ret) {
		ev.msg = m;
		ret = step(kd, pr, now, &ev);
	}
	if (ret < 0)
		log_refused(kd, m, via, now, ret);
out:
	free(m);
	return ret;
}

void kexd_tick(struct kexd *kd, uint64_t now)
{
	struct pol_psk_event ev = { .type = POL_PSK_EV_TICK };
	size_t i;

	for (i = 0; i < kd->n; i++) {
		struct pair *pr = kd->pairs[i];

		poll_pair(kd, pr, now);
		if (pol_psk_next_timer(pr->p) <= now)
			step(kd, pr, now, &ev);
		else if (pr->dirty) /* a save that failed before */
			save(kd, pr);
	}
}

uint64_t kexd_next_timer(const struct kexd *kd)
{
	uint64_t t = UINT64_MAX;
	size_t i;

	for (i = 0; i < kd->n; i++)
		t = SC_MIN(t, pol_psk_next_timer(kd->pairs[i]->p));
	return t;
}

static void status_of(const struct kexd *kd, const struct pair *pr, struct kexd_peer_status *out)
{
	const struct kexd_store_psk *a;
	uint64_t wall = wall_now(kd);
	size_t i;

	memset(out, 0, sizeof(*out));
	memcpy(out->name, pr->peer.name, sizeof(out->name));
	memcpy(out->wg, pr->peer.wgkey, PROTO_KEY_LEN);
	pol_psk_status(pr->p, &out->psk);
	if (!pr->known || !pr->last_hs)
		out->classical = 0;
	else if (kd->ring ? pr->has_session
			  : pr->last_hs >= wall || wall - pr->last_hs <= SESSION_NS)
		out->classical = 2;
	else
		out->classical = 1;
	for (i = 0, a = NULL; i < pr->n_kept; i++)
		if (pr->kept[i].version == pr->active)
			a = &pr->kept[i];
	out->active_since_s = a ? a->installed_ns / SC_NSEC_PER_SEC : 0;
	out->reverts = pr->reverts;
	out->last_revert_s = pr->last_revert_s;
}

int kexd_peer_status(const struct kexd *kd, const uint8_t wg[PROTO_KEY_LEN],
		     struct kexd_peer_status *out)
{
	const struct pair *pr = pair_find(kd, wg);

	if (!pr)
		return -ENOENT;
	status_of(kd, pr, out);
	return 0;
}

size_t kexd_peer_count(const struct kexd *kd)
{
	return kd->n;
}

int kexd_peer_status_at(const struct kexd *kd, size_t i, struct kexd_peer_status *out)
{
	if (i >= kd->n)
		return -ENOENT;
	status_of(kd, kd->pairs[i], out);
	return 0;
}
