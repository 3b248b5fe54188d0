// SPDX-License-Identifier: GPL-2.0-only
/*
 * status [--json] [--interface IF] [--socket PATH]: ask the running scoped
 * over its control socket (/run/scope/IF.sock, root only) and print its
 * role, peers, endpoints, handshake ages, bytes and paths as a table (each
 * peer's row followed by its PQ PSK line), or the document itself with
 * --json. The document's fields: docs/agent.md, "Status". ctl may not include the agent layer, so the directory and the
 * request line are repeated here (agent/ctlsock.h is their source).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/files.h"

#define CMD	   "scopectl status"
#define RUN_DIR	   "/run/scope" /* AGENT_CTL_DIR */
#define REPLY_MAX  (64u << 20)	/* a status of the largest network fits */
#define TIMEOUT_MS 5000
#define IFNAME_MAX 15

struct args {
	int json;
	const char *ifname, *socket;
};

static int parse_args(const struct ctl_io *io, int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "interface", required_argument, NULL, 'i' },
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = 1;
			break;
		case 'i':
			a->ifname = optarg;
			break;
		case 's':
			a->socket = optarg;
			break;
		default:
			return ctl_fail(io, CMD, "unknown option or missing value: %s",
					argv[optind - 1]);
		}
	}
	if (optind != argc)
		return ctl_fail(io, CMD,
				"unexpected argument: %s (usage: status [--json] "
				"[--interface IF] [--socket PATH])",
				argv[optind]);
	if (a->ifname && (!a->ifname[0] || strlen(a->ifname) > IFNAME_MAX ||
			  strchr(a->ifname, '/') || a->ifname[0] == '.'))
		return ctl_fail(io, CMD, "--interface: not an interface name: %s", a->ifname);
	return 0;
}

/* Without --interface: the only socket in RUN_DIR. */
static int find_socket(const struct ctl_io *io, char *path, size_t cap)
{
	char names[256] = "", found[64] = "";
	struct dirent *e;
	size_t n = 0, len;
	DIR *d = opendir(RUN_DIR);

	if (!d)
		return ctl_fail(io, CMD, "scoped is not running (no %s directory)", RUN_DIR);
	while ((e = readdir(d))) {
		len = strlen(e->d_name);
		if (len <= 5 || len > IFNAME_MAX + 5 || strcmp(e->d_name + len - 5, ".sock") != 0)
			continue;
		if (n++ == 0)
			memcpy(found, e->d_name, len + 1); /* len <= IFNAME_MAX + 5 < 64 */
		len = strlen(names);
		snprintf(names + len, sizeof(names) - len, "%s%.*s", len ? ", " : "",
			 (int)(strlen(e->d_name) - 5), e->d_name);
	}
	closedir(d);
	if (n == 0)
		return ctl_fail(io, CMD, "scoped is not running (no control socket in %s)",
				RUN_DIR);
	if (n > 1)
		return ctl_fail(io, CMD, "several interfaces (%s): pick one with --interface",
				names);
	return ctl_path(path, cap, RUN_DIR, found) ? ctl_fail(io, CMD, "path too long") : 0;
}

