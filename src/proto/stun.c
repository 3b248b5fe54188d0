// SPDX-License-Identifier: GPL-2.0-only
#include "proto/stun.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "common/compiler.h"
#include "crypto/ct.h"
#include "crypto/hmac_sha1.h"

_Static_assert(STUN_INTEGRITY_LEN == CRY_SHA1_LEN, "MESSAGE-INTEGRITY is HMAC-SHA1");

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* ---- CRC-32 ---- */

/* Four bits at a time: a 16-entry table is small enough to be a constant in
 * the source and fast enough for messages of a few hundred bytes. Entry i is
 * the CRC register after shifting the nibble i through it. */
static const uint32_t crc32_nibble[16] = {
	0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
	0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
	0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
};

uint32_t stun_crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFFu;
	size_t i;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		crc = crc32_nibble[crc & 0xF] ^ (crc >> 4);
		crc = crc32_nibble[crc & 0xF] ^ (crc >> 4);
	}
	return crc ^ 0xFFFFFFFFu;
}

/* ---- message type: the class bits are interleaved with the method ---- */

static uint16_t type_encode(uint16_t method, uint8_t cls)
{
	return (uint16_t)((method & 0x000F) | (method & 0x0070) << 1 | (method & 0x0F80) << 2 |
			  (cls & 1) << 4 | (cls & 2) << 7);
}

static void type_decode(uint16_t type, uint16_t *method, uint8_t *cls)
{
	*method = (uint16_t)((type & 0x000F) | (type & 0x00E0) >> 1 | (type & 0x3E00) >> 2);
	*cls = (uint8_t)((type >> 4 & 1) | (type >> 7 & 2));
}

/* ---- parsing ---- */

int stun_parse_header(const uint8_t *msg, size_t len, struct stun_msg *out)
{
	struct stun_msg m;

	if (len < STUN_HDR_LEN)
		return -EINVAL;
	if (len > STUN_MSG_MAX)
		return -E2BIG;
	/* Section 5: the top two bits tell STUN from other protocols on the
	 * port, and every attribute is padded, so the length is a multiple of
	 * 4 and must account for the datagram exactly. */
	if (msg[0] & 0xC0)
		return -EINVAL;
	if (get16(msg + 2) % 4 || (size_t)get16(msg + 2) + STUN_HDR_LEN != len)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.raw = msg;
	m.len = len;
	type_decode(get16(msg), &m.method, &m.cls);
	m.classic = get32(msg + 4) != STUN_MAGIC_COOKIE;
	memcpy(m.id, msg + 4, sizeof(m.id));
	*out = m;
	return 0;
}

/* The XOR pad of an address attribute: the magic cookie then the
 * transaction ID (section 14.2), i.e. header bytes 4..19. A classic message
 * has no cookie; its first ID bytes take the cookie's place. */
static int parse_addr(const uint8_t *v, uint16_t n, const uint8_t *xor_pad, struct stun_addr *out)
{
	struct stun_addr a;
	size_t alen, i;

	if (n < 4)
		return -EBADMSG;
	memset(&a, 0, sizeof(a));
	a.family = v[1];
	if (a.family == STUN_FAMILY_IPV4 && n == 8)
		alen = 4;
	else if (a.family == STUN_FAMILY_IPV6 && n == 20)
		alen = 16;
	else
		return -EBADMSG;
	a.port = get16(v + 2);
	memcpy(a.addr, v + 4, alen);
	if (xor_pad) {
		a.port ^= get16(xor_pad);
		for (i = 0; i < alen; i++)
			a.addr[i] ^= xor_pad[i];
	}
	*out = a;
	return 0;
}

static int parse_text(const uint8_t *v, uint16_t n, size_t max, struct stun_bytes *out)
{
	if (n > max)
		return -EBADMSG;
	out->p = v;
	out->len = n;
	return 0;
}

