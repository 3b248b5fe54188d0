// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>

#include "io/demux.h"
#include "test.h"

static uint8_t pkt[2048];

/* A WireGuard-typed packet (the bytes after the type field arbitrary). */
static const uint8_t *wg(uint8_t type)
{
	memset(pkt, 0xa5, sizeof(pkt));
	pkt[0] = type;
	pkt[1] = pkt[2] = pkt[3] = 0;
	return pkt;
}

/* A STUN header with message type and length field len. */
static const uint8_t *stun(uint16_t type, uint16_t len)
{
	memset(pkt, 0x5a, sizeof(pkt));
	pkt[0] = (uint8_t)(type >> 8);
	pkt[1] = (uint8_t)type;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[4] = 0x21;
	pkt[5] = 0x12;
	pkt[6] = 0xa4;
	pkt[7] = 0x42;
	return pkt;
}

static const uint8_t *scope(uint8_t version)
{
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0xff;
	pkt[1] = 'S';
	pkt[2] = 'c';
	pkt[3] = version;
	return pkt;
}

static void test_classify_wg(void)
{
	static const struct {
		uint8_t type;
		size_t n;
		enum demux_kind want;
	} v[] = {
		{ 1, 148, DEMUX_WG },	  { 1, 147, DEMUX_DROP }, { 1, 149, DEMUX_DROP },
		{ 1, 164, DEMUX_DROP },	  { 2, 92, DEMUX_WG },	  { 2, 91, DEMUX_DROP },
		{ 2, 93, DEMUX_DROP },	  { 2, 148, DEMUX_DROP }, { 3, 64, DEMUX_WG },
		{ 3, 63, DEMUX_DROP },	  { 3, 65, DEMUX_DROP },  { 3, 80, DEMUX_DROP },
		{ 4, 32, DEMUX_WG },	  { 4, 48, DEMUX_WG },	  { 4, 1456, DEMUX_WG },
		{ 4, 148, DEMUX_WG },	  { 4, 31, DEMUX_DROP },  { 4, 33, DEMUX_WG },
		{ 4, 40, DEMUX_WG },	  { 4, 1452, DEMUX_WG },  { 4, 16, DEMUX_DROP },
		{ 4, 0, DEMUX_DROP },	  { 4, 3, DEMUX_DROP },	  { 4, 4, DEMUX_DROP },
		{ 0, 148, DEMUX_DROP },	  { 5, 148, DEMUX_DROP }, { 5, 32, DEMUX_DROP },
		{ 0xff, 32, DEMUX_DROP },
	};
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(v); i++) {
		enum demux_kind k = demux_classify(wg(v[i].type), v[i].n);

		CHECK_EQ(k, v[i].want);
		if (k != v[i].want)
			fprintf(stderr, "# type %u size %zu\n", v[i].type, v[i].n);
	}
	/* The three reserved bytes must be zero. */
	wg(1);
	pkt[3] = 1;
	CHECK_EQ(demux_classify(pkt, 148), DEMUX_DROP);
	wg(4);
	pkt[1] = 0x80;
	CHECK_EQ(demux_classify(pkt, 32), DEMUX_DROP);
	/* A WireGuard packet whose sender index is the STUN magic cookie is
	 * still WireGuard (its STUN "length" would be 0, i.e. 20 bytes). */
	wg(1);
	pkt[4] = 0x21;
	pkt[5] = 0x12;
	pkt[6] = 0xa4;
	pkt[7] = 0x42;
	CHECK_EQ(demux_classify(pkt, 148), DEMUX_WG);
	CHECK_EQ(demux_classify(pkt, 20), DEMUX_STUN);
	/* Transport data whose counter bytes look like STUN. */
	wg(4);
	memcpy(pkt + 4, "\x21\x12\xa4\x42", 4);
	CHECK_EQ(demux_classify(pkt, 64), DEMUX_WG);
	CHECK_EQ(demux_classify(NULL, 0), DEMUX_DROP);
}

