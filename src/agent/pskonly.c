// SPDX-License-Identifier: GPL-2.0-only
/*
 * PSK-only mode (pskonly.h): the start-up check, the wgext backend under
 * agent_pq, and the registry join and mailbox threads.
 */
#include "agent/pskonly.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent/ctlsock.h"
#include "agent/mailbox.h"
#include "agent/pq.h"
#include "agent/pqstatus.h"
#include "agent/regclient.h"
#include "agent/wgext.h"
#include "agent/wgkernel.h"
#include "common/compiler.h"
#include "common/encode.h"
#include "crypto/ct.h"
#include "io/env.h"
#include "uapi/client.h"

/* Registry retries back off from 1 s to this. */
#define PSKONLY_JOIN_BACKOFF_MAX_S 60
/* One long poll of the event stream (as managed mode's): also how long a
 * stop may wait for the registry thread. */
#define PSKONLY_POLL_S 5

struct pskonly {
	struct loop *loop;
	struct agent_config *cfg; /* a copy; keys wiped on free */
	struct sc_env env;
	struct wgext *ext;     /* Backend = uapi ... */
	struct wgkernel *kern; /* ... or kernel: exactly one is set */
	struct kexd_ops backend;
	struct agent_mailbox *mb;
	struct agent_pq *pq;
	struct agent_ctlsock *ctl;
	int report_fd;	     /* timerfd of the registry reports, -1 without a registry */
	char sock_path[108]; /* the interface's UAPI socket (status reads it) */
	agent_log_fn log;
	void *log_ctx;

	/* The registry thread, and what it shares (under lock). */
	pthread_t reg_thread;
	bool reg_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	bool joined;		/* the registry accepted a join (reports wait for it) */
	bool reg_ok;		/* its last request succeeded */
	uint64_t reg_contact_s; /* wall s of the last answer; 0 none */
};

