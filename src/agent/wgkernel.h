/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The Linux kernel's WireGuard through generic netlink: the second backend
 * of PSK-only mode (docs/pskonly.md, docs/wgkernel.md), the same role and
 * shape as wgext.h (the UAPI socket). It reads the interface with
 * WG_CMD_GET_DEVICE (a dump, NLM_F_DUMP, by WGDEVICE_A_IFNAME) and the only
 * WG_CMD_SET_DEVICE it ever sends is
 *
 *	WGDEVICE_A_IFNAME	<ifname>
 *	WGDEVICE_A_PEERS	one peer:
 *		WGPEER_A_PUBLIC_KEY	<peer>
 *		WGPEER_A_FLAGS		WGPEER_F_UPDATE_ONLY
 *		WGPEER_A_PRESHARED_KEY	<psk, zero for none>
 *
 * for one peer the interface already has: no WGDEVICE_A_FLAGS (never
 * replace-peers), no remove or replace-allowed-IPs flag, nothing else, so
 * every other setting stays as the operator made it.
 *
 * A dump reply is parsed all-or-nothing into the UAPI client's struct
 * (uapi/client.h: status code can show either backend): every message
 * answers our sequence number, the first one names our interface, known
 * attributes have their exact sizes, a peer whose allowed IPs did not fit
 * is continued at the start of the next message (only WGPEER_A_PUBLIC_KEY
 * and WGPEER_A_ALLOWEDIPS, coalesced as wg(8) does), a peer listed twice
 * otherwise is refused, at most UAPI_MAX_PEERS peers, UAPI_MAX_ALLOWEDIPS
 * allowed IPs and WGKERNEL_DUMP_MAX bytes. Attribute types newer than this
 * header are skipped. An interrupted dump (NLM_F_DUMP_INTR) is -EAGAIN and
 * is retried. Replies and requests carry keys: every buffer is wiped.
 *
 * Blocking calls with a timeout (WGKERNEL_TIMEOUT_MS per receive); the
 * socket is reopened (and the family id resolved again) after any error,
 * so a module loaded later is picked up. One wgkernel is used from one
 * thread. Needs CAP_NET_ADMIN in the interface's network namespace.
 */
#ifndef AGENT_WGKERNEL_H
#define AGENT_WGKERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/kexd.h"
#include "uapi/client.h"
#include "uapi/limits.h"

#define WGKERNEL_TIMEOUT_MS 2000
#define WGKERNEL_CACHE_NS   (250 * SC_NSEC_PER_MSEC)
/* Bytes of one whole dump (all its messages): like UAPI_MAX_REPLY, the
 * device's caps priced at the kernel's encoding (a peer's attributes are
 * under 300 bytes, an allowed IP 40, plus a message header and a repeated
 * public key every few KiB). */
#define WGKERNEL_DUMP_MAX (4096u + WG_MAX_PEERS * 512u + WG_MAX_ALLOWEDIPS * 64u)
/* One datagram: the kernel sizes dump messages by what we read with,
 * capped at 32 KiB; more room costs nothing. */
#define WGKERNEL_DGRAM_MAX (64u << 10)
/* Room for wgkernel_build_set_psk's message (116 bytes with a 3-letter
 * name, 128 with the longest). */
#define WGKERNEL_SET_MSG_MAX 256

/* The message when the kernel has no "wireguard" generic netlink family. */
#define WGKERNEL_NO_MODULE \
	"the kernel has no WireGuard module (generic netlink family \"wireguard\" not found)"

struct wgkernel;

/* A backend for the kernel interface ifname (copied): opens a generic
 * netlink socket and resolves the "wireguard" family. 0, -EINVAL (not an
 * interface name), -EPROTONOSUPPORT (no WireGuard module: err says so,
 * WGKERNEL_NO_MODULE), socket errors, -ENOMEM; err gets the message. */
int wgkernel_new(const char *ifname, struct wgkernel **out, char *err, size_t errlen);
/* Closes the socket, wipes the cached state. NULL ok. */
void wgkernel_free(struct wgkernel *w);

/* The interface's public key (WGDEVICE_A_PUBLIC_KEY of a fresh dump).
 * 0, -ENOKEY (no private key set), or the errors below. */
