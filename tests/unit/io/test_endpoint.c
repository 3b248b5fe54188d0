// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>

#include "io/endpoint.h"
#include "test.h"

/* Accepted inputs and their canonical form (what io_endpoint_format prints). */
static void test_parse_good(void)
{
	static const struct {
		const char *in, *canon;
		int family;
		uint16_t port;
	} v[] = {
		{ "1.2.3.4:51820", "1.2.3.4:51820", AF_INET, 51820 },
		{ "0.0.0.0:1", "0.0.0.0:1", AF_INET, 1 },
		{ "255.255.255.255:65535", "255.255.255.255:65535", AF_INET, 65535 },
		{ "[2001:db8::1]:51820", "[2001:db8::1]:51820", AF_INET6, 51820 },
		{ "[2001:DB8:0:0::1]:80", "[2001:db8::1]:80", AF_INET6, 80 },
		{ "[::1]:80", "[::1]:80", AF_INET6, 80 },
		{ "[::]:9", "[::]:9", AF_INET6, 9 },
		{ "[fe80::1%2]:51820", "[fe80::1%2]:51820", AF_INET6, 51820 },
		{ "[ff02::1%3]:5", "[ff02::1%3]:5", AF_INET6, 5 },
		/* IPv4-mapped: stored as plain IPv4, like received packets. */
		{ "[::ffff:1.2.3.4]:80", "1.2.3.4:80", AF_INET, 80 },
		{ "[::ffff:102:304]:80", "1.2.3.4:80", AF_INET, 80 },
		/* Deprecated IPv4-compatible form is just an IPv6 address. */
		{ "[::1.2.3.4]:80", "[::1.2.3.4]:80", AF_INET6, 80 },
		{ "[2001:db8::]:51820", "[2001:db8::]:51820", AF_INET6, 51820 },
		{ "[1:2:3:4:5:6:7:8]:1", "[1:2:3:4:5:6:7:8]:1", AF_INET6, 1 },
	};
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(v); i++) {
		struct io_endpoint ep;
		char buf[IO_ENDPOINT_STRLEN];
		int ret = io_endpoint_parse(v[i].in, &ep);

		CHECK_EQ(ret, 0);
		if (ret) {
			fprintf(stderr, "# rejected %s\n", v[i].in);
			continue;
		}
		CHECK_EQ(ep.family, v[i].family);
		CHECK_EQ(ep.port, v[i].port);
		CHECK(!io_endpoint_has_src(&ep));
		CHECK_EQ(io_endpoint_format(&ep, buf, sizeof(buf)), 0);
		CHECK(strcmp(buf, v[i].canon) == 0);
		if (strcmp(buf, v[i].canon))
			fprintf(stderr, "# %s -> %s, want %s\n", v[i].in, buf, v[i].canon);
	}
}

static void test_parse_bad(void)
{
	static const char *const v[] = {
		"",
		"1.2.3.4",
		"1.2.3.4:",
		"1.2.3.4:0",
		"1.2.3.4:65536",
		"1.2.3.4:99999999999999999999999",
		"1.2.3.4:-1",
		"1.2.3.4:+80",
		"1.2.3.4:080",
		"1.2.3.4:0x50",
		"1.2.3.4:80 ",
		" 1.2.3.4:80",
		"1.2.3.4 :80",
		"1.2.3.4:8 0",
		"1.2.3.4:80x",
		"1.2.3.4:80:80",
		"1.2.3:80",
		"1.2.3.4.5:80",
		"01.2.3.4:80",
		"1.2.3.256:80",
		"0x1.2.3.4:80",
		"1.2.3.4/32:80",
		":80",
		"localhost:80",
		"example.com:51820",
		"[::1]",
		"[::1]:",
		"[::1]:0",
		"[::1]:0x50",
		"[::1]:65536",
		"[::1]80",
		"[::1]]:80",
		"[[::1]:80",
		"[::1:80",
		"::1]:80",
		"::1:80",
		"[::1]:80]",
		"[1.2.3.4]:80",
		"[]:80",
		"[::g]:80",
		"[1:2:3:4:5:6:7:8:9]:80",
		"[::1%2]:80", /* zone on a global address */
		"[fe80::1%]:80",
		"[fe80::1%0]:80",
		"[fe80::1%eth0]:80", /* names need I/O: numeric only */
		"[fe80::1%-1]:80",
		"[fe80::1%4294967296]:80",
		"[fe80::1%2%3]:80",
		"[::ffff:1.2.3.4%2]:80",
		"[::ffff:1.2.3]:80",
		"[ ::1]:80",
		"[::1] :80",
		"[::1]: 80",
		"1.2.3.4:80\n",
		"[1111:2222:3333:4444:5555:6666:7777:8888]:655350",
		/* Longer than any valid endpoint (IO_ENDPOINT_STRLEN). */
		"[0000:0000:0000:0000:0000:0000:0000:0001%0000000002]:00000000080",
	};
	size_t i;

	for (i = 0; i < SC_ARRAY_SIZE(v); i++) {
		struct io_endpoint ep;

		memset(&ep, 0xab, sizeof(ep));
		CHECK_EQ(io_endpoint_parse(v[i], &ep), -EINVAL);
		CHECK_EQ(ep.port, 0xabab); /* untouched on error */
		if (ep.port != 0xabab)
			fprintf(stderr, "# accepted \"%s\"\n", v[i]);
	}
	CHECK_EQ(io_endpoint_parse(NULL, NULL), -EINVAL);
}