static int parse_error_code(const uint8_t *v, uint16_t n, struct stun_msg *m)
{
	unsigned int cls, num;

	if (n < 4 || n - 4 > STUN_TEXT_MAX)
		return -EBADMSG;
	cls = v[2] & 0x7;
	num = v[3];
	if (cls < 3 || cls > 6 || num > 99)
		return -EBADMSG;
	m->has_error = true;
	m->error_code = (uint16_t)(cls * 100 + num);
	m->error_reason.p = v + 4;
	m->error_reason.len = (uint16_t)(n - 4);
	return 0;
}

static void note_unknown(struct stun_msg *m, uint16_t type)
{
	unsigned int i;

	for (i = 0; i < m->nunknown; i++)
		if (m->unknown[i] == type)
			return;
	/* nunknown <= nattrs <= STUN_ATTRS_MAX == STUN_UNKNOWN_MAX. */
	m->unknown[m->nunknown++] = type;
}

/* Interpret one attribute that is not FINGERPRINT and comes before any
 * MESSAGE-INTEGRITY. Repeats of a known type are ignored (section 14). */
static int parse_attr(struct stun_msg *m, uint16_t type, const uint8_t *v, uint16_t n, size_t off)
{
	switch (type) {
	case STUN_ATTR_MAPPED_ADDRESS:
		if (m->has_mapped)
			return 0;
		m->has_mapped = true;
		return parse_addr(v, n, NULL, &m->mapped);
	case STUN_ATTR_XOR_MAPPED_ADDRESS:
		if (m->has_xor_mapped)
			return 0;
		m->has_xor_mapped = true;
		return parse_addr(v, n, m->id, &m->xor_mapped);
	case STUN_ATTR_USERNAME:
		return m->username.p ? 0 : parse_text(v, n, STUN_USERNAME_MAX, &m->username);
	case STUN_ATTR_REALM:
		return m->realm.p ? 0 : parse_text(v, n, STUN_TEXT_MAX, &m->realm);
	case STUN_ATTR_NONCE:
		return m->nonce.p ? 0 : parse_text(v, n, STUN_TEXT_MAX, &m->nonce);
	case STUN_ATTR_SOFTWARE:
		return m->software.p ? 0 : parse_text(v, n, STUN_TEXT_MAX, &m->software);
	case STUN_ATTR_ERROR_CODE:
		return m->has_error ? 0 : parse_error_code(v, n, m);
	case STUN_ATTR_UNKNOWN_ATTRIBUTES:
		if (n % 2)
			return -EBADMSG;
		return m->unknown_attributes.p
			       ? 0
			       : parse_text(v, n, STUN_MSG_MAX, &m->unknown_attributes);
	case STUN_ATTR_CHANGE_REQUEST:
		if (n != 4)
			return -EBADMSG;
		if (!m->has_change_request) {
			m->has_change_request = true;
			m->change_flags = get32(v);
		}
		return 0;
	case STUN_ATTR_MESSAGE_INTEGRITY:
		if (n != STUN_INTEGRITY_LEN)
			return -EBADMSG;
		m->integrity_off = off;
		return 0;
	default:
		if (type < 0x8000)
			note_unknown(m, type);
		return 0;
	}
}

static int check_fingerprint(const uint8_t *msg, size_t off, uint16_t n, size_t len)
{
	/* Section 14.7: last attribute, CRC over everything before it with the
	 * header length already counting it (it is last, so it does). */
	if (n != 4 || off + STUN_ATTR_HDR_LEN + 4 != len)
		return -EBADMSG;
	if (get32(msg + off + 4) != (stun_crc32(msg, off) ^ STUN_FINGERPRINT_XOR))
		return -EINVAL;
	return 0;
}

