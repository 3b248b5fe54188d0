// SPDX-License-Identifier: GPL-2.0-only
/*
 * Handshake load generator: how many WireGuard handshakes per second a daemon
 * completes, and what each costs it (bench/wg_handshakes.sh runs it against
 * `scoped wg` and wireguard-go; docs/benchmarks.md has the figures).
 *
 * Each of K initiator keys is a whole device of Scope's own core (src/wg)
 * with one peer, the daemon, which has the K public keys as peers. A device
 * sends its initiation from one of A local addresses (one UDP socket bound
 * to each, initiator i on address i mod A) so that under load the per-source
 * rate limiter of the daemon (20 handshakes/s per IP, burst 5) is not what is
 * measured: with A addresses it caps the load at 20 * A per second, and the
 * report says so. The daemon's response goes back into the device; a
 * response the core accepts completes the handshake (the core then sends its
 * keepalive, which confirms the session on the daemon, as a real peer does).
 * A cookie reply goes into the device too, and the initiation is sent again
 * at once, now with mac2.
 *
 * Pacing. At most -w handshakes are in flight. A key starts a new handshake
 * no sooner than -g ms after its last one completed: both daemons refuse
 * more than 50 initiations per second and peer, and TAI64N stamps are
 * rounded to 2^24 ns, so a key must not come back within 20 ms. An
 * initiation unanswered after -r ms (default REKEY_TIMEOUT, 5 s, as a real
 * peer) is sent again and counted as a timeout; a shorter retry makes an
 * overloaded daemon answer initiations nobody waits for any more.
 *
 * The core's clock. wg_dev_initiate() sends at most one initiation per
 * REKEY_TIMEOUT (5 s) per peer, which is right for a tunnel and useless for
 * a load generator. Each device therefore gets its own virtual `now`, moved
 * forward by REKEY_TIMEOUT before each initiation and left alone while the
 * answer is processed; the wall clock (TAI64N) and the RNG are real. One
 * side effect: the core keeps a cookie for COOKIE_SECRET_MAX_AGE -
 * COOKIE_SECRET_LATENCY (115 s) of its clock, so 23 initiations of the same
 * key, after which an initiation goes out without mac2 and, if the daemon is
 * still loaded, costs one more cookie round trip: one cookie per key and
 * 23 initiations (about 4 % of them) where a real peer sees one per key and
 * two minutes. wg_dev_tick() is never called: the generator does its own
 * retries.
 *
 * Counting. After -W seconds of warm-up, -t seconds are measured: handshakes
 * completed, initiations sent, cookie replies seen, timeouts, the latency of
 * each completed handshake from its first initiation (1 ms bins), the
 * generator's own CPU use and, with -P, the daemon's CPU time from
 * /proc/PID/stat (utime + stime, all threads) over the same window. Output
 * is one key=value per line. IPv4 only. Exit 0, or 1 on bad usage or setup,
 * or 2 if not a single handshake completed in the window (a wrong key or
 * address, or so few source addresses that the daemon's per-address limiter
 * dropped an initiation of every key, which then waits -r ms).
 *
 * Verifying. By default every response goes through the core, which checks
 * it and completes the session (two DHs, as costly as the daemon's side).
 * With -v N only one response in N does; the others count when they have a
 * response's length and name the initiation in flight. That is the mode
 * that can overload a daemon from one core of a small machine; the sampled
 * responses still show that the daemon's answers are valid (rejected=0).
 *
 * Usage: bench-handshake -e IP:PORT -p PUBKEY -k KEYFILE -s ADDR[+N] [-s ...]
 *                        [-t SECS] [-W SECS] [-w WINDOW] [-g MS] [-r MS] [-v N]
 *                        [-P PID]
 */
#define _GNU_SOURCE /* recvmmsg */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/compiler.h"
#include "common/encode.h"
#include "common/parse.h"
#include "crypto/ct.h"
#include "io/env.h"
#include "wg/constants.h"
#include "wg/limits.h"
#include "wg/messages.h"
#include "wg/wg.h"

#define MAX_KEYS  WG_MAX_PEERS /* a daemon has no more peers either */
#define MAX_SOCKS 4096
#define RX_BATCH  64
#define LAT_BINS  10000 /* 1 ms each; the last one holds everything slower */
/* Initiators start spread over this much time, not in one burst. */
#define RAMP_NS (200 * SC_NSEC_PER_MSEC)
/* How often unanswered initiations are looked for. */
#define SCAN_NS (10 * SC_NSEC_PER_MSEC)

