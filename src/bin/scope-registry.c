// SPDX-License-Identifier: GPL-2.0-only
/*
 * scope-registry: the registry service (DESIGN.md section 6). Arguments and
 * wiring only: the store, the trust anchor, the HTTP server and the STUN
 * responder come from src/registry; this file runs the main loop, which
 * waits for signals and STUN datagrams and drives housekeeping.
 */
#define _GNU_SOURCE /* pipe2 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/compiler.h"
#include "common/parse.h"
#include "crypto/ct.h"
#include "crypto/keys.h"
#include "registry/http.h"
#include "registry/limits.h"
#include "registry/reg.h"
#include "registry/store.h"
#include "registry/stun_server.h"

#define DEFAULT_LISTEN "0.0.0.0:8470"
#define DEFAULT_DB     "/var/lib/scope/registry.db"
#define STUN_PORT      3478
#define FILE_MAX       (1 << 20)

struct opts {
	const char *listen, *db, *network, *stun, *tls_cert, *tls_key, *pin;
	struct proto_prefix trusted[REG_TRUSTED_PROXIES_MAX];
	size_t ntrusted;
	unsigned threads;
	int foreground, verbose;
};

static void logline(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logline(const char *level, const char *fmt, ...)
{
	char ts[32], msg[600];
	struct timespec now;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ts=%s level=%s %s\n", ts, level, msg);
}

static void http_log(void *ctx, const char *line)
{
	logline("info", "%s", line);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: scope-registry --network FILE [options]\n"
		"  --network FILE        signed network definition (holds the admin public key)\n"
		"  --listen ADDR:PORT    HTTP address (default " DEFAULT_LISTEN ")\n"
		"  --db PATH             SQLite database (default " DEFAULT_DB ")\n"
		"  --stun ADDR:PORT|off  STUN responder (default: the listen address, port 3478)\n"
		"  --trusted-proxy CIDR  believe X-Forwarded-For from this proxy (repeatable)\n"
		"  --tls-cert FILE       PEM certificate chain: serve HTTPS\n"
		"  --tls-key FILE        PEM private key for --tls-cert\n"
		"  --pin-admin KEY       refuse a network definition not signed by this key\n"
		"  --threads N           HTTP threads (default: one per CPU, at most 8)\n"
		"  --foreground          do not detach\n"
		"  --verbose             log every request\n");
}

/* "1.2.3.4:80", "[::1]:80": family-specific socket address, port 0..65535. */
static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			  char host[INET6_ADDRSTRLEN], uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	size_t hl;
	uint64_t p;

	if (!colon || sc_parse_u64(colon + 1, 0, 65535, &p))
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= INET6_ADDRSTRLEN)
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)p);
		*len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)p);
		*len = sizeof(struct sockaddr_in6);
	} else {
		return -EINVAL;
	}
	*port = (uint16_t)p;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "network", required_argument, NULL, 'n' },
		{ "stun", required_argument, NULL, 's' },
		{ "trusted-proxy", required_argument, NULL, 'p' },
		{ "tls-cert", required_argument, NULL, 'c' },
		{ "tls-key", required_argument, NULL, 'k' },
		{ "pin-admin", required_argument, NULL, 'a' },
		{ "threads", required_argument, NULL, 't' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t n;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->listen = optarg;
			break;
		case 'd':
			o->db = optarg;
			break;
		case 'n':
			o->network = optarg;
			break;
		case 's':
			o->stun = optarg;
			break;
		case 'p':
			if (o->ntrusted == REG_TRUSTED_PROXIES_MAX ||
			    proto_prefix_parse(optarg, &o->trusted[o->ntrusted])) {
				fprintf(stderr,
					"scope-registry: bad --trusted-proxy '%s' (CIDR with "
					"zero host bits, at most %d)\n",
					optarg, REG_TRUSTED_PROXIES_MAX);
				return -EINVAL;
			}
			o->ntrusted++;
			break;
		case 'c':
			o->tls_cert = optarg;
			break;
		case 'k':
			o->tls_key = optarg;
			break;
		case 'a':
			o->pin = optarg;
			break;
		case 't':
			if (sc_parse_u64(optarg, 1, 64, &n)) {
				fprintf(stderr, "scope-registry: --threads takes 1..64\n");
				return -EINVAL;
			}
			o->threads = (unsigned)n;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || !o->network) {
		fprintf(stderr, "scope-registry: %s\n",
			optind != argc ? "unexpected argument" : "--network FILE is required");
		usage(stderr);
		return -EINVAL;
	}
	if (!o->tls_cert != !o->tls_key) {
		fprintf(stderr, "scope-registry: --tls-cert and --tls-key go together\n");
		return -EINVAL;
	}
	return 0;
}