int stun_parse(const uint8_t *msg, size_t len, struct stun_msg *out)
{
	struct stun_msg m;
	size_t off = STUN_HDR_LEN;
	int ret, bad = 0;

	ret = stun_parse_header(msg, len, &m);
	if (ret)
		return ret;
	/* A bad attribute value is remembered, not returned at once: a wrong
	 * FINGERPRINT further on makes the whole datagram "not STUN", which
	 * must win over "malformed STUN" (the latter gets a 400). */
	while (off < len) {
		uint16_t type, n;

		/* The header check makes len - off a multiple of 4, so a
		 * whole attribute header is always there. */
		type = get16(msg + off);
		n = get16(msg + off + 2);
		if (pad4(n) > len - off - STUN_ATTR_HDR_LEN)
			return -EBADMSG;
		if (++m.nattrs > STUN_ATTRS_MAX)
			return -E2BIG;
		if (type == STUN_ATTR_FINGERPRINT) {
			ret = check_fingerprint(msg, off, n, len);
			if (ret)
				return ret;
			m.has_fingerprint = true;
		} else if (!m.integrity_off && !bad) {
			bad = parse_attr(&m, type, msg + off + STUN_ATTR_HDR_LEN, n, off);
		}
		off += STUN_ATTR_HDR_LEN + pad4(n);
	}
	if (bad)
		return bad;
	*out = m;
	return 0;
}

int stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen)
{
	uint8_t hdr[STUN_HDR_LEN], mac[STUN_INTEGRITY_LEN];
	size_t off = m->integrity_off;
	int ret;

	if (!off)
		return -ENOENT;
	/* Section 14.5: the length field counts up to the end of
	 * MESSAGE-INTEGRITY, as if nothing (FINGERPRINT) followed. */
	memcpy(hdr, m->raw, sizeof(hdr));
	put16(hdr + 2, (uint16_t)(off + STUN_ATTR_HDR_LEN + STUN_INTEGRITY_LEN - STUN_HDR_LEN));
	ret = cry_hmac_sha1(key, keylen, hdr, sizeof(hdr), m->raw + STUN_HDR_LEN,
			    off - STUN_HDR_LEN, mac);
	if (ret)
		return ret;
	ret = cry_memeq(mac, m->raw + off + STUN_ATTR_HDR_LEN, sizeof(mac)) ? 0 : -EBADMSG;
	cry_wipe(mac, sizeof(mac));
	return ret;
}

/* ---- building ---- */

/* Appends into a caller's buffer; the first overflow sticks. */
struct writer {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool full;
};

static void wr_header(struct writer *w, uint16_t method, uint8_t cls,
		      const uint8_t id[STUN_CLASSIC_ID_LEN])
{
	if (w->cap < STUN_HDR_LEN) {
		w->full = true;
		return;
	}
	put16(w->p, type_encode(method, cls));
	put16(w->p + 2, 0);
	memcpy(w->p + 4, id, STUN_CLASSIC_ID_LEN);
	w->len = STUN_HDR_LEN;
}

/* Reserve an attribute of n value bytes, zero its padding, set the header
 * length; returns where the value goes, or NULL when it does not fit. */
static uint8_t *wr_attr(struct writer *w, uint16_t type, size_t n)
{
	uint8_t *v;

	if (w->full || n > UINT16_MAX || pad4(n) + STUN_ATTR_HDR_LEN > w->cap - w->len ||
	    w->len + STUN_ATTR_HDR_LEN + pad4(n) > STUN_MSG_MAX) {
		w->full = true;
		return NULL;
	}
	put16(w->p + w->len, type);
	put16(w->p + w->len + 2, (uint16_t)n);
	v = w->p + w->len + STUN_ATTR_HDR_LEN;
	memset(v + n, 0, pad4(n) - n);
	w->len += STUN_ATTR_HDR_LEN + pad4(n);
	put16(w->p + 2, (uint16_t)(w->len - STUN_HDR_LEN));
	return v;
}

static void wr_bytes(struct writer *w, uint16_t type, const void *p, size_t n)
{
	uint8_t *v = wr_attr(w, type, n);

	if (v && n)
		memcpy(v, p, n);
}

