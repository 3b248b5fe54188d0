// SPDX-License-Identifier: GPL-2.0-only
/*
 * STUN: the RFC 5769 sample messages read in place from
 * ../shared/vectors/stun/rfc5769.txt, HMAC-SHA1 against RFC 2202, the
 * builders, the refusals, and the responder round trip.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "crypto/hmac_sha1.h"
#include "proto/stun.h"
#include "test.h"

/* ---- the vector file: "key: value" records separated by blank lines ---- */

static char *vec_text;

static const char *vec_load(void)
{
	const char *path = t_vector("stun/rfc5769.txt");

	if (!path)
		return NULL;
	if (!vec_text)
		vec_text = t_slurp(path, NULL);
	CHECK(vec_text != NULL);
	return vec_text;
}

/* The value of key in record name, as a fresh string, or NULL. */
static char *vec_get(const char *name, const char *key)
{
	char pat[128];
	const char *rec, *end, *p, *q;

	if (!vec_text)
		return NULL;
	snprintf(pat, sizeof(pat), "vector: %s\n", name);
	rec = strstr(vec_text, pat);
	if (!rec)
		return NULL;
	end = strstr(rec, "\n\n");
	snprintf(pat, sizeof(pat), "\n%s: ", key);
	p = strstr(rec, pat);
	if (!p || (end && p > end))
		return NULL;
	p += strlen(pat);
	q = strchr(p, '\n');
	return strndup(p, q ? (size_t)(q - p) : strlen(p));
}

static uint8_t *vec_hex(const char *name, const char *key, size_t *len)
{
	char *hex = vec_get(name, key);
	uint8_t *out = hex ? t_unhex(hex, len) : NULL;

	free(hex);
	return out;
}

static const char *const vec_names[] = {
	"rfc5769-2.1-sample-request",
	"rfc5769-2.2-sample-ipv4-response",
	"rfc5769-2.3-sample-ipv6-response",
	"rfc5769-2.4-sample-request-long-term-auth",
};

/* ---- helpers ---- */

static const uint8_t txid_a[STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const uint8_t zeros[STUN_MSG_MAX];

static int addr_eq(const struct stun_addr *a, const struct stun_addr *b)
{
	size_t n = a->family == STUN_FAMILY_IPV6 ? 16 : 4;

	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, n);
}

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	CHECK(inet_pton(AF_INET, ip, &a.sin_addr) == 1);
	return a;
}

static struct sockaddr_in6 sin6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	CHECK(inet_pton(AF_INET6, ip, &a.sin6_addr) == 1);
	return a;
}

static void put_attr(uint8_t *msg, size_t *len, uint16_t type, const void *v, uint16_t n)
{
	msg[*len] = (uint8_t)(type >> 8);
	msg[*len + 1] = (uint8_t)type;
	msg[*len + 2] = (uint8_t)(n >> 8);
	msg[*len + 3] = (uint8_t)n;
	if (n)
		memcpy(msg + *len + 4, v, n);
	memset(msg + *len + 4 + n, 0, (4 - n % 4) % 4);
	*len += 4 + n + (4 - n % 4) % 4;
}

/* A header for a message of body bytes, type given, cookie, txid_a. */
static void put_hdr(uint8_t *msg, uint16_t type, size_t body)
{
	msg[0] = (uint8_t)(type >> 8);
	msg[1] = (uint8_t)type;
	msg[2] = (uint8_t)(body >> 8);
	msg[3] = (uint8_t)body;
	msg[4] = 0x21;
	msg[5] = 0x12;
	msg[6] = 0xA4;
	msg[7] = 0x42;
	memcpy(msg + 8, txid_a, STUN_TXID_LEN);
}

static void fix_len(uint8_t *msg, size_t len)
{
	msg[2] = (uint8_t)((len - STUN_HDR_LEN) >> 8);
	msg[3] = (uint8_t)(len - STUN_HDR_LEN);
}

/* ---- CRC-32 and HMAC-SHA1 ---- */

static void test_crc32_check_value(void)
{
	/* The CRC catalogue's check value for CRC-32/ISO-HDLC. */
	CHECK_EQ(stun_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
	CHECK_EQ(stun_crc32(NULL, 0), 0);
	CHECK_EQ(stun_crc32((const uint8_t *)"a", 1), 0xE8B7BE43u);
}

static void test_hmac_sha1_rfc2202(void)
{
	static const struct {
		const char *key_hex, *data, *mac_hex;
	} v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		  "b617318655057264e28bc0b6fb378c8ef146be00" },
		{ "4a656665", "what do ya want for nothing?",
		  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
		/* 80-byte key: longer than the block, hashed first. */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "a",
		  "Test Using Larger Than Block-Size Key - Hash Key First",
		  "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	};
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(v); i++) {
		size_t klen, mlen, dlen = strlen(v[i].data);
		uint8_t *key = t_unhex(v[i].key_hex, &klen), *mac = t_unhex(v[i].mac_hex, &mlen);
		uint8_t out[CRY_SHA1_LEN], out2[CRY_SHA1_LEN];

		CHECK(key && mac && mlen == CRY_SHA1_LEN);
		CHECK_EQ(cry_hmac_sha1(key, klen, v[i].data, dlen, NULL, 0, out), 0);
		CHECK_MEM(out, mac, CRY_SHA1_LEN);
		/* The split point must not matter. */
		CHECK_EQ(cry_hmac_sha1(key, klen, v[i].data, 3, v[i].data + 3, dlen - 3, out2), 0);
		CHECK_MEM(out2, mac, CRY_SHA1_LEN);
		free(key);
		free(mac);
	}
}

