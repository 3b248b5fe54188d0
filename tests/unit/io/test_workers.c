// SPDX-License-Identifier: GPL-2.0-only
/*
 * io/workers.h, the fork-join pool, and the core's data path split at the
 * AEAD (wg.h, "crypto on worker threads") run on it the way the engine runs
 * it: prepare in order, seal/open on the pool in whatever order the threads
 * finish, finish in order. The split path must give exactly what the
 * one-call path gives: twin devices (same keys, same RNG seeds) are fed the
 * same packets, one through each path, and their outputs compared.
 */
#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "io/workers.h"
/* The whole-device harness of the wg tests; not all of it is used here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "wg/harness.h"
#pragma GCC diagnostic pop

#include "crypto/aead.h"

/* ---- the pool ------------------------------------------------------------ */

#define MAXJ 4096

struct pool_run {
	_Atomic unsigned int calls[MAXJ];
	_Atomic int busy[WORKERS_MAX + 1]; /* a thread number is in use */
	unsigned int spin[MAXJ];	   /* per-job busy work: random finish order */
	uint64_t out[MAXJ];		   /* plain writes, read after the join */
	unsigned int thread_of[MAXJ];
	uint64_t tag;
	unsigned int nthreads;
	_Atomic int overlap;
};

/* Busy work of n steps that the compiler cannot drop, so jobs finish in a
 * random order. */
static void spin(unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		__asm__ volatile("" : : "r"(k) : "memory");
}

static void pool_fn(void *ctx, unsigned int thread, size_t i)
{
	struct pool_run *r = ctx;
	if (thread > r->nthreads || atomic_exchange(&r->busy[thread], 1))
		atomic_store(&r->overlap, 1);
	spin(r->spin[i]);
	r->out[i] = r->tag + i;
	r->thread_of[i] = thread;
	atomic_fetch_add(&r->calls[i], 1);
	atomic_store(&r->busy[thread], 0);
}

static void run_once(struct workers *w, struct pool_run *r, size_t n, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++) {
		atomic_store(&r->calls[i], 0);
		r->spin[i] = (unsigned int)(t_rng64(rng) % 20000);
		r->out[i] = 0;
	}
	r->tag = t_rng64(rng) & ~(uint64_t)0xffff;
	workers_run(w, n, pool_fn, r);
}

static int check_once(struct pool_run *r, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++)
		bad |= atomic_load(&r->calls[i]) != 1 || r->out[i] != r->tag + i;
	return bad;
}

/* Every job runs exactly once, its writes are visible after the join, and
 * no thread number is used by two jobs at once. */
static void test_pool_each_once(void)
{
	static const size_t sizes[] = { 0, 1, 3, 4, 5, 64, 128, 1000, MAXJ };
	static struct pool_run r;
	uint64_t rng = 1;

	for (unsigned int t = 1; t <= 4; t++) {
		struct workers *w = NULL;
		bool helped = false;

		CHECK_EQ(workers_new(t, &w), 0);
		CHECK_EQ(workers_count(w), t);
		memset(&r, 0, sizeof(r));
		r.nthreads = t;
		for (size_t s = 0; s < SC_ARRAY_SIZE(sizes); s++) {
			run_once(w, &r, sizes[s], &rng);
			CHECK(!check_once(&r, sizes[s]));
			for (size_t i = 0; i < sizes[s]; i++)
				helped |= r.thread_of[i] != 0;
		}
		CHECK(!atomic_load(&r.overlap));
		/* 1000 jobs of busy work: the pool's threads took some. */
		CHECK(helped);
		workers_free(w);
	}
}

/* Batches below WORKERS_MIN_BATCH run on the caller, in order. */
static void test_pool_small_inline(void)
{
	static struct pool_run r;
	struct workers *w = NULL;
	uint64_t rng = 2;

	CHECK_EQ(workers_new(2, &w), 0);
	r.nthreads = 2;
	for (int k = 0; k < 100; k++) {
		run_once(w, &r, WORKERS_MIN_BATCH - 1, &rng);
		CHECK(!check_once(&r, WORKERS_MIN_BATCH - 1));
		for (size_t i = 0; i < WORKERS_MIN_BATCH - 1; i++)
			CHECK_EQ(r.thread_of[i], 0);
	}
	workers_free(w);
}

/* Many short rounds back to back: a thread that wakes late for one round
 * must not run a job of the next with the old round's function. */
