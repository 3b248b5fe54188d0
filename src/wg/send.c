// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sending: handshake messages, transport data, keepalives and the queue of
 * packets waiting for a session (Linux send.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/ct.h"
#include "wg/device.h"
#include "wg/ip.h"

static const uint8_t no_ad[1];

void wg_emit_udp(struct wg_dev *dev, struct wg_peer *peer, const uint8_t *pkt, size_t len,
		 unsigned int flags, const struct wg_sink *sink)
{
	if (!sink || !wg_has_endpoint(peer)) {
		dev->stats.tx_dropped++;
		return;
	}
	sink->send_udp(sink->ctx, peer, &peer->endpoint, pkt, len, flags);
	peer->tx_bytes += len;
}

/* Length of len bytes of plaintext once padded (Linux calculate_skb_padding):
 * to a multiple of 16, but never past the MTU, so a full-size packet does not
 * grow beyond what the path was sized for. */
static size_t padded_len(const struct wg_dev *dev, size_t len)
{
	size_t last = len, padded;

	if (!dev->mtu)
		return (len + MESSAGE_PADDING_MULTIPLE - 1) &
		       ~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);
	if (last > dev->mtu)
		last %= dev->mtu;
	padded = (last + MESSAGE_PADDING_MULTIPLE - 1) & ~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);
	if (padded > dev->mtu)
		padded = dev->mtu;
	return len + (padded - last);
}

/* Everything of sealing but the AEAD: the header goes in the 16 bytes before
 * data, the padding after it. Returns the padded length to seal. */
static size_t seal_prepare(struct wg_dev *dev, struct wg_keypair *k, uint64_t nonce, uint8_t *data,
			   size_t len)
{
	size_t padded = padded_len(dev, len);
	uint8_t *hdr = data - sizeof(struct wg_msg_data);

	memset(data + len, 0, padded - len);
	wg_put_le32(hdr, MESSAGE_DATA);
	wg_put_le32(hdr + 4, k->kp.remote_index);
	wg_put_le64(hdr + 8, nonce);
	return padded;
}

/* Length of the message whose padded plaintext was padded bytes. */
static size_t sealed_len(size_t padded)
{
	return sizeof(struct wg_msg_data) + noise_encrypted_len(padded);
}

/* Encrypt the len bytes at data in place for k under nonce, tag after the
 * padding. Returns the message length (it starts at data - 16), or 0 if the
 * AEAD failed. */
static size_t seal_data(struct wg_dev *dev, struct wg_keypair *k, uint64_t nonce, uint8_t *data,
			size_t len)
{
	size_t padded = seal_prepare(dev, k, nonce, data, len);

	if (cry_aead_seal(dev->aead, k->kp.send_key, nonce, no_ad, 0, data, padded, data))
		return 0;
	return sealed_len(padded);
}

/* Whether len bytes with this room around them can be sealed in place. */
static bool room_to_seal(const struct wg_dev *dev, size_t len, size_t headroom, size_t tailroom)
{
	return headroom >= sizeof(struct wg_msg_data) &&
	       tailroom >= padded_len(dev, len) - len + NOISE_AUTHTAG_LEN;
}

/* The current keypair and its next nonce, if it may still send; a keypair
 * past REJECT_AFTER_TIME or REJECT_AFTER_MESSAGES is retired for sending. */
static int next_nonce(struct wg_peer *peer, uint64_t now, struct wg_keypair **kp, uint64_t *nonce)
{
	struct wg_keypair *k = peer->kp_current;

	if (!k || !k->kp.send_valid)
		return -ENOKEY;
	if (wg_expired(k->kp.birthdate, REJECT_AFTER_TIME, now) ||
	    k->kp.send_counter >= REJECT_AFTER_MESSAGES) {
		k->kp.send_valid = false;
		return -ENOKEY;
	}
	*nonce = k->kp.send_counter++;
	*kp = k;
	return 0;
}

