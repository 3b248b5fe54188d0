// SPDX-License-Identifier: GPL-2.0-only
/*
 * PSK-only mode's kernel backend (wgkernel.h): WG_CMD_GET_DEVICE dumps and
 * a one-peer WG_CMD_SET_DEVICE over generic netlink.
 */
#include "agent/wgkernel.h"

#include "agent/wgext.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "crypto/ct.h"
#include "io/env.h"
#include "uapi/text.h"

_Static_assert(PROTO_KEY_LEN == WG_KEY_LEN, "WireGuard keys are 32 bytes everywhere");

/* A dump interrupted by a concurrent change is asked again this often. */
#define WGKERNEL_DUMP_TRIES 3

struct wgkernel {
	struct mnl_socket *sock; /* NULL: reopen at the next call */
	uint32_t portid, seq;
	uint16_t family;
	struct wgkernel_state st; /* the last dump; st.dev NULL: none */
	uint64_t st_at;		  /* io_now_ns() when it was read */
	char ifname[IFNAMSIZ];
	char err[IO_ERR_MSGLEN];
	uint8_t dgram[WGKERNEL_DGRAM_MAX] __attribute__((aligned(8)));
};

/* ---- attributes ------------------------------------------------------------ */

/* Walks the attributes of [p, p + rem): each must lie wholly inside, and
 * nothing that is not an attribute may be left over (the last one may
 * lack its padding). p is 4-byte aligned. */
struct attr_it {
	const uint8_t *p;
	size_t rem;
	bool bad;
};

static bool attr_next(struct attr_it *it, uint16_t *type, const uint8_t **data, size_t *len)
{
	struct nlattr a;
	size_t step;

	if (!it->rem)
		return false;
	if (it->rem < NLA_HDRLEN) {
		it->bad = true;
		return false;
	}
	memcpy(&a, it->p, sizeof(a));
	if (a.nla_len < NLA_HDRLEN || a.nla_len > it->rem) {
		it->bad = true;
		return false;
	}
	*type = a.nla_type & NLA_TYPE_MASK;
	*data = it->p + NLA_HDRLEN;
	*len = a.nla_len - NLA_HDRLEN;
	step = NLA_ALIGN(a.nla_len);
	if (step >= it->rem) {
		it->rem = 0;
	} else {
		it->p += step;
		it->rem -= step;
	}
	return true;
}

static uint16_t get_u16(const uint8_t *d)
{
	uint16_t v;

	memcpy(&v, d, sizeof(v));
	return v;
}

static uint32_t get_u32(const uint8_t *d)
{
	uint32_t v;

	memcpy(&v, d, sizeof(v));
	return v;
}

static uint64_t get_u64(const uint8_t *d)
{
	uint64_t v;

	memcpy(&v, d, sizeof(v));
	return v;
}

static bool ifname_ok(const char *ifname)
{
	size_t n = strnlen(ifname, IFNAMSIZ);

	return n > 0 && n < IFNAMSIZ;
}

/* ---- requests --------------------------------------------------------------- */

/* Header of a request: nlmsghdr and genlmsghdr, or NULL if cap is too small. */
static struct nlmsghdr *msg_start(void *buf, size_t cap, uint16_t type, uint16_t flags,
				  uint32_t seq, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *h;
	struct genlmsghdr *g;

	if (cap < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*g)))
		return NULL;
	h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return h;
}

int wgkernel_build_getfamily(void *buf, size_t cap, uint32_t seq, size_t *len)
{
	struct nlmsghdr *h;

	/* No NLM_F_ACK: the answer is the family or an error, one message. */
	h = msg_start(buf, cap, GENL_ID_CTRL, NLM_F_REQUEST, seq, CTRL_CMD_GETFAMILY, 1);
	if (!h || !mnl_attr_put_strz_check(h, cap, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME))
		return -ENOSPC;
	*len = h->nlmsg_len;
	return 0;
}

int wgkernel_build_get(void *buf, size_t cap, uint16_t family, uint32_t seq, const char *ifname,
		       size_t *len)
{
	struct nlmsghdr *h;

	if (!ifname_ok(ifname))
		return -EINVAL;
	h = msg_start(buf, cap, family, NLM_F_REQUEST | NLM_F_DUMP, seq, WG_CMD_GET_DEVICE,
		      WG_GENL_VERSION);
	if (!h || !mnl_attr_put_strz_check(h, cap, WGDEVICE_A_IFNAME, ifname))
		return -ENOSPC;
	*len = h->nlmsg_len;
	return 0;
}