static void test_pool_many_rounds(void)
{
	static struct pool_run r;
	struct workers *w = NULL;
	uint64_t rng = 3;
	int bad = 0;

	CHECK_EQ(workers_new(3, &w), 0);
	r.nthreads = 3;
	for (int k = 0; k < 20000; k++) {
		size_t n = WORKERS_MIN_BATCH + (size_t)(t_rng64(&rng) % 12);

		for (size_t i = 0; i < n; i++) {
			atomic_store(&r.calls[i], 0);
			r.spin[i] = (unsigned int)(t_rng64(&rng) % 64);
		}
		r.tag = (uint64_t)k << 16;
		workers_run(w, n, pool_fn, &r);
		bad |= check_once(&r, n);
	}
	CHECK(!bad);
	CHECK(!atomic_load(&r.overlap));
	workers_free(w);
}

static void test_pool_args(void)
{
	struct workers *w = (struct workers *)&w;

	CHECK_EQ(workers_new(0, &w), -EINVAL);
	CHECK_EQ(workers_new(WORKERS_MAX + 1, &w), -EINVAL);
	CHECK(w == (struct workers *)&w); /* untouched on failure */
	workers_free(NULL);
}

/* ---- the split data path --------------------------------------------------- */

#define NPKT  160
#define BUFSZ (16 + 2048 + 64)

/* One batch of jobs, as the engine holds it. */
struct split {
	struct workers *pool;
	struct cry_aead *aead[3];
	struct wg_job jobs[NPKT];
	size_t perm[NPKT]; /* job i of a round runs jobs[perm[i]]: any order */
	unsigned int spin[NPKT];
	size_t n;
};

static void split_fn(void *ctx, unsigned int thread, size_t i)
{
	struct split *s = ctx;
	spin(s->spin[i]);
	wg_job_run(s->aead[thread], &s->jobs[s->perm[i]]);
}

static void split_init(struct split *s)
{
	memset(s, 0, sizeof(*s));
	CHECK_EQ(workers_new(2, &s->pool), 0);
	for (int i = 0; i < 3; i++) {
		s->aead[i] = cry_aead_new();
		CHECK(s->aead[i] != NULL);
	}
}

static void split_free(struct split *s)
{
	workers_free(s->pool);
	for (int i = 0; i < 3; i++)
		cry_aead_free(s->aead[i]);
}

/* Run the pending jobs in a random order on the pool. */
static void split_run(struct split *s, uint64_t *rng)
{
	for (size_t i = 0; i < s->n; i++)
		s->perm[i] = i;
	for (size_t i = s->n; i > 1; i--) {
		size_t j = (size_t)(t_rng64(rng) % i), t = s->perm[i - 1];

		s->perm[i - 1] = s->perm[j];
		s->perm[j] = t;
	}
	for (size_t i = 0; i < s->n; i++)
		s->spin[i] = (unsigned int)(t_rng64(rng) % 5000);
	workers_run(s->pool, s->n, split_fn, s);
}

/* Two devices with the same keys and RNG seeds (a and its twin a2, b and
 * b2), a session between a and b made by one handshake whose messages both
 * twins see, so the twins hold identical keypairs. */
static struct h_node na, na2, nb, nb2;
static struct wg_peer *p_ab, *p_a2b, *p_ba, *p_b2a;

static void twins_setup(void)
{
	h_reset();
	h_now = 1000 * SC_NSEC_PER_SEC;
	h_node_init(&na, "a", 1);
	h_node_init(&nb, "b", 2);
	h_node_init(&na2, "a2", 1);
	h_node_init(&nb2, "b2", 2);
	p_ab = h_peer(&na, &nb, "10.0.0.2", 32);
	p_a2b = h_peer(&na2, &nb, "10.0.0.2", 32);
	p_ba = h_peer(&nb, &na, "10.0.0.1", 32);
	p_b2a = h_peer(&nb2, &na, "10.0.0.1", 32);

	wg_dev_initiate(na.dev, h_now, p_ab, &na.sink);
	wg_dev_initiate(na2.dev, h_now, p_a2b, &na2.sink);
	CHECK_EQ(na.n_out, 1);
	CHECK_EQ(na2.n_out, 1);
	CHECK_MEM(na.out[0].data, na2.out[0].data, na.out[0].len);
	CHECK_EQ(h_inject(&nb, na.out[0].data, na.out[0].len, &na), 0);
	CHECK_EQ(h_inject(&nb2, na.out[0].data, na.out[0].len, &na), 0);
	CHECK_EQ(nb.n_out, 1);
	CHECK_EQ(nb2.n_out, 1);
	CHECK_MEM(nb.out[0].data, nb2.out[0].data, nb.out[0].len);
	CHECK_EQ(h_inject(&na, nb.out[0].data, nb.out[0].len, &nb), 0);
	CHECK_EQ(h_inject(&na2, nb.out[0].data, nb.out[0].len, &nb), 0);
	/* Each initiator answered with a keepalive, which b has not seen: b's
	 * keypair is still the unconfirmed next. */
	CHECK_EQ(na.n_out, 2);
	CHECK_EQ(na2.n_out, 2);
	nb.n_out = nb2.n_out = 0;
}

