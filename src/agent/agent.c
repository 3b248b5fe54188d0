// SPDX-License-Identifier: GPL-2.0-only
#include "agent/agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <unistd.h>
#include <time.h>

#include "agent/cache.h"
#include "agent/ctlsock.h"
#include "agent/kexd.h"
#include "agent/mailbox.h"
#include "agent/nl.h"
#include "agent/nlmon.h"
#include "agent/peer.h"
#include "agent/pq.h"
#include "agent/pqstatus.h"
#include "agent/regclient.h"
#include "crypto/ct.h"
#include "io/engine.h"
#include "io/env.h"
#include "wg/limits.h"
#include "policy/star.h"
#include "proto/kill.h"
#include "proto/record.h"
#include "proto/revoke.h"

/* Back-off while the registry is unreachable, seconds. */
#define BACKOFF_MIN 1
#define BACKOFF_MAX 30
/* A long poll waits this long, so the thread notices a stop within it. */
#define POLL_TIMEOUT 5

/* What the registry thread hands to the loop. */
struct msg {
	struct msg *next;
	enum { MSG_LIST, MSG_EVENTS, MSG_KILL, MSG_UNREACHABLE, MSG_REVOKE } type;
	struct regclient_peers list;	/* MSG_LIST */
	struct regclient_events events; /* MSG_EVENTS */
	uint8_t *kill; /* MSG_KILL: raw record, not verified; MSG_REVOKE: raw list */
	size_t kill_len;
};

static void msg_free(struct msg *m)
{
	if (m->type == MSG_LIST)
		regclient_peers_clear(&m->list);
	else if (m->type == MSG_EVENTS)
		regclient_events_clear(&m->events);
	free(m->kill);
	free(m);
}

struct agent {
	struct agent_params p;
	struct proto_netdef net;
	struct proto_cert cert;
	uint8_t *cert_raw;
	uint8_t identity[32], wg_private[32];
	struct proto_endpoint *endpoints;
	char *ifname, *state_dir, *url;

	struct loop *loop;
	struct engine *eng;
	struct nl *nl;
	struct nlmon *nlmon; /* address changes; NULL: not watched */
	int ifindex;
	bool killed;

	/* Verified peers, by name. */
	struct agent_peer *peers;
	size_t n_peers, cap_peers;
	/* What is applied to the engine and the kernel now. */
	struct pol_star *applied;

	struct agent_ctlsock *ctl;
	/* Post-quantum PSK rotation: the driver on this loop, and the
	 * registry mailbox thread (NULL if it could not start). */
	struct agent_pq *pq;
	struct agent_mailbox *mailbox;
	struct sc_env env;
	int report_fd;		   /* periodic report to the registry */
	struct agent_cache *cache; /* NULL: no state directory usable */
	uint64_t version;	   /* registry version of the peer set */
	/* The newest revocation list adopted (loop's copy, verified), and the
	 * registry thread's own copy, which its client checks documents with. */
	struct proto_revoke *rl;
	struct proto_revoke *thread_rl;
	/* A node with nothing cached configures its peers only once the
	 * registry has answered (or is known to be away): its master learns
	 * about it from the same join, and a first handshake sent before that
	 * would be dropped and retried only REKEY_TIMEOUT later. */
	bool awaiting_registry;
	/* One-shot timer: a peer added with an endpoint that has no session a
	 * moment later gets its handshake sent again (see on_nudge). */
	int nudge_fd;
	unsigned int nudge_round; /* retries so far since the last addition */

	/* Registry thread. */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	bool stop;	      /* under lock */
	bool reg_ok;	      /* under lock: the last registry call worked */
	uint64_t reg_contact; /* under lock: wall time of the last answer, 0 never */
	uint64_t kill_serial;
	struct msg *head; /* under lock */
	struct msg **tail;
};