struct initiator {
	struct wg_dev *dev;
	struct wg_peer *peer;
	unsigned int sock; /* index of its socket */
	uint32_t index;	   /* sender index of the initiation in flight */
	uint64_t vnow;	   /* the core's clock for this device (see the top) */
	uint64_t first_tx; /* when this handshake was first attempted */
	uint64_t last_tx;  /* when its latest initiation went out */
	uint64_t ready_at; /* idle: may start again from then on */
	bool waiting;	   /* a handshake is in flight */
	bool done;	   /* the core reported it complete (sink event) */
};

struct counters {
	uint64_t initiations; /* initiation messages sent */
	uint64_t completed;   /* handshakes completed */
	uint64_t cookies;     /* cookie replies the core accepted */
	uint64_t timeouts;    /* initiations sent again after -r ms */
	uint64_t rejected;    /* answers the core refused */
	uint64_t stale;	      /* answers to an initiation no longer in flight */
	uint64_t other;	      /* datagrams that are neither response nor cookie */
	uint64_t tx_errors;   /* send() failures (full socket buffer) */
	uint64_t unverified;  /* responses counted without the core (-v) */
	uint64_t responses;   /* responses to an initiation in flight */
};

struct opts {
	struct sockaddr_in target;
	uint8_t target_pub[WG_KEY_LEN];
	const char *keyfile;
	struct in_addr *srcs;
	size_t n_srcs;
	uint64_t secs, warmup, window, gap_ms, retry_ms;
	uint64_t verify; /* 1 response in this many goes through the core */
	int daemon_pid;	 /* 0: none */
};

struct bench {
	const struct opts *o;
	struct initiator *ini;
	size_t n_ini;
	int *socks;
	size_t n_socks;
	int epfd;
	struct sc_env env;
	struct wg_sink sink;
	struct wg_endpoint target_ep;
	struct initiator *cur; /* the device being called, for the sink */

	/* Idle initiators in the order they became idle, so ready_at grows. */
	uint32_t *ready;
	size_t ready_head, ready_count;
	size_t in_flight;

