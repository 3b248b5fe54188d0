/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The WireGuard device core: a whole WireGuard interface minus its sockets,
 * TUN device and clock. Bytes and `now` in, actions out (STYLE.md section 2).
 *
 * The I/O layer drives it with four calls:
 *
 *	wg_dev_recv_udp()   for each datagram read from the UDP socket
 *	wg_dev_send_tun()   for each IP packet read from the TUN device
 *	wg_dev_tick()       when wg_dev_next_deadline() has passed
 *	wg_dev_set_peer() & co. for configuration (UAPI `set`)
 *
 * and receives its actions through a struct wg_sink: datagrams to send,
 * packets to write to TUN, events. `now` is CLOCK_MONOTONIC (or any clock
 * that never goes back) in ns; the wall clock (TAI64N, last handshake time)
 * and randomness come from the struct sc_env given to wg_dev_new().
 *
 * Buffers. The data path works in place in the caller's buffers, which are
 * described by a struct wg_buf with room around the packet: a TUN packet is
 * encrypted where it lies if it has WG_HEADROOM bytes before it and
 * WG_TAILROOM after (else it is copied to a bounce buffer of the device); a
 * received datagram is decrypted where it lies and the inner packet handed
 * to deliver_tun points into it. Bytes handed to the sink without
 * WG_OUT_SCRATCH lie in the buffer the caller passed to the call, so the I/O
 * layer may queue them for a batched sendmmsg()/TUN write without copying, as
 * long as it does not reuse that buffer before flushing. Bytes with
 * WG_OUT_SCRATCH (handshake messages, keepalives, packets that were queued
 * while no session existed, cookie replies) are the device's and valid only
 * during the callback: the sink copies them. Nothing is allocated per packet
 * on the data path; packets queued while a handshake runs are copied (at
 * most WG_MAX_STAGED_PACKETS per peer, WG_MAX_STAGED_BYTES in all).
 *
 * Threads. A device is not thread-safe: one thread (the event loop) makes
 * every call, and the sink must not call back into the device. The device
 * owns one struct cry_aead for that thread. Crypto workers split the data
 * path at the AEAD (the prepare / wg_job_run / finish calls below): only
 * wg_job_run runs on other threads, with their own cry_aead, while the
 * device's thread waits; the ordered parts (keypair, counter, replay check,
 * timers, roaming) stay on the device's thread (docs/engine.md).
 *
 * Errors: 0 or a negative errno; data-path drops use the WG_ERR_* names.
 */
#ifndef WG_WG_H
#define WG_WG_H

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/env.h"

#define WG_KEY_LEN 32
/* Room an in-place send needs around the inner packet: the 16-byte data
 * header before it; up to 15 bytes of padding and the 16-byte tag after. */
#define WG_HEADROOM 16
#define WG_TAILROOM 32

/* Why a packet was dropped (return values of the data-path calls). */
#define WG_ERR_MALFORMED   (-EINVAL)  /* not a WireGuard message, bad inner header */
#define WG_ERR_AUTH	   (-EBADMSG) /* MAC, AEAD or handshake check failed */
#define WG_ERR_NOKEY	   (-ENOKEY)  /* unknown index or peer, no identity, no session, no route */
#define WG_ERR_REPLAY	   (-EALREADY)	   /* replayed counter or handshake timestamp */
#define WG_ERR_BUSY	   (-EBUSY)	   /* initiation flood or rate limiter */
#define WG_ERR_FILTERED	   (-EACCES)	   /* inner source not in the peer's allowed IPs */
#define WG_ERR_NO_ENDPOINT (-EDESTADDRREQ) /* the peer has no endpoint yet */
#define WG_ERR_NOBUFS	   (-ENOBUFS)	   /* staging queue full or out of memory */
/* Outcomes that are not drops. */
#define WG_QUEUED      1 /* send_tun: held until a handshake completes */
#define WG_COOKIE_SENT 2 /* recv_udp: under load, answered with a cookie reply */

struct wg_dev;
struct wg_peer;

/* A UDP endpoint: the remote address and the local one that goes with it. */
struct wg_endpoint {
	union {
		struct sockaddr sa; /* sa_family AF_UNSPEC: none */
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;
	/* Local address the peer's datagrams arrived on (IP_PKTINFO /
	 * IPV6_PKTINFO) so replies leave from the address the peer talks to;
	 * all zero lets the kernel choose. Cleared when a handshake is retried,
	 * in case it is the cause of the trouble. */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} src;
	int src_ifindex;
};