static void logf_(const struct agent *a, enum agent_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_(const struct agent *a, enum agent_log_level lvl, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!a->p.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	a->p.log(a->p.log_ctx, lvl, line);
}

static uint64_t wall_s(void)
{
	return (uint64_t)time(NULL);
}

/* ---- peers ---------------------------------------------------------------- */

/* Peers are kept sorted by name: look-ups are binary searches, so a master
 * with thousands of edges does not scan the list for each of them. Returns
 * the index of name, or -(insertion point) - 1. */
static ssize_t peer_find(const struct agent *a, const char *name)
{
	size_t lo = 0, hi = a->n_peers;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(a->peers[mid].name, name);

		if (!c)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(ssize_t)lo - 1;
}

static ssize_t peer_index(const struct agent *a, const char *name)
{
	ssize_t i = peer_find(a, name);

	return i >= 0 ? i : -1;
}

/* Take ownership of *p (cleared in the caller's copy). */
static int peer_upsert(struct agent *a, struct agent_peer *p)
{
	ssize_t i = peer_find(a, p->name);
	size_t at;

	if (i >= 0) {
		/* A registry could replay an older signed record of the peer
		 * (roll its endpoints back): the newest one seen stays. */
		if (p->signed_at < a->peers[i].signed_at) {
			logf_(a, AGENT_LOG_ERROR, "subsys=agent event=stale_record_ignored peer=%s",
			      p->name);
			agent_peer_clear(p);
			return 0;
		}
		agent_peer_clear(&a->peers[i]);
		a->peers[i] = *p;
	} else {
		if (a->n_peers == a->cap_peers) {
			size_t cap = a->cap_peers ? 2 * a->cap_peers : 16;
			struct agent_peer *n = realloc(a->peers, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			a->peers = n;
			a->cap_peers = cap;
		}
		at = (size_t)(-i - 1);
		memmove(&a->peers[at + 1], &a->peers[at], (a->n_peers - at) * sizeof(*a->peers));
		a->peers[at] = *p;
		a->n_peers++;
	}
	memset(p, 0, sizeof(*p));
	return 0;
}

static void peer_remove(struct agent *a, const char *name)
{
	ssize_t i = peer_index(a, name);

	if (i < 0)
		return;
	agent_peer_clear(&a->peers[i]);
	memmove(&a->peers[i], &a->peers[i + 1], (a->n_peers - (size_t)i - 1) * sizeof(*a->peers));
	a->n_peers--;
}

static void peers_clear(struct agent *a)
{
	for (size_t i = 0; i < a->n_peers; i++)
		agent_peer_clear(&a->peers[i]);
	a->n_peers = 0;
}

/* ---- applying the star ---------------------------------------------------- */

static void node_of_peer(const struct agent_peer *p, struct pol_star_node *n)
{
	memset(n, 0, sizeof(*n));
	memcpy(n->name, p->name, sizeof(n->name));
	n->role = p->role;
	memcpy(n->wgkey, p->cert.wgkey, sizeof(n->wgkey));
	memcpy(n->addr4, p->cert.addr4, 4);
	memcpy(n->addr6, p->cert.addr6, 16);
	n->n_subnets = p->cert.n_subnets;
	n->subnets = p->cert.subnets;
	n->n_endpoints =
		p->n_endpoints < POL_STAR_MAX_ENDPOINTS ? p->n_endpoints : POL_STAR_MAX_ENDPOINTS;
	n->endpoints = p->endpoints;
}

static void self_node(const struct agent *a, struct pol_star_node *n)
{
	memset(n, 0, sizeof(*n));
	memcpy(n->name, a->cert.name, sizeof(n->name));
	n->role = a->p.role;
	memcpy(n->wgkey, a->cert.wgkey, sizeof(n->wgkey));
	memcpy(n->addr4, a->cert.addr4, 4);
	memcpy(n->addr6, a->cert.addr6, 16);
	n->n_subnets = a->cert.n_subnets;
	n->subnets = a->cert.subnets;
	n->n_endpoints = a->p.n_endpoints;
	n->endpoints = a->endpoints;
}

static void prefix_to_nl(const struct proto_prefix *p, struct nl_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->family = p->family == 4 ? AF_INET : AF_INET6;
	memcpy(out->addr, p->addr, p->family == 4 ? 4 : 16);
	out->len = p->len;
}

static void endpoint_to_wg(const struct proto_endpoint *e, struct wg_endpoint *w)
{
	memset(w, 0, sizeof(*w));
	if (e->family == 4) {
		w->addr.in4.sin_family = AF_INET;
		w->addr.in4.sin_port = htons(e->port);
		memcpy(&w->addr.in4.sin_addr, e->addr, 4);
	} else {
		w->addr.in6.sin6_family = AF_INET6;
		w->addr.in6.sin6_port = htons(e->port);
		memcpy(&w->addr.in6.sin6_addr, e->addr, 16);
	}
}

static int apply_peer(struct agent *a, const struct pol_star_change *c)
{
	const struct pol_star_wgpeer *p = c->peer;
	struct wg_allowedip *aips = NULL;
	struct wg_peer_config cfg = { .flags = WG_PEER_HAS_PUBLIC_KEY };
	struct wg_peer *wp;
	int r;

	memcpy(cfg.public_key, p->key, WG_KEY_LEN);
	if (c->op == POL_STAR_REMOVE) {
		wp = wg_dev_find_peer(engine_dev(a->eng), p->key);
		if (wp)
			wg_dev_remove_peer(engine_dev(a->eng), wp);
		if (a->pq)
			agent_pq_peer_remove(a->pq, p->key);
		return 0;
	}
	if (c->op == POL_STAR_ADD || (c->changed & POL_STAR_CH_ALLOWED)) {
		aips = calloc(p->n_allowed ? p->n_allowed : 1, sizeof(*aips));
		if (!aips)
			return -ENOMEM;
		for (size_t i = 0; i < p->n_allowed; i++) {
			aips[i].family = p->allowed[i].family == 4 ? AF_INET : AF_INET6;
			memcpy(&aips[i].addr, p->allowed[i].addr,
			       p->allowed[i].family == 4 ? 4 : 16);
			aips[i].cidr = p->allowed[i].len;
		}
		cfg.flags |= WG_PEER_REPLACE_ALLOWEDIPS;
		cfg.allowedips = aips;
		cfg.n_allowedips = p->n_allowed;
	}
	if (p->has_endpoint && (c->op == POL_STAR_ADD || (c->changed & POL_STAR_CH_ENDPOINT))) {
		cfg.flags |= WG_PEER_HAS_ENDPOINT;
		endpoint_to_wg(&p->endpoint, &cfg.endpoint);
	}
	cfg.flags |= WG_PEER_HAS_PERSISTENT_KEEPALIVE;
	cfg.persistent_keepalive = p->keepalive;
	r = wg_dev_set_peer(engine_dev(a->eng), io_now_ns(), &cfg, engine_sink(a->eng), NULL);
	free(aips);
	return r;
}

static void apply_routes(struct agent *a, const struct pol_star_diff *d)
{
	for (size_t i = 0; i < d->n_routes; i++) {
		struct nl_prefix np;
		int r;

		prefix_to_nl(&d->routes[i].prefix, &np);
		r = d->routes[i].add ? nl_route_add(a->nl, a->ifindex, &np)
				     : nl_route_del(a->nl, a->ifindex, &np);
		if (r && !(r == -ESRCH && !d->routes[i].add))
			logf_(a, AGENT_LOG_ERROR, "subsys=agent event=route_failed err=\"%s\"",
			      strerror(-r));
	}
}

/* A node and its master usually learn about each other from the registry
 * within milliseconds, but when the edge's first initiation wins that race
 * the master drops it, and WireGuard would retry only REKEY_TIMEOUT (5 s)
 * later. So a peer added with an endpoint that has no session NUDGE_MS
 * after is configured afresh, which sends a new initiation at once; again
 * after 1 s and 2 s if needed (NUDGE_ROUNDS in all). After that the
 * protocol's own timers rule. */
#define NUDGE_MS     500
#define NUDGE_ROUNDS 3

static void nudge_arm(struct agent *a)
{
	/* 0.5 s, 1 s, 2 s after the addition, while the master may still be
	 * catching up (a loaded machine, a slow registry). */
	long ms = (long)NUDGE_MS << a->nudge_round;
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (ms % 1000) * 1000000L } };

	if (a->nudge_fd >= 0)
		timerfd_settime(a->nudge_fd, 0, &its, NULL);
}

static int apply_peer(struct agent *a, const struct pol_star_change *c);

