// SPDX-License-Identifier: GPL-2.0-only
#include "io/offload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define IPPROTO_TCP_ 6
#define TCP_FIN	     0x01
#define TCP_SYN	     0x02
#define TCP_RST	     0x04
#define TCP_PSH	     0x08
#define TCP_ACK	     0x10
#define TCP_CWR	     0x80
#define TCP_CSUM_OFF 16

/* ---- checksums ----------------------------------------------------------- */

/* Ones'-complement sum of big-endian 16-bit words (odd tail zero-padded),
 * accumulated 32 bits at a time and folded at the end. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	for (; n >= 4; p += 4, n -= 4)
		sum += (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (n >= 2) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		n -= 2;
	}
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The TCP pseudo-header sum for a TCP segment of tcp_len bytes. */
static uint64_t pseudo_sum(const uint8_t *ip, bool v6, size_t tcp_len)
{
	if (v6)
		return csum_add(0, ip + 8, 32) + tcp_len + IPPROTO_TCP_;
	return csum_add(0, ip + 12, 8) + tcp_len + IPPROTO_TCP_;
}

static void ipv4_hdr_csum(uint8_t *ip, size_t ihl)
{
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, ihl)));
}

int off_csum_complete(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len)
{
	size_t start = h->csum_start, off = h->csum_offset;
	uint16_t c;

	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if (start > len || off + 2 > len - start)
		return -EINVAL;
	/* The field holds the pseudo-header sum: summing over it finishes it. */
	c = (uint16_t)~csum_fold(csum_add(0, pkt + start, len - start));
	if (c == 0 && off == 6)
		c = 0xffff; /* UDP: zero means "no checksum" */
	put16(pkt + start + off, c);
	return 0;
}

/* Packet headers are public: a plain comparison is right here. */
static bool same(const uint8_t *a, const uint8_t *b, size_t n)
{
	return memcmp(a, b, n) == 0; /* not secret: headers */
}

/* ---- parsing ------------------------------------------------------------- */

struct tcp_pkt {
	bool v6;
	size_t iphl, thl; /* IP and TCP header lengths */
	size_t plen;	  /* TCP payload bytes */
};

/* A plain IPv4 (any IHL) or IPv6 (no extension header) TCP packet of
 * exactly len bytes per its IP header... or of len bytes for a super-packet
 * (lenient = true: the IP length fields are rewritten per segment). */
