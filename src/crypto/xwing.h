/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * X-Wing hybrid KEM (draft-connolly-cfrg-xwing-kem, versions -05 to -10):
 * ML-KEM-768 and X25519 under a SHA3-256 combiner. Secure if either
 * component is. Scope's per-peer PSK rotation uses it (DESIGN.md section 8).
 *
 *   sk = 32-byte seed; SHAKE256(sk, 96) = d || z || sk_X
 *   pk = ek_M (1184) || pk_X (32)           ct = c_M (1088) || ct_X (32)
 *   ss = SHA3-256(ss_M || ss_X || ct_X || pk_X || "\.//^\")
 *
 * Contract: 0 or a negative errno; outputs are written only on success.
 * -EINVAL for a wrong input length, an encapsulation key failing the
 * ML-KEM modulus check, or an X25519 result that is all zero (a low-order
 * pk_X or ct_X: OpenSSL refuses those, so Scope does too; an honest peer
 * never produces one, and the refusal depends only on public input).
 * -EIO if OpenSSL fails. The secret key is expanded on every call;
 * temporaries holding secrets are wiped.
 */
#ifndef CRY_XWING_H
#define CRY_XWING_H

#include <stddef.h>
#include <stdint.h>

#define CRY_XWING_SK	32
#define CRY_XWING_PK	1216
#define CRY_XWING_CT	1120
#define CRY_XWING_SS	32
#define CRY_XWING_ESEED 64

/* pk of the seed sk (the draft's GenerateKeyPairDerand). */
int cry_xwing_pubkey(uint8_t pk[CRY_XWING_PK], const uint8_t sk[CRY_XWING_SK]);
/* A fresh key pair from cry_random. */
int cry_xwing_keygen(uint8_t pk[CRY_XWING_PK], uint8_t sk[CRY_XWING_SK]);
/* EncapsulateDerand: eseed = m for ML-KEM (32) || ephemeral X25519 key (32).
 * For tests; eseed must be fresh and uniformly random. */
int cry_xwing_encaps_derand(uint8_t ct[CRY_XWING_CT], uint8_t ss[CRY_XWING_SS], const uint8_t *pk,
			    size_t pklen, const uint8_t eseed[CRY_XWING_ESEED]);
/* Encapsulate to pk (pklen must be CRY_XWING_PK) with fresh randomness. */
int cry_xwing_encaps(uint8_t ct[CRY_XWING_CT], uint8_t ss[CRY_XWING_SS], const uint8_t *pk,
		     size_t pklen);
/* Decapsulate ct (ctlen must be CRY_XWING_CT). A tampered c_M gives a
 * pseudorandom ss (ML-KEM implicit rejection), not an error. */
int cry_xwing_decaps(uint8_t ss[CRY_XWING_SS], const uint8_t *ct, size_t ctlen,
		     const uint8_t sk[CRY_XWING_SK]);

#endif