static void on_nudge(void *ctx, int fd, uint32_t events)
{
	struct agent *a = ctx;
	uint64_t ticks;
	bool again = false;

	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0 || !a->applied || !a->eng)
		return;
	for (size_t i = 0; i < a->applied->n_peers; i++) {
		const struct pol_star_wgpeer *w = &a->applied->peers[i];
		const struct pol_star_change add = { .op = POL_STAR_ADD, .peer = w };
		struct wg_peer *wp = wg_dev_find_peer(engine_dev(a->eng), w->key);
		struct wg_peer_info info;

		if (!w->has_endpoint || !wp)
			continue;
		wg_peer_get_info(wp, &info);
		if (info.has_session || info.last_handshake_ns)
			continue;
		wg_dev_remove_peer(engine_dev(a->eng), wp);
		again = true;
		if (!apply_peer(a, &add)) {
			/* A fresh engine peer has no PSKs: give it the kept ones. */
			if (a->pq)
				agent_pq_peer_reapply(a->pq, w->key);
			logf_(a, AGENT_LOG_INFO, "subsys=agent event=handshake_nudge peer=%s",
			      w->name);
		}
	}
	engine_kick(a->eng);
	if (again && ++a->nudge_round < NUDGE_ROUNDS)
		nudge_arm(a);
}

/* Every connected peer whose certificate we hold exchanges PQ keys with us
 * (a known pair only gets its certificate refreshed). A peer configured
 * from the network definition alone waits until its document arrives. */
static void pq_follow(struct agent *a, const struct pol_star *star)
{
	ssize_t i;
	int r;

	if (!a->pq)
		return;
	for (size_t k = 0; k < star->n_peers; k++) {
		i = peer_index(a, star->peers[k].name);
		if (i < 0 || !cry_memeq(a->peers[i].cert.wgkey, star->peers[k].key, WG_KEY_LEN))
			continue;
		r = agent_pq_peer_add(a->pq, &a->peers[i].cert);
		if (r)
			logf_(a, AGENT_LOG_ERROR,
			      "subsys=pq event=peer_add_failed peer=%s err=\"%s\"",
			      star->peers[k].name, strerror(-r));
	}
}

/* Compute the star from the verified peers and apply what changed. */
static void reconcile(struct agent *a)
{
	struct pol_star_node self, *nodes = NULL;
	struct pol_star_input in = { .net = &a->net, .self = &self, .keepalive = a->p.keepalive };
	struct pol_star *star = NULL;
	struct pol_star_diff *diff = NULL;
	int r;

	if (a->killed || a->awaiting_registry)
		return;
	self_node(a, &self);
	nodes = calloc(a->n_peers ? a->n_peers : 1, sizeof(*nodes));
	if (!nodes)
		goto oom;
	for (size_t i = 0; i < a->n_peers; i++)
		node_of_peer(&a->peers[i], &nodes[i]);
	in.peers = nodes;
	in.n_peers = a->n_peers;
	r = pol_star_compute(&in, &star);
	if (r) {
		logf_(a, AGENT_LOG_ERROR, "subsys=agent event=policy_failed err=\"%s\"",
		      strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < star->n_refused; i++)
		logf_(a, AGENT_LOG_ERROR, "subsys=agent event=peer_refused peer=%s reason=%s",
		      star->refused[i].name, pol_star_refusal_name(star->refused[i].why));
	if (pol_star_diff(a->applied, star, &diff))
		goto oom;
	for (size_t i = 0; i < diff->n_changes; i++) {
		if (diff->changes[i].op == POL_STAR_ADD && diff->changes[i].peer->has_endpoint) {
			a->nudge_round = 0;
			nudge_arm(a);
		}
		r = apply_peer(a, &diff->changes[i]);
		if (r)
			logf_(a, AGENT_LOG_ERROR,
			      "subsys=agent event=peer_apply_failed peer=%s err=\"%s\"",
			      diff->changes[i].peer->name, strerror(-r));
		else
			logf_(a, AGENT_LOG_INFO, "subsys=agent event=peer_%s peer=%s",
			      diff->changes[i].op == POL_STAR_ADD      ? "added"
			      : diff->changes[i].op == POL_STAR_UPDATE ? "updated"
								       : "removed",
			      diff->changes[i].peer->name);
	}
	apply_routes(a, diff);
	pq_follow(a, star);
	engine_kick(a->eng);
	pol_star_diff_free(diff);
	pol_star_free(a->applied);
	a->applied = star;
	star = NULL;
	goto out;
oom:
	logf_(a, AGENT_LOG_ERROR, "subsys=agent event=out_of_memory");
out:
	pol_star_free(star);
	free(nodes);
}

/* ---- kill switch ---------------------------------------------------------- */

/* Take the node down for good (until the daemon restarts). */
static void go_down(struct agent *a, uint64_t serial)
{
	static const uint8_t zero[WG_KEY_LEN];

	a->killed = true;
	a->kill_serial = serial;
	agent_pq_free(a->pq);
	a->pq = NULL;
	if (a->cache)
		agent_cache_save_kill_serial(a->cache, serial);
	wg_dev_remove_all_peers(engine_dev(a->eng));
	wg_dev_set_private_key(engine_dev(a->eng), zero);
	engine_free(a->eng); /* closes the TUN: the interface and its routes go */
	a->eng = NULL;
	cry_wipe(a->wg_private, sizeof(a->wg_private));
	logf_(a, AGENT_LOG_ERROR, "subsys=agent event=killed serial=%llu",
	      (unsigned long long)serial);
}

/* A kill record from the registry or the config: obeyed only if the admin
 * signed it for this network and it names this node (or all). Returns true
 * if the node went down. */
static bool consider_kill(struct agent *a, const uint8_t *rec, size_t len, const char *from)
{
	struct proto_kill k;
	int r;

	r = proto_kill_decode(&k, rec, len);
	if (!r)
		r = proto_kill_verify(&k, &a->net);
	if (r) {
		logf_(a, AGENT_LOG_ERROR, "subsys=agent event=kill_ignored from=%s reason=\"%s\"",
		      from, proto_strerror(r));
		return false;
	}
	if (!proto_kill_applies(&k, a->cert.name, a->cert.identity)) {
		logf_(a, AGENT_LOG_INFO, "subsys=agent event=kill_not_for_us from=%s", from);
		return false;
	}
	if (!a->killed)
		go_down(a, k.serial);
	return true;
}

/* ---- registry thread ------------------------------------------------------ */

static bool stopping(struct agent *a)
{
	bool s;

	pthread_mutex_lock(&a->lock);
	s = a->stop;
	pthread_mutex_unlock(&a->lock);
	return s;
}

static void set_contact(struct agent *a, bool ok)
{
	pthread_mutex_lock(&a->lock);
	a->reg_ok = ok;
	if (ok)
		a->reg_contact = wall_s();
	pthread_mutex_unlock(&a->lock);
}

static void post(struct agent *a, struct msg *m)
{
	set_contact(a, true);
	pthread_mutex_lock(&a->lock);
	*a->tail = m;
	a->tail = &m->next;
	pthread_mutex_unlock(&a->lock);
	loop_wake(a->loop);
}

/* Tell the loop the registry is away (it stops waiting for a first list). */
static void post_unreachable(struct agent *a)
{
	struct msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->type = MSG_UNREACHABLE;
	pthread_mutex_lock(&a->lock);
	*a->tail = m;
	a->tail = &m->next;
	pthread_mutex_unlock(&a->lock);
	loop_wake(a->loop);
}

/* Sleep s seconds in small steps, so a stop is seen quickly. */
static void nap(struct agent *a, unsigned int s)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };

	for (unsigned int i = 0; i < s * 10 && !stopping(a); i++)
		nanosleep(&ts, NULL);
}

