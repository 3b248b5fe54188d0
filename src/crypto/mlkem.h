/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ML-KEM (FIPS 203, final, August 2024): ML-KEM-512, -768 and -1024.
 *
 * Keys and ciphertexts are the byte strings of FIPS 203: ek is
 * ByteEncode12(t) || rho and dk is the expanded form dk_PKE || ek || H(ek) || z
 * (not the 64-byte seed d || z).
 *
 * Contract:
 * - Every function returns 0 or a negative errno: -EINVAL for an unknown
 *   parameter set, a NULL pointer, an input of the wrong length, or an input
 *   that fails the FIPS 203 section 7.2 / 7.3 checks. Inputs from the network
 *   are safe to pass as they are; nothing reads outside (ptr, len).
 * - Output buffers must hold exactly cry_mlkem_{ek,dk,ct}_len(param) bytes
 *   (CRY_MLKEM_SS for shared secrets). They are written only on success.
 * - Encaps runs the section 7.2 checks (length, modulus) on every call;
 *   decaps runs the section 7.3 checks (lengths, hash of ek in dk) on every
 *   call. Implicit rejection is not an error: decaps of a bad ciphertext
 *   returns 0 and the pseudorandom key J(z || c).
 * - Constant time in every secret (d, z, m, dk_PKE, the decrypted message,
 *   whether the ciphertext was valid); time depends only on public data
 *   (parameter set, ek, c). Every internal buffer holding a secret is wiped.
 * - The _derand variants are FIPS 203's KeyGen_internal / Encaps_internal:
 *   for tests, and for X-Wing, which derives d, z and m itself. The caller
 *   must supply fresh uniformly random d, z, m; everything else should use
 *   the randomized variants, which take their randomness from cry_random.
 */
#ifndef CRY_MLKEM_H
#define CRY_MLKEM_H

#include <stddef.h>
#include <stdint.h>

enum cry_mlkem_param {
	CRY_MLKEM512,
	CRY_MLKEM768,
	CRY_MLKEM1024,
};

#define CRY_MLKEM_SEED 32 /* d, z and m */
#define CRY_MLKEM_SS   32 /* shared secret K */

#define CRY_MLKEM512_EK	 800
#define CRY_MLKEM512_DK	 1632
#define CRY_MLKEM512_CT	 768
#define CRY_MLKEM768_EK	 1184
#define CRY_MLKEM768_DK	 2400
#define CRY_MLKEM768_CT	 1088
#define CRY_MLKEM1024_EK 1568
#define CRY_MLKEM1024_DK 3168
#define CRY_MLKEM1024_CT 1568

/* Largest sizes over all parameter sets, for static buffers. */
#define CRY_MLKEM_EK_MAX CRY_MLKEM1024_EK
#define CRY_MLKEM_DK_MAX CRY_MLKEM1024_DK
#define CRY_MLKEM_CT_MAX CRY_MLKEM1024_CT

/* Sizes in bytes for a parameter set; 0 for an unknown one. */
size_t cry_mlkem_ek_len(enum cry_mlkem_param p);
size_t cry_mlkem_dk_len(enum cry_mlkem_param p);
size_t cry_mlkem_ct_len(enum cry_mlkem_param p);

/* KeyGen_internal(d, z) (FIPS 203 Algorithm 16): deterministic key pair. */
int cry_mlkem_keygen_derand(enum cry_mlkem_param p, uint8_t *ek, uint8_t *dk,
			    const uint8_t d[CRY_MLKEM_SEED], const uint8_t z[CRY_MLKEM_SEED]);
/* ML-KEM.KeyGen (Algorithm 19): a fresh key pair; -errno if cry_random fails. */
int cry_mlkem_keygen(enum cry_mlkem_param p, uint8_t *ek, uint8_t *dk);

/* Section 7.2 input check of an encapsulation key: length, then
 * ByteEncode12(ByteDecode12(t)) == t (every coefficient below q). 0 or -EINVAL. */
int cry_mlkem_check_ek(enum cry_mlkem_param p, const uint8_t *ek, size_t eklen);
/* Section 7.3 input check of a decapsulation key: length, then
 * H(ek part) == stored hash. 0 or -EINVAL. */
int cry_mlkem_check_dk(enum cry_mlkem_param p, const uint8_t *dk, size_t dklen);

/* Encaps_internal(ek, m) (Algorithm 17) after cry_mlkem_check_ek: ciphertext
 * c and shared secret k. */
int cry_mlkem_encaps_derand(enum cry_mlkem_param p, uint8_t *c, uint8_t k[CRY_MLKEM_SS],
			    const uint8_t *ek, size_t eklen, const uint8_t m[CRY_MLKEM_SEED]);
/* ML-KEM.Encaps (Algorithm 20): as above with a fresh random m. */
int cry_mlkem_encaps(enum cry_mlkem_param p, uint8_t *c, uint8_t k[CRY_MLKEM_SS], const uint8_t *ek,
		     size_t eklen);

/* ML-KEM.Decaps (Algorithm 21, with implicit rejection) after the checks
 * of cry_mlkem_check_dk and a ciphertext length check. */
int cry_mlkem_decaps(enum cry_mlkem_param p, uint8_t k[CRY_MLKEM_SS], const uint8_t *dk,
		     size_t dklen, const uint8_t *c, size_t clen);

#endif
