// SPDX-License-Identifier: GPL-2.0-only
/*
 * The KEX message parser (proto/kex.h) on arbitrary bytes: nothing may
 * crash, and whatever decodes must re-encode to exactly the input. Decoded
 * messages also go through verify against two fixed certificates and, by
 * type, through the decapsulation and confirmation checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/cert.h"
#include "proto/kex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an != bn || memcmp(a, b, an) != 0)
		abort();
}

/* Certificates of "lab": alpha and bravo (not signed: verify only reads
 * names and keys, and the message signature fails anyway). */
static void certs(struct proto_cert *a, struct proto_cert *b)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	memcpy(a->network, "lab", 3);
	memcpy(b->network, "lab", 3);
	memcpy(a->name, "alpha", 5);
	memcpy(b->name, "bravo", 5);
	for (i = 0; i < 32; i++) {
		a->identity[i] = (uint8_t)(0x21 + i);
		a->wgkey[i] = (uint8_t)(0x41 + i);
		b->identity[i] = (uint8_t)(0xa1 + i);
		b->wgkey[i] = (uint8_t)(0x81 + i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PROTO_KEX_RECORD_MAX];
	static struct proto_kex m, ek;
	static struct proto_cert a, b;
	uint8_t psk[PROTO_KEX_PSK_LEN] = { 1 }, dk[CRY_XWING_SK] = { 2 };
	size_t len;

	if (proto_kex_decode(&m, data, size) != 0)
		return 0;
	if (proto_kex_encode(&m, out, sizeof(out), &len))
		abort();
	same(out, len, data, size);
	if (!a.name[0])
		certs(&a, &b);
	proto_kex_verify(&m, &a, &b);
	proto_kex_verify(&m, &b, &a);
	if (m.type == PROTO_T_KEX_CT) {
		/* The EK it would answer, with a zero key: a binding refusal. */
		proto_kex_reply(&ek, &m, PROTO_T_KEX_EK, m.to_wg, m.nonce, m.issued);
		proto_kex_decaps(psk, &m, &ek, dk);
	} else if (m.type == PROTO_T_KEX_ACK) {
		ek = m;
		ek.type = PROTO_T_KEX_CT;
		proto_kex_ack_check(&m, &ek, psk);
	}
	return 0;
}
