// SPDX-License-Identifier: GPL-2.0-only
/*
 * ML-KEM, written from FIPS 203 (final). The arithmetic follows the design
 * of the Kyber reference code: 16-bit signed coefficients, a Montgomery NTT
 * whose output is in FIPS 203's bit-reversed order, Barrett reduction, and
 * products of NTT representations with a factor 2^-16 that the callers fold
 * into one final multiplication (docs/mlkem.md gives the bounds).
 *
 * Constant time: no branch and no memory index depends on a secret. The
 * only data-dependent loop is rejection sampling of the matrix A from the
 * public seed rho. Compression divides by q with a multiply and shift
 * (a C division on a secret compiles to a variable-time DIV: KyberSlash).
 * Secret values the compiler can prove are 0 or 1 pass through a value
 * barrier before they become masks, so that it cannot turn them into
 * branches. tests/unit/crypto/ctgrind_mlkem.c and tests/ct/ctgrind.sh check
 * this under valgrind and in the disassembly.
 */
#include "crypto/mlkem.h"

#include <errno.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/keccak.h"
#include "crypto/rand.h"

/*
 * The valgrind constant-time test compiles this file with CRY_CTGRIND and
 * marks the secret inputs undefined. rho derives from the secret d but is
 * published in ek, and SampleNTT branches on it, so it is declared defined
 * again at the point where it becomes public.
 */
#ifdef CRY_CTGRIND
#include <valgrind/memcheck.h>
#define declassify(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)
#else
#define declassify(p, n) ((void)(p), (void)(n))
#endif

#define N	   256
#define Q	   3329
#define QINV	   (-3327) /* q^-1 mod 2^16 */
#define POLY_BYTES 384	   /* ByteEncode12 of one polynomial */
#define SYM	   32	   /* seeds, hashes, messages */
#define K_MAX	   4

struct poly {
	int16_t c[N];
};

struct params {
	unsigned int k, eta1, du, dv;
	size_t ek, dk, ct;
};

/* FIPS 203 section 8, table 2 (eta2 is 2 for all three). */
static const struct params param_sets[] = {
	[CRY_MLKEM512] = { 2, 3, 10, 4, CRY_MLKEM512_EK, CRY_MLKEM512_DK, CRY_MLKEM512_CT },
	[CRY_MLKEM768] = { 3, 2, 10, 4, CRY_MLKEM768_EK, CRY_MLKEM768_DK, CRY_MLKEM768_CT },
	[CRY_MLKEM1024] = { 4, 2, 11, 5, CRY_MLKEM1024_EK, CRY_MLKEM1024_DK, CRY_MLKEM1024_CT },
};

static const struct params *get_params(enum cry_mlkem_param p)
{
	if ((unsigned int)p >= sizeof(param_sets) / sizeof(param_sets[0]))
		return NULL;
	return &param_sets[p];
}

/* Hide a value from the optimizer so that it cannot prove it is 0 or 1 and
 * replace the arithmetic built on it with a branch (clang did exactly that
 * to the reference poly_frommsg). */
static inline uint32_t value_barrier(uint32_t x)
{
	__asm__("" : "+r"(x));
	return x;
}

/* ---- Arithmetic mod q ---------------------------------------------------- */

/* a * 2^-16 mod q, for |a| < 2^15 q; the result is in (-q, q). */
static inline int16_t mont_reduce(int32_t a)
{
	int16_t t = (int16_t)((int16_t)a * QINV);

	return (int16_t)((a - (int32_t)t * Q) >> 16);
}

/*
 * a * b * 2^-16 mod q, in (-q, q). Same value as mont_reduce(a * b), written
 * as high halves of 16x16-bit products: a * b and t * q agree in their low
 * 16 bits, so (a b - t q) >> 16 = hi(a b) - hi(t q) exactly. Compilers map
 * the hi() of a vectorized loop to one SIMD multiply-high instruction.
 */
static inline int16_t fqmul(int16_t a, int16_t b)
{
	int32_t ab = (int32_t)a * b;
	int16_t t = (int16_t)((int16_t)ab * QINV);

	return (int16_t)((ab >> 16) - (((int32_t)t * Q) >> 16));
}

/* The representative of a mod q in [-(q-1)/2, (q-1)/2], for any int16 a
 * (checked exhaustively in test_mlkem.c). 20159 = round(2^26 / q). */