static int fetch_list(struct agent *a, struct regclient *rc, uint64_t *cursor)
{
	struct msg *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->type = MSG_LIST;
	r = regclient_peers(rc, 0, wall_s(), &m->list);
	if (r) {
		free(m);
		return r;
	}
	*cursor = m->list.version;
	post(a, m);
	return 0;
}

static void fetch_revocations(struct agent *a, struct regclient *rc);

static int follow_events(struct agent *a, struct regclient *rc, uint64_t *cursor)
{
	while (!stopping(a)) {
		struct msg *m = calloc(1, sizeof(*m));
		int r;

		if (!m)
			return -ENOMEM;
		m->type = MSG_EVENTS;
		r = regclient_events(rc, *cursor, POLL_TIMEOUT, wall_s(), &m->events);
		if (r) {
			free(m);
			return r;
		}
		if (m->events.expired) {
			msg_free(m);
			return -ESTALE;
		}
		*cursor = m->events.cursor;
		/* A revocation shows as a leave: fetch the new list before
		 * anything else, so a replay of the revoked peer is refused. */
		for (size_t i = 0; i < m->events.n; i++)
			if (m->events.ev[i].type == RC_EV_LEAVE &&
			    !strcmp(m->events.ev[i].reason, "revoked")) {
				fetch_revocations(a, rc);
				break;
			}
		if (m->events.n) {
			post(a, m);
		} else {
			set_contact(a, true);
			msg_free(m);
		}
	}
	return 0;
}

static struct proto_revoke *revoke_parse(const struct agent *a, const uint8_t *raw, size_t len);

/* The registry's revocation list, if newer than the thread's: adopted for
 * the client's checks at once, and handed to the loop. */
static void fetch_revocations(struct agent *a, struct regclient *rc)
{
	struct proto_revoke *rl;
	struct msg *m;
	uint8_t *raw = NULL;
	size_t len = 0;

	if (regclient_get_revocations(rc, &raw, &len))
		return;
	rl = revoke_parse(a, raw, len);
	if (!rl || (a->thread_rl && proto_revoke_replaces(a->thread_rl, rl))) {
		proto_revoke_free(rl);
		free(raw);
		return;
	}
	proto_revoke_free(a->thread_rl);
	a->thread_rl = rl;
	regclient_set_revocations(rc, rl);
	m = calloc(1, sizeof(*m));
	if (!m) {
		free(raw);
		return;
	}
	m->type = MSG_REVOKE;
	m->kill = raw;
	m->kill_len = len;
	post(a, m);
}

/* A kill switch stored while this node was away. */
static void fetch_kill(struct agent *a, struct regclient *rc)
{
	struct msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->type = MSG_KILL;
	if (regclient_get_kill(rc, &m->kill, &m->kill_len)) {
		free(m);
		return;
	}
	post(a, m);
}

static void on_refused(void *ctx, const char *peer, int err, const char *why)
{
	const struct agent *a = ctx;

	logf_(a, AGENT_LOG_ERROR,
	      "subsys=registry event=document_refused peer=%s err=%d why=\"%s\"", peer ? peer : "?",
	      err, why);
}

static void *registry_main(void *arg)
{
	struct agent *a = arg;
	unsigned int backoff = BACKOFF_MIN;

	while (!stopping(a)) {
		struct regclient *rc = NULL;
		uint64_t version = 0, cursor = 0;
		int r = regclient_new(a->url, &a->net, a->identity, &rc);

		if (!r) {
			regclient_set_refuse_cb(rc, on_refused, a);
			regclient_set_revocations(rc, a->thread_rl);
		}
		if (!r)
			r = regclient_join(rc, a->cert_raw, a->p.cert_len, a->p.role, a->endpoints,
					   a->p.n_endpoints, &version);
		if (!r) {
			logf_(a, AGENT_LOG_INFO, "subsys=registry event=joined version=%llu",
			      (unsigned long long)version);
			backoff = BACKOFF_MIN;
			if (a->mailbox) /* messages may have waited while we were away */
				agent_mailbox_poke(a->mailbox);
			fetch_kill(a, rc);
			fetch_revocations(a, rc);
			r = fetch_list(a, rc, &cursor);
		}
		if (!r)
			r = follow_events(a, rc, &cursor);
		regclient_free(rc);
		if (stopping(a))
			break;
		set_contact(a, false);
		post_unreachable(a);
		logf_(a, AGENT_LOG_ERROR, "subsys=registry event=unreachable err=\"%s\" retry_s=%u",
		      strerror(r < 0 ? -r : r), backoff);
		nap(a, backoff);
		backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
	}
	return NULL;
}

/* ---- loop side ------------------------------------------------------------ */

static int cmp_peer_name(const void *name, const void *peer)
{
	return strcmp(name, ((const struct agent_peer *)peer)->name);
}