static void wr_addr(struct writer *w, uint16_t type, const struct stun_addr *a, bool xor)
{
	size_t alen = a->family == STUN_FAMILY_IPV6 ? 16 : 4, i;
	uint8_t *v = wr_attr(w, type, 4 + alen);

	if (!v)
		return;
	v[0] = 0;
	v[1] = a->family;
	put16(v + 2, a->port);
	memcpy(v + 4, a->addr, alen);
	if (xor) {
		/* The pad is the header's cookie and transaction ID. */
		put16(v + 2, a->port ^ get16(w->p + 4));
		for (i = 0; i < alen; i++)
			v[4 + i] ^= w->p[4 + i];
	}
}

static void wr_software(struct writer *w, const char *software)
{
	if (software)
		wr_bytes(w, STUN_ATTR_SOFTWARE, software, strnlen(software, STUN_TEXT_MAX + 1));
}

/* Close the message: FINGERPRINT if asked, then the length or -ENOSPC. */
static int wr_finish(struct writer *w, bool fingerprint)
{
	uint8_t *v;

	if (fingerprint) {
		v = wr_attr(w, STUN_ATTR_FINGERPRINT, 4);
		if (v)
			put32(v, stun_crc32(w->p, w->len - 8) ^ STUN_FINGERPRINT_XOR);
	}
	return w->full ? -ENOSPC : (int)w->len;
}

static void make_id(uint8_t id[STUN_CLASSIC_ID_LEN], const uint8_t txid[STUN_TXID_LEN])
{
	put32(id, STUN_MAGIC_COOKIE);
	memcpy(id + 4, txid, STUN_TXID_LEN);
}

static bool addr_valid(const struct stun_addr *a)
{
	return a && (a->family == STUN_FAMILY_IPV4 || a->family == STUN_FAMILY_IPV6);
}

/* SOFTWARE within the length a parser (ours included) accepts. */
static bool software_valid(const char *software)
{
	return !software || strnlen(software, STUN_TEXT_MAX + 1) <= STUN_TEXT_MAX;
}

int stun_build_binding_request(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			       unsigned int flags)
{
	struct writer w = { .p = out, .cap = cap };
	uint8_t id[STUN_CLASSIC_ID_LEN];

	make_id(id, txid);
	wr_header(&w, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, id);
	return wr_finish(&w, flags & STUN_F_FINGERPRINT);
}

static int build_success(uint8_t *out, size_t cap, const uint8_t id[STUN_CLASSIC_ID_LEN],
			 const struct stun_addr *mapped, const char *software, unsigned int flags)
{
	struct writer w = { .p = out, .cap = cap };

	if (!addr_valid(mapped) || !software_valid(software))
		return -EINVAL;
	wr_header(&w, STUN_METHOD_BINDING, STUN_CLASS_SUCCESS, id);
	if (get32(id) == STUN_MAGIC_COOKIE)
		wr_addr(&w, STUN_ATTR_XOR_MAPPED_ADDRESS, mapped, true);
	if (flags & STUN_F_MAPPED)
		wr_addr(&w, STUN_ATTR_MAPPED_ADDRESS, mapped, false);
	wr_software(&w, software);
	return wr_finish(&w, flags & STUN_F_FINGERPRINT);
}

int stun_build_binding_success(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			       const struct stun_addr *mapped, const char *software,
			       unsigned int flags)
{
	uint8_t id[STUN_CLASSIC_ID_LEN];

	make_id(id, txid);
	return build_success(out, cap, id, mapped, software, flags);
}

/* ERROR-CODE (section 14.8). RFC 3489 wanted the reason phrase and the
 * UNKNOWN-ATTRIBUTES list in whole words, so a classic message pads the
 * reason with spaces and repeats an attribute to make the count even. */
