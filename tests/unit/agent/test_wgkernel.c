// SPDX-License-Identifier: GPL-2.0-only
/*
 * PSK-only mode's kernel backend (agent/wgkernel.h) without a kernel
 * module: the SET message's bytes decoded back with libmnl and checked
 * against <linux/wireguard.h> (only the allowed attributes, update-only,
 * no replace flag); dump replies built here the way the kernel writes them
 * (drivers/net/wireguard/netlink.c: device attributes in the first message
 * only, a peer's allowed IPs continued in the next message) parsed, or
 * refused whole; and, on a kernel without WireGuard, the error an
 * operator sees.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>

#include "agent/wgkernel.h"
#include "crypto/ct.h"
#include "test.h"

#define FAM	0x1c
#define SEQ	0x01020304u
#define PORTID	0x4321u
#define IFNAME	"wg0"
#define IFINDEX 7

static const struct wgkernel_req REQ = { FAM, SEQ, PORTID, IFNAME };

static const uint8_t PRIV[32] = { 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77 };
static const uint8_t PUB[64] = { 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97 };

/* ---- building replies ---------------------------------------------------- */

struct dbuf {
	uint8_t *b;
	size_t len, cap;
};

/* Room for one more message of up to 128 KiB (mnl does not bound-check). */
static uint8_t *db_room(struct dbuf *d)
{
	size_t need = d->len + (128u << 10);

	if (need > d->cap) {
		d->cap = need * 2;
		d->b = realloc(d->b, d->cap);
		if (!d->b)
			abort();
	}
	memset(d->b + d->len, 0, 128u << 10);
	return d->b + d->len;
}

static void db_free(struct dbuf *d)
{
	free(d->b);
	memset(d, 0, sizeof(*d));
}

static struct nlmsghdr *msg_begin(struct dbuf *d, uint16_t extra_flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(db_room(d));
	struct genlmsghdr *g;

	h->nlmsg_type = FAM;
	h->nlmsg_flags = NLM_F_MULTI | extra_flags;
	h->nlmsg_seq = SEQ;
	h->nlmsg_pid = PORTID;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = WG_GENL_VERSION;
	return h;
}

static void msg_end(struct dbuf *d, struct nlmsghdr *h)
{
	d->len += NLMSG_ALIGN(h->nlmsg_len);
}

/* NLMSG_DONE (code err) or NLMSG_ERROR (err, with the request's header). */
static void put_end(struct dbuf *d, uint16_t type, int32_t err)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(db_room(d));
	uint8_t *p;

	h->nlmsg_type = type;
	h->nlmsg_flags = type == NLMSG_DONE ? NLM_F_MULTI : 0;
	h->nlmsg_seq = SEQ;
	h->nlmsg_pid = PORTID;
	p = mnl_nlmsg_put_extra_header(h,
				       type == NLMSG_DONE ? sizeof(err) : sizeof(struct nlmsgerr));
	memcpy(p, &err, sizeof(err));
	msg_end(d, h);
}

static void put_dev_key(struct nlmsghdr *h, const char *ifname, size_t publen)
{
	mnl_attr_put_u16(h, WGDEVICE_A_LISTEN_PORT, 51820);
	mnl_attr_put_u32(h, WGDEVICE_A_FWMARK, 0x42);
	mnl_attr_put_u32(h, WGDEVICE_A_IFINDEX, IFINDEX);
	mnl_attr_put_strz(h, WGDEVICE_A_IFNAME, ifname);
	mnl_attr_put(h, WGDEVICE_A_PRIVATE_KEY, 32, PRIV);
	mnl_attr_put(h, WGDEVICE_A_PUBLIC_KEY, publen, PUB);
}

static void put_dev(struct nlmsghdr *h, const char *ifname)
{
	put_dev_key(h, ifname, 32);
}

/* Test peer i: its key, and its j-th allowed IP (IPv4 for even j). */
static void peer_key(unsigned int i, uint8_t k[32])
{
	memset(k, 0xa0, 32);
	k[0] = (uint8_t)(i >> 16);
	k[1] = (uint8_t)(i >> 8);
	k[2] = (uint8_t)i;
}

static void peer_aip(unsigned int i, unsigned int j, struct wg_allowedip *a)
{
	memset(a, 0, sizeof(*a));
	if (j % 2 == 0) {
		a->family = AF_INET;
		a->addr.ip4.s_addr = htonl(0x0a000000u | (i & 0xff) << 16 | (j & 0xffff));
		a->cidr = 32;
	} else {
		a->family = AF_INET6;
		a->addr.ip6.s6_addr[0] = 0xfd;
		a->addr.ip6.s6_addr[1] = (uint8_t)i;
		a->addr.ip6.s6_addr[14] = (uint8_t)(j >> 8);
		a->addr.ip6.s6_addr[15] = (uint8_t)j;
		a->cidr = 128;
	}
}

static void put_aips(struct nlmsghdr *h, unsigned int i, unsigned int lo, unsigned int hi)
{
	struct nlattr *list = mnl_attr_nest_start(h, WGPEER_A_ALLOWEDIPS), *e;
	struct wg_allowedip a;

	for (unsigned int j = lo; j < hi; j++) {
		peer_aip(i, j, &a);
		e = mnl_attr_nest_start(h, 0);
		mnl_attr_put_u8(h, WGALLOWEDIP_A_CIDR_MASK, a.cidr);
		mnl_attr_put_u16(h, WGALLOWEDIP_A_FAMILY, (uint16_t)a.family);
		mnl_attr_put(h, WGALLOWEDIP_A_IPADDR, a.family == AF_INET ? 4 : 16, &a.addr);
		mnl_attr_nest_end(h, e);
	}
	mnl_attr_nest_end(h, list);
}

