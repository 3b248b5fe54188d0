// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whole devices shaking hands through the in-memory network of harness.h:
 * handshake and data, confirmation, keepalives, rekeying, retransmission and
 * giving up, key zeroing, persistent keepalive, replays, counter limits,
 * cookies under load, rate limiting, PSKs and the PSK ring, roaming, source
 * filtering, in-engine forwarding, configuration, keepalives on demand and
 * forgetting sticky sources (address changes).
 */
#include <errno.h>

#include "harness.h"

static struct h_node A, B, R, D, E;
static struct wg_peer *pa, *pb; /* A's peer B, B's peer A */
static uint8_t pkt[2048];

static void setup_pair(void)
{
	h_reset();
	h_node_init(&A, "A", 1);
	h_node_init(&B, "B", 2);
	pa = h_peer(&A, &B, "10.0.0.2", 32);
	pb = h_peer(&B, &A, "10.0.0.1", 32);
}

/* A sends B one packet; the handshake runs and the packet arrives. */
static void establish(void)
{
	size_t len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 50, 0x11);
	int tun = B.n_tun;

	h_send(&A, pkt, len);
	h_pump();
	CHECK(h_has_session(pa));
	CHECK(h_has_session(pb));
	CHECK_EQ(B.n_tun, tun + 1);
}

static void test_handshake_and_data(void)
{
	struct wg_peer_info ia, ib;
	size_t len;

	setup_pair();
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 100, 0xab);
	CHECK_EQ(h_send(&A, pkt, len), WG_QUEUED);
	CHECK_EQ(A.n_out, 1);
	CHECK_EQ(A.out[0].len, 148);
	CHECK_EQ(A.out[0].flags, WG_OUT_SCRATCH);
	/* Initiation -> B: B answers, its keypair waits as "next". */
	CHECK(h_pump_one());
	CHECK_EQ(B.last_rc, 0);
	CHECK_EQ(B.n_out, 1);
	CHECK_EQ(B.out[0].len, 92);
	CHECK(!h_has_session(pb));
	/* Data from B now has to wait for confirmation. */
	CHECK_EQ(h_send(&B, pkt + 1024, h_ip4(pkt + 1024, "10.0.0.2", "10.0.0.1", 8, 1)),
		 WG_QUEUED);
	/* Response -> A: A's session is current, and it sends the queued packet. */
	CHECK(h_pump_one());
	CHECK_EQ(A.last_rc, 0);
	CHECK(h_has_session(pa));
	CHECK_EQ(A.events[WG_EVENT_HANDSHAKE_COMPLETE], 1);
	CHECK_EQ(A.n_out, 1);
	CHECK_EQ(wg_get_le32(A.out[0].data), MESSAGE_DATA);
	CHECK_EQ((A.out[0].len - 32) % 16, 0);
	/* First data -> B: confirmed, delivered, and B's queued packet leaves. */
	CHECK(h_pump_one());
	CHECK_EQ(B.last_rc, 0);
	CHECK(h_has_session(pb));
	CHECK_EQ(B.events[WG_EVENT_HANDSHAKE_COMPLETE], 1);
	CHECK_EQ(B.n_tun, 1);
	CHECK_EQ(B.tun[0].len, len);
	CHECK_MEM(B.tun[0].data, pkt, len);
	CHECK_EQ(B.tun[0].flags, 0); /* in the receive buffer, in place */
	h_pump();
	CHECK_EQ(A.n_tun, 1);
	CHECK_EQ(A.tun[0].len, 28);

	/* Both ways with sessions: in place, no queueing. */
	len = h_ip4(pkt, "10.0.0.2", "10.0.0.1", 1000, 0x5c);
	CHECK_EQ(h_send(&B, pkt, len), 0);
	CHECK_EQ(B.out[0].flags, 0);
	h_pump();
	CHECK_EQ(A.n_tun, 2);
	CHECK_MEM(A.tun[1].data, pkt, len);

	wg_peer_get_info(pa, &ia);
	wg_peer_get_info(pb, &ib);
	CHECK_EQ(ia.tx_bytes, ib.rx_bytes);
	CHECK_EQ(ib.tx_bytes, ia.rx_bytes);
	CHECK(ia.tx_bytes > 148);
	CHECK(ia.last_handshake_ns >= 1700000000ull * SC_NSEC_PER_SEC);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	CHECK_EQ(h_count_log(&B, MESSAGE_HANDSHAKE_RESPONSE), 1);

	/* Unroutable and malformed input. */
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.99", 10, 0);
	CHECK_EQ(h_send(&A, pkt, len), WG_ERR_NOKEY);
	CHECK_EQ(h_send(&A, pkt, 10), WG_ERR_MALFORMED);
	CHECK_EQ(h_inject(&B, pkt, 3, &A), WG_ERR_MALFORMED);
	memset(pkt, 0, 148);
	pkt[0] = 1;
	CHECK_EQ(h_inject(&B, pkt, 148, &A), WG_ERR_AUTH);
	pkt[1] = 1; /* reserved bytes must be zero */
	CHECK_EQ(h_inject(&B, pkt, 148, &A), WG_ERR_MALFORMED);
	h_reset();
}