static void take_list(struct agent *a, struct regclient_peers *l)
{
	a->version = l->version;
	/* A full list replaces the view: who is absent goes; who is present is
	 * upserted (so an older record than held still loses). */
	for (size_t i = 0; l->full && i < a->n_peers;) {
		/* The list is sorted by name (regclient.h). */
		if (bsearch(a->peers[i].name, l->peers, l->n, sizeof(*l->peers), cmp_peer_name))
			i++;
		else
			peer_remove(a, a->peers[i].name);
	}
	for (size_t i = 0; i < l->n_left; i++)
		peer_remove(a, l->left[i]);
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->peers[i].name, a->cert.name))
			peer_upsert(a, &l->peers[i]);
	if (l->refused)
		logf_(a, AGENT_LOG_ERROR, "subsys=registry event=documents_refused count=%zu",
		      l->refused);
}

static void take_events(struct agent *a, struct regclient_events *e)
{
	a->version = e->cursor;
	for (size_t i = 0; i < e->n && !a->killed; i++) {
		struct regclient_event *ev = &e->ev[i];

		switch (ev->type) {
		case RC_EV_JOIN:
		case RC_EV_MOVE:
			if (strcmp(ev->doc.name, a->cert.name))
				peer_upsert(a, &ev->doc);
			break;
		case RC_EV_LEAVE:
			peer_remove(a, ev->peer);
			break;
		case RC_EV_KILL:
			consider_kill(a, ev->kill, ev->kill_len, "registry");
			break;
		case RC_EV_KEX:
			if (a->mailbox && !strcmp(ev->peer, a->cert.name))
				agent_mailbox_poke(a->mailbox);
			break;
		default:
			break;
		}
	}
}

/* Decode and verify a revocation list; NULL if it is not good for us. */
static struct proto_revoke *revoke_parse(const struct agent *a, const uint8_t *raw, size_t len)
{
	struct proto_revoke *rl = NULL;

	if (proto_revoke_decode(&rl, raw, len) || proto_revoke_verify(rl, &a->net)) {
		proto_revoke_free(rl);
		return NULL;
	}
	return rl;
}

/* Adopt a newer revocation list: keep it, persist it, and drop every held
 * peer whose certificate it revokes (a registry that keeps serving them
 * cannot bring them back: documents are verified against it). */
static void adopt_revocations(struct agent *a, const uint8_t *raw, size_t len, const char *from)
{
	struct proto_revoke *rl = revoke_parse(a, raw, len);
	uint64_t now = wall_s();

	if (!rl) {
		logf_(a, AGENT_LOG_ERROR, "subsys=agent event=revocations_refused from=%s", from);
		return;
	}
	if (a->rl && proto_revoke_replaces(a->rl, rl)) {
		proto_revoke_free(rl); /* not newer than what we hold */
		return;
	}
	proto_revoke_free(a->rl);
	a->rl = rl;
	if (a->cache && strcmp(from, "cache"))
		agent_cache_save_revocations(a->cache, raw, len);
	for (size_t i = 0; i < a->n_peers;) {
		if (proto_cert_verify(&a->peers[i].cert, &a->net, a->rl, now) == 0) {
			i++;
			continue;
		}
		logf_(a, AGENT_LOG_INFO, "subsys=agent event=peer_revoked peer=%s",
		      a->peers[i].name);
		peer_remove(a, a->peers[i].name);
	}
	logf_(a, AGENT_LOG_INFO, "subsys=agent event=revocations_adopted from=%s entries=%zu", from,
	      proto_revoke_count(a->rl));
}

/* The verified view, so a restart while the registry is away still comes
 * up with every peer (DESIGN.md section 5). */
static void save_cache(struct agent *a)
{
	int r;

	if (!a->cache || a->killed)
		return;
	r = agent_cache_save(a->cache, a->peers, a->n_peers, a->version, a->version);
	if (r)
		logf_(a, AGENT_LOG_ERROR, "subsys=cache event=save_failed err=\"%s\"",
		      strerror(-r));
}

static void on_cache_refused(void *ctx, const char *peer, int err, const char *why)
{
	const struct agent *a = ctx;

	logf_(a, AGENT_LOG_ERROR, "subsys=cache event=entry_refused peer=%s err=%d why=\"%s\"",
	      peer ? peer : "?", err, why);
}

static void load_cache(struct agent *a)
{
	struct agent_cache_peers cp = { 0 };
	int r;

	a->awaiting_registry = true;
	r = agent_cache_open(a->state_dir, &a->net, &a->cache);
	if (r) {
		logf_(a, AGENT_LOG_ERROR, "subsys=cache event=unusable dir=%s err=\"%s\"",
		      a->state_dir, strerror(-r));
		return;
	}
	agent_cache_set_refuse_cb(a->cache, on_cache_refused, a);
	{
		uint8_t *raw = NULL;
		size_t len = 0;

		if (agent_cache_revocations(a->cache, &raw, &len) == 0) {
			adopt_revocations(a, raw, len, "cache");
			if (a->rl)
				a->thread_rl = revoke_parse(a, raw, len);
		}
		free(raw);
	}
	r = agent_cache_load(a->cache, a->rl, wall_s(), &cp);
	if (r) {
		if (r != -ENOENT)
			logf_(a, AGENT_LOG_ERROR, "subsys=cache event=load_failed err=\"%s\"",
			      strerror(-r));
		return;
	}
	a->version = cp.version;
	a->awaiting_registry = false;
	for (size_t i = 0; i < cp.n; i++)
		if (strcmp(cp.peers[i].name, a->cert.name))
			peer_upsert(a, &cp.peers[i]);
	logf_(a, AGENT_LOG_INFO, "subsys=cache event=loaded peers=%zu refused=%zu", a->n_peers,
	      cp.refused);
	agent_cache_peers_clear(&cp);
}

static void on_wake(void *ctx)
{
	struct agent *a = ctx;
	struct msg *m;

	pthread_mutex_lock(&a->lock);
	m = a->head;
	a->head = NULL;
	a->tail = &a->head;
	pthread_mutex_unlock(&a->lock);
	agent_pq_drain_mailbox(a->pq);
	if (!m)
		return;
	a->awaiting_registry = false;
	while (m) {
		struct msg *next = m->next;

		if (m->type == MSG_LIST)
			take_list(a, &m->list);
		else if (m->type == MSG_EVENTS)
			take_events(a, &m->events);
		else if (m->type == MSG_KILL && !a->killed)
			consider_kill(a, m->kill, m->kill_len, "registry");
		else if (m->type == MSG_REVOKE)
			adopt_revocations(a, m->kill, m->kill_len, "registry");
		msg_free(m);
		m = next;
	}
	reconcile(a);
	save_cache(a);
}