struct wg_buf {
	uint8_t *data;	 /* the packet */
	size_t len;	 /* its length */
	size_t headroom; /* usable bytes before data */
	size_t tailroom; /* usable bytes after data + len */
};

enum wg_event {
	WG_EVENT_HANDSHAKE_COMPLETE, /* a new session is in use */
	WG_EVENT_ENDPOINT_CHANGED,   /* roaming: the peer's endpoint moved */
	WG_EVENT_HANDSHAKE_GAVE_UP,  /* REKEY_ATTEMPT_TIME without an answer */
	WG_EVENT_KEYS_ZEROED,	     /* 3 * REJECT_AFTER_TIME without a new session */
};

/* Bytes valid only during the callback (see the top of this file). */
#define WG_OUT_SCRATCH 1u

struct wg_sink {
	/* Send one datagram to ep. peer is NULL for a cookie reply. */
	void (*send_udp)(void *ctx, struct wg_peer *peer, const struct wg_endpoint *ep,
			 const uint8_t *pkt, size_t len, unsigned int flags);
	/* Write one inner IP packet to TUN. */
	void (*deliver_tun)(void *ctx, struct wg_peer *peer, const uint8_t *pkt, size_t len,
			    unsigned int flags);
	/* Optional (NULL): protocol events for a control layer. */
	void (*event)(void *ctx, struct wg_peer *peer, enum wg_event ev);
	void *ctx;
};

/* ---- device ------------------------------------------------------------ */

/* A device with no key and no peers. env is copied. NULL on -ENOMEM or if
 * the RNG fails. */
struct wg_dev *wg_dev_new(const struct sc_env *env);
/* Free the device and its peers, wiping every key. NULL ok. */
void wg_dev_free(struct wg_dev *dev);

/* Set the static private key (all zero: remove it), as the Linux driver
 * does: a peer with the matching public key is removed, every peer's
 * precomputed DH is redone, current sessions stop sending so that new
 * handshakes follow. 0 or -EIO. */
int wg_dev_set_private_key(struct wg_dev *dev, const uint8_t key[WG_KEY_LEN]);
/* Copy the (clamped) private and the public key; either may be NULL.
 * -ENOKEY if none is set. */
int wg_dev_get_keys(const struct wg_dev *dev, uint8_t priv[WG_KEY_LEN], uint8_t pub[WG_KEY_LEN]);

/* MTU of the TUN device, which bounds padding (0: always pad to 16). */
void wg_dev_set_mtu(struct wg_dev *dev, unsigned int mtu);
/* In-engine relaying: a packet from peer A for an address in peer B's
 * allowed IPs goes straight to B instead of to TUN. */
void wg_dev_set_forwarding(struct wg_dev *dev, bool on);
/* How many handshake messages wait to be processed: at UNDER_LOAD_BACKLOG
 * or more the device demands cookies (for UNDER_LOAD_TIME after, too). */
void wg_dev_set_handshake_backlog(struct wg_dev *dev, unsigned int n);

struct wg_dev_stats {
	uint64_t forwarded;    /* packets relayed peer to peer (never on TUN) */
	uint64_t cookies_sent; /* cookie replies under load */
	uint64_t ratelimited;  /* handshakes refused by the rate limiter */
	uint64_t rx_dropped;   /* datagrams dropped for any reason */
	uint64_t tx_dropped;   /* TUN packets dropped or staged ones discarded */
};
void wg_dev_get_stats(const struct wg_dev *dev, struct wg_dev_stats *out);

/* ---- data path --------------------------------------------------------- */

/* A datagram from src (remote address and local one). Types 1-4 are
 * processed; anything else is -EINVAL (the demultiplexer tells WireGuard
 * from STUN and others before). 0, WG_COOKIE_SENT or a WG_ERR_*. */
int wg_dev_recv_udp(struct wg_dev *dev, uint64_t now, struct wg_buf *b,
		    const struct wg_endpoint *src, const struct wg_sink *sink);
/* An IP packet from TUN: route it by destination to a peer and encrypt it,
 * or queue it and start a handshake. 0, WG_QUEUED or a WG_ERR_*. */
int wg_dev_send_tun(struct wg_dev *dev, uint64_t now, struct wg_buf *b, const struct wg_sink *sink);
/* Run every timer due at now. */
void wg_dev_tick(struct wg_dev *dev, uint64_t now, const struct wg_sink *sink);
/* When wg_dev_tick() next has work (may be early, never late); UINT64_MAX if
 * nothing is armed. */