	struct counters c;
	bool measuring;
	bool any_completed; /* in the measured window */
	uint32_t lat[LAT_BINS];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SC_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ---- the core's sink ---------------------------------------------------- */

static void sink_send_udp(void *ctx, struct wg_peer *peer, const struct wg_endpoint *ep,
			  const uint8_t *pkt, size_t len, unsigned int flags)
{
	struct bench *b = ctx;
	struct initiator *in = b->cur;

	(void)peer;
	(void)ep; /* always the daemon: the socket is connected to it */
	(void)flags;
	if (!in)
		return;
	if (send(b->socks[in->sock], pkt, len, MSG_DONTWAIT) != (ssize_t)len) {
		b->c.tx_errors++;
		return;
	}
	if (len == sizeof(struct wg_msg_initiation) && pkt[0] == MESSAGE_HANDSHAKE_INITIATION) {
		/* Answers name it by this index (offset 4, little endian). */
		in->index = wg_get_le32(pkt + 4);
		b->c.initiations++;
	}
}

static void sink_deliver_tun(void *ctx, struct wg_peer *peer, const uint8_t *pkt, size_t len,
			     unsigned int flags)
{
	/* The daemon sends no data to a generator. */
}

static void sink_event(void *ctx, struct wg_peer *peer, enum wg_event ev)
{
	struct bench *b = ctx;

	if (ev == WG_EVENT_HANDSHAKE_COMPLETE && b->cur)
		b->cur->done = true;
}

/* ---- initiators --------------------------------------------------------- */

static void send_initiation(struct bench *b, struct initiator *in, uint64_t now)
{
	in->vnow += REKEY_TIMEOUT;
	in->done = false;
	in->last_tx = now;
	b->cur = in;
	wg_dev_initiate(in->dev, in->vnow, in->peer, &b->sink);
	b->cur = NULL;
}

static void push_ready(struct bench *b, struct initiator *in, uint64_t ready_at)
{
	in->ready_at = ready_at;
	b->ready[(b->ready_head + b->ready_count) % b->n_ini] = (uint32_t)(in - b->ini);
	b->ready_count++;
}

/* Start handshakes on idle keys while the window has room. */
static void launch(struct bench *b, uint64_t now)
{
	while (b->in_flight < b->o->window && b->ready_count) {
		struct initiator *in = &b->ini[b->ready[b->ready_head]];

		if (in->ready_at > now)
			break;
		b->ready_head = (b->ready_head + 1) % b->n_ini;
		b->ready_count--;
		in->waiting = true;
		in->first_tx = now;
		b->in_flight++;
		send_initiation(b, in, now);
	}
}

static void completed(struct bench *b, struct initiator *in, uint64_t now)
{
	uint64_t ms = (now - in->first_tx) / SC_NSEC_PER_MSEC;

	in->waiting = false;
	b->in_flight--;
	b->c.completed++;
	if (b->measuring)
		b->lat[ms < LAT_BINS ? ms : LAT_BINS - 1]++;
	push_ready(b, in, now + b->o->gap_ms * SC_NSEC_PER_MSEC);
}

static void scan_timeouts(struct bench *b, uint64_t now)
{
	uint64_t retry = b->o->retry_ms * SC_NSEC_PER_MSEC;

	for (size_t i = 0; i < b->n_ini; i++) {
		struct initiator *in = &b->ini[i];

		if (in->waiting && now - in->last_tx >= retry) {
			b->c.timeouts++;
			send_initiation(b, in, now);
		}
	}
}

/* The initiator of socket s whose initiation in flight has this index. */
static struct initiator *find_initiator(struct bench *b, size_t s, uint32_t index)
{
	for (size_t i = s; i < b->n_ini; i += b->n_socks) {
		struct initiator *in = &b->ini[i];

		if (in->waiting && in->index == index)
			return in;
	}
	return NULL;
}

static void answer(struct bench *b, size_t s, uint8_t *p, size_t len, size_t cap, uint64_t now)
{
	struct wg_buf buf = { .data = p, .len = len, .headroom = 0, .tailroom = cap - len };
	struct initiator *in;
	uint32_t index;
	int type = wg_msg_type(p, len), r;

	if (type == MESSAGE_HANDSHAKE_RESPONSE) {
		index = wg_get_le32(p + 8); /* receiver: our sender index */
	} else if (type == MESSAGE_HANDSHAKE_COOKIE) {
		index = wg_get_le32(p + 4);
	} else {
		b->c.other++;
		return;
	}
	in = find_initiator(b, s, index);
	if (!in) {
		b->c.stale++;
		return;
	}
	if (type == MESSAGE_HANDSHAKE_RESPONSE && b->c.responses++ % b->o->verify) {
		/* -v: the response of the right length naming the initiation
		 * in flight counts without its two DHs, so the generator can
		 * outrun the daemon; the sampled ones show they are valid. */
		b->c.unverified++;
		completed(b, in, now);
		return;
	}
	b->cur = in;
	r = wg_dev_recv_udp(in->dev, in->vnow, &buf, &b->target_ep, &b->sink);
	b->cur = NULL;
	if (type == MESSAGE_HANDSHAKE_RESPONSE && r == 0 && in->done) {
		completed(b, in, now);
	} else if (type == MESSAGE_HANDSHAKE_COOKIE && r == 0) {
		b->c.cookies++;
		send_initiation(b, in, now);
	} else {
		b->c.rejected++;
	}
}

static void drain(struct bench *b, size_t s)
{
	uint8_t bufs[RX_BATCH][256];
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	uint64_t now;
	int n;

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = sizeof(bufs[i]) };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i],
								 .msg_iovlen = 1 } };
		}
		n = recvmmsg(b->socks[s], msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		now = mono_ns();
		for (int i = 0; i < n; i++)
			answer(b, s, bufs[i], msgs[i].msg_len, sizeof(bufs[i]), now);
		if (n < RX_BATCH)
			return;
	}
}

/* ---- setup -------------------------------------------------------------- */

static int open_socket(struct bench *b, size_t s)
{
	struct sockaddr_in src = { .sin_family = AF_INET, .sin_addr = b->o->srcs[s] };
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = s };
	int fd, sz = 1 << 20;

	b->socks[s] = fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Answers come in bursts of up to the window. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) ||
	    connect(fd, (const struct sockaddr *)&b->o->target, sizeof(b->o->target)) ||
	    epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return 0;
}

