// SPDX-License-Identifier: GPL-2.0-only
/*
 * scoped: the Scope node daemon.
 *
 *   scoped wg [--foreground] [--relay] IFNAME
 *                                       the engine alone, a drop-in userspace
 *                                       WireGuard like wireguard-go
 *   scoped-wg IFNAME                    the same, for wg-quick's
 *                                       WG_QUICK_USERSPACE_IMPLEMENTATION
 *   scoped run CONFIG                   the node daemon (agent + engine) of a
 *                                       Scope network, in the foreground; with
 *                                       Backend = uapi, PSK-only mode on an
 *                                       existing interface (docs/pskonly.md)
 *
 * Like wireguard-go, `scoped wg` daemonizes unless --foreground is given or
 * WG_PROCESS_FOREGROUND=1 is set. The parent returns only once the child has
 * created the interface and its UAPI socket (or failed: then it prints the
 * child's error and exits 1), so `scoped wg wg0 && wg setconf wg0 ...` works.
 * SIGINT and SIGTERM shut down cleanly: the UAPI socket is removed and the
 * TUN device closed, which deletes the interface. Deleting the interface
 * (`ip link del`, `wg-quick down`) also ends the daemon.
 *
 * Logs: key=value lines on stderr (in the foreground); LOG_LEVEL=verbose,
 * error (default) or silent, as wireguard-go reads it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/pskonly.h"
#include "agent/regclient.h"
#include "common/encode.h"
#include "common/parse.h"
#include "io/engine.h"
#include "io/env.h"
#include "io/loop.h"
#include "io/workers.h"
#include "uapi/server.h"
#include "uapi/uapi.h"

#define UAPI_DIR "/var/run/wireguard"

enum log_level { LOG_SILENT, LOG_ERROR, LOG_VERBOSE };

struct wgd {
	struct loop *loop;
	struct engine *eng;
	struct uapi_server *uapi;
	enum log_level level;
	const char *ifname;
	bool relay;
	bool no_offload;
	bool no_gso;
	unsigned int workers;
	int exit_code;
};

static void logf_(const struct wgd *d, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_(const struct wgd *d, enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (lvl > d->level)
		return;
	fprintf(stderr, "level=%s if=%s ", lvl == LOG_ERROR ? "error" : "info", d->ifname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static enum log_level level_from_env(void)
{
	const char *s = getenv("LOG_LEVEL");

	if (s && (!strcmp(s, "verbose") || !strcmp(s, "debug")))
		return LOG_VERBOSE;
	if (s && !strcmp(s, "silent"))
		return LOG_SILENT;
	return LOG_ERROR;
}

/* A short, public name for a peer in logs: its public key's first base64 chars. */
static void peer_tag(struct wg_peer *peer, char tag[12])
{
	struct wg_peer_info info;
	char b64[SC_B64_LEN(WG_KEY_LEN) + 1];

	wg_peer_get_info(peer, &info);
	sc_b64_encode(b64, info.public_key, WG_KEY_LEN);
	memcpy(tag, b64, 11);
	tag[11] = '\0';
}

static void on_event(void *ctx, struct wg_peer *peer, enum wg_event ev)
{
	static const char *const names[] = {
		[WG_EVENT_HANDSHAKE_COMPLETE] = "handshake_complete",
		[WG_EVENT_ENDPOINT_CHANGED] = "endpoint_changed",
		[WG_EVENT_HANDSHAKE_GAVE_UP] = "handshake_gave_up",
		[WG_EVENT_KEYS_ZEROED] = "keys_zeroed",
	};
	struct wgd *d = ctx;
	char tag[12];

	if (d->level < LOG_VERBOSE || !peer)
		return;
	peer_tag(peer, tag);
	logf_(d, LOG_VERBOSE, "peer=%s event=%s", tag, names[ev]);
}

static void on_down(void *ctx, int err)
{
	struct wgd *d = ctx;

	logf_(d, LOG_VERBOSE, "msg=\"interface gone, shutting down\" err=\"%s\"", strerror(-err));
	loop_stop(d->loop);
}

static void on_signal(void *ctx, int signo)
{
	struct wgd *d = ctx;

	if (signo == SIGHUP)
		return;
	logf_(d, LOG_VERBOSE, "msg=\"shutting down\" signal=%d", signo);
	loop_stop(d->loop);
}

/* ---- UAPI: the engine's side of struct uapi_host ------------------------- */

static uint16_t host_port(void *ctx)
{
	return engine_listen_port(((struct wgd *)ctx)->eng);
}

static int host_set_port(void *ctx, uint16_t port)
{
	struct wgd *d = ctx;
	struct io_err err;
	int r = engine_set_listen_port(d->eng, port, &err);

	if (r)
		logf_(d, LOG_ERROR, "msg=\"%s\"", err.msg);
	return r;
}