static void po_log(const struct pskonly *po, enum agent_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Also called from the registry threads: the log function must be
 * thread-safe (scoped's writes one line with one fprintf). */
static void po_log(const struct pskonly *po, enum agent_log_level lvl, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!po->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	po->log(po->log_ctx, lvl, line);
}

/* ---- the external interface: UAPI socket or kernel netlink ------------------- */

static int ext_set_psk(struct pskonly *po, const uint8_t wg[PROTO_KEY_LEN],
		       const struct kexd_psk *ring, size_t n)
{
	return po->kern ? wgkernel_set_psk(po->kern, wg, ring, n)
			: wgext_set_psk(po->ext, wg, ring, n);
}

static int ext_tunnel(struct pskonly *po, const uint8_t wg[PROTO_KEY_LEN], struct kexd_tunnel *out)
{
	return po->kern ? wgkernel_tunnel(po->kern, wg, out) : wgext_tunnel(po->ext, wg, out);
}

static int ext_public_key(struct pskonly *po, uint8_t pub[PROTO_KEY_LEN])
{
	return po->kern ? wgkernel_public_key(po->kern, pub) : wgext_public_key(po->ext, pub);
}

static int ext_read(struct pskonly *po, struct uapi_dev_state **out)
{
	return po->kern ? wgkernel_read(po->kern, out) : wgext_read(po->ext, out);
}

static const char *ext_error(const struct pskonly *po)
{
	return po->kern ? wgkernel_error(po->kern) : wgext_error(po->ext);
}

/* ---- the backend kexd sees -------------------------------------------------- */

static int be_set_psks(void *ctx, const uint8_t wg[PROTO_KEY_LEN], const struct kexd_psk *ring,
		       size_t n)
{
	struct pskonly *po = ctx;
	int ret = ext_set_psk(po, wg, ring, n);

	if (ret)
		po_log(po, AGENT_LOG_ERROR, "subsys=pskonly event=set_psk_failed err=\"%s\"",
		       ext_error(po));
	return ret;
}

static int be_tunnel(void *ctx, const uint8_t wg[PROTO_KEY_LEN], struct kexd_tunnel *out)
{
	struct pskonly *po = ctx;

	return ext_tunnel(po, wg, out);
}

static void be_log(void *ctx, bool error, const char *line)
{
	struct pskonly *po = ctx;

	po_log(po, error ? AGENT_LOG_ERROR : AGENT_LOG_INFO, "subsys=kex %s", line);
}

/* The mailbox's lines carry their own subsys=mailbox. */
static void mb_log(void *ctx, bool error, const char *line)
{
	struct pskonly *po = ctx;

	po_log(po, error ? AGENT_LOG_ERROR : AGENT_LOG_INFO, "%s", line);
}

/* The mailbox thread has records: take them on the loop. */
static void mb_wake(void *ctx)
{
	struct pskonly *po = ctx;

	loop_wake(po->loop);
}

static void on_wake(void *ctx)
{
	struct pskonly *po = ctx;

	if (po->pq)
		agent_pq_drain_mailbox(po->pq);
}

/* ---- the registry thread ------------------------------------------------------- */

static bool po_stopping(struct pskonly *po)
{
	bool stop;

	pthread_mutex_lock(&po->lock);
	stop = po->stop;
	pthread_mutex_unlock(&po->lock);
	return stop;
}

/* The registry answered (ok) or did not; for the status. */
static void set_contact(struct pskonly *po, bool ok)
{
	pthread_mutex_lock(&po->lock);
	po->reg_ok = ok;
	if (ok)
		po->reg_contact_s = (uint64_t)time(NULL);
	pthread_mutex_unlock(&po->lock);
}

/* Sleep s seconds unless the daemon stops first. */
static void nap(struct pskonly *po, unsigned int s)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += s;
	pthread_mutex_lock(&po->lock);
	while (!po->stop && pthread_cond_timedwait(&po->cond, &po->lock, &until) == 0)
		;
	pthread_mutex_unlock(&po->lock);
}

/* Short long-polls of the event stream from cursor: a KEX message for us
 * is fetched as soon as the registry announces it, not at the mailbox's
 * next periodic fetch (AGENT_MAILBOX_FETCH_S), which would make each of
 * an exchange's four legs wait up to that long. The other events (joins,
 * moves) mean nothing here. Returns on stop (0) or on an error (-ESTALE:
 * the cursor is too old, join again for a new one). */
static int follow_events(struct pskonly *po, struct regclient *rc, uint64_t cursor)
{
	const char *self = po->cfg->cert.name;

	while (!po_stopping(po)) {
		struct regclient_events ev = { 0 };
		bool poke = false;
		int ret;

		ret = regclient_events(rc, cursor, PSKONLY_POLL_S, (uint64_t)time(NULL), &ev);
		if (!ret && ev.expired)
			ret = -ESTALE;
		if (ret) {
			regclient_events_clear(&ev);
			return ret;
		}
		cursor = ev.cursor;
		for (size_t i = 0; i < ev.n; i++)
			poke |= ev.ev[i].type == RC_EV_KEX && !strcmp(ev.ev[i].peer, self);
		regclient_events_clear(&ev);
		set_contact(po, true);
		if (poke)
			agent_mailbox_poke(po->mb);
	}
	return 0;
}

/* POST /v1/kex only reaches joined nodes: join (the configured role, no
 * endpoints: nobody should try to reach this node through Scope), then
 * follow the events; after a failure, back off (1 s, doubling up to
 * PSKONLY_JOIN_BACKOFF_MAX_S) and join again, which also gives a fresh
 * cursor. */
static void *registry_main(void *arg)
{
	struct pskonly *po = arg;
	const struct agent_config *c = po->cfg;
	struct regclient *rc = NULL;
	unsigned int backoff = 1;
	uint64_t version = 0;
	int ret;

	ret = regclient_new(c->registry, &c->net, c->identity_seed, &rc);
	if (ret) {
		po_log(po, AGENT_LOG_ERROR, "subsys=pskonly event=registry_failed err=\"%s\"",
		       strerror(-ret));
		return NULL;
	}
	while (!po_stopping(po)) {
		ret = regclient_join(rc, c->cert_raw, c->cert_len, c->role, NULL, 0, &version);
		if (!ret) {
			po_log(po, AGENT_LOG_INFO,
			       "subsys=pskonly event=registry_joined version=%llu",
			       (unsigned long long)version);
			pthread_mutex_lock(&po->lock);
			po->joined = true;
			pthread_mutex_unlock(&po->lock);
			set_contact(po, true);
			backoff = 1;
			/* Messages may have waited while we were away. */
			agent_mailbox_poke(po->mb);
			ret = follow_events(po, rc, version);
			if (!ret)
				break; /* stopping */
		}
		/* An expired cursor is routine, but still waits: a registry
		 * answering 410 to every poll must not make us spin. */
		set_contact(po, ret == -ESTALE);
		if (ret == -ESTALE)
			po_log(po, AGENT_LOG_INFO,
			       "subsys=pskonly event=registry_cursor_expired retry_s=%u", backoff);
		else
			po_log(po, AGENT_LOG_ERROR,
			       "subsys=pskonly event=registry_failed retry_s=%u err=\"%s\"",
			       backoff,
			       regclient_error(rc)[0] ? regclient_error(rc) : strerror(-ret));
		nap(po, backoff);
		backoff = SC_MIN(backoff * 2, PSKONLY_JOIN_BACKOFF_MAX_S);
	}
	regclient_free(rc);
	return NULL;
}

static int start_registry(struct pskonly *po, char *err, size_t errlen)
{
	const struct agent_config *c = po->cfg;
	struct agent_mailbox_params mp = {
		.url = c->registry,
		.net = &c->net,
		.identity_seed = c->identity_seed,
		.wake = mb_wake,
		.log = mb_log,
		.ctx = po,
	};
	int ret;

	ret = agent_mailbox_new(&mp, &po->mb);
	if (ret) {
		snprintf(err, errlen, "registry mailbox %s: %s", c->registry, strerror(-ret));
		return ret;
	}
	ret = -pthread_create(&po->reg_thread, NULL, registry_main, po);
	if (ret) {
		snprintf(err, errlen, "registry thread: %s", strerror(-ret));
		return ret;
	}
	po->reg_started = true;
	return 0;
}

/* ---- status (scopectl status) ------------------------------------------------------- */

static uint64_t po_wall_s(const struct pskonly *po)
{
	return po->env.wall_ns(po->env.ctx) / SC_NSEC_PER_SEC;
}

static bool po_joined(struct pskonly *po)
{
	bool joined;

	pthread_mutex_lock(&po->lock);
	joined = po->joined;
	pthread_mutex_unlock(&po->lock);
	return joined;
}

/* The whole interface as its `get` shows it, for endpoints, tx and allowed
 * IPs, which wgext's tunnel view (what kexd needs) leaves out. A fresh read
 * per status request: they are rare, and the answer must be current. */
static int read_interface(struct pskonly *po, struct uapi_dev_state **out)
{
	int ret = ext_read(po, out);

	if (ret)
		po_log(po, AGENT_LOG_ERROR, "subsys=pskonly event=status_failed if=%s err=\"%s\"",
		       po->cfg->ifname, ext_error(po));
	return ret;
}

/* The interface's view of one peer: endpoint, handshake age, counters and
 * allowed IPs (at most AGENT_CTL_MAX_ALLOWED of them, in aips, which must
 * hold that many). p NULL: the interface lacks the peer, and sp stays
 * without any of them. */
static void status_tunnel(struct agent_status_peer *sp, const struct uapi_peer_state *p,
			  uint64_t now_s, struct proto_prefix *aips)
{
	if (!p)
		return;
	if (p->endpoint.family == AF_INET || p->endpoint.family == AF_INET6) {
		sp->has_endpoint = true;
		sp->endpoint.family = p->endpoint.family == AF_INET ? 4 : 6;
		memcpy(sp->endpoint.addr, &p->endpoint.addr,
		       p->endpoint.family == AF_INET ? 4 : 16);
		sp->endpoint.port = p->endpoint.port;
	}
	if (p->last_handshake_ns) {
		uint64_t hs = p->last_handshake_ns / SC_NSEC_PER_SEC;

		sp->has_handshake = true;
		sp->handshake_age = now_s > hs ? now_s - hs : 0;
	}
	sp->rx_bytes = p->rx_bytes;
	sp->tx_bytes = p->tx_bytes;
	/* Operators route whole subnets through external interfaces; a long
	 * list is cut rather than losing the status document. */
	sp->n_allowed = SC_MIN(p->n_allowedips, (size_t)AGENT_CTL_MAX_ALLOWED);
	for (size_t i = 0; i < sp->n_allowed; i++) {
		const struct wg_allowedip *a = &p->allowedips[i];

		memset(&aips[i], 0, sizeof(aips[i]));
		aips[i].family = a->family == AF_INET ? 4 : 6;
		aips[i].len = a->cidr;
		memcpy(aips[i].addr, &a->addr, a->family == AF_INET ? 4 : 16);
	}
	sp->allowed = aips;
}

static const struct uapi_peer_state *find_peer(const struct uapi_dev_state *ifs,
					       const uint8_t wg[PROTO_KEY_LEN])
{
	for (size_t i = 0; i < ifs->n_peers; i++)
		if (memcmp(ifs->peers[i].public_key, wg, PROTO_KEY_LEN) == 0) /* not secret */
			return &ifs->peers[i];
	return NULL;
}

/* A listed peer's role is not announced to us (no registry peer list):
 * the certificate's, when it allows only one. */
static uint8_t cert_role(const struct proto_cert *c)
{
	return c->roles && !(c->roles & (c->roles - 1)) ? c->roles : 0;
}

static void status_peer(struct pskonly *po, const struct proto_cert *peer,
			const struct uapi_dev_state *ifs, uint64_t now_s,
			struct agent_status_peer *sp, struct proto_prefix *aips)
{
	struct kexd_peer_status ks;

	memset(sp, 0, sizeof(*sp));
	snprintf(sp->name, sizeof(sp->name), "%s", peer->name);
	memcpy(sp->key, peer->wgkey, sizeof(sp->key));
	sp->role = cert_role(peer);
	status_tunnel(sp, find_peer(ifs, peer->wgkey), now_s, aips);
	if (po->pq && !kexd_peer_status(agent_pq_kexd(po->pq), peer->wgkey, &ks))
		agent_pqstatus_peer(sp, &ks, now_s);
	/* The external interface has direct tunnels only; "a session" is the
	 * driver's reading of it (a handshake within REJECT_AFTER_TIME). */
	sp->path = sp->classical == 2 ? AGENT_PATH_DIRECT : AGENT_PATH_NONE;
}

static int status_fn(void *ctx, struct agent_status *st)
{
	struct pskonly *po = ctx;
	const struct agent_config *c = po->cfg;
	struct uapi_dev_state *ifs = NULL;
	struct proto_prefix *aips;
	uint64_t now_s = po_wall_s(po);
	int ret;

	aips = malloc(AGENT_CTL_MAX_ALLOWED * sizeof(*aips));
	if (!aips)
		return -ENOMEM;
	ret = read_interface(po, &ifs);
	if (ret)
		goto out;
	st->role = c->role;
	snprintf(st->network, sizeof(st->network), "%s", c->net.name);
	snprintf(st->ifname, sizeof(st->ifname), "%s", c->ifname);
	memcpy(st->public_key, c->cert.wgkey, sizeof(st->public_key));
	st->listen_port = ifs->listen_port;
	snprintf(st->registry, sizeof(st->registry), "%s", c->registry_off ? "off" : c->registry);
	pthread_mutex_lock(&po->lock);
	st->registry_reachable = po->reg_ok;
	st->has_registry_contact = po->reg_contact_s != 0;
	st->registry_contact_age = now_s > po->reg_contact_s ? now_s - po->reg_contact_s : 0;
	pthread_mutex_unlock(&po->lock);
	for (size_t i = 0; i < c->n_peers && !ret; i++) {
		struct agent_status_peer sp;

		status_peer(po, &c->peers[i], ifs, now_s, &sp, aips);
		ret = agent_status_add_peer(st, &sp);
	}
out:
	uapi_dev_state_free(ifs);
	free(aips);
	return ret;
}

/* ---- reports to the registry ----------------------------------------------------------- */

static void report_arm(struct pskonly *po, unsigned int s)
{
	struct itimerspec its = { .it_value = { .tv_sec = s } };

	if (po->report_fd >= 0)
		timerfd_settime(po->report_fd, 0, &its, NULL);
}

static void report_peer(struct pskonly *po, const struct proto_cert *peer,
			struct regclient_report_peer *rp)
{
	struct kexd_peer_status ks;
	struct kexd_tunnel t;

	memset(rp, 0, sizeof(*rp));
	snprintf(rp->peer, sizeof(rp->peer), "%s", peer->name);
	rp->reach = RC_REACH_NONE;
	if (!ext_tunnel(po, peer->wgkey, &t))
		rp->handshake = t.known && t.last_handshake_ns != 0;
	if (po->pq && !kexd_peer_status(agent_pq_kexd(po->pq), peer->wgkey, &ks)) {
		agent_pqstatus_report(rp, &ks);
		/* Classical 2 on a single-key backend: a handshake within
		 * REJECT_AFTER_TIME (180 s), over a direct tunnel. */
		if (ks.classical == 2)
			rp->reach = 0;
	}
}

/* Every AGENT_REPORT_S, like managed mode: per listed peer, the classical
 * and PQ key-exchange state. Not before the join: the registry answers
 * only joined nodes. */
static void on_report(void *ctx, int fd, uint32_t events)
{
	struct pskonly *po = ctx;
	const struct agent_config *c = po->cfg;
	struct regclient_report_peer *rp;
	struct regclient_report r = { 0 };
	uint64_t ticks;

	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (!po_joined(po)) {
		report_arm(po, AGENT_REPORT_FIRST_S);
		return;
	}
	report_arm(po, AGENT_REPORT_S);
	rp = calloc(c->n_peers ? c->n_peers : 1, sizeof(*rp));
	if (!rp)
		return;
	for (size_t i = 0; i < c->n_peers; i++)
		report_peer(po, &c->peers[i], &rp[i]);
	r.peers = rp;
	r.n = c->n_peers;
	if (agent_mailbox_report(po->mb, &r))
		po_log(po, AGENT_LOG_ERROR, "subsys=pskonly event=report_failed");
	free(rp);
}

static int start_reports(struct pskonly *po, char *err, size_t errlen)
{
	int ret;

	po->report_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (po->report_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "report timer: %s", strerror(-ret));
		return ret;
	}
	ret = loop_add_fd(po->loop, po->report_fd, EPOLLIN, on_report, po);
	if (ret) {
		close(po->report_fd);
		po->report_fd = -1;
		snprintf(err, errlen, "report timer: %s", strerror(-ret));
		return ret;
	}
	report_arm(po, AGENT_REPORT_FIRST_S);
	return 0;
}