static void test_classify_stun(void)
{
	static const struct {
		uint16_t type, len;
		size_t n;
		enum demux_kind want;
	} v[] = {
		{ 0x0001, 0, 20, DEMUX_STUN },	/* Binding request, no attributes */
		{ 0x0101, 12, 32, DEMUX_STUN }, /* Binding success response */
		{ 0x0111, 8, 28, DEMUX_STUN },	/* Binding error response */
		{ 0x3fff, 1000, 1020, DEMUX_STUN },
		{ 0x0001, 0, 24, DEMUX_DROP }, /* length field disagrees */
		{ 0x0001, 4, 20, DEMUX_DROP },
		{ 0x0001, 2, 22, DEMUX_DROP }, /* not a multiple of 4 */
		{ 0x0001, 0, 19, DEMUX_DROP }, /* shorter than the header */
		{ 0x4001, 0, 20, DEMUX_DROP }, /* top bits set (ChannelData) */
		{ 0x8001, 0, 20, DEMUX_DROP },
		{ 0xc001, 0, 20, DEMUX_DROP },
		{ 0x0001, 65535, 65555, DEMUX_DROP }, /* odd length */
	};
	size_t i;
	static uint8_t big[65556];

	for (i = 0; i < SC_ARRAY_SIZE(v); i++) {
		const uint8_t *p = stun(v[i].type, v[i].len);

		if (v[i].n > sizeof(pkt)) {
			memcpy(big, p, 20);
			p = big;
		}
		CHECK_EQ(demux_classify(p, v[i].n), v[i].want);
	}
	/* The biggest STUN message a UDP datagram can carry. */
	memcpy(big, stun(0x0001, 65532), 20);
	CHECK_EQ(demux_classify(big, 65552), DEMUX_STUN);
	/* A wrong magic cookie (RFC 3489 messages have none): not ours. */
	stun(0x0001, 0);
	pkt[7] = 0x43;
	CHECK_EQ(demux_classify(pkt, 20), DEMUX_DROP);
	stun(0x0001, 0);
	pkt[4] = 0;
	CHECK_EQ(demux_classify(pkt, 20), DEMUX_DROP);
	/* A STUN message of a WireGuard size with WireGuard-like first bytes
	 * cannot exist: type 0x0100 with length 0 is exactly 20 bytes. */
	stun(0x0100, 0);
	pkt[3] = 0;
	CHECK_EQ(demux_classify(pkt, 20), DEMUX_STUN);
}

static void test_classify_scope(void)
{
	CHECK_EQ(demux_classify(scope(1), DEMUX_SCOPE_MIN_LEN), DEMUX_SCOPE);
	CHECK_EQ(demux_classify(scope(1), DEMUX_SCOPE_MIN_LEN - 1), DEMUX_DROP);
	CHECK_EQ(demux_classify(scope(1), 4), DEMUX_DROP);
	CHECK_EQ(demux_classify(scope(1), 1400), DEMUX_SCOPE);
	CHECK_EQ(demux_classify(scope(1), 33), DEMUX_SCOPE); /* no padding rule */
	CHECK_EQ(demux_classify(scope(2), 100), DEMUX_DROP); /* unknown version */
	CHECK_EQ(demux_classify(scope(0), 100), DEMUX_DROP);
	scope(1);
	pkt[1] = 's';
	CHECK_EQ(demux_classify(pkt, 100), DEMUX_DROP);
	scope(1);
	pkt[0] = 0xfe;
	CHECK_EQ(demux_classify(pkt, 100), DEMUX_DROP);
	/* Scope's header with a STUN cookie at offset 4 stays Scope. */
	scope(1);
	memcpy(pkt + 4, "\x21\x12\xa4\x42", 4);
	CHECK_EQ(demux_classify(pkt, 80), DEMUX_SCOPE);
}

static void test_classify_junk(void)
{
	size_t n;

	memset(pkt, 0, sizeof(pkt));
	for (n = 0; n < 200; n++)
		CHECK_EQ(demux_classify(pkt, n), DEMUX_DROP);
	memset(pkt, 0xff, sizeof(pkt));
	for (n = 0; n < 200; n++)
		CHECK_EQ(demux_classify(pkt, n), DEMUX_DROP);
	CHECK(strcmp(demux_kind_name(DEMUX_WG), "wireguard") == 0);
	CHECK(strcmp(demux_kind_name(DEMUX_STUN), "stun") == 0);
	CHECK(strcmp(demux_kind_name(DEMUX_SCOPE), "scope") == 0);
	CHECK(strcmp(demux_kind_name(DEMUX_DROP), "drop") == 0);
	CHECK(strcmp(demux_kind_name(DEMUX_KIND_COUNT), "?") == 0);
}