/* Peer i's attributes as the kernel writes them (full: not a continuation). */
static void put_peer_attrs(struct nlmsghdr *h, unsigned int i, bool full)
{
	int64_t ts[2] = { 1700000000 + (int64_t)i, (int64_t)i * 1000 };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(51820) };
	uint8_t k[32];

	peer_key(i, k);
	mnl_attr_put(h, WGPEER_A_PUBLIC_KEY, 32, k);
	if (!full)
		return;
	memset(k, 0x50 + (int)(i % 16), 32);
	mnl_attr_put(h, WGPEER_A_PRESHARED_KEY, 32, k);
	mnl_attr_put(h, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), ts);
	mnl_attr_put_u16(h, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, 25);
	mnl_attr_put_u64(h, WGPEER_A_TX_BYTES, 10ull * i + 3);
	mnl_attr_put_u64(h, WGPEER_A_RX_BYTES, 100ull * i + 1);
	mnl_attr_put_u32(h, WGPEER_A_PROTOCOL_VERSION, 1);
	sin.sin_addr.s_addr = htonl(0xc0000200u | (i & 0xff));
	mnl_attr_put(h, WGPEER_A_ENDPOINT, sizeof(sin), &sin);
}

static void put_peer(struct nlmsghdr *h, unsigned int i, bool full, unsigned int lo,
		     unsigned int hi)
{
	struct nlattr *e = mnl_attr_nest_start(h, 0);

	put_peer_attrs(h, i, full);
	if (hi > lo)
		put_aips(h, i, lo, hi);
	mnl_attr_nest_end(h, e);
}

/* Peer k of the state is test peer i, fully, with allowed IPs [0, n). */
static void check_peer(const struct wgkernel_state *st, size_t k, unsigned int i, unsigned int n)
{
	const struct uapi_peer_state *p;
	struct wg_allowedip a;
	uint8_t key[32];

	CHECK(k < st->dev->n_peers);
	if (k >= st->dev->n_peers)
		return;
	p = &st->dev->peers[k];
	peer_key(i, key);
	CHECK_MEM(p->public_key, key, 32);
	memset(key, 0x50 + (int)(i % 16), 32);
	CHECK_MEM(p->preshared_key, key, 32);
	CHECK_EQ(p->last_handshake_ns, (1700000000ull + i) * SC_NSEC_PER_SEC + i * 1000ull);
	CHECK_EQ(p->persistent_keepalive, 25);
	CHECK_EQ(p->tx_bytes, 10ull * i + 3);
	CHECK_EQ(p->rx_bytes, 100ull * i + 1);
	CHECK_EQ(p->endpoint.family, AF_INET);
	CHECK_EQ(p->endpoint.port, 51820);
	CHECK_EQ(ntohl(p->endpoint.addr.v4.s_addr), 0xc0000200u | (i & 0xff));
	CHECK_EQ(p->n_allowedips, n);
	for (unsigned int j = 0; j < n && j < p->n_allowedips; j++) {
		peer_aip(i, j, &a);
		CHECK_EQ(p->allowedips[j].family, a.family);
		CHECK_EQ(p->allowedips[j].cidr, a.cidr);
		CHECK_MEM(&p->allowedips[j].addr, &a.addr, a.family == AF_INET ? 4 : 16);
		CHECK(!p->allowedips[j].remove);
	}
}

static int parse(const struct dbuf *d, struct wgkernel_state *st)
{
	return wgkernel_parse_dump(d->b, d->len, &REQ, st);
}

/* ---- the SET message --------------------------------------------------------- */

static const uint8_t PEER[32] = {
	0xbb, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
	16,   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
};
static const uint8_t PSK[32] = { 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
				 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
				 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x56 };

/* The whole message, byte for byte, worked out by hand from the ABI. */
static void test_set_bytes(void)
{
	static const char *const hex = "74000000"
				       "1c00"
				       "0500"
				       "04030201"
				       "00000000" /* nlmsghdr: 116 bytes, REQUEST|ACK */
				       "01010000" /* genl: SET_DEVICE, version 1 */
				       "0800"
				       "0200"
				       "77673000" /* IFNAME "wg0" */
				       "5800"
				       "0880" /* PEERS, nested */
				       "5400"
				       "0080" /* peer 0, nested */
				       "2400"
				       "0100"; /* PUBLIC_KEY (then the key) */
	uint8_t buf[WGKERNEL_SET_MSG_MAX] __attribute__((aligned(4)));
	unsigned char *want;
	size_t len = 0, wl = 0;

	CHECK_EQ(wgkernel_build_set_psk(buf, sizeof(buf), FAM, SEQ, "wg0", PEER, PSK, &len), 0);
	CHECK_EQ(len, 116);
	want = t_unhex(hex, &wl);
	CHECK(want && wl == 40);
	if (want)
		CHECK_MEM(buf, want, 40);
	free(want);
	CHECK_MEM(buf + 40, PEER, 32);
	CHECK_MEM(buf + 72, "\x08\x00\x03\x00\x04\x00\x00\x00", 8); /* FLAGS = UPDATE_ONLY */
	CHECK_MEM(buf + 80, "\x24\x00\x02\x00", 4);		    /* PRESHARED_KEY */
	CHECK_MEM(buf + 84, PSK, 32);
}