uint64_t wg_dev_next_deadline(const struct wg_dev *dev);

/* ---- peers ------------------------------------------------------------- */

/* Peer configuration, partial by flags (wireguard-tools' struct wgpeer). */
enum {
	WG_PEER_REMOVE_ME = 1u << 0,
	WG_PEER_REPLACE_ALLOWEDIPS = 1u << 1,
	WG_PEER_HAS_PUBLIC_KEY = 1u << 2,
	WG_PEER_HAS_PRESHARED_KEY = 1u << 3,
	WG_PEER_HAS_PERSISTENT_KEEPALIVE = 1u << 4,
	WG_PEER_HAS_ENDPOINT = 1u << 5,
	WG_PEER_UPDATE_ONLY = 1u << 6, /* do not create the peer */
};

struct wg_allowedip {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr ip4;
		struct in6_addr ip6;
	} addr;
	uint8_t cidr;
	bool remove; /* remove this prefix instead of adding it */
};

struct wg_peer_config {
	uint32_t flags;
	uint8_t public_key[WG_KEY_LEN]; /* required */
	/* Sets a one-entry PSK ring, version 0, exactly like WireGuard's
	 * preshared key; all zero empties the ring (no PSK). */
	uint8_t preshared_key[WG_KEY_LEN];
	struct wg_endpoint endpoint;
	uint16_t persistent_keepalive; /* seconds; 0 off */
	const struct wg_allowedip *allowedips;
	size_t n_allowedips;
};

/* Add, update or remove a peer (UAPI `set`). Everything is validated before
 * anything changes (-EINVAL); only -ENOMEM can leave allowed IPs partly
 * applied. *peerp (may be NULL) gets the peer, or NULL if it was removed or
 * ignored (a peer with our own public key is ignored, as in Linux). May send
 * a keepalive or queued packets through sink (NULL: the device is down). */
int wg_dev_set_peer(struct wg_dev *dev, uint64_t now, const struct wg_peer_config *cfg,
		    const struct wg_sink *sink, struct wg_peer **peerp);
/* Remove one peer or all (UAPI replace_peers); keys are wiped. */
void wg_dev_remove_peer(struct wg_dev *dev, struct wg_peer *peer);
void wg_dev_remove_all_peers(struct wg_dev *dev);

/* Look-ups and iteration in order of addition (UAPI `get`). */
struct wg_peer *wg_dev_find_peer(const struct wg_dev *dev, const uint8_t pub[WG_KEY_LEN]);
struct wg_peer *wg_dev_first_peer(const struct wg_dev *dev);
struct wg_peer *wg_dev_next_peer(const struct wg_peer *peer);
size_t wg_dev_peer_count(const struct wg_dev *dev);

struct wg_peer_info {
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN]; /* newest of the ring, or zero */
	size_t n_psk;
	struct wg_endpoint endpoint;
	uint16_t persistent_keepalive;
	uint64_t last_handshake_ns; /* wall clock, ns since the epoch; 0 never */
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	bool has_session;	      /* a current keypair exists */
	uint32_t session_psk_version; /* version of the PSK the current session used */
};
void wg_peer_get_info(const struct wg_peer *peer, struct wg_peer_info *out);

/* Call fn for each allowed IP of peer until it returns non-zero; returns
 * that value. addr is 4 or 16 bytes in network order. */
typedef int (*wg_allowedip_fn)(void *ctx, int family, const uint8_t *addr, uint8_t cidr);
int wg_peer_walk_allowedips(const struct wg_peer *peer, wg_allowedip_fn fn, void *ctx);

/* The PSK ring: push a new newest key (the responder uses it at once, the
 * initiator tries all); the oldest falls off past WG_PSK_RING_MAX. version
 * is the caller's label, reported per session. 0 or -EINVAL (zero key). */
int wg_peer_psk_push(struct wg_peer *peer, const uint8_t psk[WG_KEY_LEN], uint32_t version);
/* Replace the whole ring: psk[0] the newest, n <= WG_PSK_RING_MAX, n == 0
 * no PSK (plain WireGuard with a zero key). All-or-nothing: 0 or -EINVAL
 * (too many, or a zero key). Sessions already made keep their keys. */
int wg_peer_psk_set(struct wg_peer *peer, const uint8_t (*psk)[WG_KEY_LEN],
		    const uint32_t *versions, size_t n);
/* Keep only the keep newest keys (retire the older ones). */
void wg_peer_psk_retire(struct wg_peer *peer, size_t keep);