static void test_ipv6_and_padding(void)
{
	struct wg_allowedip aip;
	struct wg_peer_config cfg;
	size_t len;

	setup_pair();
	memset(&cfg, 0, sizeof(cfg));
	memset(&aip, 0, sizeof(aip));
	cfg.flags = WG_PEER_HAS_PUBLIC_KEY;
	memcpy(cfg.public_key, B.pub, 32);
	aip.family = AF_INET6;
	inet_pton(AF_INET6, "fd00::2", &aip.addr);
	aip.cidr = 128;
	cfg.allowedips = &aip;
	cfg.n_allowedips = 1;
	CHECK_EQ(wg_dev_set_peer(A.dev, h_now, &cfg, &A.sink, NULL), 0);
	memcpy(cfg.public_key, A.pub, 32);
	inet_pton(AF_INET6, "fd00::1", &aip.addr);
	CHECK_EQ(wg_dev_set_peer(B.dev, h_now, &cfg, &B.sink, NULL), 0);
	establish();
	/* 1420 bytes at MTU 1420: no padding past the MTU. */
	len = h_ip6(pkt, "fd00::1", "fd00::2", 1380, 0x66);
	CHECK_EQ(h_send(&A, pkt, len), 0);
	CHECK_EQ(A.out[0].len, 16 + 1420 + 16);
	h_pump();
	CHECK_EQ(B.tun[B.n_tun - 1].len, len);
	CHECK_MEM(B.tun[B.n_tun - 1].data, pkt, len);
	/* 41 bytes pad to 48. */
	len = h_ip6(pkt, "fd00::1", "fd00::2", 1, 0x66);
	CHECK_EQ(h_send(&A, pkt, len), 0);
	CHECK_EQ(A.out[0].len, 16 + 48 + 16);
	h_pump();
	CHECK_EQ(B.tun[B.n_tun - 1].len, 41);
	h_reset();
}

static void test_keepalive_after_receive(void)
{
	uint64_t t0;
	int before;

	setup_pair();
	establish();
	t0 = h_now;
	before = B.n_log;
	/* B heard data and sent nothing: a keepalive after KEEPALIVE_TIMEOUT. */
	h_advance(KEEPALIVE_TIMEOUT - 1);
	CHECK_EQ(B.n_log, before);
	h_advance(1);
	CHECK_EQ(B.n_log, before + 1);
	CHECK_EQ(B.log[before].len, 32);
	CHECK_EQ(B.log[before].at, t0 + KEEPALIVE_TIMEOUT);
	/* Keepalives are not answered, and nothing else follows. */
	h_advance(100 * SC_NSEC_PER_SEC);
	CHECK_EQ(B.n_log, before + 1);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	h_reset();
}

static void test_new_handshake_when_unanswered(void)
{
	uint64_t t0;
	size_t len;
	int i;

	setup_pair();
	establish();
	h_advance(20 * SC_NSEC_PER_SEC);
	/* B goes silent; A keeps sending. After KEEPALIVE_TIMEOUT +
	 * REKEY_TIMEOUT (+ jitter) without hearing anything, A rehandshakes. */
	B.lossy = true;
	t0 = h_now;
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 1);
	CHECK_EQ(h_send(&A, pkt, len), 0);
	h_advance(KEEPALIVE_TIMEOUT + REKEY_TIMEOUT - 1);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	h_advance(REKEY_TIMEOUT_JITTER_MAX + 1);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 2);
	for (i = A.n_log - 1; i >= 0 && A.log[i].type != MESSAGE_HANDSHAKE_INITIATION; i--)
		;
	CHECK(A.log[i].at >= t0 + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT);
	h_reset();
}

static void test_rekey_after_time(void)
{
	uint32_t old_index;
	size_t len;

	setup_pair();
	establish();
	old_index = pa->kp_current->kp.local_index;
	/* Only the initiator's age counts: B sending does not rekey. */
	h_advance(REKEY_AFTER_TIME + SC_NSEC_PER_SEC);
	len = h_ip4(pkt, "10.0.0.2", "10.0.0.1", 10, 2);
	CHECK_EQ(h_send(&B, pkt, len), 0);
	CHECK_EQ(h_count_log(&B, MESSAGE_HANDSHAKE_INITIATION), 0);
	h_pump();
	/* A sending after REKEY_AFTER_TIME: the packet goes out on the old
	 * session, and a handshake starts. */
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 3);
	CHECK_EQ(h_send(&A, pkt, len), 0);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 2);
	h_pump();
	CHECK(pa->kp_current->kp.local_index != old_index);
	CHECK(pa->kp_previous && pa->kp_previous->kp.local_index == old_index);
	CHECK_EQ(A.events[WG_EVENT_HANDSHAKE_COMPLETE], 2);
	CHECK_EQ(B.events[WG_EVENT_HANDSHAKE_COMPLETE], 2);
	/* Data flows on the new session both ways. */
	CHECK_EQ(h_send(&B, pkt, h_ip4(pkt, "10.0.0.2", "10.0.0.1", 10, 4)), 0);
	h_pump();
	CHECK_EQ(A.last_rc, 0);
	h_reset();
}

/* The receive side of REKEY_AFTER_TIME: an initiator that only hears from
 * its peer (and sends nothing, so the send-side check never runs) rekeys
 * when a packet arrives on a session older than REJECT_AFTER_TIME -
 * KEEPALIVE_TIMEOUT - REKEY_TIMEOUT (165 s), once per session. */
static void test_rekey_on_receive(void)
{
	const uint64_t at = REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT;
	size_t len;

	setup_pair();
	establish();
	CHECK(pa->kp_current && pa->kp_current->kp.initiator);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	/* One second before: nothing. */
	h_advance(at - SC_NSEC_PER_SEC);
	len = h_ip4(pkt, "10.0.0.2", "10.0.0.1", 10, 20);
	CHECK_EQ(h_send(&B, pkt, len), 0);
	h_pump();
	CHECK_EQ(A.last_rc, 0);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	/* Two seconds later (A's keepalive is not due yet): a packet from B
	 * makes A initiate. */
	h_advance(2 * SC_NSEC_PER_SEC);
	len = h_ip4(pkt, "10.0.0.2", "10.0.0.1", 10, 21);
	CHECK_EQ(h_send(&B, pkt, len), 0);
	CHECK(h_pump_one()); /* B's packet reaches A */
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 2);
	h_pump();
	CHECK_EQ(A.events[WG_EVENT_HANDSHAKE_COMPLETE], 2);
	/* The responder does not rekey on receive. */
	CHECK_EQ(h_count_log(&B, MESSAGE_HANDSHAKE_INITIATION), 0);
	h_reset();
}

static void test_reject_after_time(void)
{
	size_t len;
	int tun;

	setup_pair();
	establish();
	h_advance(REJECT_AFTER_TIME);
	/* The session may no longer send: the packet waits for a handshake. */
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 5);
	tun = B.n_tun;
	CHECK_EQ(h_send(&A, pkt, len), WG_QUEUED);
	h_pump();
	CHECK_EQ(B.n_tun, tun + 1);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 2);
	h_reset();
}