int wgkernel_build_set_psk(void *buf, size_t cap, uint16_t family, uint32_t seq, const char *ifname,
			   const uint8_t pub[PROTO_KEY_LEN], const uint8_t psk[PROTO_KEY_LEN],
			   size_t *len)
{
	struct nlattr *peers, *peer;
	struct nlmsghdr *h;

	if (!ifname_ok(ifname))
		return -EINVAL;
	h = msg_start(buf, cap, family, NLM_F_REQUEST | NLM_F_ACK, seq, WG_CMD_SET_DEVICE,
		      WG_GENL_VERSION);
	if (!h || !mnl_attr_put_strz_check(h, cap, WGDEVICE_A_IFNAME, ifname))
		goto nospace;
	peers = mnl_attr_nest_start_check(h, cap, WGDEVICE_A_PEERS);
	peer = peers ? mnl_attr_nest_start_check(h, cap, 0) : NULL;
	/* update-only: a peer removed since our check is not re-created. */
	if (!peer || !mnl_attr_put_check(h, cap, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, pub) ||
	    !mnl_attr_put_u32_check(h, cap, WGPEER_A_FLAGS, WGPEER_F_UPDATE_ONLY) ||
	    !mnl_attr_put_check(h, cap, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN, psk))
		goto nospace;
	mnl_attr_nest_end(h, peer);
	mnl_attr_nest_end(h, peers);
	*len = h->nlmsg_len;
	return 0;
nospace:
	cry_wipe(buf, cap);
	return -ENOSPC;
}

/* ---- short answers ------------------------------------------------------------ */

/* The one message of a short answer in [buf, buf + len): ours, whole,
 * nothing after it. NULL if not. */
static const struct nlmsghdr *only_msg(const void *buf, size_t len, uint32_t seq, uint32_t portid)
{
	const struct nlmsghdr *h = buf;

	if (len < sizeof(*h) || h->nlmsg_len < sizeof(*h) || h->nlmsg_len > len ||
	    NLMSG_ALIGN(h->nlmsg_len) < len || h->nlmsg_seq != seq || h->nlmsg_pid != portid)
		return NULL;
	return h;
}

/* NLMSG_ERROR's code: a negative errno, or 0 for an acknowledgement.
 * 1 if the message does not carry one that makes sense. */
static int error_code(const struct nlmsghdr *h)
{
	int32_t e;

	if (h->nlmsg_len < NLMSG_HDRLEN + sizeof(e))
		return 1;
	memcpy(&e, (const uint8_t *)h + NLMSG_HDRLEN, sizeof(e));
	return e <= 0 && e >= -4095 ? e : 1;
}

int wgkernel_parse_ack(const void *buf, size_t len, uint32_t seq, uint32_t portid)
{
	const struct nlmsghdr *h = only_msg(buf, len, seq, portid);
	int e;

	if (!h || h->nlmsg_type != NLMSG_ERROR)
		return -EBADMSG;
	e = error_code(h);
	return e > 0 ? -EBADMSG : e;
}

int wgkernel_parse_family(const void *buf, size_t len, uint32_t seq, uint32_t portid,
			  uint16_t *family)
{
	const struct nlmsghdr *h = only_msg(buf, len, seq, portid);
	const struct genlmsghdr *g;
	struct attr_it it;
	const uint8_t *d;
	uint16_t type, id = 0;
	bool named = false;
	size_t n;
	int e;

	if (!h)
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR) {
		e = error_code(h);
		return e < 0 ? e : -EBADMSG; /* an acknowledgement is not a family */
	}
	if (h->nlmsg_type != GENL_ID_CTRL || h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return -EBADMSG;
	g = (const struct genlmsghdr *)((const uint8_t *)h + NLMSG_HDRLEN);
	if (g->cmd != CTRL_CMD_NEWFAMILY)
		return -EBADMSG;
	it = (struct attr_it){ (const uint8_t *)g + GENL_HDRLEN,
			       h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, false };
	while (attr_next(&it, &type, &d, &n)) {
		if (type == CTRL_ATTR_FAMILY_ID) {
			if (n != sizeof(uint16_t) || id)
				return -EBADMSG;
			id = get_u16(d);
			if (!id)
				return -EBADMSG;
		} else if (type == CTRL_ATTR_FAMILY_NAME) {
			if (n != sizeof(WG_GENL_NAME) ||
			    memcmp(d, WG_GENL_NAME, n) != 0) /* not secret */
				return -EBADMSG;
			named = true;
		}
	}
	if (it.bad || !id || !named)
		return -EBADMSG;
	*family = id;
	return 0;
}

/* ---- dumps ---------------------------------------------------------------------- */

