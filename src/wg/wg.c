// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device: identity, peers and their tables, keypair slots, and the
 * configuration API. The data path is in send.c and receive.c, the timers in
 * timers.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "crypto/aead.h"
#include "crypto/ct.h"
#include "crypto/x25519.h"
#include "wg/device.h"
#include "wg/ratelimiter.h"

_Static_assert((WG_INDEX_BUCKETS & (WG_INDEX_BUCKETS - 1)) == 0, "power of 2");
_Static_assert((WG_PUBKEY_BUCKETS & (WG_PUBKEY_BUCKETS - 1)) == 0, "power of 2");

void wg_emit_event(const struct wg_sink *sink, struct wg_peer *peer, enum wg_event ev)
{
	if (sink && sink->event)
		sink->event(sink->ctx, peer, ev);
}

void wg_dev_arm(struct wg_dev *dev, uint64_t deadline)
{
	if (deadline < dev->next_deadline)
		dev->next_deadline = deadline;
}

/* ---- receiver-index table ---------------------------------------------- */

/* Indices are random (paper, section 5.4.2), so their low bits spread
 * entries evenly and tell an observer nothing about our peers. */
static struct wg_index_entry **index_bucket(const struct wg_dev *dev, uint32_t index)
{
	return (struct wg_index_entry **)&dev->index_table[index & (WG_INDEX_BUCKETS - 1)];
}

struct wg_index_entry *wg_index_lookup(const struct wg_dev *dev, uint32_t index, unsigned int kinds)
{
	struct wg_index_entry *e;

	for (e = *index_bucket(dev, index); e; e = e->next)
		if (e->index == index)
			return (e->kind & kinds) ? e : NULL;
	return NULL;
}

void wg_index_remove(struct wg_dev *dev, struct wg_index_entry *e)
{
	struct wg_index_entry **link;

	if (!e->hashed)
		return;
	for (link = index_bucket(dev, e->index); *link; link = &(*link)->next) {
		if (*link == e) {
			*link = e->next;
			break;
		}
	}
	e->next = NULL;
	e->hashed = false;
}

/* (Re)insert e under a fresh random index no other entry uses. */
int wg_index_insert(struct wg_dev *dev, struct wg_index_entry *e, struct wg_peer *peer,
		    uint8_t kind)
{
	struct wg_index_entry **bucket;
	uint32_t index;
	int ret;

	wg_index_remove(dev, e);
	do {
		ret = dev->env.random(dev->env.ctx, &index, sizeof(index));
		if (ret)
			return ret < 0 ? ret : -EIO;
	} while (wg_index_lookup(dev, index, WG_INDEX_HANDSHAKE | WG_INDEX_KEYPAIR));
	e->index = index;
	e->peer = peer;
	e->kind = kind;
	bucket = index_bucket(dev, index);
	e->next = *bucket;
	*bucket = e;
	e->hashed = true;
	return 0;
}

/* The keypair takes over the handshake's index: the peer learnt it from our
 * initiation or response and addresses its data to it. */
static void index_replace(struct wg_dev *dev, struct wg_index_entry *old, struct wg_index_entry *e,
			  uint8_t kind)
{
	struct wg_index_entry **bucket = index_bucket(dev, old->index);

	e->index = old->index;
	e->peer = old->peer;
	e->kind = kind;
	wg_index_remove(dev, old);
	e->next = *bucket;
	*bucket = e;
	e->hashed = true;
}

/* ---- keypairs ---------------------------------------------------------- */

static void keypair_release(struct wg_dev *dev, struct wg_keypair *k)
{
	if (!k)
		return;
	wg_index_remove(dev, &k->entry);
	noise_keypair_wipe(&k->kp);
	k->psk_version = 0;
	k->gen++;
	k->used = false;
}

static struct wg_keypair *keypair_slot(struct wg_peer *peer)
{
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(peer->kp_slot); i++)
		if (!peer->kp_slot[i].used)
			return &peer->kp_slot[i];
	return NULL;
}