static void test_retransmit_and_give_up(void)
{
	uint64_t at[64], gap;
	int n = 0, i, jittered = 0;
	struct wg_dev_stats st;
	size_t len;

	setup_pair();
	A.lossy = true; /* nothing A sends arrives */
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 6);
	CHECK_EQ(h_send(&A, pkt, len), WG_QUEUED);
	h_advance(200 * SC_NSEC_PER_SEC);
	for (i = 0; i < A.n_log && n < 64; i++)
		if (A.log[i].type == MESSAGE_HANDSHAKE_INITIATION)
			at[n++] = A.log[i].at;
	/* The first one and MAX_TIMER_HANDSHAKES + 1 retries, each after
	 * REKEY_TIMEOUT plus up to REKEY_TIMEOUT_JITTER_MAX. */
	CHECK_EQ(n, MAX_TIMER_HANDSHAKES + 2);
	for (i = 1; i < n; i++) {
		gap = at[i] - at[i - 1];
		CHECK(gap >= REKEY_TIMEOUT && gap <= REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX);
		jittered += gap > REKEY_TIMEOUT;
	}
	CHECK(jittered > n / 2);
	CHECK(at[n - 1] - at[0] <=
	      REKEY_ATTEMPT_TIME + 2 * REKEY_TIMEOUT + 20 * REKEY_TIMEOUT_JITTER_MAX);
	CHECK_EQ(A.events[WG_EVENT_HANDSHAKE_GAVE_UP], 1);
	/* The queued packet was dropped. */
	CHECK(!pa->staged_head);
	wg_dev_get_stats(A.dev, &st);
	CHECK(st.tx_dropped >= 1);
	/* Later, the remains of the attempt are wiped. */
	CHECK_EQ(A.events[WG_EVENT_KEYS_ZEROED], 0);
	h_advance(3 * REJECT_AFTER_TIME);
	CHECK_EQ(A.events[WG_EVENT_KEYS_ZEROED], 1);
	CHECK_EQ(pa->hs.state, NOISE_ZEROED);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), MAX_TIMER_HANDSHAKES + 2);
	CHECK_EQ(wg_dev_next_deadline(A.dev), UINT64_MAX);
	h_reset();
}

static void test_keys_zeroed(void)
{
	setup_pair();
	establish();
	h_advance(3 * REJECT_AFTER_TIME - SC_NSEC_PER_SEC);
	CHECK(h_has_session(pa));
	CHECK(h_has_session(pb));
	CHECK_EQ(A.events[WG_EVENT_KEYS_ZEROED], 0);
	h_advance(2 * SC_NSEC_PER_SEC);
	CHECK_EQ(A.events[WG_EVENT_KEYS_ZEROED], 1);
	CHECK_EQ(B.events[WG_EVENT_KEYS_ZEROED], 1);
	CHECK(!h_has_session(pa));
	CHECK(!h_has_session(pb));
	CHECK(!pa->kp_slot[0].used && !pa->kp_slot[1].used && !pa->kp_slot[2].used);
	h_reset();
}

static void test_persistent_keepalive(void)
{
	struct wg_peer_config cfg;
	uint64_t at[16], t_on;
	int n = 0, i;

	setup_pair();
	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = WG_PEER_HAS_PUBLIC_KEY | WG_PEER_HAS_PERSISTENT_KEEPALIVE;
	memcpy(cfg.public_key, B.pub, 32);
	cfg.persistent_keepalive = 25;
	t_on = h_now;
	/* Turning it on sends a keepalive, which, without a session, starts
	 * the handshake that brings the tunnel up. */
	CHECK_EQ(wg_dev_set_peer(A.dev, h_now, &cfg, &A.sink, NULL), 0);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	h_pump();
	CHECK(h_has_session(pa));
	CHECK(h_has_session(pb));
	h_advance(100 * SC_NSEC_PER_SEC);
	for (i = 0; i < A.n_log && n < 16; i++)
		if (A.log[i].type == MESSAGE_DATA && A.log[i].len == 32)
			at[n++] = A.log[i].at;
	/* The confirming keepalive at once, then one every 25 s. */
	CHECK_EQ(n, 5);
	CHECK_EQ(at[0], t_on);
	for (i = 1; i < n; i++)
		CHECK_EQ(at[i] - at[i - 1], 25 * SC_NSEC_PER_SEC);
	/* Off again: no more. */
	cfg.persistent_keepalive = 0;
	CHECK_EQ(wg_dev_set_peer(A.dev, h_now, &cfg, &A.sink, NULL), 0);
	n = A.n_log;
	h_advance(100 * SC_NSEC_PER_SEC);
	CHECK_EQ(A.n_log, n);
	h_reset();
}

static void test_replayed_initiation_and_flood(void)
{
	uint8_t init[148], init2[148];
	struct wg_peer *p2;

	setup_pair();
	h_send(&A, pkt, h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 7));
	CHECK_EQ(A.out[0].len, 148);
	memcpy(init, A.out[0].data, 148);
	h_pump();
	CHECK(h_has_session(pb));
	/* The same initiation again: its timestamp is not newer. */
	h_now += SC_NSEC_PER_SEC;
	CHECK_EQ(h_inject(&B, init, 148, &A), WG_ERR_REPLAY);

	/* D has A's key and a clock one second ahead: its initiations are
	 * newer, but within 1/INITIATIONS_PER_SECOND of the last one they
	 * are a flood. */
	h_node_init(&D, "D", 1);
	D.wall_offset = 10 * SC_NSEC_PER_SEC;
	h_set_addr(&D, 44, 51820);
	p2 = h_peer(&D, &B, "10.0.0.2", 32);
	wg_dev_initiate(D.dev, h_now, p2, &D.sink);
	CHECK_EQ(D.n_out, 1);
	memcpy(init2, D.out[0].data, 148);
	D.n_out = 0;
	CHECK_EQ(h_inject(&B, init2, 148, &D), 0);
	h_now += 10 * SC_NSEC_PER_MSEC;
	D.wall_offset += SC_NSEC_PER_SEC;
	p2->sent_handshake = false; /* past the REKEY_TIMEOUT self-limit */
	wg_dev_initiate(D.dev, h_now, p2, &D.sink);
	memcpy(init2, D.out[0].data, 148);
	D.n_out = 0;
	CHECK_EQ(h_inject(&B, init2, 148, &D), WG_ERR_BUSY);
	h_now += 10 * SC_NSEC_PER_MSEC;
	CHECK_EQ(h_inject(&B, init2, 148, &D), 0);
	h_reset();
}

