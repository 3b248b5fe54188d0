// SPDX-License-Identifier: GPL-2.0-only
/*
 * The inner IP header parser and the allowed-IPs lookups on what it finds.
 * wg_ip_parse must be all-or-nothing and never claim more bytes than it was
 * given; the lookups must agree with a linear scan of the few prefixes the
 * input installs; TTL decrement must keep an IPv4 header checksum valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "wg/aip.h"
#include "wg/ip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct prefix {
	int family;
	uint8_t addr[16];
	uint8_t cidr;
	int owner;
};

static int matches(const struct prefix *p, const uint8_t *a)
{
	unsigned int i;

	for (i = 0; i < p->cidr; i++)
		if (((p->addr[i / 8] ^ a[i / 8]) >> (7 - i % 8)) & 1)
			return 0;
	return 1;
}

static int naive(const struct prefix *ps, int n, int family, const uint8_t *a)
{
	int i, best = -1, cidr = -1;

	for (i = 0; i < n; i++)
		if (ps[i].family == family && ps[i].cidr > cidr && matches(&ps[i], a))
			best = ps[i].owner, cidr = ps[i].cidr;
	return best;
}

static uint16_t ip4_sum(const uint8_t *h, size_t ihl)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i < ihl; i += 2)
		s += (uint32_t)h[i] << 8 | h[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct aip_list owners[4];
	struct prefix ps[8];
	struct wg_ip_info info;
	struct aip_table *t;
	struct aip_list *got;
	uint8_t *pkt;
	int n = 0, i, want;

	/* Up to 8 prefixes of 18 bytes each come first: family bit, cidr,
	 * owner, address. */
	while (size >= 19 && n < 8 && data[0] & 0x80) {
		ps[n].family = data[0] & 1 ? AF_INET6 : AF_INET;
		ps[n].cidr = (uint8_t)(data[1] % (ps[n].family == AF_INET6 ? 129 : 33));
		ps[n].owner = data[2] & 3;
		memset(ps[n].addr, 0, 16);
		memcpy(ps[n].addr, data + 3, ps[n].family == AF_INET6 ? 16 : 4);
		for (i = ps[n].cidr; i < 128; i++)
			ps[n].addr[i / 8] &= (uint8_t) ~(0x80 >> (i % 8));
		n++;
		data += 19;
		size -= 19;
	}
	/* Later duplicates of a prefix replace earlier ones, as in the trie. */
	t = aip_new();
	if (!t)
		return 0;
	memset(owners, 0, sizeof(owners));
	for (i = 0; i < n; i++) {
		int j;

		if (aip_insert(t, ps[i].family, ps[i].addr, ps[i].cidr, &owners[ps[i].owner]))
			abort();
		for (j = 0; j < i; j++)
			if (ps[j].family == ps[i].family && ps[j].cidr == ps[i].cidr &&
			    !memcmp(ps[j].addr, ps[i].addr, 16))
				ps[j].family = -1;
	}

	/* The rest is a packet, in its own allocation so ASan sees overruns. */
	pkt = malloc(size ? size : 1);
	if (!pkt)
		goto out;
	memcpy(pkt, data, size);
	if (!wg_ip_parse(pkt, size, &info)) {
		if (info.len > size || info.src < pkt ||
		    info.dst + (info.family == AF_INET6 ? 16 : 4) > pkt + size)
			abort();
		for (i = 0; i < 2; i++) {
			const uint8_t *a = i ? info.dst : info.src;
			uint8_t key[16] = { 0 };

			memcpy(key, a, info.family == AF_INET6 ? 16 : 4);
			got = aip_lookup(t, info.family, key);
			want = naive(ps, n, info.family, key);
			if ((got ? (int)(got - owners) : -1) != want)
				abort();
		}
		if (info.family == AF_INET && ip4_sum(pkt, (size_t)(pkt[0] & 0xf) * 4) == 0xffff &&
		    !wg_ip_dec_ttl(pkt, &info) &&
		    ip4_sum(pkt, (size_t)(pkt[0] & 0xf) * 4) != 0xffff)
			abort();
	}
	free(pkt);
out:
	for (i = 0; i < 4; i++)
		aip_remove_owner(t, &owners[i]);
	if (aip_count(t))
		abort();
	aip_free(t);
	return 0;
}
