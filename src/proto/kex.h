/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Post-quantum KEX messages between two peers of a network (DESIGN.md
 * section 8, docs/pq.md). Three signed records in the envelope of
 * proto/record.h, each signed by the sender's identity key:
 *
 *   EK   the decapsulator's fresh X-Wing encapsulation key for version v
 *   CT   the encapsulator's ciphertext for v, bound to SHA3-256 of that ek
 *   ACK  key confirmation: a MAC derived from PSK(v) over both hashes
 *
 * Each binds the network, the sender (name, identity key, WireGuard key),
 * the recipient (name, WireGuard key), the PSK version, a fresh nonce and
 * the issue time. The registry relays them and can neither forge nor
 * (without a decapsulation key) use them.
 *
 * Also here, because both the agent and the simulator need the same bytes:
 * the PSK derivation, the confirmation MAC, and encapsulation/decapsulation
 * against the messages. Pure: randomness comes from the caller.
 */
#ifndef PROTO_KEX_H
#define PROTO_KEX_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/xwing.h"
#include "proto/limits.h"
#include "proto/record.h"

/* Record types of node-signed KEX messages (admin-signed records use 1..4).
 * Labels separate the signatures of the three. */
#define PROTO_T_KEX_EK	    16
#define PROTO_T_KEX_CT	    17
#define PROTO_T_KEX_ACK	    18
#define PROTO_KEX_EK_LABEL  "scope kex-ek v1"
#define PROTO_KEX_CT_LABEL  "scope kex-ct v1"
#define PROTO_KEX_ACK_LABEL "scope kex-ack v1"
#define PROTO_KEX_PSK_LEN   32
#define PROTO_KEX_HASH_LEN  32
#define PROTO_KEX_MAC_LEN   32
#define PROTO_KEX_PSK_SALT  "scope psk v1"	   /* HKDF salt of PSK(v) */
#define PROTO_KEX_MAC_SALT  "scope kex-confirm v1" /* HKDF salt of the MAC */

/* Outcomes of checking a KEX message beyond proto/record.h's codes. */
#define PROTO_ERR_KEX_SENDER	(-EACCES) /* sender fields are not its certificate's */
#define PROTO_ERR_KEX_RECIPIENT (-ENXIO)  /* addressed to another peer or key */
#define PROTO_ERR_KEX_VERSION	(-ERANGE) /* not the PSK version expected */
#define PROTO_ERR_KEX_BINDING	(-EBADE)  /* bound to another ek or ciphertext */
#define PROTO_ERR_KEX_MAC	(-EPROTO) /* confirmation MAC does not match */

struct proto_cert;

/* A plain struct; only the payload fields of its type are encoded (the
 * others are ignored by encode and zero after decode). */
struct proto_kex {
	uint8_t type; /* PROTO_T_KEX_EK, _CT or _ACK */
	char network[PROTO_NET_NAME_MAX + 1];
	char from[PROTO_PEER_NAME_MAX + 1];  /* sender's peer name */
	uint8_t from_id[PROTO_KEY_LEN];	     /* sender's identity key: the signer */
	uint8_t from_wg[PROTO_KEY_LEN];	     /* sender's WireGuard key */
	char to[PROTO_PEER_NAME_MAX + 1];    /* recipient's peer name */
	uint8_t to_wg[PROTO_KEY_LEN];	     /* recipient's WireGuard key */
	uint64_t version;		     /* PSK version, >= 1 */
	uint8_t nonce[PROTO_KEX_NONCE_LEN];  /* fresh per message */
	uint64_t issued;		     /* Unix seconds */
	uint8_t ek[CRY_XWING_PK];	     /* EK */
	uint8_t ek_hash[PROTO_KEX_HASH_LEN]; /* CT, ACK: SHA3-256(ek) */
	uint8_t ct[CRY_XWING_CT];	     /* CT */
	uint8_t ct_hash[PROTO_KEX_HASH_LEN]; /* ACK: SHA3-256(ct) */
	uint8_t mac[PROTO_KEX_MAC_LEN];	     /* ACK */
	uint8_t signature[PROTO_SIG_LEN];
	uint8_t fingerprint[PROTO_FP_LEN]; /* set by decode and sign, not encoded */
};

/* Check every field, sign with the sender's identity seed (whose public key
 * must be m->from_id) and set the fingerprint. 0, -EINVAL or -EIO. */
int proto_kex_sign(struct proto_kex *m, const uint8_t identity_seed[32]);
/* Canonical bytes of a signed message. 0, -EINVAL, -ENOBUFS. */
int proto_kex_encode(const struct proto_kex *m, uint8_t *out, size_t cap, size_t *len);
/* Parse a message of any of the three types into *out (written only on
 * success). Signature not checked. 0, PROTO_ERR_MALFORMED, PROTO_ERR_VERSION,
 * PROTO_ERR_TYPE (another record type). */
