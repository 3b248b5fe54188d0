// SPDX-License-Identifier: GPL-2.0-only
/*
 * Known-answer tests of the OpenSSL wrappers and small in-house pieces:
 * ChaCha20-Poly1305 (RFC 8439), HChaCha20 and XChaCha20-Poly1305
 * (draft-irtf-cfrg-xchacha-03), X25519 (RFC 7748), Ed25519 (RFC 8032),
 * constant-time helpers and wg(8)-compatible key text.
 */
#include <errno.h>
#include <unistd.h>

#include "crypto/aead.h"
#include "crypto/ct.h"
#include "crypto/keys.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "test.h"

static uint8_t *h_pool[64];
static size_t h_count;

static void h_free_all(void)
{
	while (h_count)
		free(h_pool[--h_count]);
}

/* Decoded test inputs live until exit, so the tables stay short. */
static uint8_t *H(const char *hex)
{
	uint8_t *p = t_unhex(hex, NULL);

	if (!h_count)
		atexit(h_free_all);
	if (h_count < SC_ARRAY_SIZE(h_pool))
		h_pool[h_count++] = p;
	return p;
}

static const char sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
	"the future, sunscreen would be it.";

/* RFC 8439 section 2.8.2. */
static void test_chacha20poly1305_rfc8439(void)
{
	const uint8_t *key = H("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	const uint8_t *nonce = H("070000004041424344454647");
	const uint8_t *aad = H("50515253c0c1c2c3c4c5c6c7");
	const uint8_t *want = H("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
				"3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
				"92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
				"3ff4def08e4b7a9de576d26586cec64b6116"
				"1ae10b594f09e26a7e902ecbd0600691");
	size_t n = strlen(sunscreen);
	struct cry_aead *a = cry_aead_new();
	uint8_t out[200], back[200];

	CHECK(a != NULL);
	CHECK_EQ(cry_aead_seal_nonce(a, key, nonce, aad, 12, sunscreen, n, out), 0);
	CHECK_MEM(out, want, n + 16);
	CHECK_EQ(cry_aead_open_nonce(a, key, nonce, aad, 12, out, n + 16, back), 0);
	CHECK_MEM(back, sunscreen, n);

	/* In place. */
	memcpy(back, out, n + 16);
	CHECK_EQ(cry_aead_open_nonce(a, key, nonce, aad, 12, back, n + 16, back), 0);
	CHECK_MEM(back, sunscreen, n);

	/* Any flipped bit of ciphertext, tag or AD is refused. */
	out[5] ^= 1;
	CHECK_EQ(cry_aead_open_nonce(a, key, nonce, aad, 12, out, n + 16, back), -EBADMSG);
	out[5] ^= 1;
	out[n + 3] ^= 0x80;
	CHECK_EQ(cry_aead_open_nonce(a, key, nonce, aad, 12, out, n + 16, back), -EBADMSG);
	out[n + 3] ^= 0x80;
	CHECK_EQ(cry_aead_open_nonce(a, key, nonce, aad, 11, out, n + 16, back), -EBADMSG);
	CHECK_EQ(cry_aead_open_nonce(a, key, nonce, aad, 12, out, 15, back), -EINVAL);
	cry_aead_free(a);
}

/* WireGuard's nonce layout: 4 zero bytes, then the counter little-endian. */
static void test_counter_nonce(void)
{
	uint8_t key[32] = { 7 }, nonce[12] = { 0 }, a1[32], a2[32];
	struct cry_aead *a = cry_aead_new();
	uint64_t counter = 0x0102030405060708ull;
	int i;

	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
	CHECK_EQ(cry_aead_seal(a, key, counter, NULL, 0, "0123456789abcdef", 16, a1), 0);
	CHECK_EQ(cry_aead_seal_nonce(a, key, nonce, NULL, 0, "0123456789abcdef", 16, a2), 0);
	CHECK_MEM(a1, a2, 32);
	/* An empty plaintext (a WireGuard keepalive) is just a tag. */
	CHECK_EQ(cry_aead_seal(a, key, 1, NULL, 0, NULL, 0, a1), 0);
	CHECK_EQ(cry_aead_open(a, key, 1, NULL, 0, a1, 16, a2), 0);
	CHECK_EQ(cry_aead_open(a, key, 2, NULL, 0, a1, 16, a2), -EBADMSG);
	cry_aead_free(a);
}

/* draft-irtf-cfrg-xchacha-03 section 2.2.1. */
static void test_hchacha20(void)
{
	const uint8_t *key = H("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	const uint8_t *in = H("000000090000004a0000000031415927");
	const uint8_t *want = H("82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc");
	uint8_t out[32];

	cry_hchacha20(out, key, in);
	CHECK_MEM(out, want, 32);
}

/* draft-irtf-cfrg-xchacha-03 appendix A.3.1. */
static void test_xchacha20poly1305(void)
{
	const uint8_t *key = H("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	const uint8_t *nonce = H("404142434445464748494a4b4c4d4e4f5051525354555657");
	const uint8_t *aad = H("50515253c0c1c2c3c4c5c6c7");
	const uint8_t *want = H("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
				"731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
				"2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
				"21f9664c97637da9768812f615c68b13b52e"
				"c0875924c1c7987947deafd8780acf49");
	size_t n = strlen(sunscreen);
	struct cry_aead *a = cry_aead_new();
	uint8_t out[200], back[200];

	CHECK_EQ(cry_xaead_seal(a, key, nonce, aad, 12, sunscreen, n, out), 0);
	CHECK_MEM(out, want, n + 16);
	CHECK_EQ(cry_xaead_open(a, key, nonce, aad, 12, out, n + 16, back), 0);
	CHECK_MEM(back, sunscreen, n);
	out[0] ^= 1;
	CHECK_EQ(cry_xaead_open(a, key, nonce, aad, 12, out, n + 16, back), -EBADMSG);
	cry_aead_free(a);
}

/* RFC 7748 sections 5.2 and 6.1. */
static void test_x25519_rfc7748(void)
{
	const uint8_t *k = H("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
	const uint8_t *u = H("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
	const uint8_t *r = H("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	const uint8_t *a = H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	const uint8_t *ap = H("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	const uint8_t *b = H("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	const uint8_t *bp = H("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	const uint8_t *s = H("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	uint8_t out[32];

	CHECK_EQ(cry_x25519(out, k, u), 0);
	CHECK_MEM(out, r, 32);
	CHECK_EQ(cry_x25519_pubkey(out, a), 0);
	CHECK_MEM(out, ap, 32);
	CHECK_EQ(cry_x25519_pubkey(out, b), 0);
	CHECK_MEM(out, bp, 32);
	CHECK_EQ(cry_x25519(out, a, bp), 0);
	CHECK_MEM(out, s, 32);
	CHECK_EQ(cry_x25519(out, b, ap), 0);
	CHECK_MEM(out, s, 32);
}

/* Low-order points give an all-zero secret, which must be refused. */
static void test_x25519_rejects_zero(void)
{
	static const char *low_order[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t priv[32], pub[32], out[32];
	size_t i;

	CHECK_EQ(cry_x25519_genkey(priv, pub), 0);
	for (i = 0; i < SC_ARRAY_SIZE(low_order); i++) {
		memset(out, 0x55, sizeof(out));
		CHECK_EQ(cry_x25519(out, priv, H(low_order[i])), -EINVAL);
		CHECK(out[0] == 0x55 && out[31] == 0x55);
		CHECK_EQ(cry_x25519_kp(out, priv, pub, H(low_order[i])), -EINVAL);
		CHECK(out[0] == 0x55 && out[31] == 0x55);
	}
}

static void test_x25519_genkey(void)
{
	uint8_t a[32], ap[32], b[32], bp[32], s1[32], s2[32], p[32];

	CHECK_EQ(cry_x25519_genkey(a, ap), 0);
	CHECK_EQ(cry_x25519_genkey(b, bp), 0);
	CHECK((a[0] & 7) == 0 && (a[31] & 0xc0) == 0x40);
	CHECK_EQ(cry_x25519_pubkey(p, a), 0);
	CHECK_MEM(p, ap, 32);
	CHECK_EQ(cry_x25519(s1, a, bp), 0);
	CHECK_EQ(cry_x25519(s2, b, ap), 0);
	CHECK_MEM(s1, s2, 32);
	CHECK(!cry_memeq(a, b, 32));
	/* With the own public key given, the same secret. */
	for (int i = 0; i < 16; i++) {
		CHECK_EQ(cry_x25519_genkey(a, ap), 0);
		CHECK_EQ(cry_x25519(s1, a, bp), 0);
		memset(s2, 0, sizeof(s2));
		CHECK_EQ(cry_x25519_kp(s2, a, ap, bp), 0);
		CHECK_MEM(s1, s2, 32);
	}
}

/* RFC 8032 section 7.1, tests 1 and 2. */
static void test_ed25519_rfc8032(void)
{
	static const struct {
		const char *seed, *pub, *msg, *sig;
	} v[] = {
		{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
		  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
		{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
		  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
		  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	};
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(v); i++) {
		size_t mlen;
		uint8_t *msg = t_unhex(v[i].msg, &mlen);
		uint8_t pub[32], sig[64];

		CHECK_EQ(cry_ed25519_pubkey(pub, H(v[i].seed)), 0);
		CHECK_MEM(pub, H(v[i].pub), 32);
		CHECK_EQ(cry_ed25519_sign(sig, H(v[i].seed), msg, mlen), 0);
		CHECK_MEM(sig, H(v[i].sig), 64);
		CHECK_EQ(cry_ed25519_verify(sig, pub, msg, mlen), 0);
		sig[10] ^= 4;
		CHECK_EQ(cry_ed25519_verify(sig, pub, msg, mlen), -EBADMSG);
		sig[10] ^= 4;
		CHECK_EQ(cry_ed25519_verify(sig, pub, "x", 1), -EBADMSG);
		free(msg);
	}
}

static void test_ed25519_genkey(void)
{
	uint8_t seed[32], pub[32], other[32], sig[64];

	CHECK_EQ(cry_ed25519_genkey(seed, pub), 0);
	CHECK_EQ(cry_ed25519_sign(sig, seed, "scope", 5), 0);
	CHECK_EQ(cry_ed25519_verify(sig, pub, "scope", 5), 0);
	CHECK_EQ(cry_ed25519_genkey(seed, other), 0);
	CHECK_EQ(cry_ed25519_verify(sig, other, "scope", 5), -EBADMSG);
}

static void test_ct(void)
{
	uint8_t a[64], b[64];
	size_t i;

	CHECK_EQ(cry_random(a, sizeof(a)), 0);
	memcpy(b, a, sizeof(a));
	CHECK_EQ(cry_memeq(a, b, sizeof(a)), 1);
	for (i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		CHECK_EQ(cry_memeq(a, b, sizeof(a)), 0);
		b[i] ^= 0x80;
	}
	CHECK_EQ(cry_memeq(a, b, 0), 1);
	memset(a, 0, sizeof(a));
	CHECK_EQ(cry_is_zero(a, sizeof(a)), 1);
	a[63] = 1;
	CHECK_EQ(cry_is_zero(a, sizeof(a)), 0);
	cry_wipe(b, sizeof(b));
	CHECK_EQ(cry_is_zero(b, sizeof(b)), 1);
}

static void test_random(void)
{
	uint8_t a[32], b[32];

	CHECK_EQ(cry_random(a, sizeof(a)), 0);
	CHECK_EQ(cry_random(b, sizeof(b)), 0);
	CHECK(!cry_memeq(a, b, 32));
	CHECK(!cry_is_zero(a, 32));
}

static void test_key_text(void)
{
	uint8_t k[32], back[32];
	char b64[45], hex[65];

	CHECK_EQ(cry_random(k, sizeof(k)), 0);
	cry_key_to_b64(b64, k);
	CHECK_EQ(strlen(b64), 44);
	CHECK(b64[43] == '=');
	CHECK_EQ(cry_key_from_b64(back, b64), 0);
	CHECK_MEM(back, k, 32);
	cry_key_to_hex(hex, k);
	CHECK_EQ(cry_key_from_hex(back, hex), 0);
	CHECK_MEM(back, k, 32);
	/* wg(8) refuses anything but exactly 44 canonical characters. */
	CHECK_EQ(cry_key_from_b64(back, "AAAA"), -EINVAL);
	b64[44] = 'A';
	CHECK_EQ(cry_key_from_b64(back, b64), -EINVAL);
	CHECK_EQ(cry_key_from_b64(back, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB="), -EINVAL);
}

/* Run "wg pubkey" with key on stdin; returns 0 and the printed key, or -1. */
static int wg_pubkey(const char *priv_b64, char out[45])
{
	char cmd[160];
	FILE *p;
	int ok;

	snprintf(cmd, sizeof(cmd), "printf '%%s\\n' '%s' | wg pubkey", priv_b64);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	ok = fgets(out, 45, p) != NULL;
	return (pclose(p) == 0 && ok) ? 0 : -1;
}

/* The key text is wg(8)'s: a key Scope makes gives the same public key under
 * `wg pubkey`, and a key `wg genkey` makes gives the same under Scope. */
static void test_wg_tool_interop(void)
{
	uint8_t priv[32], pub[32];
	char priv_b64[45], pub_b64[45], wg_out[45];
	FILE *p;
	int i;

	if (system("command -v wg >/dev/null 2>&1") != 0) {
		t_skip("wg (wireguard-tools) not installed");
		return;
	}
	for (i = 0; i < 8; i++) {
		CHECK_EQ(cry_x25519_genkey(priv, pub), 0);
		cry_key_to_b64(priv_b64, priv);
		cry_key_to_b64(pub_b64, pub);
		CHECK_EQ(wg_pubkey(priv_b64, wg_out), 0);
		CHECK(strcmp(wg_out, pub_b64) == 0);
	}
	p = popen("wg genkey", "r");
	CHECK(p && fgets(priv_b64, sizeof(priv_b64), p));
	if (p)
		pclose(p);
	CHECK_EQ(cry_key_from_b64(priv, priv_b64), 0);
	CHECK_EQ(cry_x25519_pubkey(pub, priv), 0);
	cry_key_to_b64(pub_b64, pub);
	CHECK_EQ(wg_pubkey(priv_b64, wg_out), 0);
	CHECK(strcmp(wg_out, pub_b64) == 0);
	cry_wipe(priv, sizeof(priv));
	cry_wipe(priv_b64, sizeof(priv_b64));
}

static const struct t_case cases[] = {
	T(test_chacha20poly1305_rfc8439),
	T(test_counter_nonce),
	T(test_hchacha20),
	T(test_xchacha20poly1305),
	T(test_x25519_rfc7748),
	T(test_x25519_rejects_zero),
	T(test_x25519_genkey),
	T(test_ed25519_rfc8032),
	T(test_ed25519_genkey),
	T(test_ct),
	T(test_random),
	T(test_key_text),
	T(test_wg_tool_interop),
};

int main(void)
{
	return t_main("crypto-primitives", cases, SC_ARRAY_SIZE(cases));
}
