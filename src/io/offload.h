/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TUN offloads in userspace: what a NIC's TSO and a kernel's GRO do, so the
 * engine crosses the TUN device once per 64 KiB instead of once per packet.
 *
 * With IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)
 * the kernel hands the engine TCP "super-packets" of up to 64 KiB behind a
 * struct virtio_net_hdr, with the TCP checksum left for the device to
 * finish. Send side: off_tso_split() cuts one into MSS-sized IP packets with
 * full checksums, ready for WireGuard. Receive side: struct off_gro glues
 * the decrypted, in-order TCP segments of one flow back into a super-packet
 * (checksum left partial, the kernel finishes or skips it) and writes
 * everything else through unchanged, so the TUN write count drops the same
 * way.
 *
 * Only plain IPv4 (no IP options) and IPv6 (no extension headers) TCP is
 * coalesced; everything else passes through one packet per write. Segments
 * join a super-packet only if they continue it exactly: same addresses and
 * ports, next sequence number, same ACK, window, TCP options, TTL and TOS,
 * flags ACK (and PSH on the last one), a payload of the first segment's
 * size (a shorter one ends the super-packet). A flow's segments keep their
 * order; packets of different flows may be reordered, as GRO does. The
 * packets' own TCP checksums are not re-verified: they came authenticated
 * by the peer's WireGuard session.
 *
 * Pure code (no I/O): the caller owns the buffers and the write callback.
 */
#ifndef IO_OFFLOAD_H
#define IO_OFFLOAD_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#define OFF_VNET_HDR_LEN ((size_t)sizeof(struct virtio_net_hdr))
/* Flows coalesced at once in one batch (more: the oldest is flushed). */
#define OFF_GRO_FLOWS 8
/* Largest super-packet built (IP length fields are 16 bits). */
#define OFF_GRO_MAX 65535

/* Finish a checksum the kernel left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM on
 * a packet that is not GSO), in place. 0 or -EINVAL if the offsets lie
 * outside the packet. */
int off_csum_complete(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len);

/* Split the TSO super-packet pkt (described by h, gso_type TCPV4 or TCPV6)
 * into plain IP packets with complete checksums: segment i goes to
 * bufs[i] (cap bytes each) and its length to lens[i]. Returns the number of
 * segments, -EINVAL for a malformed packet or header, -ENOSPC if more than
 * nbufs segments or a segment larger than cap would be needed. */
int off_tso_split(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len,
		  uint8_t *const *bufs, size_t cap, size_t nbufs, size_t *lens);

/* Write one TUN frame: virtio header + IP packet, len bytes. 0 or -errno. */
typedef int (*off_write_fn)(void *ctx, const uint8_t *frame, size_t len);

struct off_gro;

/* 0 or -ENOMEM; *out only on success. */
int off_gro_new(off_write_fn write, void *ctx, struct off_gro **out);
void off_gro_free(struct off_gro *g);
/* Offer one IP packet. pkt must have OFF_VNET_HDR_LEN writable bytes before
 * it (the engine's receive slots have the WireGuard data header there): a
 * packet that is passed through gets its zero virtio header written in
 * place, so nothing is copied. Segments that may be coalesced are copied
 * into the flow's buffer and written at off_gro_flush() (or earlier, when
 * their flow cannot grow). Returns the write callback's error for a packet
 * written now, else 0. */
int off_gro_add(struct off_gro *g, uint8_t *pkt, size_t len);
/* Write every pending super-packet (end of a receive batch). */
void off_gro_flush(struct off_gro *g);

struct off_gro_stats {
	uint64_t frames;    /* TUN writes */
	uint64_t segments;  /* IP packets in them */
	uint64_t coalesced; /* frames that carried more than one segment */
};
void off_gro_get_stats(const struct off_gro *g, struct off_gro_stats *out);

#endif
