// SPDX-License-Identifier: GPL-2.0-only
#include "agent/mailbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ct.h"
#include "proto/kex.h"
#include "proto/netdef.h"

/* How long an unread message lives at the registry: longer than the
 * driver's exchange timeout, so a peer that polls late still finds it. */
#define MAILBOX_TTL_S 600

struct outmsg {
	struct outmsg *next;
	char to[PROTO_PEER_NAME_MAX + 1];
	size_t len;
	uint8_t rec[PROTO_KEX_RECORD_MAX];
};

struct agent_mailbox {
	struct agent_mailbox_params p;
	char *url;
	struct proto_netdef net;
	uint8_t identity[32];

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* Under lock. */
	bool stop, poke;
	struct outmsg *out_head, **out_tail;
	size_t n_out;
	struct regclient_report *report; /* pending, owned */
	struct agent_mailbox_rec *in_head, **in_tail;
	size_t n_in;
};

static void mb_log(const struct agent_mailbox *mb, bool error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void mb_log(const struct agent_mailbox *mb, bool error, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!mb->p.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mb->p.log(mb->p.ctx, error, line);
}

/* ---- the loop's side ------------------------------------------------------ */

int agent_mailbox_send(struct agent_mailbox *mb, const char *to, const uint8_t *rec, size_t len)
{
	struct outmsg *m, *drop = NULL;

	if (len > PROTO_KEX_RECORD_MAX || strlen(to) > PROTO_PEER_NAME_MAX)
		return -E2BIG;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	snprintf(m->to, sizeof(m->to), "%s", to);
	memcpy(m->rec, rec, len);
	m->len = len;
	pthread_mutex_lock(&mb->lock);
	if (mb->n_out >= AGENT_MAILBOX_QUEUE_MAX) {
		/* The oldest goes: the driver resends what still matters. */
		drop = mb->out_head;
		mb->out_head = drop->next;
		if (!mb->out_head)
			mb->out_tail = &mb->out_head;
		mb->n_out--;
	}
	*mb->out_tail = m;
	mb->out_tail = &m->next;
	mb->n_out++;
	pthread_cond_signal(&mb->cond);
	pthread_mutex_unlock(&mb->lock);
	free(drop);
	return 0;
}

void agent_mailbox_poke(struct agent_mailbox *mb)
{
	pthread_mutex_lock(&mb->lock);
	mb->poke = true;
	pthread_cond_signal(&mb->cond);
	pthread_mutex_unlock(&mb->lock);
}

int agent_mailbox_report(struct agent_mailbox *mb, const struct regclient_report *r)
{
	struct regclient_report *copy = NULL;
	int ret = regclient_report_dup(r, &copy);

	if (ret)
		return ret;
	pthread_mutex_lock(&mb->lock);
	regclient_report_free(mb->report);
	mb->report = copy;
	pthread_cond_signal(&mb->cond);
	pthread_mutex_unlock(&mb->lock);
	return 0;
}

struct agent_mailbox_rec *agent_mailbox_take(struct agent_mailbox *mb)
{
	struct agent_mailbox_rec *l;

	pthread_mutex_lock(&mb->lock);
	l = mb->in_head;
	mb->in_head = NULL;
	mb->in_tail = &mb->in_head;
	mb->n_in = 0;
	pthread_mutex_unlock(&mb->lock);
	return l;
}

/* ---- the thread ----------------------------------------------------------- */

static void deliver(struct agent_mailbox *mb, const uint8_t *rec, size_t len)
{
	struct agent_mailbox_rec *r = malloc(sizeof(*r) + len), *drop = NULL;

	if (!r)
		return;
	r->next = NULL;
	r->len = len;
	memcpy(r->rec, rec, len);
	pthread_mutex_lock(&mb->lock);
	if (mb->n_in >= AGENT_MAILBOX_QUEUE_MAX) {
		drop = mb->in_head;
		mb->in_head = drop->next;
		if (!mb->in_head)
			mb->in_tail = &mb->in_head;
		mb->n_in--;
	}
	*mb->in_tail = r;
	mb->in_tail = &r->next;
	mb->n_in++;
	pthread_mutex_unlock(&mb->lock);
	free(drop);
}

/* GET /v1/kex after the last id seen, every page. Returns the regclient
 * error of the first failure. */
static int fetch(struct agent_mailbox *mb, struct regclient *rc, uint64_t *after)
{
	struct regclient_kex_msgs msgs;
	size_t got = 0;
	int r;

	for (;;) {
		memset(&msgs, 0, sizeof(msgs));
		r = regclient_kex_get(rc, *after, (uint64_t)time(NULL), &msgs);
		if (r)
			return r;
		for (size_t i = 0; i < msgs.n; i++)
			deliver(mb, msgs.m[i].rec, msgs.m[i].len);
		got += msgs.n;
		if (msgs.next > *after)
			*after = msgs.next;
		r = msgs.more;
		regclient_kex_msgs_clear(&msgs);
		if (!r)
			break;
	}
	if (got) {
		mb_log(mb, false, "subsys=mailbox event=fetched messages=%zu next=%llu", got,
		       (unsigned long long)*after);
		if (mb->p.wake)
			mb->p.wake(mb->p.ctx);
	}
	return 0;
}

static struct outmsg *take_out(struct agent_mailbox *mb)
{
	struct outmsg *m;

	pthread_mutex_lock(&mb->lock);
	m = mb->out_head;
	if (m) {
		mb->out_head = m->next;
		if (!mb->out_head)
			mb->out_tail = &mb->out_head;
		mb->n_out--;
	}
	pthread_mutex_unlock(&mb->lock);
	return m;
}

static int send_all(struct agent_mailbox *mb, struct regclient *rc)
{
	struct outmsg *m;
	uint64_t id;
	int r;

	while ((m = take_out(mb))) {
		r = regclient_kex_post(rc, m->to, m->rec, m->len, MAILBOX_TTL_S, &id);
		if (r == -ENOENT || r == -EINVAL || r == -E2BIG || r == -EPERM) {
			/* Refused for good (recipient not joined, ...): drop it. */
			mb_log(mb, true, "subsys=mailbox event=send_refused to=%s err=\"%s\"",
			       m->to, regclient_error(rc));
			r = 0;
		}
		free(m);
		if (r)
			return r;
	}
	return 0;
}

static int send_report(struct agent_mailbox *mb, struct regclient *rc)
{
	struct regclient_report *rep;
	int r;

	pthread_mutex_lock(&mb->lock);
	rep = mb->report;
	mb->report = NULL;
	pthread_mutex_unlock(&mb->lock);
	if (!rep)
		return 0;
	r = regclient_report(rc, rep);
	if (r && r != -EINVAL && r != -E2BIG) {
		/* Keep it for the next try, unless a newer one came meanwhile. */
		pthread_mutex_lock(&mb->lock);
		if (!mb->report) {
			mb->report = rep;
			rep = NULL;
		}
		pthread_mutex_unlock(&mb->lock);
	} else if (r) {
		mb_log(mb, true, "subsys=mailbox event=report_refused err=\"%s\"",
		       regclient_error(rc));
		r = 0;
	}
	regclient_report_free(rep);
	return r;
}

/* Wait until there is work, a fetch is due, or stop. Returns false on stop. */
static bool wait_work(struct agent_mailbox *mb, time_t due, bool *poke)
{
	struct timespec ts = { .tv_sec = due };
	bool stop;

	pthread_mutex_lock(&mb->lock);
	while (!mb->stop && !mb->poke && !mb->out_head && !mb->report && time(NULL) < due)
		pthread_cond_timedwait(&mb->cond, &mb->lock, &ts);
	stop = mb->stop;
	*poke = mb->poke;
	mb->poke = false;
	pthread_mutex_unlock(&mb->lock);
	return !stop;
}

static void *mailbox_main(void *arg)
{
	struct agent_mailbox *mb = arg;
	struct regclient *rc = NULL;
	uint64_t after = 0;
	/* No fetch at start: the registry answers only joined nodes, so the
	 * owner pokes once it has joined (and the periodic fetch follows). */
	time_t due = time(NULL) + AGENT_MAILBOX_FETCH_S, backoff = 1;
	bool poke = false;

	while (wait_work(mb, due, &poke)) {
		int r = rc ? 0 : regclient_new(mb->url, &mb->net, mb->identity, &rc);

		if (!r)
			r = send_all(mb, rc);
		if (!r)
			r = send_report(mb, rc);
		if (!r && (poke || time(NULL) >= due))
			r = fetch(mb, rc, &after);
		if (!r) {
			backoff = 1;
			due = time(NULL) + AGENT_MAILBOX_FETCH_S;
			continue;
		}
		/* The registry is away (or refused us): try again later, with
		 * a fresh connection; queued messages wait. */
		mb_log(mb, true, "subsys=mailbox event=unreachable err=\"%s\" retry_s=%ld",
		       rc ? regclient_error(rc) : strerror(-r), (long)backoff);
		regclient_free(rc);
		rc = NULL;
		due = time(NULL) + backoff;
		backoff = backoff * 2 > 30 ? 30 : backoff * 2;
		pthread_mutex_lock(&mb->lock);
		mb->poke = mb->poke || poke;
		pthread_mutex_unlock(&mb->lock);
		/* Sleep out the back-off unless stopped. */
		pthread_mutex_lock(&mb->lock);
		while (!mb->stop && time(NULL) < due) {
			struct timespec ts = { .tv_sec = due };

			pthread_cond_timedwait(&mb->cond, &mb->lock, &ts);
		}
		pthread_mutex_unlock(&mb->lock);
	}
	regclient_free(rc);
	return NULL;
}

/* ---- life ----------------------------------------------------------------- */

static void free_lists(struct agent_mailbox *mb)
{
	while (mb->out_head) {
		struct outmsg *m = mb->out_head;

		mb->out_head = m->next;
		free(m);
	}
	while (mb->in_head) {
		struct agent_mailbox_rec *r = mb->in_head;

		mb->in_head = r->next;
		free(r);
	}
	regclient_report_free(mb->report);
}

int agent_mailbox_new(const struct agent_mailbox_params *p, struct agent_mailbox **out)
{
	struct agent_mailbox *mb;
	pthread_condattr_t ca;
	int r;

	if (!p->url || !p->net || !p->identity_seed)
		return -EINVAL;
	mb = calloc(1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	mb->p = *p;
	mb->url = strdup(p->url);
	if (!mb->url) {
		free(mb);
		return -ENOMEM;
	}
	mb->net = *p->net;
	mb->p.net = &mb->net;
	mb->p.url = mb->url;
	memcpy(mb->identity, p->identity_seed, 32);
	mb->p.identity_seed = NULL;
	mb->out_tail = &mb->out_head;
	mb->in_tail = &mb->in_head;
	pthread_mutex_init(&mb->lock, NULL);
	/* Deadlines are wall-clock seconds (time(NULL)), the condattr's
	 * default clock. */
	pthread_condattr_init(&ca);
	pthread_cond_init(&mb->cond, &ca);
	pthread_condattr_destroy(&ca);
	r = pthread_create(&mb->thread, NULL, mailbox_main, mb);
	if (r) {
		pthread_cond_destroy(&mb->cond);
		pthread_mutex_destroy(&mb->lock);
		cry_wipe(mb->identity, sizeof(mb->identity));
		free(mb->url);
		free(mb);
		return -r;
	}
	*out = mb;
	return 0;
}

void agent_mailbox_free(struct agent_mailbox *mb)
{
	if (!mb)
		return;
	pthread_mutex_lock(&mb->lock);
	mb->stop = true;
	pthread_cond_signal(&mb->cond);
	pthread_mutex_unlock(&mb->lock);
	pthread_join(mb->thread, NULL);
	free_lists(mb);
	pthread_cond_destroy(&mb->cond);
	pthread_mutex_destroy(&mb->lock);
	cry_wipe(mb->identity, sizeof(mb->identity));
	free(mb->url);
	free(mb);
}
