// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket on a real event loop in a temporary directory: the
 * socket file (mode, stale and live sockets, unlink), the status JSON round
 * trip, and misbehaving clients (oversize request, garbage, silence, too
 * many) that must not stop the next client from getting its answer. The
 * loop runs on the main thread; each test's client runs on a second thread
 * and stops the loop when done.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent/ctlsock.h"
#include "io/env.h"
#include "io/loop.h"
#include "proto/cert.h"
#include "test.h"

struct fixture {
	char dir[64];
	char sock[96];
	struct loop *loop;
	struct agent_ctlsock *srv;
	int calls;     /* status callback calls */
	int fail_with; /* the callback's return */
	bool timed_out;
};

static struct fixture F;

static int on_status(void *ctx, struct agent_status *st)
{
	struct agent_status_peer p;
	struct proto_prefix pfx[2];

	F.calls++;
	if (F.fail_with)
		return F.fail_with;
	st->role = PROTO_ROLE_MASTER;
	snprintf(st->network, sizeof(st->network), "lab");
	snprintf(st->ifname, sizeof(st->ifname), "lab");
	memset(st->public_key, 0x11, 32);
	st->listen_port = 51820;
	snprintf(st->registry, sizeof(st->registry), "https://reg.example.net/\"x");
	st->registry_reachable = true;
	st->has_registry_contact = true;
	st->registry_contact_age = 4;
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "alpha");
	p.role = PROTO_ROLE_EDGE;
	memset(p.key, 0x22, 32);
	p.has_endpoint = true;
	CHECK_EQ(proto_endpoint_parse("198.51.100.2:4000", &p.endpoint), 0);
	p.has_handshake = true;
	p.handshake_age = 17;
	p.rx_bytes = 1234567;
	p.tx_bytes = 89;
	CHECK_EQ(proto_prefix_parse("10.7.0.5/32", &pfx[0]), 0);
	CHECK_EQ(proto_prefix_parse("fd00:7::5/128", &pfx[1]), 0);
	p.allowed = pfx;
	p.n_allowed = 2;
	p.path = AGENT_PATH_DIRECT;
	p.classical = 2; /* a session, but no KEX driver for it: no PQ fields */
	CHECK_EQ(agent_status_add_peer(st, &p), 0);
	/* A second one, relayed, never handshaken: its buffers are reused. */
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "beta");
	p.role = PROTO_ROLE_RELAY;
	memset(p.key, 0x33, 32);
	p.path = AGENT_PATH_RELAY;
	snprintf(p.via, sizeof(p.via), "mr1");
	p.has_psk = true;
	p.psk_version = 3;
	p.psk_age_s = 42;
	p.has_kex = true;
	p.pq_state = 3;
	p.classical = 1;
	p.psk_kept = 3;
	p.psk_reverts = 1;
	p.psk_working = 2;
	memset(pfx, 0xff, sizeof(pfx)); /* the first peer's copy must survive */
	CHECK_EQ(agent_status_add_peer(st, &p), 0);
	return 0;
}

static void on_timeout(void *ctx, uint64_t now)
{
	F.timed_out = true;
	loop_stop(F.loop);
}

static int setup(void)
{
	char run[80], err[256] = "";
	int ret;

	memset(&F, 0, sizeof(F));
	snprintf(F.dir, sizeof(F.dir), "/tmp/scope-ctl-test.XXXXXX");
	if (!mkdtemp(F.dir))
		return -errno;
	snprintf(run, sizeof(run), "%s/run", F.dir);
	snprintf(F.sock, sizeof(F.sock), "%s/lab.sock", run);
	CHECK_EQ(loop_new(&F.loop), 0);
	loop_set_timer_fn(F.loop, on_timeout, NULL);
	ret = agent_ctlsock_new(run, "lab", F.loop, on_status, NULL, &F.srv, err, sizeof(err));
	if (ret)
		fprintf(stderr, "# %s\n", err);
	return ret;
}