/* Decoded with libmnl and checked against <linux/wireguard.h>. */
static void check_set(const uint8_t *buf, size_t len, const char *ifname, const uint8_t *psk)
{
	const struct nlmsghdr *h = (const void *)buf;
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(h);
	const struct nlattr *a, *p, *e;
	unsigned int top = 0, peer = 0, entries = 0;

	CHECK(mnl_nlmsg_ok(h, (int)len));
	CHECK_EQ(h->nlmsg_len, len);
	CHECK_EQ(h->nlmsg_type, FAM);
	CHECK_EQ(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK); /* no DUMP, CREATE, REPLACE */
	CHECK_EQ(h->nlmsg_seq, SEQ);
	CHECK_EQ(g->cmd, WG_CMD_SET_DEVICE);
	CHECK_EQ(g->version, WG_GENL_VERSION);
	mnl_attr_for_each(a, h, GENL_HDRLEN)
	{
		uint16_t t = mnl_attr_get_type(a);

		CHECK(t == WGDEVICE_A_IFNAME || t == WGDEVICE_A_PEERS); /* no FLAGS, keys, port */
		CHECK(!(top & (1u << t)));
		top |= 1u << t;
		if (t == WGDEVICE_A_IFNAME) {
			CHECK_EQ(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
			CHECK(strcmp(mnl_attr_get_str(a), ifname) == 0);
			continue;
		}
		CHECK(a->nla_type & NLA_F_NESTED);
		mnl_attr_for_each_nested(p, a)
		{
			entries++;
			CHECK_EQ(mnl_attr_get_type(p), 0);
			CHECK(p->nla_type & NLA_F_NESTED);
			mnl_attr_for_each_nested(e, p)
			{
				uint16_t pt = mnl_attr_get_type(e);

				CHECK(!(peer & (1u << pt)));
				peer |= 1u << pt;
				if (pt == WGPEER_A_PUBLIC_KEY) {
					CHECK_EQ(mnl_attr_get_payload_len(e), WG_KEY_LEN);
					CHECK_MEM(mnl_attr_get_payload(e), PEER, 32);
				} else if (pt == WGPEER_A_PRESHARED_KEY) {
					CHECK_EQ(mnl_attr_get_payload_len(e), WG_KEY_LEN);
					CHECK_MEM(mnl_attr_get_payload(e), psk, 32);
				} else if (pt == WGPEER_A_FLAGS) {
					CHECK_EQ(mnl_attr_validate(e, MNL_TYPE_U32), 0);
					CHECK_EQ(mnl_attr_get_u32(e), WGPEER_F_UPDATE_ONLY);
					CHECK(!(mnl_attr_get_u32(e) &
						(WGPEER_F_REMOVE_ME |
						 WGPEER_F_REPLACE_ALLOWEDIPS)));
				} else {
					CHECK(!"an attribute the SET must not carry");
				}
			}
		}
	}
	CHECK_EQ(top, (1u << WGDEVICE_A_IFNAME) | (1u << WGDEVICE_A_PEERS));
	CHECK_EQ(entries, 1);
	CHECK_EQ(peer, (1u << WGPEER_A_PUBLIC_KEY) | (1u << WGPEER_A_FLAGS) |
			       (1u << WGPEER_A_PRESHARED_KEY));
}

static void test_set_decoded(void)
{
	static const uint8_t zero[32];
	uint8_t buf[WGKERNEL_SET_MSG_MAX] __attribute__((aligned(4)));
	size_t len = 0;

	CHECK_EQ(wgkernel_build_set_psk(buf, sizeof(buf), FAM, SEQ, "wg0", PEER, PSK, &len), 0);
	check_set(buf, len, "wg0", PSK);
	/* The longest name, and "no PSK" (all zero, what the kernel removes). */
	CHECK_EQ(wgkernel_build_set_psk(buf, sizeof(buf), FAM, SEQ, "abcdefghijklmno", PEER, zero,
					&len),
		 0);
	CHECK(len <= WGKERNEL_SET_MSG_MAX);
	check_set(buf, len, "abcdefghijklmno", zero);
}

static void test_set_refused(void)
{
	uint8_t buf[WGKERNEL_SET_MSG_MAX] __attribute__((aligned(4)));
	size_t len = 12345;

	CHECK_EQ(wgkernel_build_set_psk(buf, sizeof(buf), FAM, SEQ, "", PEER, PSK, &len), -EINVAL);
	CHECK_EQ(wgkernel_build_set_psk(buf, sizeof(buf), FAM, SEQ, "abcdefghijklmnop", PEER, PSK,
					&len),
		 -EINVAL);
	/* Too small for the PSK: refused, and nothing of the key is left. */
	memset(buf, 0xee, sizeof(buf));
	CHECK_EQ(wgkernel_build_set_psk(buf, 100, FAM, SEQ, "wg0", PEER, PSK, &len), -ENOSPC);
	CHECK(cry_is_zero(buf, 100));
	CHECK_EQ(wgkernel_build_set_psk(buf, 8, FAM, SEQ, "wg0", PEER, PSK, &len), -ENOSPC);
	CHECK_EQ(len, 12345);
}

static void test_get_and_family_requests(void)
{
	uint8_t buf[128] __attribute__((aligned(4))) = { 0 };
	const struct nlmsghdr *h = (const void *)buf;
	const struct genlmsghdr *g = (const void *)(buf + NLMSG_HDRLEN);
	const struct nlattr *a;
	unsigned int n = 0;
	size_t len = 0;

	CHECK_EQ(wgkernel_build_get(buf, sizeof(buf), FAM, SEQ, "wg0", &len), 0);
	CHECK_EQ(h->nlmsg_len, len);
	CHECK_EQ(h->nlmsg_type, FAM);
	CHECK_EQ(h->nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	CHECK_EQ(g->cmd, WG_CMD_GET_DEVICE);
	mnl_attr_for_each(a, h, GENL_HDRLEN)
	{
		n++;
		CHECK_EQ(mnl_attr_get_type(a), WGDEVICE_A_IFNAME);
		CHECK(strcmp(mnl_attr_get_str(a), "wg0") == 0);
	}
	CHECK_EQ(n, 1);
	CHECK_EQ(wgkernel_build_get(buf, sizeof(buf), FAM, SEQ, "", &len), -EINVAL);

	CHECK_EQ(wgkernel_build_getfamily(buf, sizeof(buf), SEQ, &len), 0);
	CHECK_EQ(h->nlmsg_type, GENL_ID_CTRL);
	CHECK_EQ(h->nlmsg_flags, NLM_F_REQUEST);
	CHECK_EQ(g->cmd, CTRL_CMD_GETFAMILY);
	n = 0;
	mnl_attr_for_each(a, h, GENL_HDRLEN)
	{
		n++;
		CHECK_EQ(mnl_attr_get_type(a), CTRL_ATTR_FAMILY_NAME);
		CHECK(strcmp(mnl_attr_get_str(a), "wireguard") == 0);
	}
	CHECK_EQ(n, 1);
}

/* ---- short answers ------------------------------------------------------------- */

static size_t family_reply(uint8_t *buf, const char *name, bool with_id)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;
	struct nlattr *ops;

	h->nlmsg_type = GENL_ID_CTRL;
	h->nlmsg_seq = SEQ;
	h->nlmsg_pid = PORTID;
	g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->cmd = CTRL_CMD_NEWFAMILY;
	g->version = 2;
	mnl_attr_put_strz(h, CTRL_ATTR_FAMILY_NAME, name);
	if (with_id)
		mnl_attr_put_u16(h, CTRL_ATTR_FAMILY_ID, 0x1c);
	mnl_attr_put_u32(h, CTRL_ATTR_VERSION, 1);
	ops = mnl_attr_nest_start(h, CTRL_ATTR_OPS);
	mnl_attr_put_u32(h, 1, 0);
	mnl_attr_nest_end(h, ops);
	return h->nlmsg_len;
}

static void test_family_reply(void)
{
	uint8_t buf[512] __attribute__((aligned(4)));
	struct dbuf d = { 0 };
	uint16_t fam = 0;
	size_t len;

	memset(buf, 0, sizeof(buf));
	len = family_reply(buf, "wireguard", true);
	CHECK_EQ(wgkernel_parse_family(buf, len, SEQ, PORTID, &fam), 0);
	CHECK_EQ(fam, 0x1c);
	fam = 0;
	CHECK_EQ(wgkernel_parse_family(buf, len, SEQ + 1, PORTID, &fam), -EBADMSG);
	CHECK_EQ(wgkernel_parse_family(buf, len, SEQ, PORTID + 1, &fam), -EBADMSG);
	CHECK_EQ(wgkernel_parse_family(buf, len - 1, SEQ, PORTID, &fam), -EBADMSG);
	CHECK_EQ(wgkernel_parse_family(buf, len + 8, SEQ, PORTID, &fam), -EBADMSG);
	memset(buf, 0, sizeof(buf));
	len = family_reply(buf, "wireguarf", true);
	CHECK_EQ(wgkernel_parse_family(buf, len, SEQ, PORTID, &fam), -EBADMSG);
	memset(buf, 0, sizeof(buf));
	len = family_reply(buf, "wireguard", false);
	CHECK_EQ(wgkernel_parse_family(buf, len, SEQ, PORTID, &fam), -EBADMSG);
	CHECK_EQ(fam, 0);
	/* What a kernel without the module answers. */
	put_end(&d, NLMSG_ERROR, -ENOENT);
	CHECK_EQ(wgkernel_parse_family(d.b, d.len, SEQ, PORTID, &fam), -ENOENT);
	db_free(&d);
	put_end(&d, NLMSG_ERROR, 0);
	CHECK_EQ(wgkernel_parse_family(d.b, d.len, SEQ, PORTID, &fam), -EBADMSG);
	db_free(&d);
}

static void test_ack(void)
{
	struct dbuf d = { 0 };

	put_end(&d, NLMSG_ERROR, 0);
	CHECK_EQ(wgkernel_parse_ack(d.b, d.len, SEQ, PORTID), 0);
	CHECK_EQ(wgkernel_parse_ack(d.b, d.len, SEQ + 1, PORTID), -EBADMSG);
	CHECK_EQ(wgkernel_parse_ack(d.b, d.len - 1, SEQ, PORTID), -EBADMSG);
	db_free(&d);
	put_end(&d, NLMSG_ERROR, -EOPNOTSUPP);
	CHECK_EQ(wgkernel_parse_ack(d.b, d.len, SEQ, PORTID), -EOPNOTSUPP);
	db_free(&d);
	put_end(&d, NLMSG_ERROR, 5);
	CHECK_EQ(wgkernel_parse_ack(d.b, d.len, SEQ, PORTID), -EBADMSG);
	db_free(&d);
	put_end(&d, NLMSG_DONE, 0);
	CHECK_EQ(wgkernel_parse_ack(d.b, d.len, SEQ, PORTID), -EBADMSG);
	db_free(&d);
}

/* ---- dumps -------------------------------------------------------------------------- */

static void test_dump_one_message(void)
{
	struct wgkernel_state st = { 0 };
	struct kexd_tunnel t;
	struct dbuf d = { 0 };
	struct nlmsghdr *h = msg_begin(&d, 0);
	struct nlattr *peers;
	uint8_t k[32];

	put_dev(h, IFNAME);
	peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
	put_peer(h, 1, true, 0, 3);
	put_peer(h, 2, true, 0, 0);
	mnl_attr_nest_end(h, peers);
	msg_end(&d, h);
	put_end(&d, NLMSG_DONE, 0);

	CHECK_EQ(parse(&d, &st), 0);
	if (!st.dev)
		goto out;
	CHECK_EQ(st.ifindex, IFINDEX);
	CHECK(st.has_public_key);
	CHECK_MEM(st.public_key, PUB, 32);
	CHECK(st.dev->has_private_key);
	CHECK_MEM(st.dev->private_key, PRIV, 32);
	CHECK_EQ(st.dev->listen_port, 51820);
	CHECK_EQ(st.dev->fwmark, 0x42);
	CHECK_EQ(st.dev->n_peers, 2);
	check_peer(&st, 0, 1, 3);
	check_peer(&st, 1, 2, 0);
	CHECK(strcmp(st.dev->peers[0].endpoint_text, "192.0.2.1:51820") == 0);

	peer_key(2, k);
	wgkernel_peer_tunnel(&st, k, &t);
	CHECK(t.known);
	CHECK_EQ(t.rx_bytes, 201);
	CHECK_EQ(t.last_handshake_ns, 1700000002ull * SC_NSEC_PER_SEC + 2000);
	CHECK(!t.has_session);
	peer_key(3, k);
	wgkernel_peer_tunnel(&st, k, &t);
	CHECK(!t.known);
out:
	wgkernel_state_clear(&st);
	CHECK(st.dev == NULL);
	db_free(&d);
}

/* An interface without a key or peers: the kernel leaves both out. */
static void test_dump_bare(void)
{
	struct wgkernel_state st = { 0 };
	struct dbuf d = { 0 };
	struct nlmsghdr *h = msg_begin(&d, 0);

	mnl_attr_put_u16(h, WGDEVICE_A_LISTEN_PORT, 0);
	mnl_attr_put_u32(h, WGDEVICE_A_FWMARK, 0);
	mnl_attr_put_u32(h, WGDEVICE_A_IFINDEX, IFINDEX);
	mnl_attr_put_strz(h, WGDEVICE_A_IFNAME, IFNAME);
	msg_end(&d, h);
	put_end(&d, NLMSG_DONE, 0);
	CHECK_EQ(parse(&d, &st), 0);
	if (st.dev) {
		CHECK(!st.has_public_key);
		CHECK(!st.dev->has_private_key);
		CHECK_EQ(st.dev->n_peers, 0);
	}
	wgkernel_state_clear(&st);
	db_free(&d);
}

/* Peer 1's allowed IPs over three messages (continued twice), peer 2
 * after it in the last; then peers split between messages. */
static void test_dump_split(void)
{
	struct wgkernel_state st = { 0 };
	struct dbuf d = { 0 };
	struct nlmsghdr *h;
	struct nlattr *peers;

	h = msg_begin(&d, 0);
	put_dev(h, IFNAME);
	peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
	put_peer(h, 1, true, 0, 2);
	mnl_attr_nest_end(h, peers);
	msg_end(&d, h);
	h = msg_begin(&d, 0);
	peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
	put_peer(h, 1, false, 2, 5);
	mnl_attr_nest_end(h, peers);
	msg_end(&d, h);
	h = msg_begin(&d, 0);
	peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
	put_peer(h, 1, false, 5, 6);
	put_peer(h, 2, true, 0, 1);
	mnl_attr_nest_end(h, peers);
	msg_end(&d, h);
	put_end(&d, NLMSG_DONE, 0);
	CHECK_EQ(parse(&d, &st), 0);
	if (st.dev) {
		CHECK_EQ(st.dev->n_peers, 2);
		check_peer(&st, 0, 1, 6);
		check_peer(&st, 1, 2, 1);
		CHECK_EQ(st.dev->n_aips, 7);
	}
	wgkernel_state_clear(&st);
	db_free(&d);

	h = msg_begin(&d, 0);
	put_dev(h, IFNAME);
	peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
	put_peer(h, 1, true, 0, 1);
	mnl_attr_nest_end(h, peers);
	msg_end(&d, h);
	h = msg_begin(&d, 0);
	peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
	put_peer(h, 2, true, 0, 2);
	put_peer(h, 3, true, 0, 0);
	mnl_attr_nest_end(h, peers);
	msg_end(&d, h);
	put_end(&d, NLMSG_DONE, 0);
	CHECK_EQ(parse(&d, &st), 0);
	if (st.dev) {
		CHECK_EQ(st.dev->n_peers, 3);
		check_peer(&st, 0, 1, 1);
		check_peer(&st, 1, 2, 2);
		check_peer(&st, 2, 3, 0);
	}
	wgkernel_state_clear(&st);
	db_free(&d);
}

/* Random peers cut into messages the way the kernel cuts them, against
 * the list they were made from. */
static void test_dump_random_splits(void)
{
	uint64_t rng = 7;

	for (int round = 0; round < 200; round++) {
		unsigned int np = (unsigned int)(t_rng64(&rng) % 40), naip[40];
		struct wgkernel_state st = { 0 };
		struct dbuf d = { 0 };
		struct nlmsghdr *h = msg_begin(&d, 0);
		struct nlattr *peers;

		put_dev(h, IFNAME);
		peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
		for (unsigned int i = 0; i < np; i++) {
			unsigned int lo = 0;

			naip[i] = (unsigned int)(t_rng64(&rng) % 12);
			do {
				unsigned int hi = lo + 1 + (unsigned int)(t_rng64(&rng) % 6);

				if (hi > naip[i])
					hi = naip[i];
				put_peer(h, i, lo == 0, lo, hi);
				lo = hi;
				/* The message is full: the rest of this peer, if any,
				 * starts the next one. */
				if (lo < naip[i] || t_rng64(&rng) % 4 == 0) {
					mnl_attr_nest_end(h, peers);
					msg_end(&d, h);
					h = msg_begin(&d, 0);
					peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
				}
			} while (lo < naip[i]);
		}
		mnl_attr_nest_end(h, peers);
		msg_end(&d, h);
		put_end(&d, NLMSG_DONE, 0);
		CHECK_EQ(parse(&d, &st), 0);
		if (st.dev) {
			CHECK_EQ(st.dev->n_peers, np);
			for (unsigned int i = 0; i < np; i++)
				check_peer(&st, i, i, naip[i]);
		}
		wgkernel_state_clear(&st);
		db_free(&d);
	}
}

/* Newer attribute types are skipped; a padding attribute (strict-
 * alignment machines put one before each u64) is fine; an endpoint with
 * port 0 is no endpoint. */
static void test_dump_tolerated(void)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(1) };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct wgkernel_state st = { 0 };
	struct dbuf d = { 0 };
	struct nlmsghdr *h = msg_begin(&d, 0);
	struct nlattr *peers, *e, *l;
	uint8_t k[32];

	put_dev(h, IFNAME);
	mnl_attr_put_u32(h, WGDEVICE_A_MAX + 5, 1);
	peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
	e = mnl_attr_nest_start(h, 0);
	peer_key(1, k);
	mnl_attr_put(h, WGPEER_A_PUBLIC_KEY, 32, k);
	mnl_attr_put(h, WGPEER_A_UNSPEC, 0, k);
	mnl_attr_put_u64(h, WGPEER_A_RX_BYTES, 9);
	mnl_attr_put_u32(h, WGPEER_A_MAX + 1, 1);
	mnl_attr_put(h, WGPEER_A_ENDPOINT, sizeof(sin), &sin);
	l = mnl_attr_nest_start(h, WGPEER_A_ALLOWEDIPS);
	mnl_attr_nest_end(h, l);
	mnl_attr_nest_end(h, e);
	e = mnl_attr_nest_start(h, 0);
	peer_key(2, k);
	mnl_attr_put(h, WGPEER_A_PUBLIC_KEY, 32, k);
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	mnl_attr_put(h, WGPEER_A_ENDPOINT, sizeof(sin6), &sin6);
	mnl_attr_nest_end(h, e);
	mnl_attr_nest_end(h, peers);
	msg_end(&d, h);
	put_end(&d, NLMSG_DONE, 0);
	CHECK_EQ(parse(&d, &st), 0);
	if (st.dev && st.dev->n_peers == 2) {
		CHECK_EQ(st.dev->peers[0].rx_bytes, 9);
		CHECK_EQ(st.dev->peers[0].endpoint.family, AF_UNSPEC);
		CHECK_EQ(st.dev->peers[0].n_allowedips, 0);
		CHECK_EQ(st.dev->peers[1].endpoint.family, AF_INET6);
		CHECK(strcmp(st.dev->peers[1].endpoint_text, "[2001:db8::1]:1") == 0);
	} else {
		CHECK(!"two peers");
	}
	wgkernel_state_clear(&st);
	db_free(&d);
}