/* Derive the session of a finished handshake and slide it in (Linux
 * wg_noise_handshake_begin_session and add_new_keypair). */
int wg_peer_begin_session(struct wg_dev *dev, struct wg_peer *peer, uint64_t now)
{
	struct wg_keypair *k;
	bool initiator;
	int ret;

	if (peer->hs.state != NOISE_CREATED_RESPONSE && peer->hs.state != NOISE_CONSUMED_RESPONSE)
		return -EPROTO;
	initiator = peer->hs.state == NOISE_CONSUMED_RESPONSE;
	if (initiator) {
		/* The response confirmed the keys: use them now. A pending next
		 * (we also answered the peer's initiation) becomes previous. */
		if (peer->kp_next) {
			keypair_release(dev, peer->kp_previous);
			peer->kp_previous = peer->kp_next;
			peer->kp_next = NULL;
			keypair_release(dev, peer->kp_current);
		} else {
			keypair_release(dev, peer->kp_previous);
			peer->kp_previous = peer->kp_current;
		}
		peer->kp_current = NULL;
	} else {
		/* Unconfirmed until the initiator's first data packet: it waits
		 * as next, and the old previous goes. */
		keypair_release(dev, peer->kp_next);
		keypair_release(dev, peer->kp_previous);
		peer->kp_next = peer->kp_previous = NULL;
	}
	k = keypair_slot(peer);
	ret = noise_begin_session(&peer->hs, &k->kp, now);
	if (ret)
		return ret;
	k->used = true;
	k->psk_version = peer->hs_psk_version;
	index_replace(dev, &peer->hs_entry, &k->entry, WG_INDEX_KEYPAIR);
	k->kp.local_index = k->entry.index;
	if (initiator)
		peer->kp_current = k;
	else
		peer->kp_next = k;
	return 0;
}

/* Data arrived on kp: if it is the unconfirmed next, it is confirmed (Linux
 * wg_noise_received_with_keypair). True if that happened. */
bool wg_peer_received_with_keypair(struct wg_peer *peer, struct wg_keypair *kp)
{
	if (kp != peer->kp_next)
		return false;
	keypair_release(peer->dev, peer->kp_previous);
	peer->kp_previous = peer->kp_current;
	peer->kp_current = kp;
	peer->kp_next = NULL;
	return true;
}

/* Forget every session and the handshake in progress. */
void wg_peer_clear_keys(struct wg_dev *dev, struct wg_peer *peer)
{
	wg_index_remove(dev, &peer->hs_entry);
	noise_handshake_zero(&peer->hs);
	keypair_release(dev, peer->kp_current);
	keypair_release(dev, peer->kp_previous);
	keypair_release(dev, peer->kp_next);
	peer->kp_current = peer->kp_previous = peer->kp_next = NULL;
}

/* ---- endpoints --------------------------------------------------------- */

static bool endpoint_eq(const struct wg_endpoint *a, const struct wg_endpoint *b)
{
	if (a->addr.sa.sa_family != b->addr.sa.sa_family || a->src_ifindex != b->src_ifindex)
		return false;
	if (a->addr.sa.sa_family == AF_INET)
		return a->addr.in4.sin_port == b->addr.in4.sin_port &&
		       a->addr.in4.sin_addr.s_addr == b->addr.in4.sin_addr.s_addr &&
		       a->src.v4.s_addr == b->src.v4.s_addr;
	if (a->addr.sa.sa_family != AF_INET6)
		return true;
	if (a->addr.in6.sin6_port != b->addr.in6.sin6_port ||
	    a->addr.in6.sin6_scope_id != b->addr.in6.sin6_scope_id)
		return false;
	return !memcmp(&a->addr.in6.sin6_addr, &b->addr.in6.sin6_addr, 16) && /* not secret */
	       !memcmp(&a->src.v6, &b->src.v6, 16);			      /* not secret */
}