static int parse_tcp(const uint8_t *p, size_t len, bool lenient, struct tcp_pkt *t)
{
	if (len < 20)
		return -EINVAL;
	if ((p[0] >> 4) == 4) {
		t->v6 = false;
		t->iphl = (size_t)(p[0] & 0xf) * 4;
		if (t->iphl < 20 || p[9] != IPPROTO_TCP_)
			return -EINVAL;
		if (!lenient && get16(p + 2) != len)
			return -EINVAL;
		if (get16(p + 6) & 0x3fff) /* MF or a fragment offset */
			return -EINVAL;
	} else if ((p[0] >> 4) == 6) {
		t->v6 = true;
		t->iphl = 40;
		if (len < 40 || p[6] != IPPROTO_TCP_)
			return -EINVAL;
		if (!lenient && get16(p + 4) + 40u != len)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (len < t->iphl + 20)
		return -EINVAL;
	t->thl = (size_t)(p[t->iphl + 12] >> 4) * 4;
	if (t->thl < 20 || len < t->iphl + t->thl)
		return -EINVAL;
	t->plen = len - t->iphl - t->thl;
	return 0;
}

/* ---- TSO: split --------------------------------------------------------- */

static void fix_segment(uint8_t *s, const struct tcp_pkt *t, size_t plen, size_t i, uint32_t seq,
			uint16_t id, bool last)
{
	uint8_t *tcp = s + t->iphl;
	size_t tcp_len = t->thl + plen;

	if (t->v6) {
		put16(s + 4, (uint16_t)tcp_len);
	} else {
		put16(s + 2, (uint16_t)(t->iphl + tcp_len));
		put16(s + 4, (uint16_t)(id + i));
		ipv4_hdr_csum(s, t->iphl);
	}
	put32(tcp + 4, seq);
	if (!last)
		tcp[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	if (i > 0)
		tcp[13] &= (uint8_t)~TCP_CWR;
	put16(tcp + TCP_CSUM_OFF, 0);
	put16(tcp + TCP_CSUM_OFF,
	      (uint16_t)~csum_fold(csum_add(pseudo_sum(s, t->v6, tcp_len), tcp, tcp_len)));
}

int off_tso_split(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len,
		  uint8_t *const *bufs, size_t cap, size_t nbufs, size_t *lens)
{
	unsigned int type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	size_t mss = h->gso_size, hl, nseg, off;
	struct tcp_pkt t;
	uint32_t seq;
	uint16_t id;

	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6)
		return -EINVAL;
	if (mss == 0 || len > OFF_GRO_MAX + 0u || parse_tcp(pkt, len, true, &t))
		return -EINVAL;
	if (t.v6 != (type == VIRTIO_NET_HDR_GSO_TCPV6))
		return -EINVAL;
	hl = t.iphl + t.thl;
	nseg = t.plen ? (t.plen + mss - 1) / mss : 1;
	if (nseg > nbufs || hl + (t.plen < mss ? t.plen : mss) > cap)
		return -ENOSPC;
	seq = get32(pkt + t.iphl + 4);
	id = t.v6 ? 0 : get16(pkt + 4);
	off = hl;
	for (size_t i = 0; i < nseg; i++) {
		size_t plen = len - off < mss ? len - off : mss;

		memcpy(bufs[i], pkt, hl);
		memcpy(bufs[i] + hl, pkt + off, plen);
		fix_segment(bufs[i], &t, plen, i, seq + (uint32_t)(i * mss), id, i == nseg - 1);
		lens[i] = hl + plen;
		off += plen;
	}
	return (int)nseg;
}

/* ---- GRO: coalesce ------------------------------------------------------ */

struct flow {
	bool used;
	bool closed; /* cannot grow: shorter segment or PSH seen */
	struct tcp_pkt t;
	uint8_t key[36]; /* addresses and ports */
	size_t keylen;
	uint32_t next_seq;
	size_t mss;
	size_t len; /* IP bytes in buf after the virtio header */
	unsigned int nseg;
	uint64_t stamp; /* for evicting the oldest */
	uint8_t *buf;	/* OFF_VNET_HDR_LEN + OFF_GRO_MAX */
};

struct off_gro {
	off_write_fn write;
	void *ctx;
	uint64_t clock;
	struct flow flows[OFF_GRO_FLOWS];
	struct off_gro_stats stats;
};

int off_gro_new(off_write_fn write, void *ctx, struct off_gro **out)
{
	struct off_gro *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	g->write = write;
	g->ctx = ctx;
	for (int i = 0; i < OFF_GRO_FLOWS; i++) {
		g->flows[i].buf = malloc(OFF_VNET_HDR_LEN + OFF_GRO_MAX);
		if (!g->flows[i].buf) {
			off_gro_free(g);
			return -ENOMEM;
		}
	}
	*out = g;
	return 0;
}

void off_gro_free(struct off_gro *g)
{
	if (!g)
		return;
	for (int i = 0; i < OFF_GRO_FLOWS; i++)
		free(g->flows[i].buf);
	free(g);
}

static size_t flow_key(const uint8_t *p, const struct tcp_pkt *t, uint8_t key[36])
{
	size_t alen = t->v6 ? 32 : 8;

	memcpy(key, p + (t->v6 ? 8 : 12), alen);
	memcpy(key + alen, p + t->iphl, 4);
	return alen + 4;
}

static int emit(struct off_gro *g, const uint8_t *frame, size_t len, unsigned int nseg)
{
	g->stats.frames++;
	g->stats.segments += nseg;
	g->stats.coalesced += nseg > 1;
	return g->write(g->ctx, frame, len);
}

static void flow_flush(struct off_gro *g, struct flow *f)
{
	struct virtio_net_hdr h = { 0 };
	uint8_t *ip = f->buf + OFF_VNET_HDR_LEN, *tcp = ip + f->t.iphl;
	size_t tcp_len = f->len - f->t.iphl;

	if (f->nseg > 1) {
		if (f->t.v6) {
			put16(ip + 4, (uint16_t)tcp_len);
		} else {
			put16(ip + 2, (uint16_t)f->len);
			ipv4_hdr_csum(ip, f->t.iphl);
		}
		/* Partial checksum: the pseudo-header sum, for the kernel to
		 * finish (or to trust, for a local socket). */
		put16(tcp + TCP_CSUM_OFF, csum_fold(pseudo_sum(ip, f->t.v6, tcp_len)));
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.gso_type = f->t.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		h.hdr_len = (uint16_t)(f->t.iphl + f->t.thl);
		h.gso_size = (uint16_t)f->mss;
		h.csum_start = (uint16_t)f->t.iphl;
		h.csum_offset = TCP_CSUM_OFF;
	}
	memcpy(f->buf, &h, sizeof(h));
	emit(g, f->buf, OFF_VNET_HDR_LEN + f->len, f->nseg);
	f->used = false;
}

void off_gro_flush(struct off_gro *g)
{
	for (int i = 0; i < OFF_GRO_FLOWS; i++)
		if (g->flows[i].used)
			flow_flush(g, &g->flows[i]);
}

static int passthrough(struct off_gro *g, uint8_t *pkt, size_t len)
{
	memset(pkt - OFF_VNET_HDR_LEN, 0, OFF_VNET_HDR_LEN);
	return emit(g, pkt - OFF_VNET_HDR_LEN, len + OFF_VNET_HDR_LEN, 1);
}

/* May this segment start or extend a super-packet at all? */
static bool candidate(const uint8_t *p, const struct tcp_pkt *t)
{
	uint8_t flags = p[t->iphl + 13];

	return t->plen > 0 && (flags & TCP_ACK) && !(flags & ~(TCP_ACK | TCP_PSH));
}

/* Does p continue f exactly (see the header's rules)? */
static bool continues(const struct flow *f, const uint8_t *p, const struct tcp_pkt *t)
{
	const uint8_t *fp = f->buf + OFF_VNET_HDR_LEN;
	const uint8_t *ft = fp + f->t.iphl, *pt = p + t->iphl;

	if (f->closed || t->thl != f->t.thl || t->plen > f->mss)
		return false;
	if (f->len + t->plen > OFF_GRO_MAX || get32(pt + 4) != f->next_seq)
		return false;
	if (t->v6) {
		if (!same(fp, p, 4) || fp[7] != p[7]) /* TC, flow label, hop limit */
			return false;
	} else if (fp[1] != p[1] || fp[8] != p[8] || (fp[6] & 0x40) != (p[6] & 0x40)) {
		return false; /* TOS, TTL, DF */
	}
	/* ACK number, window, options. */
	return same(ft + 8, pt + 8, 4) && same(ft + 14, pt + 14, 2) &&
	       same(ft + 20, pt + 20, t->thl - 20);
}

static void flow_append(struct flow *f, const uint8_t *p, const struct tcp_pkt *t)
{
	uint8_t *ft = f->buf + OFF_VNET_HDR_LEN + f->t.iphl;

	memcpy(f->buf + OFF_VNET_HDR_LEN + f->len, p + t->iphl + t->thl, t->plen);
	f->len += t->plen;
	f->next_seq += (uint32_t)t->plen;
	f->nseg++;
	if (p[t->iphl + 13] & TCP_PSH) {
		ft[13] |= TCP_PSH;
		f->closed = true;
	}
	if (t->plen < f->mss)
		f->closed = true;
}

static struct flow *flow_slot(struct off_gro *g)
{
	struct flow *old = &g->flows[0];

	for (int i = 0; i < OFF_GRO_FLOWS; i++) {
		if (!g->flows[i].used)
			return &g->flows[i];
		if (g->flows[i].stamp < old->stamp)
			old = &g->flows[i];
	}
	flow_flush(g, old);
	return old;
}

static void flow_start(struct off_gro *g, const uint8_t *p, size_t len, const struct tcp_pkt *t,
		       const uint8_t *key, size_t keylen)
{
	struct flow *f = flow_slot(g);

	memcpy(f->buf + OFF_VNET_HDR_LEN, p, len);
	memcpy(f->key, key, keylen);
	f->keylen = keylen;
	f->t = *t;
	f->len = len;
	f->mss = t->plen;
	f->nseg = 1;
	f->next_seq = get32(p + t->iphl + 4) + (uint32_t)t->plen;
	f->closed = (p[t->iphl + 13] & TCP_PSH) != 0;
	f->stamp = ++g->clock;
	f->used = true;
}

int off_gro_add(struct off_gro *g, uint8_t *pkt, size_t len)
{
	struct flow *f = NULL;
	struct tcp_pkt t;
	uint8_t key[36];
	size_t keylen;

	if (parse_tcp(pkt, len, false, &t))
		return passthrough(g, pkt, len);
	keylen = flow_key(pkt, &t, key);
	for (int i = 0; i < OFF_GRO_FLOWS; i++) {
		struct flow *c = &g->flows[i];

		if (c->used && c->t.v6 == t.v6 && c->keylen == keylen && same(c->key, key, keylen))
			f = c;
	}
	if (f && candidate(pkt, &t) && continues(f, pkt, &t)) {
		flow_append(f, pkt, &t);
		return 0;
	}
	/* The flow's earlier segments must reach the kernel first. */
	if (f)
		flow_flush(g, f);
	if (!candidate(pkt, &t))
		return passthrough(g, pkt, len);
	flow_start(g, pkt, len, &t, key, keylen);
	return 0;
}

void off_gro_get_stats(const struct off_gro *g, struct off_gro_stats *out)
{
	*out = g->stats;
}