/* ---- refused dumps: one table, each a change to a good reply ---- */

enum bad {
	BAD_NO_DONE,
	BAD_AFTER_DONE,
	BAD_ONLY_DONE,
	BAD_TRUNCATED_MSG,
	BAD_TRUNCATED_ATTR,
	BAD_ATTR_GARBAGE,
	BAD_OTHER_IFNAME,
	BAD_IFNAME_UNTERMINATED,
	BAD_IFNAME_PADDED,
	BAD_NO_IFNAME,
	BAD_SEQ,
	BAD_PORTID,
	BAD_TYPE,
	BAD_NOT_MULTI,
	BAD_CMD,
	BAD_DEV_TWICE,
	BAD_DEV_FLAGS,
	BAD_DEV_PUBKEY_LONG,
	BAD_PEER_KEY_LONG,
	BAD_PEER_KEY_SHORT,
	BAD_PEER_NO_KEY,
	BAD_PEER_FLAGS,
	BAD_PEER_ATTR_TWICE,
	BAD_PEER_TWICE,
	BAD_PEER_ADJACENT,
	BAD_PEER_ADJACENT_LATER,
	BAD_CONT_FULL,
	BAD_HANDSHAKE_LONG,
	BAD_HANDSHAKE_NSEC,
	BAD_RX_LONG,
	BAD_PROTOCOL,
	BAD_ENDPOINT_FAMILY,
	BAD_ENDPOINT_SIZE,
	BAD_PAD_LONG,
	BAD_AIP_CIDR,
	BAD_AIP_FAMILY,
	BAD_AIP_LEN,
	BAD_AIP_MISSING,
	BAD_LIST_TYPE,
	BAD_COUNT
};