/* Inner packets from a: to b (several sizes, IPv4), to nobody, malformed. */
static size_t make_inner(uint8_t *p, int i, uint64_t *rng)
{
	if (i % 23 == 7)
		return h_ip4(p, "10.0.0.1", "10.0.0.99", 10, (uint8_t)i); /* no route */
	if (i % 31 == 11) {
		memset(p, 0x45, 10); /* too short for its header */
		return 10;
	}
	return h_ip4(p, "10.0.0.1", "10.0.0.2", (size_t)(t_rng64(rng) % 1400), (uint8_t)i);
}

/* a sends through wg_dev_send_tun, a2 the same packets through the split
 * path in random batches; what leaves must be the same bytes in the same
 * order, with the same return codes. */
static void test_split_send(void)
{
	static uint8_t bufs[NPKT][BUFSZ];
	static struct split s;
	uint8_t inner[2048];
	int rc1[NPKT], rc2[NPKT];
	struct wg_dev_stats st1, st2;
	uint64_t rng = 7;
	int i = 0, j;

	twins_setup();
	split_init(&s);
	na.n_out = na2.n_out = 0;
	while (i < NPKT) {
		int n = 1 + (int)(t_rng64(&rng) % 40);

		s.n = 0;
		for (j = i; j < i + n && j < NPKT; j++) {
			size_t len = make_inner(inner, j, &rng);
			struct wg_buf b = { bufs[j] + 16, len, 16, BUFSZ - 16 - len };

			rc1[j] = h_send(&na, inner, len);
			memcpy(bufs[j] + 16, inner, len);
			rc2[j] = wg_dev_send_prepare(na2.dev, h_now, &b, &s.jobs[s.n]);
			CHECK(rc2[j] != WG_SYNC); /* a session, room, nothing staged */
			if (rc2[j] == 0)
				s.n++;
		}
		split_run(&s, &rng);
		for (size_t k = 0, m = 0; k < (size_t)(j - i); k++)
			if (rc2[i + (int)k] == 0)
				rc2[i + (int)k] =
					wg_dev_send_finish(na2.dev, h_now, &s.jobs[m++], &na2.sink);
		i = j;
		h_now += SC_NSEC_PER_SEC / 100;
	}
	for (i = 0; i < NPKT; i++)
		CHECK_EQ(rc2[i], rc1[i]);
	CHECK_EQ(na2.n_out, na.n_out);
	CHECK(na.n_out > NPKT / 2);
	for (i = 0; i < na.n_out && i < na2.n_out; i++) {
		CHECK_EQ(na2.out[i].len, na.out[i].len);
		CHECK_MEM(na2.out[i].data, na.out[i].data, na.out[i].len);
	}
	wg_dev_get_stats(na.dev, &st1);
	wg_dev_get_stats(na2.dev, &st2);
	CHECK_EQ(st2.tx_dropped, st1.tx_dropped);
	CHECK(st1.tx_dropped > 0);
	split_free(&s);
	h_reset();
}

/* What b receives, in order: the datagram bytes. */
struct stream {
	uint8_t data[2 * NPKT][1600];
	size_t len[2 * NPKT];
	int n;
};

static void stream_add(struct stream *st, const uint8_t *p, size_t len)
{
	if (st->n < 2 * NPKT && len <= sizeof(st->data[0])) {
		memcpy(st->data[st->n], p, len);
		st->len[st->n++] = len;
	}
}

/* a's keepalive and data, reordered, replayed, forged, with unknown indices
 * and a replayed initiation (a handshake: the one-call path) among them. */
