// SPDX-License-Identifier: GPL-2.0-only
/*
 * The port demultiplexer and the endpoint parser, fed arbitrary bytes.
 *
 * demux_classify must agree with a deliberately naive restatement of the
 * rules in io/demux.h, and never read past n (ASan). io_endpoint_parse must
 * be all-or-nothing, and every accepted string must format to a canonical
 * form that parses back to the same endpoint and formats identically.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/demux.h"
#include "io/endpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum demux_kind naive_classify(const uint8_t *p, size_t n)
{
	static const size_t wg_len[] = { 0, 148, 92, 64 };

	if (n >= 4 && p[0] >= 1 && p[0] <= 4 && !p[1] && !p[2] && !p[3]) {
		if (p[0] < 4 && n == wg_len[p[0]])
			return DEMUX_WG;
		if (p[0] == 4 && n >= 32)
			return DEMUX_WG;
	}
	if (n >= 20 && n % 4 == 0 && p[0] < 0x40 && p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xa4 &&
	    p[7] == 0x42 && (size_t)(p[2] * 256 + p[3]) == n - 20)
		return DEMUX_STUN;
	if (n >= 24 && p[0] == 0xff && p[1] == 'S' && p[2] == 'c' && p[3] == 1)
		return DEMUX_SCOPE;
	return DEMUX_DROP;
}

static int calls;

static void count(void *ctx, uint8_t *p, size_t n, const struct io_endpoint *from)
{
	calls++;
}

static void fuzz_classify(const uint8_t *data, size_t size)
{
	static struct demux *d;
	struct io_endpoint from = { .family = AF_INET, .port = 1 };
	enum demux_kind k;
	uint8_t *copy;

	k = demux_classify(data, size);
	if (k != naive_classify(data, size))
		abort();
	if (!d && (demux_new(&d) || demux_set_handler(d, DEMUX_WG, count, NULL) ||
		   demux_set_handler(d, DEMUX_STUN, count, NULL)))
		abort();
	/* An exact-size heap copy, so ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return;
	memcpy(copy, data, size);
	calls = 0;
	if (demux_input(d, copy, size, &from) != k)
		abort();
	if (calls != (k == DEMUX_WG || k == DEMUX_STUN))
		abort();
	free(copy);
}

static void fuzz_endpoint(const uint8_t *data, size_t size)
{
	struct io_endpoint ep, ep2, orig;
	char s[IO_ENDPOINT_STRLEN + 8], f1[IO_ENDPOINT_STRLEN], f2[IO_ENDPOINT_STRLEN];

	if (size >= sizeof(s))
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&ep, 0x5a, sizeof(ep));
	orig = ep;
	if (io_endpoint_parse(s, &ep)) {
		if (memcmp(&ep, &orig, sizeof(ep)))
			abort(); /* out-parameter written on failure */
		return;
	}
	if (ep.port == 0 || (ep.family != AF_INET && ep.family != AF_INET6))
		abort();
	if (io_endpoint_format(&ep, f1, sizeof(f1)))
		abort();
	if (io_endpoint_parse(f1, &ep2) || !io_endpoint_equal(&ep, &ep2))
		abort();
	if (io_endpoint_format(&ep2, f2, sizeof(f2)) || strcmp(f1, f2))
		abort();
}

/* The parser's accepting paths are behind inet_pton, which the fuzzer does
 * not see into; so also build an endpoint from the bytes, format it, check
 * it parses back, then parse the text again with one byte replaced. */
static void fuzz_synth(const uint8_t *data, size_t size)
{
	struct io_endpoint ep = { 0 }, back;
	char s[IO_ENDPOINT_STRLEN];
	size_t len;

	if (size < 25)
		return;
	ep.family = data[0] & 1 ? AF_INET6 : AF_INET;
	ep.port = (uint16_t)(data[1] << 8 | data[2]);
	memcpy(&ep.addr, data + 3, ep.family == AF_INET ? 4 : 16);
	if (ep.family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&ep.addr.v6))
		return; /* parses as AF_INET by design */
	if (ep.family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL(&ep.addr.v6))
		ep.scope_id = data[19] | (uint32_t)data[20] << 8;
	if (io_endpoint_format(&ep, s, sizeof(s)))
		abort();
	if (io_endpoint_parse(s, &back) != (ep.port ? 0 : -EINVAL))
		abort();
	if (ep.port && !io_endpoint_equal(&ep, &back))
		abort();
	len = strlen(s);
	s[data[21] % len] = (char)data[22];
	fuzz_endpoint((const uint8_t *)s, strnlen(s, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_classify(data, size);
	fuzz_endpoint(data, size);
	fuzz_synth(data, size);
	return 0;
}