static void put_bad_peer(struct nlmsghdr *h, enum bad b)
{
	static const uint8_t big[40];
	int64_t ts[2] = { 1, 1000000000 };
	struct sockaddr_in sin = { .sin_family = AF_INET6, .sin_port = 1 };
	struct nlattr *e = mnl_attr_nest_start(h, 0), *l, *a;
	uint8_t k[40] = { 0 }; /* room for the long key */

	peer_key(9, k);
	if (b != BAD_PEER_NO_KEY)
		mnl_attr_put(h, WGPEER_A_PUBLIC_KEY,
			     b == BAD_PEER_KEY_LONG    ? 33
			     : b == BAD_PEER_KEY_SHORT ? 31
						       : 32,
			     k);
	if (b == BAD_PEER_NO_KEY)
		mnl_attr_put_u64(h, WGPEER_A_RX_BYTES, 1);
	if (b == BAD_PEER_FLAGS)
		mnl_attr_put_u32(h, WGPEER_A_FLAGS, 0);
	if (b == BAD_PEER_ATTR_TWICE) {
		mnl_attr_put_u64(h, WGPEER_A_RX_BYTES, 1);
		mnl_attr_put_u64(h, WGPEER_A_RX_BYTES, 2);
	}
	if (b == BAD_HANDSHAKE_LONG)
		mnl_attr_put(h, WGPEER_A_LAST_HANDSHAKE_TIME, 24, big);
	if (b == BAD_HANDSHAKE_NSEC)
		mnl_attr_put(h, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), ts);
	if (b == BAD_RX_LONG)
		mnl_attr_put(h, WGPEER_A_RX_BYTES, 16, big);
	if (b == BAD_PROTOCOL)
		mnl_attr_put_u32(h, WGPEER_A_PROTOCOL_VERSION, 2);
	if (b == BAD_ENDPOINT_FAMILY)
		mnl_attr_put(h, WGPEER_A_ENDPOINT, sizeof(sin), &sin);
	if (b == BAD_ENDPOINT_SIZE)
		mnl_attr_put(h, WGPEER_A_ENDPOINT, 20, big);
	if (b == BAD_PAD_LONG)
		mnl_attr_put(h, WGPEER_A_UNSPEC, 4, big);
	if (b >= BAD_AIP_CIDR && b <= BAD_AIP_MISSING) {
		l = mnl_attr_nest_start(h, WGPEER_A_ALLOWEDIPS);
		a = mnl_attr_nest_start(h, 0);
		mnl_attr_put_u8(h, WGALLOWEDIP_A_CIDR_MASK, b == BAD_AIP_CIDR ? 33 : 24);
		mnl_attr_put_u16(h, WGALLOWEDIP_A_FAMILY, b == BAD_AIP_FAMILY ? 99 : AF_INET);
		if (b != BAD_AIP_MISSING)
			mnl_attr_put(h, WGALLOWEDIP_A_IPADDR, b == BAD_AIP_LEN ? 16 : 4, big);
		mnl_attr_nest_end(h, a);
		mnl_attr_nest_end(h, l);
	}
	mnl_attr_nest_end(h, e);
}