static void make_stream(struct stream *st, uint64_t *rng)
{
	static struct h_dgram sent[H_MAXQ];
	uint8_t inner[2048];
	int n, i;

	/* One packet from a source outside a's allowed IPs: b filters it. */
	h_send(&na, inner, h_ip4(inner, "10.0.0.66", "10.0.0.2", 40, 1));
	for (i = 0; i < 120; i++)
		h_send(&na, inner, h_ip4(inner, "10.0.0.1", "10.0.0.2", t_rng64(rng) % 1400, 2));
	/* a's queue: the initiation, the keepalive, then the data. */
	n = na.n_out;
	memcpy(sent, na.out, sizeof(sent[0]) * (size_t)n);
	for (i = 1; i < n; i++) {
		uint64_t r = t_rng64(rng) % 16;

		if (r == 0 && i + 1 < n) { /* swap with the next */
			stream_add(st, sent[i + 1].data, sent[i + 1].len);
			stream_add(st, sent[i].data, sent[i].len);
			i++;
			continue;
		}
		stream_add(st, sent[i].data, sent[i].len);
		if (r == 1) /* replayed at once */
			stream_add(st, sent[i].data, sent[i].len);
		if (r == 2 && i > 3) /* replayed later */
			stream_add(st, sent[i - 3].data, sent[i - 3].len);
		if (r == 3) { /* forged: one bit of the ciphertext */
			stream_add(st, sent[i].data, sent[i].len);
			st->data[st->n - 1][20] ^= 1;
		}
		if (r == 4) { /* unknown receiver index */
			stream_add(st, sent[i].data, sent[i].len);
			st->data[st->n - 1][4] ^= 0x5a;
		}
		if (r == 5) /* the initiation again: refused as a replay */
			stream_add(st, sent[0].data, sent[0].len);
	}
}

/* b takes the stream through wg_dev_recv_udp, b2 through the split path in
 * random batches (a WG_SYNC answer finishes the batch first, as the engine
 * does). Same return codes, same packets on TUN, same counters. */
static void test_split_recv(void)
{
	static uint8_t bufs[2 * NPKT][64 + 1600 + 64];
	static struct stream st;
	static struct split s;
	int rc1[2 * NPKT], rc2[2 * NPKT], job_of[2 * NPKT];
	struct wg_dev_stats s1, s2;
	struct wg_peer_info i1, i2;
	uint64_t rng = 11;
	int i = 0, j, start;

	twins_setup();
	split_init(&s);
	memset(&st, 0, sizeof(st));
	make_stream(&st, &rng);
	CHECK(st.n > 100);
	for (i = 0; i < st.n; i++)
		rc1[i] = h_inject(&nb, st.data[i], st.len[i], &na);

	for (i = 0; i < st.n;) {
		int n = 1 + (int)(t_rng64(&rng) % 40);

		s.n = 0;
		start = i;
		for (j = i; j < i + n && j < st.n; j++) {
			struct wg_buf b = { bufs[j] + 64, st.len[j], 64, 64 };

			memcpy(bufs[j] + 64, st.data[j], st.len[j]);
			job_of[j] = -1;
			rc2[j] = wg_dev_recv_prepare(nb2.dev, h_now, &b, &na.addr, &s.jobs[s.n]);
			if (rc2[j] == 0)
				job_of[j] = (int)s.n++;
			if (rc2[j] != WG_SYNC)
				continue;
			/* Finish what came before, then the one-call path. */
			split_run(&s, &rng);
			for (int k = start; k < j; k++)
				if (job_of[k] >= 0)
					rc2[k] = wg_dev_recv_finish(nb2.dev, h_now,
								    &s.jobs[job_of[k]], &nb2.sink);
			s.n = 0;
			start = j + 1;
			rc2[j] = wg_dev_recv_udp(nb2.dev, h_now, &b, &na.addr, &nb2.sink);
		}
		split_run(&s, &rng);
		for (int k = start; k < j; k++)
			if (job_of[k] >= 0)
				rc2[k] = wg_dev_recv_finish(nb2.dev, h_now, &s.jobs[job_of[k]],
							    &nb2.sink);
		i = j;
	}
	for (i = 0; i < st.n; i++)
		CHECK_EQ(rc2[i], rc1[i]);
	/* All kinds of outcome occurred. */
	for (int want = 0; want < 6; want++) {
		static const int codes[] = { 0,
					     WG_ERR_AUTH,
					     WG_ERR_REPLAY,
					     WG_ERR_NOKEY,
					     WG_ERR_FILTERED,
					     WG_ERR_MALFORMED };
		bool seen = false;

		for (i = 0; i < st.n; i++)
			seen |= rc1[i] == codes[want];
		if (codes[want] != WG_ERR_MALFORMED)
			CHECK(seen);
	}
	CHECK_EQ(nb2.n_tun, nb.n_tun);
	CHECK(nb.n_tun > 50);
	for (i = 0; i < nb.n_tun && i < nb2.n_tun; i++) {
		CHECK_EQ(nb2.tun[i].len, nb.tun[i].len);
		CHECK_MEM(nb2.tun[i].data, nb.tun[i].data, nb.tun[i].len);
	}
	wg_dev_get_stats(nb.dev, &s1);
	wg_dev_get_stats(nb2.dev, &s2);
	CHECK_EQ(s2.rx_dropped, s1.rx_dropped);
	wg_peer_get_info(p_ba, &i1);
	wg_peer_get_info(p_b2a, &i2);
	CHECK_EQ(i2.rx_bytes, i1.rx_bytes);
	CHECK(i2.has_session); /* the keepalive confirmed the keypair */
	split_free(&s);
	h_reset();
}