static void data_sent(struct wg_peer *peer, uint64_t now, bool keepalive)
{
	wg_timers_any_authenticated_packet_traversal(peer, now);
	wg_timers_any_authenticated_packet_sent(peer);
	if (!keepalive)
		wg_timers_data_sent(peer, now);
}

/* Rekey before the session gets old: after REKEY_AFTER_MESSAGES, or after
 * REKEY_AFTER_TIME if we made it (only the initiator's clock counts, so the
 * two ends do not both start handshakes at once). */
static void keep_key_fresh(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
			   const struct wg_sink *sink)
{
	struct wg_keypair *k = peer->kp_current;

	if (k && k->kp.send_valid &&
	    (k->kp.send_counter > REKEY_AFTER_MESSAGES ||
	     (k->kp.initiator && wg_expired(k->kp.birthdate, REKEY_AFTER_TIME, now))))
		wg_send_initiation(dev, peer, now, false, sink);
}

void wg_send_initiation(struct wg_dev *dev, struct wg_peer *peer, uint64_t now, bool retry,
			const struct wg_sink *sink)
{
	struct wg_msg_initiation msg;

	if (!retry)
		peer->handshake_attempts = 0;
	/* At most one initiation per REKEY_TIMEOUT, whatever asks for it. */
	if (!sink ||
	    (peer->sent_handshake && !wg_expired(peer->last_sent_handshake, REKEY_TIMEOUT, now)))
		return;
	peer->last_sent_handshake = now;
	peer->sent_handshake = true;
	if (wg_index_insert(dev, &peer->hs_entry, peer, WG_INDEX_HANDSHAKE))
		return;
	if (noise_create_initiation(dev->aead, &dev->env, &dev->id, &peer->hs, peer->hs_entry.index,
				    &msg)) {
		wg_index_remove(dev, &peer->hs_entry);
		return;
	}
	cookie_add_macs(&peer->cookie, now, &msg, sizeof(msg));
	wg_timers_any_authenticated_packet_traversal(peer, now);
	wg_timers_any_authenticated_packet_sent(peer);
	wg_emit_udp(dev, peer, (const uint8_t *)&msg, sizeof(msg), WG_OUT_SCRATCH, sink);
	wg_timers_handshake_initiated(peer, now);
}

void wg_send_response(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
		      const struct wg_sink *sink)
{
	static const uint8_t zero_psk[WG_KEY_LEN];
	struct wg_msg_response msg;

	peer->last_sent_handshake = now;
	peer->sent_handshake = true;
	if (wg_index_insert(dev, &peer->hs_entry, peer, WG_INDEX_HANDSHAKE))
		return;
	/* The responder commits to the newest PSK of the ring. */
	if (noise_create_response(dev->aead, &dev->env, &peer->hs, peer->hs_entry.index,
				  peer->n_psk ? peer->psk[0] : zero_psk, &msg)) {
		wg_index_remove(dev, &peer->hs_entry);
		return;
	}
	peer->hs_psk_version = peer->n_psk ? peer->psk_version[0] : 0;
	cookie_add_macs(&peer->cookie, now, &msg, sizeof(msg));
	if (wg_peer_begin_session(dev, peer, now))
		return;
	wg_timers_session_derived(peer, now);
	wg_timers_any_authenticated_packet_traversal(peer, now);
	wg_timers_any_authenticated_packet_sent(peer);
	wg_emit_udp(dev, peer, (const uint8_t *)&msg, sizeof(msg), WG_OUT_SCRATCH, sink);
}

static void staged_free(struct wg_dev *dev, struct wg_staged *s)
{
	dev->staged_bytes -= s->len;
	cry_wipe(s->buf, WG_HEADROOM + s->len + WG_TAILROOM);
	free(s);
}

static struct wg_staged *staged_pop(struct wg_peer *peer)
{
	struct wg_staged *s = peer->staged_head;

	peer->staged_head = s->next;
	if (!peer->staged_head)
		peer->staged_tail = NULL;
	peer->n_staged--;
	return s;
}

void wg_purge_staged(struct wg_dev *dev, struct wg_peer *peer)
{
	while (peer->staged_head) {
		staged_free(dev, staged_pop(peer));
		dev->stats.tx_dropped++;
	}
}