static void build_bad(struct dbuf *d, enum bad b)
{
	struct nlmsghdr *h = msg_begin(d, 0);
	struct nlattr *peers, *e;
	struct genlmsghdr *g = mnl_nlmsg_get_payload(h);

	if (b == BAD_NOT_MULTI)
		h->nlmsg_flags = 0;
	if (b == BAD_SEQ)
		h->nlmsg_seq = SEQ + 1;
	if (b == BAD_PORTID)
		h->nlmsg_pid = 0;
	if (b == BAD_TYPE)
		h->nlmsg_type = FAM + 1;
	if (b == BAD_CMD)
		g->cmd = WG_CMD_SET_DEVICE;
	if (b == BAD_OTHER_IFNAME)
		put_dev(h, "wg1");
	else if (b == BAD_IFNAME_UNTERMINATED || b == BAD_IFNAME_PADDED || b == BAD_NO_IFNAME) {
		mnl_attr_put_u32(h, WGDEVICE_A_IFINDEX, IFINDEX);
		if (b == BAD_IFNAME_UNTERMINATED)
			mnl_attr_put(h, WGDEVICE_A_IFNAME, 3, "wg0");
		if (b == BAD_IFNAME_PADDED)
			mnl_attr_put(h, WGDEVICE_A_IFNAME, 6, "wg0\0\0");
	} else {
		put_dev_key(h, IFNAME, b == BAD_DEV_PUBKEY_LONG ? 33 : 32);
	}
	if (b == BAD_DEV_FLAGS)
		mnl_attr_put_u32(h, WGDEVICE_A_FLAGS, 0);
	peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
	put_peer(h, 1, true, 0, 2);
	if (b == BAD_PEER_ADJACENT)
		put_peer(h, 1, false, 2, 3);
	mnl_attr_nest_end(h, peers);
	if (b == BAD_TRUNCATED_ATTR) {
		/* An attribute that claims more than the message holds. */
		struct nlattr *a = mnl_nlmsg_get_payload_tail(h);

		a->nla_len = 40;
		a->nla_type = WGDEVICE_A_FWMARK + 0;
		h->nlmsg_len += 8;
	}
	if (b == BAD_ATTR_GARBAGE)
		h->nlmsg_len += 2; /* two bytes that are not an attribute */
	msg_end(d, h);
	h = msg_begin(d, 0);
	if (b == BAD_DEV_TWICE)
		mnl_attr_put_u32(h, WGDEVICE_A_IFINDEX, IFINDEX);
	peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
	put_peer(h, 1, b == BAD_CONT_FULL, 2, 4);
	put_peer(h, 2, true, 0, 1);
	/* Bad peers last: nothing else about the reply changes. */
	if (b == BAD_PEER_TWICE)
		put_peer(h, 1, true, 0, 1);
	if (b == BAD_PEER_ADJACENT_LATER)
		put_peer(h, 2, false, 1, 2); /* only first thing in a message */
	if (b >= BAD_PEER_KEY_LONG && b <= BAD_AIP_MISSING && b != BAD_PEER_TWICE &&
	    b != BAD_PEER_ADJACENT && b != BAD_PEER_ADJACENT_LATER && b != BAD_CONT_FULL)
		put_bad_peer(h, b);
	if (b == BAD_LIST_TYPE) {
		e = mnl_attr_nest_start(h, 1);
		put_peer_attrs(h, 5, true);
		mnl_attr_nest_end(h, e);
	}
	mnl_attr_nest_end(h, peers);
	msg_end(d, h);
	if (b == BAD_NO_DONE)
		return;
	if (b == BAD_ONLY_DONE)
		d->len = 0;
	put_end(d, NLMSG_DONE, 0);
	if (b == BAD_AFTER_DONE)
		put_end(d, NLMSG_DONE, 0);
	if (b == BAD_TRUNCATED_MSG)
		d->len -= 8;
}