struct dump {
	const struct wgkernel_req *req;
	struct wgkernel_state st;
	size_t cap_peers, cap_aips, cap_first;
	size_t *aip_first;     /* per peer: its first entry in st.dev->aips */
	unsigned int dev_seen; /* device attributes seen, 1u << type */
	size_t msgs;	       /* messages of the family so far */
	bool may_continue;     /* the next peer may continue the previous one */
};

#define BIT(t) (1u << (t))

/* One allowed IP: family, address, prefix length, each exactly once. */
static int parse_aip(const uint8_t *p, size_t len, struct wg_allowedip *out)
{
	struct attr_it it = { p, len, false };
	unsigned int seen = 0;
	const uint8_t *v, *addr = NULL;
	size_t n, alen = 0;
	uint16_t type;

	memset(out, 0, sizeof(*out));
	while (attr_next(&it, &type, &v, &n)) {
		if (type > WGALLOWEDIP_A_MAX)
			continue; /* newer than us */
		if (type == WGALLOWEDIP_A_UNSPEC || (seen & BIT(type)))
			return -EBADMSG;
		seen |= BIT(type);
		if (type == WGALLOWEDIP_A_FAMILY) {
			if (n != sizeof(uint16_t))
				return -EBADMSG;
			out->family = get_u16(v);
		} else if (type == WGALLOWEDIP_A_IPADDR) {
			addr = v;
			alen = n;
		} else { /* WGALLOWEDIP_A_CIDR_MASK */
			if (n != sizeof(uint8_t))
				return -EBADMSG;
			out->cidr = v[0];
		}
	}
	if (it.bad || seen != (BIT(WGALLOWEDIP_A_FAMILY) | BIT(WGALLOWEDIP_A_IPADDR) |
			       BIT(WGALLOWEDIP_A_CIDR_MASK)))
		return -EBADMSG;
	if (out->family == AF_INET && alen == 4 && out->cidr <= 32)
		memcpy(&out->addr.ip4, addr, 4);
	else if (out->family == AF_INET6 && alen == 16 && out->cidr <= 128)
		memcpy(&out->addr.ip6, addr, 16);
	else
		return -EBADMSG;
	return 0;
}

/* WGPEER_A_ALLOWEDIPS of peer i: appended to the state's one array. */
static int parse_aips(struct dump *d, size_t i, const uint8_t *p, size_t len)
{
	struct uapi_dev_state *s = d->st.dev;
	struct attr_it it = { p, len, false };
	const uint8_t *v;
	uint16_t type;
	size_t n;
	int ret;

	while (attr_next(&it, &type, &v, &n)) {
		if (type != 0)
			return -EBADMSG; /* list entries are numbered 0 */
		ret = uapi_text_grow((void **)&s->aips, &d->cap_aips, s->n_aips, sizeof(*s->aips),
				     UAPI_MAX_ALLOWEDIPS);
		if (ret)
			return ret == -E2BIG ? -EBADMSG : ret;
		ret = parse_aip(v, n, &s->aips[s->n_aips]);
		if (ret)
			return ret;
		s->n_aips++;
		s->peers[i].n_allowedips++;
	}
	return it.bad ? -EBADMSG : 0;
}

static int parse_endpoint(const uint8_t *v, size_t n, struct uapi_peer_state *p)
{
	struct io_endpoint ep;
	union io_sockaddr sa;

	if (n != sizeof(sa.in) && n != sizeof(sa.in6))
		return -EBADMSG;
	memset(&sa, 0, sizeof(sa));
	memcpy(&sa, v, n);
	if ((n == sizeof(sa.in) && sa.sa.sa_family != AF_INET) ||
	    (n == sizeof(sa.in6) && sa.sa.sa_family != AF_INET6))
		return -EBADMSG;
	/* A form Scope does not take (port 0) stays unset, as in uapi_get_parse. */
	if (io_endpoint_from_sockaddr(&sa.sa, (socklen_t)n, &ep) || !ep.port ||
	    io_endpoint_format(&ep, p->endpoint_text, sizeof(p->endpoint_text))) {
		memset(&p->endpoint, 0, sizeof(p->endpoint));
		p->endpoint_text[0] = '\0';
		return 0;
	}
	p->endpoint = ep;
	return 0;
}

