// SPDX-License-Identifier: GPL-2.0-only
/*
 * The post-quantum key-exchange driver (agent/kexd.h). Two kexd instances,
 * alice and bob, wired back to back in memory on a virtual clock:
 *
 *   alice kexd --send_tunnel / send_mailbox--> queues --kexd_receive--> bob kexd
 *        |                                                                  |
 *   fake backend (ring, session, counters) <-- handshake model --> fake backend
 *
 * The fake backend models the engine's PSK ring: a handshake succeeds iff
 * the initiator's ring holds the responder's newest key (compared by the
 * bytes, so a corrupted key fails), and each side's session is labelled
 * with the version of the key it used. A single-key backend (wireguard-go)
 * uses ring[0] only: a handshake succeeds iff both keys are equal. The
 * mailbox can be blocked, and a compromised registry can corrupt, replay
 * and misdeliver what it relays. State directories are real, under /tmp.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/kexd.h"
#include "agent/pskstore.h"
#include "common/encode.h"
#include "crypto/ct.h"
#include "proto/fixtures.h"

#define S(x)	((uint64_t)(x)*SC_NSEC_PER_SEC)
#define T0	S(1000)
#define WALL0	1750000000ull
#define QMAX	512
#define LOGMAX	4096
#define HIST	128
#define KEEPMAX POL_PSK_KEEP_MAX

/* ---- the world ---- */

struct msg {
	uint8_t buf[PROTO_KEX_RECORD_MAX];
	size_t len;
	uint64_t at;
	int to;
};

struct queue {
	struct msg m[QMAX];
	size_t n;
};

struct world;

struct side {
	struct world *w;
	int idx;
	const char *name;
	struct proto_cert cert;
	uint8_t seed[32];
	uint64_t rng;
	struct sc_env env;
	struct kexd *kd;
	char dir[128];
	uint64_t corrupt;
	/* backend */
	struct kexd_psk ring[KEEPMAX];
	size_t n_ring;
	unsigned int set_calls, initiates;
	bool has_session;
	uint64_t session_version, last_hs, rx_bytes;
	/* every key ever programmed, per version, and when it became newest */
	uint8_t key[HIST][32];
	bool has[HIST], mismatch;
	uint64_t newest_at[HIST];
	uint64_t revert_at, reverts;
	/* transports */
	unsigned int sent_tunnel, sent_mailbox;
	/* log */
	unsigned int logs, refused_logs, ignored_logs, corrupted_logs, install_logs;
	bool secret_in_log;
};

struct world {
	uint64_t now;
	bool ring;
	struct pol_psk_config cfg;
	struct side s[2];
	struct queue tq[2], mq[2]; /* to side i: in-tunnel, mailbox */
	uint64_t latency;
	bool block_tunnel, block_mailbox, no_mailbox, traffic;
	uint64_t hs_every, next_hs; /* single-key: periodic handshakes */
	unsigned int hs_ok, hs_fail;
	/* a compromised registry: percentages */
	unsigned int corrupt, replay, misdeliver;
	uint64_t rng;
	struct msg *reg; /* everything it relayed */
	size_t nreg;
	unsigned int refused, accepted;
	char root[64];
};

static uint64_t w_wall(void *ctx)
{
	const struct side *s = ctx;

	return WALL0 * SC_NSEC_PER_SEC + s->w->now;
}

static int w_random(void *ctx, void *buf, size_t n)
{
	struct side *s = ctx;

	t_rng_fill(&s->rng, buf, n);
	return 0;
}

static struct side *peer_of(struct side *s)
{
	return &s->w->s[1 - s->idx];
}

static const uint8_t *newest_key(const struct side *s)
{
	static const uint8_t zero[32];

	return s->n_ring ? s->ring[0].key : zero;
}

static uint64_t newest_v(const struct side *s)
{
	return s->n_ring ? s->ring[0].version : 0;
}

/* The handshake model (see the top). Returns whether it succeeded. */
static bool handshake(struct world *w, int i)
{
	struct side *ini = &w->s[i], *resp = &w->s[1 - i];
	uint64_t label = 0;
	bool ok = false;
	size_t k;

	if (!w->ring || !ini->n_ring) {
		ok = memcmp(newest_key(ini), newest_key(resp), 32) == 0;
		label = newest_v(ini);
	} else {
		for (k = 0; k < ini->n_ring && !ok; k++)
			if (memcmp(ini->ring[k].key, newest_key(resp), 32) == 0) {
				ok = true;
				label = ini->ring[k].version;
			}
	}
	if (!ok) {
		w->hs_fail++;
		if (getenv("KEXD_TEST_LOG"))
			fprintf(stderr, "# handshake %d failed at %llu\n", i,
				(unsigned long long)((w->now - T0) / SC_NSEC_PER_MSEC));
		return false;
	}
	w->hs_ok++;
	ini->has_session = resp->has_session = true;
	ini->session_version = label;
	resp->session_version = newest_v(resp);
	ini->last_hs = resp->last_hs = w_wall(ini);
	ini->rx_bytes += 92;
	resp->rx_bytes += 148;
	return true;
}

static bool session_alive(const struct world *w, const struct side *s)
{
	if (!s->has_session)
		return false;
	return w->ring || w_wall((void *)s) - s->last_hs <= S(180);
}

/* ---- callbacks ---- */

static int cb_set_psks(void *ctx, const uint8_t wg[32], const struct kexd_psk *ring, size_t n)
{
	struct side *s = ctx;
	size_t i;

	CHECK_MEM(wg, peer_of(s)->cert.wgkey, 32);
	CHECK(n <= KEEPMAX);
	CHECK(s->w->ring || n <= 1);
	if (n > KEEPMAX)
		return -EINVAL;
	s->set_calls++;
	memcpy(s->ring, ring, n * sizeof(*ring));
	s->n_ring = n;
	for (i = 0; i < n; i++) {
		uint64_t v = ring[i].version;

		CHECK(v > 0 && v < HIST);
		if (v >= HIST)
			continue;
		if (s->has[v] && memcmp(s->key[v], ring[i].key, 32) != 0)
			s->mismatch = true;
		memcpy(s->key[v], ring[i].key, 32);
		s->has[v] = true;
	}
	if (n && ring[0].version < HIST && !s->newest_at[ring[0].version])
		s->newest_at[ring[0].version] = s->w->now;
	return 0;
}

