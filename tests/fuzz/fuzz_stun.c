// SPDX-License-Identifier: GPL-2.0-only
/*
 * STUN parser, responder and client check on arbitrary bytes.
 *
 * The parser must be all-or-nothing (no out-parameter written on failure),
 * keep its caps, and only point into the input. Whatever the responder
 * answers must parse, carry the request's ID and give the sender's own
 * address back. A second path wraps the input in a valid header (and
 * sometimes a correct FINGERPRINT), so the fuzzer reaches the attribute
 * code without having to guess a CRC.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_view(const struct stun_bytes *b, const uint8_t *msg, size_t len, size_t max)
{
	if (!b->p)
		return;
	if (b->p < msg || b->p + b->len > msg + len || b->len > max)
		abort();
}

static void check_parsed(const struct stun_msg *m, const uint8_t *msg, size_t len)
{
	if (m->len != len || m->raw != msg || m->nattrs > STUN_ATTRS_MAX ||
	    m->nunknown > m->nattrs || m->cls > 3 || m->method > 0xFFF)
		abort();
	check_view(&m->software, msg, len, STUN_TEXT_MAX);
	check_view(&m->username, msg, len, STUN_USERNAME_MAX);
	check_view(&m->realm, msg, len, STUN_TEXT_MAX);
	check_view(&m->nonce, msg, len, STUN_TEXT_MAX);
	check_view(&m->error_reason, msg, len, STUN_TEXT_MAX);
	check_view(&m->unknown_attributes, msg, len, STUN_MSG_MAX);
	if (m->has_error && (m->error_code < 300 || m->error_code > 699))
		abort();
	if (m->integrity_off &&
	    (m->integrity_off < STUN_HDR_LEN || m->integrity_off + 4 + STUN_INTEGRITY_LEN > len))
		abort();
}

static void check_reply(const uint8_t *reply, int n, const struct stun_msg *req,
			const struct sockaddr *from)
{
	struct stun_addr want;
	struct stun_msg m;

	if (n <= 0)
		return;
	if (stun_parse(reply, (size_t)n, &m) || m.method != STUN_METHOD_BINDING ||
	    memcmp(m.id, req->id, sizeof(m.id)))
		abort();
	if (m.cls == STUN_CLASS_ERROR)
		return;
	if (m.cls != STUN_CLASS_SUCCESS || stun_addr_from_sockaddr(from, &want) || !m.has_mapped ||
	    m.mapped.family != want.family || m.mapped.port != want.port ||
	    memcmp(m.mapped.addr, want.addr, sizeof(want.addr)))
		abort();
	if (!req->classic) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (stun_parse_binding_response(reply, (size_t)n, req->id + 4, &ss, &sl))
			abort();
	}
}

static void fuzz_message(const uint8_t *msg, size_t size)
{
	static const uint8_t key[] = "VOkJxbRl1RmTxUk/WvJxBt";
	struct sockaddr_in from4 = { .sin_family = AF_INET, .sin_port = htons(4242) };
	struct sockaddr_in6 from6 = { .sin6_family = AF_INET6, .sin6_port = htons(1) };
	uint8_t reply[STUN_MSG_MAX];
	struct stun_msg m, orig;
	struct sockaddr_storage ss;
	socklen_t sl;
	int ret, n;

	from4.sin_addr.s_addr = htonl(0xC0000201);
	from6.sin6_addr.s6_addr[0] = 0x20;
	from6.sin6_addr.s6_addr[15] = 0x01;
	memset(&m, 0x5a, sizeof(m));
	orig = m;
	ret = stun_parse(msg, size, &m);
	if (ret) {
		if (memcmp(&m, &orig, sizeof(m)))
			abort();
		if (ret != -EINVAL && ret != -EBADMSG && ret != -E2BIG)
			abort();
	} else {
		check_parsed(&m, msg, size);
		ret = stun_check_integrity(&m, key, sizeof(key) - 1);
		if (ret && ret != -ENOENT && ret != -EBADMSG)
			abort();
	}
	n = stun_respond(msg, size, (const struct sockaddr *)&from4, reply, sizeof(reply));
	if (n > 0 && stun_parse_header(msg, size, &m))
		abort();
	check_reply(reply, n, &m, (const struct sockaddr *)&from4);
	n = stun_respond(msg, size, (const struct sockaddr *)&from6, reply, sizeof(reply));
	check_reply(reply, n, &m, (const struct sockaddr *)&from6);
	/* The client check with the message's own ID and with another. */
	if (size >= STUN_HDR_LEN) {
		uint8_t other[STUN_TXID_LEN];

		stun_parse_binding_response(msg, size, msg + 8, &ss, &sl);
		memcpy(other, msg + 8, sizeof(other));
		other[0] ^= 0xff;
		if (stun_parse_binding_response(msg, size, other, &ss, &sl) == 0)
			abort();
	}
}

/* data[0]: flags; data[1..2]: message type; the rest: attributes. */
static void fuzz_wrapped(const uint8_t *data, size_t size)
{
	uint8_t *msg;
	size_t body, len;

	if (size < 3)
		return;
	body = (size - 3) & ~(size_t)3;
	if (body + STUN_HDR_LEN + 8 > STUN_MSG_MAX)
		return;
	len = STUN_HDR_LEN + body + (data[0] & 1 ? 8 : 0);
	msg = malloc(len);
	if (!msg)
		return;
	msg[0] = data[1] & 0x3f;
	msg[1] = data[2];
	msg[2] = (uint8_t)((len - STUN_HDR_LEN) >> 8);
	msg[3] = (uint8_t)(len - STUN_HDR_LEN);
	msg[4] = 0x21, msg[5] = 0x12, msg[6] = 0xa4, msg[7] = 0x42;
	memset(msg + 8, data[0], STUN_TXID_LEN);
	/* Without the cookie: an RFC 3489 message. */
	if (data[0] & 2)
		msg[4] = 0;
	memcpy(msg + STUN_HDR_LEN, data + 3, body);
	if (data[0] & 1) {
		uint32_t crc;

		msg[len - 8] = 0x80, msg[len - 7] = 0x28, msg[len - 6] = 0, msg[len - 5] = 4;
		crc = stun_crc32(msg, len - 8) ^ STUN_FINGERPRINT_XOR;
		msg[len - 4] = (uint8_t)(crc >> 24);
		msg[len - 3] = (uint8_t)(crc >> 16);
		msg[len - 2] = (uint8_t)(crc >> 8);
		msg[len - 1] = (uint8_t)crc;
	}
	fuzz_message(msg, len);
	free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size heap copy, so ASan sees any read past the end. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	fuzz_message(copy, size);
	free(copy);
	fuzz_wrapped(data, size);
	return 0;
}
