// SPDX-License-Identifier: GPL-2.0-only
/*
 * Receiving: handshake messages with their MAC and load checks, cookie
 * replies, and transport data with replay protection, roaming, the
 * allowed-IPs source filter and in-engine forwarding (Linux receive.c).
 */
#include <errno.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/ct.h"
#include "wg/device.h"
#include "wg/ip.h"
#include "wg/ratelimiter.h"

static const uint8_t no_ad[1];

static void cookie_source_of(const struct wg_endpoint *ep, struct cookie_source *cs)
{
	memset(cs, 0, sizeof(*cs));
	if (ep->addr.sa.sa_family == AF_INET6) {
		memcpy(cs->addr, &ep->addr.in6.sin6_addr, 16);
		cs->addr_len = 16;
		cs->port = ntohs(ep->addr.in6.sin6_port);
	} else {
		memcpy(cs->addr, &ep->addr.in4.sin_addr, 4);
		cs->addr_len = 4;
		cs->port = ntohs(ep->addr.in4.sin_port);
	}
}

/* Under load while the backlog is deep, and for UNDER_LOAD_TIME after, so
 * an attacker cannot toggle us out of cookie mode by pausing. */
static bool under_load(struct wg_dev *dev, uint64_t now)
{
	if (dev->handshake_backlog >= UNDER_LOAD_BACKLOG) {
		dev->last_under_load = now;
		dev->load_seen = true;
		return true;
	}
	if (dev->load_seen) {
		if (!wg_expired(dev->last_under_load, UNDER_LOAD_TIME, now))
			return true;
		dev->load_seen = false;
	}
	return false;
}

static bool ratelimit_allow(struct wg_dev *dev, uint64_t now, const struct cookie_source *cs)
{
	if (!dev->ratelimiter) {
		dev->ratelimiter = wg_ratelimiter_new(dev->hash_key);
		if (!dev->ratelimiter)
			return false;
	}
	return wg_ratelimiter_allow(dev->ratelimiter, now, cs->addr, cs->addr_len);
}

static int send_cookie_reply(struct wg_dev *dev, uint64_t now, const uint8_t *msg, size_t len,
			     const struct cookie_source *cs, const struct wg_endpoint *src,
			     const struct wg_sink *sink)
{
	struct wg_msg_cookie reply;
	/* Initiation and response both carry the sender index at offset 4. */
	uint32_t idx = wg_get_le32(msg + 4);
	int ret;

	ret = cookie_reply_create(&dev->cookie, dev->aead, &dev->env, now, msg, len, cs, idx,
				  &reply);
	if (ret)
		return ret;
	dev->stats.cookies_sent++;
	if (sink)
		sink->send_udp(sink->ctx, NULL, src, (const uint8_t *)&reply, sizeof(reply),
			       WG_OUT_SCRATCH);
	return WG_COOKIE_SENT;
}

static int consume_cookie(struct wg_dev *dev, uint64_t now, const uint8_t *pkt)
{
	const struct wg_msg_cookie *msg = (const struct wg_msg_cookie *)pkt;
	struct wg_index_entry *e;

	/* A reply answers an initiation (handshake index) or a response (by
	 * then the index of a keypair). */
	e = wg_index_lookup(dev, wg_get_le32(msg->receiver), WG_INDEX_HANDSHAKE | WG_INDEX_KEYPAIR);
	if (!e)
		return WG_ERR_NOKEY;
	return cookie_reply_consume(&e->peer->cookie, dev->aead, now, msg) ? WG_ERR_AUTH : 0;
}

static int consume_initiation(struct wg_dev *dev, uint64_t now, const uint8_t *pkt,
			      struct wg_peer **peerp)
{
	const struct wg_msg_initiation *msg = (const struct wg_msg_initiation *)pkt;
	struct noise_initiation_ctx ctx;
	struct wg_peer *peer;
	int ret;

	ret = noise_consume_initiation_start(dev->aead, &dev->id, msg, &ctx);
	if (ret)
		return ret == -EINVAL && !dev->id.has ? WG_ERR_NOKEY : WG_ERR_AUTH;
	peer = wg_dev_find_peer(dev, ctx.is);
	if (!peer) {
		cry_wipe(&ctx, sizeof(ctx));
		return WG_ERR_NOKEY;
	}
	ret = noise_consume_initiation_finish(dev->aead, &peer->hs, &ctx, msg, now);
	if (ret)
		return ret == -EALREADY || ret == -EBUSY ? ret : WG_ERR_AUTH;
	*peerp = peer;
	return 0;
}

static int consume_response(struct wg_dev *dev, uint64_t now, const uint8_t *pkt,
			    struct wg_peer **peerp)
{
	const struct wg_msg_response *msg = (const struct wg_msg_response *)pkt;
	struct wg_index_entry *e;
	struct wg_peer *peer;
	size_t which;
	int ret;