/* ---- start and stop -------------------------------------------------------------- */

/* The interface must be the certificate's: anything else would rotate
 * keys for a node the peers do not know under this name. */
static int check_interface(struct pskonly *po, char *err, size_t errlen)
{
	const struct agent_config *c = po->cfg;
	char have[SC_B64_LEN(32) + 1], want[SC_B64_LEN(32) + 1];
	struct kexd_tunnel t;
	uint8_t pub[PROTO_KEY_LEN];
	int ret;

	ret = ext_public_key(po, pub);
	if (ret) {
		snprintf(err, errlen, "interface %s: %s", c->ifname, ext_error(po));
		return ret;
	}
	if (memcmp(pub, c->cert.wgkey, PROTO_KEY_LEN) != 0) { /* not secret: public keys */
		sc_b64_encode(have, pub, 32);
		sc_b64_encode(want, c->cert.wgkey, 32);
		snprintf(err, errlen,
			 "interface %s has the public key %s, but the certificate of '%s' is for "
			 "%s; "
			 "nothing changed",
			 c->ifname, have, c->cert.name, want);
		return -EKEYREJECTED;
	}
	for (size_t i = 0; i < c->n_peers; i++) {
		if (ext_tunnel(po, c->peers[i].wgkey, &t) == 0 && !t.known)
			po_log(po, AGENT_LOG_ERROR,
			       "subsys=pskonly event=peer_not_on_interface peer=%s if=%s",
			       c->peers[i].name, c->ifname);
	}
	return 0;
}