/* ---- status (scopectl status) ---------------------------------------------- */

static uint8_t role_of(const struct agent *a, const struct pol_star_wgpeer *w)
{
	for (size_t i = 0; i < a->net.n_relays; i++)
		if (cry_memeq(a->net.relays[i].wgkey, w->key, WG_KEY_LEN))
			return PROTO_ROLE_MASTER;
	ssize_t i = peer_index(a, w->name);

	return i >= 0 ? a->peers[i].role : 0;
}

/* The KEX driver's view of the peer (scopectl status: PSK version, age). */
static void status_pq(struct agent *a, const struct pol_star_wgpeer *w, uint64_t now,
		      struct agent_status_peer *sp)
{
	struct kexd_peer_status ks;

	if (a->pq && !kexd_peer_status(agent_pq_kexd(a->pq), w->key, &ks))
		agent_pqstatus_peer(sp, &ks, now);
}

static void status_peer(struct agent *a, const struct pol_star_wgpeer *w, uint64_t now,
			struct agent_status_peer *sp)
{
	struct wg_peer *wp = a->eng ? wg_dev_find_peer(engine_dev(a->eng), w->key) : NULL;
	struct wg_peer_info info;
	struct io_endpoint ep;

	memset(sp, 0, sizeof(*sp));
	memcpy(sp->name, w->name, sizeof(sp->name));
	memcpy(sp->key, w->key, sizeof(sp->key));
	sp->role = role_of(a, w);
	sp->n_allowed = w->n_allowed;
	sp->allowed = w->allowed;
	status_pq(a, w, now, sp);
	if (!wp)
		return;
	wg_peer_get_info(wp, &info);
	if (!io_endpoint_from_wg(&info.endpoint, &ep) && ep.family != AF_UNSPEC) {
		sp->has_endpoint = true;
		sp->endpoint.family = ep.family == AF_INET ? 4 : 6;
		memcpy(sp->endpoint.addr, &ep.addr, ep.family == AF_INET ? 4 : 16);
		sp->endpoint.port = ep.port;
	}
	if (info.last_handshake_ns) {
		uint64_t hs = info.last_handshake_ns / 1000000000ull;

		sp->has_handshake = true;
		sp->handshake_age = now > hs ? now - hs : 0;
	}
	sp->rx_bytes = info.rx_bytes;
	sp->tx_bytes = info.tx_bytes;
	sp->path = info.has_session ? AGENT_PATH_DIRECT : AGENT_PATH_NONE;
	if (!sp->has_kex)
		sp->classical = info.has_session ? 2 : info.last_handshake_ns ? 1 : 0;
	cry_wipe(&info, sizeof(info)); /* it holds the newest PSK */
}

static int status_fn(void *ctx, struct agent_status *st)
{
	struct agent *a = ctx;
	uint64_t now = wall_s();
	int r;

	st->role = a->p.role;
	snprintf(st->network, sizeof(st->network), "%s", a->net.name);
	snprintf(st->ifname, sizeof(st->ifname), "%s", a->ifname);
	memcpy(st->public_key, a->cert.wgkey, sizeof(st->public_key));
	st->listen_port = a->eng ? engine_listen_port(a->eng) : 0;
	snprintf(st->registry, sizeof(st->registry), "%s", a->url);
	pthread_mutex_lock(&a->lock);
	st->registry_reachable = a->reg_ok;
	st->has_registry_contact = a->reg_contact != 0;
	st->registry_contact_age =
		a->reg_contact && now > a->reg_contact ? now - a->reg_contact : 0;
	pthread_mutex_unlock(&a->lock);
	st->killed = a->killed;
	st->kill_serial = a->kill_serial;
	for (size_t i = 0; a->applied && !a->killed && i < a->applied->n_peers; i++) {
		struct agent_status_peer sp;

		status_peer(a, &a->applied->peers[i], now, &sp);
		r = agent_status_add_peer(st, &sp);
		if (r)
			return r;
	}
	return 0;
}

/* ---- address changes ------------------------------------------------------ */

/* The host's underlay changed (migration, a new uplink, a DHCP renewal): the
 * address our peers know us by may be gone. Forget every sticky source and
 * send every peer a keepalive now, so each one roams to our new address on
 * this authenticated packet rather than on our next persistent keepalive
 * (up to PersistentKeepalive seconds, or never without one). Configured
 * endpoints are static, so the registry has nothing new to learn here. */
static void on_addr_change(void *ctx, unsigned int what)
{
	struct agent *a = ctx;
	const struct wg_sink *sink;
	struct wg_dev *dev;
	uint64_t now = io_now_ns();
	size_t sent = 0;

	if (a->killed || !a->eng)
		return;
	dev = engine_dev(a->eng);
	sink = engine_sink(a->eng);
	wg_dev_clear_src(dev);
	for (struct wg_peer *p = wg_dev_first_peer(dev); p; p = wg_dev_next_peer(p))
		if (!wg_dev_send_keepalive(dev, now, p, sink))
			sent++;
	engine_kick(a->eng);
	logf_(a, AGENT_LOG_INFO,
	      "subsys=agent event=underlay_changed addr=%d link=%d route=%d overrun=%d "
	      "keepalives=%zu",
	      !!(what & NLMON_ADDR), !!(what & NLMON_LINK), !!(what & NLMON_ROUTE),
	      !!(what & NLMON_OVERRUN), sent);
}

/* Not fatal if it fails: the node still works, it only recovers from a move
 * at its next persistent keepalive. SCOPE_ADDR_WATCH=off turns it off (for
 * comparisons: tests/netns/star_migrate.sh). */
static void addr_watch_start(struct agent *a)
{
	const char *env = getenv("SCOPE_ADDR_WATCH");
	int r;

	if (env && !strcmp(env, "off")) {
		logf_(a, AGENT_LOG_INFO, "subsys=agent event=addr_watch_off");
		return;
	}
	r = nlmon_new(a->loop, a->ifindex, on_addr_change, a, &a->nlmon);
	if (r)
		logf_(a, AGENT_LOG_ERROR, "subsys=agent event=addr_watch_failed err=\"%s\"",
		      strerror(-r));
}

/* ---- post-quantum PSKs: the engine as kexd's backend ----------------------- */

static struct wg_peer *eng_peer(struct agent *a, const uint8_t wg[WG_KEY_LEN])
{
	return a->eng ? wg_dev_find_peer(engine_dev(a->eng), wg) : NULL;
}