static void test_format(void)
{
	struct io_endpoint ep = { 0 };
	char buf[IO_ENDPOINT_STRLEN], small[8];

	CHECK_EQ(io_endpoint_format(&ep, buf, sizeof(buf)), -EAFNOSUPPORT);
	CHECK_EQ(io_endpoint_parse("[1111:2222:3333:4444:5555:6666:7777:8888%4294967295]:65535",
				   &ep),
		 -EINVAL); /* not link-local */
	CHECK_EQ(io_endpoint_parse("[fe80:2222:3333:4444:5555:6666:7777:8888%4294967295]:65535",
				   &ep),
		 0);
	CHECK_EQ(io_endpoint_format(&ep, buf, sizeof(buf)), 0);
	CHECK(strcmp(buf, "[fe80:2222:3333:4444:5555:6666:7777:8888%4294967295]:65535") == 0);
	CHECK(strlen(buf) + 1 <= IO_ENDPOINT_STRLEN);
	CHECK_EQ(io_endpoint_format(&ep, small, sizeof(small)), -ENOSPC);
	CHECK_EQ(io_endpoint_parse("10.0.0.1:7", &ep), 0);
	CHECK_EQ(io_endpoint_format(&ep, buf, 10), -ENOSPC);
	CHECK_EQ(io_endpoint_format(&ep, buf, 11), 0);
	CHECK(strcmp(buf, "10.0.0.1:7") == 0);
}

static void test_equal(void)
{
	struct io_endpoint a, b, c;

	CHECK_EQ(io_endpoint_parse("1.2.3.4:80", &a), 0);
	CHECK_EQ(io_endpoint_parse("[::ffff:1.2.3.4]:80", &b), 0);
	CHECK(io_endpoint_equal(&a, &b));
	CHECK(io_endpoint_equal_src(&a, &b));
	/* Garbage beyond the IPv4 bytes does not matter. */
	memset((uint8_t *)&b.addr + 4, 0x55, sizeof(b.addr) - 4);
	CHECK(io_endpoint_equal(&a, &b));
	b.port = 81;
	CHECK(!io_endpoint_equal(&a, &b));
	CHECK_EQ(io_endpoint_parse("[fe80::1%2]:80", &c), 0);
	CHECK(!io_endpoint_equal(&a, &c));
	b = c;
	b.scope_id = 3;
	CHECK(!io_endpoint_equal(&b, &c));
	b = c;
	inet_pton(AF_INET6, "fe80::2", &b.src.v6);
	CHECK(io_endpoint_has_src(&b));
	CHECK(io_endpoint_equal(&b, &c));
	CHECK(!io_endpoint_equal_src(&b, &c));
	io_endpoint_clear_src(&b);
	CHECK(!io_endpoint_has_src(&b));
	CHECK(io_endpoint_equal_src(&b, &c));
}

