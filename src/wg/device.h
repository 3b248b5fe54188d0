/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internals of the device core, shared by wg.c (device, peers, index table),
 * send.c, receive.c and timers.c. Not for other layers: they use wg.h.
 */
#ifndef WG_DEVICE_H
#define WG_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg/aip.h"
#include "wg/constants.h"
#include "wg/cookie.h"
#include "wg/limits.h"
#include "wg/noise.h"
#include "wg/timers.h"
#include "wg/wg.h"

struct cry_aead;
struct wg_ratelimiter;

#define wg_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* What a receiver index names. */
enum {
	WG_INDEX_HANDSHAKE = 1u << 0,
	WG_INDEX_KEYPAIR = 1u << 1,
};

/* An entry of the receiver-index table, embedded in what it names. */
struct wg_index_entry {
	struct wg_index_entry *next;
	struct wg_peer *peer;
	uint32_t index;
	uint8_t kind;
	bool hashed;
};

struct wg_keypair {
	struct wg_index_entry entry;
	struct noise_keypair kp;
	uint32_t psk_version;
	/* Bumped whenever the slot is released, so a job prepared on it
	 * before (wg_job) can tell the keypair is gone even if the slot was
	 * reused since. */
	uint32_t gen;
	bool used;
};

/* A packet held while no session exists; the bytes are at
 * buf + WG_HEADROOM, with WG_TAILROOM after them. */
struct wg_staged {
	struct wg_staged *next;
	size_t len;
	uint8_t buf[];
};

struct wg_peer {
	struct wg_dev *dev;
	struct wg_peer *prev, *next; /* device list, in order of addition */
	struct wg_peer *hash_next;   /* public-key table chain */
	uint8_t public_key[WG_KEY_LEN];

	struct noise_handshake hs;
	struct wg_index_entry hs_entry;
	struct cookie_maker cookie;
	/* Fixed slots: at most three keypairs live at once, so a new one
	 * always finds a slot once those it displaces are released. */
	struct wg_keypair kp_slot[3];
	struct wg_keypair *kp_current, *kp_previous, *kp_next;

	/* PSK ring, newest first; empty means the all-zero key. */
	uint8_t psk[WG_PSK_RING_MAX][WG_KEY_LEN];
	uint32_t psk_version[WG_PSK_RING_MAX];
	size_t n_psk;
	uint32_t hs_psk_version; /* PSK of the exchange in progress */

	struct wg_endpoint endpoint;
	uint16_t persistent_keepalive; /* seconds */
	struct aip_list aips;

	struct wg_staged *staged_head, *staged_tail;
	size_t n_staged;

	uint64_t timer[WG_TIMER_COUNT];
	unsigned int handshake_attempts;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
	bool sent_handshake;
	uint64_t last_sent_handshake;

	uint64_t rx_bytes, tx_bytes;
	uint64_t last_handshake_wall;
};

struct wg_dev {
	struct sc_env env;
	struct cry_aead *aead;
	struct noise_identity id;
	struct cookie_checker cookie;
	struct wg_ratelimiter *ratelimiter; /* allocated the first time we are under load */
	struct aip_table *aip;
	uint8_t hash_key[16];

	struct wg_peer *peer_first, *peer_last;
	size_t n_peers;
	struct wg_peer *pubkey_table[WG_PUBKEY_BUCKETS];
	struct wg_index_entry *index_table[WG_INDEX_BUCKETS];

	unsigned int mtu;
	bool forwarding;
	unsigned int handshake_backlog;
	bool load_seen;
	uint64_t last_under_load;

	uint64_t next_deadline;
	size_t staged_bytes;
	struct wg_dev_stats stats;

	/* For TUN packets without room around them to be encrypted in place. */
	uint8_t bounce[WG_HEADROOM + WG_MAX_PACKET + WG_TAILROOM];
};

static inline bool wg_expired(uint64_t birthdate, uint64_t age, uint64_t now)
{
	return birthdate + age <= now;
}

static inline bool wg_has_endpoint(const struct wg_peer *peer)
{
	return peer->endpoint.addr.sa.sa_family == AF_INET ||
	       peer->endpoint.addr.sa.sa_family == AF_INET6;
}

/* wg.c: index table, keypairs, endpoints. */
int wg_index_insert(struct wg_dev *dev, struct wg_index_entry *e, struct wg_peer *peer,
		    uint8_t kind);
void wg_index_remove(struct wg_dev *dev, struct wg_index_entry *e);
struct wg_index_entry *wg_index_lookup(const struct wg_dev *dev, uint32_t index,
				       unsigned int kinds);
int wg_peer_begin_session(struct wg_dev *dev, struct wg_peer *peer, uint64_t now);
bool wg_peer_received_with_keypair(struct wg_peer *peer, struct wg_keypair *kp);
void wg_peer_clear_keys(struct wg_dev *dev, struct wg_peer *peer);
void wg_peer_set_endpoint(struct wg_peer *peer, const struct wg_endpoint *ep,
			  const struct wg_sink *sink);
void wg_peer_clear_endpoint_src(struct wg_peer *peer);
void wg_dev_arm(struct wg_dev *dev, uint64_t deadline);
void wg_emit_event(const struct wg_sink *sink, struct wg_peer *peer, enum wg_event ev);

/* send.c */
void wg_send_initiation(struct wg_dev *dev, struct wg_peer *peer, uint64_t now, bool retry,
			const struct wg_sink *sink);
void wg_send_response(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
		      const struct wg_sink *sink);
void wg_send_keepalive(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
		       const struct wg_sink *sink);
void wg_send_staged(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
		    const struct wg_sink *sink);
void wg_purge_staged(struct wg_dev *dev, struct wg_peer *peer);
int wg_send_packet(struct wg_dev *dev, struct wg_peer *peer, uint64_t now, uint8_t *data,
		   size_t len, size_t headroom, size_t tailroom, const struct wg_sink *sink);
void wg_emit_udp(struct wg_dev *dev, struct wg_peer *peer, const uint8_t *pkt, size_t len,
		 unsigned int flags, const struct wg_sink *sink);

#endif