static inline int16_t barrett_reduce(int16_t a)
{
	int32_t t = (20159 * (int32_t)a + (1 << 25)) >> 26;

	return (int16_t)(a - t * Q);
}

/* 2^16 * 17^BitRev7(i) mod q, centered: the NTT twiddles in Montgomery form. */
/* clang-format off */
static const int16_t zetas[128] = {
	-1044,  -758,  -359, -1517,  1493,  1422,   287,   202,
	 -171,   622,  1577,   182,   962, -1202, -1474,  1468,
	  573, -1325,   264,   383,  -829,  1458, -1602,  -130,
	 -681,  1017,   732,   608, -1542,   411,  -205, -1571,
	 1223,   652,  -552,  1015, -1293,  1491,  -282, -1544,
	  516,    -8,  -320,  -666, -1618, -1162,   126,  1469,
	 -853,   -90,  -271,   830,   107, -1421,  -247,  -951,
	 -398,   961, -1508,  -725,   448, -1065,   677, -1275,
	-1103,   430,   555,   843, -1251,   871,  1550,   105,
	  422,   587,   177,  -235,  -291,  -460,  1574,  1653,
	 -246,   778,  1159,  -147,  -777,  1483,  -602,  1119,
	-1590,   644,  -872,   349,   418,   329,  -156,   -75,
	  817,  1097,   603,   610,  1322, -1285, -1465,   384,
	-1215,  -136,  1218, -1335,  -874,   220, -1187, -1659,
	-1185, -1530, -1278,   794, -1510,  -854,  -870,   478,
	 -108,  -308,   996,   991,   958, -1460,  1522,  1628,
};
/* clang-format on */

/* ---- Polynomials --------------------------------------------------------- */

static void poly_reduce(struct poly *a)
{
	int i;

	for (i = 0; i < N; i++)
		a->c[i] = barrett_reduce(a->c[i]);
}

static void poly_add(struct poly *r, const struct poly *a)
{
	int i;

	for (i = 0; i < N; i++)
		r->c[i] = (int16_t)(r->c[i] + a->c[i]);
}

static void poly_sub(struct poly *r, const struct poly *a, const struct poly *b)
{
	int i;

	for (i = 0; i < N; i++)
		r->c[i] = (int16_t)(a->c[i] - b->c[i]);
}

/* Multiply by 2^16 (2^32 mod q = 1353), undoing one Montgomery factor. */
static void poly_tomont(struct poly *a)
{
	int i;

	for (i = 0; i < N; i++)
		a->c[i] = fqmul(a->c[i], 1353);
}

/*
 * One layer of FIPS 203 Algorithm 9 (NTT): Cooley-Tukey butterflies at
 * distance len, twiddles zetas[k...]. Inlined with a constant len, so
 * the compiler sees fixed trip counts and can vectorize the wide layers.
 */
static inline __attribute__((always_inline)) void ntt_layer(int16_t c[N], unsigned int len,
							    unsigned int k)
{
	unsigned int start, j;

	for (start = 0; start < N; start += 2 * len, k++) {
		int16_t zeta = zetas[k];

		for (j = start; j < start + len; j++) {
			int16_t t = fqmul(zeta, c[j + len]);

			c[j + len] = (int16_t)(c[j] - t);
			c[j] = (int16_t)(c[j] + t);
		}
	}
}

/*
 * NTT, input |c| < q. Each of the 7 layers adds less than q, so the output
 * stays below 8q and fits int16; it is then reduced. Layer l (len 128 >> l)
 * uses zetas[2^l .. 2^(l+1)).
 */
static void poly_ntt(struct poly *a)
{
	ntt_layer(a->c, 128, 1);
	ntt_layer(a->c, 64, 2);
	ntt_layer(a->c, 32, 4);
	ntt_layer(a->c, 16, 8);
	ntt_layer(a->c, 8, 16);
	ntt_layer(a->c, 4, 32);
	ntt_layer(a->c, 2, 64);
	poly_reduce(a);
}

/* One layer of Algorithm 10 (NTT^-1): Gentleman-Sande butterflies, twiddles
 * zetas[k], zetas[k - 1], ... */
