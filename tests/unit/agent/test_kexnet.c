// SPDX-License-Identifier: GPL-2.0-only
/*
 * The in-tunnel KEX transport (agent/kexnet.h) over loopback: records go
 * both ways with their source address, a record of exactly the cap passes
 * and one byte more is dropped and counted, sources outside the allowed
 * prefix are dropped, a burst larger than one read batch all arrives, and
 * the socket binds to an address no interface has (IP_FREEBIND).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/kexnet.h"
#include "agent/limits.h"
#include "io/env.h"
#include "io/loop.h"
#include "proto/limits.h"
#include "test.h"

static const uint8_t A4[4] = { 127, 0, 0, 2 }, B4[4] = { 127, 0, 0, 3 };

struct sink {
	struct loop *loop;
	size_t n, want;
	size_t last_len;
	uint8_t last[PROTO_KEX_RECORD_MAX];
	uint8_t last_src[4];
	uint64_t sum; /* of the first byte of every record, to see each one arrived */
};

static void on_rec(void *ctx, const uint8_t *rec, size_t len, const uint8_t src4[4])
{
	struct sink *s = ctx;

	s->n++;
	s->sum += rec[0];
	s->last_len = len;
	memcpy(s->last, rec, len);
	memcpy(s->last_src, src4, 4);
	if (s->n >= s->want)
		loop_stop(s->loop);
}

static void on_timer(void *ctx, uint64_t now)
{
	(void)now;
	loop_stop(ctx);
}

/* Run the loop until the sink has `want` records or ms passed. */
static void run_for(struct loop *l, struct sink *s, size_t want, unsigned int ms)
{
	s->want = want;
	loop_set_timer_fn(l, on_timer, l);
	loop_set_deadline(l, io_now_ns() + ms * SC_NSEC_PER_MSEC);
	if (s->n < want)
		CHECK_EQ(loop_run(l), 0);
	loop_set_deadline(l, 0);
}

/* A plain UDP socket bound to src (to send from an arbitrary address). */
static int raw_from(const char *src)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0);
	inet_pton(AF_INET, src, &sa.sin_addr);
	CHECK_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void raw_send(int fd, const uint8_t dst[4], uint16_t port, const uint8_t *p, size_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };

	memcpy(&sa.sin_addr, dst, 4);
	CHECK_EQ(sendto(fd, p, n, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)n);
}

struct pair {
	struct loop *loop;
	struct kexnet *a, *b;
	struct sink sa, sb;
};

/* a on 127.0.0.2, b on 127.0.0.3, same kernel-chosen port. */
static bool pair_up(struct pair *p, const struct proto_prefix *allow_b)
{
	struct io_err err;

	memset(p, 0, sizeof(*p));
	CHECK_EQ(loop_new(&p->loop), 0);
	if (!p->loop)
		return false;
	p->sa.loop = p->sb.loop = p->loop;
	CHECK_EQ(kexnet_new(p->loop, A4, 0, NULL, on_rec, &p->sa, &p->a, &err), 0);
	if (!p->a)
		return false;
	CHECK(kexnet_port(p->a) != 0);
	CHECK_EQ(kexnet_new(p->loop, B4, kexnet_port(p->a), allow_b, on_rec, &p->sb, &p->b, &err),
		 0);
	if (!p->b)
		fprintf(stderr, "# %s\n", err.msg);
	return p->b != NULL;
}

static void pair_down(struct pair *p)
{
	kexnet_free(p->a);
	kexnet_free(p->b);
	loop_free(p->loop);
}

static void test_kexnet_both_ways(void)
{
	struct pair p;
	struct kexnet_stats st;
	uint8_t rec[346];

	if (!pair_up(&p, NULL))
		goto out;
	for (size_t i = 0; i < sizeof(rec); i++)
		rec[i] = (uint8_t)(i * 7 + 1);
	CHECK_EQ(kexnet_send(p.a, B4, rec, sizeof(rec)), 0);
	run_for(p.loop, &p.sb, 1, 2000);
	CHECK_EQ(p.sb.n, 1);
	CHECK_EQ(p.sb.last_len, sizeof(rec));
	CHECK_MEM(p.sb.last, rec, sizeof(rec));
	CHECK_MEM(p.sb.last_src, A4, 4);
	CHECK_EQ(p.sa.n, 0);
	/* And back. */
	rec[0] = 0xee;
	CHECK_EQ(kexnet_send(p.b, A4, rec, 1), 0);
	run_for(p.loop, &p.sa, 1, 2000);
	CHECK_EQ(p.sa.n, 1);
	CHECK_EQ(p.sa.last_len, 1);
	CHECK_EQ(p.sa.last[0], 0xee);
	CHECK_MEM(p.sa.last_src, B4, 4);
	kexnet_get_stats(p.a, &st);
	CHECK_EQ(st.tx, 1);
	CHECK_EQ(st.rx, 1);
	CHECK_EQ(st.tx_errors, 0);
out:
	pair_down(&p);
}