static void test_replayed_data(void)
{
	uint8_t data[256];
	size_t len;
	int tun;

	setup_pair();
	establish();
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 30, 8);
	CHECK_EQ(h_send(&A, pkt, len), 0);
	len = A.out[0].len;
	memcpy(data, A.out[0].data, len);
	h_pump();
	tun = B.n_tun;
	CHECK_EQ(h_inject(&B, data, len, &A), WG_ERR_REPLAY);
	CHECK_EQ(B.n_tun, tun);
	/* A forged packet fails authentication and changes nothing. */
	data[20] ^= 1;
	CHECK_EQ(h_inject(&B, data, len, &A), WG_ERR_AUTH);
	/* An unknown receiver index. */
	data[4] ^= 0xff;
	CHECK_EQ(h_inject(&B, data, len, &A), WG_ERR_NOKEY);
	h_reset();
}

static void test_counter_limits(void)
{
	size_t len;
	int tun, inits;

	setup_pair();
	establish();
	/* Past REKEY_AFTER_MESSAGES the sender starts a handshake. */
	h_advance(REKEY_TIMEOUT + 1);
	pa->kp_current->kp.send_counter = REKEY_AFTER_MESSAGES + 1;
	inits = h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION);
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 9);
	CHECK_EQ(h_send(&A, pkt, len), 0);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), inits + 1);
	h_pump();
	CHECK_EQ(B.last_rc, 0);

	/* The last valid counter is sent and accepted; the next is not sent
	 * but waits for the handshake the first one started. */
	h_advance(REKEY_TIMEOUT + 1);
	pa->kp_current->kp.send_counter = REJECT_AFTER_MESSAGES - 1;
	tun = B.n_tun;
	CHECK_EQ(h_send(&A, pkt, len), 0);
	CHECK_EQ(h_send(&A, pkt, len), WG_QUEUED);
	CHECK(!pa->kp_current->kp.send_valid);
	h_pump_one();
	CHECK_EQ(B.last_rc, 0);
	CHECK_EQ(B.n_tun, tun + 1);
	h_pump();
	/* ...and a new session carries it. */
	CHECK_EQ(B.n_tun, tun + 2);
	h_reset();
}

static void test_cookie_under_load(void)
{
	uint8_t init[148];
	struct wg_dev_stats st;
	size_t len;
	int i, busy = 0, replay = 0;

	setup_pair();
	wg_dev_set_handshake_backlog(B.dev, UNDER_LOAD_BACKLOG);
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 10);
	CHECK_EQ(h_send(&A, pkt, len), WG_QUEUED);
	/* Under load, an initiation without mac2 gets a cookie reply. */
	h_pump_one();
	CHECK_EQ(B.last_rc, WG_COOKIE_SENT);
	CHECK_EQ(B.n_out, 1);
	CHECK_EQ(B.out[0].len, 64);
	h_pump_one();
	CHECK_EQ(A.last_rc, 0);
	CHECK(pa->cookie.cookie_valid);
	CHECK(!h_has_session(pa));
	/* The retransmission carries mac2 and is processed. */
	h_advance(REKEY_TIMEOUT - 1);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	h_now += REKEY_TIMEOUT_JITTER_MAX + 1;
	for (i = 0; i < 2; i++)
		wg_dev_tick(A.dev, h_now, &A.sink);
	CHECK_EQ(A.n_out, 1);
	memcpy(init, A.out[0].data, 148);
	h_pump();
	CHECK(h_has_session(pa));
	CHECK(h_has_session(pb));
	CHECK_EQ(B.n_tun, 1);
	wg_dev_get_stats(B.dev, &st);
	CHECK_EQ(st.cookies_sent, 1);

	/* Rate limiter: the same valid-mac2 initiation from one address. The
	 * bucket had PACKETS_BURST; one was spent above. */
	for (i = 0; i < 10; i++) {
		int rc = h_inject(&B, init, 148, &A);

		busy += rc == WG_ERR_BUSY;
		replay += rc == WG_ERR_REPLAY;
	}
	CHECK_EQ(replay, PACKETS_BURST - 1);
	CHECK_EQ(busy, 10 - (PACKETS_BURST - 1));
	wg_dev_get_stats(B.dev, &st);
	CHECK_EQ(st.ratelimited, 10 - (PACKETS_BURST - 1));

	/* Load gone: after UNDER_LOAD_TIME, no cookie is demanded. */
	wg_dev_set_handshake_backlog(B.dev, 0);
	h_now += UNDER_LOAD_TIME;
	pa->sent_handshake = false;
	wg_dev_initiate(A.dev, h_now, pa, &A.sink);
	h_pump_one();
	CHECK_EQ(B.last_rc, 0);
	h_reset();
}

static void set_psk(struct h_node *n, struct wg_peer *p, const struct h_node *peer, uint8_t b)
{
	struct wg_peer_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = WG_PEER_HAS_PUBLIC_KEY | WG_PEER_HAS_PRESHARED_KEY;
	memcpy(cfg.public_key, peer->pub, 32);
	memset(cfg.preshared_key, b, 32);
	CHECK_EQ(wg_dev_set_peer(n->dev, h_now, &cfg, NULL, NULL), 0);
}