/* Copy a packet to the peer's queue; the oldest goes past
 * WG_MAX_STAGED_PACKETS, as in Linux. This allocates, but only while no
 * session exists: an established tunnel never gets here. */
static int stage(struct wg_dev *dev, struct wg_peer *peer, const uint8_t *data, size_t len)
{
	struct wg_staged *s;

	if (dev->staged_bytes + len > WG_MAX_STAGED_BYTES)
		return -ENOBUFS;
	s = malloc(sizeof(*s) + WG_HEADROOM + len + WG_TAILROOM);
	if (!s)
		return -ENOBUFS;
	s->next = NULL;
	s->len = len;
	if (len)
		memcpy(s->buf + WG_HEADROOM, data, len);
	if (peer->staged_tail)
		peer->staged_tail->next = s;
	else
		peer->staged_head = s;
	peer->staged_tail = s;
	peer->n_staged++;
	dev->staged_bytes += len;
	while (peer->n_staged > WG_MAX_STAGED_PACKETS) {
		staged_free(dev, staged_pop(peer));
		dev->stats.tx_dropped++;
	}
	return 0;
}

void wg_send_staged(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
		    const struct wg_sink *sink)
{
	struct wg_keypair *k;
	struct wg_staged *s;
	uint64_t nonce;
	size_t n;

	if (!peer->staged_head || !sink)
		return;
	while (peer->staged_head) {
		if (next_nonce(peer, now, &k, &nonce)) {
			/* Keep the packets; they leave when the handshake is done. */
			wg_send_initiation(dev, peer, now, false, sink);
			return;
		}
		s = staged_pop(peer);
		n = seal_data(dev, k, nonce, s->buf + WG_HEADROOM, s->len);
		if (n) {
			wg_emit_udp(dev, peer, s->buf, n, WG_OUT_SCRATCH, sink);
			data_sent(peer, now, s->len == 0);
		}
		staged_free(dev, s);
	}
	keep_key_fresh(dev, peer, now, sink);
}

void wg_send_keepalive(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
		       const struct wg_sink *sink)
{
	uint8_t buf[sizeof(struct wg_msg_data) + NOISE_AUTHTAG_LEN];
	struct wg_keypair *k;
	uint64_t nonce;
	size_t n;

	if (!sink)
		return;
	/* Queued packets, once sent, are keepalive enough. */
	if (!peer->staged_head) {
		if (!next_nonce(peer, now, &k, &nonce)) {
			n = seal_data(dev, k, nonce, buf + sizeof(struct wg_msg_data), 0);
			if (n) {
				wg_emit_udp(dev, peer, buf, n, WG_OUT_SCRATCH, sink);
				data_sent(peer, now, true);
			}
			keep_key_fresh(dev, peer, now, sink);
			return;
		}
		/* No session: queue an empty packet, which starts a handshake
		 * and goes out when it completes. */
		if (stage(dev, peer, NULL, 0))
			return;
	}
	wg_send_staged(dev, peer, now, sink);
}

/* A sealed transport packet leaves: the part after the AEAD, shared by
 * wg_send_packet and wg_dev_send_finish. */
static void data_emit(struct wg_dev *dev, struct wg_peer *peer, uint64_t now, const uint8_t *msg,
		      size_t n, unsigned int flags, const struct wg_sink *sink)
{
	wg_emit_udp(dev, peer, msg, n, flags, sink);
	data_sent(peer, now, false);
	keep_key_fresh(dev, peer, now, sink);
}