static uint32_t host_fwmark(void *ctx)
{
	return engine_fwmark(((struct wgd *)ctx)->eng);
}

static int host_set_fwmark(void *ctx, uint32_t mark)
{
	struct wgd *d = ctx;
	struct io_err err;
	int r = engine_set_fwmark(d->eng, mark, &err);

	if (r)
		logf_(d, LOG_ERROR, "msg=\"%s\"", err.msg);
	return r;
}

static void on_uapi(void *ctx, const char *req, size_t len, struct uapi_reply *out)
{
	struct wgd *d = ctx;
	const struct uapi_host host = {
		.listen_port = host_port,
		.set_listen_port = host_set_port,
		.fwmark = host_fwmark,
		.set_fwmark = host_set_fwmark,
		.ctx = d,
	};

	uapi_handle(engine_dev(d->eng), &host, io_now_ns(), engine_sink(d->eng), req, len, out);
	engine_kick(d->eng);
}

/* ---- start-up, daemonizing ---------------------------------------------- */

static int wgd_start(struct wgd *d, struct io_err *err)
{
	const struct engine_config cfg = {
		.ifname = d->ifname,
		.forwarding = d->relay,
		.no_offload = d->no_offload,
		.no_gso = d->no_gso,
		.workers = d->workers,
		.down = on_down,
		.event = on_event,
		.ctx = d,
	};
	int r;

	r = loop_new(&d->loop);
	if (r)
		return io_errf(err, r, "event loop");
	r = loop_set_signal_fn(d->loop, on_signal, d);
	if (r)
		return io_errf(err, r, "signals");
	r = engine_new(&cfg, d->loop, &d->eng, err);
	if (r)
		return r;
	return uapi_server_new(UAPI_DIR, engine_ifname(d->eng), d->loop, on_uapi, d, &d->uapi, err);
}

static void wgd_stop(struct wgd *d)
{
	uapi_server_free(d->uapi);
	engine_free(d->eng);
	loop_free(d->loop);
}

/* Tell the waiting parent how start-up went: "" for success, else the
 * message. The pipe closes either way. */