static int add_initiator(struct bench *b, const uint8_t priv[WG_KEY_LEN], uint64_t now)
{
	struct initiator *in = &b->ini[b->n_ini];
	struct wg_peer_config pc = {
		.flags = WG_PEER_HAS_PUBLIC_KEY | WG_PEER_HAS_ENDPOINT,
		.endpoint = b->target_ep,
	};
	int r;

	memset(in, 0, sizeof(*in));
	in->dev = wg_dev_new(&b->env);
	if (!in->dev)
		return -ENOMEM;
	b->n_ini++;
	memcpy(pc.public_key, b->o->target_pub, WG_KEY_LEN);
	r = wg_dev_set_private_key(in->dev, priv);
	if (!r)
		r = wg_dev_set_peer(in->dev, now, &pc, NULL, &in->peer);
	if (!r && !in->peer)
		r = -EEXIST; /* the core ignores a peer with our own key */
	in->vnow = now;
	return r;
}

/* One base64 key (wg genkey) per line; blank lines are skipped. */
static int load_keys(struct bench *b, uint64_t now)
{
	FILE *f = fopen(b->o->keyfile, "re");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	uint8_t key[WG_KEY_LEN];
	ssize_t n;
	int r = 0;

	if (!f) {
		fprintf(stderr, "bench-handshake: %s: %s\n", b->o->keyfile, strerror(errno));
		return -errno;
	}
	while (!r && (n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
			n--;
		if (n == 0)
			continue;
		if (b->n_ini == MAX_KEYS) {
			fprintf(stderr, "bench-handshake: more than %d keys\n", MAX_KEYS);
			r = -E2BIG;
		} else if (sc_b64_decode(key, sizeof(key), line, (size_t)n)) {
			fprintf(stderr, "bench-handshake: %s:%zu: not a base64 key\n",
				b->o->keyfile, lineno);
			r = -EINVAL;
		} else if ((r = add_initiator(b, key, now)) < 0) {
			fprintf(stderr, "bench-handshake: key %zu: %s\n", lineno,
				r == -EEXIST ? "it is the daemon's own key" : strerror(-r));
		}
	}
	cry_wipe(key, sizeof(key));
	if (line)
		cry_wipe(line, cap);
	free(line);
	fclose(f);
	if (!r && b->n_ini == 0) {
		fprintf(stderr, "bench-handshake: no key in %s\n", b->o->keyfile);
		r = -EINVAL;
	}
	return r;
}

/* ---- measurement -------------------------------------------------------- */

struct snapshot {
	uint64_t t;
	struct counters c;
	uint64_t self_cpu_ns;
	uint64_t daemon_ticks;	/* UINT64_MAX: unknown */
	uint64_t machine_ticks; /* UINT64_MAX: unknown */
};

static uint64_t self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * SC_NSEC_PER_SEC +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000;
}

/* Read the first line of a /proc file into buf (NUL-terminated). */
static int read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Parse the space-separated numbers number first .. first + n - 1 of p (0
 * is the first word of p) into out. 0 or -EINVAL. */
static int words_u64(const char *p, size_t first, size_t n, uint64_t *out)
{
	char tok[32];

	for (size_t w = 0; w < first + n; w++) {
		size_t len = 0;

		while (*p == ' ')
			p++;
		while (p[len] && p[len] != ' ')
			len++;
		if (len == 0)
			return -EINVAL;
		if (w >= first) {
			if (len >= sizeof(tok))
				return -EINVAL;
			memcpy(tok, p, len);
			tok[len] = '\0';
			if (sc_parse_u64(tok, 0, UINT64_MAX / 16, &out[w - first]))
				return -EINVAL;
		}
		p += len;
	}
	return 0;
}

/* utime + stime of a process, all threads, in clock ticks: fields 14 and 15
 * of /proc/PID/stat, counted after the command name in parentheses (which
 * may hold spaces; field 3 is the first after it). UINT64_MAX if unknown. */
static uint64_t proc_ticks(int pid)
{
	char path[64], buf[1024];
	uint64_t v[2];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_line(path, buf, sizeof(buf)))
		return UINT64_MAX;
	p = strrchr(buf, ')');
	if (!p || words_u64(p + 1, 14 - 3, 2, v))
		return UINT64_MAX;
	return v[0] + v[1];
}

/* Busy ticks of the whole machine, all CPUs (user nice system idle iowait
 * irq softirq steal from /proc/stat; busy is all but idle and iowait), so
 * the report can show what other processes took. UINT64_MAX if unknown. */