static int parse_handshake(const uint8_t *v, size_t n, uint64_t *ns)
{
	int64_t ts[2]; /* struct __kernel_timespec: tv_sec, tv_nsec */

	if (n != sizeof(ts))
		return -EBADMSG;
	memcpy(ts, v, sizeof(ts));
	if (ts[0] < 0 || (uint64_t)ts[0] > UINT64_MAX / SC_NSEC_PER_SEC - 1 || ts[1] < 0 ||
	    ts[1] >= (int64_t)SC_NSEC_PER_SEC)
		return -EBADMSG;
	*ns = (uint64_t)ts[0] * SC_NSEC_PER_SEC + (uint64_t)ts[1];
	return 0;
}

/* One attribute of a peer into p. ALLOWEDIPS are left to the caller. */
static int peer_attr(uint16_t type, const uint8_t *v, size_t n, struct uapi_peer_state *p)
{
	switch (type) {
	case WGPEER_A_PUBLIC_KEY:
	case WGPEER_A_PRESHARED_KEY:
		if (n != WG_KEY_LEN)
			return -EBADMSG;
		memcpy(type == WGPEER_A_PUBLIC_KEY ? p->public_key : p->preshared_key, v, n);
		return 0;
	case WGPEER_A_ENDPOINT:
		return parse_endpoint(v, n, p);
	case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL:
		if (n != sizeof(uint16_t))
			return -EBADMSG;
		p->persistent_keepalive = get_u16(v);
		return 0;
	case WGPEER_A_LAST_HANDSHAKE_TIME:
		return parse_handshake(v, n, &p->last_handshake_ns);
	case WGPEER_A_RX_BYTES:
	case WGPEER_A_TX_BYTES:
		if (n != sizeof(uint64_t))
			return -EBADMSG;
		*(type == WGPEER_A_RX_BYTES ? &p->rx_bytes : &p->tx_bytes) = get_u64(v);
		return 0;
	case WGPEER_A_PROTOCOL_VERSION:
		return n == sizeof(uint32_t) && get_u32(v) == 1 ? 0 : -EBADMSG;
	case WGPEER_A_ALLOWEDIPS:
		return 0;
	default: /* WGPEER_A_FLAGS is for set only */
		return -EBADMSG;
	}
}

static int add_peer(struct dump *d, const struct uapi_peer_state *p)
{
	struct uapi_dev_state *s = d->st.dev;
	int ret;

	ret = uapi_text_grow((void **)&s->peers, &d->cap_peers, s->n_peers, sizeof(*s->peers),
			     UAPI_MAX_PEERS);
	if (!ret)
		ret = uapi_text_grow((void **)&d->aip_first, &d->cap_first, s->n_peers,
				     sizeof(*d->aip_first), UAPI_MAX_PEERS);
	if (ret)
		return ret == -E2BIG ? -EBADMSG : ret;
	s->peers[s->n_peers] = *p;
	s->peers[s->n_peers].n_allowedips = 0;
	d->aip_first[s->n_peers] = s->n_aips;
	s->n_peers++;
	return 0;
}

static int key_cmp_raw(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, WG_KEY_LEN); /* not secret: public keys */
}

/* One entry of WGDEVICE_A_PEERS. The kernel writes a peer whose allowed
 * IPs did not fit again first thing in the next message, with only its
 * public key and the rest of its allowed IPs: that one is coalesced. */
static int parse_peer(struct dump *d, const uint8_t *ptr, size_t len)
{
	static const unsigned int cont_only = BIT(WGPEER_A_PUBLIC_KEY) | BIT(WGPEER_A_ALLOWEDIPS);
	struct uapi_dev_state *s = d->st.dev;
	struct attr_it it = { ptr, len, false };
	struct uapi_peer_state p;
	const uint8_t *v, *aips = NULL;
	unsigned int seen = 0;
	size_t n, aips_len = 0;
	uint16_t type;
	bool cont;
	int ret = 0;

	memset(&p, 0, sizeof(p));
	while (!ret && attr_next(&it, &type, &v, &n)) {
		if (type > WGPEER_A_MAX)
			continue; /* newer than us */
		if (type == WGPEER_A_UNSPEC) {
			/* Padding before a u64 on strict-alignment machines. */
			ret = n == 0 ? 0 : -EBADMSG;
			continue;
		}
		if (seen & BIT(type)) {
			ret = -EBADMSG;
			break;
		}
		seen |= BIT(type);
		if (type == WGPEER_A_ALLOWEDIPS) {
			aips = v;
			aips_len = n;
		}
		ret = peer_attr(type, v, n, &p);
	}
	if (!ret && (it.bad || !(seen & BIT(WGPEER_A_PUBLIC_KEY))))
		ret = -EBADMSG;
	if (ret)
		goto out;
	cont = d->may_continue && s->n_peers &&
	       key_cmp_raw(s->peers[s->n_peers - 1].public_key, p.public_key) == 0;
	d->may_continue = false;
	if (cont && (seen & ~cont_only)) {
		ret = -EBADMSG;
		goto out;
	}
	if (!cont)
		ret = add_peer(d, &p);
	if (!ret && aips)
		ret = parse_aips(d, s->n_peers - 1, aips, aips_len);
out:
	cry_wipe(&p, sizeof(p));
	return ret;
}

