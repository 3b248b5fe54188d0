// SPDX-License-Identifier: GPL-2.0-only
/*
 * rtnetlink calls against the real kernel, in a private network namespace
 * the test process enters (needs root; skipped otherwise), on a TUN device.
 * Results are read back with ip(8), the tool an operator would use.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "agent/nl.h"
#include "io/tun.h"
#include "test.h"

static struct nl *nl;
static struct tun *tun;
static int ifindex;
static const char *why_skip;

#define NEED_NS()                               \
	do {                                    \
		if (why_skip) {                 \
			t_skip("%s", why_skip); \
			return;                 \
		}                               \
	} while (0)

static struct nl_prefix pfx(const char *addr, uint8_t len)
{
	struct nl_prefix p = { .family = strchr(addr, ':') ? AF_INET6 : AF_INET, .len = len };

	inet_pton(p.family, addr, p.addr);
	return p;
}

/* True if `cmd` prints a line containing needle. */
static bool shows(const char *cmd, const char *needle)
{
	char line[512];
	bool found = false;
	FILE *f = popen(cmd, "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, needle) != NULL;
	pclose(f);
	return found;
}

static void test_link(void)
{
	NEED_NS();
	CHECK_EQ(nl_link_set(nl, ifindex, true, 1380), 0);
	CHECK(shows("ip link show nltest0", "mtu 1380"));
	CHECK(shows("ip link show nltest0", ",UP"));
	CHECK_EQ(nl_link_set(nl, ifindex, false, 0), 0);
	CHECK(!shows("ip link show nltest0", ",UP"));
	CHECK(shows("ip link show nltest0", "mtu 1380"));
	CHECK_EQ(nl_link_set(nl, ifindex, true, 0), 0);
	CHECK_EQ(nl_link_set(nl, 999999, true, 0), -ENODEV);
}

static void test_addr(void)
{
	struct nl_prefix a4 = pfx("10.77.0.5", 24), a6 = pfx("fd77::5", 64);

	NEED_NS();

	CHECK_EQ(nl_addr_add(nl, ifindex, &a4), 0);
	CHECK_EQ(nl_addr_add(nl, ifindex, &a6), 0);
	/* Re-applying the same state is not an error. */
	CHECK_EQ(nl_addr_add(nl, ifindex, &a4), 0);
	CHECK(shows("ip addr show dev nltest0", "inet 10.77.0.5/24"));
	CHECK(shows("ip addr show dev nltest0", "inet6 fd77::5/64"));
	CHECK_EQ(nl_addr_del(nl, ifindex, &a4), 0);
	CHECK(!shows("ip addr show dev nltest0", "10.77.0.5"));
	CHECK_EQ(nl_addr_del(nl, ifindex, &a4), -EADDRNOTAVAIL);
	a4.len = 33;
	CHECK_EQ(nl_addr_add(nl, ifindex, &a4), -EINVAL);
	a4.family = AF_UNIX;
	CHECK_EQ(nl_addr_add(nl, ifindex, &a4), -EINVAL);
}

static void test_route(void)
{
	/* Host bits in the destination are masked off, as ip(8) insists. */
	struct nl_prefix r4 = pfx("10.78.1.9", 16), r6 = pfx("fd78::", 48);

	NEED_NS();

	CHECK_EQ(nl_route_add(nl, ifindex, &r4), 0);
	CHECK_EQ(nl_route_add(nl, ifindex, &r4), 0);
	CHECK_EQ(nl_route_add(nl, ifindex, &r6), 0);
	CHECK(shows("ip route show dev nltest0", "10.78.0.0/16"));
	CHECK(shows("ip -6 route show dev nltest0", "fd78::/48"));
	CHECK(shows("ip route get 10.78.200.1", "dev nltest0"));
	CHECK_EQ(nl_route_del(nl, ifindex, &r4), 0);
	CHECK(!shows("ip route show dev nltest0", "10.78.0.0/16"));
	CHECK_EQ(nl_route_del(nl, ifindex, &r4), -ESRCH);
	CHECK_EQ(nl_route_add(nl, 999999, &r4), -ENODEV);
}

static const struct t_case cases[] = {
	T(test_link),
	T(test_addr),
	T(test_route),
};

int main(void)
{
	struct io_err err;

	int r;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
		why_skip = "needs root to enter a private network namespace";
	else if (tun_open("nltest0", &tun, &err) || tun_get_ifindex(tun, &ifindex, &err))
		why_skip = "no TUN device";
	else if (nl_open(&nl))
		why_skip = "no rtnetlink socket";
	r = t_main("agent-nl", cases, SC_ARRAY_SIZE(cases));
	nl_close(nl);
	tun_free(tun);
	return r;
}