static void report(int fd, const char *msg)
{
	if (fd < 0)
		return;
	if (write(fd, msg, strlen(msg) + 1) < 0) {
		/* The parent is gone; nothing to tell. */
	}
	close(fd);
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Parent: wait for the child's report. Returns the exit status. */
static int wait_child(int fd, const char *prog)
{
	char msg[256];
	size_t n = 0;
	ssize_t r;

	while (n < sizeof(msg) - 1 && (r = read(fd, msg + n, sizeof(msg) - 1 - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += (size_t)r;
		if (memchr(msg, '\0', n))
			break;
	}
	msg[n] = '\0';
	close(fd);
	if (n > 0 && msg[0] == '\0')
		return 0;
	fprintf(stderr, "%s: %s\n", prog, n ? msg : "the daemon exited during start-up");
	return 1;
}

/* What the engine moved, once at the end (verbose): for operators, and for
 * tests that check which path packets took. */
static void log_counters(const struct wgd *d)
{
	struct engine_stats st;

	if (!d->eng)
		return;
	engine_get_stats(d->eng, &st);
	logf_(d, LOG_VERBOSE,
	      "msg=\"counters\" udp_rx=%llu udp_rx_gro=%llu udp_tx=%llu udp_tx_gso=%llu "
	      "udp_tx_dropped=%llu tun_rx=%llu tun_tx=%llu",
	      (unsigned long long)st.udp.rx_packets, (unsigned long long)st.udp.rx_gro,
	      (unsigned long long)st.udp.tx_packets, (unsigned long long)st.udp.tx_gso_sends,
	      (unsigned long long)st.udp_tx_dropped, (unsigned long long)st.tun_rx_packets,
	      (unsigned long long)st.tun_tx_packets);
}

static int run_wg(const char *prog, struct wgd d, bool foreground)
{
	struct io_err err = { "" };
	int ready = -1, r;

	if (!foreground) {
		int p[2];
		pid_t pid;

		if (pipe2(p, O_CLOEXEC)) {
			fprintf(stderr, "%s: pipe: %s\n", prog, strerror(errno));
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
			return 1;
		}
		if (pid > 0) {
			close(p[1]);
			return wait_child(p[0], prog);
		}
		close(p[0]);
		ready = p[1];
		setsid();
		if (chdir("/")) {
			/* Not fatal: only keeps a mount point busy. */
		}
		d.level = LOG_SILENT;
	}
	r = wgd_start(&d, &err);
	if (r) {
		if (foreground)
			fprintf(stderr, "%s: %s\n", prog, err.msg);
		report(ready, err.msg);
		wgd_stop(&d);
		return 1;
	}
	logf_(&d, LOG_VERBOSE, "msg=\"interface up\" port=%u", engine_listen_port(d.eng));
	if (!foreground)
		detach_stdio();
	report(ready, "");
	r = loop_run(d.loop);
	if (r)
		logf_(&d, LOG_ERROR, "msg=\"event loop failed\" err=\"%s\"", strerror(-r));
	log_counters(&d);
	wgd_stop(&d);
	return r ? 1 : d.exit_code;
}

/* ---- scoped run: the node daemon ----------------------------------------- */

struct node {
	struct loop *loop;
	enum log_level level;
};

static void node_log(void *ctx, enum agent_log_level lvl, const char *line)
{
	const struct node *n = ctx;
	enum log_level l = lvl == AGENT_LOG_ERROR  ? LOG_ERROR
			   : lvl == AGENT_LOG_INFO ? LOG_VERBOSE
						   : LOG_VERBOSE + 1;
	struct timespec ts;

	if (l > n->level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "ts=%lld.%03ld level=%s %s\n", (long long)ts.tv_sec, ts.tv_nsec / 1000000,
		lvl == AGENT_LOG_ERROR	? "error"
		: lvl == AGENT_LOG_INFO ? "info"
					: "debug",
		line);
}

static void node_signal(void *ctx, int signo)
{
	struct node *n = ctx;

	if (signo != SIGHUP)
		loop_stop(n->loop);
}

static void params_from_config(const struct agent_config *c, struct node *n, struct agent_params *p)
{
	*p = (struct agent_params){
		.net = &c->net,
		.cert = &c->cert,
		.cert_raw = c->cert_raw,
		.cert_len = c->cert_len,
		.identity_seed = c->identity_seed,
		.wg_private = c->wg_private,
		.role = c->role,
		.ifname = c->ifname,
		.listen_port = c->listen_port,
		.mtu = c->mtu,
		.keepalive = c->keepalive,
		.state_dir = c->state_dir,
		.registry_url = c->registry[0] ? c->registry : NULL,
		.endpoints = c->endpoints,
		.n_endpoints = c->n_endpoints,
		.kill = c->has_kill ? c->kill_raw : NULL,
		.kill_len = c->has_kill ? c->kill_len : 0,
		.psk = c->psk,
		.test_only_corrupt_psk_version = c->test_only_corrupt_version,
		.log = node_log,
		.log_ctx = n,
	};
}

static int run_node(const char *prog, const char *path)
{
	struct node n = { .level = level_from_env() };
	static struct agent_config cfg; /* large; wiped below */
	struct agent_params p;
	struct agent *a = NULL;
	struct pskonly *po = NULL;
	char err[512];
	int r;

	if (n.level < LOG_VERBOSE && getenv("SCOPE_VERBOSE"))
		n.level = LOG_VERBOSE;
	r = agent_config_load(path, (uint64_t)time(NULL), &cfg, err, sizeof(err));
	if (r) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || loop_new(&n.loop) ||
	    loop_set_signal_fn(n.loop, node_signal, &n)) {
		fprintf(stderr, "%s: cannot set up the event loop\n", prog);
		agent_config_clear(&cfg);
		return 1;
	}
	params_from_config(&cfg, &n, &p);
	if (cfg.backend != AGENT_BACKEND_ENGINE) /* PSK-only mode, docs/pskonly.md */
		r = pskonly_new(&cfg, NULL, n.loop, node_log, &n, &po, err, sizeof(err));
	else
		r = agent_new(&p, n.loop, &a, err, sizeof(err));
	agent_config_clear(&cfg); /* the agent keeps its own copy of the keys */
	if (r) {
		fprintf(stderr, "%s: %s\n", prog, err);
		loop_free(n.loop);
		return 1;
	}
	r = loop_run(n.loop);
	pskonly_free(po); /* the interface keeps its PSKs */
	agent_free(a);
	loop_free(n.loop);
	curl_global_cleanup();
	return r ? 1 : 0;
}

/* scoped leave CONFIG: tell the registry this node leaves the network (a
 * signed request); every node then removes it. The daemon itself never
 * leaves on exit, so a restart does not churn the network. */
static int run_leave(const char *prog, const char *path)
{
	static struct agent_config cfg; /* large; wiped below */
	struct regclient *rc = NULL;
	char err[512];
	int r;

	r = agent_config_load(path, (uint64_t)time(NULL), &cfg, err, sizeof(err));
	if (r) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = regclient_new(cfg.registry[0] ? cfg.registry : cfg.net.registry, &cfg.net,
			  cfg.identity_seed, &rc);
	if (!r)
		r = regclient_leave(rc);
	if (r)
		fprintf(stderr, "%s: leave: %s\n", prog,
			rc && regclient_error(rc)[0] ? regclient_error(rc) : strerror(-r));
	regclient_free(rc);
	agent_config_clear(&cfg);
	curl_global_cleanup();
	return r ? 1 : 0;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s run CONFIG\n"
		"       %s leave CONFIG\n"
		"       %s wg [--foreground] [--relay] [--no-offload] [--no-gso] [--workers N]\n"
		"                 IFNAME\n"
		"       scoped-wg [--foreground] [--relay] [--no-offload] [--no-gso]\n"
		"                 [--workers N] IFNAME\n"
		"\n"
		"  run CONFIG     run the node daemon of a Scope network (docs/agent.md), in the\n"
		"                 foreground; logs key=value lines on stderr (SCOPE_VERBOSE=1 for\n"
		"                 more)\n"
		"  leave CONFIG   remove this node from the network at the registry (signed);\n"
		"                 the other nodes drop it from their configuration\n"
		"  wg IFNAME      run a userspace WireGuard interface with the standard UAPI\n"
		"                 socket in " UAPI_DIR "/IFNAME.sock (configure it with wg(8))\n"
		"  --foreground   do not daemonize (also WG_PROCESS_FOREGROUND=1)\n"
		"  --relay        forward packets between peers inside the engine: a packet\n"
		"                 from one peer for another peer's allowed IPs never reaches\n"
		"                 the TUN device\n"
		"  --no-offload   plain TUN I/O, one packet per read and write (default: TCP\n"
		"                 segmentation and coalescing offloads when the kernel has them)\n"
		"  --no-gso       one UDP datagram per send and per receive (default: a run of\n"
		"                 datagrams to one peer leaves as one segmented send, and\n"
		"                 coalesced ones are taken, when the kernel has UDP GSO/GRO)\n"
		"  --workers N    N threads besides the event loop seal and open packets; 0:\n"
		"                 the loop does it all (default: 1 with 2 or more CPUs)\n",
		prog, prog, prog);
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

static int main_wg(const char *prog, int argc, char **argv)
{
	const char *env = getenv("WG_PROCESS_FOREGROUND");
	bool foreground = env && !strcmp(env, "1");
	struct wgd d = { .level = level_from_env(), .workers = engine_default_workers() };

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--foreground") || !strcmp(argv[i], "-f")) {
			foreground = true;
		} else if (!strcmp(argv[i], "--relay")) {
			d.relay = true;
		} else if (!strcmp(argv[i], "--no-offload")) {
			d.no_offload = true;
		} else if (!strcmp(argv[i], "--no-gso")) {
			d.no_gso = true;
		} else if (!strcmp(argv[i], "--workers")) {
			uint64_t n;

			if (i + 1 == argc || sc_parse_u64(argv[++i], 0, WORKERS_MAX, &n)) {
				fprintf(stderr, "%s: --workers needs a number from 0 to %d\n", prog,
					WORKERS_MAX);
				return 1;
			}
			d.workers = (unsigned int)n;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout, prog);
			return 0;
		} else if (argv[i][0] == '-' || d.ifname) {
			fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[i]);
			usage(stderr, prog);
			return 1;
		} else {
			d.ifname = argv[i];
		}
	}
	if (!d.ifname) {
		fprintf(stderr, "%s: missing interface name\n", prog);
		usage(stderr, prog);
		return 1;
	}
	if (!valid_ifname(d.ifname)) {
		fprintf(stderr, "%s: invalid interface name '%s'\n", prog, d.ifname);
		return 1;
	}
	/* The UAPI socket's directory and socket are for root only. */
	umask(077);
	signal(SIGPIPE, SIG_IGN);
	return run_wg(prog, d, foreground);
}

int main(int argc, char **argv)
{
	const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

	if (!strcmp(prog, "scoped-wg"))
		return main_wg(prog, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "wg"))
		return main_wg(prog, argc - 2, argv + 2);
	if (argc >= 2 && (!strcmp(argv[1], "run") || !strcmp(argv[1], "leave"))) {
		if (argc != 3 || argv[2][0] == '-') {
			fprintf(stderr, "%s: usage: %s %s CONFIG\n", prog, prog, argv[1]);
			return 1;
		}
		signal(SIGPIPE, SIG_IGN);
		return !strcmp(argv[1], "run") ? run_node(prog, argv[2]) : run_leave(prog, argv[2]);
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout, prog);
		return 0;
	}
	if (argc < 2)
		fprintf(stderr, "%s: missing command\n", prog);
	else
		fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
	usage(stderr, prog);
	return 1;
}