static int parse_peers(struct dump *d, const uint8_t *p, size_t len)
{
	struct attr_it it = { p, len, false };
	const uint8_t *v;
	uint16_t type;
	size_t n;
	int ret;

	while (attr_next(&it, &type, &v, &n)) {
		if (type != 0)
			return -EBADMSG;
		ret = parse_peer(d, v, n);
		if (ret)
			return ret;
	}
	return it.bad ? -EBADMSG : 0;
}

/* WGDEVICE_A_IFNAME: NUL-terminated, exactly the name we asked for. */
static bool ifname_is(const uint8_t *v, size_t n, const char *want)
{
	size_t wl = strlen(want);

	return n == wl + 1 && memcmp(v, want, wl) == 0 && v[wl] == '\0'; /* not secret */
}

static int device_attr(struct dump *d, uint16_t type, const uint8_t *v, size_t n)
{
	struct wgkernel_state *st = &d->st;

	switch (type) {
	case WGDEVICE_A_IFINDEX:
		if (n != sizeof(uint32_t))
			return -EBADMSG;
		st->ifindex = get_u32(v);
		return 0;
	case WGDEVICE_A_IFNAME:
		return ifname_is(v, n, d->req->ifname) ? 0 : -EBADMSG;
	case WGDEVICE_A_PRIVATE_KEY:
		if (n != WG_KEY_LEN)
			return -EBADMSG;
		memcpy(st->dev->private_key, v, n);
		st->dev->has_private_key = !cry_is_zero(v, n);
		return 0;
	case WGDEVICE_A_PUBLIC_KEY:
		if (n != WG_KEY_LEN)
			return -EBADMSG;
		memcpy(st->public_key, v, n);
		st->has_public_key = !cry_is_zero(v, n);
		return 0;
	case WGDEVICE_A_LISTEN_PORT:
		if (n != sizeof(uint16_t))
			return -EBADMSG;
		st->dev->listen_port = get_u16(v);
		return 0;
	case WGDEVICE_A_FWMARK:
		if (n != sizeof(uint32_t))
			return -EBADMSG;
		st->dev->fwmark = get_u32(v);
		return 0;
	case WGDEVICE_A_PEERS:
		return parse_peers(d, v, n);
	default: /* UNSPEC, and WGDEVICE_A_FLAGS, which is for set only */
		return -EBADMSG;
	}
}

/* One WG_CMD_GET_DEVICE message. The first carries the device's
 * attributes (each at most once in the whole dump; the name may be
 * repeated, always ours), later ones only more peers. */
static int parse_msg(struct dump *d, const struct nlmsghdr *h)
{
	const struct genlmsghdr *g = (const void *)((const uint8_t *)h + NLMSG_HDRLEN);
	unsigned int here = 0;
	struct attr_it it;
	const uint8_t *v;
	uint16_t type;
	size_t n;
	int ret;

	if (!(h->nlmsg_flags & NLM_F_MULTI) || h->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN ||
	    g->cmd != WG_CMD_GET_DEVICE)
		return -EBADMSG;
	if (h->nlmsg_flags & NLM_F_DUMP_INTR)
		return -EAGAIN; /* the interface changed meanwhile: not one state */
	d->may_continue = d->msgs > 0;
	d->msgs++;
	it = (struct attr_it){ (const uint8_t *)g + GENL_HDRLEN,
			       h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, false };
	while (attr_next(&it, &type, &v, &n)) {
		if (type > WGDEVICE_A_MAX)
			continue; /* newer than us */
		if ((here & BIT(type)) || (type != WGDEVICE_A_IFNAME && type != WGDEVICE_A_PEERS &&
					   (d->dev_seen & BIT(type))))
			return -EBADMSG;
		here |= BIT(type);
		d->dev_seen |= BIT(type);
		ret = device_attr(d, type, v, n);
		if (ret)
			return ret;
	}
	if (it.bad)
		return -EBADMSG;
	/* The kernel names the interface first thing: a reply without our
	 * name is for another interface, or not the kernel's. */
	if (d->msgs == 1 && !((here & BIT(WGDEVICE_A_IFNAME)) && (here & BIT(WGDEVICE_A_IFINDEX))))
		return -EBADMSG;
	return 0;
}

