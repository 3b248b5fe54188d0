/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * STUN messages (RFC 8489): the parser, the builders a Binding client and
 * server need, and the whole of a stateless Binding responder.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Magic Cookie 0x2112A442                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                Transaction ID (96 bits)                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | attributes: type (16), length (16), value padded to 4 bytes   |
 *
 * Pure: no sockets, clock or RNG. Transaction IDs come from the caller.
 *
 * The parser is all-or-nothing and reads only [msg, msg + len). A message
 * without the magic cookie is an RFC 3489 one ("classic"): its 128-bit
 * transaction ID is the cookie field plus the 96 bits after it. It is parsed
 * the same way so the responder can answer old clients as RFC 8489 section
 * 12 asks; the io demultiplexer never hands such messages over on the
 * WireGuard port (it requires the cookie), only the registry's own STUN port
 * sees them. Address and string values point into the caller's buffer, so a
 * struct stun_msg is valid only as long as that buffer.
 *
 * FINGERPRINT is checked while parsing (a wrong one means "not STUN", RFC
 * 8489 section 7.3); MESSAGE-INTEGRITY needs a key and is checked on demand
 * with stun_check_integrity(). Only the first occurrence of an attribute
 * counts (section 14); attributes after MESSAGE-INTEGRITY other than
 * FINGERPRINT are skipped (section 14.5). Comprehension-required attributes
 * (type < 0x8000) that this module does not know are listed in unknown[]
 * so a server can answer 420.
 */
#ifndef PROTO_STUN_H
#define PROTO_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- the protocol's constants ---- */

#define STUN_HDR_LEN	     20
#define STUN_ATTR_HDR_LEN    4
#define STUN_MAGIC_COOKIE    0x2112A442u
#define STUN_TXID_LEN	     12
#define STUN_CLASSIC_ID_LEN  16 /* RFC 3489: cookie field + transaction ID */
#define STUN_FINGERPRINT_XOR 0x5354554Eu
#define STUN_INTEGRITY_LEN   20 /* HMAC-SHA1 */

/* Message classes (the two C bits, as a number) and methods. */
#define STUN_CLASS_REQUEST    0
#define STUN_CLASS_INDICATION 1
#define STUN_CLASS_SUCCESS    2
#define STUN_CLASS_ERROR      3
#define STUN_METHOD_BINDING   0x001

/* Attribute types this module understands. */
#define STUN_ATTR_MAPPED_ADDRESS     0x0001
#define STUN_ATTR_CHANGE_REQUEST     0x0003 /* RFC 5780; old RFC 3489 clients send it */
#define STUN_ATTR_USERNAME	     0x0006
#define STUN_ATTR_MESSAGE_INTEGRITY  0x0008
#define STUN_ATTR_ERROR_CODE	     0x0009
#define STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define STUN_ATTR_REALM		     0x0014
#define STUN_ATTR_NONCE		     0x0015
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_SOFTWARE	     0x8022
#define STUN_ATTR_FINGERPRINT	     0x8028

#define STUN_FAMILY_IPV4 0x01
#define STUN_FAMILY_IPV6 0x02

/* CHANGE-REQUEST flags (RFC 5780 section 7.2). */
#define STUN_CHANGE_IP	 0x04
#define STUN_CHANGE_PORT 0x02

/* Error codes this module sends. */
#define STUN_ERR_BAD_REQUEST	   400
#define STUN_ERR_UNKNOWN_ATTRIBUTE 420

/* ---- hard caps (STYLE.md section 4) ---- */

/* Largest message parsed or built. RFC 8489 section 6.2.1 wants messages
 * over UDP to fit the path MTU; an Ethernet payload is the most anything
 * real sends, and a responder spends no work on bigger junk. */
#define STUN_MSG_MAX 1500
/* Attributes per message. A Binding exchange uses at most 6 or 7; ICE adds a
 * few. More is refused outright rather than partly read. */
#define STUN_ATTRS_MAX 32
/* Distinct unknown comprehension-required types recorded. Cannot overflow:
 * it equals the attribute cap. */
