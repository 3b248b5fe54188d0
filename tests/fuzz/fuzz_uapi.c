// SPDX-License-Identifier: GPL-2.0-only
/*
 * Arbitrary bytes as a UAPI request against a device with a key and some
 * peers. Must never crash, leak or read out of bounds (ASan/UBSan), and:
 *
 *   - every reply is exactly one "errno=N\n\n" at its end (or nothing, and
 *     a close, when the bytes are not a get or set);
 *   - when N != 0 the device is untouched: `get` answers byte for byte as
 *     before (all-or-nothing). The host refuses listen_port 666 and fwmark
 *     13, so the undo of host settings is exercised too.
 *
 * The same bytes also go to the client's `get` parser (uapi_get_parse),
 * which must not crash on them, and must parse every real `get` reply.
 *
 * Input not starting with an operation line is taken as the body of a set
 * ("set=1\n" is put before it), so the fuzzer spends its time in the set
 * parser; a leading "get=1\n" or "set=1\n" is kept as it is. (Requests
 * that are neither are framing's business: tests/unit/uapi.)
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uapi/client.h"
#include "uapi/uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 1;
static uint16_t port = 51820;
static uint32_t mark;
static struct wg_dev *dev;

static uint64_t env_now(void *ctx)
{
	return 1;
}

static uint64_t env_wall(void *ctx)
{
	return 1700000000ull * 1000000000ull;
}

static int env_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(rng >> 56);
	}
	return 0;
}

static uint16_t get_port(void *ctx)
{
	return port;
}

static int set_port(void *ctx, uint16_t p)
{
	if (p == 666)
		return -EADDRINUSE;
	port = p ? p : 40000;
	return 0;
}

static uint32_t get_mark(void *ctx)
{
	return mark;
}

static int set_mark(void *ctx, uint32_t m)
{
	if (m == 13)
		return -EPERM;
	mark = m;
	return 0;
}

static const struct uapi_host host = { get_port, set_port, get_mark, set_mark, NULL };

static const char setup[] =
	"set=1\n"
	"private_key=e8c2f3a6d1b4e7f0a3d6c9b2e5f8a1d4c7b0e3f6a9d2c5b8e1f4a7d0c3b6e94f\n"
	"public_key=a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1\n"
	"preshared_key=5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a\n"
	"endpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n"
	"allowed_ip=10.0.0.0/24\nallowed_ip=2001:db8::/64\n"
	"public_key=b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2\n"
	"endpoint=[2001:db8::2]:443\nallowed_ip=10.0.1.7/32\n"
	"public_key=c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3\n"
	"allowed_ip=0.0.0.0/0\n\n";

static void reset(void)
{
	static const struct sc_env env = { env_now, env_wall, env_random, NULL };
	struct uapi_reply r = { 0 };

	wg_dev_free(dev);
	rng = 1;
	port = 51820;
	mark = 0;
	dev = wg_dev_new(&env);
	if (!dev || uapi_handle(dev, &host, 1, NULL, setup, sizeof(setup) - 1, &r) != 0)
		abort();
	uapi_reply_free(&r);
}

static void get(struct uapi_reply *r)
{
	if (uapi_handle(dev, &host, 1, NULL, "get=1\n\n", 7, r) != 0 || r->len < 9 ||
	    memcmp(r->buf + r->len - 9, "errno=0\n\n", 9) != 0)
		abort();
}

/* The reply must end in exactly one "errno=<ret>\n\n". */
static void check_status(const struct uapi_reply *r, int ret)
{
	char want[32];
	size_t n = (size_t)snprintf(want, sizeof(want), "errno=%d\n\n", ret);
	const char *e;

	if (r->len < n || memcmp(r->buf + r->len - n, want, n) != 0)
		abort();
	e = memmem(r->buf, r->len, "errno=", 6);
	if (e != r->buf + r->len - n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uapi_reply before = { 0 }, after = { 0 }, r = { 0 };
	struct uapi_dev_state *st = NULL;
	bool is_op;
	char *req;
	size_t len;
	int ret;

	if (!dev)
		reset();
	is_op = size >= 6 && (memcmp(data, "get=1\n", 6) == 0 || memcmp(data, "set=1\n", 6) == 0);
	len = is_op ? size : size + 6;
	req = malloc(len ? len : 1);
	if (!req)
		return 0;
	if (is_op) {
		memcpy(req, data, size);
	} else {
		memcpy(req, "set=1\n", 6);
		memcpy(req + 6, data, size);
	}
	get(&before);
	/* Anything as a get reply: refused or parsed, never a crash. */
	if (uapi_get_parse((const char *)data, size, &st) == 0)
		uapi_dev_state_free(st);
	/* A real one: always parsed, every peer found. */
	st = NULL;
	if (uapi_get_parse(before.buf, before.len, &st) != 0 ||
	    st->n_peers != wg_dev_peer_count(dev))
		abort();
	uapi_dev_state_free(st);
	ret = uapi_handle(dev, &host, 1, NULL, req, len, &r);
	/* Every input is a get or a set: there is always a reply. */
	if (r.close)
		abort();
	check_status(&r, ret);
	if (req[0] == 'g' && ret == 0 && (r.len != before.len || memcmp(r.buf, before.buf, r.len)))
		abort();
	if (ret != 0) {
		get(&after);
		if (after.len != before.len || memcmp(after.buf, before.buf, after.len) != 0)
			abort();
	} else if (req[0] == 's') {
		reset(); /* every run starts from the same device */
	}
	uapi_reply_free(&before);
	uapi_reply_free(&after);
	uapi_reply_free(&r);
	free(req);
	return 0;
}