static int cb_tunnel(void *ctx, const uint8_t wg[32], struct kexd_tunnel *out)
{
	struct side *s = ctx;

	CHECK_MEM(wg, peer_of(s)->cert.wgkey, 32);
	memset(out, 0, sizeof(*out));
	out->known = true;
	out->last_handshake_ns = s->last_hs;
	out->rx_bytes = s->rx_bytes;
	out->has_session = s->w->ring && s->has_session;
	out->session_version = s->session_version;
	return 0;
}

static void cb_initiate(void *ctx, const uint8_t wg[32])
{
	struct side *s = ctx;

	CHECK(s->w->ring);
	s->initiates++;
	handshake(s->w, s->idx);
}

static void post(struct queue *q, const uint8_t *rec, size_t len, uint64_t at, int to)
{
	CHECK(q->n < QMAX);
	if (q->n >= QMAX)
		return;
	memcpy(q->m[q->n].buf, rec, len);
	q->m[q->n].len = len;
	q->m[q->n].at = at;
	q->m[q->n++].to = to;
}

static int cb_send_tunnel(void *ctx, const struct proto_cert *peer, const uint8_t *rec, size_t len)
{
	struct side *s = ctx;

	CHECK_EQ(strcmp(peer->name, peer_of(s)->name), 0);
	s->sent_tunnel++;
	if (!s->w->block_tunnel)
		post(&s->w->tq[1 - s->idx], rec, len, s->w->now + s->w->latency, 1 - s->idx);
	return 0;
}

static int cb_send_mailbox(void *ctx, const struct proto_cert *peer, const uint8_t *rec, size_t len)
{
	struct side *s = ctx;
	struct world *w = s->w;

	CHECK(!w->no_mailbox);
	s->sent_mailbox++;
	if (w->nreg < LOGMAX) {
		memcpy(w->reg[w->nreg].buf, rec, len);
		w->reg[w->nreg++].len = len;
	}
	if (!w->block_mailbox)
		post(&w->mq[1 - s->idx], rec, len, w->now + w->latency, 1 - s->idx);
	return 0;
}

static void cb_log(void *ctx, bool error, const char *line)
{
	struct side *s = ctx;
	char b64[SC_B64_LEN(32) + 1];
	size_t v;

	s->logs++;
	if (getenv("KEXD_TEST_LOG"))
		fprintf(stderr, "# %s %llu: %s\n", s->name,
			(unsigned long long)((s->w->now - T0) / SC_NSEC_PER_MSEC), line);
	if (strstr(line, "event=kex_refused"))
		s->refused_logs++;
	if (strstr(line, "event=psk_file_ignored"))
		s->ignored_logs++;
	if (strstr(line, "test_only_corrupted=1"))
		s->corrupted_logs++;
	if (strstr(line, "event=psk_install"))
		s->install_logs++;
	if (strstr(line, "event=psk_revert")) {
		s->reverts++;
		s->revert_at = s->w->now;
	}
	/* No key, in any encoding we use, ever reaches a log line. */
	for (v = 0; v < HIST; v++) {
		if (!s->has[v])
			continue;
		sc_b64_encode(b64, s->key[v], 32);
		if (strstr(line, b64))
			s->secret_in_log = true;
	}
}

static const struct kexd_ops ops_full = {
	.set_psks = cb_set_psks,
	.tunnel = cb_tunnel,
	.initiate = cb_initiate,
	.send_tunnel = cb_send_tunnel,
	.send_mailbox = cb_send_mailbox,
	.log = cb_log,
};

/* ---- setting up ---- */

static void mk_side(struct world *w, int idx, const char *name, uint8_t seed0, uint8_t wg0)
{
	struct side *s = &w->s[idx];
	uint8_t admin[32];

	memset(s, 0, sizeof(*s));
	s->w = w;
	s->idx = idx;
	s->name = name;
	fx_cert_fields(&s->cert);
	memset(s->cert.name, 0, sizeof(s->cert.name));
	memcpy(s->cert.name, name, strlen(name));
	fx_seq(s->seed, 32, seed0);
	CHECK_EQ(cry_ed25519_pubkey(s->cert.identity, s->seed), 0);
	fx_seq(s->cert.wgkey, 32, wg0);
	fx_admin_seed(admin);
	CHECK_EQ(proto_cert_sign(&s->cert, admin), 0);
	s->rng = seed0;
	s->env.random = w_random;
	s->env.wall_ns = w_wall;
	s->env.ctx = s;
	snprintf(s->dir, sizeof(s->dir), "%s/%s", w->root, name);
}

static struct world *w_new(bool ring)
{
	struct world *w = calloc(1, sizeof(*w));

	CHECK(w != NULL);
	if (!w)
		abort();
	w->reg = calloc(LOGMAX, sizeof(*w->reg));
	CHECK(w->reg != NULL);
	w->now = T0;
	w->ring = ring;
	w->rng = 0x5eed;
	w->latency = S(1);
	w->traffic = true;
	snprintf(w->root, sizeof(w->root), "/tmp/kexd-test-XXXXXX");
	CHECK(mkdtemp(w->root) != NULL);
	/* alice's WireGuard key (0x41..) is below bob's (0x81..): bob
	 * decapsulates; both certificates have the same not_before. */
	mk_side(w, 0, "alice", 0xa0, 0x41);
	mk_side(w, 1, "bob", 0xb0, 0x81);
	pol_psk_config_default(&w->cfg);
	w->cfg.period = S(40);
	w->cfg.activation = S(5);
	w->cfg.revert = S(15);
	w->cfg.retry = S(2);
	/* four legs, each maybe a retry late (a blocked path) */
	w->cfg.timeout = S(30);
	w->cfg.test_only_short_period = true;
	return w;
}