struct seen {
	int calls;
	size_t n;
	uint8_t first;
	struct io_endpoint from;
};

static void on_packet(void *ctx, uint8_t *p, size_t n, const struct io_endpoint *from)
{
	struct seen *s = ctx;

	s->calls++;
	s->n = n;
	s->first = p[0];
	s->from = *from;
	p[0] ^= 0xff; /* handlers may work in place */
}

static void test_handlers(void)
{
	struct seen wgs = { 0 }, stuns = { 0 };
	struct demux_stats st;
	struct io_endpoint from;
	struct demux *d = NULL;
	uint8_t data[148];

	CHECK_EQ(io_endpoint_parse("192.0.2.1:51820", &from), 0);
	CHECK_EQ(demux_new(&d), 0);
	if (!d)
		return;
	CHECK_EQ(demux_set_handler(d, DEMUX_DROP, on_packet, &wgs), -EINVAL);
	CHECK_EQ(demux_set_handler(d, DEMUX_KIND_COUNT, on_packet, &wgs), -EINVAL);
	CHECK_EQ(demux_set_handler(d, DEMUX_WG, on_packet, &wgs), 0);
	CHECK_EQ(demux_set_handler(d, DEMUX_STUN, on_packet, &stuns), 0);

	memcpy(data, wg(1), 148);
	CHECK_EQ(demux_input(d, data, 148, &from), DEMUX_WG);
	CHECK_EQ(wgs.calls, 1);
	CHECK_EQ(wgs.n, 148);
	CHECK_EQ(wgs.first, 1);
	CHECK_EQ(data[0], 0xfe);
	CHECK(io_endpoint_equal(&wgs.from, &from));

	memcpy(data, stun(0x0001, 0), 20);
	CHECK_EQ(demux_input(d, data, 20, &from), DEMUX_STUN);
	CHECK_EQ(stuns.calls, 1);
	CHECK_EQ(wgs.calls, 1);

	/* No Scope handler: counted and dropped. */
	memcpy(data, scope(1), 40);
	CHECK_EQ(demux_input(d, data, 40, &from), DEMUX_SCOPE);
	/* Junk: dropped. */
	memset(data, 0x42, 40);
	CHECK_EQ(demux_input(d, data, 40, &from), DEMUX_DROP);
	CHECK_EQ(data[0], 0x42);

	/* Unregister WireGuard: its packets now count as unhandled. */
	CHECK_EQ(demux_set_handler(d, DEMUX_WG, NULL, NULL), 0);
	memcpy(data, wg(4), 32);
	CHECK_EQ(demux_input(d, data, 32, &from), DEMUX_WG);
	CHECK_EQ(wgs.calls, 1);

	demux_get_stats(d, &st);
	CHECK_EQ(st.packets[DEMUX_WG], 2);
	CHECK_EQ(st.bytes[DEMUX_WG], 148 + 32);
	CHECK_EQ(st.unhandled[DEMUX_WG], 1);
	CHECK_EQ(st.packets[DEMUX_STUN], 1);
	CHECK_EQ(st.unhandled[DEMUX_STUN], 0);
	CHECK_EQ(st.packets[DEMUX_SCOPE], 1);
	CHECK_EQ(st.unhandled[DEMUX_SCOPE], 1);
	CHECK_EQ(st.packets[DEMUX_DROP], 1);
	CHECK_EQ(st.unhandled[DEMUX_DROP], 1);
	CHECK_EQ(st.bytes[DEMUX_DROP], 40);
	demux_free(d);
	demux_free(NULL);
}

static const struct t_case cases[] = {
	T(test_classify_wg),   T(test_classify_stun), T(test_classify_scope),
	T(test_classify_junk), T(test_handlers),
};

int main(void)
{
	return t_main("io-demux", cases, SC_ARRAY_SIZE(cases));
}