/* Copy only what the family uses, so stale bytes never compare unequal. */
static void endpoint_copy(struct wg_endpoint *dst, const struct wg_endpoint *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->addr.sa.sa_family = src->addr.sa.sa_family;
	dst->src_ifindex = src->src_ifindex;
	if (src->addr.sa.sa_family == AF_INET) {
		dst->addr.in4.sin_port = src->addr.in4.sin_port;
		dst->addr.in4.sin_addr = src->addr.in4.sin_addr;
		dst->src.v4 = src->src.v4;
	} else if (src->addr.sa.sa_family == AF_INET6) {
		dst->addr.in6.sin6_port = src->addr.in6.sin6_port;
		dst->addr.in6.sin6_addr = src->addr.in6.sin6_addr;
		dst->addr.in6.sin6_scope_id = src->addr.in6.sin6_scope_id;
		dst->src.v6 = src->src.v6;
	}
}

/* Roaming (paper, section 2.1): the endpoint follows the source of the
 * latest authenticated packet. */
void wg_peer_set_endpoint(struct wg_peer *peer, const struct wg_endpoint *ep,
			  const struct wg_sink *sink)
{
	if (!ep || endpoint_eq(&peer->endpoint, ep))
		return;
	endpoint_copy(&peer->endpoint, ep);
	wg_emit_event(sink, peer, WG_EVENT_ENDPOINT_CHANGED);
}

void wg_peer_clear_endpoint_src(struct wg_peer *peer)
{
	memset(&peer->endpoint.src, 0, sizeof(peer->endpoint.src));
	peer->endpoint.src_ifindex = 0;
}

/* ---- device ------------------------------------------------------------ */

struct wg_dev *wg_dev_new(const struct sc_env *env)
{
	struct wg_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->env = *env;
	dev->mtu = 1420;
	dev->next_deadline = UINT64_MAX;
	dev->aead = cry_aead_new();
	dev->aip = aip_new();
	if (!dev->aead || !dev->aip)
		goto fail;
	if (env->random(env->ctx, dev->hash_key, sizeof(dev->hash_key)))
		goto fail;
	cookie_checker_init(&dev->cookie, NULL);
	return dev;
fail:
	wg_dev_free(dev);
	return NULL;
}

void wg_dev_free(struct wg_dev *dev)
{
	if (!dev)
		return;
	wg_dev_remove_all_peers(dev);
	aip_free(dev->aip);
	cry_aead_free(dev->aead);
	wg_ratelimiter_free(dev->ratelimiter);
	noise_identity_clear(&dev->id);
	cookie_checker_wipe(&dev->cookie);
	cry_wipe(dev->bounce, sizeof(dev->bounce));
	cry_wipe(dev->hash_key, sizeof(dev->hash_key));
	free(dev);
}

static struct wg_peer **pubkey_bucket(const struct wg_dev *dev, const uint8_t pub[WG_KEY_LEN])
{
	/* Public keys are uniformly random and chosen by configuration, not
	 * by the network, so their first bytes make a fine hash. */
	return (struct wg_peer **)&dev->pubkey_table[wg_get_le32(pub) & (WG_PUBKEY_BUCKETS - 1)];
}

struct wg_peer *wg_dev_find_peer(const struct wg_dev *dev, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer *p;

	for (p = *pubkey_bucket(dev, pub); p; p = p->hash_next)
		if (cry_memeq(p->public_key, pub, WG_KEY_LEN))
			return p;
	return NULL;
}

int wg_dev_set_private_key(struct wg_dev *dev, const uint8_t key[WG_KEY_LEN])
{
	struct noise_identity id;
	struct wg_peer *p;
	int ret;

	memset(&id, 0, sizeof(id));
	ret = noise_identity_set(&id, key);
	if (ret)
		goto out;
	if (dev->id.has == id.has && cry_memeq(dev->id.priv, id.priv, sizeof(id.priv)))
		goto out;
	/* A peer with our own public key could never shake hands. */
	if (id.has) {
		p = wg_dev_find_peer(dev, id.pub);
		if (p)
			wg_dev_remove_peer(dev, p);
	}
	dev->id = id;
	cookie_checker_init(&dev->cookie, id.has ? id.pub : NULL);
	for (p = dev->peer_first; p; p = p->next) {
		noise_handshake_precompute(&p->hs, &dev->id);
		/* Sessions made with the old key stop sending; the next packet
		 * starts a handshake under the new one at once. */
		wg_index_remove(dev, &p->hs_entry);
		noise_handshake_zero(&p->hs);
		p->sent_handshake = false;
		if (p->kp_current)
			p->kp_current->kp.send_valid = false;
		if (p->kp_next)
			p->kp_next->kp.send_valid = false;
	}
out:
	cry_wipe(&id, sizeof(id));
	return ret;
}