int wg_send_packet(struct wg_dev *dev, struct wg_peer *peer, uint64_t now, uint8_t *data,
		   size_t len, size_t headroom, size_t tailroom, const struct wg_sink *sink)
{
	unsigned int flags = 0;
	struct wg_keypair *k;
	uint64_t nonce;
	size_t n;
	int ret;

	if (!wg_has_endpoint(peer)) {
		dev->stats.tx_dropped++;
		return WG_ERR_NO_ENDPOINT;
	}
	if (len > WG_MAX_PACKET) {
		dev->stats.tx_dropped++;
		return -EMSGSIZE;
	}
	/* Fast path: a session and nothing queued before this packet. */
	if (!peer->staged_head && !next_nonce(peer, now, &k, &nonce)) {
		if (!room_to_seal(dev, len, headroom, tailroom)) {
			memcpy(dev->bounce + WG_HEADROOM, data, len);
			data = dev->bounce + WG_HEADROOM;
			flags = WG_OUT_SCRATCH;
		}
		n = seal_data(dev, k, nonce, data, len);
		if (!n) {
			dev->stats.tx_dropped++;
			return -EIO;
		}
		data_emit(dev, peer, now, data - sizeof(struct wg_msg_data), n, flags, sink);
		return 0;
	}
	ret = stage(dev, peer, data, len);
	if (ret) {
		dev->stats.tx_dropped++;
		return ret;
	}
	wg_send_staged(dev, peer, now, sink);
	return peer->staged_head ? WG_QUEUED : 0;
}

/* The peer whose allowed IPs hold the packet's destination. */
static int route(struct wg_dev *dev, const struct wg_buf *b, struct wg_peer **peerp)
{
	struct aip_list *owner;
	struct wg_ip_info ip;

	if (wg_ip_parse(b->data, b->len, &ip)) {
		dev->stats.tx_dropped++;
		return WG_ERR_MALFORMED;
	}
	owner = aip_lookup(dev->aip, ip.family, ip.dst);
	if (!owner) {
		dev->stats.tx_dropped++;
		return WG_ERR_NOKEY;
	}
	*peerp = wg_container_of(owner, struct wg_peer, aips);
	return 0;
}

int wg_dev_send_tun(struct wg_dev *dev, uint64_t now, struct wg_buf *b, const struct wg_sink *sink)
{
	struct wg_peer *peer;
	int ret = route(dev, b, &peer);

	if (ret)
		return ret;
	return wg_send_packet(dev, peer, now, b->data, b->len, b->headroom, b->tailroom, sink);
}

/* ---- the send path split at the AEAD (wg.h) ---------------------------- */

int wg_dev_send_prepare(struct wg_dev *dev, uint64_t now, struct wg_buf *b, struct wg_job *job)
{
	struct wg_keypair *k;
	struct wg_peer *peer;
	uint64_t nonce;
	int ret = route(dev, b, &peer);

	if (ret)
		return ret;
	/* Only the fast path of wg_send_packet is split; the rest (drops
	 * counted there, staging, the bounce buffer) goes the one-call way. */
	if (!wg_has_endpoint(peer) || b->len > WG_MAX_PACKET || peer->staged_head ||
	    !room_to_seal(dev, b->len, b->headroom, b->tailroom) ||
	    next_nonce(peer, now, &k, &nonce))
		return WG_SYNC;
	*job = (struct wg_job){
		.data = b->data,
		.len = seal_prepare(dev, k, nonce, b->data, b->len),
		.key = k->kp.send_key,
		.nonce = nonce,
		.open = false,
		.peer = peer,
		.kp = k,
		.kp_gen = k->gen,
		.buf = *b,
	};
	return 0;
}

void wg_job_run(struct cry_aead *aead, struct wg_job *job)
{
	if (job->open)
		job->status = cry_aead_open(aead, job->key, job->nonce, no_ad, 0, job->data,
					    job->len, job->data);
	else
		job->status = cry_aead_seal(aead, job->key, job->nonce, no_ad, 0, job->data,
					    job->len, job->data);
}

int wg_dev_send_finish(struct wg_dev *dev, uint64_t now, struct wg_job *job,
		       const struct wg_sink *sink)
{
	if (job->status) {
		dev->stats.tx_dropped++;
		return -EIO;
	}
	/* The nonce was spent at prepare; the keypair cannot have changed
	 * since (only handshakes replace keypairs, and none ran in between). */
	data_emit(dev, job->peer, now, job->data - sizeof(struct wg_msg_data), sealed_len(job->len),
		  0, sink);
	return 0;
}
