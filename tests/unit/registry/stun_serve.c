// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test helper, not a product: run the registry's STUN responder alone, for
 * tests/netns/stun_responder.sh.
 *
 *	stun-serve ADDR PORT SECONDS
 *
 * ADDR as reg_stun_new() takes it ("" or "::" for dual-stack). Prints
 * "listening PORT" once bound, serves until SIGTERM/SIGINT or SECONDS
 * have passed, then prints the counters as one "stats key=value..." line.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/parse.h"
#include "registry/stun_server.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	char err[REG_STUN_ERRLEN] = "";
	struct reg_stun *s = NULL;
	struct reg_stun_stats st;
	uint64_t port, secs;
	double end;
	int ret;

	if (argc != 4 || sc_parse_u64(argv[2], 0, 65535, &port) ||
	    sc_parse_u64(argv[3], 1, 3600, &secs)) {
		fprintf(stderr, "usage: %s ADDR PORT SECONDS\n", argv[0]);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	ret = reg_stun_new(argv[1], (uint16_t)port, &s, err);
	if (ret) {
		fprintf(stderr, "stun-serve: %s\n", err);
		return 1;
	}
	printf("listening %u\n", reg_stun_port(s));
	fflush(stdout);
	end = now_s() + (double)secs;
	while (!stop && now_s() < end) {
		struct pollfd p = { .fd = reg_stun_fd(s), .events = POLLIN };

		if (poll(&p, 1, 100) > 0) {
			ret = reg_stun_on_readable(s);
			if (ret < 0)
				fprintf(stderr, "stun-serve: receive: %s\n", strerror(-ret));
		}
	}
	reg_stun_get_stats(s, &st);
	printf("stats rx=%llu success=%llu error=%llu ignored=%llu dropped=%llu oversize=%llu "
	       "failed=%llu\n",
	       (unsigned long long)st.rx_packets, (unsigned long long)st.tx_success,
	       (unsigned long long)st.tx_error, (unsigned long long)st.ignored,
	       (unsigned long long)st.dropped, (unsigned long long)st.rx_oversize,
	       (unsigned long long)st.tx_failed);
	reg_stun_free(s);
	return 0;
}
