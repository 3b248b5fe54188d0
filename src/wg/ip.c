// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <sys/socket.h>

#include "wg/ip.h"

#define IPV4_HDR 20u
#define IPV6_HDR 40u

int wg_ip_parse(const uint8_t *pkt, size_t len, struct wg_ip_info *out)
{
	size_t total, ihl;

	if (len >= IPV4_HDR && pkt[0] >> 4 == 4) {
		ihl = (size_t)(pkt[0] & 0xf) * 4;
		total = (size_t)pkt[2] << 8 | pkt[3];
		if (ihl < IPV4_HDR || total < ihl || total > len)
			return -EINVAL;
		out->family = AF_INET;
		out->src = pkt + 12;
		out->dst = pkt + 16;
		out->len = total;
		return 0;
	}
	if (len >= IPV6_HDR && pkt[0] >> 4 == 6) {
		total = ((size_t)pkt[4] << 8 | pkt[5]) + IPV6_HDR;
		if (total > len)
			return -EINVAL;
		out->family = AF_INET6;
		out->src = pkt + 8;
		out->dst = pkt + 24;
		out->len = total;
		return 0;
	}
	return -EINVAL;
}

int wg_ip_dec_ttl(uint8_t *pkt, const struct wg_ip_info *info)
{
	uint32_t check;

	if (info->family == AF_INET6) {
		if (pkt[7] <= 1)
			return -ETIMEDOUT;
		pkt[7]--;
		return 0;
	}
	if (pkt[8] <= 1)
		return -ETIMEDOUT;
	pkt[8]--;
	/* The TTL is the high byte of header word 4: that word fell by 0x100,
	 * so the one's-complement sum rises by as much. */
	check = ((uint32_t)pkt[10] << 8 | pkt[11]) + 0x100;
	check = (check + (check >= 0xffff)) & 0xffff;
	pkt[10] = (uint8_t)(check >> 8);
	pkt[11] = (uint8_t)check;
	return 0;
}