static int side_start(struct world *w, int i)
{
	struct side *s = &w->s[i];
	struct kexd_config cfg = {
		.psk = w->cfg,
		.ring = w->ring,
		.state_dir = s->dir,
		.self = &s->cert,
		.identity_seed = s->seed,
		.env = &s->env,
		.test_only_corrupt_version = s->corrupt,
	};
	struct kexd_ops ops = ops_full;
	int ret;

	if (!w->ring)
		ops.initiate = NULL;
	if (w->no_mailbox)
		ops.send_mailbox = NULL;
	ret = kexd_new(&cfg, &ops, s, &s->kd);
	if (ret)
		return ret;
	return kexd_peer_add(s->kd, &peer_of(s)->cert, w->now);
}

static void w_start(struct world *w)
{
	CHECK_EQ(side_start(w, 0), 0);
	CHECK_EQ(side_start(w, 1), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void w_free(struct world *w)
{
	kexd_free(w->s[0].kd);
	kexd_free(w->s[1].kd);
	nftw(w->root, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(w->reg);
	free(w);
}

/* ---- running ---- */

static void deliver(struct world *w, int to, const struct msg *m, enum kexd_via via)
{
	int ret = kexd_receive(w->s[to].kd, m->buf, m->len, via, w->now);

	if (ret < 0)
		w->refused++;
	else
		w->accepted++;
}

static unsigned int pct(struct world *w)
{
	return (unsigned int)(t_rng64(&w->rng) % 100);
}

/* Everything due by now, in posting order; the mailbox through the
 * registry's hands. */
static void pump(struct world *w)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct queue *qs[2] = { &w->tq[i], &w->mq[i] };
		int k;

		for (k = 0; k < 2; k++) {
			struct queue *q = qs[k];
			size_t j = 0;

			while (j < q->n) {
				struct msg m;

				if (q->m[j].at > w->now) {
					j++;
					continue;
				}
				m = q->m[j];
				memmove(&q->m[j], &q->m[j + 1], (q->n - j - 1) * sizeof(q->m[0]));
				q->n--;
				if (k == 1 && pct(w) < w->corrupt)
					m.buf[t_rng64(&w->rng) % m.len] ^=
						(uint8_t)(1u << (t_rng64(&w->rng) % 8));
				if (k == 1 && pct(w) < w->misdeliver)
					m.to = 1 - m.to;
				deliver(w, m.to, &m, k == 0 ? KEXD_VIA_TUNNEL : KEXD_VIA_MAILBOX);
				if (k == 1 && w->nreg && pct(w) < w->replay) {
					struct msg *old = &w->reg[t_rng64(&w->rng) % w->nreg];

					old->to = (int)(t_rng64(&w->rng) % 2);
					deliver(w, old->to, old, KEXD_VIA_MAILBOX);
				}
			}
		}
	}
}

static void traffic(struct world *w)
{
	int i;

	if (!w->traffic)
		return;
	if (!w->ring && w->hs_every && w->now >= w->next_hs) {
		handshake(w, (int)((w->now / w->hs_every) % 2));
		w->next_hs = w->now + w->hs_every;
	}
	for (i = 0; i < 2; i++)
		if (session_alive(w, &w->s[i]) && session_alive(w, &w->s[1 - i]))
			w->s[i].rx_bytes += 84;
}

static void run(struct world *w, uint64_t secs)
{
	uint64_t end = w->now + S(secs);

	while (w->now < end) {
		pump(w);
		kexd_tick(w->s[0].kd, w->now);
		kexd_tick(w->s[1].kd, w->now);
		traffic(w);
		w->now += S(1);
	}
}

static void status(const struct side *s, struct kexd_peer_status *st)
{
	CHECK_EQ(kexd_peer_status(s->kd, peer_of((struct side *)s)->cert.wgkey, st), 0);
}

/* Every version both sides programmed has equal keys (except the one a
 * side corrupted on purpose); returns how many. */
static unsigned int agreed(const struct world *w)
{
	unsigned int v, both = 0;

	for (v = 1; v < HIST; v++) {
		if (!w->s[0].has[v] || !w->s[1].has[v])
			continue;
		if (v == w->s[0].corrupt || v == w->s[1].corrupt)
			continue;
		CHECK_MEM(w->s[0].key[v], w->s[1].key[v], 32);
		both++;
	}
	CHECK(!w->s[0].mismatch && !w->s[1].mismatch);
	CHECK(!w->s[0].secret_in_log && !w->s[1].secret_in_log);
	return both;
}

static int load_file(const struct side *s, struct kexd_store_file *f)
{
	char path[256];
	int dfd, ret;

	snprintf(path, sizeof(path), "%s/psk", s->dir);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	ret = kexd_store_load(dfd, peer_of((struct side *)s)->name, f);
	close(dfd);
	return ret;
}

static unsigned int file_mode(const struct side *s, const char *rel)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", s->dir, rel);
	if (stat(path, &st))
		return 0;
	return st.st_mode & 07777;
}

/* The file holds exactly the backend's ring (versions and keys). */
static void check_file_matches(const struct side *s)
{
	struct kexd_store_file f;
	size_t i, k;

	CHECK_EQ(load_file(s, &f), 0);
	CHECK_MEM(f.wg, peer_of((struct side *)s)->cert.wgkey, 32);
	CHECK_EQ(f.n, s->n_ring);
	for (i = 0; i < f.n; i++) {
		bool found = false;

		for (k = 0; k < s->n_ring; k++)
			if (s->ring[k].version == f.psk[i].version) {
				found = true;
				CHECK_MEM(s->ring[k].key, f.psk[i].key, 32);
			}
		CHECK(found);
	}
	cry_wipe(&f, sizeof(f));
}

/* ---- tests ---- */

/* One exchange: equal PSKs in both backends, the files hold them (0600 in
 * a 0700 directory), the status tells version and age. */