int wg_dev_get_keys(const struct wg_dev *dev, uint8_t priv[WG_KEY_LEN], uint8_t pub[WG_KEY_LEN])
{
	if (!dev->id.has)
		return -ENOKEY;
	if (priv)
		memcpy(priv, dev->id.priv, WG_KEY_LEN);
	if (pub)
		memcpy(pub, dev->id.pub, WG_KEY_LEN);
	return 0;
}

void wg_dev_set_mtu(struct wg_dev *dev, unsigned int mtu)
{
	dev->mtu = mtu;
}

void wg_dev_set_forwarding(struct wg_dev *dev, bool on)
{
	dev->forwarding = on;
}

void wg_dev_set_handshake_backlog(struct wg_dev *dev, unsigned int n)
{
	dev->handshake_backlog = n;
}

void wg_dev_get_stats(const struct wg_dev *dev, struct wg_dev_stats *out)
{
	*out = dev->stats;
}

uint64_t wg_dev_next_deadline(const struct wg_dev *dev)
{
	return dev->next_deadline;
}

void wg_dev_tick(struct wg_dev *dev, uint64_t now, const struct wg_sink *sink)
{
	struct wg_peer *p;
	uint64_t next;

	if (now < dev->next_deadline)
		return;
	/* Recompute the earliest deadline while running the due ones; timers
	 * armed meanwhile lower it through wg_dev_arm(). */
	dev->next_deadline = UINT64_MAX;
	for (p = dev->peer_first; p; p = p->next) {
		wg_timers_run(dev, p, now, sink);
		next = wg_timers_next(p);
		wg_dev_arm(dev, next);
	}
}

/* ---- peers ------------------------------------------------------------- */

static struct wg_peer *peer_new(struct wg_dev *dev, const uint8_t pub[WG_KEY_LEN])
{
	struct wg_peer *p = calloc(1, sizeof(*p)), **bucket;

	if (!p)
		return NULL;
	p->dev = dev;
	memcpy(p->public_key, pub, WG_KEY_LEN);
	noise_handshake_init(&p->hs, pub);
	noise_handshake_precompute(&p->hs, &dev->id);
	cookie_maker_init(&p->cookie, pub);
	p->prev = dev->peer_last;
	if (dev->peer_last)
		dev->peer_last->next = p;
	else
		dev->peer_first = p;
	dev->peer_last = p;
	bucket = pubkey_bucket(dev, pub);
	p->hash_next = *bucket;
	*bucket = p;
	dev->n_peers++;
	return p;
}

void wg_dev_remove_peer(struct wg_dev *dev, struct wg_peer *peer)
{
	struct wg_peer **link;

	if (!peer)
		return;
	wg_timers_stop(peer);
	wg_purge_staged(dev, peer);
	wg_peer_clear_keys(dev, peer);
	aip_remove_owner(dev->aip, &peer->aips);
	for (link = pubkey_bucket(dev, peer->public_key); *link; link = &(*link)->hash_next) {
		if (*link == peer) {
			*link = peer->hash_next;
			break;
		}
	}
	if (peer->prev)
		peer->prev->next = peer->next;
	else
		dev->peer_first = peer->next;
	if (peer->next)
		peer->next->prev = peer->prev;
	else
		dev->peer_last = peer->prev;
	dev->n_peers--;
	cry_wipe(peer, sizeof(*peer));
	free(peer);
}

