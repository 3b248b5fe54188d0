// SPDX-License-Identifier: GPL-2.0-only
/*
 * TUN offloads: TSO split and GRO coalescing, checked against a naive
 * 16-bit-word checksum and against each other (split -> coalesce -> split
 * gives the same segments back).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>

#include "io/offload.h"
#include "test.h"

#define MSS 1380

/* Naive Internet checksum: 16-bit words, one at a time. */
static uint16_t naive_csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t pseudo(const uint8_t *ip, bool v6, size_t tcp_len)
{
	uint32_t s = v6 ? naive_csum(ip + 8, 32, 0) : naive_csum(ip + 12, 8, 0);

	return s + (uint32_t)tcp_len + 6;
}

/* A valid TCP packet: both checksums verify to all-ones. */
static bool tcp_valid(const uint8_t *ip, size_t len)
{
	bool v6 = (ip[0] >> 4) == 6;
	size_t iphl = v6 ? 40 : (size_t)(ip[0] & 15) * 4;

	if (!v6 && naive_csum(ip, iphl, 0) != 0xffff)
		return false;
	if (v6 && (size_t)(ip[4] << 8 | ip[5]) + 40 != len)
		return false;
	if (!v6 && (size_t)(ip[2] << 8 | ip[3]) != len)
		return false;
	return naive_csum(ip + iphl, len - iphl, pseudo(ip, v6, len - iphl)) == 0xffff;
}

/* A super-packet as the kernel hands it over TUN: IP + TCP (with a 12-byte
 * timestamp option) + payload, TCP checksum partial (pseudo-header sum). */
static size_t make_super(uint8_t *p, bool v6, size_t payload, uint8_t flags,
			 struct virtio_net_hdr *h)
{
	size_t iphl = v6 ? 40 : 20, thl = 32, len = iphl + thl + payload;
	uint8_t *tcp = p + iphl;
	uint64_t rng = 7;

	memset(p, 0, iphl + thl);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((thl + payload) >> 8);
		p[5] = (uint8_t)(thl + payload);
		p[6] = 6;
		p[7] = 64;
		inet_pton(AF_INET6, "fd00::1", p + 8);
		inet_pton(AF_INET6, "fd00::2", p + 24);
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p[4] = 0x12, p[5] = 0x34; /* IP ID */
		p[6] = 0x40;		  /* DF */
		p[8] = 64;
		p[9] = 6;
		inet_pton(AF_INET, "10.0.0.1", p + 12);
		inet_pton(AF_INET, "10.0.0.2", p + 16);
	}
	tcp[0] = 0x9c, tcp[1] = 0x40;				    /* 40000 */
	tcp[2] = 0x14, tcp[3] = 0x51;				    /* 5201 */
	tcp[4] = 0xff, tcp[5] = 0xff, tcp[6] = 0xf0, tcp[7] = 0x00; /* seq wraps */
	tcp[8] = 0, tcp[9] = 0, tcp[10] = 0x10, tcp[11] = 0;
	tcp[12] = (uint8_t)(thl / 4) << 4;
	tcp[13] = flags;
	tcp[14] = 0x01, tcp[15] = 0xf5;
	tcp[20] = 1, tcp[21] = 1, tcp[22] = 8, tcp[23] = 10; /* NOP NOP TS */
	for (size_t i = 0; i < payload; i++)
		p[iphl + thl + i] = (uint8_t)t_rng64(&rng);
	{
		uint16_t c = naive_csum(NULL, 0, pseudo(p, v6, thl + payload));

		tcp[16] = (uint8_t)(c >> 8), tcp[17] = (uint8_t)c;
	}
	if (!v6) {
		uint16_t c = (uint16_t)~naive_csum(p, 20, 0);

		p[10] = (uint8_t)(c >> 8), p[11] = (uint8_t)c;
	}
	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = MSS;
	h->hdr_len = (uint16_t)(iphl + thl);
	h->csum_start = (uint16_t)iphl;
	h->csum_offset = 16;
	return len;
}

static uint8_t super_[OFF_GRO_MAX], seg_mem[64][2048];
static uint8_t *segs[64];
static size_t lens[64];

/* What the GRO side wrote: kept for inspection. */
struct sink {
	uint8_t frames[8][OFF_VNET_HDR_LEN + OFF_GRO_MAX];
	size_t len[8];
	int n;
};

static int sink_write(void *ctx, const uint8_t *frame, size_t len)
{
	struct sink *s = ctx;

	if (s->n < 8) {
		memcpy(s->frames[s->n], frame, len);
		s->len[s->n] = len;
	}
	s->n++;
	return 0;
}