static uint64_t machine_busy_ticks(void)
{
	char buf[512];
	uint64_t v[8];

	if (read_line("/proc/stat", buf, sizeof(buf)) || strncmp(buf, "cpu ", 4) ||
	    words_u64(buf + 4, 0, 8, v))
		return UINT64_MAX;
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

static void snap(const struct bench *b, struct snapshot *s)
{
	s->t = mono_ns();
	s->c = b->c;
	s->self_cpu_ns = self_cpu_ns();
	s->daemon_ticks = b->o->daemon_pid ? proc_ticks(b->o->daemon_pid) : UINT64_MAX;
	s->machine_ticks = machine_busy_ticks();
}

static uint64_t percentile(const uint32_t *bins, uint64_t total, double q)
{
	uint64_t want = (uint64_t)((double)total * q), seen = 0;

	for (uint64_t i = 0; i < LAT_BINS; i++) {
		seen += bins[i];
		if (seen > want)
			return i;
	}
	return LAT_BINS - 1;
}

static void report(const struct bench *b, const struct snapshot *s0, const struct snapshot *s1)
{
	double secs = (double)(s1->t - s0->t) / 1e9;
	uint64_t hs = s1->c.completed - s0->c.completed;
	long tck = sysconf(_SC_CLK_TCK);

	printf("keys=%zu\nsources=%zu\nwindow=%llu\n", b->n_ini, b->n_socks,
	       (unsigned long long)b->o->window);
	/* Under load both daemons allow 20 handshakes/s per source address. */
	printf("source_limit_per_s=%zu\n", b->n_socks * 20);
	printf("secs=%.2f\n", secs);
	printf("handshakes=%llu\n", (unsigned long long)hs);
	printf("handshakes_per_s=%.0f\n", (double)hs / secs);
#define DIFF(f) ((unsigned long long)(s1->c.f - s0->c.f))
	printf("initiations=%llu\ncookies=%llu\ntimeouts=%llu\n", DIFF(initiations), DIFF(cookies),
	       DIFF(timeouts));
	printf("rejected=%llu\nstale=%llu\nother=%llu\ntx_errors=%llu\n", DIFF(rejected),
	       DIFF(stale), DIFF(other), DIFF(tx_errors));
	printf("verify_one_in=%llu\nunverified=%llu\n", (unsigned long long)b->o->verify,
	       DIFF(unverified));
#undef DIFF
	if (hs)
		printf("latency_p50_ms=%llu\nlatency_p99_ms=%llu\n",
		       (unsigned long long)percentile(b->lat, hs, 0.50),
		       (unsigned long long)percentile(b->lat, hs, 0.99));
	printf("generator_cpu_pct=%.0f\n",
	       (double)(s1->self_cpu_ns - s0->self_cpu_ns) / 1e9 / secs * 100);
	if (s0->daemon_ticks != UINT64_MAX && s1->daemon_ticks != UINT64_MAX && tck > 0) {
		double cpu = (double)(s1->daemon_ticks - s0->daemon_ticks) / (double)tck;

		printf("daemon_cpu_s=%.2f\ndaemon_cpu_pct=%.0f\n", cpu, cpu / secs * 100);
		if (hs)
			printf("daemon_cpu_us_per_handshake=%.1f\n", cpu * 1e6 / (double)hs);
	}
	if (s0->machine_ticks != UINT64_MAX && s1->machine_ticks != UINT64_MAX && tck > 0)
		printf("machine_cpu_pct=%.0f\n",
		       (double)(s1->machine_ticks - s0->machine_ticks) / (double)tck / secs * 100);
}

static int run(struct bench *b)
{
	struct epoll_event evs[64];
	struct snapshot s0, s1;
	uint64_t start = mono_ns(), now = start, next_scan = start + SCAN_NS;
	uint64_t t_meas = start + b->o->warmup * SC_NSEC_PER_SEC;
	uint64_t t_end = t_meas + b->o->secs * SC_NSEC_PER_SEC;

	for (size_t i = 0; i < b->n_ini; i++)
		push_ready(b, &b->ini[i], start + RAMP_NS * i / b->n_ini);
	memset(&s0, 0, sizeof(s0));
	while (now < t_end) {
		uint64_t wake = next_scan;
		int n, ms;

		launch(b, now);
		if (b->ready_count && b->in_flight < b->o->window &&
		    b->ini[b->ready[b->ready_head]].ready_at < wake)
			wake = b->ini[b->ready[b->ready_head]].ready_at;
		ms = wake > now ? (int)((wake - now + SC_NSEC_PER_MSEC - 1) / SC_NSEC_PER_MSEC) : 0;
		n = epoll_wait(b->epfd, evs, (int)SC_ARRAY_SIZE(evs), ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++)
			drain(b, (size_t)evs[i].data.u64);
		now = mono_ns();
		if (now >= next_scan) {
			scan_timeouts(b, now);
			next_scan = now + SCAN_NS;
		}
		if (!b->measuring && now >= t_meas) {
			snap(b, &s0);
			b->measuring = true;
		}
	}
	snap(b, &s1);
	report(b, &s0, &s1);
	b->any_completed = s1.c.completed > s0.c.completed;
	return 0;
}

/* ---- arguments ---------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-handshake -e IP:PORT -p PUBKEY -k KEYFILE -s ADDR[+N] [-s ...]\n"
		"                       [-t SECS] [-W SECS] [-w WINDOW] [-g MS] [-r MS] [-v N]\n"
		"                       [-P PID]\n"
		"  -e  the daemon's IPv4 address and UDP port\n"
		"  -p  the daemon's public key (base64)\n"
		"  -k  initiator private keys, one base64 key per line; the daemon has\n"
		"      their public keys as peers\n"
		"  -s  local source address, or N consecutive ones from ADDR\n"
		"  -t  seconds measured (10)      -W  seconds of warm-up before (2)\n"
		"  -w  handshakes in flight (all keys)\n"
		"  -g  ms a key rests between handshakes (25; daemons refuse < 20)\n"
		"  -r  ms before an unanswered initiation is sent again (5000,\n"
		"      REKEY_TIMEOUT, as a real peer)\n"
		"  -v  give 1 response in N to the core (1: all); the others count\n"
		"      when they answer an initiation in flight\n"
		"  -P  the daemon's PID: report its CPU time per handshake\n");
	exit(1);
}

static int parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out, char opt)
{
	if (sc_parse_u64(s, min, max, out)) {
		fprintf(stderr, "bench-handshake: -%c: want a number in [%llu, %llu], not '%s'\n",
			opt, (unsigned long long)min, (unsigned long long)max, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_endpoint(const char *s, struct sockaddr_in *out)
{
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];
	uint64_t port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (sc_parse_u64(colon + 1, 1, 65535, &port))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -EINVAL;
}

/* ADDR or ADDR+N: append N consecutive IPv4 addresses from ADDR. */
static int parse_sources(const char *s, struct opts *o)
{
	const char *plus = strchr(s, '+');
	char host[INET_ADDRSTRLEN];
	size_t hl = plus ? (size_t)(plus - s) : strlen(s);
	uint64_t count = 1;
	struct in_addr a;

	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, &a) != 1)
		return -EINVAL;
	if (plus && sc_parse_u64(plus + 1, 1, MAX_SOCKS, &count))
		return -EINVAL;
	if (o->n_srcs + count > MAX_SOCKS)
		return -E2BIG;
	for (uint64_t i = 0; i < count; i++)
		o->srcs[o->n_srcs++].s_addr = htonl(ntohl(a.s_addr) + (uint32_t)i);
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	bool have_target = false, have_pub = false;
	uint64_t pid = 0;
	int c, r = 0;

	while (!r && (c = getopt(argc, argv, "e:p:k:s:t:W:w:g:r:v:P:")) != -1) {
		switch (c) {
		case 'e':
			r = parse_endpoint(optarg, &o->target);
			if (r)
				fprintf(stderr, "bench-handshake: -e: want IPv4:PORT\n");
			have_target = !r;
			break;
		case 'p':
			r = sc_b64_decode(o->target_pub, WG_KEY_LEN, optarg, strlen(optarg));
			if (r)
				fprintf(stderr, "bench-handshake: -p: not a base64 key\n");
			have_pub = !r;
			break;
		case 'k':
			o->keyfile = optarg;
			break;
		case 's':
			r = parse_sources(optarg, o);
			if (r)
				fprintf(stderr,
					"bench-handshake: -s: want IPv4 or IPv4+N, at most %d "
					"in all, not '%s'\n",
					MAX_SOCKS, optarg);
			break;
		case 't':
			r = parse_num(optarg, 1, 3600, &o->secs, 't');
			break;
		case 'W':
			r = parse_num(optarg, 0, 3600, &o->warmup, 'W');
			break;
		case 'w':
			r = parse_num(optarg, 1, MAX_KEYS, &o->window, 'w');
			break;
		case 'g':
			r = parse_num(optarg, 0, 60000, &o->gap_ms, 'g');
			break;
		case 'r':
			r = parse_num(optarg, 1, 60000, &o->retry_ms, 'r');
			break;
		case 'v':
			r = parse_num(optarg, 1, 1000000, &o->verify, 'v');
			break;
		case 'P':
			r = parse_num(optarg, 1, 1u << 30, &pid, 'P');
			o->daemon_pid = (int)pid;
			break;
		default:
			usage();
		}
	}
	if (r)
		return r;
	if (optind != argc || !have_target || !have_pub || !o->keyfile || !o->n_srcs)
		usage();
	return 0;
}

