/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fork-join pool of threads for the engine's crypto: the caller hands it n
 * independent jobs, takes part in running them, and gets control back when
 * every job has finished. Whatever must happen in order is done by the
 * caller before (assigning nonces) and after (replay windows, delivery), so
 * the pool needs no queues and no ordering of its own (docs/io.md).
 *
 * Jobs are claimed one at a time from a shared counter, so a slow thread (or
 * one the scheduler has not woken yet) holds up at most the job it holds:
 * the caller and whoever else is awake take the rest. Every thread has a
 * number: 0 is the caller, 1..n the pool's, so fn can use a per-thread
 * context (a cipher context) without locking.
 *
 * Threads. workers_run() may be called by one thread at a time (the event
 * loop). The pool's threads block every signal, so signals keep arriving
 * through the loop's signalfd.
 */
#ifndef IO_WORKERS_H
#define IO_WORKERS_H

#include <stddef.h>

/* Most threads a pool may have besides the caller. */
#define WORKERS_MAX 64
/* Batches smaller than this run on the caller alone: waking a thread costs
 * more than sealing a few packets. */
#define WORKERS_MIN_BATCH 4

struct workers;

/* Run job i of a batch on thread number `thread` (0: the caller). */
typedef void (*workers_fn)(void *ctx, unsigned int thread, size_t i);

/* Start n threads (1..WORKERS_MAX). 0, -EINVAL, -ENOMEM or the -errno of
 * pthread_create; *out only on success. */
int workers_new(unsigned int n, struct workers **out);
/* Stop and join the threads. No batch may be running. NULL ok. */
void workers_free(struct workers *w);
/* Threads besides the caller. */
unsigned int workers_count(const struct workers *w);
/* Call fn(ctx, thread, i) once for each i in [0, n), on the caller and the
 * pool's threads, and return when all calls have returned. Their memory
 * effects are then visible to the caller, as the caller's before the call
 * are to them. */
void workers_run(struct workers *w, size_t n, workers_fn fn, void *ctx);

#endif