static void split_case(bool v6)
{
	struct virtio_net_hdr h;
	size_t payload = 10 * MSS + 77, len = make_super(super_, v6, payload, 0x18, &h);
	size_t iphl = v6 ? 40 : 20, total = 0;
	int n;

	for (int i = 0; i < 64; i++)
		segs[i] = seg_mem[i];
	n = off_tso_split(&h, super_, len, segs, sizeof(seg_mem[0]), 64, lens);
	CHECK_EQ(n, 11);
	for (int i = 0; i < n; i++) {
		const uint8_t *tcp = segs[i] + iphl;
		uint32_t seq = (uint32_t)(tcp[4] << 24 | tcp[5] << 16 | tcp[6] << 8 | tcp[7]);

		CHECK(tcp_valid(segs[i], lens[i]));
		CHECK_EQ(lens[i], iphl + 32 + (i < 10 ? MSS : 77));
		CHECK_EQ(seq, 0xfffff000u + (uint32_t)(i * MSS));
		/* PSH only on the last segment; ACK on all. */
		CHECK_EQ(tcp[13], i == n - 1 ? 0x18 : 0x10);
		if (!v6)
			CHECK_EQ(segs[i][4] << 8 | segs[i][5], 0x1234 + i);
		CHECK_MEM(segs[i] + iphl + 32, super_ + iphl + 32 + total, lens[i] - iphl - 32);
		total += lens[i] - iphl - 32;
	}
	CHECK_EQ(total, payload);
	/* Not enough buffers, or buffers too small: refused, not truncated. */
	CHECK_EQ(off_tso_split(&h, super_, len, segs, sizeof(seg_mem[0]), 10, lens), -ENOSPC);
	CHECK_EQ(off_tso_split(&h, super_, len, segs, 100, 64, lens), -ENOSPC);
}

static void test_tso_split_v4(void)
{
	split_case(false);
}

static void test_tso_split_v6(void)
{
	split_case(true);
}

static void test_tso_refusals(void)
{
	struct virtio_net_hdr h, bad;
	size_t len = make_super(super_, false, 3000, 0x10, &h);

	for (int i = 0; i < 64; i++)
		segs[i] = seg_mem[i];
	bad = h;
	bad.gso_size = 0;
	CHECK_EQ(off_tso_split(&bad, super_, len, segs, 2048, 64, lens), -EINVAL);
	bad = h;
	bad.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* says v6, is v4 */
	CHECK_EQ(off_tso_split(&bad, super_, len, segs, 2048, 64, lens), -EINVAL);
	bad = h;
	bad.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	CHECK_EQ(off_tso_split(&bad, super_, len, segs, 2048, 64, lens), -EINVAL);
	CHECK_EQ(off_tso_split(&h, super_, 30, segs, 2048, 64, lens), -EINVAL);
	super_[9] = 17; /* UDP */
	CHECK_EQ(off_tso_split(&h, super_, len, segs, 2048, 64, lens), -EINVAL);
}

/* Split, coalesce, and the super-packet that comes out splits into the same
 * segments again: the two halves agree on every header field. */
static void gro_roundtrip(bool v6)
{
	static struct sink s;
	static uint8_t slots[16][16 + 2048];
	struct virtio_net_hdr h, out;
	size_t len = make_super(super_, v6, 8 * MSS + 500, 0x18, &h);
	struct off_gro *g;
	struct off_gro_stats st;
	int n;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 64; i++)
		segs[i] = seg_mem[i];
	n = off_tso_split(&h, super_, len, segs, sizeof(seg_mem[0]), 64, lens);
	CHECK_EQ(n, 9);
	CHECK_EQ(off_gro_new(sink_write, &s, &g), 0);
	for (int i = 0; i < n; i++) {
		memcpy(slots[i] + 16, segs[i], lens[i]);
		CHECK_EQ(off_gro_add(g, slots[i] + 16, lens[i]), 0);
	}
	CHECK_EQ(s.n, 0); /* all pending until the flush */
	off_gro_flush(g);
	CHECK_EQ(s.n, 1);
	memcpy(&out, s.frames[0], sizeof(out));
	CHECK_EQ(out.gso_type, h.gso_type);
	CHECK_EQ(out.gso_size, MSS);
	CHECK_EQ(out.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	CHECK_EQ(out.csum_start, h.csum_start);
	CHECK_EQ(s.len[0], OFF_VNET_HDR_LEN + len);
	/* Same bytes as the original super-packet except the IP length field
	 * (the original's may differ) and the IPv4 header checksum. */
	CHECK_MEM(s.frames[0] + OFF_VNET_HDR_LEN + (v6 ? 40 : 20), super_ + (v6 ? 40 : 20),
		  len - (v6 ? 40 : 20));
	off_gro_get_stats(g, &st);
	CHECK_EQ(st.frames, 1u);
	CHECK_EQ(st.segments, 9u);
	for (int i = 0; i < n; i++)
		segs[i + 16] = seg_mem[i + 16];
	n = off_tso_split(&out, s.frames[0] + OFF_VNET_HDR_LEN, s.len[0] - OFF_VNET_HDR_LEN,
			  segs + 16, sizeof(seg_mem[0]), 16, lens + 16);
	CHECK_EQ(n, 9);
	for (int i = 0; i < n && i < 9; i++) {
		CHECK_EQ(lens[16 + i], lens[i]);
		CHECK_MEM(segs[16 + i], segs[i], lens[i]);
	}
	off_gro_free(g);
}