/* ---- RFC 5769 ---- */

static void test_rfc5769_parse(void)
{
	size_t i;

	if (!vec_load())
		return;
	for (i = 0; i < SC_ARRAY_SIZE(vec_names); i++) {
		const char *name = vec_names[i];
		size_t len, tlen, klen;
		uint8_t *msg = vec_hex(name, "message_hex", &len);
		uint8_t *txid = vec_hex(name, "transaction_id_hex", &tlen);
		uint8_t *key = vec_hex(name, "integrity_key_hex", &klen);
		uint8_t *mi = vec_hex(name, "message_integrity_hex", NULL);
		uint8_t *fp = vec_hex(name, "fingerprint_hex", NULL);
		char *software = vec_get(name, "software");
		uint8_t *username = vec_hex(name, "username_hex", &tlen);
		struct stun_msg m;

		CHECK(msg && txid && key && mi);
		if (!msg || !txid || !key || !mi)
			continue;
		CHECK_EQ(stun_parse(msg, len, &m), 0);
		CHECK(!m.classic);
		CHECK_EQ(m.method, STUN_METHOD_BINDING);
		CHECK_EQ(m.cls, i == 0 || i == 3 ? STUN_CLASS_REQUEST : STUN_CLASS_SUCCESS);
		CHECK_MEM(m.id + 4, txid, STUN_TXID_LEN);
		/* MESSAGE-INTEGRITY with the given key, and not with another. */
		CHECK(m.integrity_off > 0);
		CHECK_MEM(msg + m.integrity_off + 4, mi, STUN_INTEGRITY_LEN);
		CHECK_EQ(stun_check_integrity(&m, key, klen), 0);
		key[0] ^= 1;
		CHECK_EQ(stun_check_integrity(&m, key, klen), -EBADMSG);
		CHECK_EQ(m.has_fingerprint, fp != NULL);
		if (fp)
			CHECK_MEM(msg + len - 4, fp, 4);
		if (software) {
			CHECK_EQ(m.software.len, strlen(software));
			CHECK(m.software.p && !memcmp(m.software.p, software, m.software.len));
		}
		if (username) {
			CHECK_EQ(m.username.len, tlen);
			CHECK(m.username.p && !memcmp(m.username.p, username, tlen));
		}
		free(msg);
		free(txid);
		free(key);
		free(mi);
		free(fp);
		free(software);
		free(username);
	}
}

static void test_rfc5769_details(void)
{
	const char *req = vec_names[0], *lt = vec_names[3];
	size_t len;
	uint8_t *msg;
	struct stun_msg m;

	if (!vec_load())
		return;
	/* 2.1 carries PRIORITY (0x0024, comprehension-required, ICE) and
	 * ICE-CONTROLLED (0x8029, optional): only the first is "unknown". */
	msg = vec_hex(req, "message_hex", &len);
	CHECK(msg && stun_parse(msg, len, &m) == 0);
	CHECK_EQ(m.nunknown, 1);
	CHECK_EQ(m.unknown[0], 0x0024);
	CHECK(!m.has_mapped && !m.has_xor_mapped && !m.has_error);
	free(msg);
	/* 2.4: long-term credentials, no FINGERPRINT; REALM and NONCE read. */
	msg = vec_hex(lt, "message_hex", &len);
	CHECK(msg && stun_parse(msg, len, &m) == 0);
	CHECK(!m.has_fingerprint);
	CHECK_EQ(m.realm.len, strlen("example.org"));
	CHECK(m.realm.p && !memcmp(m.realm.p, "example.org", m.realm.len));
	CHECK_EQ(m.nonce.len, strlen("f//499k954d6OL34oL9FSTvy64sA"));
	CHECK_EQ(m.nunknown, 0);
	free(msg);
}

static void test_rfc5769_mapped_address(void)
{
	static const struct {
		int idx, family;
	} v[] = { { 1, AF_INET }, { 2, AF_INET6 } };
	size_t i;

	if (!vec_load())
		return;
	for (i = 0; i < SC_ARRAY_SIZE(v); i++) {
		const char *name = vec_names[v[i].idx];
		char *addr = vec_get(name, "mapped_address"), *port = vec_get(name, "mapped_port");
		size_t len;
		uint8_t *msg = vec_hex(name, "message_hex", &len);
		uint8_t *txid = vec_hex(name, "transaction_id_hex", NULL);
		uint8_t want[16], badtx[STUN_TXID_LEN];
		struct sockaddr_storage ss;
		socklen_t sslen = 0;
		struct stun_msg m;

		CHECK(addr && port && msg && txid);
		if (!addr || !port || !msg || !txid)
			continue;
		CHECK_EQ(inet_pton(v[i].family, addr, want), 1);
		CHECK_EQ(stun_parse(msg, len, &m), 0);
		CHECK(m.has_xor_mapped);
		CHECK_EQ(m.xor_mapped.family,
			 v[i].family == AF_INET ? STUN_FAMILY_IPV4 : STUN_FAMILY_IPV6);
		CHECK_MEM(m.xor_mapped.addr, want, v[i].family == AF_INET ? 4 : 16);
		CHECK_EQ(m.xor_mapped.port, 32853);
		CHECK(!strcmp(port, "32853"));

		/* The client path: our transaction, the reflexive address. */
		CHECK_EQ(stun_parse_binding_response(msg, len, txid, &ss, &sslen), 0);
		CHECK_EQ(ss.ss_family, v[i].family);
		if (v[i].family == AF_INET) {
			const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

			CHECK_EQ(sslen, sizeof(*a));
			CHECK_MEM(&a->sin_addr, want, 4);
			CHECK_EQ(ntohs(a->sin_port), 32853);
		} else {
			const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

			CHECK_EQ(sslen, sizeof(*a));
			CHECK_MEM(&a->sin6_addr, want, 16);
			CHECK_EQ(ntohs(a->sin6_port), 32853);
		}
		/* Someone else's transaction. */
		memcpy(badtx, txid, sizeof(badtx));
		badtx[11] ^= 0x80;
		CHECK_EQ(stun_parse_binding_response(msg, len, badtx, &ss, &sslen), -ESRCH);
		free(addr);
		free(port);
		free(msg);
		free(txid);
	}
}