void wg_dev_remove_all_peers(struct wg_dev *dev)
{
	while (dev->peer_first)
		wg_dev_remove_peer(dev, dev->peer_first);
}

struct wg_peer *wg_dev_first_peer(const struct wg_dev *dev)
{
	return dev->peer_first;
}

struct wg_peer *wg_dev_next_peer(const struct wg_peer *peer)
{
	return peer->next;
}

size_t wg_dev_peer_count(const struct wg_dev *dev)
{
	return dev->n_peers;
}

static int validate_config(const struct wg_peer_config *cfg)
{
	const struct wg_allowedip *a;
	size_t i;

	if (!(cfg->flags & WG_PEER_HAS_PUBLIC_KEY))
		return -EINVAL;
	if (cfg->flags & WG_PEER_HAS_ENDPOINT && cfg->endpoint.addr.sa.sa_family != AF_INET &&
	    cfg->endpoint.addr.sa.sa_family != AF_INET6)
		return -EINVAL;
	if (cfg->n_allowedips > WG_MAX_ALLOWEDIPS || (cfg->n_allowedips && !cfg->allowedips))
		return -EINVAL;
	for (i = 0; i < cfg->n_allowedips; i++) {
		a = &cfg->allowedips[i];
		if (!((a->family == AF_INET && a->cidr <= 32) ||
		      (a->family == AF_INET6 && a->cidr <= 128)))
			return -EINVAL;
	}
	return 0;
}

static void psk_set_single(struct wg_peer *peer, const uint8_t psk[WG_KEY_LEN])
{
	cry_wipe(peer->psk, sizeof(peer->psk));
	memset(peer->psk_version, 0, sizeof(peer->psk_version));
	peer->n_psk = 0;
	if (!cry_is_zero(psk, WG_KEY_LEN)) {
		memcpy(peer->psk[0], psk, WG_KEY_LEN);
		peer->n_psk = 1;
	}
}

int wg_dev_set_peer(struct wg_dev *dev, uint64_t now, const struct wg_peer_config *cfg,
		    const struct wg_sink *sink, struct wg_peer **peerp)
{
	const struct wg_allowedip *a;
	struct wg_peer *peer;
	bool start_keepalive;
	size_t i;
	int ret;

	ret = validate_config(cfg);
	if (ret)
		return ret;
	peer = wg_dev_find_peer(dev, cfg->public_key);
	if (cfg->flags & WG_PEER_REMOVE_ME) {
		wg_dev_remove_peer(dev, peer);
		peer = NULL;
		goto out;
	}
	if (!peer) {
		if (cfg->flags & WG_PEER_UPDATE_ONLY)
			goto out;
		if (dev->id.has && cry_memeq(cfg->public_key, dev->id.pub, WG_KEY_LEN))
			goto out;
		if (dev->n_peers >= WG_MAX_PEERS)
			return -ENOSPC;
		peer = peer_new(dev, cfg->public_key);
		if (!peer)
			return -ENOMEM;
	}
	if (cfg->flags & WG_PEER_HAS_PRESHARED_KEY)
		psk_set_single(peer, cfg->preshared_key);
	if (cfg->flags & WG_PEER_HAS_ENDPOINT)
		endpoint_copy(&peer->endpoint, &cfg->endpoint);
	if (cfg->flags & WG_PEER_REPLACE_ALLOWEDIPS)
		aip_remove_owner(dev->aip, &peer->aips);
	for (i = 0; i < cfg->n_allowedips; i++) {
		a = &cfg->allowedips[i];
		if (a->remove) {
			/* Removing what the peer does not hold is not an error. */
			aip_remove(dev->aip, a->family, &a->addr, a->cidr, &peer->aips);
			continue;
		}
		ret = aip_insert(dev->aip, a->family, &a->addr, a->cidr, &peer->aips);
		if (ret)
			return ret;
	}
	if (cfg->flags & WG_PEER_HAS_PERSISTENT_KEEPALIVE) {
		/* Turning it on sends one at once, as Linux does. */
		start_keepalive = !peer->persistent_keepalive && cfg->persistent_keepalive;
		peer->persistent_keepalive = cfg->persistent_keepalive;
		if (!peer->persistent_keepalive)
			peer->timer[WG_TIMER_PERSISTENT_KEEPALIVE] = 0;
		if (start_keepalive && sink)
			wg_send_keepalive(dev, peer, now, sink);
	}
	if (sink)
		wg_send_staged(dev, peer, now, sink);
out:
	if (peerp)
		*peerp = peer;
	return 0;
}