static void test_gro_roundtrip_v4(void)
{
	gro_roundtrip(false);
}

static void test_gro_roundtrip_v6(void)
{
	gro_roundtrip(true);
}

/* Order within a flow survives anything that cannot be coalesced; other
 * packets pass through in place with a zero virtio header. */
static void test_gro_order(void)
{
	static struct sink s;
	static uint8_t slots[8][16 + 2048];
	uint8_t zero[OFF_VNET_HDR_LEN] = { 0 };
	struct virtio_net_hdr h;
	size_t len = make_super(super_, false, 4 * MSS, 0x10, &h);
	struct off_gro *g;
	int n;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < 64; i++)
		segs[i] = seg_mem[i];
	n = off_tso_split(&h, super_, len, segs, sizeof(seg_mem[0]), 64, lens);
	CHECK_EQ(n, 4);
	CHECK_EQ(off_gro_new(sink_write, &s, &g), 0);
	/* Segments 0, 1, then 3 (a gap), then 2. */
	int order[4] = { 0, 1, 3, 2 };
	for (int i = 0; i < 4; i++) {
		memcpy(slots[i] + 16, segs[order[i]], lens[order[i]]);
		CHECK_EQ(off_gro_add(g, slots[i] + 16, lens[order[i]]), 0);
	}
	/* 0+1 were flushed when 3 did not continue them; 3 was flushed when 2
	 * did not continue it; 2 is pending. */
	CHECK_EQ(s.n, 2);
	off_gro_flush(g);
	CHECK_EQ(s.n, 3);
	CHECK_EQ(s.len[0], OFF_VNET_HDR_LEN + 52 + 2 * MSS);
	CHECK_EQ(s.len[1], OFF_VNET_HDR_LEN + lens[3]);
	CHECK_MEM(s.frames[1], zero, sizeof(zero)); /* a single segment: no GSO */
	CHECK_MEM(s.frames[1] + OFF_VNET_HDR_LEN, segs[3], lens[3]);
	CHECK_MEM(s.frames[2] + OFF_VNET_HDR_LEN, segs[2], lens[2]);

	/* A non-TCP packet passes through at once, in place. */
	uint8_t udp[16 + 28] = { 0 };
	udp[16] = 0x45, udp[16 + 3] = 28, udp[16 + 9] = 17;
	s.n = 0;
	CHECK_EQ(off_gro_add(g, udp + 16, 28), 0);
	CHECK_EQ(s.n, 1);
	CHECK_MEM(s.frames[0], zero, sizeof(zero));
	CHECK_EQ(s.len[0], OFF_VNET_HDR_LEN + 28);
	off_gro_free(g);
}

static void test_csum_complete(void)
{
	struct virtio_net_hdr h;
	size_t len = make_super(super_, false, 700, 0x18, &h);

	/* A small packet with a partial checksum (no GSO). */
	h.gso_type = 0;
	CHECK(!tcp_valid(super_, len));
	CHECK_EQ(off_csum_complete(&h, super_, len), 0);
	CHECK(tcp_valid(super_, len));
	h.csum_start = (uint16_t)len;
	CHECK_EQ(off_csum_complete(&h, super_, len), -EINVAL);
	h.csum_start = 20;
	h.csum_offset = (uint16_t)(len - 21);
	CHECK_EQ(off_csum_complete(&h, super_, len), -EINVAL);
}

static const struct t_case cases[] = {
	T(test_tso_split_v4),	  T(test_tso_split_v6),	    T(test_tso_refusals),
	T(test_gro_roundtrip_v4), T(test_gro_roundtrip_v6), T(test_gro_order),
	T(test_csum_complete),
};

int main(void)
{
	return t_main("io-offload", cases, SC_ARRAY_SIZE(cases));
}
