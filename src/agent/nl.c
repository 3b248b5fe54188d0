// SPDX-License-Identifier: GPL-2.0-only
#include "agent/nl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* One request or acknowledgement at a time: small messages only (an error
 * ack quotes the request, which is well under this). */
#define NL_BUF_LEN 8192

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	char buf[NL_BUF_LEN];
};

int nl_open(struct nl **out)
{
	struct nl *nl = calloc(1, sizeof(*nl));
	int r;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		nl_close(nl);
		return r;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	*out = nl;
	return 0;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

static struct nlmsghdr *msg_start(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = ++nl->seq;
	return h;
}

/* Send h and wait for its acknowledgement: 0 or the kernel's -errno. */
static int transact(struct nl *nl, struct nlmsghdr *h)
{
	unsigned int seq = h->nlmsg_seq;
	ssize_t n;
	int r;

	if (mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0)
			return -errno;
		r = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, NULL, NULL);
	} while (r == MNL_CB_OK);
	return r < 0 ? -errno : 0;
}

static int family_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : -1;
}

static int addr_msg(struct nl *nl, uint16_t type, uint16_t flags, int ifindex,
		    const struct nl_prefix *p)
{
	int alen = family_len(p->family);
	struct nlmsghdr *h;
	struct ifaddrmsg *ifa;

	if (alen < 0 || p->len > alen * 8 || ifindex <= 0)
		return -EINVAL;
	h = msg_start(nl, type, flags);
	ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)p->family;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_index = (unsigned int)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(h, IFA_LOCAL, (size_t)alen, p->addr);
	mnl_attr_put(h, IFA_ADDRESS, (size_t)alen, p->addr);
	return transact(nl, h);
}

int nl_addr_add(struct nl *nl, int ifindex, const struct nl_prefix *p)
{
	return addr_msg(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, p);
}

int nl_addr_del(struct nl *nl, int ifindex, const struct nl_prefix *p)
{
	return addr_msg(nl, RTM_DELADDR, 0, ifindex, p);
}

static int route_msg(struct nl *nl, uint16_t type, uint16_t flags, int ifindex,
		     const struct nl_prefix *p)
{
	int alen = family_len(p->family);
	struct nlmsghdr *h;
	struct rtmsg *rt;
	uint8_t dst[16] = { 0 };

	if (alen < 0 || p->len > alen * 8 || ifindex <= 0)
		return -EINVAL;
	/* The kernel refuses a route whose destination has host bits set. */
	for (int i = 0; i < alen; i++) {
		int bits = (int)p->len - 8 * i;

		dst[i] = bits >= 8 ? p->addr[i] : bits > 0 ? p->addr[i] & (0xff << (8 - bits)) : 0;
	}
	h = msg_start(nl, type, flags);
	rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
	rt->rtm_family = (uint8_t)p->family;
	rt->rtm_dst_len = p->len;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	mnl_attr_put(h, RTA_DST, (size_t)alen, dst);
	mnl_attr_put_u32(h, RTA_OIF, (uint32_t)ifindex);
	return transact(nl, h);
}

int nl_route_add(struct nl *nl, int ifindex, const struct nl_prefix *p)
{
	return route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, ifindex, p);
}

int nl_route_del(struct nl *nl, int ifindex, const struct nl_prefix *p)
{
	return route_msg(nl, RTM_DELROUTE, 0, ifindex, p);
}

int nl_link_set(struct nl *nl, int ifindex, bool up, unsigned int mtu)
{
	struct nlmsghdr *h;
	struct ifinfomsg *ifi;

	if (ifindex <= 0)
		return -EINVAL;
	h = msg_start(nl, RTM_NEWLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	return transact(nl, h);
}