static int build_error(uint8_t *out, size_t cap, uint16_t method,
		       const uint8_t id[STUN_CLASSIC_ID_LEN], uint16_t code, const char *reason,
		       const uint16_t *unknown, size_t nunknown, const char *software,
		       unsigned int flags)
{
	struct writer w = { .p = out, .cap = cap };
	bool classic = get32(id) != STUN_MAGIC_COOKIE;
	size_t rlen = reason ? strnlen(reason, STUN_TEXT_MAX + 1) : 0, n, i;
	uint8_t *v;

	if (code < 300 || code > 699 || rlen > STUN_TEXT_MAX || nunknown > STUN_UNKNOWN_MAX ||
	    (nunknown && !unknown) || method > 0xFFF || !software_valid(software))
		return -EINVAL;
	wr_header(&w, method, STUN_CLASS_ERROR, id);
	n = classic ? pad4(rlen) : rlen;
	v = wr_attr(&w, STUN_ATTR_ERROR_CODE, 4 + n);
	if (v) {
		put16(v, 0);
		v[2] = (uint8_t)(code / 100);
		v[3] = (uint8_t)(code % 100);
		memset(v + 4, ' ', n);
		if (rlen)
			memcpy(v + 4, reason, rlen);
	}
	if (nunknown) {
		n = classic && nunknown % 2 ? nunknown + 1 : nunknown;
		v = wr_attr(&w, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);
		for (i = 0; v && i < n; i++)
			put16(v + 2 * i, unknown[i < nunknown ? i : 0]);
	}
	wr_software(&w, software);
	return wr_finish(&w, flags & STUN_F_FINGERPRINT);
}

int stun_build_error(uint8_t *out, size_t cap, uint16_t method, const uint8_t txid[STUN_TXID_LEN],
		     uint16_t code, const char *reason, const uint16_t *unknown, size_t nunknown,
		     const char *software, unsigned int flags)
{
	uint8_t id[STUN_CLASSIC_ID_LEN];

	make_id(id, txid);
	return build_error(out, cap, method, id, code, reason, unknown, nunknown, software, flags);
}

int stun_build_bad_request(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			   unsigned int flags)
{
	return stun_build_error(out, cap, STUN_METHOD_BINDING, txid, STUN_ERR_BAD_REQUEST,
				"Bad Request", NULL, 0, NULL, flags);
}

/* ---- addresses ---- */