static void test_sockaddr(void)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(51820) };
	struct sockaddr_in in = { .sin_family = AF_INET, .sin_port = htons(7) };
	struct io_endpoint ep, ep2;
	union io_sockaddr sa;
	socklen_t len;
	char buf[IO_ENDPOINT_STRLEN];

	/* v4-mapped from a dual-stack socket normalises to AF_INET. */
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &in6.sin6_addr);
	CHECK_EQ(io_endpoint_from_sockaddr((struct sockaddr *)&in6, sizeof(in6), &ep), 0);
	CHECK_EQ(ep.family, AF_INET);
	CHECK_EQ(io_endpoint_format(&ep, buf, sizeof(buf)), 0);
	CHECK(strcmp(buf, "192.0.2.7:51820") == 0);
	/* ...and maps back for an AF_INET6 socket. */
	CHECK_EQ(io_endpoint_to_sockaddr(&ep, AF_INET6, &sa, &len), 0);
	CHECK_EQ(len, sizeof(struct sockaddr_in6));
	CHECK_MEM(&sa.in6.sin6_addr, &in6.sin6_addr, 16);
	CHECK_EQ(sa.in6.sin6_port, htons(51820));
	CHECK_EQ(io_endpoint_to_sockaddr(&ep, AF_INET, &sa, &len), 0);
	CHECK_EQ(len, sizeof(struct sockaddr_in));
	CHECK_EQ(sa.in.sin_addr.s_addr, htonl(0xc0000207));

	inet_pton(AF_INET6, "fe80::9", &in6.sin6_addr);
	in6.sin6_scope_id = 4;
	CHECK_EQ(io_endpoint_from_sockaddr((struct sockaddr *)&in6, sizeof(in6), &ep), 0);
	CHECK_EQ(ep.family, AF_INET6);
	CHECK_EQ(ep.scope_id, 4);
	CHECK_EQ(io_endpoint_to_sockaddr(&ep, AF_INET, &sa, &len), -EAFNOSUPPORT);
	CHECK_EQ(io_endpoint_to_sockaddr(&ep, AF_INET6, &sa, &len), 0);
	CHECK_EQ(sa.in6.sin6_scope_id, 4);

	inet_pton(AF_INET, "10.1.2.3", &in.sin_addr);
	CHECK_EQ(io_endpoint_from_sockaddr((struct sockaddr *)&in, sizeof(in), &ep2), 0);
	CHECK_EQ(ep2.family, AF_INET);
	CHECK_EQ(ep2.port, 7);
	CHECK_EQ(io_endpoint_from_sockaddr((struct sockaddr *)&in, sizeof(in) - 1, &ep2), -EINVAL);
	in.sin_family = AF_UNIX;
	CHECK_EQ(io_endpoint_from_sockaddr((struct sockaddr *)&in, sizeof(in), &ep2),
		 -EAFNOSUPPORT);
	CHECK_EQ(ep2.port, 7); /* untouched */
	memset(&ep2, 0, sizeof(ep2));
	CHECK_EQ(io_endpoint_to_sockaddr(&ep2, AF_INET6, &sa, &len), -EAFNOSUPPORT);
}

/* io_endpoint <-> wg_endpoint keeps address, port, zone and local source. */
static void test_wg_convert(void)
{
	static const char *const forms[] = { "192.0.2.7:51820", "[2001:db8::9]:443",
					     "[fe80::1%4]:7" };
	struct io_endpoint a, b;
	struct wg_endpoint w;
	char buf[IO_ENDPOINT_STRLEN];

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		CHECK_EQ(io_endpoint_parse(forms[i], &a), 0);
		if (a.family == AF_INET)
			inet_pton(AF_INET, "198.51.100.1", &a.src.v4);
		else
			inet_pton(AF_INET6, "2001:db8::1", &a.src.v6);
		a.src_ifindex = 3;
		CHECK_EQ(io_endpoint_to_wg(&a, &w), 0);
		CHECK_EQ(w.addr.sa.sa_family, a.family);
		CHECK_EQ(io_endpoint_from_wg(&w, &b), 0);
		CHECK(io_endpoint_equal_src(&a, &b));
		CHECK_EQ(b.src_ifindex, 3u);
		CHECK_EQ(io_endpoint_format(&b, buf, sizeof(buf)), 0);
		CHECK(strcmp(buf, forms[i]) == 0);
	}
	/* Unset stays unset; an unknown family is refused and writes nothing. */
	memset(&a, 0, sizeof(a));
	a.family = AF_UNSPEC;
	CHECK_EQ(io_endpoint_to_wg(&a, &w), 0);
	CHECK_EQ(w.addr.sa.sa_family, AF_UNSPEC);
	a.family = AF_UNIX;
	CHECK_EQ(io_endpoint_to_wg(&a, &w), -EAFNOSUPPORT);
	CHECK_EQ(w.addr.sa.sa_family, AF_UNSPEC);
	w.addr.sa.sa_family = AF_UNIX;
	b.family = AF_INET;
	CHECK_EQ(io_endpoint_from_wg(&w, &b), -EAFNOSUPPORT);
	CHECK_EQ(b.family, AF_INET);
}

static const struct t_case cases[] = {
	T(test_parse_good), T(test_parse_bad), T(test_format),
	T(test_equal),	    T(test_sockaddr),  T(test_wg_convert),
};

int main(void)
{
	return t_main("io-endpoint", cases, SC_ARRAY_SIZE(cases));
}