static void test_psk(void)
{
	struct wg_peer_info info;

	/* The same PSK: works, and it is what UAPI get reports. */
	setup_pair();
	set_psk(&A, pa, &B, 0x33);
	set_psk(&B, pb, &A, 0x33);
	establish();
	wg_peer_get_info(pa, &info);
	CHECK_EQ(info.n_psk, 1);
	CHECK_EQ(info.preshared_key[0], 0x33);
	h_reset();

	/* Different PSKs: B answers, A cannot open the answer, no session. */
	setup_pair();
	set_psk(&A, pa, &B, 0x33);
	set_psk(&B, pb, &A, 0x34);
	h_send(&A, pkt, h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 11));
	h_pump();
	CHECK_EQ(A.last_rc, WG_ERR_AUTH);
	CHECK(!h_has_session(pa));
	CHECK(!h_has_session(pb));
	CHECK_EQ(B.n_tun, 0);
	/* A PSK on one side only fails as well. */
	set_psk(&A, pa, &B, 0);
	h_advance(REKEY_TIMEOUT + REKEY_TIMEOUT_JITTER_MAX);
	CHECK(!h_has_session(pa));
	h_reset();
}

static void rehandshake(struct h_node *n, struct wg_peer *p)
{
	h_advance(REKEY_TIMEOUT + 1);
	wg_dev_initiate(n->dev, h_now, p, &n->sink);
	h_pump();
}

static void test_psk_ring(void)
{
	uint8_t k1[32], k2[32], k3[32];
	struct wg_peer_info info;
	struct wg_peer *pd, *pe;

	memset(k1, 0xa1, 32), memset(k2, 0xa2, 32), memset(k3, 0xa3, 32);
	setup_pair();
	CHECK_EQ(wg_peer_psk_push(pa, k1, 1), 0);
	CHECK_EQ(wg_peer_psk_push(pb, k1, 1), 0);
	establish();
	wg_peer_get_info(pa, &info);
	CHECK_EQ(info.session_psk_version, 1);

	/* The responder rotates first: it answers with k2, and an initiator
	 * that only knows k1 fails. */
	CHECK_EQ(wg_peer_psk_push(pb, k2, 2), 0);
	rehandshake(&A, pa);
	CHECK_EQ(A.last_rc, WG_ERR_AUTH);
	wg_peer_get_info(pa, &info);
	CHECK_EQ(info.session_psk_version, 1); /* still the old session */
	/* With the ring [k2, k1] the initiator finds k2. */
	CHECK_EQ(wg_peer_psk_push(pa, k2, 2), 0);
	rehandshake(&A, pa);
	CHECK_EQ(A.last_rc, 0);
	wg_peer_get_info(pa, &info);
	CHECK_EQ(info.session_psk_version, 2);
	wg_peer_get_info(pb, &info);
	CHECK_EQ(info.session_psk_version, 2);
	CHECK_EQ(info.n_psk, 2);
	/* The other direction uses the responder's newest too. */
	rehandshake(&B, pb);
	wg_peer_get_info(pb, &info);
	CHECK_EQ(info.session_psk_version, 2);
	/* Retiring k1 on both: still fine. */
	wg_peer_psk_retire(pa, 1);
	wg_peer_psk_retire(pb, 1);
	rehandshake(&A, pa);
	CHECK_EQ(A.last_rc, 0);
	wg_peer_get_info(pa, &info);
	CHECK_EQ(info.n_psk, 1);
	/* The ring keeps WG_PSK_RING_MAX, newest first. */
	CHECK_EQ(wg_peer_psk_push(pa, k3, 3), 0);
	CHECK_EQ(wg_peer_psk_push(pa, k1, 4), 0);
	CHECK_EQ(wg_peer_psk_push(pa, k2, 5), 0);
	CHECK_EQ(wg_peer_psk_push(pa, k3, 6), 0);
	CHECK_EQ(wg_peer_psk_push(pa, k3, 7), 0);
	wg_peer_get_info(pa, &info);
	CHECK_EQ(info.n_psk, WG_PSK_RING_MAX);
	CHECK_EQ(pa->psk_version[0], 7);
	CHECK_EQ(pa->psk_version[WG_PSK_RING_MAX - 1], 4);
	CHECK_EQ(wg_peer_psk_push(pa, (const uint8_t[32]){ 0 }, 8), -EINVAL);
	h_reset();

	/* The initiator rotates first: ring [k2, k1] against a responder still
	 * on k1 matches k1, so rotation is seamless from either side. */
	h_node_init(&D, "D", 4);
	h_node_init(&E, "E", 5);
	pd = h_peer(&D, &E, "10.0.0.5", 32);
	pe = h_peer(&E, &D, "10.0.0.4", 32);
	CHECK_EQ(wg_peer_psk_push(pd, k1, 1), 0);
	CHECK_EQ(wg_peer_psk_push(pd, k2, 2), 0);
	CHECK_EQ(wg_peer_psk_push(pe, k1, 1), 0);
	h_send(&D, pkt, h_ip4(pkt, "10.0.0.4", "10.0.0.5", 10, 12));
	h_pump();
	CHECK_EQ(E.n_tun, 1);
	wg_peer_get_info(pd, &info);
	CHECK_EQ(info.session_psk_version, 1);
	(void)pe;
	h_reset();

	/* Setting the whole ring: a revert puts an older key back as the
	 * newest, and n == 0 goes back to plain WireGuard (no PSK). */
	setup_pair();
	{
		const uint8_t ring_a[2][32] = { { [0 ... 31] = 0xa2 }, { [0 ... 31] = 0xa1 } };
		const uint8_t ring_b[1][32] = { { [0 ... 31] = 0xa1 } };
		const uint8_t bad[2][32] = { { 0 }, { [0 ... 31] = 0xa1 } };
		const uint32_t va[2] = { 2, 1 }, vb[1] = { 1 };

		CHECK_EQ(wg_peer_psk_set(pa, ring_a, va, 2), 0);
		CHECK_EQ(wg_peer_psk_set(pb, ring_b, vb, 1), 0);
		establish();
		wg_peer_get_info(pb, &info);
		CHECK_EQ(info.session_psk_version, 1);
		/* B as initiator: A answers with its newest (2), B lacks it. */
		rehandshake(&B, pb);
		CHECK_EQ(B.last_rc, WG_ERR_AUTH);
		/* A reverts to [1]: B's initiation now succeeds. */
		CHECK_EQ(wg_peer_psk_set(pa, ring_b, vb, 1), 0);
		rehandshake(&B, pb);
		CHECK_EQ(B.last_rc, 0);
		/* Refusals change nothing. */
		CHECK_EQ(wg_peer_psk_set(pa, bad, va, 2), -EINVAL);
		CHECK_EQ(wg_peer_psk_set(pa, ring_a, va, WG_PSK_RING_MAX + 1), -EINVAL);
		wg_peer_get_info(pa, &info);
		CHECK_EQ(info.n_psk, 1);
		CHECK_MEM(info.preshared_key, ring_b[0], 32);
		/* Both back to no PSK. */
		CHECK_EQ(wg_peer_psk_set(pa, NULL, NULL, 0), 0);
		CHECK_EQ(wg_peer_psk_set(pb, NULL, NULL, 0), 0);
		rehandshake(&A, pa);
		CHECK_EQ(A.last_rc, 0);
		wg_peer_get_info(pa, &info);
		CHECK_EQ(info.n_psk, 0);
		CHECK_EQ(info.session_psk_version, 0);
	}
	h_reset();
}