static int eng_set_psks(void *ctx, const uint8_t wg[PROTO_KEY_LEN], const struct kexd_psk *ring,
			size_t n)
{
	struct agent *a = ctx;
	struct wg_peer *wp = eng_peer(a, wg);
	uint8_t keys[WG_PSK_RING_MAX][WG_KEY_LEN];
	uint32_t versions[WG_PSK_RING_MAX];
	int r;

	if (!wp)
		return -ENOENT;
	if (n > WG_PSK_RING_MAX)
		n = WG_PSK_RING_MAX; /* the newest ones */
	for (size_t i = 0; i < n; i++) {
		memcpy(keys[i], ring[i].key, WG_KEY_LEN);
		versions[i] = ring[i].version > UINT32_MAX ? UINT32_MAX : (uint32_t)ring[i].version;
	}
	r = wg_peer_psk_set(wp, (const uint8_t(*)[WG_KEY_LEN])keys, versions, n);
	cry_wipe(keys, sizeof(keys));
	return r;
}

static int eng_tunnel(void *ctx, const uint8_t wg[PROTO_KEY_LEN], struct kexd_tunnel *out)
{
	struct agent *a = ctx;
	struct wg_peer *wp = eng_peer(a, wg);
	struct wg_peer_info info;

	memset(out, 0, sizeof(*out));
	if (!wp)
		return 0;
	wg_peer_get_info(wp, &info);
	out->known = true;
	out->last_handshake_ns = info.last_handshake_ns;
	out->rx_bytes = info.rx_bytes;
	out->has_session = info.has_session;
	out->session_version = info.session_psk_version;
	cry_wipe(&info, sizeof(info)); /* it holds the newest PSK */
	return 0;
}

static void eng_initiate(void *ctx, const uint8_t wg[PROTO_KEY_LEN])
{
	struct agent *a = ctx;
	struct wg_peer *wp = eng_peer(a, wg);

	if (!wp)
		return;
	wg_dev_initiate(engine_dev(a->eng), io_now_ns(), wp, engine_sink(a->eng));
	engine_kick(a->eng);
}

static void pq_log(void *ctx, bool error, const char *line)
{
	const struct agent *a = ctx;

	logf_(a, error ? AGENT_LOG_ERROR : AGENT_LOG_INFO, "subsys=pq %s", line);
}

/* The mailbox's lines carry their own subsys=mailbox. */
static void mailbox_log(void *ctx, bool error, const char *line)
{
	const struct agent *a = ctx;

	logf_(a, error ? AGENT_LOG_ERROR : AGENT_LOG_INFO, "%s", line);
}

static void mailbox_wake(void *ctx)
{
	struct agent *a = ctx;

	loop_wake(a->loop);
}

static const struct kexd_ops eng_ops = {
	.set_psks = eng_set_psks,
	.tunnel = eng_tunnel,
	.initiate = eng_initiate,
	.log = pq_log,
};

/* ---- reports to the registry ---------------------------------------------- */

/* Every AGENT_REPORT_S (the first one AGENT_REPORT_FIRST_S after start, both
 * in pqstatus.h): per connected peer, the classical and PQ key-exchange
 * state (docs/registry.md, issue 7). The mailbox thread sends it; a newer
 * report replaces one still queued. */

static void report_arm(struct agent *a, unsigned int s)
{
	struct itimerspec its = { .it_value = { .tv_sec = s } };

	if (a->report_fd >= 0)
		timerfd_settime(a->report_fd, 0, &its, NULL);
}

static void report_peer(struct agent *a, const struct pol_star_wgpeer *w,
			struct regclient_report_peer *rp)
{
	struct kexd_peer_status ks;
	struct wg_peer *wp = eng_peer(a, w->key);
	struct wg_peer_info info;

	memset(rp, 0, sizeof(*rp));
	snprintf(rp->peer, sizeof(rp->peer), "%s", w->name);
	rp->reach = RC_REACH_NONE;
	if (wp) {
		wg_peer_get_info(wp, &info);
		rp->handshake = info.last_handshake_ns != 0;
		if (info.has_session)
			rp->reach = 0; /* the star has direct tunnels only */
		cry_wipe(&info, sizeof(info));
	}
	if (a->pq && !kexd_peer_status(agent_pq_kexd(a->pq), w->key, &ks))
		agent_pqstatus_report(rp, &ks);
}

static void on_report(void *ctx, int fd, uint32_t events)
{
	struct agent *a = ctx;
	struct regclient_report_peer *rp;
	struct regclient_report r = { 0 };
	uint64_t ticks;
	size_t n;

	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0)
		return;
	report_arm(a, AGENT_REPORT_S);
	if (!a->mailbox || a->killed || !a->applied)
		return;
	n = a->applied->n_peers;
	if (n > AGENT_REPORT_PEERS_MAX)
		n = AGENT_REPORT_PEERS_MAX;
	rp = calloc(n ? n : 1, sizeof(*rp));
	if (!rp)
		return;
	for (size_t i = 0; i < n; i++)
		report_peer(a, &a->applied->peers[i], &rp[i]);
	r.peers = rp;
	r.n = n;
	if (agent_mailbox_report(a->mailbox, &r))
		logf_(a, AGENT_LOG_ERROR, "subsys=agent event=report_failed");
	free(rp);
}

/* Not fatal: without it the node runs on classical WireGuard (and says so). */
static void pq_start(struct agent *a)
{
	const struct agent_mailbox_params mp = {
		.url = a->url,
		.net = &a->net,
		.identity_seed = a->identity,
		.wake = mailbox_wake,
		.log = mailbox_log,
		.ctx = a,
	};
	struct agent_pq_params pp = {
		.kex = {
			.psk = a->p.psk,
			.ring = true,
			.state_dir = a->state_dir[0] ? a->state_dir : NULL,
			.self = &a->cert,
			.identity_seed = a->identity,
			.env = &a->env,
			.test_only_corrupt_version = a->p.test_only_corrupt_psk_version,
		},
		.backend = &eng_ops,
		.backend_ctx = a,
	};
	char err[256] = "";
	int r;

	io_env_init(&a->env);
	r = agent_mailbox_new(&mp, &a->mailbox);
	if (r)
		logf_(a, AGENT_LOG_ERROR, "subsys=pq event=mailbox_failed err=\"%s\"",
		      strerror(-r));
	pp.mailbox = a->mailbox;
	r = agent_pq_new(&pp, a->loop, &a->pq, err, sizeof(err));
	if (r)
		logf_(a, AGENT_LOG_ERROR, "subsys=pq event=disabled err=\"%s\"", err);
}