static void test_kexd_exchange_and_files(void)
{
	struct world *w = w_new(true);
	struct kexd_peer_status a, b;
	struct kexd_store_file f;

	w->cfg.period = S(3600);
	w_start(w);
	run(w, 30);
	CHECK(w->s[0].has[1] && w->s[1].has[1]);
	CHECK_EQ(agreed(w), 1);
	CHECK(!cry_is_zero(w->s[0].key[1], 32));
	CHECK_EQ(w->s[0].n_ring, 1);
	CHECK_EQ(newest_v(&w->s[0]), 1);
	CHECK_EQ(newest_v(&w->s[1]), 1);
	CHECK_EQ(file_mode(&w->s[0], "psk"), 0700);
	CHECK_EQ(file_mode(&w->s[0], "psk/bob"), 0600);
	CHECK_EQ(file_mode(&w->s[1], "psk/alice"), 0600);
	check_file_matches(&w->s[0]);
	check_file_matches(&w->s[1]);
	CHECK_EQ(load_file(&w->s[0], &f), 0);
	CHECK_EQ(f.max_v, 1);
	CHECK_EQ(f.confirmed, 1);
	CHECK_EQ(f.working, 1); /* the handshake after the switch proved it */
	CHECK_EQ(f.psk[0].installed_ns, WALL0 * SC_NSEC_PER_SEC + w->s[0].newest_at[1]);
	status(&w->s[0], &a);
	status(&w->s[1], &b);
	CHECK_EQ(strcmp(a.name, "bob"), 0);
	CHECK_EQ(a.psk.active, 1);
	CHECK_EQ(a.psk.working, 1);
	CHECK_EQ(a.psk.state, POL_PSK_STATE_ACTIVE);
	CHECK_EQ(a.classical, 2);
	CHECK_EQ(a.active_since_s, WALL0 + w->s[0].newest_at[1] / SC_NSEC_PER_SEC);
	CHECK_EQ(b.active_since_s, WALL0 + w->s[1].newest_at[1] / SC_NSEC_PER_SEC);
	CHECK_EQ(a.reverts + b.reverts, 0);
	/* One handshake was asked for after the switch, by the side that
	 * activates last (the decapsulator), and it proved the version. */
	CHECK_EQ(w->s[0].initiates + w->s[1].initiates, 1);
	CHECK_EQ(kexd_peer_count(w->s[0].kd), 1);
	CHECK_EQ(kexd_peer_status_at(w->s[0].kd, 0, &a), 0);
	CHECK_EQ(kexd_peer_status_at(w->s[0].kd, 1, &a), -ENOENT);
	cry_wipe(&f, sizeof(f));
	w_free(w);
}

/* A short period: versions advance, both backends agree on every one,
 * only `keep` are programmed and on disk, nothing reverts. */
static void test_kexd_rotation_keeps_three(void)
{
	struct world *w = w_new(true);
	struct kexd_peer_status a, b;
	struct kexd_store_file f;

	w_start(w);
	run(w, 8 * 40 + 20);
	status(&w->s[0], &a);
	status(&w->s[1], &b);
	CHECK(a.psk.active >= 7);
	CHECK_EQ(a.psk.active, b.psk.active);
	CHECK_EQ(agreed(w), a.psk.active);
	CHECK_EQ(w->s[0].n_ring, 3);
	CHECK_EQ(w->s[1].n_ring, 3);
	CHECK_EQ(newest_v(&w->s[0]), a.psk.active);
	CHECK_EQ(load_file(&w->s[0], &f), 0);
	CHECK_EQ(f.n, 3);
	CHECK_EQ(f.psk[2].version, a.psk.active);
	CHECK_EQ(f.psk[0].version, a.psk.active - 2);
	check_file_matches(&w->s[0]);
	check_file_matches(&w->s[1]);
	CHECK_EQ(a.reverts + b.reverts + w->s[0].reverts + w->s[1].reverts, 0);
	/* Only the first switch costs a failed handshake (the old session
	 * goes on): the first initiator's ring does not hold "no PSK". */
	CHECK(w->hs_fail <= 1);
	cry_wipe(&f, sizeof(f));
	w_free(w);
}

/* A restart restores the ring from the file at once (same versions, same
 * keys, same age) and continues with higher versions. bob (the
 * decapsulator) restarts between exchanges: no version is lost. alice
 * restarts while a confirmed version waits for activation: that version
 * is lost on her side (only installed versions are saved), bob's strict
 * probation reverts it, and the next version is agreed again. */
static void test_kexd_restart(void)
{
	struct world *w = w_new(true);
	struct kexd_peer_status before, after, other;
	struct kexd_psk ring[KEEPMAX];
	uint64_t lost;
	size_t n, i;
	int k;

	w_start(w);
	run(w, 3 * 40);
	for (k = 1; k >= 0; k--) {
		struct side *s = &w->s[k];

		/* bob: quiet; alice: a version confirmed and pending */
		for (;;) {
			status(&w->s[0], &before);
			status(&w->s[1], &other);
			if (k == 1 ? !before.psk.pending && !other.psk.pending &&
					     !before.psk.exchange && !other.psk.exchange
				   : before.psk.pending != 0)
				break;
			run(w, 1);
		}
		status(s, &before);
		lost = before.psk.pending;
		CHECK(before.psk.active >= 3);
		n = s->n_ring;
		memcpy(ring, s->ring, sizeof(ring));
		kexd_free(s->kd);
		s->kd = NULL;
		s->n_ring = 0; /* the backend lost its keys too */
		s->set_calls = 0;
		CHECK_EQ(side_start(w, k), 0);
		CHECK_EQ(s->set_calls, 1);
		CHECK_EQ(s->n_ring, n);
		for (i = 0; i < n; i++) {
			CHECK_EQ(s->ring[i].version, ring[i].version);
			CHECK_MEM(s->ring[i].key, ring[i].key, 32);
		}
		status(s, &after);
		CHECK_EQ(after.psk.active, before.psk.active);
		CHECK_EQ(after.psk.working, before.psk.working);
		CHECK_EQ(after.psk.max_v, before.psk.max_v);
		CHECK_EQ(after.active_since_s, before.active_since_s);
		CHECK_EQ(after.psk.pending, 0);
		run(w, 100);
		status(s, &after);
		status(peer_of(s), &other);
		CHECK(after.psk.active > before.psk.max_v);
		CHECK_EQ(after.psk.active, other.psk.active);
		if (k == 1) {
			CHECK_EQ(agreed(w), after.psk.active);
			CHECK_EQ(w->s[0].reverts + w->s[1].reverts, 0);
		} else {
			CHECK(lost > 0 && !s->has[lost] && w->s[1].has[lost]);
			CHECK_EQ(agreed(w), after.psk.active - 1);
			CHECK_EQ(w->s[1].reverts, 1);
			CHECK_EQ(w->s[0].reverts, 0);
		}
	}
	w_free(w);
}