/* A single-bit flip in a fingerprinted sample is refused, by FINGERPRINT or
 * earlier by the header and attribute checks, unless it hides FINGERPRINT
 * itself (a flip in its type, or a length that swallows it): a message
 * without FINGERPRINT is legal, which is why MESSAGE-INTEGRITY exists. */
static void test_rfc5769_corruption(void)
{
	size_t i, bit;

	if (!vec_load())
		return;
	for (i = 0; i < 3; i++) {
		size_t len;
		uint8_t *msg = vec_hex(vec_names[i], "message_hex", &len);
		unsigned int hidden = 0;

		CHECK(msg != NULL);
		if (!msg)
			continue;
		for (bit = 0; bit < len * 8; bit++) {
			struct stun_msg m;

			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (stun_parse(msg, len, &m) == 0) {
				CHECK(!m.has_fingerprint);
				hidden++;
			}
			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		/* The 16 type bits and a length bit or two. */
		CHECK(hidden >= 16 && hidden <= 20);
		free(msg);
	}
	/* 2.4 has no FINGERPRINT: a flipped USERNAME byte parses, but
	 * MESSAGE-INTEGRITY no longer verifies. */
	{
		size_t len, klen;
		uint8_t *msg = vec_hex(vec_names[3], "message_hex", &len);
		uint8_t *key = vec_hex(vec_names[3], "integrity_key_hex", &klen);
		struct stun_msg m;

		CHECK(msg && key);
		if (msg && key) {
			msg[STUN_HDR_LEN + 4] ^= 0x01;
			CHECK_EQ(stun_parse(msg, len, &m), 0);
			CHECK_EQ(stun_check_integrity(&m, key, klen), -EBADMSG);
		}
		free(msg);
		free(key);
	}
}

static void test_rfc5769_responder(void)
{
	struct sockaddr_in from = sin4("192.0.2.1", 32853);
	uint8_t out[STUN_MSG_MAX];
	struct stun_msg m;
	size_t len;
	uint8_t *msg;
	int n;

	if (!vec_load())
		return;
	/* An ICE check (PRIORITY) at a plain STUN server: 420 naming 0x0024. */
	msg = vec_hex(vec_names[0], "message_hex", &len);
	CHECK(msg != NULL);
	if (!msg)
		return;
	n = stun_respond(msg, len, (struct sockaddr *)&from, out, sizeof(out));
	CHECK(n > 0);
	CHECK_EQ(stun_parse(out, (size_t)(n > 0 ? n : 0), &m), 0);
	CHECK_EQ(m.cls, STUN_CLASS_ERROR);
	CHECK_EQ(m.error_code, STUN_ERR_UNKNOWN_ATTRIBUTE);
	CHECK_MEM(m.id, msg + 4, STUN_CLASSIC_ID_LEN);
	CHECK_EQ(m.unknown_attributes.len, 2);
	CHECK(m.unknown_attributes.p && m.unknown_attributes.p[0] == 0x00 &&
	      m.unknown_attributes.p[1] == 0x24);
	CHECK(m.has_fingerprint);
	free(msg);
	/* A success response is never answered (no reflection loops). */
	msg = vec_hex(vec_names[1], "message_hex", &len);
	CHECK(msg && stun_respond(msg, len, (struct sockaddr *)&from, out, sizeof(out)) == 0);
	free(msg);
}

/* ---- refusals ---- */

static void test_refuse_header(void)
{
	uint8_t msg[64];
	struct stun_msg m;

	put_hdr(msg, 0x0001, 0);
	CHECK_EQ(stun_parse(msg, STUN_HDR_LEN, &m), 0);
	/* Truncated: shorter than a header, or shorter than its length field. */
	CHECK_EQ(stun_parse(msg, STUN_HDR_LEN - 1, &m), -EINVAL);
	CHECK_EQ(stun_parse(msg, 0, &m), -EINVAL);
	put_hdr(msg, 0x0001, 8);
	CHECK_EQ(stun_parse(msg, STUN_HDR_LEN + 4, &m), -EINVAL);
	/* Longer than its length field (trailing bytes). */
	put_hdr(msg, 0x0001, 0);
	CHECK_EQ(stun_parse(msg, STUN_HDR_LEN + 4, &m), -EINVAL);
	/* Length not a multiple of 4. */
	put_hdr(msg, 0x0001, 2);
	CHECK_EQ(stun_parse(msg, STUN_HDR_LEN + 2, &m), -EINVAL);
	/* Top bits set: not STUN (a WireGuard or Scope packet). */
	put_hdr(msg, 0x4001, 0);
	CHECK_EQ(stun_parse(msg, STUN_HDR_LEN, &m), -EINVAL);
	put_hdr(msg, 0x8001, 0);
	CHECK_EQ(stun_parse(msg, STUN_HDR_LEN, &m), -EINVAL);
	/* A whole STUN_MSG_MAX is fine; one word more is refused. */
	{
		static uint8_t big[STUN_MSG_MAX + 4];
		size_t len = STUN_HDR_LEN;

		memset(big, 0, sizeof(big));
		put_hdr(big, 0x0001, 0);
		while (len + 4 + 100 <= STUN_MSG_MAX - 4)
			put_attr(big, &len, 0x8030, zeros, 100);
		put_attr(big, &len, 0x8030, zeros, (uint16_t)(STUN_MSG_MAX - len - 4));
		CHECK_EQ(len, STUN_MSG_MAX);
		fix_len(big, len);
		CHECK_EQ(stun_parse(big, len, &m), 0);
		put_attr(big, &len, 0x8030, NULL, 0);
		fix_len(big, len);
		CHECK_EQ(stun_parse(big, len, &m), -E2BIG);
	}
}

static void test_refuse_attributes(void)
{
	uint8_t msg[256], v[32] = { 0 };
	struct stun_msg m;
	size_t len;

	/* An attribute claiming more bytes than the message has. */
	put_hdr(msg, 0x0001, 8);
	put_attr(msg, &(size_t){ STUN_HDR_LEN }, 0x8022, "abcd", 4);
	msg[STUN_HDR_LEN + 3] = 100;
	CHECK_EQ(stun_parse(msg, STUN_HDR_LEN + 8, &m), -EBADMSG);
	/* Bad padding: a 5-byte value whose 3 padding bytes are missing
	 * (the message ends 4 bytes into the value's padded 8). */
	put_hdr(msg, 0x0001, 8);
	msg[20] = 0x80, msg[21] = 0x22, msg[22] = 0, msg[23] = 5;
	memcpy(msg + 24, "abcd", 4);
	CHECK_EQ(stun_parse(msg, STUN_HDR_LEN + 8, &m), -EBADMSG);
	/* The same value properly padded parses, whatever the padding holds. */
	put_hdr(msg, 0x0001, 12);
	memcpy(msg + 24, "abcde   ", 8);
	CHECK_EQ(stun_parse(msg, STUN_HDR_LEN + 12, &m), 0);
	CHECK_EQ(m.software.len, 5);

	/* Address attributes: wrong length for the family, unknown family. */
	len = STUN_HDR_LEN;
	v[1] = STUN_FAMILY_IPV4;
	put_attr(msg, &len, STUN_ATTR_XOR_MAPPED_ADDRESS, v, 20);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), -EBADMSG);
	len = STUN_HDR_LEN;
	v[1] = 3;
	put_attr(msg, &len, STUN_ATTR_MAPPED_ADDRESS, v, 8);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), -EBADMSG);
	/* ERROR-CODE with class 7, or number 100. */
	len = STUN_HDR_LEN;
	memcpy(v, "\0\0\x07\x00", 4);
	put_attr(msg, &len, STUN_ATTR_ERROR_CODE, v, 4);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), -EBADMSG);
	len = STUN_HDR_LEN;
	memcpy(v, "\0\0\x04\x64", 4);
	put_attr(msg, &len, STUN_ATTR_ERROR_CODE, v, 4);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), -EBADMSG);
	/* MESSAGE-INTEGRITY of the wrong size. */
	len = STUN_HDR_LEN;
	put_attr(msg, &len, STUN_ATTR_MESSAGE_INTEGRITY, v, 16);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), -EBADMSG);
	/* USERNAME over 513 bytes. */
	{
		static uint8_t big[STUN_HDR_LEN + 4 + 516];

		len = STUN_HDR_LEN;
		put_hdr(big, 0x0001, 0);
		put_attr(big, &len, STUN_ATTR_USERNAME, zeros, STUN_USERNAME_MAX + 1);
		fix_len(big, len);
		CHECK_EQ(stun_parse(big, len, &m), -EBADMSG);
		len = STUN_HDR_LEN;
		put_attr(big, &len, STUN_ATTR_USERNAME, zeros, STUN_USERNAME_MAX);
		fix_len(big, len);
		CHECK_EQ(stun_parse(big, len, &m), 0);
	}
}

