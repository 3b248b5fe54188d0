// SPDX-License-Identifier: GPL-2.0-only
/*
 * PSK-only mode's backend (wgext.h): `get` and a one-peer `set` over an
 * external interface's UAPI socket.
 */
#include "agent/wgext.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/encode.h"
#include "crypto/ct.h"
#include "crypto/x25519.h"
#include "io/env.h"

_Static_assert(PROTO_KEY_LEN == WG_KEY_LEN, "WireGuard keys are 32 bytes everywhere");

struct wgext {
	struct uapi_dev_state *st; /* the last `get`, or NULL */
	uint64_t st_at;		   /* io_now_ns() when it was read */
	char err[IO_ERR_MSGLEN];
	char path[108]; /* sun_path */
};

int wgext_new(const char *path, struct wgext **out)
{
	struct wgext *w;

	if (strlen(path) >= sizeof(w->path))
		return -ENAMETOOLONG;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	memcpy(w->path, path, strlen(path) + 1);
	*out = w;
	return 0;
}

void wgext_invalidate(struct wgext *w)
{
	uapi_dev_state_free(w->st);
	w->st = NULL;
}

void wgext_free(struct wgext *w)
{
	if (!w)
		return;
	wgext_invalidate(w);
	free(w);
}

const char *wgext_error(const struct wgext *w)
{
	return w->err;
}

static int key_cmp(const void *a, const void *b)
{
	const uint8_t *ka = *(const uint8_t *const *)a, *kb = *(const uint8_t *const *)b;

	return memcmp(ka, kb, WG_KEY_LEN); /* not secret: public keys */
}

int wgext_peers_distinct(const struct uapi_dev_state *st)
{
	const uint8_t **keys;
	int ret = 0;

	if (st->n_peers < 2)
		return 0;
	keys = malloc(st->n_peers * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < st->n_peers; i++)
		keys[i] = st->peers[i].public_key;
	qsort(keys, st->n_peers, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < st->n_peers && !ret; i++)
		if (key_cmp(&keys[i - 1], &keys[i]) == 0)
			ret = -EBADMSG;
	free(keys);
	return ret;
}

int wgext_get_parse(const char *reply, size_t len, struct uapi_dev_state **out)
{
	struct uapi_dev_state *st = NULL;
	int ret;

	ret = uapi_get_parse(reply, len, &st);
	if (ret)
		return ret;
	ret = wgext_peers_distinct(st);
	if (ret) {
		uapi_dev_state_free(st);
		return ret;
	}
	*out = st;
	return 0;
}

void wgext_peer_tunnel(const struct uapi_dev_state *st, const uint8_t wg[PROTO_KEY_LEN],
		       struct kexd_tunnel *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < st->n_peers; i++) {
		const struct uapi_peer_state *p = &st->peers[i];

		if (memcmp(p->public_key, wg, WG_KEY_LEN) != 0) /* not secret */
			continue;
		out->known = true;
		out->last_handshake_ns = p->last_handshake_ns;
		out->rx_bytes = p->rx_bytes;
		return;
	}
}

/* One request on a fresh connection; the reply goes to r. */
static int wgext_request(struct wgext *w, const char *req, size_t len, struct uapi_reply *r)
{
	struct io_err ierr = { "" };
	int fd = -1, status = 0, ret;

	ret = uapi_client_connect(w->path, WGEXT_TIMEOUT_MS, &fd, &ierr);
	if (ret) {
		snprintf(w->err, sizeof(w->err), "%s", ierr.msg);
		return ret;
	}
	ret = uapi_client_request(fd, req, len, r, &status);
	close(fd);
	if (ret) {
		snprintf(w->err, sizeof(w->err), "UAPI %s: %s", w->path, strerror(-ret));
		return ret;
	}
	if (status) {
		snprintf(w->err, sizeof(w->err), "UAPI %s: the interface answered errno=%d",
			 w->path, status);
		return status;
	}
	return 0;
}

int wgext_read(struct wgext *w, struct uapi_dev_state **out)
{
	struct uapi_reply r = { 0 };
	int ret = wgext_request(w, "get=1\n\n", 7, &r);

	if (!ret) {
		ret = wgext_get_parse(r.buf, r.len, out);
		if (ret)
			snprintf(w->err, sizeof(w->err), "UAPI %s: a get reply that does not parse",
				 w->path);
	}
	uapi_reply_free(&r); /* it held the private key and the PSKs */
	return ret;
}

/* The interface's state, read again unless the cached one is fresh. */
static int wgext_state(struct wgext *w, bool fresh, const struct uapi_dev_state **out)
{
	struct uapi_dev_state *st = NULL;
	uint64_t now = io_now_ns();
	int ret;

	if (w->st && !fresh && now - w->st_at < WGEXT_CACHE_NS) {
		*out = w->st;
		return 0;
	}
	ret = wgext_read(w, &st);
	if (ret)
		return ret;
	wgext_invalidate(w);
	w->st = st;
	w->st_at = now;
	*out = st;
	return 0;
}

int wgext_public_key(struct wgext *w, uint8_t pub[PROTO_KEY_LEN])
{
	const struct uapi_dev_state *st;
	int ret;

	ret = wgext_state(w, true, &st);
	if (ret)
		return ret;
	if (!st->has_private_key || cry_is_zero(st->private_key, WG_KEY_LEN)) {
		snprintf(w->err, sizeof(w->err), "UAPI %s: the interface has no private key",
			 w->path);
		return -ENOKEY;
	}
	if (cry_x25519_pubkey(pub, st->private_key))
		return -EIO;
	return 0;
}

int wgext_set_psk(struct wgext *w, const uint8_t wg[PROTO_KEY_LEN], const struct kexd_psk *ring,
		  size_t n)
{
	static const uint8_t none[WG_KEY_LEN];
	/* "set=1\npublic_key=" 64 "\nupdate_only=true\npreshared_key=" 64 "\n\n" */
	char req[200], pk[2 * WG_KEY_LEN + 1], psk[2 * WG_KEY_LEN + 1];
	const struct uapi_dev_state *st;
	struct uapi_reply r = { 0 };
	struct kexd_tunnel t;
	int len, ret;

	/* update_only would silently ignore a peer the interface lacks. */
	ret = wgext_state(w, true, &st);
	if (ret)
		return ret;
	wgext_peer_tunnel(st, wg, &t);
	if (!t.known) {
		snprintf(w->err, sizeof(w->err), "UAPI %s: the interface has no such peer",
			 w->path);
		return -ENOENT;
	}
	sc_hex_encode(pk, wg, WG_KEY_LEN);
	sc_hex_encode(psk, n ? ring[0].key : none, WG_KEY_LEN);
	len = snprintf(req, sizeof(req),
		       "set=1\npublic_key=%s\nupdate_only=true\npreshared_key=%s\n\n", pk, psk);
	ret = wgext_request(w, req, (size_t)len, &r);
	cry_wipe(req, sizeof(req));
	cry_wipe(psk, sizeof(psk));
	uapi_reply_free(&r);
	/* The next poll must see the interface as it is now. */
	wgext_invalidate(w);
	return ret;
}

int wgext_tunnel(struct wgext *w, const uint8_t wg[PROTO_KEY_LEN], struct kexd_tunnel *out)
{
	const struct uapi_dev_state *st;
	int ret;

	ret = wgext_state(w, false, &st);
	if (ret)
		return ret;
	wgext_peer_tunnel(st, wg, out);
	return 0;
}