static int setup(struct bench *b, struct opts *o)
{
	char addr[INET_ADDRSTRLEN];
	int r;

	b->o = o;
	io_env_init(&b->env);
	b->sink = (struct wg_sink){ .send_udp = sink_send_udp,
				    .deliver_tun = sink_deliver_tun,
				    .event = sink_event,
				    .ctx = b };
	memcpy(&b->target_ep.addr.in4, &o->target, sizeof(o->target));
	b->ini = calloc(MAX_KEYS, sizeof(*b->ini));
	b->ready = calloc(MAX_KEYS, sizeof(*b->ready));
	b->socks = calloc(o->n_srcs, sizeof(*b->socks));
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!b->ini || !b->ready || !b->socks || b->epfd < 0) {
		fprintf(stderr, "bench-handshake: out of memory\n");
		return -ENOMEM;
	}
	for (b->n_socks = 0; b->n_socks < o->n_srcs; b->n_socks++) {
		r = open_socket(b, b->n_socks);
		if (r) {
			inet_ntop(AF_INET, &o->srcs[b->n_socks], addr, sizeof(addr));
			fprintf(stderr, "bench-handshake: socket on %s: %s\n", addr, strerror(-r));
			b->n_socks++; /* close it too */
			return r;
		}
	}
	r = load_keys(b, mono_ns());
	if (r)
		return r;
	for (size_t i = 0; i < b->n_ini; i++)
		b->ini[i].sock = (unsigned int)(i % b->n_socks);
	if (o->window > b->n_ini)
		o->window = b->n_ini;
	return 0;
}