#define STUN_UNKNOWN_MAX STUN_ATTRS_MAX
/* Value lengths RFC 8489 gives (sections 14.3, 14.8 to 14.10, 14.14). */
#define STUN_USERNAME_MAX 513
#define STUN_TEXT_MAX	  763 /* REALM, NONCE, SOFTWARE, ERROR-CODE reason */

/* SOFTWARE that stun_respond() puts in its responses: no version, so an
 * observer learns nothing about patch levels. */
#define STUN_SOFTWARE "scope"

/* ---- parsed messages ---- */

/* A transport address as STUN carries it. */
struct stun_addr {
	uint8_t family;	  /* STUN_FAMILY_IPV4 or STUN_FAMILY_IPV6 */
	uint16_t port;	  /* host order */
	uint8_t addr[16]; /* 4 or 16 bytes used, network order */
};

struct stun_bytes {
	const uint8_t *p; /* into the parsed buffer; NULL when absent */
	uint16_t len;
};

struct stun_msg {
	const uint8_t *raw; /* the parsed buffer, for stun_check_integrity() */
	size_t len;	    /* header + attributes */
	uint16_t method;    /* 12 bits */
	uint8_t cls;	    /* STUN_CLASS_* */
	bool classic;	    /* no magic cookie: RFC 3489 */
	/* Bytes 4..19 of the header: the magic cookie (or a classic ID's first
	 * 4 bytes) followed by the 96-bit transaction ID. */
	uint8_t id[STUN_CLASSIC_ID_LEN];
	unsigned int nattrs; /* all attributes on the wire, skipped ones included */

	bool has_mapped, has_xor_mapped;
	struct stun_addr mapped;     /* MAPPED-ADDRESS */
	struct stun_addr xor_mapped; /* XOR-MAPPED-ADDRESS, already un-XORed */
	struct stun_bytes software, username, realm, nonce;
	bool has_error;
	uint16_t error_code; /* 300..699 */
	struct stun_bytes error_reason;
	struct stun_bytes unknown_attributes; /* the UNKNOWN-ATTRIBUTES value */
	bool has_change_request;
	uint32_t change_flags;
	/* Offset of the MESSAGE-INTEGRITY attribute header; 0 when absent. */
	size_t integrity_off;
	bool has_fingerprint; /* present, last, and correct */

	uint16_t unknown[STUN_UNKNOWN_MAX]; /* comprehension-required, not understood */
	unsigned int nunknown;
};

/* Parse a whole datagram. 0 with *out filled, or:
 *   -EINVAL   not STUN: too short, top bits set, length field disagreeing
 *             with len, or a wrong FINGERPRINT;
 *   -EBADMSG  a STUN header, but the attributes are malformed (overrun,
 *             missing padding, bad values, FINGERPRINT not last);
 *   -E2BIG    longer than STUN_MSG_MAX or more than STUN_ATTRS_MAX attributes.
 * Only -EBADMSG leaves a header worth answering with 400; see
 * stun_parse_header(). */
int stun_parse(const uint8_t *msg, size_t len, struct stun_msg *out);
/* Just the header checks of stun_parse(): fills method, cls, classic, id and
 * len of *out (the rest zeroed). 0 or -EINVAL / -E2BIG. */
int stun_parse_header(const uint8_t *msg, size_t len, struct stun_msg *out);

/* Verify MESSAGE-INTEGRITY (HMAC-SHA1 with the short-term key: the
 * password's bytes; RFC 8489 section 9.1.1) in constant time. 0 if it
 * verifies, -ENOENT if the message has none, -EBADMSG if it does not verify,
 * -EIO/-ENOMEM if the HMAC could not be computed. */
int stun_check_integrity(const struct stun_msg *m, const uint8_t *key, size_t keylen);

/* CRC-32 of ISO 3309 / zlib (reflected, polynomial 0xEDB88320). FINGERPRINT
 * is this XOR STUN_FINGERPRINT_XOR. */
uint32_t stun_crc32(const uint8_t *p, size_t n);

