// SPDX-License-Identifier: GPL-2.0-only
#include "agent/nlmon.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Notifications are small (one address, link or route each); a link
 * message with all its attributes is the largest, well under this. */
#define NLMON_BUF_LEN 32768

struct nlmon {
	struct loop *loop;
	struct mnl_socket *sock;
	int fd;
	int ignore;
	nlmon_fn fn;
	void *ctx;
	char buf[NLMON_BUF_LEN];
};

/* linux/if.h has it but clashes with net/if.h; glibc's enum stops before it. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP (1u << 16)
#endif

/* Flags whose change means the interface can or cannot carry traffic now. */
#define LINK_STATE_FLAGS (IFF_UP | IFF_RUNNING | IFF_LOWER_UP)

static unsigned int classify_addr(const struct nlmsghdr *h, int ignore)
{
	const struct ifaddrmsg *ifa;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return 0;
	ifa = mnl_nlmsg_get_payload(h);
	return (int)ifa->ifa_index == ignore ? 0 : NLMON_ADDR;
}

static unsigned int classify_link(const struct nlmsghdr *h, int ignore)
{
	const struct ifinfomsg *ifi;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	ifi = mnl_nlmsg_get_payload(h);
	if (ifi->ifi_index == ignore)
		return 0;
	/* A new link reports every flag as changed; statistics and MTU
	 * updates report none of the state flags and are not a move. */
	if (h->nlmsg_type == RTM_DELLINK || (ifi->ifi_change & LINK_STATE_FLAGS))
		return NLMON_LINK;
	return 0;
}

static int route_oif_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		*(int *)data = (int)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static unsigned int classify_route(const struct nlmsghdr *h, int ignore)
{
	const struct rtmsg *rt;
	int oif = 0;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)))
		return 0;
	rt = mnl_nlmsg_get_payload(h);
	/* The local table follows the addresses (already reported); cached
	 * clones (PMTU, redirects) say nothing about which source to use. */
	if (rt->rtm_table != RT_TABLE_MAIN || (rt->rtm_flags & RTM_F_CLONED))
		return 0;
	if (mnl_attr_parse(h, sizeof(*rt), route_oif_cb, &oif) < 0)
		return 0;
	return oif && oif == ignore ? 0 : NLMON_ROUTE;
}

unsigned int nlmon_classify(const void *buf, size_t len, int ignore_ifindex)
{
	const struct nlmsghdr *h = buf;
	int left = len > (size_t)NLMON_BUF_LEN ? NLMON_BUF_LEN : (int)len;
	unsigned int what = 0;

	for (; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
		switch (h->nlmsg_type) {
		case RTM_NEWADDR:
		case RTM_DELADDR:
			what |= classify_addr(h, ignore_ifindex);
			break;
		case RTM_NEWLINK:
		case RTM_DELLINK:
			what |= classify_link(h, ignore_ifindex);
			break;
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			what |= classify_route(h, ignore_ifindex);
			break;
		default:
			break;
		}
	}
	return what;
}

static void on_readable(void *ctx, int fd, uint32_t events)
{
	struct nlmon *m = ctx;
	unsigned int what = 0;

	(void)events;
	for (int i = 0; i < NLMON_BATCH_MAX; i++) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(fd, m->buf, sizeof(m->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fromlen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* The kernel dropped notifications: assume the worst. */
			if (errno == ENOBUFS)
				what |= NLMON_OVERRUN;
			break;
		}
		/* Only the kernel speaks for the host's addresses. */
		if (fromlen != sizeof(from) || from.nl_pid != 0)
			continue;
		what |= nlmon_classify(m->buf, (size_t)n, m->ignore);
	}
	if (what)
		m->fn(m->ctx, what);
}

static int subscribe(struct nlmon *m)
{
	static const unsigned int groups[] = {
		RTNLGRP_LINK,	    RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
		RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
	};

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		int g = (int)groups[i];

		if (mnl_socket_setsockopt(m->sock, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) < 0)
			return -errno;
	}
	return 0;
}

int nlmon_new(struct loop *loop, int ignore_ifindex, nlmon_fn fn, void *ctx, struct nlmon **out)
{
	struct nlmon *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->ignore = ignore_ifindex;
	m->fn = fn;
	m->ctx = ctx;
	m->fd = -1;
	m->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!m->sock || mnl_socket_bind(m->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = -errno;
		goto fail;
	}
	r = subscribe(m);
	if (r)
		goto fail;
	r = loop_add_fd(loop, mnl_socket_get_fd(m->sock), EPOLLIN, on_readable, m);
	if (r)
		goto fail;
	m->fd = mnl_socket_get_fd(m->sock);
	*out = m;
	return 0;
fail:
	nlmon_free(m);
	return r;
}

void nlmon_free(struct nlmon *m)
{
	if (!m)
		return;
	if (m->fd >= 0)
		loop_del_fd(m->loop, m->fd);
	if (m->sock)
		mnl_socket_close(m->sock);
	free(m);
}