static inline __attribute__((always_inline)) void invntt_layer(int16_t c[N], unsigned int len,
							       unsigned int k)
{
	unsigned int start, j;

	for (start = 0; start < N; start += 2 * len, k--) {
		int16_t zeta = zetas[k];

		for (j = start; j < start + len; j++) {
			int16_t t = c[j];

			c[j] = barrett_reduce((int16_t)(t + c[j + len]));
			c[j + len] = fqmul(zeta, (int16_t)(c[j + len] - t));
		}
	}
}

/*
 * NTT^-1, then the scaling by 1/128 merged with a factor 2^16:
 * 1441 = 2^32 / 128 mod q. The input carries a factor 2^-16 from
 * poly_from_acc, so the output is in the normal domain. Input |c| < q (the
 * first layer's sums stay below 2q); output |c| < q.
 */
static void poly_invntt(struct poly *a)
{
	int j;

	invntt_layer(a->c, 2, 127);
	invntt_layer(a->c, 4, 63);
	invntt_layer(a->c, 8, 31);
	invntt_layer(a->c, 16, 15);
	invntt_layer(a->c, 32, 7);
	invntt_layer(a->c, 64, 3);
	invntt_layer(a->c, 128, 1);
	for (j = 0; j < N; j++)
		a->c[j] = fqmul(a->c[j], 1441);
}

/*
 * Products in the NTT domain: FIPS 203 Algorithm 11 (MultiplyNTTs), whose
 * pairs (a0 + a1 X)(b0 + b1 X) mod (X^2 - zeta) are Algorithm 12. The
 * factor b1 * zeta depends on b alone, so it is computed once per vector
 * (mlkem-native calls it the mulcache); products of a whole row are then
 * summed in 32 bits and reduced once per coefficient, not five times.
 */
struct poly_cache {
	int16_t c[N / 2]; /* b[2p + 1] * zeta_p * 2^-16 for each pair p */
};

static void poly_mulcache(struct poly_cache *x, const struct poly *b)
{
	int i;

	for (i = 0; i < N / 4; i++) {
		x->c[2 * i] = fqmul(b->c[4 * i + 1], zetas[64 + i]);
		x->c[2 * i + 1] = fqmul(b->c[4 * i + 3], (int16_t)-zetas[64 + i]);
	}
}

/*
 * acc += a o b, unreduced. Bounds: 0 <= a < 2^12 (sampled, or decoded from
 * a key), |b| <= (q-1)/2 (b came out of poly_ntt), |b1 zeta| < q, so one
 * product coefficient is below 2^12 (q-1)/2 + 2^12 q < 2.05e7 and a sum of
 * up to four stays below 2^15 q, the input bound of mont_reduce.
 */
static void basemul_acc(int32_t acc[N], const struct poly *a, const struct poly *b,
			const struct poly_cache *bz)
{
	int i;

	for (i = 0; i < N / 2; i++) {
		int32_t a0 = a->c[2 * i], a1 = a->c[2 * i + 1];
		int32_t b0 = b->c[2 * i], b1 = b->c[2 * i + 1];

		acc[2 * i] += a0 * b0 + a1 * bz->c[i];
		acc[2 * i + 1] += a0 * b1 + a1 * b0;
	}
}

/* r = acc * 2^-16 mod q, coefficients in (-q, q). */
static void poly_from_acc(struct poly *r, const int32_t acc[N])
{
	int i;

	for (i = 0; i < N; i++)
		r->c[i] = mont_reduce(acc[i]);
}

/* ---- Encodings (FIPS 203 section 4.2.1) ---------------------------------- */

/* x mod q in [0, q) for x in (-q, q), without a branch. */
static inline uint32_t to_unsigned(int16_t x)
{
	return (uint32_t)(x + ((x >> 15) & Q));
}

/* ByteEncode12 of a polynomial with coefficients in (-q, q). */
static void poly_tobytes(uint8_t r[POLY_BYTES], const struct poly *a)
{
	int i;

	for (i = 0; i < N / 2; i++) {
		uint32_t t0 = to_unsigned(a->c[2 * i]), t1 = to_unsigned(a->c[2 * i + 1]);

		r[3 * i] = (uint8_t)t0;
		r[3 * i + 1] = (uint8_t)((t0 >> 8) | (t1 << 4));
		r[3 * i + 2] = (uint8_t)(t1 >> 4);
	}
}

