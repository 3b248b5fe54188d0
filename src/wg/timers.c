// SPDX-License-Identifier: GPL-2.0-only
/*
 * The timers of the WireGuard paper (section 6), as the Linux driver runs
 * them. Each is a deadline in the peer (0: disarmed); wg_dev_tick() runs the
 * due ones.
 *
 *  timer                 armed when (for)             disarmed when      on expiry
 *  --------------------  ---------------------------  -----------------  -------------------------
 *  retransmit_handshake  initiation sent              handshake          resend (clearing the local
 *                        (REKEY_TIMEOUT + jitter)     complete           source address); after
 *                                                                        MAX_TIMER_HANDSHAKES give
 *                                                                        up: drop queued packets,
 *                                                                        arm zero_key_material
 *  send_keepalive        data received, if not        any authenticated  send a keepalive; another
 *                        pending (KEEPALIVE_TIMEOUT;  packet sent        after KEEPALIVE_TIMEOUT if
 *                        if pending: one more later)                     more data came meanwhile
 *  new_handshake         data sent, if not pending    any authenticated  new handshake: we sent and
 *                        (KEEPALIVE_TIMEOUT +         packet received    heard nothing back
 *                        REKEY_TIMEOUT + jitter)
 *  zero_key_material     session derived, or giving   (re-armed only)    wipe all keypairs and the
 *                        up (3 * REJECT_AFTER_TIME)                      handshake state
 *  persistent_keepalive  any authenticated packet     interval set to 0  send a keepalive
 *                        sent or received (interval)
 *
 * Besides these, sending rekeys after REKEY_AFTER_MESSAGES or (initiator)
 * REKEY_AFTER_TIME, receiving rekeys at REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT
 * - REKEY_TIMEOUT, and keypairs stop working at REJECT_AFTER_TIME or
 * REJECT_AFTER_MESSAGES (send.c, receive.c, replay.c).
 */
#include <string.h>

#include "wg/device.h"

static void arm(struct wg_peer *peer, enum wg_timer_id t, uint64_t deadline)
{
	/* 0 means disarmed, and a virtual clock may well start at 0. */
	if (!deadline)
		deadline = 1;
	peer->timer[t] = deadline;
	wg_dev_arm(peer->dev, deadline);
}

static void disarm(struct wg_peer *peer, enum wg_timer_id t)
{
	peer->timer[t] = 0;
}

static bool pending(const struct wg_peer *peer, enum wg_timer_id t)
{
	return peer->timer[t] != 0;
}

/* 0..REKEY_TIMEOUT_JITTER_MAX ns from the environment's RNG (0 if it fails:
 * jitter spreads load, it is not a security property). */
static uint64_t jitter(const struct wg_dev *dev)
{
	uint32_t r;

	if (dev->env.random(dev->env.ctx, &r, sizeof(r)))
		return 0;
	return ((uint64_t)r * (REKEY_TIMEOUT_JITTER_MAX + 1)) >> 32;
}

void wg_timers_data_sent(struct wg_peer *peer, uint64_t now)
{
	if (!pending(peer, WG_TIMER_NEW_HANDSHAKE))
		arm(peer, WG_TIMER_NEW_HANDSHAKE,
		    now + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter(peer->dev));
}

void wg_timers_data_received(struct wg_peer *peer, uint64_t now)
{
	if (!pending(peer, WG_TIMER_SEND_KEEPALIVE))
		arm(peer, WG_TIMER_SEND_KEEPALIVE, now + KEEPALIVE_TIMEOUT);
	else
		peer->need_another_keepalive = true;
}

void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer)
{
	disarm(peer, WG_TIMER_SEND_KEEPALIVE);
}

void wg_timers_any_authenticated_packet_received(struct wg_peer *peer)
{
	disarm(peer, WG_TIMER_NEW_HANDSHAKE);
}

void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer, uint64_t now)
{
	if (peer->persistent_keepalive)
		arm(peer, WG_TIMER_PERSISTENT_KEEPALIVE,
		    now + peer->persistent_keepalive * SC_NSEC_PER_SEC);
}

void wg_timers_handshake_initiated(struct wg_peer *peer, uint64_t now)
{
	arm(peer, WG_TIMER_RETRANSMIT_HANDSHAKE, now + REKEY_TIMEOUT + jitter(peer->dev));
}