/* ---- building ---- */

/* stun_build_* flags. */
#define STUN_F_FINGERPRINT 0x1u /* append FINGERPRINT */
#define STUN_F_MAPPED	   0x2u /* success: MAPPED-ADDRESS too, for pre-RFC 5389 clients */

/* Each writes a complete message into out[0..cap) and returns its length, or
 * -ENOSPC if cap is too small (out may then hold a partial message) or
 * -EINVAL for bad arguments. software may be NULL (no SOFTWARE attribute). */

/* Binding request with the caller's transaction ID. */
int stun_build_binding_request(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			       unsigned int flags);
/* Binding success response: XOR-MAPPED-ADDRESS of mapped, plus what flags say. */
int stun_build_binding_success(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			       const struct stun_addr *mapped, const char *software,
			       unsigned int flags);
/* Error response to method with code 300..699 and a reason phrase;
 * unknown[0..nunknown) become UNKNOWN-ATTRIBUTES when nunknown > 0. */
int stun_build_error(uint8_t *out, size_t cap, uint16_t method, const uint8_t txid[STUN_TXID_LEN],
		     uint16_t code, const char *reason, const uint16_t *unknown, size_t nunknown,
		     const char *software, unsigned int flags);
/* 400 Bad Request to a Binding request. */
int stun_build_bad_request(uint8_t *out, size_t cap, const uint8_t txid[STUN_TXID_LEN],
			   unsigned int flags);

/* ---- the two roles ---- */

/* What a Binding server does with one datagram from `from` (AF_INET or
 * AF_INET6; v4-mapped IPv6 is reported as IPv4). Returns the length of the
 * reply written to out, 0 when the datagram is STUN but needs no reply
 * (indications, responses, other methods), or a negative errno when it is
 * dropped: -EINVAL/-E2BIG not STUN, -EAFNOSUPPORT for another family,
 * -ENOSPC if cap is too small. Replies:
 *   - Binding request: success with XOR-MAPPED-ADDRESS, MAPPED-ADDRESS,
 *     SOFTWARE, FINGERPRINT; an RFC 3489 request gets MAPPED-ADDRESS only,
 *     with its 128-bit ID echoed (RFC 8489 section 12);
 *   - malformed attributes in a Binding request: 400;
 *   - unknown comprehension-required attributes, or a CHANGE-REQUEST asking
 *     for another address or port (this server has one): 420 listing them;
 *     except that an RFC 3489 request asking for a change gets no reply
 *     (0), since old clients read any answer as coming from elsewhere.
 * MESSAGE-INTEGRITY and USERNAME are not checked: the responder is
 * unauthenticated by design and tells anyone only their own address. */
int stun_respond(const uint8_t *req, size_t len, const struct sockaddr *from, uint8_t *out,
		 size_t cap);

/* Client side: check that msg answers our Binding request txid and take the
 * reflexive address from it (XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS).
 * 0 with *mapped and *mapped_len written (a sockaddr_in or sockaddr_in6), or:
 *   -EINVAL/-E2BIG/-EBADMSG  not a well-formed STUN message (stun_parse);
 *   -ESRCH        a Binding response, but not to txid (stale or forged);
 *   -EPROTO       not a Binding response (a request, an indication, another
 *                 method, or an RFC 3489 message: we never send those);
 *   -ECONNREFUSED an error response to txid (stun_parse() gives its code);
 *   -ENODATA      a success response without an address. */
int stun_parse_binding_response(const uint8_t *msg, size_t len, const uint8_t txid[STUN_TXID_LEN],
				struct sockaddr_storage *mapped, socklen_t *mapped_len);

/* Conversions between struct stun_addr and socket addresses. */
int stun_addr_from_sockaddr(const struct sockaddr *sa, struct stun_addr *out);
/* 0 with *out and *outlen written, or -EAFNOSUPPORT. */
int stun_addr_to_sockaddr(const struct stun_addr *a, struct sockaddr_storage *out,
			  socklen_t *outlen);

#endif