/* The kexd_receive result of every record ever sent by side `from` of the
 * reg log is irrelevant here; counts of the transports are. */
static void test_kexd_transports(void)
{
	struct world *w;
	struct kexd_peer_status a;

	/* A session exists: the whole exchange goes in-tunnel. */
	w = w_new(true);
	w->cfg.period = S(3600);
	w_start(w);
	CHECK(handshake(w, 0));
	run(w, 20);
	CHECK(w->s[0].has[1] && w->s[1].has[1]);
	CHECK(w->s[0].sent_tunnel >= 2 && w->s[1].sent_tunnel >= 2);
	CHECK_EQ(w->s[0].sent_mailbox + w->s[1].sent_mailbox, 0);
	CHECK_EQ(agreed(w), 1);
	w_free(w);

	/* A session, but the tunnel path drops KEX messages: every retry goes
	 * both ways and the mailbox copies complete the exchange. */
	w = w_new(true);
	w->cfg.period = S(3600);
	w_start(w);
	CHECK(handshake(w, 0));
	w->block_tunnel = true;
	run(w, 30);
	CHECK(w->s[0].has[1] && w->s[1].has[1]);
	CHECK_EQ(agreed(w), 1);
	CHECK(w->s[0].sent_mailbox > 0 && w->s[1].sent_mailbox > 0);
	/* only resends took the mailbox, and each also went in-tunnel */
	CHECK(w->s[1].sent_mailbox < w->s[1].sent_tunnel);
	CHECK(w->s[0].sent_mailbox < w->s[0].sent_tunnel);
	w_free(w);

	/* No session: the mailbox alone carries it (tunnel blocked too). */
	w = w_new(true);
	w->cfg.period = S(3600);
	w->traffic = false;
	w_start(w);
	w->block_tunnel = true;
	run(w, 4);
	CHECK_EQ(w->s[0].sent_tunnel + w->s[1].sent_tunnel, 0);
	CHECK(w->s[1].sent_mailbox >= 1);
	run(w, 20);
	CHECK(w->s[0].has[1] && w->s[1].has[1]);
	CHECK_EQ(agreed(w), 1);
	status(&w->s[0], &a);
	CHECK_EQ(a.psk.active, 1);
	w_free(w);

	/* No session and no registry: in-tunnel anyway. */
	w = w_new(true);
	w->cfg.period = S(3600);
	w->no_mailbox = true;
	w->traffic = false;
	w_start(w);
	run(w, 20);
	CHECK(w->s[0].has[1] && w->s[1].has[1]);
	CHECK(w->s[1].sent_tunnel >= 2);
	CHECK_EQ(w->s[0].sent_mailbox + w->s[1].sent_mailbox, 0);
	w_free(w);

	/* A blocked mailbox and no session: the first copy is lost, the
	 * resend goes in-tunnel too and gets through. */
	w = w_new(true);
	w->cfg.period = S(3600);
	w->traffic = false;
	w_start(w);
	w->block_mailbox = true;
	run(w, 30);
	CHECK(w->s[0].has[1] && w->s[1].has[1]);
	CHECK_EQ(agreed(w), 1);
	w_free(w);
}

/* Sign m as `by` and encode it. */
static size_t forge(const struct proto_kex *m, const uint8_t seed[32], uint8_t *buf)
{
	struct proto_kex c = *m;
	size_t len = 0;

	CHECK_EQ(proto_kex_sign(&c, seed), 0);
	CHECK_EQ(proto_kex_encode(&c, buf, PROTO_KEX_RECORD_MAX, &len), 0);
	return len;
}

/* A compromised registry: swaps, replays, corrupts and sends messages back
 * to their sender; a third peer signs messages as itself or forges bob's.
 * Every one of them is refused or ignored, the keys never differ, nothing
 * reverts, and rotation goes on (only slower). */
