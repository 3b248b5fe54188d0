/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A Linux TUN device: layer-3 packets in and out of the kernel's stack.
 *
 * Opened with IFF_TUN | IFF_NO_PI: every read returns exactly one IPv4 or
 * IPv6 packet and every write injects one, with no 4-byte packet-info prefix
 * (the IP version nibble tells the families apart, as in wireguard-go).
 * The fd is non-blocking and close-on-exec; register it with loop_add_fd().
 * The device is not persistent: it disappears with its routes and addresses
 * when tun_free() closes the fd, which is how the engine cleans up on exit.
 *
 * Offloads: tun_open_offload() adds IFF_VNET_HDR and TUNSETOFFLOAD
 * (CSUM, TSO4, TSO6, TSO_ECN). Every read then returns, and every write
 * takes, a 10-byte struct virtio_net_hdr before the packet: the kernel hands
 * over TCP super-packets of up to 64 KiB and accepts coalesced ones, so the
 * engine crosses the device once per 64 KiB instead of once per packet
 * (src/io/offload.h does the splitting and coalescing). If the kernel
 * refuses the offloads, the device is opened plainly and tun_offload()
 * says so. IFF_MULTI_QUEUE (one queue per worker) is a later step.
 *
 * Opening needs CAP_NET_ADMIN. One thread reads and one writes at a time.
 */
#ifndef IO_TUN_H
#define IO_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/err.h"

struct tun;

/* Open or create the TUN device name (NULL or "" lets the kernel pick
 * "tunN"; a "%d" in name is a kernel-filled pattern such as "scope%d").
 * 0 or -errno, with a message in err (may be NULL); *out only on success. */
int tun_open(const char *name, struct tun **out, struct io_err *err);
/* The same, with offloads if the kernel has them (see above). */
int tun_open_offload(const char *name, struct tun **out, struct io_err *err);
/* True if reads and writes carry a virtio_net_hdr. */
bool tun_offload(const struct tun *t);
/* Close the fd (the device goes away with it). Accepts NULL. */
void tun_free(struct tun *t);

/* The device's actual name (at most IFNAMSIZ-1 chars), valid until tun_free. */
const char *tun_name(const struct tun *t);
/* The non-blocking fd, for the event loop. Owned by t. */
int tun_fd(const struct tun *t);

/* Set the MTU (SIOCSIFMTU). 0 or -errno with a message. */
int tun_set_mtu(struct tun *t, unsigned int mtu, struct io_err *err);
/* Read the MTU (SIOCGIFMTU). 0 or -errno with a message. */
int tun_get_mtu(struct tun *t, unsigned int *mtu, struct io_err *err);
/* Bring the link up or down (SIOCSIFFLAGS IFF_UP). 0 or -errno with a message. */
int tun_set_up(struct tun *t, int up, struct io_err *err);
/* The interface index (SIOCGIFINDEX). 0 or -errno with a message. */
int tun_get_ifindex(struct tun *t, int *ifindex, struct io_err *err);

/* Read one packet into buf (cap should be at least MTU; the kernel truncates
 * silently, IO_PKT_MAX is always enough). 0 with *len set, -EAGAIN when no
 * packet is queued, or -errno. */
int tun_read(struct tun *t, uint8_t *buf, size_t cap, size_t *len);
/* Write one IP packet. 0, -EAGAIN when the device queue is full (drop or
 * wait for EPOLLOUT), -EINVAL for a malformed packet, or -errno. */
int tun_write(struct tun *t, const uint8_t *p, size_t n);

#endif
