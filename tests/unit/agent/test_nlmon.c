// SPDX-License-Identifier: GPL-2.0-only
/*
 * The underlay monitor: the classifier on hand-built rtnetlink messages, and
 * the real thing against the kernel in a private network namespace the test
 * enters (needs root; skipped otherwise), on a veth pair whose second end
 * plays the overlay interface that must be ignored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "agent/nlmon.h"
#include "io/env.h"
#include "io/loop.h"
#include "test.h"

/* linux/if.h has it but clashes with net/if.h; glibc's enum stops before it. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP (1u << 16)
#endif

static const char *why_skip;
static int if_other, if_overlay; /* v0, and v1 standing for the overlay */

#define NEED_NS()                               \
	do {                                    \
		if (why_skip) {                 \
			t_skip("%s", why_skip); \
			return;                 \
		}                               \
	} while (0)

/* ---- classifier ----------------------------------------------------------- */

static char mbuf[4096];
static size_t mlen;

static struct nlmsghdr *put(uint16_t type)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(mbuf + mlen);

	h->nlmsg_type = type;
	return h;
}

static void done(struct nlmsghdr *h)
{
	mlen += NLMSG_ALIGN(h->nlmsg_len);
}

static void put_addr(uint16_t type, int ifindex)
{
	struct nlmsghdr *h = put(type);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	uint8_t a[4] = { 192, 0, 2, 1 };

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	ifa->ifa_index = (unsigned int)ifindex;
	mnl_attr_put(h, IFA_LOCAL, 4, a);
	done(h);
}

static void put_link(uint16_t type, int ifindex, unsigned int change)
{
	struct nlmsghdr *h = put(type);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_index = ifindex;
	ifi->ifi_change = change;
	mnl_attr_put_u32(h, IFLA_MTU, 1500);
	done(h);
}

static void put_route(uint16_t type, int oif, uint8_t table, unsigned int flags)
{
	struct nlmsghdr *h = put(type);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
	uint8_t dst[4] = { 198, 51, 100, 0 };

	rt->rtm_family = AF_INET;
	rt->rtm_dst_len = 24;
	rt->rtm_table = table;
	rt->rtm_flags = flags;
	mnl_attr_put(h, RTA_DST, 4, dst);
	if (oif)
		mnl_attr_put_u32(h, RTA_OIF, (uint32_t)oif);
	done(h);
}

static unsigned int classify(void)
{
	unsigned int w = nlmon_classify(mbuf, mlen, 7);

	mlen = 0;
	return w;
}

static void test_classify(void)
{
	/* Addresses: any interface but the overlay (7). */
	put_addr(RTM_NEWADDR, 5);
	CHECK_EQ(classify(), NLMON_ADDR);
	put_addr(RTM_DELADDR, 5);
	CHECK_EQ(classify(), NLMON_ADDR);
	put_addr(RTM_NEWADDR, 7);
	put_addr(RTM_DELADDR, 7);
	CHECK_EQ(classify(), 0);
	/* Links: state flags changing, or the link going away; not an MTU or
	 * statistics update. */
	put_link(RTM_NEWLINK, 5, IFF_LOWER_UP | IFF_RUNNING);
	CHECK_EQ(classify(), NLMON_LINK);
	put_link(RTM_NEWLINK, 5, ~0u);
	CHECK_EQ(classify(), NLMON_LINK);
	put_link(RTM_NEWLINK, 5, 0);
	CHECK_EQ(classify(), 0);
	put_link(RTM_DELLINK, 5, 0);
	CHECK_EQ(classify(), NLMON_LINK);
	put_link(RTM_NEWLINK, 7, IFF_UP);
	put_link(RTM_DELLINK, 7, 0);
	CHECK_EQ(classify(), 0);
	/* Routes: the main table, not through the overlay, not clones. */
	put_route(RTM_NEWROUTE, 5, RT_TABLE_MAIN, 0);
	CHECK_EQ(classify(), NLMON_ROUTE);
	put_route(RTM_DELROUTE, 0, RT_TABLE_MAIN, 0); /* multipath: no RTA_OIF */
	CHECK_EQ(classify(), NLMON_ROUTE);
	put_route(RTM_NEWROUTE, 7, RT_TABLE_MAIN, 0);
	put_route(RTM_NEWROUTE, 5, RT_TABLE_LOCAL, 0);
	put_route(RTM_NEWROUTE, 5, RT_TABLE_MAIN, RTM_F_CLONED);
	CHECK_EQ(classify(), 0);
	/* Several in one datagram add up; other types count for nothing. */
	put_addr(RTM_NEWADDR, 7);
	put_link(RTM_NEWLINK, 3, IFF_UP);
	done(put(RTM_NEWNEIGH));
	put_route(RTM_NEWROUTE, 3, RT_TABLE_MAIN, 0);
	CHECK_EQ(classify(), NLMON_LINK | NLMON_ROUTE);
	/* A truncated message ends the walk; what came before counts. */
	put_link(RTM_NEWLINK, 3, IFF_UP);
	put_addr(RTM_NEWADDR, 3);
	CHECK_EQ(nlmon_classify(mbuf, mlen - 4, 7), NLMON_LINK);
	/* A message too short for its header is nothing. */
	CHECK_EQ(nlmon_classify(mbuf, NLMSG_HDRLEN - 1, 7), 0);
	mlen = 0;
	{
		struct nlmsghdr *h = put(RTM_NEWADDR);

		h->nlmsg_len = NLMSG_HDRLEN + 2; /* claims no ifaddrmsg */
		done(h);
		CHECK_EQ(classify(), 0);
	}
	CHECK_EQ(nlmon_classify(mbuf, 0, 7), 0);
}

