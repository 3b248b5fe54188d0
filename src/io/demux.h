/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One UDP port, three protocols, told apart by their first bytes
 * (DESIGN.md section 4), so NAT mappings learned by STUN and punched by
 * Scope's probes are the ones WireGuard uses.
 *
 *  WireGuard   byte 0 is the message type 1..4, bytes 1..3 are zero (the
 *              little-endian u32 type field), and the size is exact:
 *              initiation 148, response 92, cookie reply 64, transport data
 *              32 + 16k (16-byte header, plaintext padded to 16, 16-byte tag;
 *              32 is a keepalive).
 *  STUN        RFC 8489 section 5: top two bits of byte 0 zero, magic cookie
 *              0x2112A442 at offset 4, the length field (bytes 2..3, big
 *              endian) + 20 == size, size a multiple of 4.
 *  Scope       out-of-tunnel messages (probes, hole punching): the 4 bytes
 *              0xFF 'S' 'c' 0x01 (0x01 = version 1), and at least
 *              DEMUX_SCOPE_MIN_LEN bytes. Header:
 *
 *                0      1      2      3      4      5      6      7
 *              +------+------+------+------+------+------+------+------+
 *              | 0xFF | 'S'  | 'c'  | ver  | type | reserved (zero)    |
 *              +------+------+------+------+------+------+------+------+
 *              | body (sealed; format defined by src/proto) ... | tag  |
 *
 *              Every Scope message is sealed with ChaCha20-Poly1305, so the
 *              smallest is the 8-byte header plus a 16-byte tag. The body
 *              and the type values belong to src/proto, which cannot include
 *              this header (layers): it repeats the 4-byte prefix and must
 *              keep it. A new version changes byte 3 and is dropped here
 *              until a handler understands it.
 *
 * The rules cannot overlap: 0xFF has its top bits set (never STUN), and a
 * WireGuard-typed packet reads as a STUN length of 0, i.e. 20 bytes, which is
 * no WireGuard size. Anything else is dropped without reply.
 *
 * struct demux routes classified packets to handlers that other layers
 * register (the WireGuard core, the STUN responder and client, the Scope
 * prober) and counts packets per kind, and those no handler took.
 * Single-threaded: the loop thread classifies and dispatches.
 */
#ifndef IO_DEMUX_H
#define IO_DEMUX_H

#include <stddef.h>
#include <stdint.h>

#include "io/endpoint.h"

enum demux_kind {
	DEMUX_DROP = 0,	  /* none of the below: dropped without reply */
	DEMUX_WG,	  /* to the WireGuard core */
	DEMUX_STUN,	  /* to the STUN responder/client */
	DEMUX_SCOPE,	  /* to the Scope prober / hole puncher */
	DEMUX_KIND_COUNT, /* array size, not a kind */
};

/* WireGuard message sizes (the protocol core repeats these next to its wire
 * structs; they are the protocol's, not ours). */
#define DEMUX_WG_INITIATION_LEN 148
#define DEMUX_WG_RESPONSE_LEN	92
#define DEMUX_WG_COOKIE_LEN	64
#define DEMUX_WG_DATA_MIN_LEN	32

#define DEMUX_STUN_HDR_LEN 20
#define DEMUX_STUN_MAGIC   0x2112A442u

#define DEMUX_SCOPE_MAGIC0  0xFF
#define DEMUX_SCOPE_MAGIC1  'S'
#define DEMUX_SCOPE_MAGIC2  'c'
#define DEMUX_SCOPE_VERSION 0x01
#define DEMUX_SCOPE_HDR_LEN 8
#define DEMUX_SCOPE_MIN_LEN (DEMUX_SCOPE_HDR_LEN + 16)

/* A handler gets the datagram and its sender. p is the caller's receive
 * buffer: the handler may modify it in place (the WireGuard core decrypts in
 * place) but must not keep it after returning; from is valid for the call. */
typedef void (*demux_fn)(void *ctx, uint8_t *p, size_t n, const struct io_endpoint *from);

struct demux_stats {
	uint64_t packets[DEMUX_KIND_COUNT]; /* classified as each kind */
	uint64_t bytes[DEMUX_KIND_COUNT];
	/* Of those, dropped for want of a handler (always all of DEMUX_DROP). */
	uint64_t unhandled[DEMUX_KIND_COUNT];
};

struct demux;

/* Classify one datagram. Pure; reads at most n bytes of p. */
enum demux_kind demux_classify(const uint8_t *p, size_t n);
/* "drop", "wireguard", "stun", "scope"; "?" out of range. */
const char *demux_kind_name(enum demux_kind kind);

/* A router with no handlers. 0 or -ENOMEM; *out only on success. */
int demux_new(struct demux **out);
/* Accepts NULL. */
void demux_free(struct demux *d);
/* Route kind to fn(ctx, ...); fn NULL unregisters. 0, or -EINVAL for
 * DEMUX_DROP or an out-of-range kind. */
int demux_set_handler(struct demux *d, enum demux_kind kind, demux_fn fn, void *ctx);
/* Classify, count and hand p to its handler (or drop it). Returns the kind. */
enum demux_kind demux_input(struct demux *d, uint8_t *p, size_t n, const struct io_endpoint *from);
/* Copy the counters. */
void demux_get_stats(const struct demux *d, struct demux_stats *out);

#endif