static void test_kexd_compromised_registry(void)
{
	struct world *w = w_new(true);
	struct kexd_peer_status a, b;
	struct proto_kex m;
	struct proto_cert carol;
	uint8_t buf[PROTO_KEX_RECORD_MAX], cseed[32], admin[32];
	size_t len, i;
	int ret;

	w->corrupt = 15;
	w->replay = 30;
	w->misdeliver = 10;
	w_start(w);
	w->block_tunnel = true; /* every KEX message crosses the registry */
	run(w, 600);
	status(&w->s[0], &a);
	status(&w->s[1], &b);
	fprintf(stderr, "# compromised: active %llu, refused %u, accepted %u, mail %u\n",
		(unsigned long long)a.psk.active, w->refused, w->accepted, (unsigned int)w->nreg);
	CHECK(w->refused >= 20);
	CHECK(w->s[0].refused_logs + w->s[1].refused_logs > 0);
	CHECK(a.psk.active >= 5);
	CHECK(agreed(w) >= 5);
	CHECK_EQ(w->s[0].reverts + w->s[1].reverts, 0);
	CHECK(w->hs_fail <= 1);

	/* One by one, on a relayed message of bob's: */
	for (i = 0; i < w->nreg; i++)
		if (proto_kex_decode(&m, w->reg[i].buf, w->reg[i].len) == 0 &&
		    strcmp(m.from, "bob") == 0)
			break;
	CHECK(i < w->nreg);
	/* a bit flipped in the signature */
	memcpy(buf, w->reg[i].buf, w->reg[i].len);
	buf[w->reg[i].len - 1] ^= 0x10;
	ret = kexd_receive(w->s[0].kd, buf, w->reg[i].len, KEXD_VIA_MAILBOX, w->now);
	CHECK_EQ(ret, PROTO_ERR_SIG);
	/* sent back to its sender: bob has no pair with itself */
	ret = kexd_receive(w->s[1].kd, w->reg[i].buf, w->reg[i].len, KEXD_VIA_MAILBOX, w->now);
	CHECK_EQ(ret, -ENOENT);
	/* replayed to alice: an old version */
	ret = kexd_receive(w->s[0].kd, w->reg[i].buf, w->reg[i].len, KEXD_VIA_MAILBOX, w->now);
	CHECK(ret == PROTO_ERR_KEX_VERSION || ret == POL_PSK_ERR_EK_REUSED ||
	      ret == POL_PSK_DUPLICATE);
	/* truncated */
	ret = kexd_receive(w->s[0].kd, w->reg[i].buf, w->reg[i].len - 7, KEXD_VIA_MAILBOX, w->now);
	CHECK_EQ(ret, PROTO_ERR_MALFORMED);
	/* carol, a third peer of the network, signs bob's message with her key */
	fx_seq(cseed, 32, 0xc0);
	{
		struct proto_kex c = m;

		CHECK_EQ(cry_ed25519_pubkey(c.from_id, cseed), 0);
		CHECK_EQ(proto_kex_sign(&c, cseed), 0);
		memcpy(c.from_id, m.from_id, 32); /* claims to be bob's again */
		CHECK_EQ(proto_kex_encode(&c, buf, sizeof(buf), &len), 0);
		CHECK_EQ(kexd_receive(w->s[0].kd, buf, len, KEXD_VIA_MAILBOX, w->now),
			 PROTO_ERR_SIG);
	}
	/* ...or as herself: alice has no pair with carol */
	fx_cert_fields(&carol);
	memset(carol.name, 0, sizeof(carol.name));
	memcpy(carol.name, "carol", 5);
	CHECK_EQ(cry_ed25519_pubkey(carol.identity, cseed), 0);
	fx_seq(carol.wgkey, 32, 0xc1);
	fx_admin_seed(admin);
	CHECK_EQ(proto_cert_sign(&carol, admin), 0);
	memcpy(m.from, "carol", 6);
	memcpy(m.from_id, carol.identity, 32);
	memcpy(m.from_wg, carol.wgkey, 32);
	len = forge(&m, cseed, buf);
	CHECK_EQ(kexd_receive(w->s[0].kd, buf, len, KEXD_VIA_MAILBOX, w->now), -ENOENT);
	/* bob's genuine message to alice, redirected to another key of hers */
	CHECK_EQ(proto_kex_decode(&m, w->reg[i].buf, w->reg[i].len), 0);
	m.to_wg[0] ^= 1;
	len = forge(&m, w->s[1].seed, buf);
	CHECK_EQ(kexd_receive(w->s[0].kd, buf, len, KEXD_VIA_MAILBOX, w->now),
		 PROTO_ERR_KEX_RECIPIENT);
	/* none of it changed anything */
	status(&w->s[0], &b);
	CHECK_EQ(b.psk.active, a.psk.active);
	CHECK_EQ(agreed(w) >= 5, 1);
	w_free(w);
}

/* The revert test: alice installs a wrong key for version 2 (the test-only
 * fault); no handshake proves version 2 on either side, so within `revert`
 * of their own switch both go back to version 1, the failed version is
 * retired, and rotation continues. */
static void test_kexd_revert_corrupt(void)
{
	struct world *w = w_new(true);
	struct kexd_store_file f;
	struct kexd_peer_status a, b;
	int i;

	w->s[0].corrupt = 2;
	w_start(w);
	while (!w->s[0].has[2] && w->now < T0 + S(200))
		run(w, 1);
	CHECK(w->s[0].has[2]);
	CHECK_EQ(w->s[0].corrupted_logs, 1);
	/* the file holds the fault too */
	CHECK_EQ(load_file(&w->s[0], &f), 0);
	CHECK_EQ(f.psk[f.n - 1].version, 2);
	CHECK_MEM(f.psk[f.n - 1].key, w->s[0].key[2], 32);
	cry_wipe(&f, sizeof(f));
	run(w, 30);
	CHECK(w->s[1].has[2]);
	CHECK(memcmp(w->s[0].key[2], w->s[1].key[2], 32) != 0);
	for (i = 0; i < 2; i++) {
		struct side *s = &w->s[i];

		CHECK_EQ(s->reverts, 1);
		CHECK(s->revert_at > s->newest_at[2]);
		CHECK(s->revert_at <= s->newest_at[2] + w->cfg.revert + S(1));
		CHECK_EQ(newest_v(s), 1);
		CHECK_EQ(s->n_ring, 1); /* version 2 retired */
		check_file_matches(s);
	}
	status(&w->s[0], &a);
	status(&w->s[1], &b);
	CHECK_EQ(a.psk.active, 1);
	CHECK_EQ(b.psk.active, 1);
	CHECK_EQ(a.reverts, 1);
	CHECK(a.last_revert_s >= WALL0);
	/* the pair keeps a working tunnel on version 1 and rotates on */
	CHECK(handshake(w, 0));
	CHECK(handshake(w, 1));
	run(w, 80);
	status(&w->s[0], &a);
	CHECK(a.psk.active >= 3);
	CHECK_EQ(agreed(w) >= 2, 1);
	CHECK_EQ(w->s[0].reverts + w->s[1].reverts, 2);
	w_free(w);
}

/* A single-key backend (wireguard-go): only the newest key is programmed,
 * and both sides switch at one agreed instant although they confirm 3 s
 * apart; periodic handshakes never fail and traffic never stops. */
static void test_kexd_single_key_agreed(void)
{
	struct world *w = w_new(false);
	struct kexd_peer_status a, b;
	bool seen_pending = false;
	uint64_t v, end;

	w->latency = S(3);
	w->hs_every = S(7);
	w->cfg.period = S(60);
	w_start(w);
	end = w->now + S(4 * 60 + 30);
	while (w->now < end) {
		run(w, 1);
		status(&w->s[0], &a);
		status(&w->s[1], &b);
		if (a.psk.pending && b.psk.pending) {
			CHECK_EQ(a.psk.pending_at, b.psk.pending_at);
			seen_pending = true;
		}
	}
	CHECK(seen_pending);
	CHECK(a.psk.active >= 4);
	CHECK_EQ(a.psk.active, b.psk.active);
	for (v = 1; v <= a.psk.active; v++) {
		CHECK(w->s[0].newest_at[v] != 0);
		CHECK_EQ(w->s[0].newest_at[v], w->s[1].newest_at[v]);
	}
	CHECK_EQ(agreed(w), a.psk.active);
	CHECK_EQ(w->s[0].n_ring, 1);
	CHECK_EQ(w->s[0].initiates + w->s[1].initiates, 0);
	CHECK_EQ(w->hs_fail, 0);
	CHECK(w->hs_ok > 30);
	CHECK_EQ(w->s[0].reverts + w->s[1].reverts, 0);
	/* traffic on sessions made after each switch proved the versions */
	CHECK(a.psk.working >= a.psk.active - 1);
	w_free(w);
}