	e = wg_index_lookup(dev, wg_get_le32(msg->receiver), WG_INDEX_HANDSHAKE);
	if (!e)
		return WG_ERR_NOKEY;
	peer = e->peer;
	ret = noise_consume_response(dev->aead, &dev->id, &peer->hs, msg,
				     (const uint8_t(*)[32])peer->psk, peer->n_psk, &which);
	if (ret)
		return ret == -EPROTO ? WG_ERR_NOKEY : WG_ERR_AUTH;
	peer->hs_psk_version = peer->n_psk ? peer->psk_version[which] : 0;
	*peerp = peer;
	return 0;
}

static int recv_handshake(struct wg_dev *dev, uint64_t now, const uint8_t *pkt, size_t len,
			  int type, const struct wg_endpoint *src, const struct wg_sink *sink)
{
	struct cookie_source cs;
	struct wg_peer *peer = NULL;
	bool loaded;
	int mac, ret;

	if (type == MESSAGE_HANDSHAKE_COOKIE)
		return consume_cookie(dev, now, pkt);
	cookie_source_of(src, &cs);
	loaded = under_load(dev, now);
	mac = cookie_validate(&dev->cookie, &dev->env, now, pkt, len, &cs, loaded);
	if (mac < 0)
		return mac;
	if (mac == COOKIE_MAC_INVALID)
		return WG_ERR_AUTH;
	if (loaded && mac == COOKIE_MAC_VALID_NO_COOKIE)
		return send_cookie_reply(dev, now, pkt, len, &cs, src, sink);
	/* A valid mac2 proves the address; it still gets only its share. */
	if (loaded && !ratelimit_allow(dev, now, &cs)) {
		dev->stats.ratelimited++;
		return WG_ERR_BUSY;
	}
	if (type == MESSAGE_HANDSHAKE_INITIATION) {
		ret = consume_initiation(dev, now, pkt, &peer);
		if (ret)
			return ret;
		wg_peer_set_endpoint(peer, src, sink);
		wg_send_response(dev, peer, now, sink);
	} else {
		ret = consume_response(dev, now, pkt, &peer);
		if (ret)
			return ret;
		wg_peer_set_endpoint(peer, src, sink);
		if (!wg_peer_begin_session(dev, peer, now)) {
			wg_timers_session_derived(peer, now);
			wg_timers_handshake_complete(peer, sink);
			/* Confirms the session to the responder, and flushes
			 * whatever waited for it. */
			wg_send_keepalive(dev, peer, now, sink);
		}
	}
	peer->rx_bytes += len;
	wg_timers_any_authenticated_packet_received(peer);
	wg_timers_any_authenticated_packet_traversal(peer, now);
	return 0;
}

/* The initiator rekeys shortly before its session would be rejected if it
 * keeps hearing from the other side but sends nothing itself (the send-side
 * check would never run). Once per session. */
static void keep_key_fresh(struct wg_dev *dev, struct wg_peer *peer, uint64_t now,
			   const struct wg_sink *sink)
{
	struct wg_keypair *k = peer->kp_current;

	if (peer->sent_lastminute_handshake || !k || !k->kp.send_valid || !k->kp.initiator)
		return;
	if (!wg_expired(k->kp.birthdate, REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT,
			now))
		return;
	peer->sent_lastminute_handshake = true;
	wg_send_initiation(dev, peer, now, false, sink);
}

/* Hand a packet that peer from sent for another peer's address straight to
 * that peer. Returns 1 if it was forwarded (or dropped on the way). */
static int forward(struct wg_dev *dev, uint64_t now, struct wg_peer *from, struct wg_buf *b,
		   uint8_t *plain, const struct wg_ip_info *ip, const struct wg_sink *sink)
{
	struct aip_list *owner = aip_lookup(dev->aip, ip->family, ip->dst);
	struct wg_peer *to;
	size_t headroom, tailroom;

	if (!owner || owner == &from->aips)
		return 0;
	/* An expiring TTL goes to the host, which sends ICMP time exceeded. */
	if (wg_ip_dec_ttl(plain, ip))
		return 0;
	to = wg_container_of(owner, struct wg_peer, aips);
	headroom = (size_t)(plain - b->data) + b->headroom;
	tailroom = (size_t)(b->data + b->len - (plain + ip->len)) + b->tailroom;
	if (wg_send_packet(dev, to, now, plain, ip->len, headroom, tailroom, sink) >= 0)
		dev->stats.forwarded++;
	return 1;
}

/* The keypair a data message is for, if it may still receive. */
static int data_keypair(struct wg_dev *dev, uint64_t now, const struct wg_msg_data *hdr,
			struct wg_keypair **kp)
{
	struct wg_index_entry *e;
	struct wg_keypair *k;

	e = wg_index_lookup(dev, wg_get_le32(hdr->receiver), WG_INDEX_KEYPAIR);
	if (!e)
		return WG_ERR_NOKEY;
	k = wg_container_of(e, struct wg_keypair, entry);
	if (!k->kp.recv_valid || wg_expired(k->kp.birthdate, REJECT_AFTER_TIME, now)) {
		k->kp.recv_valid = false;
		return WG_ERR_NOKEY;
	}
	*kp = k;
	return 0;
}

/* Everything after the AEAD opened b's message with k: the replay window
 * first (only an authenticated counter may move it), then what an
 * authenticated packet does. */