static void test_refuse_too_many_attributes(void)
{
	uint8_t msg[STUN_HDR_LEN + STUN_ATTR_HDR_LEN + STUN_INTEGRITY_LEN +
		    4 * (STUN_ATTRS_MAX + 1)];
	struct stun_msg m;
	size_t len = STUN_HDR_LEN;
	unsigned int i;

	put_hdr(msg, 0x0001, 0);
	for (i = 0; i < STUN_ATTRS_MAX; i++)
		put_attr(msg, &len, 0x8030, NULL, 0);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), 0);
	CHECK_EQ(m.nattrs, STUN_ATTRS_MAX);
	put_attr(msg, &len, 0x8030, NULL, 0);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), -E2BIG);
	/* Even when the extras come after MESSAGE-INTEGRITY (ignored ones). */
	len = STUN_HDR_LEN;
	put_attr(msg, &len, STUN_ATTR_MESSAGE_INTEGRITY, zeros, STUN_INTEGRITY_LEN);
	for (i = 0; i < STUN_ATTRS_MAX; i++)
		put_attr(msg, &len, 0x0030, NULL, 0);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), -E2BIG);
}

static void test_refuse_fingerprint(void)
{
	uint8_t msg[64];
	struct stun_msg m;
	size_t len;
	int n;

	n = stun_build_binding_request(msg, sizeof(msg), txid_a, STUN_F_FINGERPRINT);
	CHECK_EQ(n, STUN_HDR_LEN + 8);
	CHECK_EQ(stun_parse(msg, (size_t)n, &m), 0);
	CHECK(m.has_fingerprint);
	/* A wrong CRC: not STUN at all. */
	msg[n - 1] ^= 0x01;
	CHECK_EQ(stun_parse(msg, (size_t)n, &m), -EINVAL);
	msg[n - 1] ^= 0x01;
	/* The CRC without the XOR (an RFC 3489-era or buggy encoder). */
	msg[n - 4] ^= 0x53, msg[n - 3] ^= 0x54, msg[n - 2] ^= 0x55, msg[n - 1] ^= 0x4E;
	CHECK_EQ(stun_parse(msg, (size_t)n, &m), -EINVAL);
	/* FINGERPRINT not last. */
	n = stun_build_binding_request(msg, sizeof(msg), txid_a, STUN_F_FINGERPRINT);
	len = (size_t)n;
	put_attr(msg, &len, 0x8030, NULL, 0);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), -EBADMSG);
	/* A bad attribute value and a wrong FINGERPRINT: not STUN (no 400). */
	len = STUN_HDR_LEN;
	put_hdr(msg, 0x0001, 0);
	put_attr(msg, &len, STUN_ATTR_MAPPED_ADDRESS, "\0\x09\0\0", 4);
	put_attr(msg, &len, STUN_ATTR_FINGERPRINT, "abcd", 4);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), -EINVAL);
	{
		struct sockaddr_in from = sin4("192.0.2.1", 7);
		uint8_t out[128];

		CHECK_EQ(stun_respond(msg, len, (struct sockaddr *)&from, out, sizeof(out)),
			 -EINVAL);
	}
	/* FINGERPRINT of the wrong size. */
	len = STUN_HDR_LEN;
	put_attr(msg, &len, STUN_ATTR_FINGERPRINT, "abcdefgh", 8);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), -EBADMSG);
}

