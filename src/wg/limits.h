/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hard caps of the protocol core (STYLE.md section 4): every table, queue or
 * buffer that the network or a configuration can grow has its bound here.
 */
#ifndef WG_LIMITS_H
#define WG_LIMITS_H

/* Peers per device (Linux: MAX_PEERS_PER_DEVICE is 2^20; a userspace engine
 * with per-peer timers scanned on expiry stays well below). */
#define WG_MAX_PEERS (1u << 16)

/* Allowed-IPs entries per device, over all peers. */
#define WG_MAX_ALLOWEDIPS (1u << 20)

/* Preshared keys per peer in the PSK ring (newest first). */
#define WG_PSK_RING_MAX 4

/* Packets held per peer while no session exists (Linux MAX_STAGED_PACKETS);
 * the oldest is dropped first. The byte cap bounds all peers together. */
#define WG_MAX_STAGED_PACKETS 128
#define WG_MAX_STAGED_BYTES   (8u << 20)

/* Largest inner IP packet the core encrypts or accepts (IPv4/IPv6 total
 * length field maximum). */
#define WG_MAX_PACKET 65535u

/* Replay window: bits kept per receiving keypair (Linux COUNTER_BITS_TOTAL).
 * One word of them is redundant, so the usable window is 64 bits smaller. */
#define WG_REPLAY_BITS 8192u

/* Buckets of the receiver-index and public-key hash tables (powers of 2). */
#define WG_INDEX_BUCKETS  (1u << 13)
#define WG_PUBKEY_BUCKETS (1u << 11)

/* Rate limiter: source addresses tracked at once (more are refused, as in
 * Linux) and the buckets they hash into (power of 2). */
#define WG_RATELIMIT_ENTRIES (1u << 13)
#define WG_RATELIMIT_BUCKETS (1u << 12)

/* Payload bytes the Noise core carries in a handshake message (WireGuard
 * uses 12 and 0; the Noise test vectors a few more). */
#define NOISE_MAX_PAYLOAD 64

#endif