static void test_roaming(void)
{
	struct wg_peer_info info;
	size_t len;

	setup_pair();
	establish();
	h_pump();
	CHECK_EQ(B.events[WG_EVENT_ENDPOINT_CHANGED], 0);
	/* A moves to another port (a NAT rebinding); its next packet is
	 * authenticated, so B follows. */
	h_set_addr(&A, 1, 6000);
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 13);
	CHECK_EQ(h_send(&A, pkt, len), 0);
	h_pump();
	CHECK_EQ(B.events[WG_EVENT_ENDPOINT_CHANGED], 1);
	wg_peer_get_info(pb, &info);
	CHECK_EQ(ntohs(info.endpoint.addr.in4.sin_port), 6000);
	/* B's answer reaches A at its new address. */
	len = h_ip4(pkt, "10.0.0.2", "10.0.0.1", 10, 14);
	CHECK_EQ(h_send(&B, pkt, len), 0);
	CHECK_EQ(ntohs(B.out[0].to.addr.in4.sin_port), 6000);
	h_pump();
	CHECK_EQ(A.n_tun, 1);
	/* Unauthenticated packets from elsewhere move nothing. */
	h_set_addr(&A, 1, 7000);
	memset(pkt, 0, 64);
	pkt[0] = 4;
	CHECK_EQ(h_inject(&B, pkt, 64, &A), WG_ERR_NOKEY);
	wg_peer_get_info(pb, &info);
	CHECK_EQ(ntohs(info.endpoint.addr.in4.sin_port), 6000);
	h_reset();
}

static void test_source_filter(void)
{
	size_t len;
	int tun;

	setup_pair();
	establish();
	tun = B.n_tun;
	/* Routed to B by its destination, but from a source B did not allow. */
	len = h_ip4(pkt, "10.9.9.9", "10.0.0.2", 10, 15);
	CHECK_EQ(h_send(&A, pkt, len), 0);
	h_pump();
	CHECK_EQ(B.last_rc, WG_ERR_FILTERED);
	CHECK_EQ(B.n_tun, tun);
	/* A claimed length past the packet is dishonest. */
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 16);
	pkt[3] += 1;
	CHECK_EQ(h_send(&A, pkt, len), WG_ERR_MALFORMED);
	h_reset();
}

static void test_forwarding(void)
{
	struct wg_peer *ra, *rb, *ar, *br;
	struct wg_dev_stats st;
	size_t len;

	h_reset();
	h_node_init(&A, "A", 1);
	h_node_init(&B, "B", 2);
	h_node_init(&R, "R", 3);
	/* A and B know only R, which routes 10.0.0.0/24. */
	ar = h_peer(&A, &R, "10.0.0.0", 24);
	br = h_peer(&B, &R, "10.0.0.0", 24);
	ra = h_peer(&R, &A, "10.0.0.1", 32);
	rb = h_peer(&R, &B, "10.0.0.2", 32);
	wg_dev_set_forwarding(R.dev, true);

	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 40, 17);
	CHECK_EQ(h_send(&A, pkt, len), WG_QUEUED);
	h_pump();
	/* A->R, then R->B once R's handshake with B is done. */
	CHECK(h_has_session(ar) && h_has_session(ra));
	CHECK(h_has_session(rb) && h_has_session(br));
	CHECK_EQ(R.n_tun, 0);
	CHECK_EQ(B.n_tun, 1);
	CHECK_EQ(B.tun[0].len, len);
	CHECK_EQ(B.tun[0].data[8], 63); /* one hop: TTL decremented */
	CHECK_MEM(B.tun[0].data + 12, pkt + 12, 8);
	wg_dev_get_stats(R.dev, &st);
	CHECK_EQ(st.forwarded, 1);
	/* With both sessions up, forwarding re-encrypts in R's receive
	 * buffer, and replies go back the same way. */
	CHECK_EQ(h_send(&A, pkt, len), 0);
	h_pump_one();
	CHECK_EQ(R.n_out, 1);
	CHECK_EQ(R.out[0].flags, 0);
	h_pump();
	len = h_ip4(pkt, "10.0.0.2", "10.0.0.1", 40, 18);
	CHECK_EQ(h_send(&B, pkt, len), 0);
	h_pump();
	CHECK_EQ(A.n_tun, 1);
	CHECK_EQ(R.n_tun, 0);
	wg_dev_get_stats(R.dev, &st);
	CHECK_EQ(st.forwarded, 3);
	/* An expiring TTL is left to the host (ICMP time exceeded). */
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 40, 19);
	pkt[8] = 1;
	CHECK_EQ(h_send(&A, pkt, len), 0);
	h_pump();
	CHECK_EQ(R.n_tun, 1);
	/* Forwarding off: R's TUN gets it. */
	wg_dev_set_forwarding(R.dev, false);
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 40, 20);
	CHECK_EQ(h_send(&A, pkt, len), 0);
	h_pump();
	CHECK_EQ(R.n_tun, 2);
	CHECK_EQ(B.n_tun, 2);
	/* R never forwards a packet back to its sender's own addresses. */
	(void)rb;
	h_reset();
}