static void teardown(void)
{
	char run[80];

	agent_ctlsock_free(F.srv);
	loop_free(F.loop);
	snprintf(run, sizeof(run), "%s/run", F.dir);
	rmdir(run);
	rmdir(F.dir);
}

static int dial(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", F.sock);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send req (len bytes), read the whole answer until EOF into a fresh buffer. */
static char *ask(const char *req, size_t len)
{
	char *buf = calloc(1, 1 << 16);
	size_t n = 0;
	ssize_t r;
	int fd = dial();

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (len && send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		/* The server may close before taking an oversize request. */
	}
	while ((r = read(fd, buf + n, (1 << 16) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	return buf;
}

/* Run client on a thread while the loop serves; 5 s at most. */
static void serve(void *(*client)(void *))
{
	pthread_t th;

	CHECK_EQ(loop_set_deadline(F.loop, io_now_ns() + 5 * 1000000000ull), 0);
	CHECK_EQ(pthread_create(&th, NULL, client, NULL), 0);
	CHECK_EQ(loop_run(F.loop), 0);
	pthread_join(th, NULL);
	CHECK(!F.timed_out);
}

/* ---- the socket file ------------------------------------------------------ */

static void test_socket_file(void)
{
	struct agent_ctlsock *other = NULL;
	char err[256] = "", run[80];
	struct stat st;
	int fd;

	if (setup())
		goto out;
	CHECK_EQ(stat(F.sock, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
	snprintf(run, sizeof(run), "%s/run", F.dir);
	CHECK_EQ(stat(run, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0755);
	CHECK(strcmp(agent_ctlsock_path(F.srv), F.sock) == 0);
	/* A live socket is refused: a second daemon for one interface. */
	CHECK_EQ(agent_ctlsock_new(run, "lab", F.loop, on_status, NULL, &other, err, sizeof(err)),
		 -EADDRINUSE);
	CHECK(strstr(err, "already running") != NULL);
	CHECK(other == NULL);
	/* Freeing unlinks the file. */
	agent_ctlsock_free(F.srv);
	F.srv = NULL;
	CHECK(stat(F.sock, &st) != 0);
	/* A stale socket (bound, nobody listening) is replaced. */
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", F.sock);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK_EQ(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
		close(fd);
	}
	CHECK_EQ(agent_ctlsock_new(run, "lab", F.loop, on_status, NULL, &F.srv, err, sizeof(err)),
		 0);
	agent_ctlsock_free(F.srv);
	F.srv = NULL;
	/* A file that is not a socket is left alone. */
	fd = open(F.sock, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	close(fd);
	CHECK_EQ(agent_ctlsock_new(run, "lab", F.loop, on_status, NULL, &F.srv, err, sizeof(err)),
		 -EEXIST);
	CHECK_EQ(stat(F.sock, &st), 0);
	CHECK(S_ISREG(st.st_mode));
	unlink(F.sock);
	CHECK_EQ(agent_ctlsock_new(run, "../x", F.loop, on_status, NULL, &F.srv, err, sizeof(err)),
		 -EINVAL);
out:
	teardown();
}

/* ---- the round trip ------------------------------------------------------- */

static char *answers[4];

static void *client_status(void *arg)
{
	answers[0] = ask("status\n", 7);
	answers[1] = ask("status\r\n", 8);
	loop_stop(F.loop);
	return NULL;
}

static void check_status_doc(const char *text)
{
	json_error_t jerr;
	json_t *doc, *peers, *p, *a;

	CHECK(text && strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	doc = text ? json_loads(text, 0, &jerr) : NULL;
	CHECK(doc != NULL);
	if (!doc)
		return;
	CHECK_EQ(json_integer_value(json_object_get(doc, "version")), 1);
	CHECK(strcmp(json_string_value(json_object_get(doc, "role")), "master") == 0);
	CHECK(strcmp(json_string_value(json_object_get(doc, "network")), "lab") == 0);
	CHECK(strcmp(json_string_value(json_object_get(doc, "interface")), "lab") == 0);
	CHECK(strcmp(json_string_value(json_object_get(doc, "public_key")),
		     "ERERERERERERERERERERERERERERERERERERERERERE=") == 0);
	CHECK_EQ(json_integer_value(json_object_get(doc, "listen_port")), 51820);
	/* A quote in the URL survives the round trip. */
	CHECK(strcmp(json_string_value(json_object_get(json_object_get(doc, "registry"), "url")),
		     "https://reg.example.net/\"x") == 0);
	CHECK(json_is_true(json_object_get(json_object_get(doc, "registry"), "reachable")));
	CHECK_EQ(json_integer_value(
			 json_object_get(json_object_get(doc, "registry"), "last_contact_age")),
		 4);
	CHECK(json_is_false(json_object_get(json_object_get(doc, "kill"), "killed")));
	peers = json_object_get(doc, "peers");
	CHECK_EQ(json_array_size(peers), 2);
	p = json_array_get(peers, 0);
	CHECK(strcmp(json_string_value(json_object_get(p, "name")), "alpha") == 0);
	CHECK(strcmp(json_string_value(json_object_get(p, "role")), "edge") == 0);
	CHECK(strcmp(json_string_value(json_object_get(p, "endpoint")), "198.51.100.2:4000") == 0);
	CHECK_EQ(json_integer_value(json_object_get(p, "last_handshake_age")), 17);
	CHECK_EQ(json_integer_value(json_object_get(p, "rx_bytes")), 1234567);
	CHECK_EQ(json_integer_value(json_object_get(p, "tx_bytes")), 89);
	CHECK(strcmp(json_string_value(json_object_get(p, "path")), "direct") == 0);
	CHECK(json_is_null(json_object_get(p, "via")));
	CHECK(json_is_null(json_object_get(p, "psk_version")));
	CHECK(json_is_null(json_object_get(p, "psk_age_s")));
	CHECK(json_is_null(json_object_get(p, "pq_state")));
	CHECK(json_is_null(json_object_get(p, "psk_kept")));
	CHECK(json_is_null(json_object_get(p, "psk_working")));
	CHECK(json_is_null(json_object_get(p, "psk_reverts")));
	CHECK_EQ(json_integer_value(json_object_get(p, "classical")), 2);
	a = json_object_get(p, "allowed_ips");
	CHECK_EQ(json_array_size(a), 2);
	CHECK(strcmp(json_string_value(json_array_get(a, 0)), "10.7.0.5/32") == 0);
	CHECK(strcmp(json_string_value(json_array_get(a, 1)), "fd00:7::5/128") == 0);
	p = json_array_get(peers, 1);
	CHECK(strcmp(json_string_value(json_object_get(p, "path")), "relay") == 0);
	CHECK(strcmp(json_string_value(json_object_get(p, "via")), "mr1") == 0);
	CHECK(json_is_null(json_object_get(p, "endpoint")));
	CHECK(json_is_null(json_object_get(p, "last_handshake_age")));
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_version")), 3);
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_age_s")), 42);
	CHECK_EQ(json_integer_value(json_object_get(p, "pq_state")), 3);
	CHECK_EQ(json_integer_value(json_object_get(p, "classical")), 1);
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_kept")), 3);
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_working")), 2);
	CHECK_EQ(json_integer_value(json_object_get(p, "psk_reverts")), 1);
	CHECK_EQ(json_array_size(json_object_get(p, "allowed_ips")), 0);
	json_decref(doc);
}

static void test_status_round_trip(void)
{
	if (setup())
		goto out;
	serve(client_status);
	check_status_doc(answers[0]);
	check_status_doc(answers[1]);
	CHECK_EQ(F.calls, 2);
	CHECK_EQ(agent_ctlsock_clients(F.srv), 0);
out:
	free(answers[0]);
	free(answers[1]);
	teardown();
}

/* ---- misbehaving clients -------------------------------------------------- */

static void *client_bad(void *arg)
{
	char big[200];

	memset(big, 's', sizeof(big));
	answers[0] = ask(big, sizeof(big));
	answers[1] = ask("stat\x00us\n", 8);
	answers[2] = ask("status please\n", 14);
	answers[3] = ask("status\n", 7);
	loop_stop(F.loop);
	return NULL;
}

static bool is_error(const char *text, const char *want)
{
	json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
	const char *msg = json_string_value(json_object_get(doc, "error"));
	bool ok = msg && strstr(msg, want) && !json_object_get(doc, "peers");

	if (!ok)
		fprintf(stderr, "# answer '%s', want an error '%s'\n", text ? text : "(null)",
			want);
	json_decref(doc);
	return ok;
}

static void test_oversize_and_garbage(void)
{
	if (setup())
		goto out;
	serve(client_bad);
	CHECK(is_error(answers[0], "too long"));
	CHECK(is_error(answers[1], "unknown request"));
	CHECK(is_error(answers[2], "unknown request"));
	check_status_doc(answers[3]);
	/* Only the good request reached the agent. */
	CHECK_EQ(F.calls, 1);
out:
	for (int i = 0; i < 4; i++) {
		free(answers[i]);
		answers[i] = NULL;
	}
	teardown();
}

static void *client_failing_agent(void *arg)
{
	answers[0] = ask("status\n", 7);
	loop_stop(F.loop);
	return NULL;
}

static void test_agent_error(void)
{
	if (setup())
		goto out;
	F.fail_with = -EAGAIN;
	serve(client_failing_agent);
	CHECK(is_error(answers[0], "status unavailable"));
out:
	free(answers[0]);
	answers[0] = NULL;
	teardown();
}

/* Silent clients fill every slot; the next one still gets its answer, and
 * the server never holds more than its cap. */
static int silent[AGENT_CTL_MAX_CLIENTS + 4];
static size_t max_seen;

static void *client_crowd(void *arg)
{
	for (size_t i = 0; i < SC_ARRAY_SIZE(silent); i++) {
		silent[i] = dial();
		/* Half a request, then nothing. */
		if (silent[i] >= 0)
			CHECK_EQ(send(silent[i], "sta", 3, MSG_NOSIGNAL), 3);
	}
	usleep(100 * 1000);
	answers[0] = ask("status\n", 7);
	for (size_t i = 0; i < SC_ARRAY_SIZE(silent); i++)
		if (silent[i] >= 0)
			close(silent[i]);
	loop_stop(F.loop);
	return NULL;
}

static void test_too_many_clients(void)
{
	if (setup())
		goto out;
	serve(client_crowd);
	check_status_doc(answers[0]);
	max_seen = agent_ctlsock_clients(F.srv);
	CHECK(max_seen <= AGENT_CTL_MAX_CLIENTS);
out:
	free(answers[0]);
	answers[0] = NULL;
	teardown();
}

static void test_add_peer_caps(void)
{
	struct agent_status st;
	struct agent_status_peer p;

	memset(&st, 0, sizeof(st));
	memset(&p, 0, sizeof(p));
	p.n_allowed = AGENT_CTL_MAX_ALLOWED + 1;
	CHECK_EQ(agent_status_add_peer(&st, &p), -ENOSPC);
	CHECK_EQ(st.n_peers, 0);
	p.n_allowed = 0;
	for (int i = 0; i < 100; i++)
		CHECK_EQ(agent_status_add_peer(&st, &p), 0);
	CHECK_EQ(st.n_peers, 100);
	agent_status_reset(&st);
	CHECK(st.peers == NULL && st.n_peers == 0);
}

static const struct t_case cases[] = {
	T(test_socket_file), T(test_status_round_trip), T(test_oversize_and_garbage),
	T(test_agent_error), T(test_too_many_clients),	T(test_add_peer_caps),
};

int main(void)
{
	return t_main("agent-ctlsock", cases, SC_ARRAY_SIZE(cases));
}