/* Start a handshake now (rate-limited to one per REKEY_TIMEOUT). */
void wg_dev_initiate(struct wg_dev *dev, uint64_t now, struct wg_peer *peer,
		     const struct wg_sink *sink);

/* Send peer a keepalive now, e.g. after the host's addresses changed, so the
 * peer roams to our new source at once instead of at the next persistent
 * keepalive: an empty data packet if a session can send, else the empty
 * packet is queued and a handshake starts (rate-limited as usual). 0,
 * WG_ERR_NO_ENDPOINT (nothing sent or queued), or -ENETDOWN (sink NULL). */
int wg_dev_send_keepalive(struct wg_dev *dev, uint64_t now, struct wg_peer *peer,
			  const struct wg_sink *sink);
/* Forget every peer's sticky local source address (and its interface), so
 * the next datagrams leave from whatever the kernel picks now: call it when
 * the host's addresses change, as the Linux driver drops its source cache. */
void wg_dev_clear_src(struct wg_dev *dev);

/* ---- crypto on worker threads ------------------------------------------ */
/*
 * The two data-path calls split at the AEAD, so that the ChaCha20-Poly1305 of
 * a batch can run on several threads while everything that must happen in
 * order stays on the device's thread (docs/engine.md, Threads):
 *
 *	wg_dev_send_prepare / wg_dev_recv_prepare  each packet, in arrival order
 *	wg_job_run                                 each job, any order, any thread
 *	wg_dev_send_finish / wg_dev_recv_finish    each job, in the prepare order
 *
 * Prepare picks the keypair, assigns the nonce (send) or finds the keypair
 * and checks it may still receive (receive); the job then holds a pointer to
 * the keypair's key. Finish does the rest exactly as the one-call path:
 * replay window (after authentication), confirmation of the next keypair,
 * roaming, timers, source filter, delivery, rekeying. The outcome is the one
 * the one-call path gives for the same packets in the same order.
 *
 * Fork-join: while any wg_job_run of a batch runs, no thread may call the
 * device (not even a prepare). Between a batch's first prepare and its last
 * finish, only prepares and finishes of that batch may be made, except that
 * the one-call functions may be used once every prepared job is finished.
 * A prepare that answers WG_SYNC changed nothing that matters: finish the
 * jobs before, then pass the packet to the one-call function.
 */
#define WG_SYNC 3 /* prepare: take the one-call path for this packet */

struct cry_aead;
struct wg_keypair;

/* One packet between prepare and finish. The fields are the core's. */
struct wg_job {
	uint8_t *data;	    /* AEAD input and output, in place */
	size_t len;	    /* plaintext (padded) to seal, or ciphertext with tag to open */
	const uint8_t *key; /* of the keypair; valid until the batch's finishes */
	uint64_t nonce;
	bool open;  /* receive (open) or send (seal) */
	int status; /* wg_job_run: 0 or the AEAD's error */
	struct wg_peer *peer;
	struct wg_keypair *kp;
	uint32_t kp_gen; /* the slot's generation at prepare: reuse is detected */
	struct wg_buf buf;
	struct wg_endpoint src; /* receive: where it came from */
};

/* A datagram: 0 (a job to run), WG_SYNC (not transport data: use
 * wg_dev_recv_udp) or a WG_ERR_* drop, counted as wg_dev_recv_udp does. */
int wg_dev_recv_prepare(struct wg_dev *dev, uint64_t now, struct wg_buf *b,
			const struct wg_endpoint *src, struct wg_job *job);
/* Seal or open job in place with aead, a context of the calling thread. */
void wg_job_run(struct cry_aead *aead, struct wg_job *job);
/* What wg_dev_recv_udp returns for the packet: 0 or a WG_ERR_*. */
int wg_dev_recv_finish(struct wg_dev *dev, uint64_t now, struct wg_job *job,
		       const struct wg_sink *sink);
/* A TUN packet: 0 (a job), WG_SYNC (no session, packets waiting, or no room
 * around it to seal in place: use wg_dev_send_tun) or a WG_ERR_* drop. */
int wg_dev_send_prepare(struct wg_dev *dev, uint64_t now, struct wg_buf *b, struct wg_job *job);
/* Send the sealed packet: 0, or -EIO if the AEAD failed (dropped). */
int wg_dev_send_finish(struct wg_dev *dev, uint64_t now, struct wg_job *job,
		       const struct wg_sink *sink);

#endif