/* ByteDecode12 without the reduction mod q: coefficients in [0, 4095]. Keys
 * that passed the modulus check are below q; a decapsulation key is only
 * hash-checked, and values up to 4095 keep every bound in this file. */
static void poly_frombytes(struct poly *r, const uint8_t a[POLY_BYTES])
{
	int i;

	for (i = 0; i < N / 2; i++) {
		r->c[2 * i] = (int16_t)((a[3 * i] | (a[3 * i + 1] << 8)) & 0xfff);
		r->c[2 * i + 1] = (int16_t)(((a[3 * i + 1] >> 4) | (a[3 * i + 2] << 4)) & 0xfff);
	}
}

/*
 * Compress_d(x) = round(2^d x / q) mod 2^d for x in [0, q) (Equation 4.7).
 * round(y / q) = floor((y + 1664) / q) because q is odd, and the division
 * is a multiplication by ceil(2^35 / q) = 10321340 and a shift, exact for
 * y < 2^35 / (10321340 q - 2^35) (about 1.4e7); here y < 2^23.
 */
static inline uint32_t compress(int16_t x, unsigned int d)
{
	uint64_t y = ((uint64_t)to_unsigned(x) << d) + 1664;

	return (uint32_t)((y * 10321340) >> 35) & ((1u << d) - 1);
}

/* ByteEncode_d(Compress_d(a)) for d in 1..11; coefficients in (-q, q). The
 * byte loop depends on d only. */
static void poly_compress(uint8_t *out, const struct poly *a, unsigned int d)
{
	uint64_t acc = 0;
	unsigned int bits = 0;
	int i;

	for (i = 0; i < N; i++) {
		acc |= (uint64_t)compress(a->c[i], d) << bits;
		bits += d;
		while (bits >= 8) {
			*out++ = (uint8_t)acc;
			acc >>= 8;
			bits -= 8;
		}
	}
}

/* Decompress_d(ByteDecode_d(in)) = round(q y / 2^d) (Equation 4.8). Used on
 * ciphertexts only, which are public. */
static void poly_decompress(struct poly *r, const uint8_t *in, unsigned int d)
{
	uint64_t acc = 0;
	unsigned int bits = 0;
	int i;

	for (i = 0; i < N; i++) {
		uint32_t y;

		while (bits < d) {
			acc |= (uint64_t)*in++ << bits;
			bits += 8;
		}
		y = (uint32_t)acc & ((1u << d) - 1);
		acc >>= d;
		bits -= d;
		r->c[i] = (int16_t)((y * Q + (1u << (d - 1))) >> d);
	}
}

/* Decompress_1(ByteDecode_1(m)): each secret bit becomes 0 or 1665. */
static void poly_frommsg(struct poly *r, const uint8_t m[SYM])
{
	int i;

	for (i = 0; i < N; i++) {
		uint32_t bit = value_barrier((m[i >> 3] >> (i & 7)) & 1);

		r->c[i] = (int16_t)(-bit & (Q + 1) / 2);
	}
}

/* ByteEncode_1(Compress_1(a)); coefficients in (-q, q). */
static void poly_tomsg(uint8_t m[SYM], const struct poly *a)
{
	int i;

	memset(m, 0, SYM);
	for (i = 0; i < N; i++)
		m[i >> 3] |= (uint8_t)(compress(a->c[i], 1) << (i & 7));
}

/* ---- Sampling (FIPS 203 section 4.2.2) ----------------------------------- */

/* Coefficients below q taken from 12-bit pieces of buf (Algorithm 7's loop
 * body); returns how many were written, at most len. Public data only. */
static unsigned int rej_uniform(int16_t *r, unsigned int len, const uint8_t *buf, size_t n)
{
	unsigned int ctr = 0;
	size_t pos = 0;

	while (ctr < len && pos + 3 <= n) {
		uint16_t d1 = (uint16_t)((buf[pos] | (buf[pos + 1] << 8)) & 0xfff);
		uint16_t d2 = (uint16_t)((buf[pos + 1] >> 4) | (buf[pos + 2] << 4));

		pos += 3;
		if (d1 < Q)
			r[ctr++] = (int16_t)d1;
		if (d2 < Q && ctr < len)
			r[ctr++] = (int16_t)d2;
	}
	return ctr;
}