static int data_opened(struct wg_dev *dev, uint64_t now, struct wg_keypair *k, struct wg_buf *b,
		       const struct wg_endpoint *src, const struct wg_sink *sink)
{
	const struct wg_msg_data *hdr = (const struct wg_msg_data *)b->data;
	uint8_t *plain = b->data + sizeof(*hdr);
	size_t plen = b->len - sizeof(*hdr) - NOISE_AUTHTAG_LEN;
	struct wg_peer *peer = k->entry.peer;
	struct wg_ip_info ip;
	int ret;

	ret = replay_check(&k->kp.replay, wg_get_le64(hdr->counter));
	if (ret)
		return ret == -ERANGE ? WG_ERR_NOKEY : WG_ERR_REPLAY;

	/* Authenticated from here on. */
	wg_peer_set_endpoint(peer, src, sink);
	if (wg_peer_received_with_keypair(peer, k)) {
		wg_timers_handshake_complete(peer, sink);
		wg_send_staged(dev, peer, now, sink);
	}
	keep_key_fresh(dev, peer, now, sink);
	wg_timers_any_authenticated_packet_received(peer);
	wg_timers_any_authenticated_packet_traversal(peer, now);
	peer->rx_bytes += b->len;
	if (!plen)
		return 0; /* keepalive */
	wg_timers_data_received(peer, now);

	if (wg_ip_parse(plain, plen, &ip))
		return WG_ERR_MALFORMED;
	/* Cryptokey routing: the peer may only send from its allowed IPs. */
	if (aip_lookup(dev->aip, ip.family, ip.src) != &peer->aips)
		return WG_ERR_FILTERED;
	if (dev->forwarding && forward(dev, now, peer, b, plain, &ip, sink))
		return 0;
	if (sink)
		sink->deliver_tun(sink->ctx, peer, plain, ip.len, 0);
	return 0;
}

static int recv_data(struct wg_dev *dev, uint64_t now, struct wg_buf *b,
		     const struct wg_endpoint *src, const struct wg_sink *sink)
{
	const struct wg_msg_data *hdr = (const struct wg_msg_data *)b->data;
	uint8_t *c = b->data + sizeof(*hdr);
	size_t clen = b->len - sizeof(*hdr);
	struct wg_keypair *k;
	int ret;

	ret = data_keypair(dev, now, hdr, &k);
	if (ret)
		return ret;
	if (cry_aead_open(dev->aead, k->kp.recv_key, wg_get_le64(hdr->counter), no_ad, 0, c, clen,
			  c))
		return WG_ERR_AUTH;
	return data_opened(dev, now, k, b, src, sink);
}

int wg_dev_recv_udp(struct wg_dev *dev, uint64_t now, struct wg_buf *b,
		    const struct wg_endpoint *src, const struct wg_sink *sink)
{
	int type = wg_msg_type(b->data, b->len), ret;

	switch (type) {
	case MESSAGE_HANDSHAKE_INITIATION:
	case MESSAGE_HANDSHAKE_RESPONSE:
	case MESSAGE_HANDSHAKE_COOKIE:
		ret = recv_handshake(dev, now, b->data, b->len, type, src, sink);
		break;
	case MESSAGE_DATA:
		ret = recv_data(dev, now, b, src, sink);
		break;
	default:
		ret = WG_ERR_MALFORMED;
		break;
	}
	if (ret < 0)
		dev->stats.rx_dropped++;
	return ret;
}

/* ---- the receive path split at the AEAD (wg.h) ------------------------- */

int wg_dev_recv_prepare(struct wg_dev *dev, uint64_t now, struct wg_buf *b,
			const struct wg_endpoint *src, struct wg_job *job)
{
	const struct wg_msg_data *hdr = (const struct wg_msg_data *)b->data;
	struct wg_keypair *k;
	int ret;

	if (wg_msg_type(b->data, b->len) != MESSAGE_DATA)
		return WG_SYNC; /* handshakes and junk: in order, on this thread */
	ret = data_keypair(dev, now, hdr, &k);
	if (ret) {
		dev->stats.rx_dropped++;
		return ret;
	}
	*job = (struct wg_job){
		.data = b->data + sizeof(*hdr),
		.len = b->len - sizeof(*hdr),
		.key = k->kp.recv_key,
		.nonce = wg_get_le64(hdr->counter),
		.open = true,
		.peer = k->entry.peer,
		.kp = k,
		.kp_gen = k->gen,
		.buf = *b,
		.src = *src,
	};
	return 0;
}

int wg_dev_recv_finish(struct wg_dev *dev, uint64_t now, struct wg_job *job,
		       const struct wg_sink *sink)
{
	struct wg_keypair *k = job->kp;
	int ret;

	if (!k->used || k->gen != job->kp_gen || !k->kp.recv_valid)
		/* An earlier packet of the batch released the keypair (it
		 * confirmed the next one): the one-call path would not have
		 * found it either. */
		ret = WG_ERR_NOKEY;
	else if (job->status)
		ret = WG_ERR_AUTH;
	else
		ret = data_opened(dev, now, k, &job->buf, &job->src, sink);
	if (ret < 0)
		dev->stats.rx_dropped++;
	return ret;
}