void wg_peer_get_info(const struct wg_peer *peer, struct wg_peer_info *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->public_key, peer->public_key, WG_KEY_LEN);
	if (peer->n_psk)
		memcpy(out->preshared_key, peer->psk[0], WG_KEY_LEN);
	out->n_psk = peer->n_psk;
	out->endpoint = peer->endpoint;
	out->persistent_keepalive = peer->persistent_keepalive;
	out->last_handshake_ns = peer->last_handshake_wall;
	out->rx_bytes = peer->rx_bytes;
	out->tx_bytes = peer->tx_bytes;
	out->has_session = peer->kp_current != NULL;
	if (peer->kp_current)
		out->session_psk_version = peer->kp_current->psk_version;
}

int wg_peer_walk_allowedips(const struct wg_peer *peer, wg_allowedip_fn fn, void *ctx)
{
	return aip_walk(&peer->aips, fn, ctx);
}

int wg_peer_psk_push(struct wg_peer *peer, const uint8_t psk[WG_KEY_LEN], uint32_t version)
{
	if (cry_is_zero(psk, WG_KEY_LEN))
		return -EINVAL;
	memmove(peer->psk[1], peer->psk[0], (WG_PSK_RING_MAX - 1) * WG_KEY_LEN);
	memmove(&peer->psk_version[1], &peer->psk_version[0],
		(WG_PSK_RING_MAX - 1) * sizeof(peer->psk_version[0]));
	memcpy(peer->psk[0], psk, WG_KEY_LEN);
	peer->psk_version[0] = version;
	/* The shift overwrote the oldest key when the ring was full. */
	if (peer->n_psk < WG_PSK_RING_MAX)
		peer->n_psk++;
	return 0;
}

int wg_peer_psk_set(struct wg_peer *peer, const uint8_t (*psk)[WG_KEY_LEN],
		    const uint32_t *versions, size_t n)
{
	size_t i;

	if (n > WG_PSK_RING_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (cry_is_zero(psk[i], WG_KEY_LEN))
			return -EINVAL;
	cry_wipe(peer->psk, sizeof(peer->psk));
	memset(peer->psk_version, 0, sizeof(peer->psk_version));
	for (i = 0; i < n; i++) {
		memcpy(peer->psk[i], psk[i], WG_KEY_LEN);
		peer->psk_version[i] = versions[i];
	}
	peer->n_psk = n;
	return 0;
}

void wg_peer_psk_retire(struct wg_peer *peer, size_t keep)
{
	if (keep >= peer->n_psk)
		return;
	cry_wipe(peer->psk[keep], (peer->n_psk - keep) * WG_KEY_LEN);
	peer->n_psk = keep;
}

void wg_dev_initiate(struct wg_dev *dev, uint64_t now, struct wg_peer *peer,
		     const struct wg_sink *sink)
{
	wg_send_initiation(dev, peer, now, false, sink);
}

int wg_dev_send_keepalive(struct wg_dev *dev, uint64_t now, struct wg_peer *peer,
			  const struct wg_sink *sink)
{
	if (!sink)
		return -ENETDOWN;
	/* Without an endpoint nothing could leave; do not queue either, or a
	 * peer that never calls would hold an empty packet forever. */
	if (!wg_has_endpoint(peer))
		return WG_ERR_NO_ENDPOINT;
	wg_send_keepalive(dev, peer, now, sink);
	return 0;
}

void wg_dev_clear_src(struct wg_dev *dev)
{
	for (struct wg_peer *p = dev->peer_first; p; p = p->next)
		wg_peer_clear_endpoint_src(p);
}