/* The end of a dump: NLMSG_DONE (its code) or an NLMSG_ERROR in place of
 * the dump. 0 only for a DONE with 0 after at least one message. */
static int parse_end(const struct dump *d, const struct nlmsghdr *h)
{
	int e = error_code(h);

	if (e > 0)
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR)
		return e < 0 ? e : -EBADMSG; /* an acknowledgement is not a dump */
	if (e < 0)
		return e;
	return d->msgs ? 0 : -EBADMSG;
}

static int walk_dump(struct dump *d, const uint8_t *buf, size_t len)
{
	const struct wgkernel_req *req = d->req;
	const struct nlmsghdr *h;
	size_t step;
	int ret;

	for (;;) {
		if (len < sizeof(*h))
			return -EBADMSG; /* truncated, or no NLMSG_DONE */
		h = (const struct nlmsghdr *)buf;
		if (h->nlmsg_len < sizeof(*h) || h->nlmsg_len > len || h->nlmsg_seq != req->seq ||
		    h->nlmsg_pid != req->portid)
			return -EBADMSG;
		step = NLMSG_ALIGN(h->nlmsg_len);
		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
			return step >= len ? parse_end(d, h) : -EBADMSG; /* bytes after the end */
		if (h->nlmsg_type != req->family || step >= len)
			return -EBADMSG;
		ret = parse_msg(d, h);
		if (ret)
			return ret;
		buf += step;
		len -= step;
	}
}

int wgkernel_parse_dump(const void *buf, size_t len, const struct wgkernel_req *req,
			struct wgkernel_state *out)
{
	struct dump d = { .req = req };
	struct uapi_dev_state *s;
	int ret;

	if (len > WGKERNEL_DUMP_MAX || !ifname_ok(req->ifname))
		return -EBADMSG;
	d.st.dev = calloc(1, sizeof(*d.st.dev));
	if (!d.st.dev)
		return -ENOMEM;
	s = d.st.dev;
	ret = walk_dump(&d, buf, len);
	if (!ret)
		ret = wgext_peers_distinct(s);
	if (!ret) {
		/* The array no longer moves: point each peer at its entries. */
		for (size_t i = 0; i < s->n_peers; i++)
			s->peers[i].allowedips = s->n_aips ? s->aips + d.aip_first[i] : NULL;
		*out = d.st;
	} else {
		/* Wipe the peers the grown array held (cap, not n, elements). */
		if (s->peers)
			cry_wipe(s->peers, d.cap_peers * sizeof(*s->peers));
		wgkernel_state_clear(&d.st);
	}
	free(d.aip_first);
	return ret;
}

void wgkernel_state_clear(struct wgkernel_state *s)
{
	uapi_dev_state_free(s->dev);
	cry_wipe(s, sizeof(*s));
}

void wgkernel_peer_tunnel(const struct wgkernel_state *s, const uint8_t wg[PROTO_KEY_LEN],
			  struct kexd_tunnel *out)
{
	memset(out, 0, sizeof(*out));
	if (s->dev)
		wgext_peer_tunnel(s->dev, wg, out);
}

/* ---- the socket ------------------------------------------------------------------- */

static void wk_close(struct wgkernel *w)
{
	if (w->sock)
		mnl_socket_close(w->sock);
	w->sock = NULL;
}

static int wk_errf(struct wgkernel *w, int ret, const char *what)
{
	snprintf(w->err, sizeof(w->err), "interface %s: %s: %s", w->ifname, what, strerror(-ret));
	return ret;
}

/* One datagram into w->dgram: its length, or -errno. */
static ssize_t wk_recv(struct wgkernel *w)
{
	ssize_t n = mnl_socket_recvfrom(w->sock, w->dgram, sizeof(w->dgram));

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
	return n;
}