static void test_dump_refused(void)
{
	struct wgkernel_state good = { 0 };
	struct dbuf d0 = { 0 };

	/* Unchanged, the reply parses: each case fails for its own change. */
	build_bad(&d0, BAD_COUNT);
	CHECK_EQ(parse(&d0, &good), 0);
	if (good.dev) {
		CHECK_EQ(good.dev->n_peers, 2);
		check_peer(&good, 0, 1, 4);
		check_peer(&good, 1, 2, 1);
	}
	wgkernel_state_clear(&good);
	db_free(&d0);
	for (int b = 0; b < BAD_COUNT; b++) {
		struct wgkernel_state st = { 0 };
		struct dbuf d = { 0 };
		int ret;

		build_bad(&d, (enum bad)b);
		ret = parse(&d, &st);
		if (ret != -EBADMSG)
			fprintf(stderr, "# bad case %d: %d\n", b, ret);
		CHECK_EQ(ret, -EBADMSG);
		CHECK(st.dev == NULL);
		db_free(&d);
	}
}

/* The kernel's own refusals come back as its errno; an interrupted dump
 * is -EAGAIN. */
static void test_dump_errors(void)
{
	struct wgkernel_state st = { 0 };
	struct dbuf d = { 0 };
	struct nlmsghdr *h;

	put_end(&d, NLMSG_ERROR, -ENODEV);
	CHECK_EQ(parse(&d, &st), -ENODEV);
	db_free(&d);
	put_end(&d, NLMSG_ERROR, -EOPNOTSUPP);
	CHECK_EQ(parse(&d, &st), -EOPNOTSUPP);
	db_free(&d);
	put_end(&d, NLMSG_ERROR, 0);
	CHECK_EQ(parse(&d, &st), -EBADMSG);
	db_free(&d);

	h = msg_begin(&d, 0);
	put_dev(h, IFNAME);
	msg_end(&d, h);
	put_end(&d, NLMSG_DONE, -EPERM);
	CHECK_EQ(parse(&d, &st), -EPERM);
	db_free(&d);

	h = msg_begin(&d, 0);
	put_dev(h, IFNAME);
	msg_end(&d, h);
	h = msg_begin(&d, NLM_F_DUMP_INTR);
	msg_end(&d, h);
	put_end(&d, NLMSG_DONE, 0);
	CHECK_EQ(parse(&d, &st), -EAGAIN);
	CHECK(st.dev == NULL);
	db_free(&d);
	/* Over the byte cap: refused before a byte is read. */
	CHECK_EQ(wgkernel_parse_dump(PUB, WGKERNEL_DUMP_MAX + 1, &REQ, &st), -EBADMSG);
}