struct collect {
	int n;
	char text[8][64];
};

static int collect_aip(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct collect *c = ctx;
	char a[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, a, sizeof(a));
	if (c->n < 8)
		snprintf(c->text[c->n++], 64, "%s/%u", a, cidr);
	return 0;
}

static void test_config(void)
{
	struct wg_allowedip aips[3];
	struct wg_peer_config cfg;
	struct wg_peer *p = (struct wg_peer *)1, *q;
	struct collect c;
	uint8_t key[32];

	h_reset();
	h_node_init(&A, "A", 1);
	h_node_init(&B, "B", 2);
	memset(&cfg, 0, sizeof(cfg));
	memset(aips, 0, sizeof(aips));
	/* A public key is required, allowed IPs must be well-formed. */
	CHECK_EQ(wg_dev_set_peer(A.dev, 0, &cfg, NULL, &p), -EINVAL);
	CHECK(p == (struct wg_peer *)1);
	cfg.flags = WG_PEER_HAS_PUBLIC_KEY;
	memcpy(cfg.public_key, B.pub, 32);
	aips[0].family = AF_INET;
	inet_pton(AF_INET, "10.1.0.0", &aips[0].addr);
	aips[0].cidr = 33;
	cfg.allowedips = aips;
	cfg.n_allowedips = 1;
	CHECK_EQ(wg_dev_set_peer(A.dev, 0, &cfg, NULL, &p), -EINVAL);
	CHECK_EQ(wg_dev_peer_count(A.dev), 0);
	/* UPDATE_ONLY does not create. */
	aips[0].cidr = 16;
	cfg.flags |= WG_PEER_UPDATE_ONLY;
	CHECK_EQ(wg_dev_set_peer(A.dev, 0, &cfg, NULL, &p), 0);
	CHECK(p == NULL);
	cfg.flags &= ~(uint32_t)WG_PEER_UPDATE_ONLY;
	aips[1].family = AF_INET6;
	inet_pton(AF_INET6, "fd00::", &aips[1].addr);
	aips[1].cidr = 64;
	cfg.n_allowedips = 2;
	CHECK_EQ(wg_dev_set_peer(A.dev, 0, &cfg, NULL, &p), 0);
	CHECK(p && wg_dev_find_peer(A.dev, B.pub) == p);
	memset(&c, 0, sizeof(c));
	wg_peer_walk_allowedips(p, collect_aip, &c);
	CHECK_EQ(c.n, 2);
	CHECK(!strcmp(c.text[0], "10.1.0.0/16") && !strcmp(c.text[1], "fd00::/64"));
	/* Add one, remove one, then replace all. */
	aips[0].remove = true;
	aips[2].family = AF_INET;
	inet_pton(AF_INET, "10.2.3.4", &aips[2].addr);
	aips[2].cidr = 32;
	cfg.allowedips = aips;
	cfg.n_allowedips = 3;
	aips[1].remove = false;
	CHECK_EQ(wg_dev_set_peer(A.dev, 0, &cfg, NULL, &q), 0);
	CHECK(q == p);
	memset(&c, 0, sizeof(c));
	wg_peer_walk_allowedips(p, collect_aip, &c);
	CHECK_EQ(c.n, 2);
	cfg.flags |= WG_PEER_REPLACE_ALLOWEDIPS;
	cfg.allowedips = &aips[2];
	cfg.n_allowedips = 1;
	CHECK_EQ(wg_dev_set_peer(A.dev, 0, &cfg, NULL, NULL), 0);
	memset(&c, 0, sizeof(c));
	wg_peer_walk_allowedips(p, collect_aip, &c);
	CHECK_EQ(c.n, 1);
	CHECK(!strcmp(c.text[0], "10.2.3.4/32"));
	/* A peer with our own key is ignored. */
	memcpy(cfg.public_key, A.pub, 32);
	CHECK_EQ(wg_dev_set_peer(A.dev, 0, &cfg, NULL, &q), 0);
	CHECK(q == NULL);
	CHECK_EQ(wg_dev_peer_count(A.dev), 1);
	/* Taking a peer's private key as ours removes that peer. */
	CHECK_EQ(wg_dev_set_private_key(A.dev, B.priv), 0);
	CHECK_EQ(wg_dev_peer_count(A.dev), 0);
	/* An all-zero key removes the identity. */
	memset(key, 0, 32);
	CHECK_EQ(wg_dev_set_private_key(A.dev, key), 0);
	CHECK_EQ(wg_dev_get_keys(A.dev, key, NULL), -ENOKEY);
	/* REMOVE_ME and remove_all. */
	h_peer(&B, &A, "10.0.0.1", 32);
	CHECK_EQ(wg_dev_peer_count(B.dev), 1);
	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = WG_PEER_HAS_PUBLIC_KEY | WG_PEER_REMOVE_ME;
	memcpy(cfg.public_key, A.pub, 32);
	CHECK_EQ(wg_dev_set_peer(B.dev, 0, &cfg, NULL, NULL), 0);
	CHECK_EQ(wg_dev_peer_count(B.dev), 0);
	h_peer(&B, &A, "10.0.0.1", 32);
	wg_dev_remove_all_peers(B.dev);
	CHECK(wg_dev_first_peer(B.dev) == NULL);
	h_reset();
}

