// SPDX-License-Identifier: GPL-2.0-only
#include "common/encode.h"

#include <errno.h>
#include <string.h>

/*
 * Branch-free helpers: each maps one 6-bit (or 4-bit) value to or from its
 * character with arithmetic on masks, so the work done does not depend on
 * the secret value.
 */

/* All ones if a < b (a, b < 2^31), else 0. */
static unsigned int ct_lt(unsigned int a, unsigned int b)
{
	return 0u - ((a - b) >> 31);
}

/* All ones if lo <= x <= hi. */
static unsigned int ct_in(unsigned int x, unsigned int lo, unsigned int hi)
{
	return ~ct_lt(x, lo) & ~ct_lt(hi, x);
}

static char b64_char(unsigned int v)
{
	unsigned int c = 0;

	c |= ct_lt(v, 26) & (v + 'A');
	c |= ct_in(v, 26, 51) & (v - 26 + 'a');
	c |= ct_in(v, 52, 61) & (v - 52 + '0');
	c |= ct_in(v, 62, 62) & '+';
	c |= ct_in(v, 63, 63) & '/';
	return (char)c;
}

/* Returns the 6-bit value of c, or 0xff... (bit 8 set) if c is not base64. */
static unsigned int b64_val(unsigned int c)
{
	unsigned int v = 0, ok = 0, m;

	m = ct_in(c, 'A', 'Z');
	v |= m & (c - 'A');
	ok |= m;
	m = ct_in(c, 'a', 'z');
	v |= m & (c - 'a' + 26);
	ok |= m;
	m = ct_in(c, '0', '9');
	v |= m & (c - '0' + 52);
	ok |= m;
	m = ct_in(c, '+', '+');
	v |= m & 62;
	ok |= m;
	m = ct_in(c, '/', '/');
	v |= m & 63;
	ok |= m;
	return v | (~ok & 0x100);
}

void sc_b64_encode(char *out, const uint8_t *in, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		unsigned int w =
			(unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64_char((w >> 18) & 63);
		out[o++] = b64_char((w >> 12) & 63);
		out[o++] = b64_char((w >> 6) & 63);
		out[o++] = b64_char(w & 63);
	}
	if (n - i == 1) {
		unsigned int w = (unsigned int)in[i] << 16;

		out[o++] = b64_char((w >> 18) & 63);
		out[o++] = b64_char((w >> 12) & 63);
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		unsigned int w = (unsigned int)in[i] << 16 | (unsigned int)in[i + 1] << 8;

		out[o++] = b64_char((w >> 18) & 63);
		out[o++] = b64_char((w >> 12) & 63);
		out[o++] = b64_char((w >> 6) & 63);
		out[o++] = '=';
	}
	out[o] = '\0';
}

int sc_b64_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen)
{
	uint8_t tmp[3];
	unsigned int bad = 0;
	size_t i, o = 0, pad = (3 - outlen % 3) % 3;

	if (inlen != SC_B64_LEN(outlen))
		return -EINVAL;
	/* First pass validates everything, so the output is written only on success. */
	for (i = 0; i < inlen; i += 4) {
		unsigned int w = 0, k;
		size_t q = (i + 4 == inlen) ? pad : 0;

		for (k = 0; k < 4; k++) {
			unsigned int c = (unsigned char)in[i + k];
			unsigned int v = (k >= 4 - q) ? (c == '=' ? 0 : 0x100) : b64_val(c);

			bad |= v & 0x100;
			w = w << 6 | (v & 63);
		}
		/* Non-canonical: bits under the padding must be zero. */
		if (q == 1)
			bad |= w & 0xff;
		else if (q == 2)
			bad |= w & 0xffff;
	}
	if (bad)
		return -EINVAL;
	for (i = 0; i < inlen; i += 4) {
		unsigned int w = 0, k;

		for (k = 0; k < 4; k++)
			w = w << 6 | (b64_val((unsigned char)in[i + k]) & 63);
		tmp[0] = (uint8_t)(w >> 16);
		tmp[1] = (uint8_t)(w >> 8);
		tmp[2] = (uint8_t)w;
		for (k = 0; k < 3 && o < outlen; k++)
			out[o++] = tmp[k];
	}
	memset(tmp, 0, sizeof(tmp));
	__asm__ __volatile__("" : : "r"(tmp) : "memory");
	return 0;
}

static char hex_char(unsigned int v)
{
	/* 0..9 -> '0'..'9', 10..15 -> 'a'..'f' */
	return (char)(v + '0' + (ct_lt(9, v) & ('a' - '0' - 10)));
}

static unsigned int hex_val(unsigned int c)
{
	unsigned int v = 0, ok = 0, m;

	m = ct_in(c, '0', '9');
	v |= m & (c - '0');
	ok |= m;
	m = ct_in(c, 'a', 'f');
	v |= m & (c - 'a' + 10);
	ok |= m;
	m = ct_in(c, 'A', 'F');
	v |= m & (c - 'A' + 10);
	ok |= m;
	return v | (~ok & 0x100);
}

void sc_hex_encode(char *out, const uint8_t *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex_char(in[i] >> 4);
		out[2 * i + 1] = hex_char(in[i] & 15);
	}
	out[2 * n] = '\0';
}

int sc_hex_decode(uint8_t *out, size_t outlen, const char *in, size_t inlen)
{
	unsigned int bad = 0;
	size_t i;

	if (inlen != 2 * outlen)
		return -EINVAL;
	for (i = 0; i < inlen; i++)
		bad |= hex_val((unsigned char)in[i]) & 0x100;
	if (bad)
		return -EINVAL;
	for (i = 0; i < outlen; i++)
		out[i] = (uint8_t)(hex_val((unsigned char)in[2 * i]) << 4 |
				   hex_val((unsigned char)in[2 * i + 1]));
	return 0;
}
