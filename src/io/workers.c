// SPDX-License-Identifier: GPL-2.0-only
#include "io/workers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

struct worker {
	struct workers *pool;
	unsigned int id; /* 1..n */
	pthread_t thread;
};

struct workers {
	pthread_mutex_t mu;
	pthread_cond_t go;   /* a new round, or stop */
	pthread_cond_t done; /* the last job of a round finished */
	/* The round, under mu: threads copy it when they wake. */
	uint32_t round;
	bool stop;
	workers_fn fn;
	void *ctx;
	size_t n;
	/* (round << 32) | next job. The round in the word stops a thread that
	 * woke late from claiming a job of a later round with the earlier
	 * round's fn and ctx. */
	_Atomic uint64_t claim;
	_Atomic size_t finished; /* jobs of the current round that returned */
	unsigned int nthreads;
	struct worker *threads;
};

/* Claim and run jobs of round until none is left. */
static void work(struct workers *w, unsigned int id, uint32_t round, workers_fn fn, void *ctx,
		 size_t n)
{
	uint64_t c = atomic_load(&w->claim);

	for (;;) {
		if ((uint32_t)(c >> 32) != round || (c & UINT32_MAX) >= n)
			return;
		if (!atomic_compare_exchange_weak(&w->claim, &c, c + 1))
			continue; /* c was reloaded */
		fn(ctx, id, (size_t)(c & UINT32_MAX));
		if (atomic_fetch_add(&w->finished, 1) + 1 == n) {
			pthread_mutex_lock(&w->mu);
			pthread_cond_signal(&w->done);
			pthread_mutex_unlock(&w->mu);
			return;
		}
		c = atomic_load(&w->claim);
	}
}

static void *worker_main(void *arg)
{
	struct worker *t = arg;
	struct workers *w = t->pool;
	uint32_t seen = 0, round;
	workers_fn fn;
	void *ctx;
	size_t n;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->stop && w->round == seen)
			pthread_cond_wait(&w->go, &w->mu);
		if (w->stop)
			break;
		seen = round = w->round;
		fn = w->fn;
		ctx = w->ctx;
		n = w->n;
		pthread_mutex_unlock(&w->mu);
		work(w, t->id, round, fn, ctx, n);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void stop_threads(struct workers *w, unsigned int started)
{
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->mu);
	for (unsigned int i = 0; i < started; i++)
		pthread_join(w->threads[i].thread, NULL);
}

/* Threads inherit the creator's signal mask: give them a full one, so no
 * signal is ever delivered to a crypto thread instead of the loop. */
static int start_threads(struct workers *w)
{
	sigset_t all, old;
	unsigned int i;
	int r = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < w->nthreads; i++) {
		w->threads[i] = (struct worker){ .pool = w, .id = i + 1 };
		r = pthread_create(&w->threads[i].thread, NULL, worker_main, &w->threads[i]);
		if (r)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		stop_threads(w, i);
	return -r;
}

int workers_new(unsigned int n, struct workers **out)
{
	struct workers *w;
	int r;

	if (n < 1 || n > WORKERS_MAX)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->threads = calloc(n, sizeof(*w->threads));
	if (!w->threads) {
		free(w);
		return -ENOMEM;
	}
	w->nthreads = n;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->go, NULL);
	pthread_cond_init(&w->done, NULL);
	r = start_threads(w);
	if (r) {
		pthread_cond_destroy(&w->done);
		pthread_cond_destroy(&w->go);
		pthread_mutex_destroy(&w->mu);
		free(w->threads);
		free(w);
		return r;
	}
	*out = w;
	return 0;
}

void workers_free(struct workers *w)
{
	if (!w)
		return;
	stop_threads(w, w->nthreads);
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->go);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}

unsigned int workers_count(const struct workers *w)
{
	return w->nthreads;
}

void workers_run(struct workers *w, size_t n, workers_fn fn, void *ctx)
{
	uint32_t round;

	if (n < WORKERS_MIN_BATCH || n > UINT32_MAX) {
		for (size_t i = 0; i < n; i++)
			fn(ctx, 0, i);
		return;
	}
	pthread_mutex_lock(&w->mu);
	round = ++w->round;
	w->fn = fn;
	w->ctx = ctx;
	w->n = n;
	atomic_store(&w->finished, 0);
	atomic_store(&w->claim, (uint64_t)round << 32);
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->mu);

	work(w, 0, round, fn, ctx, n);

	pthread_mutex_lock(&w->mu);
	while (atomic_load(&w->finished) < n)
		pthread_cond_wait(&w->done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}