/*
 * SampleNTT(rho || x || y) (Algorithm 7). Three SHAKE128 blocks give 168
 * candidates for 256 coefficients with probability 1 - 2^-38 or so; the
 * loop then reads one block at a time (the CCTV "unlucky" vectors need it).
 */
static void sample_ntt(struct poly *a, const uint8_t rho[SYM], uint8_t x, uint8_t y)
{
	uint8_t buf[3 * CRY_SHAKE128_RATE], ij[2] = { x, y };
	struct cry_keccak xof;
	unsigned int ctr;

	cry_shake128_init(&xof);
	cry_keccak_absorb(&xof, rho, SYM);
	cry_keccak_absorb(&xof, ij, 2);
	cry_keccak_squeeze(&xof, buf, sizeof(buf));
	ctr = rej_uniform(a->c, N, buf, sizeof(buf));
	while (ctr < N) {
		cry_keccak_squeeze(&xof, buf, CRY_SHAKE128_RATE);
		ctr += rej_uniform(a->c + ctr, N - ctr, buf, CRY_SHAKE128_RATE);
	}
}

static inline uint32_t load24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static inline uint32_t load32(const uint8_t *p)
{
	return load24(p) | (uint32_t)p[3] << 24;
}

/* SamplePolyCBD_2 (Algorithm 8): each coefficient is (b0 + b1) - (b2 + b3)
 * of 4 consecutive bits; pairs are summed with one mask for 8 at a time. */
static void cbd2(struct poly *r, const uint8_t buf[128])
{
	int i, j;

	for (i = 0; i < N / 8; i++) {
		uint32_t t = load32(buf + 4 * i);
		uint32_t d = (t & 0x55555555) + ((t >> 1) & 0x55555555);

		for (j = 0; j < 8; j++) {
			int16_t a = (int16_t)((d >> (4 * j)) & 3);
			int16_t b = (int16_t)((d >> (4 * j + 2)) & 3);

			r->c[8 * i + j] = (int16_t)(a - b);
		}
	}
}

/* SamplePolyCBD_3: 6 bits per coefficient, 4 coefficients per 3 bytes. */
static void cbd3(struct poly *r, const uint8_t buf[192])
{
	int i, j;

	for (i = 0; i < N / 4; i++) {
		uint32_t t = load24(buf + 3 * i);
		uint32_t d = (t & 0x249249) + ((t >> 1) & 0x249249) + ((t >> 2) & 0x249249);

		for (j = 0; j < 4; j++) {
			int16_t a = (int16_t)((d >> (6 * j)) & 7);
			int16_t b = (int16_t)((d >> (6 * j + 3)) & 7);

			r->c[4 * i + j] = (int16_t)(a - b);
		}
	}
}

/* SamplePolyCBD_eta(PRF_eta(seed, nonce)), PRF = SHAKE256 (Equation 4.3). */
static void sample_cbd(struct poly *r, const uint8_t seed[SYM], uint8_t nonce, unsigned int eta)
{
	uint8_t buf[64 * 3];
	struct cry_keccak prf;

	cry_shake256_init(&prf);
	cry_keccak_absorb(&prf, seed, SYM);
	cry_keccak_absorb(&prf, &nonce, 1);
	cry_keccak_squeeze(&prf, buf, 64 * eta);
	if (eta == 2)
		cbd2(r, buf);
	else
		cbd3(r, buf);
	cry_keccak_wipe(&prf);
	cry_wipe(buf, sizeof(buf));
}

/*
 * r = sum_j A[i][j] * v[j] (NTT domain, times 2^-16), or A^T when
 * transposed. A[i][j] = SampleNTT(rho || j || i) is drawn on the fly, one
 * polynomial at a time, instead of storing the k x k matrix. The sum
 * reveals v before noise is added, so it is wiped.
 */
static void matrix_row_mul(struct poly *r, const uint8_t rho[SYM], unsigned int i,
			   const struct poly *v, const struct poly_cache *vz, unsigned int k,
			   int transposed)
{
	int32_t acc[N] = { 0 };
	struct poly a;
	unsigned int j;

	for (j = 0; j < k; j++) {
		if (transposed)
			sample_ntt(&a, rho, (uint8_t)i, (uint8_t)j);
		else
			sample_ntt(&a, rho, (uint8_t)j, (uint8_t)i);
		basemul_acc(acc, &a, &v[j], &vz[j]);
	}
	poly_from_acc(r, acc);
	cry_wipe(acc, sizeof(acc));
}