/* Write text as side s's file for its peer. */
static void put_file(const struct side *s, const char *text, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/psk", s->dir);
	mkdir(s->dir, 0700);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/psk/%s", s->dir, peer_of((struct side *)s)->name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* A valid file for side s's peer, with peer key wg. */
static size_t good_file(const uint8_t wg[32], char *out, size_t cap)
{
	struct kexd_store_file f;
	size_t len = 0;

	memset(&f, 0, sizeof(f));
	memcpy(f.wg, wg, 32);
	f.max_v = 7;
	f.confirmed = 6;
	f.working = 5;
	f.n = 2;
	f.psk[0].version = 5;
	f.psk[0].installed_ns = 1;
	fx_seq(f.psk[0].key, 32, 0x55);
	f.psk[1].version = 6;
	f.psk[1].installed_ns = (WALL0 - 100) * SC_NSEC_PER_SEC;
	fx_seq(f.psk[1].key, 32, 0x66);
	CHECK_EQ(kexd_store_format(&f, out, cap, &len), 0);
	return len;
}

/* A malformed or foreign file is ignored whole (logged, nothing
 * programmed, version 1 next) and replaced at the first save; a good one
 * is restored. */
static void test_kexd_bad_files(void)
{
	static const struct {
		const char *from, *to;
	} edits[] = {
		{ "scope-psk 1", "scope-psk 2" },
		{ "max 7", "max 07" },
		{ "max 7", "max -7" },
		{ "working 5", "working 4" },
		{ "confirmed 6", "confirmed 5" },
		{ "confirmed 6", "confirmed 8" },
		{ "psk 6", "psk 5" },
		{ "psk 5 1", "psk 5  1" },
		{ "\nworking", "\nworking 5\nworking" },
		{ "=\npsk 6", "x\npsk 6" },
	};
	char text[KEXD_STORE_FILE_MAX], bad[KEXD_STORE_FILE_MAX + 64];
	struct kexd_peer_status a;
	struct world *w;
	size_t len, i, k;
	uint8_t other[32];

	for (i = 0; i < SC_ARRAY_SIZE(edits) + 4; i++) {
		w = w_new(true);
		len = good_file(w->s[1].cert.wgkey, text, sizeof(text));
		memcpy(bad, text, len);
		if (i < SC_ARRAY_SIZE(edits)) {
			char *p = strstr(text, edits[i].from);
			size_t fl = strlen(edits[i].from), tl = strlen(edits[i].to);

			CHECK(p != NULL);
			if (!p)
				continue;
			k = (size_t)(p - text);
			memcpy(bad + k, edits[i].to, tl);
			memcpy(bad + k + tl, p + fl, len - k - fl);
			len = len - fl + tl;
		} else if (i == SC_ARRAY_SIZE(edits)) {
			/* another peer key: a file of a previous bob */
			fx_seq(other, 32, 0x90);
			len = good_file(other, bad, sizeof(bad));
		} else if (i == SC_ARRAY_SIZE(edits) + 1) {
			len -= 3; /* truncated: the last line without its end */
		} else if (i == SC_ARRAY_SIZE(edits) + 2) {
			bad[len++] = '\n'; /* an empty line at the end */
		} else {
			memset(bad, 'A', sizeof(bad)); /* over the size cap */
			len = sizeof(bad);
		}
		put_file(&w->s[0], bad, len);
		w->s[0].set_calls = 0;
		CHECK_EQ(side_start(w, 0), 0);
		CHECK_EQ(side_start(w, 1), 0);
		CHECK_EQ(w->s[0].ignored_logs, 1);
		CHECK_EQ(w->s[0].set_calls, 0);
		status(&w->s[0], &a);
		CHECK_EQ(a.psk.active, 0);
		CHECK_EQ(a.psk.max_v, 0);
		run(w, 20);
		CHECK(w->s[0].has[1] && w->s[1].has[1]);
		CHECK_EQ(agreed(w), 1);
		check_file_matches(&w->s[0]);
		w_free(w);
	}

	/* The good file: restored and programmed at once. */
	w = w_new(true);
	len = good_file(w->s[1].cert.wgkey, text, sizeof(text));
	put_file(&w->s[0], text, len);
	CHECK_EQ(side_start(w, 0), 0);
	CHECK_EQ(w->s[0].ignored_logs, 0);
	CHECK_EQ(w->s[0].set_calls, 1);
	CHECK_EQ(w->s[0].n_ring, 2);
	CHECK_EQ(newest_v(&w->s[0]), 6);
	CHECK_EQ(w->s[0].ring[1].version, 5);
	status(&w->s[0], &a);
	CHECK_EQ(a.psk.active, 6);
	CHECK_EQ(a.psk.working, 5);
	CHECK_EQ(a.psk.max_v, 7);
	CHECK_EQ(a.active_since_s, WALL0 - 100);
	w_free(w);

	/* A directory in the file's place is ignored too. */
	w = w_new(true);
	{
		char path[256];

		snprintf(path, sizeof(path), "%s", w->s[0].dir);
		mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/psk", w->s[0].dir);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/psk/bob", w->s[0].dir);
		mkdir(path, 0700);
	}
	CHECK_EQ(side_start(w, 0), 0);
	CHECK_EQ(w->s[0].ignored_logs, 1);
	CHECK_EQ(file_mode(&w->s[0], "psk"), 0700); /* tightened */
	w_free(w);
}

