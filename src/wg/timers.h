/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-peer protocol timers (paper, section 6), as deadlines in ns rather than
 * kernel timers: 0 is disarmed. The events below arm and disarm them, as the
 * Linux driver's wg_timers_* do; wg_timers_run() performs the actions of the
 * ones due. Internal to the device core.
 */
#ifndef WG_TIMERS_H
#define WG_TIMERS_H

#include <stdint.h>

struct wg_dev;
struct wg_peer;
struct wg_sink;

enum wg_timer_id {
	WG_TIMER_RETRANSMIT_HANDSHAKE,
	WG_TIMER_SEND_KEEPALIVE,
	WG_TIMER_NEW_HANDSHAKE,
	WG_TIMER_ZERO_KEY_MATERIAL,
	WG_TIMER_PERSISTENT_KEEPALIVE,
	WG_TIMER_COUNT,
};

void wg_timers_data_sent(struct wg_peer *peer, uint64_t now);
void wg_timers_data_received(struct wg_peer *peer, uint64_t now);
void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_received(struct wg_peer *peer);
void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer, uint64_t now);
void wg_timers_handshake_initiated(struct wg_peer *peer, uint64_t now);
void wg_timers_handshake_complete(struct wg_peer *peer, const struct wg_sink *sink);
void wg_timers_session_derived(struct wg_peer *peer, uint64_t now);
/* Disarm every timer (peer removal). */
void wg_timers_stop(struct wg_peer *peer);

/* Perform the actions of every timer of peer due at now. */
void wg_timers_run(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
		   const struct wg_sink *sink);
/* The peer's earliest armed deadline, or UINT64_MAX. */
uint64_t wg_timers_next(const struct wg_peer *peer);

#endif