/* r = sum_j t[j] * v[j] with t decoded from ek (the ByteEncode12 part). */
static void inner_product_ek(struct poly *r, const uint8_t *ek, const struct poly *v,
			     const struct poly_cache *vz, unsigned int k)
{
	int32_t acc[N] = { 0 };
	struct poly t;
	unsigned int j;

	for (j = 0; j < k; j++) {
		poly_frombytes(&t, ek + POLY_BYTES * j);
		basemul_acc(acc, &t, &v[j], &vz[j]);
	}
	poly_from_acc(r, acc);
	cry_wipe(acc, sizeof(acc));
}

/* ---- K-PKE (FIPS 203 section 5) ----------------------------------------- */

/* K-PKE.KeyGen (Algorithm 13): ek and dk_PKE from the 32-byte seed d. */
static void kpke_keygen(const struct params *p, uint8_t *ek, uint8_t *dkpke, const uint8_t d[SYM])
{
	struct {
		uint8_t seed[SYM + 1];
		uint8_t rs[2 * SYM]; /* rho || sigma */
		struct poly s[K_MAX], e, t;
		struct poly_cache sz[K_MAX];
	} w;
	const uint8_t *rho = w.rs, *sigma = w.rs + SYM;
	unsigned int i, k = p->k;

	/* Final FIPS 203: G(d || k), so that one d gives unrelated keys per set. */
	memcpy(w.seed, d, SYM);
	w.seed[SYM] = (uint8_t)k;
	cry_sha3_512(w.rs, w.seed, sizeof(w.seed));
	declassify(w.rs, SYM); /* rho is published in ek */
	for (i = 0; i < k; i++) {
		sample_cbd(&w.s[i], sigma, (uint8_t)i, p->eta1);
		poly_ntt(&w.s[i]);
		poly_mulcache(&w.sz[i], &w.s[i]);
	}
	for (i = 0; i < k; i++) {
		sample_cbd(&w.e, sigma, (uint8_t)(k + i), p->eta1);
		poly_ntt(&w.e);
		matrix_row_mul(&w.t, rho, i, w.s, w.sz, k, 0);
		poly_tomont(&w.t);
		poly_add(&w.t, &w.e);
		poly_reduce(&w.t);
		poly_tobytes(ek + POLY_BYTES * i, &w.t);
		poly_tobytes(dkpke + POLY_BYTES * i, &w.s[i]);
	}
	memcpy(ek + POLY_BYTES * k, rho, SYM);
	cry_wipe(&w, sizeof(w));
}

/* K-PKE.Encrypt (Algorithm 14) of message m with randomness r under ek. */
static void kpke_encrypt(const struct params *p, uint8_t *c, const uint8_t *ek,
			 const uint8_t m[SYM], const uint8_t r[SYM])
{
	struct {
		struct poly y[K_MAX], e, u, mu;
		struct poly_cache yz[K_MAX];
	} w;
	const uint8_t *rho = ek + POLY_BYTES * p->k;
	unsigned int i, k = p->k;

	for (i = 0; i < k; i++) {
		sample_cbd(&w.y[i], r, (uint8_t)i, p->eta1);
		poly_ntt(&w.y[i]);
		poly_mulcache(&w.yz[i], &w.y[i]);
	}
	/* u = NTT^-1(A^T y) + e1, compressed to du bits */
	for (i = 0; i < k; i++) {
		matrix_row_mul(&w.u, rho, i, w.y, w.yz, k, 1);
		poly_invntt(&w.u);
		sample_cbd(&w.e, r, (uint8_t)(k + i), 2);
		poly_add(&w.u, &w.e);
		poly_reduce(&w.u);
		poly_compress(c + 32 * p->du * i, &w.u, p->du);
	}
	/* v = NTT^-1(t^T y) + e2 + Decompress_1(m), compressed to dv bits */
	inner_product_ek(&w.u, ek, w.y, w.yz, k);
	poly_invntt(&w.u);
	sample_cbd(&w.e, r, (uint8_t)(2 * k), 2);
	poly_frommsg(&w.mu, m);
	poly_add(&w.u, &w.e);
	poly_add(&w.u, &w.mu);
	poly_reduce(&w.u);
	poly_compress(c + 32 * p->du * k, &w.u, p->dv);
	cry_wipe(&w, sizeof(w));
}