/* The store's own round trip and refusals. */
static void test_kexd_store_format(void)
{
	struct kexd_store_file f, g;
	char text[KEXD_STORE_FILE_MAX];
	uint8_t wg[32];
	size_t len, cut;

	fx_seq(wg, 32, 0x81);
	len = good_file(wg, text, sizeof(text));
	CHECK(len > 0);
	CHECK(strncmp(text, "scope-psk 1\npeer ", 17) == 0);
	CHECK_EQ(kexd_store_parse(text, len, &f), 0);
	CHECK_EQ(f.n, 2);
	CHECK_EQ(f.max_v, 7);
	CHECK_EQ(f.psk[1].installed_ns, (WALL0 - 100) * SC_NSEC_PER_SEC);
	CHECK_MEM(f.wg, wg, 32);
	/* every truncation is refused, except at a line end that leaves a
	 * shorter valid file (no psk line, or the first only) */
	for (cut = 0; cut < len; cut++) {
		int r = kexd_store_parse(text, cut, &g);

		if (r == 0)
			CHECK(text[cut - 1] == '\n' && g.n < 2);
	}
	/* format refuses what parse would */
	g = f;
	g.psk[1].version = 5;
	CHECK_EQ(kexd_store_format(&g, text, sizeof(text), &len), -EINVAL);
	g = f;
	memset(g.psk[0].key, 0, 32);
	CHECK_EQ(kexd_store_format(&g, text, sizeof(text), &len), -EINVAL);
	g = f;
	g.n = POL_PSK_KEEP_MAX + 1;
	CHECK_EQ(kexd_store_format(&g, text, sizeof(text), &len), -EINVAL);
	CHECK_EQ(kexd_store_format(&f, text, 40, &len), -ENOBUFS);
	CHECK_EQ(kexd_store_parse("", 0, &g), -EINVAL);
	cry_wipe(&f, sizeof(f));
	cry_wipe(&g, sizeof(g));
}

/* Construction and peer management refusals; reapply and remove. */
static void test_kexd_api(void)
{
	struct world *w = w_new(true);
	struct kexd_config cfg = {
		.psk = w->cfg,
		.ring = true,
		.state_dir = w->s[0].dir,
		.self = &w->s[0].cert,
		.identity_seed = w->s[0].seed,
		.env = &w->s[0].env,
	};
	struct kexd_ops ops = ops_full;
	struct kexd *kd = NULL;
	struct kexd_peer_status st;
	struct proto_cert c;
	uint8_t admin[32];

	fx_admin_seed(admin);
	cfg.identity_seed = w->s[1].seed; /* not alice's identity */
	CHECK_EQ(kexd_new(&cfg, &ops, &w->s[0], &kd), -EINVAL);
	cfg.identity_seed = w->s[0].seed;
	cfg.psk.keep = 1;
	CHECK_EQ(kexd_new(&cfg, &ops, &w->s[0], &kd), -EINVAL);
	cfg.psk = w->cfg;
	ops.set_psks = NULL;
	CHECK_EQ(kexd_new(&cfg, &ops, &w->s[0], &kd), -EINVAL);
	ops = ops_full;
	cfg.ring = false;
	w->s[0].env.wall_ns = NULL; /* a single-key backend needs the wall clock */
	CHECK_EQ(kexd_new(&cfg, &ops, &w->s[0], &kd), -EINVAL);
	w->s[0].env.wall_ns = w_wall;
	cfg.ring = true;
	CHECK(kd == NULL);
	kexd_free(NULL);
	CHECK_EQ(kexd_new(&cfg, &ops, &w->s[0], &w->s[0].kd), 0);
	kd = w->s[0].kd;
	/* peers: not itself, same network, one pair per name */
	CHECK_EQ(kexd_peer_add(kd, &w->s[0].cert, w->now), -EINVAL);
	c = w->s[1].cert;
	memcpy(c.network, "other", 6);
	CHECK_EQ(kexd_peer_add(kd, &c, w->now), -EINVAL);
	CHECK_EQ(kexd_peer_add(kd, &w->s[1].cert, w->now), 0);
	CHECK_EQ(kexd_peer_add(kd, &w->s[1].cert, w->now), 0); /* again: no change */
	CHECK_EQ(kexd_peer_count(kd), 1);
	c = w->s[1].cert;
	fx_seq(c.wgkey, 32, 0x99);
	CHECK_EQ(proto_cert_sign(&c, admin), 0);
	CHECK_EQ(kexd_peer_add(kd, &c, w->now), -EEXIST);
	CHECK_EQ(kexd_peer_count(kd), 1);
	/* unknown peers */
	CHECK_EQ(kexd_peer_status(kd, c.wgkey, &st), -ENOENT);
	CHECK_EQ(kexd_peer_reapply(kd, c.wgkey), -ENOENT);
	kexd_peer_remove(kd, c.wgkey);
	CHECK_EQ(kexd_peer_count(kd), 1);
	/* a renewed certificate keeps the pair */
	c = w->s[1].cert;
	c.not_after += 1000;
	CHECK_EQ(proto_cert_sign(&c, admin), 0);
	CHECK_EQ(kexd_peer_add(kd, &c, w->now), 0);
	CHECK_EQ(kexd_peer_count(kd), 1);
	/* with bob running, reapply programs the ring again */
	CHECK_EQ(side_start(w, 1), 0);
	run(w, 20);
	CHECK(w->s[0].has[1]);
	w->s[0].set_calls = 0;
	w->s[0].n_ring = 0;
	CHECK_EQ(kexd_peer_reapply(kd, w->s[1].cert.wgkey), 0);
	CHECK_EQ(w->s[0].set_calls, 1);
	CHECK_EQ(newest_v(&w->s[0]), 1);
	/* removal stops the pair; the file stays */
	kexd_peer_remove(kd, w->s[1].cert.wgkey);
	CHECK_EQ(kexd_peer_count(kd), 0);
	CHECK_EQ(kexd_next_timer(kd), UINT64_MAX);
	CHECK_EQ(file_mode(&w->s[0], "psk/bob"), 0600);
	w_free(w);
}

static const struct t_case cases[] = {
	T(test_kexd_exchange_and_files),
	T(test_kexd_rotation_keeps_three),
	T(test_kexd_restart),
	T(test_kexd_transports),
	T(test_kexd_compromised_registry),
	T(test_kexd_revert_corrupt),
	T(test_kexd_single_key_agreed),
	T(test_kexd_bad_files),
	T(test_kexd_store_format),
	T(test_kexd_api),
};

int main(void)
{
	return t_main("agent-kexd", cases, SC_ARRAY_SIZE(cases));
}