/* ---- the kernel ----------------------------------------------------------- */

static struct loop *lp;
static int calls;
static unsigned int seen;

static void on_change(void *ctx, unsigned int what)
{
	(void)ctx;
	calls++;
	seen |= what;
}

static void on_timer(void *ctx, uint64_t now)
{
	(void)ctx;
	(void)now;
	loop_stop(lp);
}

/* Run the loop for ms milliseconds; reset and return the callback count. */
static int pump(int ms)
{
	int c;

	loop_set_deadline(lp, io_now_ns() + (uint64_t)ms * 1000000u);
	loop_run(lp);
	c = calls;
	calls = 0;
	return c;
}

static int sh(const char *cmd)
{
	int r = system(cmd);

	if (r)
		fprintf(stderr, "# %s: %d\n", cmd, r);
	return r;
}

static void test_kernel(void)
{
	struct nlmon *m = NULL;

	NEED_NS();
	CHECK_EQ(nlmon_new(lp, if_overlay, on_change, NULL, &m), 0);
	if (!m)
		return;
	CHECK_EQ(pump(100), 0);

	/* Five addresses added before the loop looks: one callback. */
	CHECK_EQ(sh("for i in 1 2 3 4 5; do ip addr add 192.0.2.$i/24 dev v0; done"), 0);
	seen = 0;
	CHECK_EQ(pump(200), 1);
	CHECK(seen & NLMON_ADDR);

	/* The overlay's own addresses and routes are the agent's doing. */
	CHECK_EQ(sh("ip addr add 10.77.0.5/24 dev v1 && ip -6 addr add fd77::5/64 dev v1 nodad"
		    " && ip route add 10.78.0.0/16 dev v1 && ip addr del 10.77.0.5/24 dev v1"),
		 0);
	CHECK_EQ(pump(200), 0);

	/* A move as in the netns test: add the new, remove the old. */
	CHECK_EQ(sh("ip -6 addr add 2001:db8::5/64 dev v0 nodad"), 0);
	seen = 0;
	CHECK_EQ(pump(200), 1);
	CHECK(seen & NLMON_ADDR);
	CHECK_EQ(sh("ip addr del 192.0.2.1/24 dev v0"), 0);
	CHECK(pump(200) >= 1);

	/* A route of the underlay (a new default gateway, say). */
	CHECK_EQ(sh("ip route add 198.51.100.0/24 via 192.0.2.9 dev v0"), 0);
	seen = 0;
	CHECK_EQ(pump(200), 1);
	CHECK_EQ(seen, NLMON_ROUTE);

	/* The uplink going down. */
	CHECK_EQ(sh("ip link set v0 down"), 0);
	seen = 0;
	CHECK(pump(200) >= 1);
	CHECK(seen & NLMON_LINK);
	CHECK_EQ(sh("ip link set v0 up"), 0);
	CHECK(pump(200) >= 1);

	/* Gone from the loop once freed. */
	nlmon_free(m);
	CHECK_EQ(sh("ip addr add 192.0.2.77/24 dev v0"), 0);
	CHECK_EQ(pump(100), 0);
}

static void test_two_monitors(void)
{
	struct nlmon *m = NULL, *m2 = (struct nlmon *)1;

	NEED_NS();
	/* Two monitors on one loop are independent sockets. */
	CHECK_EQ(nlmon_new(lp, 0, on_change, NULL, &m), 0);
	CHECK_EQ(nlmon_new(lp, 0, on_change, NULL, &m2), 0);
	CHECK_EQ(sh("ip addr add 192.0.2.88/24 dev v0"), 0);
	CHECK_EQ(pump(200), 2);
	nlmon_free(m);
	nlmon_free(m2);
	nlmon_free(NULL);
}

static const struct t_case cases[] = {
	T(test_classify),
	T(test_kernel),
	T(test_two_monitors),
};

int main(void)
{
	int r;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
		why_skip = "needs root to enter a private network namespace";
	else if (system("ip link add v0 type veth peer name v1 >/dev/null 2>&1 &&"
			" ip link set v0 addrgenmode none && ip link set v1 addrgenmode none &&"
			" sysctl -qw net.ipv4.conf.v0.promote_secondaries=1 &&"
			" ip link set v0 up && ip link set v1 up"))
		why_skip = "no veth pair (ip link add ... type veth)";
	else if (!(if_other = (int)if_nametoindex("v0")) ||
		 !(if_overlay = (int)if_nametoindex("v1")))
		why_skip = "veth pair vanished";
	else if (loop_new(&lp))
		why_skip = "no event loop";
	if (lp)
		loop_set_timer_fn(lp, on_timer, NULL);
	r = t_main("agent-nlmon", cases, SC_ARRAY_SIZE(cases));
	loop_free(lp);
	return r;
}
