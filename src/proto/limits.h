/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hard caps of Scope's signed records (STYLE.md section 4). Everything a
 * parser in src/proto accepts from a file or the network is bounded here;
 * docs/certs.md explains each value.
 */
#ifndef PROTO_LIMITS_H
#define PROTO_LIMITS_H

/* A network name is also the Linux interface name (DESIGN.md section 12). */
#define PROTO_NET_NAME_MAX 8
/* Peer names: master relays in the network definition, certificates, kill
 * switch targets. Short enough for logs and for a DNS label later. */
#define PROTO_PEER_NAME_MAX 32
/* Registry URL in the network definition. */
#define PROTO_URL_MAX 255

/* Master relays in one network definition. */
#define PROTO_NETDEF_MAX_RELAYS 16
/* Advertised subnets in one certificate. */
#define PROTO_CERT_MAX_SUBNETS 64
/* Entries (fingerprints or identity keys) in one revocation list. Expired
 * certificates can be dropped from the list, so this bounds the live ones. */
#define PROTO_REVOKE_MAX_ENTRIES 8192
/* Listed targets of one kill switch. */
#define PROTO_KILL_MAX_TARGETS 256

/* Encoded size of a network definition, certificate or kill switch. Each of
 * them at its caps fits (checked by _Static_assert in its module). */
#define PROTO_RECORD_MAX 16384
/* Encoded size of a revocation list at PROTO_REVOKE_MAX_ENTRIES: header,
 * network, serial, issue time, 36 bytes per entry, signature. */
#define PROTO_REVOKE_RECORD_MAX                                                             \
	(6 + (3 + PROTO_NET_NAME_MAX) + 2 * (3 + 8) + PROTO_REVOKE_MAX_ENTRIES * (3 + 33) + \
	 (3 + 64))

/* Text armor of a record of n bytes: BEGIN and END lines (labels are at most
 * 32 characters), base64 in lines of 64 characters, a NUL. */
#define PROTO_ARMOR_LEN(n) (2 * (16 + 32 + 1) + (((n) + 2) / 3) * 4 + (((n) + 47) / 48) + 1)
#define PROTO_ARMOR_MAX	   PROTO_ARMOR_LEN(PROTO_REVOKE_RECORD_MAX)

/* Signed node requests: the request line's parts that the signature covers. */
#define PROTO_SIGREQ_METHOD_MAX 16
#define PROTO_SIGREQ_PATH_MAX	2048

/* Post-quantum KEX messages between two peers (proto/kex.h, docs/pq.md):
 * the largest, an X-Wing encapsulation key offer, is about 1.5 KiB; the
 * registry's mailbox takes up to 8 KiB. A fresh nonce per message. */
#define PROTO_KEX_RECORD_MAX 2048
#define PROTO_KEX_NONCE_LEN  16

#endif
