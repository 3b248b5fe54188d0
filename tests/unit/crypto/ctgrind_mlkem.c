// SPDX-License-Identifier: GPL-2.0-only
/*
 * Constant-time check of ML-KEM with valgrind (the "ctgrind" technique of
 * Adam Langley): secrets are marked undefined with memcheck's client
 * requests, so memcheck reports every branch ("Conditional jump or move
 * depends on uninitialised value") and every memory address ("Use of
 * uninitialised value of size 8") computed from them. Values the standard
 * makes public are marked defined where they become public: rho inside
 * mlkem.c (CRY_CTGRIND), and here ek, the ek/H(ek) part of dk, ciphertexts,
 * and the keys once they are compared.
 *
 * Run by tests/ct/ctgrind.sh under valgrind --error-exitcode=1; outside
 * valgrind the client requests do nothing and this is a plain round trip.
 * Valgrind cannot see variable-time instructions (a DIV on a secret), so the
 * script also rejects any division instruction in this binary.
 */
#define CRY_CTGRIND 1
#include "crypto/mlkem.c"

#include <stdio.h>

#include <valgrind/memcheck.h>

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED(p, n)
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)

static int run(enum cry_mlkem_param p, uint8_t seed)
{
	static uint8_t ek[CRY_MLKEM_EK_MAX], dk[CRY_MLKEM_DK_MAX], c[CRY_MLKEM_CT_MAX];
	size_t ekl = cry_mlkem_ek_len(p), dkl = cry_mlkem_dk_len(p), cl = cry_mlkem_ct_len(p);
	size_t pke = dkl - ekl - 64;
	uint8_t d[32], z[32], m[32], k[32], k2[32], kbad[32];
	int i, bad = 0;

	for (i = 0; i < 32; i++) {
		d[i] = (uint8_t)(seed + i);
		z[i] = (uint8_t)(seed * 3 + i);
		m[i] = (uint8_t)(seed * 7 + i);
	}
	SECRET(d, 32);
	SECRET(z, 32);
	bad |= cry_mlkem_keygen_derand(p, ek, dk, d, z);
	/* ek, and its copy and hash inside dk, are public; dk_PKE and z are not */
	PUBLIC(ek, ekl);
	PUBLIC(dk + pke, ekl + 32);

	SECRET(m, 32);
	bad |= cry_mlkem_encaps_derand(p, c, k, ek, ekl, m);
	PUBLIC(c, cl);

	bad |= cry_mlkem_decaps(p, k2, dk, dkl, c, cl);
	/* the implicit-rejection path: same code, a different select */
	c[cl / 2] ^= 0x10;
	bad |= cry_mlkem_decaps(p, kbad, dk, dkl, c, cl);

	PUBLIC(k, 32);
	PUBLIC(k2, 32);
	PUBLIC(kbad, 32);
	bad |= !cry_memeq(k, k2, 32) || cry_memeq(k, kbad, 32);
	return bad;
}

int main(void)
{
	static const enum cry_mlkem_param params[] = { CRY_MLKEM512, CRY_MLKEM768, CRY_MLKEM1024 };
	unsigned int i, seed;
	int bad = 0;

	for (i = 0; i < 3; i++)
		for (seed = 0; seed < 2; seed++)
			bad |= run(params[i], (uint8_t)(i * 16 + seed));
	printf("ctgrind-mlkem: %s (under valgrind: %s)\n", bad ? "FAILED" : "ok",
	       RUNNING_ON_VALGRIND ? "yes" : "no");
	return bad ? 1 : 0;
}