int proto_kex_decode(struct proto_kex *out, const uint8_t *in, size_t len);
/* Check a decoded message against the certificates of its sender and of its
 * recipient (both verified by the caller), in this order:
 *   PROTO_ERR_MALFORMED     not a valid struct
 *   PROTO_ERR_NETWORK       network is not both certificates' network
 *   PROTO_ERR_KEX_SENDER    from, from_id or from_wg differ from `from`
 *   PROTO_ERR_KEX_RECIPIENT to or to_wg differ from `to`
 *   PROTO_ERR_SIG           not signed by from->identity
 * 0 if the message is genuine; -ENOMEM. */
int proto_kex_verify(const struct proto_kex *m, const struct proto_cert *from,
		     const struct proto_cert *to);

/* SHA3-256 of an encapsulation key or ciphertext. */
void proto_kex_hash(uint8_t out[PROTO_KEX_HASH_LEN], const uint8_t *in, size_t n);
/* PSK(v) = HKDF-SHA3-256(salt PROTO_KEX_PSK_SALT, ikm ss,
 *                         info network || lower key || higher key || v (8, BE))
 * with the two WireGuard keys in either order (ordered here, big-endian).
 * 0, -EINVAL (equal keys, bad network name, v = 0) or -EIO. */
int proto_kex_psk(uint8_t psk[PROTO_KEX_PSK_LEN], const uint8_t ss[CRY_XWING_SS],
		  const char *network, const uint8_t wg_a[PROTO_KEY_LEN],
		  const uint8_t wg_b[PROTO_KEY_LEN], uint64_t v);
/* The confirmation MAC a peer with WireGuard key sender_wg sends:
 * HKDF-SHA3-256(salt PROTO_KEX_MAC_SALT, ikm psk,
 *               info sender_wg || ek_hash || ct_hash). 0 or -EIO. */
int proto_kex_mac(uint8_t mac[PROTO_KEX_MAC_LEN], const uint8_t psk[PROTO_KEX_PSK_LEN],
		  const uint8_t sender_wg[PROTO_KEY_LEN], const uint8_t ek_hash[PROTO_KEX_HASH_LEN],
		  const uint8_t ct_hash[PROTO_KEX_HASH_LEN]);

/* The header of a reply to `in`, from its recipient: type, network, version,
 * from/to swapped, from_id = the replier's identity key, nonce and issued as
 * given; payload zero. */
void proto_kex_reply(struct proto_kex *out, const struct proto_kex *in, uint8_t type,
		     const uint8_t identity[PROTO_KEY_LEN],
		     const uint8_t nonce[PROTO_KEX_NONCE_LEN], uint64_t issued);
/* Encapsulator: for a verified EK, fill the payload of ct_msg (whose header
 * the caller made with proto_kex_reply) and derive PSK(v). eseed must be
 * fresh and uniformly random. 0, -EINVAL (not an EK, an invalid ek) or -EIO. */
int proto_kex_encaps(struct proto_kex *ct_msg, uint8_t psk[PROTO_KEX_PSK_LEN],
		     const struct proto_kex *ek, const uint8_t eseed[CRY_XWING_ESEED]);
/* Decapsulator: PSK(v) from a verified CT answering ek (the EK it sent) with
 * its secret dk. PROTO_ERR_KEX_VERSION (another version),
 * PROTO_ERR_KEX_BINDING (another ek, or not from ek's recipient to its
 * sender), -EINVAL (not a CT / EK), -EIO. */
int proto_kex_decaps(uint8_t psk[PROTO_KEX_PSK_LEN], const struct proto_kex *ct,
		     const struct proto_kex *ek, const uint8_t dk[CRY_XWING_SK]);
/* Fill the payload of an ACK (header from proto_kex_reply) confirming ct
 * with psk, as sent by ack->from_wg. 0, -EINVAL (ct not a CT), -EIO. */
int proto_kex_ack_fill(struct proto_kex *ack, const struct proto_kex *ct,
		       const uint8_t psk[PROTO_KEX_PSK_LEN]);
/* Check a verified ACK against the CT of the exchange and our psk:
 * PROTO_ERR_KEX_VERSION, PROTO_ERR_KEX_BINDING (other hashes, other pair),
 * PROTO_ERR_KEX_MAC (the sender derived another PSK), -EINVAL, or 0. */
int proto_kex_ack_check(const struct proto_kex *ack, const struct proto_kex *ct,
			const uint8_t psk[PROTO_KEX_PSK_LEN]);

/* proto_strerror, plus the PROTO_ERR_KEX_* codes. */
const char *proto_kex_strerror(int err);
/* "ek", "ct", "ack"; "?" for anything else. */
const char *proto_kex_type_name(uint8_t type);

#endif