/* K-PKE.Decrypt (Algorithm 15): m = Compress_1(v - NTT^-1(s^T NTT(u))). */
static void kpke_decrypt(const struct params *p, uint8_t m[SYM], const uint8_t *dkpke,
			 const uint8_t *c)
{
	struct {
		int32_t acc[N];
		struct poly u, s, w;
		struct poly_cache uz;
	} w;
	unsigned int i;

	memset(w.acc, 0, sizeof(w.acc));
	for (i = 0; i < p->k; i++) {
		poly_decompress(&w.u, c + 32 * p->du * i, p->du);
		poly_ntt(&w.u);
		poly_mulcache(&w.uz, &w.u);
		poly_frombytes(&w.s, dkpke + POLY_BYTES * i);
		basemul_acc(w.acc, &w.s, &w.u, &w.uz);
	}
	poly_from_acc(&w.w, w.acc);
	poly_invntt(&w.w);
	poly_decompress(&w.u, c + 32 * p->du * p->k, p->dv);
	poly_sub(&w.w, &w.u, &w.w);
	poly_reduce(&w.w);
	poly_tomsg(m, &w.w);
	cry_wipe(&w, sizeof(w));
}

/* ---- ML-KEM (FIPS 203 sections 6 and 7) --------------------------------- */

size_t cry_mlkem_ek_len(enum cry_mlkem_param p)
{
	const struct params *pp = get_params(p);

	return pp ? pp->ek : 0;
}

size_t cry_mlkem_dk_len(enum cry_mlkem_param p)
{
	const struct params *pp = get_params(p);

	return pp ? pp->dk : 0;
}

size_t cry_mlkem_ct_len(enum cry_mlkem_param p)
{
	const struct params *pp = get_params(p);

	return pp ? pp->ct : 0;
}

int cry_mlkem_keygen_derand(enum cry_mlkem_param p, uint8_t *ek, uint8_t *dk,
			    const uint8_t d[CRY_MLKEM_SEED], const uint8_t z[CRY_MLKEM_SEED])
{
	const struct params *pp = get_params(p);
	size_t pke = pp ? POLY_BYTES * pp->k : 0;

	if (!pp || !ek || !dk || !d || !z)
		return -EINVAL;
	/* Algorithm 16: dk = dk_PKE || ek || H(ek) || z */
	kpke_keygen(pp, ek, dk, d);
	memcpy(dk + pke, ek, pp->ek);
	cry_sha3_256(dk + pke + pp->ek, ek, pp->ek);
	memcpy(dk + pke + pp->ek + SYM, z, SYM);
	return 0;
}

int cry_mlkem_keygen(enum cry_mlkem_param p, uint8_t *ek, uint8_t *dk)
{
	uint8_t dz[2 * SYM];
	int ret = get_params(p) ? cry_random(dz, sizeof(dz)) : -EINVAL;

	if (!ret)
		ret = cry_mlkem_keygen_derand(p, ek, dk, dz, dz + SYM);
	cry_wipe(dz, sizeof(dz));
	return ret;
}

/* Modulus check (section 7.2): ByteEncode12(ByteDecode12(t)) == t holds
 * exactly when every 12-bit value is below q, which is what is tested. */
static int ek_modulus_ok(const struct params *p, const uint8_t *ek)
{
	size_t i;

	for (i = 0; i < POLY_BYTES * p->k; i += 3) {
		uint32_t d1 = (ek[i] | (uint32_t)ek[i + 1] << 8) & 0xfff;
		uint32_t d2 = (ek[i + 1] >> 4) | (uint32_t)ek[i + 2] << 4;

		if (d1 >= Q || d2 >= Q)
			return 0;
	}
	return 1;
}

int cry_mlkem_check_ek(enum cry_mlkem_param p, const uint8_t *ek, size_t eklen)
{
	const struct params *pp = get_params(p);

	if (!pp || !ek || eklen != pp->ek || !ek_modulus_ok(pp, ek))
		return -EINVAL;
	return 0;
}