int stun_addr_from_sockaddr(const struct sockaddr *sa, struct stun_addr *out)
{
	struct stun_addr a;

	if (!sa)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		a.family = STUN_FAMILY_IPV4;
		a.port = ntohs(in->sin_port);
		memcpy(a.addr, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		a.port = ntohs(in6->sin6_port);
		/* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d;
		 * the client wants to learn its IPv4 address. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			a.family = STUN_FAMILY_IPV4;
			memcpy(a.addr, in6->sin6_addr.s6_addr + 12, 4);
		} else {
			a.family = STUN_FAMILY_IPV6;
			memcpy(a.addr, &in6->sin6_addr, 16);
		}
	} else {
		return -EAFNOSUPPORT;
	}
	*out = a;
	return 0;
}

int stun_addr_to_sockaddr(const struct stun_addr *a, struct sockaddr_storage *out,
			  socklen_t *outlen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (a->family == STUN_FAMILY_IPV4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(a->port);
		memcpy(&in->sin_addr, a->addr, 4);
		len = sizeof(*in);
	} else if (a->family == STUN_FAMILY_IPV6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		memcpy(&in6->sin6_addr, a->addr, 16);
		len = sizeof(*in6);
	} else {
		return -EAFNOSUPPORT;
	}
	*out = ss;
	*outlen = len;
	return 0;
}

/* ---- server ---- */

static bool is_binding_request(const struct stun_msg *m)
{
	return m->method == STUN_METHOD_BINDING && m->cls == STUN_CLASS_REQUEST;
}

static bool wants_change(const struct stun_msg *m)
{
	return m->has_change_request && (m->change_flags & (STUN_CHANGE_IP | STUN_CHANGE_PORT));
}

/* Comprehension-required attributes we will not honour: the unknown ones,
 * and CHANGE-REQUEST when it asks for a different source (RFC 5780 section
 * 6.1 without an alternate address). Returns how many went into list. */
static size_t refused_attrs(const struct stun_msg *m, uint16_t list[STUN_UNKNOWN_MAX])
{
	size_t n = m->nunknown;

	memcpy(list, m->unknown, n * sizeof(list[0]));
	if (wants_change(m) && n < STUN_UNKNOWN_MAX)
		list[n++] = STUN_ATTR_CHANGE_REQUEST;
	return n;
}

int stun_respond(const uint8_t *req, size_t len, const struct sockaddr *from, uint8_t *out,
		 size_t cap)
{
	uint16_t refused[STUN_UNKNOWN_MAX];
	struct stun_addr src;
	struct stun_msg m;
	size_t n;
	int ret;

	ret = stun_addr_from_sockaddr(from, &src);
	if (ret)
		return ret;
	ret = stun_parse(req, len, &m);
	if (ret == -EBADMSG) {
		/* A Binding request with broken attributes is still a
		 * request someone waits for: tell them (section 6.3.1). */
		if (stun_parse_header(req, len, &m) || !is_binding_request(&m))
			return ret;
		return build_error(out, cap, STUN_METHOD_BINDING, m.id, STUN_ERR_BAD_REQUEST,
				   "Bad Request", NULL, 0, m.classic ? NULL : STUN_SOFTWARE,
				   m.classic ? 0 : STUN_F_FINGERPRINT);
	}
	if (ret)
		return ret;
	if (!is_binding_request(&m))
		return 0;
	/* An RFC 3489 client takes any answer to "reply from elsewhere" as
	 * proof that the reply came from elsewhere and would classify its NAT
	 * as open. Silence is the honest answer from a one-address server. */
	if (m.classic && wants_change(&m))
		return 0;
	n = refused_attrs(&m, refused);
	if (n)
		return build_error(out, cap, STUN_METHOD_BINDING, m.id, STUN_ERR_UNKNOWN_ATTRIBUTE,
				   "Unknown Attribute", refused, n,
				   m.classic ? NULL : STUN_SOFTWARE,
				   m.classic ? 0 : STUN_F_FINGERPRINT);
	/* Old clients choke on attributes they do not know (and RFC 3489
	 * wants text in whole words): a classic request gets only
	 * MAPPED-ADDRESS. New ones get MAPPED-ADDRESS too, for clients
	 * that send the cookie but still read only the plain address. */
	if (m.classic)
		return build_success(out, cap, m.id, &src, NULL, STUN_F_MAPPED);
	return build_success(out, cap, m.id, &src, STUN_SOFTWARE,
			     STUN_F_FINGERPRINT | STUN_F_MAPPED);
}

/* ---- client ---- */

int stun_parse_binding_response(const uint8_t *msg, size_t len, const uint8_t txid[STUN_TXID_LEN],
				struct sockaddr_storage *mapped, socklen_t *mapped_len)
{
	struct stun_msg m;
	int ret;

	ret = stun_parse(msg, len, &m);
	if (ret)
		return ret;
	if (m.classic || m.method != STUN_METHOD_BINDING ||
	    (m.cls != STUN_CLASS_SUCCESS && m.cls != STUN_CLASS_ERROR))
		return -EPROTO;
	/* The transaction ID is what stops an off-path sender from feeding
	 * us a forged address; compare it without a data-dependent exit. */
	if (!cry_memeq(m.id + 4, txid, STUN_TXID_LEN))
		return -ESRCH;
	if (m.cls == STUN_CLASS_ERROR)
		return -ECONNREFUSED;
	/* Section 6.3.3: a success response with attributes we must
	 * understand but do not is a failed transaction. */
	if (m.nunknown)
		return -EBADMSG;
	if (m.has_xor_mapped)
		return stun_addr_to_sockaddr(&m.xor_mapped, mapped, mapped_len);
	if (m.has_mapped)
		return stun_addr_to_sockaddr(&m.mapped, mapped, mapped_len);
	return -ENODATA;
}