int wgkernel_public_key(struct wgkernel *w, uint8_t pub[PROTO_KEY_LEN]);
/* kexd_ops.set_psks for a single-key backend: program ring[0] (n == 0: no
 * PSK) as the preshared key of peer wg, nothing else. 0, -ENOENT (the
 * interface has no such peer: nothing sent), or the errors below. */
int wgkernel_set_psk(struct wgkernel *w, const uint8_t wg[PROTO_KEY_LEN],
		     const struct kexd_psk *ring, size_t n);
/* kexd_ops.tunnel: known, last_handshake_ns and rx_bytes of peer wg (known
 * false when the interface does not have it). 0 or the errors below. */
int wgkernel_tunnel(struct wgkernel *w, const uint8_t wg[PROTO_KEY_LEN], struct kexd_tunnel *out);
/* A fresh read of the whole interface (status: endpoints, tx, allowed
 * IPs). *out only on success; free with uapi_dev_state_free. */
int wgkernel_read(struct wgkernel *w, struct uapi_dev_state **out);
/* Forget the cached state: the next call asks the kernel again. */
void wgkernel_invalidate(struct wgkernel *w);

/* Errors: the kernel's (-ENODEV: no such interface; -EOPNOTSUPP: not a
 * WireGuard interface; -EPERM: no CAP_NET_ADMIN), -EPROTONOSUPPORT (the
 * module went away), -ETIMEDOUT, -EBADMSG (a reply that does not parse),
 * -EMSGSIZE (a dump over WGKERNEL_DUMP_MAX), -EAGAIN (the dump was
 * interrupted three times in a row). The last message, for the log: */
const char *wgkernel_error(const struct wgkernel *w);

/* ---- messages, without a socket (tests, fuzz-wgkernel-dump) ---- */

/* Each writes one request into buf[0, cap) and its length to *len.
 * 0, -EINVAL (ifname empty or over 15 bytes), -ENOSPC (cap too small; buf
 * wiped). CTRL_CMD_GETFAMILY for "wireguard": */
int wgkernel_build_getfamily(void *buf, size_t cap, uint32_t seq, size_t *len);
/* WG_CMD_GET_DEVICE, NLM_F_DUMP, by name: */
int wgkernel_build_get(void *buf, size_t cap, uint16_t family, uint32_t seq, const char *ifname,
		       size_t *len);
/* The one WG_CMD_SET_DEVICE above, with NLM_F_ACK (buf holds psk: wipe it): */
int wgkernel_build_set_psk(void *buf, size_t cap, uint16_t family, uint32_t seq, const char *ifname,
			   const uint8_t pub[PROTO_KEY_LEN], const uint8_t psk[PROTO_KEY_LEN],
			   size_t *len);

/* The answer to CTRL_CMD_GETFAMILY: the family id of "wireguard". 0, the
 * kernel's error (-ENOENT: no such family), -EBADMSG. buf 4-byte aligned. */
int wgkernel_parse_family(const void *buf, size_t len, uint32_t seq, uint32_t portid,
			  uint16_t *family);
/* The acknowledgement of a request: 0, the kernel's error, -EBADMSG. */
int wgkernel_parse_ack(const void *buf, size_t len, uint32_t seq, uint32_t portid);

/* What a dump reply must answer. */
struct wgkernel_req {
	uint16_t family;
	uint32_t seq, portid;
	const char *ifname;
};

/* A parsed dump: the interface as uapi/client.h describes one, plus what
 * only the kernel says. */
struct wgkernel_state {
	struct uapi_dev_state *dev; /* owned */
	uint32_t ifindex;
	bool has_public_key;
	uint8_t public_key[PROTO_KEY_LEN];
};

/* Every message of one dump reply, as received one after another, up to
 * and including NLMSG_DONE (or the NLMSG_ERROR that replaced the dump).
 * 0, -EBADMSG, -EAGAIN (NLM_F_DUMP_INTR), the kernel's error, -ENOMEM.
 * *out only on success; clear it with wgkernel_state_clear. buf 4-byte
 * aligned. */
int wgkernel_parse_dump(const void *buf, size_t len, const struct wgkernel_req *req,
			struct wgkernel_state *out);
/* Wipe and free. */
void wgkernel_state_clear(struct wgkernel_state *s);
/* The peer wg of a parsed dump as kexd sees it (known false if absent). */
void wgkernel_peer_tunnel(const struct wgkernel_state *s, const uint8_t wg[PROTO_KEY_LEN],
			  struct kexd_tunnel *out);

#endif