void wg_timers_handshake_complete(struct wg_peer *peer, const struct wg_sink *sink)
{
	const struct sc_env *env = &peer->dev->env;

	disarm(peer, WG_TIMER_RETRANSMIT_HANDSHAKE);
	peer->handshake_attempts = 0;
	peer->sent_lastminute_handshake = false;
	peer->last_handshake_wall = env->wall_ns(env->ctx);
	wg_emit_event(sink, peer, WG_EVENT_HANDSHAKE_COMPLETE);
}

void wg_timers_session_derived(struct wg_peer *peer, uint64_t now)
{
	arm(peer, WG_TIMER_ZERO_KEY_MATERIAL, now + 3 * REJECT_AFTER_TIME);
}

void wg_timers_stop(struct wg_peer *peer)
{
	memset(peer->timer, 0, sizeof(peer->timer));
}

static void expired_retransmit_handshake(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
					 const struct wg_sink *sink)
{
	if (peer->handshake_attempts > MAX_TIMER_HANDSHAKES) {
		disarm(peer, WG_TIMER_SEND_KEEPALIVE);
		/* Nothing will carry the queued packets: drop them rather
		 * than send them minutes late. */
		wg_purge_staged(dev, peer);
		/* And wipe what is left of the partial exchange later. */
		if (!pending(peer, WG_TIMER_ZERO_KEY_MATERIAL))
			arm(peer, WG_TIMER_ZERO_KEY_MATERIAL, now + 3 * REJECT_AFTER_TIME);
		wg_emit_event(sink, peer, WG_EVENT_HANDSHAKE_GAVE_UP);
		return;
	}
	peer->handshake_attempts++;
	/* The local source address may be the trouble (it went away). */
	wg_peer_clear_endpoint_src(peer);
	wg_send_initiation(dev, peer, now, true, sink);
}

static void expired_send_keepalive(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
				   const struct wg_sink *sink)
{
	wg_send_keepalive(dev, peer, now, sink);
	if (peer->need_another_keepalive) {
		peer->need_another_keepalive = false;
		arm(peer, WG_TIMER_SEND_KEEPALIVE, now + KEEPALIVE_TIMEOUT);
	}
}

static void expired_new_handshake(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
				  const struct wg_sink *sink)
{
	wg_peer_clear_endpoint_src(peer);
	wg_send_initiation(dev, peer, now, false, sink);
}

static void expired_zero_key_material(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
				      const struct wg_sink *sink)
{
	wg_peer_clear_keys(dev, peer);
	wg_emit_event(sink, peer, WG_EVENT_KEYS_ZEROED);
}

static void expired_persistent_keepalive(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
					 const struct wg_sink *sink)
{
	if (peer->persistent_keepalive)
		wg_send_keepalive(dev, peer, now, sink);
}

typedef void (*expiry_fn)(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
			  const struct wg_sink *sink);

static const expiry_fn expiry[WG_TIMER_COUNT] = {
	[WG_TIMER_RETRANSMIT_HANDSHAKE] = expired_retransmit_handshake,
	[WG_TIMER_SEND_KEEPALIVE] = expired_send_keepalive,
	[WG_TIMER_NEW_HANDSHAKE] = expired_new_handshake,
	[WG_TIMER_ZERO_KEY_MATERIAL] = expired_zero_key_material,
	[WG_TIMER_PERSISTENT_KEEPALIVE] = expired_persistent_keepalive,
};

void wg_timers_run(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
		   const struct wg_sink *sink)
{
	int t;

	/* An action re-arms timers only in the future, so one pass suffices. */
	for (t = 0; t < WG_TIMER_COUNT; t++) {
		if (!pending(peer, t) || peer->timer[t] > now)
			continue;
		disarm(peer, t);
		expiry[t](dev, peer, now, sink);
	}
}

uint64_t wg_timers_next(const struct wg_peer *peer)
{
	uint64_t next = UINT64_MAX;
	int t;

	for (t = 0; t < WG_TIMER_COUNT; t++)
		if (pending(peer, t) && peer->timer[t] < next)
			next = peer->timer[t];
	return next;
}