/* Section 14: only the first of repeated attributes counts; section 14.5:
 * what follows MESSAGE-INTEGRITY (but FINGERPRINT) is ignored. */
static void test_first_occurrence_and_integrity_tail(void)
{
	uint8_t msg[128];
	struct stun_msg m;
	size_t len = STUN_HDR_LEN;

	put_hdr(msg, 0x0001, 0);
	put_attr(msg, &len, STUN_ATTR_SOFTWARE, "one", 3);
	put_attr(msg, &len, STUN_ATTR_SOFTWARE, "two", 3);
	put_attr(msg, &len, STUN_ATTR_MESSAGE_INTEGRITY, zeros, STUN_INTEGRITY_LEN);
	put_attr(msg, &len, STUN_ATTR_USERNAME, "late", 4);
	put_attr(msg, &len, 0x0077, NULL, 0);
	fix_len(msg, len);
	CHECK_EQ(stun_parse(msg, len, &m), 0);
	CHECK(m.software.p && !memcmp(m.software.p, "one", 3));
	CHECK(m.username.p == NULL);
	CHECK_EQ(m.nunknown, 0);
	CHECK_EQ(m.integrity_off, STUN_HDR_LEN + 16);
	CHECK_EQ(m.nattrs, 5);
}

/* ---- builders ---- */

static void test_build_request_golden(void)
{
	static const char hex[] = "000100082112a4420102030405060708090a0b0c802800045b20f9cc";
	uint8_t out[64], *want = t_unhex(hex, NULL);
	int n;

	n = stun_build_binding_request(out, sizeof(out), txid_a, 0);
	CHECK_EQ(n, STUN_HDR_LEN);
	CHECK(want && !memcmp(out, "\x00\x01\x00\x00", 4) && !memcmp(out + 4, want + 4, 16));
	/* Fingerprint value computed with zlib's crc32. */
	n = stun_build_binding_request(out, sizeof(out), txid_a, STUN_F_FINGERPRINT);
	CHECK_EQ(n, 28);
	CHECK(want && !memcmp(out, want, 28));
	free(want);
}