static void test_private_key_change(void)
{
	uint8_t k[32];
	size_t len;

	setup_pair();
	establish();
	/* B takes a new key: its sessions stop sending (they still receive),
	 * and A, which knows only the old public key, refuses B's handshakes. */
	memset(k, 0x77, 32);
	CHECK_EQ(wg_dev_set_private_key(B.dev, k), 0);
	len = h_ip4(pkt, "10.0.0.1", "10.0.0.2", 10, 21);
	CHECK_EQ(h_send(&A, pkt, len), 0);
	h_pump();
	CHECK_EQ(B.n_tun, 2);
	len = h_ip4(pkt, "10.0.0.2", "10.0.0.1", 10, 22);
	CHECK_EQ(h_send(&B, pkt, len), WG_QUEUED);
	h_pump();
	CHECK_EQ(A.last_rc, WG_ERR_NOKEY);
	CHECK_EQ(A.n_tun, 0);
	h_reset();
}

/* Count n's empty data messages (keepalives: 16-byte header + 16-byte tag). */
static int count_keepalives(const struct h_node *n)
{
	int i, k = 0;

	for (i = 0; i < n->n_log; i++)
		k += n->log[i].type == MESSAGE_DATA && n->log[i].len == 32;
	return k;
}

static void test_send_keepalive_now(void)
{
	struct wg_peer_config cfg;
	struct wg_peer_info info;
	struct wg_peer *pn;
	int k, tun, b_sent;

	setup_pair();
	/* No session yet: a handshake starts, and the keepalive follows it. */
	CHECK_EQ(wg_dev_send_keepalive(A.dev, h_now, pa, &A.sink), 0);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	h_pump();
	CHECK(h_has_session(pa));
	CHECK(h_has_session(pb));
	CHECK_EQ(count_keepalives(&A), 1);
	CHECK_EQ(B.n_tun, 0); /* a keepalive is nothing for TUN */
	/* A session: one empty data packet at once, no new handshake. */
	h_advance(SC_NSEC_PER_SEC);
	h_pump();
	k = count_keepalives(&A);
	tun = B.n_tun;
	b_sent = B.n_log;
	/* A's address changed (migration); the keepalive makes B follow now,
	 * without any data and without waiting for a persistent keepalive. */
	h_set_addr(&A, 1, 6000);
	CHECK_EQ(wg_dev_send_keepalive(A.dev, h_now, pa, &A.sink), 0);
	CHECK_EQ(count_keepalives(&A), k + 1);
	CHECK_EQ(A.log[A.n_log - 1].at, h_now);
	CHECK_EQ(h_count_log(&A, MESSAGE_HANDSHAKE_INITIATION), 1);
	h_pump();
	CHECK_EQ(B.events[WG_EVENT_ENDPOINT_CHANGED], 1);
	wg_peer_get_info(pb, &info);
	CHECK_EQ(ntohs(info.endpoint.addr.in4.sin_port), 6000);
	CHECK_EQ(B.n_tun, tun);
	/* Keepalives are not answered. */
	CHECK_EQ(B.n_log, b_sent);
	/* A peer without an endpoint: refused, nothing sent or queued. */
	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = WG_PEER_HAS_PUBLIC_KEY;
	h_node_init(&R, "R", 3);
	memcpy(cfg.public_key, R.pub, 32);
	CHECK_EQ(wg_dev_set_peer(A.dev, h_now, &cfg, &A.sink, &pn), 0);
	k = A.n_log;
	CHECK_EQ(wg_dev_send_keepalive(A.dev, h_now, pn, &A.sink), WG_ERR_NO_ENDPOINT);
	CHECK_EQ(A.n_log, k);
	/* A device that is down (no sink) sends nothing. */
	k = A.n_log;
	CHECK_EQ(wg_dev_send_keepalive(A.dev, h_now, pa, NULL), -ENETDOWN);
	CHECK_EQ(A.n_log, k);
	h_reset();
}

static void test_clear_src(void)
{
	struct wg_peer_info info;
	size_t len;

	setup_pair();
	/* B hears A on its local address 192.0.2.99: the sticky source. */
	A.addr.src.v4.s_addr = htonl(0xc0000263u);
	A.addr.src_ifindex = 7;
	establish();
	wg_peer_get_info(pb, &info);
	CHECK_EQ(info.endpoint.src.v4.s_addr, htonl(0xc0000263u));
	CHECK_EQ(info.endpoint.src_ifindex, 7);
	/* B's addresses changed: the source is forgotten, the endpoint kept. */
	wg_dev_clear_src(B.dev);
	wg_peer_get_info(pb, &info);
	CHECK_EQ(info.endpoint.src.v4.s_addr, 0);
	CHECK_EQ(info.endpoint.src_ifindex, 0);
	CHECK_EQ(info.endpoint.addr.in4.sin_addr.s_addr, A.addr.addr.in4.sin_addr.s_addr);
	CHECK_EQ(info.endpoint.addr.in4.sin_port, A.addr.addr.in4.sin_port);
	len = h_ip4(pkt, "10.0.0.2", "10.0.0.1", 10, 21);
	CHECK_EQ(h_send(&B, pkt, len), 0);
	CHECK_EQ(B.out[B.n_out - 1].to.src.v4.s_addr, 0);
	CHECK_EQ(B.out[B.n_out - 1].to.src_ifindex, 0);
	h_pump();
	CHECK_EQ(A.n_tun, 1);
	/* A device without peers is fine. */
	h_node_init(&R, "R", 3);
	wg_dev_clear_src(R.dev);
	h_reset();
}

static const struct t_case cases[] = {
	T(test_handshake_and_data),
	T(test_ipv6_and_padding),
	T(test_keepalive_after_receive),
	T(test_new_handshake_when_unanswered),
	T(test_rekey_after_time),
	T(test_rekey_on_receive),
	T(test_reject_after_time),
	T(test_retransmit_and_give_up),
	T(test_keys_zeroed),
	T(test_persistent_keepalive),
	T(test_replayed_initiation_and_flood),
	T(test_replayed_data),
	T(test_counter_limits),
	T(test_cookie_under_load),
	T(test_psk),
	T(test_psk_ring),
	T(test_roaming),
	T(test_source_filter),
	T(test_forwarding),
	T(test_config),
	T(test_private_key_change),
	T(test_send_keepalive_now),
	T(test_clear_src),
};

int main(void)
{
	return t_main("wg-device", cases, SC_ARRAY_SIZE(cases));
}