/* A whole small file, NUL-terminated (heap). */
static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	struct stat st;
	ssize_t r;
	size_t n = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size < 0 || st.st_size > FILE_MAX)
		goto fail;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto fail;
	while (n < (size_t)st.st_size && (r = read(fd, buf + n, (size_t)st.st_size - n)) > 0)
		n += (size_t)r;
	if (n != (size_t)st.st_size)
		goto fail;
	buf[n] = '\0';
	close(fd);
	*len = n;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

static int64_t wall_now(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int open_reg(const struct opts *o, struct reg **out)
{
	struct reg_config cfg = { .now = wall_now };
	uint8_t pin[CRY_KEY_LEN];
	char err[256] = "";
	size_t len = 0;
	char *netdef = read_file(o->network, &len);
	int r;

	if (!netdef) {
		logline("error", "subsys=registry event=start msg=\"cannot read %s: %s\"",
			o->network, strerror(errno ? errno : EINVAL));
		return -EIO;
	}
	if (o->pin && cry_key_from_b64(pin, o->pin)) {
		logline("error", "subsys=registry event=start msg=\"--pin-admin is not a key\"");
		free(netdef);
		return -EINVAL;
	}
	r = reg_auth_new((const uint8_t *)netdef, len, o->pin ? pin : NULL, &cfg.auth, err,
			 sizeof(err));
	free(netdef);
	if (r) {
		logline("error", "subsys=registry event=start file=%s msg=\"%s\"", o->network, err);
		return r;
	}
	r = reg_store_sqlite_open(o->db, &cfg.store, err, sizeof(err));
	if (r) {
		reg_auth_free(cfg.auth);
		logline("error", "subsys=store event=open db=%s msg=\"%s\"", o->db, err);
		return r;
	}
	r = reg_new(&cfg, out, err, sizeof(err));
	if (r)
		logline("error", "subsys=registry event=start msg=\"%s\"", err);
	return r;
}

static int open_http(const struct opts *o, struct reg *reg, struct reg_http **out)
{
	struct reg_http_config cfg = {
		.reg = reg,
		.trusted = o->trusted,
		.ntrusted = o->ntrusted,
		.threads = o->threads,
		.log = http_log,
		.verbose = o->verbose,
	};
	char host[INET6_ADDRSTRLEN], err[256] = "";
	struct sockaddr_storage ss;
	char *cert = NULL, *key = NULL;
	uint16_t port;
	size_t n, kn = 0;
	int r;

	if (parse_hostport(o->listen, &ss, &cfg.addrlen, host, &port)) {
		logline("error", "subsys=http event=start msg=\"bad --listen '%s'\"", o->listen);
		return -EINVAL;
	}
	cfg.addr = (struct sockaddr *)&ss;
	if (o->tls_cert) {
		cert = read_file(o->tls_cert, &n);
		key = read_file(o->tls_key, &kn);
		if (!cert || !key) {
			logline("error",
				"subsys=http event=start msg=\"cannot read the TLS files\"");
			r = -EIO;
			goto out;
		}
		cfg.tls_cert = cert;
		cfg.tls_key = key;
	}
	r = reg_http_start(&cfg, out, err, sizeof(err));
	if (r)
		logline("error", "subsys=http event=start listen=%s msg=\"%s\"", o->listen, err);
	else
		logline("info", "subsys=http event=listening addr=%s port=%u tls=%s", host,
			reg_http_port(*out), o->tls_cert ? "yes" : "no");
out:
	if (key)
		cry_wipe(key, kn);
	free(key);
	free(cert);
	return r;
}

static int stun_metrics(void *ctx, struct reg_buf *b)
{
	struct reg_stun_stats st;

	reg_stun_get_stats(ctx, &st);
	return reg_buf_printf(
		b,
		"# HELP scope_registry_stun_packets_total STUN datagrams by outcome.\n"
		"# TYPE scope_registry_stun_packets_total counter\n"
		"scope_registry_stun_packets_total{outcome=\"received\"} %llu\n"
		"scope_registry_stun_packets_total{outcome=\"answered\"} %llu\n"
		"scope_registry_stun_packets_total{outcome=\"error_reply\"} %llu\n"
		"scope_registry_stun_packets_total{outcome=\"dropped\"} %llu\n"
		"scope_registry_stun_packets_total{outcome=\"ignored\"} %llu\n",
		(unsigned long long)st.rx_packets, (unsigned long long)st.tx_success,
		(unsigned long long)st.tx_error,
		(unsigned long long)(st.dropped + st.rx_oversize + st.tx_failed),
		(unsigned long long)st.ignored);
}

static int open_stun(const struct opts *o, struct reg_stun **out)
{
	char host[INET6_ADDRSTRLEN], err[REG_STUN_ERRLEN] = "";
	struct sockaddr_storage ss;
	socklen_t len;
	uint16_t port;
	int r;

	*out = NULL;
	if (o->stun && strcmp(o->stun, "off") == 0)
		return 0;
	if (o->stun) {
		r = parse_hostport(o->stun, &ss, &len, host, &port);
	} else {
		r = parse_hostport(o->listen, &ss, &len, host, &port);
		port = STUN_PORT;
	}
	if (r) {
		logline("error", "subsys=stun event=start msg=\"bad --stun '%s'\"", o->stun);
		return r;
	}
	r = reg_stun_new(host, port, out, err);
	if (r)
		logline("error", "subsys=stun event=start addr=%s port=%u msg=\"%s\"", host, port,
			err);
	else
		logline("info", "subsys=stun event=listening addr=%s port=%u", host,
			reg_stun_port(*out));
	return r;
}

/* Detach: the parent waits on a pipe for the child's verdict, so start-up
 * errors still reach the terminal and the exit status. */
static int detach(int *report_fd)
{
	int p[2], st = 1;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &st, sizeof(st)) != sizeof(st))
			st = 1;
		_exit(st);
	}
	close(p[0]);
	setsid();
	if (chdir("/"))
		return -errno;
	*report_fd = p[1];
	return 0;
}