static void test_build_success_and_error(void)
{
	struct stun_addr a = { .family = STUN_FAMILY_IPV6, .port = 51820 };
	uint16_t unk[3] = { 0x0024, 0x0025, 0x7777 };
	uint8_t out[256];
	struct stun_msg m;
	int n;

	CHECK_EQ(inet_pton(AF_INET6, "2001:db8::42", a.addr), 1);
	n = stun_build_binding_success(out, sizeof(out), txid_a, &a, "x",
				       STUN_F_FINGERPRINT | STUN_F_MAPPED);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(out, (size_t)(n > 0 ? n : 0), &m), 0);
	CHECK(m.has_xor_mapped && m.has_mapped && m.has_fingerprint);
	CHECK(addr_eq(&m.xor_mapped, &a) && addr_eq(&m.mapped, &a));
	/* On the wire the XORed address differs from the plain one. */
	CHECK(memcmp(out + STUN_HDR_LEN + 8, a.addr, 16) != 0);
	CHECK(m.software.len == 1 && m.software.p[0] == 'x');

	n = stun_build_error(out, sizeof(out), STUN_METHOD_BINDING, txid_a, 420,
			     "Unknown Attribute", unk, 3, NULL, 0);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(out, (size_t)(n > 0 ? n : 0), &m), 0);
	CHECK_EQ(m.cls, STUN_CLASS_ERROR);
	CHECK_EQ(m.error_code, 420);
	CHECK(m.error_reason.len == 17 && !memcmp(m.error_reason.p, "Unknown Attribute", 17));
	CHECK_EQ(m.unknown_attributes.len, 6);
	CHECK(!m.has_fingerprint);

	n = stun_build_bad_request(out, sizeof(out), txid_a, STUN_F_FINGERPRINT);
	CHECK(n > 0);
	CHECK_EQ(stun_parse(out, (size_t)(n > 0 ? n : 0), &m), 0);
	CHECK_EQ(m.error_code, 400);
	CHECK_MEM(m.id + 4, txid_a, STUN_TXID_LEN);

	/* Bad arguments. */
	CHECK_EQ(stun_build_error(out, sizeof(out), 1, txid_a, 299, "x", NULL, 0, NULL, 0),
		 -EINVAL);
	CHECK_EQ(stun_build_error(out, sizeof(out), 1, txid_a, 700, "x", NULL, 0, NULL, 0),
		 -EINVAL);
	{
		static char longsw[STUN_TEXT_MAX + 2];

		memset(longsw, 'a', STUN_TEXT_MAX + 1);
		CHECK_EQ(stun_build_binding_success(out, sizeof(out), txid_a, &a, longsw, 0),
			 -EINVAL);
	}
	a.family = 7;
	CHECK_EQ(stun_build_binding_success(out, sizeof(out), txid_a, &a, NULL, 0), -EINVAL);
}

static void test_build_no_space(void)
{
	struct stun_addr a = { .family = STUN_FAMILY_IPV4, .port = 1 };
	uint8_t out[128];
	int full, n;
	size_t cap;

	full = stun_build_binding_success(out, sizeof(out), txid_a, &a, STUN_SOFTWARE,
					  STUN_F_FINGERPRINT | STUN_F_MAPPED);
	CHECK(full > 0);
	for (cap = 0; cap < (size_t)full; cap++) {
		n = stun_build_binding_success(out, cap, txid_a, &a, STUN_SOFTWARE,
					       STUN_F_FINGERPRINT | STUN_F_MAPPED);
		CHECK_EQ(n, -ENOSPC);
	}
	CHECK_EQ(stun_build_binding_success(out, (size_t)full, txid_a, &a, STUN_SOFTWARE,
					    STUN_F_FINGERPRINT | STUN_F_MAPPED),
		 full);
}

/* ---- responder ---- */