int cry_mlkem_check_dk(enum cry_mlkem_param p, const uint8_t *dk, size_t dklen)
{
	const struct params *pp = get_params(p);
	const uint8_t *ek;
	uint8_t h[SYM];

	if (!pp || !dk || dklen != pp->dk)
		return -EINVAL;
	/* Hash check (section 7.3): H(ek) as stored after ek. Both are public. */
	ek = dk + POLY_BYTES * pp->k;
	cry_sha3_256(h, ek, pp->ek);
	return cry_memeq(h, ek + pp->ek, SYM) ? 0 : -EINVAL;
}

int cry_mlkem_encaps_derand(enum cry_mlkem_param p, uint8_t *c, uint8_t k[CRY_MLKEM_SS],
			    const uint8_t *ek, size_t eklen, const uint8_t m[CRY_MLKEM_SEED])
{
	const struct params *pp = get_params(p);
	uint8_t in[2 * SYM], kr[2 * SYM]; /* m || H(ek), then K || r */
	int ret;

	ret = cry_mlkem_check_ek(p, ek, eklen);
	if (ret || !c || !k || !m)
		return ret ? ret : -EINVAL;
	/* Algorithm 17: (K, r) = G(m || H(ek)), c = K-PKE.Encrypt(ek, m, r) */
	memcpy(in, m, SYM);
	cry_sha3_256(in + SYM, ek, pp->ek);
	cry_sha3_512(kr, in, sizeof(in));
	kpke_encrypt(pp, c, ek, m, kr + SYM);
	memcpy(k, kr, CRY_MLKEM_SS);
	cry_wipe(in, sizeof(in));
	cry_wipe(kr, sizeof(kr));
	return 0;
}

int cry_mlkem_encaps(enum cry_mlkem_param p, uint8_t *c, uint8_t k[CRY_MLKEM_SS], const uint8_t *ek,
		     size_t eklen)
{
	uint8_t m[SYM];
	int ret = cry_random(m, sizeof(m));

	if (!ret)
		ret = cry_mlkem_encaps_derand(p, c, k, ek, eklen, m);
	cry_wipe(m, sizeof(m));
	return ret;
}

/* K = (c == c2) ? k_good : k_bad, as a mask: the time and the memory
 * accessed do not depend on which key is taken. */
static void select_key(uint8_t k[SYM], const uint8_t *k_good, const uint8_t *k_bad,
		       const uint8_t *c, const uint8_t *c2, size_t clen)
{
	uint8_t bad = (uint8_t)value_barrier((uint32_t)cry_memeq(c, c2, clen) - 1);
	int i;

	for (i = 0; i < SYM; i++)
		k[i] = (uint8_t)(k_good[i] ^ (bad & (k_good[i] ^ k_bad[i])));
}

int cry_mlkem_decaps(enum cry_mlkem_param p, uint8_t k[CRY_MLKEM_SS], const uint8_t *dk,
		     size_t dklen, const uint8_t *c, size_t clen)
{
	const struct params *pp = get_params(p);
	struct {
		uint8_t in[2 * SYM]; /* m' || h */
		uint8_t kr[2 * SYM]; /* K' || r' */
		uint8_t kbar[SYM];
		uint8_t c2[CRY_MLKEM_CT_MAX];
		struct cry_keccak j;
	} w;
	const uint8_t *ek, *h, *z;
	int ret;

	ret = cry_mlkem_check_dk(p, dk, dklen);
	if (ret || !k || !c || clen != pp->ct)
		return ret ? ret : -EINVAL;
	ek = dk + POLY_BYTES * pp->k;
	h = ek + pp->ek;
	z = h + SYM;
	/* Algorithm 18 */
	kpke_decrypt(pp, w.in, dk, c);
	memcpy(w.in + SYM, h, SYM);
	cry_sha3_512(w.kr, w.in, sizeof(w.in));
	/* K-bar = J(z || c) = SHAKE256(z || c, 32) */
	cry_shake256_init(&w.j);
	cry_keccak_absorb(&w.j, z, SYM);
	cry_keccak_absorb(&w.j, c, clen);
	cry_keccak_squeeze(&w.j, w.kbar, SYM);
	kpke_encrypt(pp, w.c2, ek, w.in, w.kr + SYM);
	select_key(k, w.kr, w.kbar, c, w.c2, clen);
	cry_wipe(&w, sizeof(w));
	return 0;
}
