// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every signed-record parser on arbitrary bytes: network definition,
 * certificate, revocation list, kill switch, and the text armor. Nothing may
 * crash, and whatever is accepted must re-encode to exactly the input (one
 * encoding per value, so signatures and fingerprints are unambiguous).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/armor.h"
#include "proto/cert.h"
#include "proto/kill.h"
#include "proto/netdef.h"
#include "proto/revoke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an != bn || memcmp(a, b, an) != 0)
		abort();
}

/* A verified network to run proto_cert_verify against (fixed admin seed). */
static const struct proto_netdef *lab(void)
{
	static struct proto_netdef n;
	static int ready;
	uint8_t seed[32];
	size_t i;

	if (ready)
		return &n;
	for (i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	memcpy(n.name, "lab", 3);
	proto_prefix_parse("10.7.0.0/16", &n.v4);
	proto_prefix_parse("fd00:7::/48", &n.v6);
	memcpy(n.registry, "https://r/", 10);
	proto_params_default(&n.params);
	if (proto_netdef_sign(&n, seed))
		abort();
	ready = 1;
	return &n;
}

static void records(const uint8_t *data, size_t size)
{
	static uint8_t out[PROTO_REVOKE_RECORD_MAX];
	struct proto_netdef n;
	struct proto_cert c;
	struct proto_kill k;
	struct proto_revoke *rl;
	size_t len;

	if (proto_netdef_decode(&n, data, size) == 0) {
		if (proto_netdef_encode(&n, out, sizeof(out), &len))
			abort();
		same(out, len, data, size);
		proto_netdef_verify(&n, NULL);
	}
	if (proto_cert_decode(&c, data, size) == 0) {
		if (proto_cert_encode(&c, out, sizeof(out), &len))
			abort();
		same(out, len, data, size);
		proto_cert_verify(&c, lab(), NULL, 1750000000);
	}
	if (proto_kill_decode(&k, data, size) == 0) {
		if (proto_kill_encode(&k, out, sizeof(out), &len))
			abort();
		same(out, len, data, size);
		proto_kill_applies(&k, "alpha", NULL);
	}
	if (proto_revoke_decode(&rl, data, size) == 0) {
		if (proto_revoke_encode(rl, out, sizeof(out), &len))
			abort();
		same(out, len, data, size);
		proto_revoke_free(rl);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t bin[PROTO_REVOKE_RECORD_MAX];
	static char text[PROTO_ARMOR_MAX];
	size_t len;
	uint8_t type;

	records(data, size);
	if (proto_armor_decode(bin, sizeof(bin), &len, &type, (const char *)data, size) == 0) {
		if (proto_armor_encode(text, sizeof(text), bin, len))
			abort();
		same((const uint8_t *)text, strlen(text), data, size);
		records(bin, len);
	}
	return 0;
}