static int start_kex(struct pskonly *po, char *err, size_t errlen)
{
	const struct agent_config *c = po->cfg;
	struct agent_pq_params pp = {
		.kex = {
			.psk = c->psk,
			.ring = false, /* agreed activation time: no PSK ring outside */
			.state_dir = c->state_dir,
			.self = &c->cert,
			.identity_seed = c->identity_seed,
			.env = &po->env,
			.test_only_corrupt_version = c->test_only_corrupt_version,
		},
		.backend = &po->backend,
		.backend_ctx = po,
		.mailbox = po->mb,
	};
	int ret;

	ret = agent_pq_new(&pp, po->loop, &po->pq, err, errlen);
	if (ret)
		return ret;
	for (size_t i = 0; i < c->n_peers; i++) {
		ret = agent_pq_peer_add(po->pq, &c->peers[i]);
		if (ret) {
			snprintf(err, errlen, "peer '%s': %s", c->peers[i].name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int pskonly_new(const struct agent_config *cfg, const char *sock_dir, struct loop *loop,
		agent_log_fn log, void *log_ctx, struct pskonly **out, char *err, size_t errlen)
{
	struct pskonly *po;
	int ret, n;

	if (cfg->backend != AGENT_BACKEND_UAPI && cfg->backend != AGENT_BACKEND_KERNEL) {
		snprintf(err, errlen, "PSK-only mode needs Backend = uapi or kernel");
		return -EINVAL;
	}
	po = calloc(1, sizeof(*po));
	if (!po || !(po->cfg = malloc(sizeof(*po->cfg)))) {
		free(po);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(po->cfg, cfg, sizeof(*cfg));
	po->loop = loop;
	po->log = log;
	po->log_ctx = log_ctx;
	po->report_fd = -1;
	io_env_init(&po->env);
	pthread_mutex_init(&po->lock, NULL);
	pthread_cond_init(&po->cond, NULL);
	po->backend = (struct kexd_ops){
		.set_psks = be_set_psks,
		.tunnel = be_tunnel,
		.log = be_log,
	};
	loop_set_wake_fn(loop, on_wake, po);
	if (cfg->backend == AGENT_BACKEND_KERNEL) {
		ret = wgkernel_new(cfg->ifname, &po->kern, err, errlen);
	} else {
		n = snprintf(po->sock_path, sizeof(po->sock_path), "%s/%s.sock",
			     sock_dir ? sock_dir : WGEXT_SOCK_DIR, cfg->ifname);
		ret = n > 0 && (size_t)n < sizeof(po->sock_path)
			      ? wgext_new(po->sock_path, &po->ext)
			      : -ENAMETOOLONG;
		if (ret)
			snprintf(err, errlen, "UAPI socket path of %s: %s", cfg->ifname,
				 strerror(-ret));
	}
	if (!ret)
		ret = check_interface(po, err, errlen);
	/* Before anything rotates: a second scoped on this interface finds
	 * the socket answering and stops here (-EADDRINUSE). */
	if (!ret)
		ret = agent_ctlsock_new(AGENT_CTL_DIR, cfg->ifname, loop, status_fn, po, &po->ctl,
					err, errlen);
	if (!ret && !cfg->registry_off)
		ret = start_registry(po, err, errlen);
	if (!ret)
		ret = start_kex(po, err, errlen);
	if (!ret && !cfg->registry_off)
		ret = start_reports(po, err, errlen);
	if (ret) {
		pskonly_free(po);
		return ret;
	}
	po_log(po, AGENT_LOG_INFO,
	       "subsys=pskonly event=started if=%s node=%s peers=%zu registry=%s period_s=%llu "
	       "activation_s=%llu",
	       cfg->ifname, cfg->cert.name, cfg->n_peers, cfg->registry_off ? "off" : cfg->registry,
	       (unsigned long long)(cfg->psk.period / SC_NSEC_PER_SEC),
	       (unsigned long long)(cfg->psk.activation / SC_NSEC_PER_SEC));
	*out = po;
	return 0;
}

void pskonly_free(struct pskonly *po)
{
	if (!po)
		return;
	if (po->reg_started) {
		pthread_mutex_lock(&po->lock);
		po->stop = true;
		pthread_cond_broadcast(&po->cond);
		pthread_mutex_unlock(&po->lock);
		pthread_join(po->reg_thread, NULL);
	}
	if (po->report_fd >= 0) {
		loop_del_fd(po->loop, po->report_fd);
		close(po->report_fd);
	}
	agent_ctlsock_free(po->ctl);
	/* The driver before the mailbox it borrows. */
	agent_pq_free(po->pq);
	po->pq = NULL;
	agent_mailbox_free(po->mb);
	loop_set_wake_fn(po->loop, NULL, NULL);
	wgext_free(po->ext);
	wgkernel_free(po->kern);
	pthread_cond_destroy(&po->cond);
	pthread_mutex_destroy(&po->lock);
	agent_config_clear(po->cfg);
	free(po->cfg);
	free(po);
}