static void test_kexnet_size_cap(void)
{
	static uint8_t big[PROTO_KEX_RECORD_MAX + 100];
	struct kexnet_stats st;
	struct pair p;
	int fd;

	if (!pair_up(&p, NULL))
		goto out;
	memset(big, 0x42, sizeof(big));
	/* The sender refuses what the receiver would drop. */
	CHECK_EQ(kexnet_send(p.a, B4, big, PROTO_KEX_RECORD_MAX + 1), -EMSGSIZE);
	CHECK_EQ(kexnet_send(p.a, B4, big, 0), -EMSGSIZE);
	/* A foreign sender: one byte over the cap, an empty datagram, then
	 * exactly the cap (which must arrive, and alone). */
	fd = raw_from("127.0.0.2");
	raw_send(fd, B4, kexnet_port(p.b), big, PROTO_KEX_RECORD_MAX + 1);
	raw_send(fd, B4, kexnet_port(p.b), big, sizeof(big));
	raw_send(fd, B4, kexnet_port(p.b), big, 0);
	big[0] = 0x43;
	raw_send(fd, B4, kexnet_port(p.b), big, PROTO_KEX_RECORD_MAX);
	run_for(p.loop, &p.sb, 1, 2000);
	run_for(p.loop, &p.sb, 2, 200); /* nothing more may come */
	CHECK_EQ(p.sb.n, 1);
	CHECK_EQ(p.sb.last_len, PROTO_KEX_RECORD_MAX);
	CHECK_EQ(p.sb.last[0], 0x43);
	kexnet_get_stats(p.b, &st);
	CHECK_EQ(st.rx_too_big, 3);
	CHECK_EQ(st.rx, 1);
	close(fd);
out:
	pair_down(&p);
}

static void test_kexnet_prefix(void)
{
	struct proto_prefix allow;
	struct kexnet_stats st;
	struct pair p;
	uint8_t rec[8] = { 9 };
	int fd;

	CHECK_EQ(proto_prefix_parse("127.0.0.0/30", &allow), 0);
	if (!pair_up(&p, &allow))
		goto out;
	fd = raw_from("127.0.0.9"); /* outside 127.0.0.0/30 */
	raw_send(fd, B4, kexnet_port(p.b), rec, sizeof(rec));
	close(fd);
	rec[0] = 5;
	CHECK_EQ(kexnet_send(p.a, B4, rec, sizeof(rec)), 0); /* 127.0.0.2: inside */
	run_for(p.loop, &p.sb, 1, 2000);
	run_for(p.loop, &p.sb, 2, 200);
	CHECK_EQ(p.sb.n, 1);
	CHECK_EQ(p.sb.last[0], 5);
	kexnet_get_stats(p.b, &st);
	CHECK_EQ(st.rx_foreign, 1);
	CHECK_EQ(st.rx, 1);
out:
	pair_down(&p);
	/* An IPv6 prefix makes no sense for an IPv4 socket. */
	{
		struct loop *l = NULL;
		struct kexnet *kn = NULL;
		struct proto_prefix v6;

		CHECK_EQ(proto_prefix_parse("fd00::/8", &v6), 0);
		CHECK_EQ(loop_new(&l), 0);
		CHECK_EQ(kexnet_new(l, A4, 0, &v6, on_rec, NULL, &kn, NULL), -EINVAL);
		CHECK(kn == NULL);
		loop_free(l);
	}
}

/* More records than one read burst: level-triggered epoll brings the rest. */
static void test_kexnet_burst(void)
{
	const size_t n = 3 * AGENT_KEX_RX_BURST + 5;
	uint64_t want = 0;
	struct pair p;
	uint8_t rec[64];

	if (!pair_up(&p, NULL))
		goto out;
	memset(rec, 0, sizeof(rec));
	for (size_t i = 0; i < n; i++) {
		rec[0] = (uint8_t)i;
		want += rec[0];
		CHECK_EQ(kexnet_send(p.a, B4, rec, sizeof(rec)), 0);
	}
	run_for(p.loop, &p.sb, n, 3000);
	CHECK_EQ(p.sb.n, n);
	CHECK_EQ(p.sb.sum, want);
out:
	pair_down(&p);
}

/* The overlay address is not on any interface yet (an external interface
 * may get it later): binding must still work. */
static void test_kexnet_freebind(void)
{
	static const uint8_t absent[4] = { 10, 254, 253, 1 };
	struct loop *l = NULL;
	struct kexnet *kn = NULL;
	struct sink s = { 0 };
	struct io_err err;

	CHECK_EQ(loop_new(&l), 0);
	s.loop = l;
	CHECK_EQ(kexnet_new(l, absent, 0, NULL, on_rec, &s, &kn, &err), 0);
	CHECK(kn != NULL);
	kexnet_free(kn);
	kexnet_free(NULL);
	/* A port in use on the same address is refused with a message. */
	{
		struct kexnet *k1 = NULL, *k2 = NULL;

		CHECK_EQ(kexnet_new(l, A4, 0, NULL, on_rec, &s, &k1, &err), 0);
		if (k1) {
			err.msg[0] = '\0';
			CHECK_EQ(kexnet_new(l, A4, kexnet_port(k1), NULL, on_rec, &s, &k2, &err),
				 -EADDRINUSE);
			CHECK(k2 == NULL);
			CHECK(strstr(err.msg, "127.0.0.2") != NULL);
		}
		kexnet_free(k1);
	}
	loop_free(l);
}

static const struct t_case cases[] = {
	T(test_kexnet_both_ways), T(test_kexnet_size_cap), T(test_kexnet_prefix),
	T(test_kexnet_burst),	  T(test_kexnet_freebind),
};

int main(void)
{
	return t_main("agent-kexnet", cases, SC_ARRAY_SIZE(cases));
}