/* A keypair released between prepare and finish (by an earlier packet of
 * the batch, in the engine) is detected by its generation: the packet is
 * dropped as if the keypair had never been found, and the wiped replay
 * window is not touched. */
static void test_split_released_keypair(void)
{
	static uint8_t buf[64 + 1600 + 64];
	struct wg_job job;
	struct wg_buf b = { buf + 64, 0, 64, 64 };
	struct wg_dev_stats st;
	struct cry_aead *aead = cry_aead_new();

	twins_setup();
	/* a's keepalive (out[1]) opens fine on b's next keypair... */
	memcpy(b.data, na.out[1].data, na.out[1].len);
	b.len = na.out[1].len;
	CHECK_EQ(wg_dev_recv_prepare(nb.dev, h_now, &b, &na.addr, &job), 0);
	wg_job_run(aead, &job);
	CHECK_EQ(job.status, 0);
	/* ...but the keypair goes before the finish. */
	wg_peer_clear_keys(nb.dev, p_ba);
	CHECK_EQ(wg_dev_recv_finish(nb.dev, h_now, &job, &nb.sink), WG_ERR_NOKEY);
	CHECK(!h_has_session(p_ba));
	wg_dev_get_stats(nb.dev, &st);
	CHECK_EQ(st.rx_dropped, 1);
	/* Unknown index: dropped at prepare, no job. */
	memcpy(b.data, na.out[1].data, na.out[1].len);
	b.data[4] ^= 1;
	CHECK_EQ(wg_dev_recv_prepare(nb.dev, h_now, &b, &na.addr, &job), WG_ERR_NOKEY);
	/* A handshake message is not for the split path. */
	memcpy(b.data, na.out[0].data, na.out[0].len);
	b.len = na.out[0].len;
	CHECK_EQ(wg_dev_recv_prepare(nb.dev, h_now, &b, &na.addr, &job), WG_SYNC);
	cry_aead_free(aead);
	h_reset();
}

/* Sending without a session, or without room around the packet, takes the
 * one-call path (which stages or bounces); nothing is consumed. */
static void test_split_send_sync(void)
{
	static uint8_t buf[16 + 2048 + 64];
	uint8_t inner[256];
	struct wg_job job;
	size_t len = h_ip4(inner, "10.0.0.1", "10.0.0.2", 100, 3);
	struct wg_buf b = { buf + 16, len, 16, 64 };

	h_reset();
	h_now = SC_NSEC_PER_SEC;
	h_node_init(&na, "a", 1);
	h_node_init(&nb, "b", 2);
	p_ab = h_peer(&na, &nb, "10.0.0.2", 32);
	memcpy(b.data, inner, len);
	CHECK_EQ(wg_dev_send_prepare(na.dev, h_now, &b, &job), WG_SYNC); /* no session */
	CHECK_EQ(na.n_out, 0);
	h_peer(&nb, &na, "10.0.0.1", 32);
	CHECK_EQ(h_send(&na, inner, len), WG_QUEUED);
	h_pump();
	CHECK(h_has_session(p_ab));
	b.headroom = 8; /* too little for the header */
	CHECK_EQ(wg_dev_send_prepare(na.dev, h_now, &b, &job), WG_SYNC);
	b.headroom = 16;
	b.tailroom = 8; /* too little for padding and tag */
	CHECK_EQ(wg_dev_send_prepare(na.dev, h_now, &b, &job), WG_SYNC);
	b.tailroom = 64;
	CHECK_EQ(wg_dev_send_prepare(na.dev, h_now, &b, &job), 0);
	h_reset();
}

static const struct t_case cases[] = {
	T(test_pool_each_once),
	T(test_pool_small_inline),
	T(test_pool_many_rounds),
	T(test_pool_args),
	T(test_split_send),
	T(test_split_recv),
	T(test_split_released_keypair),
	T(test_split_send_sync),
};

int main(void)
{
	return t_main("io-workers", cases, SC_ARRAY_SIZE(cases));
}
