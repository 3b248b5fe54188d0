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
#include <time.h>

#include "agent/mailbox.h"
#include "agent/pq.h"
#include "agent/regclient.h"
#include "agent/wgext.h"
#include "common/encode.h"
#include "crypto/ct.h"
#include "io/env.h"

/* Join retries back off from 1 s to this. */
#define PSKONLY_JOIN_BACKOFF_MAX_S 60

struct pskonly {
	struct loop *loop;
	struct agent_config *cfg; /* a copy; keys wiped on free */
	struct sc_env env;
	struct wgext *ext;
	struct kexd_ops backend;
	struct agent_mailbox *mb;
	struct agent_pq *pq;
	agent_log_fn log;
	void *log_ctx;

	/* The join thread. */
	pthread_t join_thread;
	bool join_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop; /* under lock */
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

/* ---- the backend kexd sees -------------------------------------------------- */

static int be_set_psks(void *ctx, const uint8_t wg[PROTO_KEY_LEN], const struct kexd_psk *ring,
		       size_t n)
{
	struct pskonly *po = ctx;
	int ret = wgext_set_psk(po->ext, wg, ring, n);

	if (ret)
		po_log(po, AGENT_LOG_ERROR, "subsys=pskonly event=uapi_set_failed err=\"%s\"",
		       wgext_error(po->ext));
	return ret;
}

static int be_tunnel(void *ctx, const uint8_t wg[PROTO_KEY_LEN], struct kexd_tunnel *out)
{
	struct pskonly *po = ctx;

	return wgext_tunnel(po->ext, wg, out);
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

/* ---- the registry join -------------------------------------------------------- */

/* POST /v1/kex only reaches joined nodes: join once (the configured role,
 * no endpoints: nobody should try to reach this node through Scope), and
 * retry with back-off until it works or the daemon stops. */
static void *join_main(void *arg)
{
	struct pskonly *po = arg;
	const struct agent_config *c = po->cfg;
	struct regclient *rc = NULL;
	unsigned int backoff = 1;
	struct timespec until;
	uint64_t version = 0;
	bool stop = false;
	int ret;

	ret = regclient_new(c->registry, &c->net, c->identity_seed, &rc);
	if (ret) {
		po_log(po, AGENT_LOG_ERROR, "subsys=pskonly event=registry_failed err=\"%s\"",
		       strerror(-ret));
		return NULL;
	}
	while (!stop) {
		ret = regclient_join(rc, c->cert_raw, c->cert_len, c->role, NULL, 0, &version);
		if (!ret) {
			po_log(po, AGENT_LOG_INFO,
			       "subsys=pskonly event=registry_joined version=%llu",
			       (unsigned long long)version);
			agent_mailbox_poke(po->mb);
			break;
		}
		po_log(po, AGENT_LOG_ERROR,
		       "subsys=pskonly event=registry_join_failed retry_s=%u err=\"%s\"", backoff,
		       regclient_error(rc)[0] ? regclient_error(rc) : strerror(-ret));
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += backoff;
		pthread_mutex_lock(&po->lock);
		while (!po->stop && pthread_cond_timedwait(&po->cond, &po->lock, &until) == 0)
			;
		stop = po->stop;
		pthread_mutex_unlock(&po->lock);
		backoff = backoff * 2 > PSKONLY_JOIN_BACKOFF_MAX_S ? PSKONLY_JOIN_BACKOFF_MAX_S
								   : backoff * 2;
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
	ret = -pthread_create(&po->join_thread, NULL, join_main, po);
	if (ret) {
		snprintf(err, errlen, "registry join thread: %s", strerror(-ret));
		return ret;
	}
	po->join_started = true;
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

	ret = wgext_public_key(po->ext, pub);
	if (ret) {
		snprintf(err, errlen, "interface %s: %s", c->ifname, wgext_error(po->ext));
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
		if (wgext_tunnel(po->ext, c->peers[i].wgkey, &t) == 0 && !t.known)
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
	char path[128];
	int ret, n;

	if (cfg->backend != AGENT_BACKEND_UAPI) {
		snprintf(err, errlen, "PSK-only mode needs Backend = uapi");
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
	io_env_init(&po->env);
	pthread_mutex_init(&po->lock, NULL);
	pthread_cond_init(&po->cond, NULL);
	po->backend = (struct kexd_ops){
		.set_psks = be_set_psks,
		.tunnel = be_tunnel,
		.log = be_log,
	};
	loop_set_wake_fn(loop, on_wake, po);
	n = snprintf(path, sizeof(path), "%s/%s.sock", sock_dir ? sock_dir : WGEXT_SOCK_DIR,
		     cfg->ifname);
	ret = n > 0 && (size_t)n < sizeof(path) ? wgext_new(path, &po->ext) : -ENAMETOOLONG;
	if (ret)
		snprintf(err, errlen, "UAPI socket path of %s: %s", cfg->ifname, strerror(-ret));
	if (!ret)
		ret = check_interface(po, err, errlen);
	if (!ret && !cfg->registry_off)
		ret = start_registry(po, err, errlen);
	if (!ret)
		ret = start_kex(po, err, errlen);
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
	if (po->join_started) {
		pthread_mutex_lock(&po->lock);
		po->stop = true;
		pthread_cond_broadcast(&po->cond);
		pthread_mutex_unlock(&po->lock);
		pthread_join(po->join_thread, NULL);
	}
	/* The driver before the mailbox it borrows. */
	agent_pq_free(po->pq);
	po->pq = NULL;
	agent_mailbox_free(po->mb);
	loop_set_wake_fn(po->loop, NULL, NULL);
	wgext_free(po->ext);
	pthread_cond_destroy(&po->cond);
	pthread_mutex_destroy(&po->lock);
	agent_config_clear(po->cfg);
	free(po->cfg);
	free(po);
}
