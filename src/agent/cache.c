// SPDX-License-Identifier: GPL-2.0-only
/*
 * The persistent cache. File format (peers.json), one JSON object:
 *
 *	{"format":1,"network":"home","version":V,"cursor":C,
 *	 "peers":[{"version":v,"doc":<peer document as received>},...]}
 *
 * and kill-serial: a decimal number and a newline. Every file operation goes
 * through the directory's descriptor with O_NOFOLLOW, so a symlink planted
 * in the directory is never followed.
 */
#include "agent/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "common/parse.h"
#include "proto/limits.h"
#include "proto/netdef.h"

#define CACHE_FORMAT 1
#define PEERS_FILE   "peers.json"
#define PEERS_TMP    ".peers.json.tmp"
#define KILL_FILE    "kill-serial"
#define KILL_TMP     ".kill-serial.tmp"
#define REVOKE_FILE  "revoked.scope"
#define REVOKE_TMP   ".revoked.scope.tmp"

struct agent_cache {
	int dfd;
	struct proto_netdef net;
	agent_refuse_fn refuse;
	void *refuse_ctx;
};

int agent_cache_open(const char *dir, const struct proto_netdef *net, struct agent_cache **out)
{
	struct agent_cache *c;
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* peer documents are public, but the directory is the node's own: an
	 * existing one that others can enter or write is tightened */
	if (st.st_uid != geteuid() || ((st.st_mode & 077) && fchmod(fd, 0700))) {
		close(fd);
		return -EPERM;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->dfd = fd;
	c->net = *net;
	*out = c;
	return 0;
}

void agent_cache_free(struct agent_cache *c)
{
	if (!c)
		return;
	close(c->dfd);
	free(c);
}

void agent_cache_set_refuse_cb(struct agent_cache *c, agent_refuse_fn fn, void *ctx)
{
	c->refuse = fn;
	c->refuse_ctx = ctx;
}

/* ---- files ---- */

/* The whole of name, at most max bytes, NUL-terminated. */
static int slurp(struct agent_cache *c, const char *name, size_t max, char **out, size_t *len)
{
	int fd = openat(c->dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	size_t n = 0;
	ssize_t r;
	char *p = NULL;
	int err = 0;

	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		err = -EFBIG;
	else if (!(p = malloc((size_t)st.st_size + 1)))
		err = -ENOMEM;
	/* read to the size seen; a file that grows meanwhile is cut there */
	while (!err && n < (size_t)st.st_size) {
		r = read(fd, p + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			err = r < 0 ? -errno : -EIO;
		else
			n += (size_t)r;
	}
	close(fd);
	if (err) {
		free(p);
		return err;
	}
	p[n] = '\0';
	*out = p;
	*len = n;
	return 0;
}

/* Write tmp with the bytes fn produces, fsync, rename over name, fsync the
 * directory. On error tmp is removed and name untouched. */
static int replace(struct agent_cache *c, const char *tmp, const char *name,
		   int (*fn)(FILE *f, void *ctx), void *ctx)
{
	FILE *f = NULL;
	int fd, err;

	unlinkat(c->dfd, tmp, 0); /* a leftover of a crash */
	fd = openat(c->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto fail;
	}
	err = fn(f, ctx);
	if (!err && fflush(f))
		err = -errno;
	if (!err && fsync(fd))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && renameat(c->dfd, tmp, c->dfd, name))
		err = -errno;
	if (!err && fsync(c->dfd))
		err = -errno;
	if (!err)
		return 0;
fail:
	unlinkat(c->dfd, tmp, 0);
	return err;
}

/* ---- peers ---- */

struct save_ctx {
	const char *network;
	const struct agent_peer *peers;
	size_t n;
	uint64_t version, cursor;
};

static int write_peers(FILE *f, void *ctx)
{
	const struct save_ctx *s = ctx;
	uint64_t total;
	size_t i;

	total = (uint64_t)fprintf(f,
				  "{\"format\":%d,\"network\":\"%s\",\"version\":%llu,"
				  "\"cursor\":%llu,\"peers\":[",
				  CACHE_FORMAT, s->network, (unsigned long long)s->version,
				  (unsigned long long)s->cursor);
	for (i = 0; i < s->n; i++) {
		const struct agent_peer *p = &s->peers[i];

		if (!p->doc || !p->doc_len)
			return -EINVAL;
		total += (uint64_t)fprintf(f, "%s\n{\"version\":%llu,\"doc\":", i ? "," : "",
					   (unsigned long long)p->version);
		total += fwrite(p->doc, 1, p->doc_len, f) + 1;
		fputc('}', f);
		if (total > AGENT_CACHE_FILE_MAX - 8)
			return -EFBIG;
	}
	fputs("]}\n", f);
	return ferror(f) ? -EIO : 0;
}

int agent_cache_save(struct agent_cache *c, const struct agent_peer *peers, size_t n,
		     uint64_t version, uint64_t cursor)
{
	struct save_ctx s = { c->net.name, peers, n, version, cursor };

	return replace(c, PEERS_TMP, PEERS_FILE, write_peers, &s);
}

static void refuse(struct agent_cache *c, const json_t *doc, int err, const char *why)
{
	const char *name = json_string_value(json_object_get(doc, "name"));

	if (c->refuse)
		c->refuse(c->refuse_ctx,
			  name && proto_peer_name_valid(name, strlen(name)) ? name : "", err, why);
}

static int u64_of(const json_t *o, const char *key, uint64_t *v)
{
	const json_t *x = json_object_get(o, key);

	if (!json_is_integer(x) || json_integer_value(x) < 0)
		return -EINVAL;
	*v = (uint64_t)json_integer_value(x);
	return 0;
}

static int peers_from(struct agent_cache *c, const json_t *o, const struct proto_revoke *rl,
		      uint64_t now, struct agent_cache_peers *p)
{
	const json_t *a = json_object_get(o, "peers"), *e;
	char why[160];
	size_t i, before;
	uint64_t fmt = 0;
	int err;

	if (u64_of(o, "format", &fmt) || fmt != CACHE_FORMAT || u64_of(o, "version", &p->version) ||
	    u64_of(o, "cursor", &p->cursor) || !json_is_array(a) ||
	    json_array_size(a) > AGENT_PEERS_MAX)
		return -EINVAL;
	p->peers = calloc(json_array_size(a) + 1, sizeof(*p->peers));
	if (!p->peers)
		return -ENOMEM;
	json_array_foreach(a, i, e)
	{
		const json_t *doc = json_object_get(e, "doc");
		uint64_t v = 0;

		why[0] = '\0';
		err = u64_of(e, "version", &v);
		if (err)
			snprintf(why, sizeof(why), "cache entry without a version");
		else
			err = agent_peer_from_json(doc, &c->net, rl, now, &p->peers[p->n], why,
						   sizeof(why));
		if (err == -ENOMEM)
			return err;
		if (err) {
			refuse(c, doc, err, why);
			p->refused++;
			continue;
		}
		p->peers[p->n++].version = v;
	}
	before = p->n;
	p->n = agent_peers_dedup(p->peers, p->n, c->refuse, c->refuse_ctx);
	p->refused += before - p->n;
	return 0;
}

int agent_cache_load(struct agent_cache *c, const struct proto_revoke *rl, uint64_t now,
		     struct agent_cache_peers *out)
{
	struct agent_cache_peers p = { 0 };
	const char *name;
	json_t *o = NULL;
	char *text = NULL;
	size_t len = 0;
	int err = slurp(c, PEERS_FILE, AGENT_CACHE_FILE_MAX, &text, &len);

	if (!err)
		err = agent_json_load(text, len, AGENT_CACHE_FILE_MAX, &o) ? -EINVAL : 0;
	free(text);
	if (!err && !json_is_object(o))
		err = -EINVAL;
	name = err ? NULL : json_string_value(json_object_get(o, "network"));
	if (!err && (!name || strcmp(name, c->net.name)))
		err = name ? -EXDEV : -EINVAL;
	if (!err)
		err = peers_from(c, o, rl, now, &p);
	json_decref(o);
	if (err) {
		agent_cache_peers_clear(&p);
		return err;
	}
	*out = p;
	return 0;
}

void agent_cache_peers_clear(struct agent_cache_peers *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; p->peers && i < p->n; i++)
		agent_peer_clear(&p->peers[i]);
	free(p->peers);
	memset(p, 0, sizeof(*p));
}

/* ---- kill serial ---- */

int agent_cache_kill_serial(struct agent_cache *c, uint64_t *serial)
{
	char *text = NULL;
	size_t len = 0;
	int err = slurp(c, KILL_FILE, AGENT_CACHE_SMALL_MAX, &text, &len);

	if (err)
		return err == -EFBIG ? -EINVAL : err;
	if (len < 2 || text[len - 1] != '\n')
		err = -EINVAL;
	else
		text[len - 1] = '\0';
	if (!err && sc_parse_u64(text, 0, UINT64_MAX, serial))
		err = -EINVAL;
	free(text);
	return err;
}

static int write_serial(FILE *f, void *ctx)
{
	return fprintf(f, "%llu\n", *(const unsigned long long *)ctx) > 0 ? 0 : -EIO;
}

int agent_cache_save_kill_serial(struct agent_cache *c, uint64_t serial)
{
	unsigned long long v = serial;
	uint64_t cur = 0;
	int err = agent_cache_kill_serial(c, &cur);

	if (err && err != -ENOENT && err != -EINVAL)
		return err;
	if (!err && serial < cur)
		return -EALREADY;
	if (!err && serial == cur)
		return 0;
	return replace(c, KILL_TMP, KILL_FILE, write_serial, &v);
}

/* ---- revocation list ---- */

struct blob {
	const uint8_t *p;
	size_t n;
};

static int write_blob(FILE *f, void *ctx)
{
	const struct blob *b = ctx;

	return fwrite(b->p, 1, b->n, f) == b->n ? 0 : -EIO;
}

int agent_cache_revocations(struct agent_cache *c, uint8_t **rec, size_t *len)
{
	char *p;
	int err = slurp(c, REVOKE_FILE, PROTO_REVOKE_RECORD_MAX, &p, len);

	if (err)
		return err;
	*rec = (uint8_t *)p;
	return 0;
}

int agent_cache_save_revocations(struct agent_cache *c, const uint8_t *rec, size_t len)
{
	struct blob b = { rec, len };

	if (len > PROTO_REVOKE_RECORD_MAX)
		return -EFBIG;
	return replace(c, REVOKE_TMP, REVOKE_FILE, write_blob, &b);
}