static int wk_send(struct wgkernel *w, const void *msg, size_t len)
{
	ssize_t n = mnl_socket_sendto(w->sock, msg, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int wk_resolve(struct wgkernel *w)
{
	uint8_t req[128] __attribute__((aligned(4)));
	size_t len;
	ssize_t n;
	int ret;

	ret = wgkernel_build_getfamily(req, sizeof(req), ++w->seq, &len);
	if (!ret)
		ret = wk_send(w, req, len);
	if (ret)
		return wk_errf(w, ret, "generic netlink");
	n = wk_recv(w);
	if (n < 0)
		return wk_errf(w, (int)n, "generic netlink");
	ret = wgkernel_parse_family(w->dgram, (size_t)n, w->seq, w->portid, &w->family);
	if (ret == -ENOENT) {
		snprintf(w->err, sizeof(w->err), "%s", WGKERNEL_NO_MODULE);
		return -EPROTONOSUPPORT;
	}
	return ret ? wk_errf(w, ret, "resolving the \"wireguard\" family") : 0;
}

/* The socket, opened and the family resolved unless it already is. */
static int wk_open(struct wgkernel *w)
{
	struct timeval tv = { .tv_sec = WGKERNEL_TIMEOUT_MS / 1000,
			      .tv_usec = (WGKERNEL_TIMEOUT_MS % 1000) * 1000 };
	int ret;

	if (w->sock)
		return 0;
	w->sock = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!w->sock || mnl_socket_bind(w->sock, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(w->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		ret = wk_errf(w, -errno, "generic netlink socket");
		wk_close(w);
		return ret;
	}
	w->portid = mnl_socket_get_portid(w->sock);
	ret = wk_resolve(w);
	if (ret)
		wk_close(w);
	return ret;
}

/* Does the datagram [p, p + n) end a dump (DONE, ERROR, or a message
 * that is not part of one, which the parser then refuses)? */
static bool dgram_ends(const uint8_t *p, size_t n)
{
	const struct nlmsghdr *h = (const void *)p;
	int rem = (int)n;

	for (; mnl_nlmsg_ok(h, rem); h = mnl_nlmsg_next(h, &rem))
		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR ||
		    !(h->nlmsg_flags & NLM_F_MULTI))
			return true;
	return rem != 0; /* a broken datagram: nothing sensible follows */
}

/* Append [p, p + n) to *buf, growing it into a new block and wiping the
 * old one: dumps hold keys. */
static int buf_append(uint8_t **buf, size_t *len, size_t *cap, const uint8_t *p, size_t n)
{
	uint8_t *nb;
	size_t ncap;

	if (n > WGKERNEL_DUMP_MAX - *len)
		return -EMSGSIZE;
	if (*len + n > *cap) {
		ncap = *cap ? *cap : WGKERNEL_DGRAM_MAX;
		while (ncap < *len + n)
			ncap *= 2;
		nb = malloc(ncap);
		if (!nb)
			return -ENOMEM;
		if (*buf) {
			memcpy(nb, *buf, *len);
			cry_wipe(*buf, *cap);
			free(*buf);
		}
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return 0;
}

/* One dump, received whole, then parsed. */
static int wk_dump_once(struct wgkernel *w, struct wgkernel_state *out)
{
	struct wgkernel_req req = { 0 };
	uint8_t msg[128] __attribute__((aligned(4)));
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, mlen;
	ssize_t n;
	int ret;

	ret = wk_open(w);
	if (ret)
		return ret;
	req = (struct wgkernel_req){ w->family, ++w->seq, w->portid, w->ifname };
	ret = wgkernel_build_get(msg, sizeof(msg), w->family, req.seq, w->ifname, &mlen);
	if (!ret)
		ret = wk_send(w, msg, mlen);
	while (!ret) {
		n = wk_recv(w);
		ret = n < 0 ? (int)n : buf_append(&buf, &len, &cap, w->dgram, (size_t)n);
		if (!ret && dgram_ends(w->dgram, (size_t)n))
			break;
	}
	cry_wipe(w->dgram, sizeof(w->dgram));
	if (!ret)
		ret = wgkernel_parse_dump(buf, len, &req, out);
	if (buf) {
		cry_wipe(buf, cap);
		free(buf);
	}
	return ret;
}

static int wk_dump(struct wgkernel *w, struct wgkernel_state *out)
{
	int ret = -EAGAIN;

	for (int i = 0; i < WGKERNEL_DUMP_TRIES && ret == -EAGAIN; i++)
		ret = wk_dump_once(w, out);
	if (!ret)
		return 0;
	/* Whatever is still queued answers nothing we will ask. */
	if (ret != -ENODEV && ret != -EOPNOTSUPP && ret != -EPERM)
		wk_close(w);
	if (ret == -EPROTONOSUPPORT)
		return ret; /* the message is set */
	if (ret == -ENODEV)
		snprintf(w->err, sizeof(w->err), "interface %s does not exist", w->ifname);
	else if (ret == -EOPNOTSUPP)
		snprintf(w->err, sizeof(w->err), "interface %s is not a WireGuard interface",
			 w->ifname);
	else if (ret == -EPERM)
		snprintf(w->err, sizeof(w->err),
			 "interface %s: reading WireGuard needs CAP_NET_ADMIN", w->ifname);
	else if (ret == -EBADMSG)
		snprintf(w->err, sizeof(w->err), "interface %s: a dump reply that does not parse",
			 w->ifname);
	else
		wk_errf(w, ret, "WG_CMD_GET_DEVICE");
	return ret;
}

/* The interface's state, read again unless the cached one is fresh. */
static int wk_state(struct wgkernel *w, bool fresh, const struct wgkernel_state **out)
{
	struct wgkernel_state st = { 0 };
	uint64_t now = io_now_ns();
	int ret;

	if (w->st.dev && !fresh && now - w->st_at < WGKERNEL_CACHE_NS) {
		*out = &w->st;
		return 0;
	}
	ret = wk_dump(w, &st);
	if (ret)
		return ret;
	wgkernel_invalidate(w);
	w->st = st;
	w->st_at = now;
	*out = &w->st;
	return 0;
}

int wgkernel_new(const char *ifname, struct wgkernel **out, char *err, size_t errlen)
{
	struct wgkernel *w;
	int ret;

	if (!ifname_ok(ifname)) {
		snprintf(err, errlen, "'%s' is not an interface name", ifname);
		return -EINVAL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(w->ifname, ifname, strlen(ifname) + 1);
	w->seq = (uint32_t)time(NULL);
	ret = wk_open(w);
	if (ret) {
		snprintf(err, errlen, "%s", w->err);
		wgkernel_free(w);
		return ret;
	}
	*out = w;
	return 0;
}

void wgkernel_invalidate(struct wgkernel *w)
{
	wgkernel_state_clear(&w->st);
}

void wgkernel_free(struct wgkernel *w)
{
	if (!w)
		return;
	wk_close(w);
	wgkernel_invalidate(w);
	cry_wipe(w, sizeof(*w));
	free(w);
}

const char *wgkernel_error(const struct wgkernel *w)
{
	return w->err;
}

int wgkernel_public_key(struct wgkernel *w, uint8_t pub[PROTO_KEY_LEN])
{
	const struct wgkernel_state *st;
	int ret;

	ret = wk_state(w, true, &st);
	if (ret)
		return ret;
	if (!st->has_public_key) {
		snprintf(w->err, sizeof(w->err), "interface %s has no private key", w->ifname);
		return -ENOKEY;
	}
	memcpy(pub, st->public_key, WG_KEY_LEN);
	return 0;
}

int wgkernel_tunnel(struct wgkernel *w, const uint8_t wg[PROTO_KEY_LEN], struct kexd_tunnel *out)
{
	const struct wgkernel_state *st;
	int ret;

	ret = wk_state(w, false, &st);
	if (ret)
		return ret;
	wgkernel_peer_tunnel(st, wg, out);
	return 0;
}

int wgkernel_read(struct wgkernel *w, struct uapi_dev_state **out)
{
	struct wgkernel_state st = { 0 };
	int ret;

	ret = wk_dump(w, &st);
	if (ret)
		return ret;
	*out = st.dev;
	st.dev = NULL;
	wgkernel_state_clear(&st);
	return 0;
}

int wgkernel_set_psk(struct wgkernel *w, const uint8_t wg[PROTO_KEY_LEN],
		     const struct kexd_psk *ring, size_t n)
{
	static const uint8_t none[WG_KEY_LEN];
	uint8_t msg[WGKERNEL_SET_MSG_MAX] __attribute__((aligned(4)));
	const struct wgkernel_state *st;
	struct kexd_tunnel t;
	size_t len;
	ssize_t got;
	uint32_t seq;
	int ret;

	/* update-only would silently ignore a peer the interface lacks. */
	ret = wk_state(w, true, &st);
	if (ret)
		return ret;
	wgkernel_peer_tunnel(st, wg, &t);
	if (!t.known) {
		snprintf(w->err, sizeof(w->err), "interface %s has no such peer", w->ifname);
		return -ENOENT;
	}
	seq = ++w->seq;
	ret = wgkernel_build_set_psk(msg, sizeof(msg), w->family, seq, w->ifname, wg,
				     n ? ring[0].key : none, &len);
	if (!ret)
		ret = wk_send(w, msg, len);
	cry_wipe(msg, sizeof(msg));
	if (!ret) {
		got = wk_recv(w);
		ret = got < 0 ? (int)got
			      : wgkernel_parse_ack(w->dgram, (size_t)got, seq, w->portid);
	}
	/* The next poll must see the interface as it is now. */
	wgkernel_invalidate(w);
	if (ret) {
		wk_errf(w, ret, "WG_CMD_SET_DEVICE");
		if (ret == -ETIMEDOUT || ret == -EBADMSG)
			wk_close(w);
	}
	return ret;
}