static int dial(const struct ctl_io *io, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		ctl_fail(io, CMD, "%s: path too long", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ctl_fail(io, CMD, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	err = errno;
	close(fd);
	if (err == ENOENT || err == ECONNREFUSED)
		ctl_fail(io, CMD, "scoped is not running (%s: %s)", path, strerror(err));
	else if (err == EACCES || err == EPERM)
		ctl_fail(io, CMD, "%s: permission denied (the control socket is root only)", path);
	else
		ctl_fail(io, CMD, "%s: %s", path, strerror(err));
	return -1;
}

/* Send the request, read the answer until EOF, at most REPLY_MAX bytes
 * and TIMEOUT_MS of silence. */
static char *ask(const struct ctl_io *io, int fd, const char *path)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = 0, cap = 1 << 16;
	char *buf = malloc(cap + 1), *nb;
	ssize_t r;

	if (!buf || send(fd, "status\n", 7, MSG_NOSIGNAL) != 7)
		goto fail;
	for (;;) {
		if (poll(&pfd, 1, TIMEOUT_MS) <= 0) {
			ctl_fail(io, CMD, "%s: no answer within %d s", path, TIMEOUT_MS / 1000);
			free(buf);
			return NULL;
		}
		if (n == cap) {
			if (cap >= REPLY_MAX)
				goto fail;
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb)
				goto fail;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return buf;
fail:
	ctl_fail(io, CMD, "%s: %s", path, n >= REPLY_MAX ? "answer too large" : strerror(errno));
	free(buf);
	return NULL;
}

/* ---- the table -------------------------------------------------------------- */

static const char *str(json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : dflt;
}

/* "17 s", "3 min", "2 h", "4 d"; "-" when null. */
static void age(char out[24], json_t *v)
{
	json_int_t s = json_integer_value(v);

	if (!json_is_integer(v) || s < 0)
		snprintf(out, 24, "-");
	else if (s < 120)
		snprintf(out, 24, "%lld s", (long long)s);
	else if (s < 7200)
		snprintf(out, 24, "%lld min", (long long)(s / 60));
	else if (s < 172800)
		snprintf(out, 24, "%lld h", (long long)(s / 3600));
	else
		snprintf(out, 24, "%lld d", (long long)(s / 86400));
}

/* wg(8)'s units: B, KiB, MiB, GiB, TiB. */
static void bytes(char out[24], json_t *v)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double b = (double)json_integer_value(v);
	int u = -1;

	if (b < 1024) {
		snprintf(out, 24, "%lld B", (long long)json_integer_value(v));
		return;
	}
	while (b >= 1024 && u < 3) {
		b /= 1024;
		u++;
	}
	snprintf(out, 24, "%.2f %s", b, unit[u]);
}

static void print_header(const struct ctl_io *io, json_t *doc)
{
	json_t *reg = json_object_get(doc, "registry"), *kill = json_object_get(doc, "kill");
	char a[24];

	fprintf(io->out, "interface: %s\n", str(doc, "interface", "?"));
	fprintf(io->out, "  network: %s\n", str(doc, "network", "?"));
	fprintf(io->out, "  role: %s\n", str(doc, "role", "?"));
	fprintf(io->out, "  public key: %s\n", str(doc, "public_key", "?"));
	fprintf(io->out, "  listening port: %lld\n",
		(long long)json_integer_value(json_object_get(doc, "listen_port")));
	age(a, json_object_get(reg, "last_contact_age"));
	fprintf(io->out, "  registry: %s (%s, last contact %s%s)\n", str(reg, "url", "?"),
		json_is_true(json_object_get(reg, "reachable")) ? "reachable" : "unreachable", a,
		strcmp(a, "-") ? " ago" : "");
	if (json_is_true(json_object_get(kill, "killed")))
		fprintf(io->out, "  kill switch: KILLED (serial %lld): the interface is down\n",
			(long long)json_integer_value(json_object_get(kill, "serial")));
}

/* "42s", "3min", "2h", "4d": compact, for the psk line. */
static void age_short(char out[24], json_int_t s)
{
	if (s < 120)
		snprintf(out, 24, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(out, 24, "%lldmin", (long long)(s / 60));
	else if (s < 172800)
		snprintf(out, 24, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, 24, "%lldd", (long long)(s / 86400));
}

/* "  psk: v3 (age 42s, pq 3)", with the reverts if any; "  psk: none",
 * with the KEX state if the driver runs for the peer. */
static void print_psk(const struct ctl_io *io, json_t *p)
{
	json_t *ver = json_object_get(p, "psk_version"), *age_v = json_object_get(p, "psk_age_s"),
	       *pq = json_object_get(p, "pq_state"), *rev = json_object_get(p, "psk_reverts");
	char a[24] = "?", extra[64] = "";

	if (json_is_integer(pq))
		snprintf(extra, sizeof(extra), "pq %lld", (long long)json_integer_value(pq));
	if (json_integer_value(rev) > 0)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), "%sreverts %lld",
			 extra[0] ? ", " : "", (long long)json_integer_value(rev));
	if (!json_is_integer(ver) || json_integer_value(ver) <= 0) {
		fprintf(io->out, "  psk: none%s%s%s\n", extra[0] ? " (" : "", extra,
			extra[0] ? ")" : "");
		return;
	}
	if (json_is_integer(age_v) && json_integer_value(age_v) >= 0)
		age_short(a, json_integer_value(age_v));
	fprintf(io->out, "  psk: v%lld (age %s%s%s)\n", (long long)json_integer_value(ver), a,
		extra[0] ? ", " : "", extra);
}