/* ---- set-up --------------------------------------------------------------- */

static int copy_params(struct agent *a, const struct agent_params *p)
{
	a->p = *p;
	a->net = *p->net;
	a->cert = *p->cert;
	memcpy(a->identity, p->identity_seed, 32);
	memcpy(a->wg_private, p->wg_private, 32);
	a->cert_raw = malloc(p->cert_len);
	a->endpoints = calloc(p->n_endpoints ? p->n_endpoints : 1, sizeof(*a->endpoints));
	a->ifname = strdup(p->ifname);
	a->state_dir = strdup(p->state_dir ? p->state_dir : "");
	a->url = strdup(p->registry_url ? p->registry_url : p->net->registry);
	if (!a->cert_raw || !a->endpoints || !a->ifname || !a->state_dir || !a->url)
		return -ENOMEM;
	memcpy(a->cert_raw, p->cert_raw, p->cert_len);
	if (p->n_endpoints)
		memcpy(a->endpoints, p->endpoints, p->n_endpoints * sizeof(*a->endpoints));
	a->p.net = &a->net;
	a->p.cert = &a->cert;
	return 0;
}

static int interface_up(struct agent *a, char *err, size_t errlen)
{
	const struct engine_config ec = {
		.ifname = a->ifname,
		.port = a->p.listen_port,
		.mtu = a->p.mtu,
		.forwarding = a->p.role != PROTO_ROLE_EDGE,
		.workers = engine_default_workers(),
	};
	struct nl_prefix v4 = { .family = AF_INET, .len = a->net.v4.len };
	struct nl_prefix v6 = { .family = AF_INET6, .len = a->net.v6.len };
	struct io_err ierr = { "" };
	int r;

	r = engine_new(&ec, a->loop, &a->eng, &ierr);
	if (r) {
		snprintf(err, errlen, "%s", ierr.msg);
		return r;
	}
	a->ifindex = engine_ifindex(a->eng);
	r = wg_dev_set_private_key(engine_dev(a->eng), a->wg_private);
	if (r) {
		snprintf(err, errlen, "setting the WireGuard key: %s", strerror(-r));
		return r;
	}
	r = nl_open(&a->nl);
	memcpy(v4.addr, a->cert.addr4, 4);
	memcpy(v6.addr, a->cert.addr6, 16);
	if (!r)
		r = nl_addr_add(a->nl, a->ifindex, &v4);
	if (!r)
		r = nl_addr_add(a->nl, a->ifindex, &v6);
	if (r)
		snprintf(err, errlen, "overlay addresses on %s: %s", a->ifname, strerror(-r));
	return r;
}

int agent_new(const struct agent_params *p, struct loop *loop, struct agent **out, char *err,
	      size_t errlen)
{
	struct agent *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	pthread_mutex_init(&a->lock, NULL);
	a->tail = &a->head;
	a->report_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->report_fd >= 0 && loop_add_fd(loop, a->report_fd, EPOLLIN, on_report, a)) {
		close(a->report_fd);
		a->report_fd = -1;
	}
	a->nudge_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (a->nudge_fd >= 0 && loop_add_fd(loop, a->nudge_fd, EPOLLIN, on_nudge, a)) {
		close(a->nudge_fd);
		a->nudge_fd = -1;
	}
	a->loop = loop;
	r = copy_params(a, p);
	if (r) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r = interface_up(a, err, errlen);
	if (r)
		goto fail;
	r = agent_ctlsock_new(AGENT_CTL_DIR, a->ifname, loop, status_fn, a, &a->ctl, err, errlen);
	if (r)
		goto fail;
	if (p->kill && consider_kill(a, p->kill, p->kill_len, "config")) {
		*out = a; /* down, and staying down: no registry either */
		return 0;
	}
	pq_start(a);
	report_arm(a, AGENT_REPORT_FIRST_S);
	load_cache(a);
	reconcile(a);
	addr_watch_start(a);
	loop_set_wake_fn(loop, on_wake, a);
	r = pthread_create(&a->thread, NULL, registry_main, a);
	if (r) {
		snprintf(err, errlen, "registry thread: %s", strerror(r));
		r = -r;
		goto fail;
	}
	a->thread_started = true;
	logf_(a, AGENT_LOG_INFO, "subsys=agent event=up if=%s role=%s port=%u", a->ifname,
	      p->role == PROTO_ROLE_EDGE    ? "edge"
	      : p->role == PROTO_ROLE_RELAY ? "relay"
					    : "master",
	      engine_listen_port(a->eng));
	*out = a;
	return 0;
fail:
	agent_free(a);
	return r;
}

void agent_free(struct agent *a)
{
	struct msg *m;

	if (!a)
		return;
	if (a->thread_started) {
		pthread_mutex_lock(&a->lock);
		a->stop = true;
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
	}
	loop_set_wake_fn(a->loop, NULL, NULL);
	if (a->nudge_fd >= 0) {
		loop_del_fd(a->loop, a->nudge_fd);
		close(a->nudge_fd);
	}
	if (a->report_fd >= 0) {
		loop_del_fd(a->loop, a->report_fd);
		close(a->report_fd);
	}
	agent_ctlsock_free(a->ctl);
	nlmon_free(a->nlmon);
	agent_pq_free(a->pq); /* before the engine, its backend */
	agent_mailbox_free(a->mailbox);
	for (m = a->head; m;) {
		struct msg *next = m->next;

		msg_free(m);
		m = next;
	}
	engine_free(a->eng);
	agent_cache_free(a->cache);
	proto_revoke_free(a->rl);
	proto_revoke_free(a->thread_rl);
	nl_close(a->nl);
	peers_clear(a);
	free(a->peers);
	pol_star_free(a->applied);
	cry_wipe(a->identity, sizeof(a->identity));
	cry_wipe(a->wg_private, sizeof(a->wg_private));
	free(a->cert_raw);
	free(a->endpoints);
	free(a->ifname);
	free(a->state_dir);
	free(a->url);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

bool agent_killed(const struct agent *a)
{
	return a->killed;
}