static void teardown(struct bench *b)
{
	for (size_t i = 0; i < b->n_ini; i++)
		wg_dev_free(b->ini[i].dev);
	for (size_t i = 0; i < b->n_socks; i++)
		if (b->socks[i] >= 0)
			close(b->socks[i]);
	if (b->epfd >= 0)
		close(b->epfd);
	free(b->ini);
	free(b->ready);
	free(b->socks);
}

int main(int argc, char **argv)
{
	struct opts o = { .secs = 10,
			  .warmup = 2,
			  .window = MAX_KEYS,
			  .gap_ms = 25,
			  .retry_ms = 5000,
			  .verify = 1 };
	struct bench *b = NULL;
	int r = -ENOMEM;

	o.srcs = calloc(MAX_SOCKS, sizeof(*o.srcs));
	if (!o.srcs)
		goto out;
	r = parse_args(argc, argv, &o);
	if (r)
		goto out;
	r = -ENOMEM;
	b = calloc(1, sizeof(*b)); /* lat[] is large for a stack */
	if (!b)
		goto out;
	b->epfd = -1;
	/* setup() says what went wrong itself. */
	r = setup(b, &o);
	if (!r) {
		r = run(b);
		if (r)
			fprintf(stderr, "bench-handshake: %s\n", strerror(-r));
		else if (!b->any_completed)
			fprintf(stderr, "bench-handshake: no handshake completed\n");
	}
out:
	if (r == -ENOMEM && !b)
		fprintf(stderr, "bench-handshake: out of memory\n");
	if (b)
		teardown(b);
	free(o.srcs);
	if (!r && b && !b->any_completed)
		r = 2;
	else if (r)
		r = 1;
	free(b);
	return r;
}
