// SPDX-License-Identifier: GPL-2.0-only
#include "proto/sigreq.h"

#include <stdio.h>
#include <string.h>

#include "common/compiler.h"
#include "common/encode.h"
#include "common/parse.h"
#include "crypto/keccak.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "proto/addr.h"

#define DIGEST_HEX (2 * 32)
/* label, network, method, path, digest, timestamp, nonce, key; 7 LFs */
#define CANON_MAX                                                                       \
	(sizeof(PROTO_SIGREQ_LABEL) + PROTO_NET_NAME_MAX + PROTO_SIGREQ_METHOD_MAX +    \
	 PROTO_SIGREQ_PATH_MAX + DIGEST_HEX + 20 + SC_B64_LEN(PROTO_SIGREQ_NONCE_LEN) + \
	 CRY_KEY_B64_LEN + 8)

_Static_assert(sizeof(((struct proto_sigreq_hdr *)0)->nonce) ==
		       SC_B64_LEN(PROTO_SIGREQ_NONCE_LEN) + 1,
	       "nonce header size");
_Static_assert(sizeof(((struct proto_sigreq_hdr *)0)->signature) == SC_B64_LEN(PROTO_SIG_LEN) + 1,
	       "signature header size");

static bool method_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > PROTO_SIGREQ_METHOD_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

/* Printable ASCII without spaces: no line break can be smuggled into the
 * canonical string, so its fields cannot be shifted. */
static bool path_ok(const char *s)
{
	size_t i, n = strnlen(s, PROTO_SIGREQ_PATH_MAX + 1);

	if (n < 1 || n > PROTO_SIGREQ_PATH_MAX || s[0] != '/')
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

static bool msg_ok(const struct proto_sigreq_msg *m)
{
	return m->network && m->method && m->path &&
	       proto_net_name_valid(m->network, strnlen(m->network, PROTO_NET_NAME_MAX + 1)) &&
	       method_ok(m->method) && path_ok(m->path) && (m->body || !m->body_len);
}

/* The canonical string into out[CANON_MAX]; its length. */
static size_t canon(char *out, const struct proto_sigreq_msg *m, uint64_t ts,
		    const uint8_t nonce[PROTO_SIGREQ_NONCE_LEN], const uint8_t key[PROTO_KEY_LEN])
{
	uint8_t digest[32];
	char dhex[DIGEST_HEX + 1], nb64[SC_B64_LEN(PROTO_SIGREQ_NONCE_LEN) + 1];
	char kb64[CRY_KEY_B64_LEN + 1];
	int n;

	cry_sha3_256(digest, m->body ? m->body : "", m->body_len);
	sc_hex_encode(dhex, digest, sizeof(digest));
	sc_b64_encode(nb64, nonce, PROTO_SIGREQ_NONCE_LEN);
	cry_key_to_b64(kb64, key);
	n = snprintf(out, CANON_MAX, "%s\n%s\n%s\n%s\n%s\n%llu\n%s\n%s", PROTO_SIGREQ_LABEL,
		     m->network, m->method, m->path, dhex, (unsigned long long)ts, nb64, kb64);
	return n < 0 ? 0 : SC_MIN((size_t)n, (size_t)CANON_MAX - 1);
}

int proto_sigreq_sign(struct proto_sigreq_hdr *out, const uint8_t seed[32],
		      const struct proto_sigreq_msg *msg, uint64_t now,
		      const uint8_t nonce[PROTO_SIGREQ_NONCE_LEN])
{
	struct proto_sigreq_hdr h;
	uint8_t pub[PROTO_KEY_LEN], sig[PROTO_SIG_LEN];
	char c[CANON_MAX];
	size_t n;
	int ret;

	if (!msg_ok(msg))
		return -EINVAL;
	ret = cry_ed25519_pubkey(pub, seed);
	if (ret)
		return ret;
	n = canon(c, msg, now, nonce, pub);
	ret = cry_ed25519_sign(sig, seed, c, n);
	if (ret)
		return ret;
	cry_key_to_b64(h.key, pub);
	snprintf(h.timestamp, sizeof(h.timestamp), "%llu", (unsigned long long)now);
	sc_b64_encode(h.nonce, nonce, PROTO_SIGREQ_NONCE_LEN);
	sc_b64_encode(h.signature, sig, PROTO_SIG_LEN);
	*out = h;
	return 0;
}

static int b64_exact(uint8_t *out, size_t outlen, const char *s)
{
	size_t n = strnlen(s, SC_B64_LEN(outlen) + 1);

	if (n != SC_B64_LEN(outlen))
		return -EINVAL;
	return sc_b64_decode(out, outlen, s, n);
}

int proto_sigreq_verify(const struct proto_sigreq_in *hdr, const struct proto_sigreq_msg *msg,
			uint64_t now, uint64_t window, uint8_t signer[PROTO_KEY_LEN],
			uint8_t replay_id[PROTO_SIGREQ_ID_LEN])
{
	uint8_t key[PROTO_KEY_LEN], nonce[PROTO_SIGREQ_NONCE_LEN], sig[PROTO_SIG_LEN];
	char c[CANON_MAX];
	uint64_t ts;
	size_t n;

	if (!hdr->key || !hdr->timestamp || !hdr->nonce || !hdr->signature || !msg_ok(msg))
		return -EINVAL;
	if (strnlen(hdr->timestamp, 21) > 20 || sc_parse_u64(hdr->timestamp, 0, UINT64_MAX, &ts) ||
	    b64_exact(key, sizeof(key), hdr->key) || b64_exact(nonce, sizeof(nonce), hdr->nonce) ||
	    b64_exact(sig, sizeof(sig), hdr->signature))
		return -EINVAL;
	if ((ts > now ? ts - now : now - ts) > window)
		return PROTO_ERR_STALE;
	n = canon(c, msg, ts, nonce, key);
	if (cry_ed25519_verify(sig, key, c, n))
		return PROTO_ERR_SIG;
	if (signer)
		memcpy(signer, key, sizeof(key));
	if (replay_id)
		cry_sha3_256(replay_id, c, n);
	return 0;
}