static void print_peer(const struct ctl_io *io, json_t *p)
{
	json_t *allowed = json_object_get(p, "allowed_ips"), *v;
	char hs[24], rx[24], tx[24], path[64];
	size_t i;

	age(hs, json_object_get(p, "last_handshake_age"));
	bytes(rx, json_object_get(p, "rx_bytes"));
	bytes(tx, json_object_get(p, "tx_bytes"));
	if (strcmp(str(p, "path", ""), "relay") == 0)
		snprintf(path, sizeof(path), "via %s", str(p, "via", "?"));
	else
		snprintf(path, sizeof(path), "%s", str(p, "path", "?"));
	fprintf(io->out, "%-16s %-6s %-24s %-9s %-11s %-11s %-10s ", str(p, "name", "?"),
		str(p, "role", "?"), str(p, "endpoint", "-"), hs, rx, tx, path);
	if (!json_array_size(allowed))
		fputc('-', io->out);
	json_array_foreach(allowed, i, v) fprintf(
		io->out, "%s%s", i ? "," : "", json_string_value(v) ? json_string_value(v) : "?");
	fputc('\n', io->out);
	print_psk(io, p);
}

static int print_table(const struct ctl_io *io, json_t *doc)
{
	json_t *peers = json_object_get(doc, "peers"), *p;
	size_t i;

	print_header(io, doc);
	fprintf(io->out, "\n%-16s %-6s %-24s %-9s %-11s %-11s %-10s %s\n", "PEER", "ROLE",
		"ENDPOINT", "HANDSHAKE", "RX", "TX", "PATH", "ALLOWED IPS");
	json_array_foreach(peers, i, p) print_peer(io, p);
	if (!json_array_size(peers))
		fprintf(io->out, "(no peers)\n");
	return 0;
}

int ctl_status(const struct ctl_io *io, int argc, char **argv)
{
	struct args a = { 0 };
	char path[256];
	json_error_t jerr;
	json_t *doc;
	char *text;
	int fd;

	if (parse_args(io, argc, argv, &a))
		return 1;
	if (a.socket)
		snprintf(path, sizeof(path), "%s", a.socket);
	else if (a.ifname)
		snprintf(path, sizeof(path), "%s/%s.sock", RUN_DIR, a.ifname);
	else if (find_socket(io, path, sizeof(path)))
		return 1;
	fd = dial(io, path);
	if (fd < 0)
		return 1;
	text = ask(io, fd, path);
	close(fd);
	if (!text)
		return 1;
	doc = json_loads(text, 0, &jerr);
	free(text);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return ctl_fail(io, CMD, "%s: not a status document: %s", path, jerr.text);
	}
	if (json_object_get(doc, "error")) {
		fprintf(io->err, "%s: scoped: %s\n", CMD, str(doc, "error", "error"));
		json_decref(doc);
		return 1;
	}
	if (a.json)
		return ctl_print_json(io, CMD, doc);
	print_table(io, doc);
	json_decref(doc);
	return 0;
}