static void report_start(int *fd, int status)
{
	int devnull;

	if (*fd < 0)
		return;
	if (write(*fd, &status, sizeof(status)) < 0) {
		/* the parent is gone; nothing to tell */
	}
	close(*fd);
	*fd = -1;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		close(devnull);
	}
}

static void raise_nofile(void)
{
	struct rlimit rl;

	/* long polls hold a socket each: take the hard limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* block before any thread starts, so every thread inherits the mask */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Until SIGINT or SIGTERM. */
static void run(int sfd, struct reg *reg, struct reg_http *http, struct reg_stun *stun)
{
	struct pollfd pfd[2] = { { .fd = sfd, .events = POLLIN }, { .fd = -1, .events = POLLIN } };
	uint64_t last_tick = 0;
	int timeout = 1000;

	if (stun)
		pfd[1].fd = reg_stun_fd(stun);
	for (;;) {
		struct signalfd_siginfo si;
		uint64_t now;

		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP) {
				logline("info", "subsys=registry event=stopping signal=%u",
					si.ssi_signo);
				return;
			}
		}
		if (stun && (pfd[1].revents & POLLIN))
			reg_stun_on_readable(stun);
		now = mono_ms();
		if (now - last_tick >= 1000) {
			last_tick = now;
			reg_tick(reg);
		}
		timeout = reg_http_tick(http);
		if (timeout > 1000 || timeout < 1)
			timeout = timeout < 1 ? 1 : 1000;
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .listen = DEFAULT_LISTEN, .db = DEFAULT_DB };
	struct reg *reg = NULL;
	struct reg_http *http = NULL;
	struct reg_stun *stun = NULL;
	int sfd, report = -1, r;

	if (parse_opts(argc, argv, &o))
		return 1;
	if (!o.foreground && detach(&report)) {
		fprintf(stderr, "scope-registry: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	raise_nofile();
	sfd = signals_fd();
	if (sfd < 0) {
		logline("error", "subsys=registry event=start msg=\"signalfd: %s\"",
			strerror(errno));
		report_start(&report, 1);
		return 1;
	}
	r = open_reg(&o, &reg);
	if (!r)
		r = open_stun(&o, &stun);
	if (!r)
		r = open_http(&o, reg, &http);
	if (!r && stun)
		reg_set_metrics_hook(reg, stun_metrics, stun);
	report_start(&report, r ? 1 : 0);
	if (!r) {
		logline("info", "subsys=registry event=ready db=%s network=%s", o.db, o.network);
		run(sfd, reg, http, stun);
	}
	/* the HTTP server first: it answers the waiting long polls */
	reg_http_stop(http);
	reg_stun_free(stun);
	reg_free(reg);
	close(sfd);
	if (!r)
		logline("info", "subsys=registry event=stopped");
	return r ? 1 : 0;
}
