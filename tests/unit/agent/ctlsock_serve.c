// SPDX-License-Identifier: GPL-2.0-only
/*
 * A control socket with a fixed status, for tests/cli/scopectl_status.sh
 * (alpha: no PQ rotation; beta, gamma, delta: PSK states of docs/pq.md):
 * serves DIR/IFNAME.sock until SIGTERM or SIGINT. With "fail" as the third
 * argument the status callback fails, so the error path can be tested.
 * usage: ctlsock-serve DIR IFNAME [fail]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/ctlsock.h"
#include "io/loop.h"
#include "proto/cert.h"

static int fail_status;

static int on_status(void *ctx, struct agent_status *st)
{
	struct agent_status_peer p;
	struct proto_prefix pfx[3];
	int ret;

	if (fail_status)
		return -EAGAIN;
	st->role = PROTO_ROLE_MASTER;
	snprintf(st->network, sizeof(st->network), "lab");
	snprintf(st->ifname, sizeof(st->ifname), "lab");
	memset(st->public_key, 0x11, sizeof(st->public_key));
	st->listen_port = 51820;
	snprintf(st->registry, sizeof(st->registry), "https://reg.example.net/");
	st->registry_reachable = true;
	st->has_registry_contact = true;
	st->registry_contact_age = 4;
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "alpha");
	p.role = PROTO_ROLE_EDGE;
	memset(p.key, 0x22, sizeof(p.key));
	p.has_endpoint = true;
	proto_endpoint_parse("198.51.100.2:4000", &p.endpoint);
	p.has_handshake = true;
	p.handshake_age = 17;
	p.rx_bytes = 1234567;
	p.tx_bytes = 89;
	proto_prefix_parse("10.7.0.5/32", &pfx[0]);
	proto_prefix_parse("fd00:7::5/128", &pfx[1]);
	proto_prefix_parse("192.168.1.0/24", &pfx[2]);
	p.allowed = pfx;
	p.n_allowed = 3;
	p.path = AGENT_PATH_DIRECT;
	ret = agent_status_add_peer(st, &p);
	if (ret)
		return ret;
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "beta");
	p.role = PROTO_ROLE_EDGE;
	memset(p.key, 0x33, sizeof(p.key));
	p.path = AGENT_PATH_RELAY;
	snprintf(p.via, sizeof(p.via), "mr1");
	p.has_psk = true;
	p.psk_version = 3;
	p.psk_age_s = 42;
	p.has_kex = true;
	p.pq_state = 3;
	p.classical = 2;
	p.psk_kept = 3;
	ret = agent_status_add_peer(st, &p);
	if (ret)
		return ret;
	/* PQ rotation running: one that reverted twice, one still exchanging */
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "gamma");
	p.role = PROTO_ROLE_EDGE;
	memset(p.key, 0x44, sizeof(p.key));
	p.has_psk = true;
	p.psk_version = 12;
	p.psk_age_s = 7300;
	p.has_kex = true;
	p.pq_state = 2;
	p.classical = 2;
	p.psk_kept = 3;
	p.psk_reverts = 2;
	ret = agent_status_add_peer(st, &p);
	if (ret)
		return ret;
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "delta");
	p.role = PROTO_ROLE_EDGE;
	memset(p.key, 0x55, sizeof(p.key));
	p.has_kex = true;
	p.pq_state = 1;
	p.classical = 1;
	return agent_status_add_peer(st, &p);
}

static void on_signal(void *ctx, int signo)
{
	loop_stop(ctx);
}

int main(int argc, char **argv)
{
	struct agent_ctlsock *s = NULL;
	struct loop *loop = NULL;
	char err[256] = "";
	int ret;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: ctlsock-serve DIR IFNAME [fail]\n");
		return 1;
	}
	fail_status = argc == 4 && strcmp(argv[3], "fail") == 0;
	ret = loop_new(&loop);
	if (!ret)
		ret = loop_set_signal_fn(loop, on_signal, loop);
	if (!ret)
		ret = agent_ctlsock_new(argv[1], argv[2], loop, on_status, NULL, &s, err,
					sizeof(err));
	if (!ret) {
		printf("ready %s\n", agent_ctlsock_path(s));
		fflush(stdout);
		ret = loop_run(loop);
	}
	if (ret)
		fprintf(stderr, "ctlsock-serve: %s\n", err[0] ? err : strerror(-ret));
	agent_ctlsock_free(s);
	loop_free(loop);
	return ret ? 1 : 0;
}