static void roundtrip(const struct sockaddr *from, int want_family, const void *want_addr,
		      uint16_t want_port)
{
	uint8_t req[64], out[STUN_MSG_MAX];
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct stun_msg m;
	int n, r;

	n = stun_build_binding_request(req, sizeof(req), txid_a, STUN_F_FINGERPRINT);
	CHECK(n > 0);
	r = stun_respond(req, (size_t)n, from, out, sizeof(out));
	CHECK(r > 0);
	if (r <= 0)
		return;
	CHECK_EQ(stun_parse_binding_response(out, (size_t)r, txid_a, &ss, &sslen), 0);
	CHECK_EQ(ss.ss_family, want_family);
	if (want_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;

		CHECK_MEM(&a->sin_addr, want_addr, 4);
		CHECK_EQ(ntohs(a->sin_port), want_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;

		CHECK_MEM(&a->sin6_addr, want_addr, 16);
		CHECK_EQ(ntohs(a->sin6_port), want_port);
	}
	/* What the response carries: both address forms, SOFTWARE, FINGERPRINT. */
	CHECK_EQ(stun_parse(out, (size_t)r, &m), 0);
	CHECK(m.has_xor_mapped && m.has_mapped && m.has_fingerprint);
	CHECK(addr_eq(&m.xor_mapped, &m.mapped));
	CHECK(m.software.len == strlen(STUN_SOFTWARE) &&
	      !memcmp(m.software.p, STUN_SOFTWARE, m.software.len));
	/* Not our transaction. */
	{
		uint8_t other[STUN_TXID_LEN];

		memcpy(other, txid_a, sizeof(other));
		other[0] ^= 1;
		CHECK_EQ(stun_parse_binding_response(out, (size_t)r, other, &ss, &sslen), -ESRCH);
	}
	/* Too small a reply buffer: no reply rather than a cut one. */
	CHECK_EQ(stun_respond(req, (size_t)n, from, out, (size_t)r - 1), -ENOSPC);
}

static void test_respond_roundtrip_v4(void)
{
	struct sockaddr_in from = sin4("198.51.100.7", 40000);

	roundtrip((struct sockaddr *)&from, AF_INET, &from.sin_addr, 40000);
}

static void test_respond_roundtrip_v6(void)
{
	struct sockaddr_in6 from = sin6("2001:db8:1::77", 65535);

	roundtrip((struct sockaddr *)&from, AF_INET6, &from.sin6_addr, 65535);
}

static void test_respond_v4_mapped(void)
{
	struct sockaddr_in6 from = sin6("::ffff:203.0.113.9", 3478);
	uint8_t want[4] = { 203, 0, 113, 9 };

	roundtrip((struct sockaddr *)&from, AF_INET, want, 3478);
}

/* Debian's stun client (stun-client 0.97, RFC 3489) sends this: a 128-bit
 * random ID without the magic cookie, and CHANGE-REQUEST. */
static void test_respond_rfc3489(void)
{
	uint8_t req[28], out[256];
	struct sockaddr_in from = sin4("203.0.113.1", 16756);
	uint8_t *p = t_unhex("000100080178de43164dd32d829be1456653b4380003000400000000", NULL);
	struct stun_msg m;
	int n;

	CHECK(p != NULL);
	if (!p)
		return;
	memcpy(req, p, sizeof(req));
	free(p);
	n = stun_respond(req, sizeof(req), (struct sockaddr *)&from, out, sizeof(out));
	CHECK(n > 0);
	CHECK_EQ(stun_parse(out, (size_t)(n > 0 ? n : 0), &m), 0);
	CHECK(m.classic);
	CHECK_EQ(m.cls, STUN_CLASS_SUCCESS);
	CHECK_MEM(m.id, req + 4, STUN_CLASSIC_ID_LEN);
	/* MAPPED-ADDRESS only: the old client knows nothing else. */
	CHECK(m.has_mapped && !m.has_xor_mapped && !m.software.p && !m.has_fingerprint);
	CHECK_EQ(m.nattrs, 1);
	CHECK_MEM(m.mapped.addr, &from.sin_addr, 4);
	CHECK_EQ(m.mapped.port, 16756);
	/* The client never accepts a classic message as an answer. */
	{
		struct sockaddr_storage ss;
		socklen_t sl;

		CHECK_EQ(stun_parse_binding_response(out, (size_t)n, req + 8, &ss, &sl), -EPROTO);
	}
	/* "Answer from another port" cannot be honoured by a one-address
	 * server. An old client would take any answer, even an error, as
	 * having come from elsewhere and call its NAT open: silence. */
	req[27] = STUN_CHANGE_PORT;
	CHECK_EQ(stun_respond(req, sizeof(req), (struct sockaddr *)&from, out, sizeof(out)), 0);
	req[27] = STUN_CHANGE_IP | STUN_CHANGE_PORT;
	CHECK_EQ(stun_respond(req, sizeof(req), (struct sockaddr *)&from, out, sizeof(out)), 0);
	/* An old client's unknown mandatory attribute: 420, with the list
	 * padded to whole words as RFC 3489 wants. */
	{
		uint8_t req2[32];
		size_t len = sizeof(req);

		memcpy(req2, req, sizeof(req));
		req2[27] = 0;
		put_attr(req2, &len, 0x0042, NULL, 0);
		req2[3] = (uint8_t)(len - STUN_HDR_LEN);
		n = stun_respond(req2, len, (struct sockaddr *)&from, out, sizeof(out));
		CHECK(n > 0);
		CHECK_EQ(stun_parse(out, (size_t)(n > 0 ? n : 0), &m), 0);
		CHECK(m.classic);
		CHECK_EQ(m.error_code, 420);
		CHECK_EQ(m.unknown_attributes.len, 4);
		CHECK_EQ(m.error_reason.len % 4, 0);
		CHECK(m.unknown_attributes.p && m.unknown_attributes.p[1] == 0x42 &&
		      m.unknown_attributes.p[3] == 0x42);
	}
}

/* An RFC 8489 client asking for a change (RFC 5780 NAT discovery) learns
 * plainly that this server cannot: 420 naming CHANGE-REQUEST. */
static void test_respond_change_request(void)
{
	struct sockaddr_in from = sin4("192.0.2.77", 5000);
	uint8_t msg[64], out[256];
	struct stun_msg m;
	size_t len = STUN_HDR_LEN;
	int n;

	put_hdr(msg, 0x0001, 0);
	put_attr(msg, &len, STUN_ATTR_CHANGE_REQUEST, "\0\0\0\0", 4);
	fix_len(msg, len);
	n = stun_respond(msg, len, (struct sockaddr *)&from, out, sizeof(out));
	CHECK(n > 0);
	CHECK_EQ(stun_parse(out, (size_t)(n > 0 ? n : 0), &m), 0);
	CHECK_EQ(m.cls, STUN_CLASS_SUCCESS);
	msg[len - 1] = STUN_CHANGE_IP;
	n = stun_respond(msg, len, (struct sockaddr *)&from, out, sizeof(out));
	CHECK(n > 0);
	CHECK_EQ(stun_parse(out, (size_t)(n > 0 ? n : 0), &m), 0);
	CHECK_EQ(m.cls, STUN_CLASS_ERROR);
	CHECK_EQ(m.error_code, 420);
	CHECK(m.unknown_attributes.len == 2 && m.unknown_attributes.p[1] == 0x03);
}

static void test_respond_no_reply(void)
{
	struct sockaddr_in from = sin4("192.0.2.9", 1000);
	struct sockaddr_un_like {
		sa_family_t family;
		char pad[30];
	} other = { .family = AF_UNIX };
	uint8_t msg[64], out[256];
	struct stun_msg m;
	size_t len;
	int n;

	/* Indication, success and error responses, another method: silence. */
	put_hdr(msg, 0x0011, 0); /* Binding indication */
	CHECK_EQ(stun_respond(msg, STUN_HDR_LEN, (struct sockaddr *)&from, out, sizeof(out)), 0);
	put_hdr(msg, 0x0101, 0); /* Binding success */
	CHECK_EQ(stun_respond(msg, STUN_HDR_LEN, (struct sockaddr *)&from, out, sizeof(out)), 0);
	put_hdr(msg, 0x0111, 0); /* Binding error */
	CHECK_EQ(stun_respond(msg, STUN_HDR_LEN, (struct sockaddr *)&from, out, sizeof(out)), 0);
	put_hdr(msg, 0x0003, 0); /* Allocate request (TURN) */
	CHECK_EQ(stun_respond(msg, STUN_HDR_LEN, (struct sockaddr *)&from, out, sizeof(out)), 0);
	/* Not STUN: dropped with an error. */
	memset(msg, 0, sizeof(msg));
	msg[0] = 1; /* a WireGuard initiation's first word */
	CHECK(stun_respond(msg, 48, (struct sockaddr *)&from, out, sizeof(out)) < 0);
	/* A Binding request from a family STUN cannot carry. */
	put_hdr(msg, 0x0001, 0);
	CHECK_EQ(stun_respond(msg, STUN_HDR_LEN, (struct sockaddr *)&other, out, sizeof(out)),
		 -EAFNOSUPPORT);
	/* Malformed Binding request: 400 with its transaction ID. */
	len = STUN_HDR_LEN;
	put_attr(msg, &len, STUN_ATTR_MAPPED_ADDRESS, "\0\x09\0\0", 4);
	fix_len(msg, len);
	n = stun_respond(msg, len, (struct sockaddr *)&from, out, sizeof(out));
	CHECK(n > 0);
	CHECK_EQ(stun_parse(out, (size_t)(n > 0 ? n : 0), &m), 0);
	CHECK_EQ(m.error_code, 400);
	CHECK_MEM(m.id + 4, txid_a, STUN_TXID_LEN);
	/* ...but a malformed indication gets nothing. */
	msg[1] = 0x11;
	CHECK(stun_respond(msg, len, (struct sockaddr *)&from, out, sizeof(out)) < 0);
}

static void test_client_refusals(void)
{
	struct stun_addr a = { .family = STUN_FAMILY_IPV4, .port = 9 };
	uint8_t out[128];
	struct sockaddr_storage ss;
	socklen_t sl;
	size_t len;
	int n;

	/* An error response to our transaction. */
	n = stun_build_bad_request(out, sizeof(out), txid_a, 0);
	CHECK_EQ(stun_parse_binding_response(out, (size_t)n, txid_a, &ss, &sl), -ECONNREFUSED);
	/* A request is not an answer. */
	n = stun_build_binding_request(out, sizeof(out), txid_a, 0);
	CHECK_EQ(stun_parse_binding_response(out, (size_t)n, txid_a, &ss, &sl), -EPROTO);
	/* A success response without an address. */
	put_hdr(out, 0x0101, 0);
	CHECK_EQ(stun_parse_binding_response(out, STUN_HDR_LEN, txid_a, &ss, &sl), -ENODATA);
	/* With an address but also an attribute we must understand. */
	n = stun_build_binding_success(out, sizeof(out), txid_a, &a, NULL, 0);
	len = (size_t)n;
	put_attr(out, &len, 0x0042, NULL, 0);
	fix_len(out, len);
	CHECK_EQ(stun_parse_binding_response(out, len, txid_a, &ss, &sl), -EBADMSG);
	/* Garbage. */
	CHECK_EQ(stun_parse_binding_response(out, 3, txid_a, &ss, &sl), -EINVAL);
}

/* Deterministic mutations of valid messages: whatever parses must answer
 * with something that parses too, and nothing reads out of bounds (run
 * under ASan). */
static void test_mutations(void)
{
	struct sockaddr_in from = sin4("192.0.2.1", 1);
	uint64_t rng = 5769;
	uint8_t base[64], msg[64], out[STUN_MSG_MAX];
	unsigned int i, parsed = 0;
	int n = stun_build_binding_request(base, sizeof(base), txid_a, STUN_F_FINGERPRINT);

	CHECK(n > 0);
	for (i = 0; i < 200000; i++) {
		size_t len = (size_t)n;
		struct stun_msg m;
		int r;

		memcpy(msg, base, len);
		msg[t_rng64(&rng) % len] = (uint8_t)t_rng64(&rng);
		if (t_rng64(&rng) % 2)
			msg[20 + t_rng64(&rng) % 8] = (uint8_t)t_rng64(&rng);
		parsed += stun_parse(msg, len, &m) == 0;
		r = stun_respond(msg, len, (struct sockaddr *)&from, out, sizeof(out));
		if (r > 0)
			CHECK_EQ(stun_parse(out, (size_t)r, &m), 0);
	}
	/* Flips in the transaction ID break the FINGERPRINT; most fail. */
	CHECK(parsed > 0 && parsed < 200000);
}

static const struct t_case cases[] = {
	T(test_crc32_check_value),
	T(test_hmac_sha1_rfc2202),
	T(test_rfc5769_parse),
	T(test_rfc5769_details),
	T(test_rfc5769_mapped_address),
	T(test_rfc5769_corruption),
	T(test_rfc5769_responder),
	T(test_refuse_header),
	T(test_refuse_attributes),
	T(test_refuse_too_many_attributes),
	T(test_refuse_fingerprint),
	T(test_first_occurrence_and_integrity_tail),
	T(test_build_request_golden),
	T(test_build_success_and_error),
	T(test_build_no_space),
	T(test_respond_roundtrip_v4),
	T(test_respond_roundtrip_v6),
	T(test_respond_v4_mapped),
	T(test_respond_rfc3489),
	T(test_respond_change_request),
	T(test_respond_no_reply),
	T(test_client_refusals),
	T(test_mutations),
};

int main(void)
{
	int ret = t_main("proto-stun", cases, SC_ARRAY_SIZE(cases));

	free(vec_text);
	return ret;
}
