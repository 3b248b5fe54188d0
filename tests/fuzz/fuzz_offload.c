// SPDX-License-Identifier: GPL-2.0-only
/*
 * TUN offloads on hostile bytes. GRO sees decrypted packets from peers
 * (network input); the TSO splitter sees a virtio header and packet. Neither
 * may crash or write outside its buffers; every frame GRO writes is no
 * larger than a virtio header plus OFF_GRO_MAX, and a coalesced one splits
 * back without error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/offload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t segbuf[64][2048];

static int check_frame(void *ctx, const uint8_t *frame, size_t len)
{
	struct virtio_net_hdr h;
	uint8_t *bufs[64];
	size_t lens[64];

	(void)ctx;
	if (len < OFF_VNET_HDR_LEN || len > OFF_VNET_HDR_LEN + OFF_GRO_MAX)
		abort();
	memcpy(&h, frame, sizeof(h));
	if (h.gso_type == 0)
		return 0;
	for (int i = 0; i < 64; i++)
		bufs[i] = segbuf[i];
	if (off_tso_split(&h, frame + OFF_VNET_HDR_LEN, len - OFF_VNET_HDR_LEN, bufs, 2048, 64,
			  lens) <= 1)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t slot[16 + 4096];
	struct virtio_net_hdr h;
	struct off_gro *g;
	uint8_t *bufs[64];
	size_t lens[64];

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	for (int i = 0; i < 64; i++)
		bufs[i] = segbuf[i];
	off_tso_split(&h, data + sizeof(h), size - sizeof(h), bufs, 2048, 64, lens);
	if (off_gro_new(check_frame, NULL, &g))
		return 0;
	/* The rest is a sequence of packets: 2-byte length, bytes. */
	data += sizeof(h);
	size -= sizeof(h);
	while (size >= 2) {
		size_t n = (size_t)(data[0] << 8 | data[1]) % 4096;

		data += 2;
		size -= 2;
		if (n > size)
			n = size;
		memcpy(slot + 16, data, n);
		off_gro_add(g, slot + 16, n);
		data += n;
		size -= n;
	}
	off_gro_flush(g);
	off_gro_free(g);
	return 0;
}