/* UAPI_MAX_PEERS peers parse; one more is refused. Same for allowed IPs. */
static void caps_peers(unsigned int np, int want)
{
	struct wgkernel_state st = { 0 };
	struct dbuf d = { 0 };
	struct nlmsghdr *h = msg_begin(&d, 0);
	struct nlattr *peers;

	put_dev(h, IFNAME);
	msg_end(&d, h);
	for (unsigned int i = 0; i < np; i += 1000) {
		h = msg_begin(&d, 0);
		peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
		for (unsigned int j = i; j < np && j < i + 1000; j++)
			put_peer(h, j, false, 0, 0);
		mnl_attr_nest_end(h, peers);
		msg_end(&d, h);
	}
	put_end(&d, NLMSG_DONE, 0);
	CHECK_EQ(parse(&d, &st), want);
	if (!want)
		CHECK_EQ(st.dev->n_peers, np);
	wgkernel_state_clear(&st);
	db_free(&d);
}

static void caps_aips(unsigned int n, int want)
{
	struct wgkernel_state st = { 0 };
	struct dbuf d = { 0 };
	struct nlmsghdr *h = msg_begin(&d, 0);
	struct nlattr *peers;

	put_dev(h, IFNAME);
	msg_end(&d, h);
	/* One peer, 1,500 allowed IPs a message (a nest holds 64 KiB). */
	for (unsigned int lo = 0; lo < n; lo += 1500) {
		h = msg_begin(&d, 0);
		peers = mnl_attr_nest_start(h, WGDEVICE_A_PEERS);
		put_peer(h, 1, lo == 0, lo, lo + 1500 < n ? lo + 1500 : n);
		mnl_attr_nest_end(h, peers);
		msg_end(&d, h);
	}
	put_end(&d, NLMSG_DONE, 0);
	CHECK_EQ(parse(&d, &st), want);
	if (!want)
		CHECK_EQ(st.dev->peers[0].n_allowedips, n);
	wgkernel_state_clear(&st);
	db_free(&d);
}

static void test_dump_caps(void)
{
	caps_peers(UAPI_MAX_PEERS, 0);
	caps_peers(UAPI_MAX_PEERS + 1, -EBADMSG);
	caps_aips(UAPI_MAX_ALLOWEDIPS, 0);
	caps_aips(UAPI_MAX_ALLOWEDIPS + 1, -EBADMSG);
}

/* ---- the backend on this kernel ---------------------------------------------------- */

static void test_backend_open(void)
{
	struct wgkernel *w = NULL;
	char err[256] = "";
	int ret;

	CHECK_EQ(wgkernel_new("", &w, err, sizeof(err)), -EINVAL);
	CHECK_EQ(wgkernel_new("abcdefghijklmnop", &w, err, sizeof(err)), -EINVAL);
	CHECK(w == NULL);
	ret = wgkernel_new("scopewgtest0", &w, err, sizeof(err));
	if (ret == 0) {
		wgkernel_free(w);
		t_skip("this kernel has the \"wireguard\" generic netlink family");
		return;
	}
	/* The module is missing: an operator reads exactly why. */
	CHECK_EQ(ret, -EPROTONOSUPPORT);
	CHECK(strcmp(err, WGKERNEL_NO_MODULE) == 0);
	CHECK(strstr(err, "generic netlink family \"wireguard\" not found") != NULL);
	CHECK(w == NULL);
	wgkernel_free(NULL);
}

static const struct t_case cases[] = {
	T(test_set_bytes),	  T(test_set_decoded),
	T(test_set_refused),	  T(test_get_and_family_requests),
	T(test_family_reply),	  T(test_ack),
	T(test_dump_one_message), T(test_dump_bare),
	T(test_dump_split),	  T(test_dump_random_splits),
	T(test_dump_tolerated),	  T(test_dump_refused),
	T(test_dump_errors),	  T(test_dump_caps),
	T(test_backend_open),
};

int main(void)
{
	return t_main("agent-wgkernel", cases, SC_ARRAY_SIZE(cases));
}
