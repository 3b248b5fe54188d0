// SPDX-License-Identifier: GPL-2.0-only
/*
 * The node's reader of GET /v1/kex answers (regclient_parse_kex) on
 * arbitrary bytes (selector byte even), and on byte edits of a valid answer
 * (selector odd: triples of offset hi, offset lo, value), which reach the
 * per-message checks that random bytes rarely get to. It must not crash or
 * leak; an accepted answer keeps its caps: at most a page, ids growing and
 * above `after`, `next` covering them, every record 1..PROTO_KEX_RECORD_MAX
 * bytes from a valid sender name, and every message accounted for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/regclient.h"
#include "proto/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define AFTER 4
#define NOW   1700000300ull

/* Two messages as the registry stores them: the signed request that
 * carried each KEX record, its body a JSON string. */
static const char valid[] =
	"{\"messages\":[{\"id\":5,\"from\":\"alice\",\"created\":1700000000,"
	"\"expires\":1700000600,\"record\":{\"method\":\"POST\",\"uri\":\"/v1/kex\","
	"\"key\":\"AAAA\",\"timestamp\":\"1700000000\",\"nonce\":\"AAAA\",\"signature\":\"AAAA\","
	"\"body\":\"{\\\"to\\\":\\\"bob\\\",\\\"msg\\\":\\\"AQIDBAU=\\\",\\\"ttl\\\":600}\"}},"
	"{\"id\":9,\"from\":\"carol\",\"created\":1700000000,\"expires\":1700000060,"
	"\"record\":{\"method\":\"POST\",\"uri\":\"/v1/kex\",\"body\":"
	"\"{\\\"to\\\":\\\"bob\\\",\\\"msg\\\":\\\"/w==\\\"}\"}}],\"next\":9}";

static void run(const char *s, size_t n)
{
	struct regclient_kex_msgs k;
	uint64_t last = AFTER;
	size_t i;

	if (regclient_parse_kex(s, n, AFTER, NOW, NULL, NULL, &k))
		return;
	if (k.n + k.refused + k.expired > REGCLIENT_KEX_PAGE_MAX ||
	    k.more != (k.n + k.refused + k.expired == REGCLIENT_KEX_PAGE_MAX))
		abort();
	for (i = 0; i < k.n; i++) {
		const struct regclient_kex_msg *m = &k.m[i];

		if (m->id <= last || m->len == 0 || m->len > PROTO_KEX_RECORD_MAX ||
		    m->expires < NOW || m->created > m->expires ||
		    !proto_peer_name_valid(m->from, strnlen(m->from, sizeof(m->from))))
			abort();
		last = m->id;
	}
	if (k.next < last)
		abort();
	regclient_kex_msgs_clear(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t i, n = sizeof(valid) - 1;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		s = malloc(n);
		if (!s)
			return 0;
		memcpy(s, valid, n);
		for (i = 1; i + 2 < size; i += 3)
			s[((size_t)data[i] << 8 | data[i + 1]) % n] = (char)data[i + 2];
		run(s, n);
		free(s);
		return 0;
	}
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	run(s, size - 1);
	free(s);
	return 0;
}
