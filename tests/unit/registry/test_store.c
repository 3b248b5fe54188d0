// SPDX-License-Identifier: GPL-2.0-only
/*
 * The registry store (src/registry/store.h) on SQLite: semantics of every
 * call, transactions (a failure half-way leaves nothing behind), cursor
 * continuity, restart (reopening the file), mailbox bounds and expiry.
 * Failures half-way are forced with SQLite triggers installed through a
 * second connection, so the store's own code path is the one that fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>

#include "test.h"
#include "registry/store.h"

#define NOW 1700000000

struct tmpdb {
	char dir[64];
	char path[96];
};

static void tmpdb_init(struct tmpdb *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/scope-store-XXXXXX");
	if (!mkdtemp(t->dir))
		abort();
	snprintf(t->path, sizeof(t->path), "%s/reg.db", t->dir);
}

static void tmpdb_done(struct tmpdb *t)
{
	char p[128];

	unlink(t->path);
	snprintf(p, sizeof(p), "%s-wal", t->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", t->path);
	unlink(p);
	rmdir(t->dir);
}

static struct reg_store *open_store(const struct tmpdb *t)
{
	struct reg_store *s = NULL;
	char err[256] = "";
	int r = reg_store_sqlite_open(t->path, &s, err, sizeof(err));

	if (r)
		fprintf(stderr, "# open: %d %s\n", r, err);
	CHECK_EQ(r, 0);
	return s;
}

/* Run SQL on the file through a second connection (test-only tampering). */
static void sql_side(const struct tmpdb *t, const char *text)
{
	sqlite3 *db;
	char *msg = NULL;

	CHECK_EQ(sqlite3_open(t->path, &db), SQLITE_OK);
	if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "# sql: %s\n", msg);
		CHECK(0);
	}
	sqlite3_free(msg);
	sqlite3_close(db);
}

static void mkpeer(struct reg_peer *p, const char *name, uint8_t seed, uint32_t roles)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	memset(p->ident, seed, 32);
	memset(p->certfp, seed ^ 0xff, 32);
	p->roles = roles;
	p->joined_at = NOW;
	p->not_after = NOW + 86400;
	p->tier = (roles & REG_ROLE_RELAY) ? REG_TIER_RELAY : REG_TIER_NONE;
}

static int join(struct reg_store *s, const char *name, uint8_t seed, uint64_t *v)
{
	struct reg_peer p;
	char doc[128];
	uint64_t dummy;

	mkpeer(&p, name, seed, REG_ROLE_EDGE);
	snprintf(doc, sizeof(doc), "{\"name\":\"%s\",\"seed\":%u}", name, seed);
	return s->ops->peer_join(s, &p, doc, strlen(doc), doc, strlen(doc), v ? v : &dummy);
}

static uint64_t version(struct reg_store *s)
{
	uint64_t v = 12345;

	CHECK_EQ(s->ops->version(s, &v), 0);
	return v;
}

/* Collect event sequence numbers and types. */
struct evlog {
	uint64_t seq[256];
	enum reg_event_type type[256];
	char peer[256][REG_NAME_MAX + 1];
	size_t n;
};

static int ev_collect(void *ctx, const struct reg_event *ev)
{
	struct evlog *l = ctx;

	if (l->n >= SC_ARRAY_SIZE(l->seq))
		return -ENOSPC;
	l->seq[l->n] = ev->seq;
	l->type[l->n] = ev->type;
	snprintf(l->peer[l->n], sizeof(l->peer[0]), "%s", ev->peer);
	l->n++;
	return 0;
}

struct plist {
	char name[64][REG_NAME_MAX + 1];
	int left[64];
	uint64_t ver[64];
	size_t n;
};

static int peer_collect(void *ctx, const struct reg_peer *p, const char *doc, size_t len)
{
	struct plist *l = ctx;

	if (l->n >= 64)
		return -ENOSPC;
	snprintf(l->name[l->n], sizeof(l->name[0]), "%s", p->name);
	l->left[l->n] = doc == NULL;
	l->ver[l->n] = p->version;
	l->n++;
	return 0;
}

static void test_join_lookup(void)
{
	struct tmpdb t;
	struct reg_store *s;
	struct reg_peer p, q;
	uint64_t v1 = 0, v2 = 0;
	char *doc = NULL;
	size_t len = 0;

	tmpdb_init(&t);
	s = open_store(&t);
	CHECK_EQ(version(s), 0);
	CHECK_EQ(join(s, "alpha", 1, &v1), 0);
	CHECK_EQ(join(s, "beta", 2, &v2), 0);
	CHECK_EQ(v1, 1);
	CHECK_EQ(v2, 2);
	CHECK_EQ(version(s), 2);

	mkpeer(&p, "beta", 2, REG_ROLE_EDGE);
	CHECK_EQ(s->ops->peer_by_ident(s, p.ident, &q), 0);
	CHECK(strcmp(q.name, "beta") == 0);
	CHECK_EQ(q.version, 2);
	CHECK_MEM(q.certfp, p.certfp, 32);
	CHECK_EQ(q.roles, REG_ROLE_EDGE);
	CHECK_EQ(q.not_after, NOW + 86400);
	CHECK_EQ(s->ops->peer_by_name(s, "alpha", &q), 0);
	CHECK_EQ(q.ident[0], 1);
	CHECK_EQ(s->ops->peer_by_name(s, "gamma", &q), -ENOENT);
	CHECK_EQ(s->ops->peer_doc(s, "alpha", &doc, &len), 0);
	CHECK(doc && strcmp(doc, "{\"name\":\"alpha\",\"seed\":1}") == 0);
	CHECK_EQ(len, strlen("{\"name\":\"alpha\",\"seed\":1}"));
	free(doc);
	reg_store_close(s);
	tmpdb_done(&t);
}

/* Another identity under a taken name, or a taken identity under another
 * name, is refused and writes nothing; re-joining with the same pair is a
 * new join event. */
static void test_join_conflicts(void)
{
	struct tmpdb t;
	struct reg_store *s;
	struct evlog log = { .n = 0 };
	struct reg_peer q;
	uint64_t v = 0;

	tmpdb_init(&t);
	s = open_store(&t);
	CHECK_EQ(join(s, "alpha", 1, NULL), 0);
	CHECK_EQ(join(s, "alpha", 9, NULL), -EEXIST);
	CHECK_EQ(join(s, "other", 1, NULL), -EEXIST);
	CHECK_EQ(version(s), 1);
	CHECK_EQ(s->ops->events_after(s, 0, 100, ev_collect, &log), 0);
	CHECK_EQ(log.n, 1);
	CHECK_EQ(s->ops->peer_by_name(s, "alpha", &q), 0);
	CHECK_EQ(q.ident[0], 1);

	CHECK_EQ(join(s, "alpha", 1, &v), 0);
	CHECK_EQ(v, 2);
	/* after a leave, the name is free for another identity */
	CHECK_EQ(s->ops->peer_leave(s, "alpha", NOW, NULL, 0, &v), 0);
	CHECK_EQ(join(s, "alpha", 9, &v), 0);
	CHECK_EQ(v, 4);
	CHECK_EQ(s->ops->peer_by_name(s, "alpha", &q), 0);
	CHECK_EQ(q.ident[0], 9);
	reg_store_close(s);
	tmpdb_done(&t);
}

static void test_update_leave_delta(void)
{
	struct tmpdb t;
	struct reg_store *s;
	struct plist l = { .n = 0 };
	struct reg_peer q;
	uint64_t v = 0, lv = 0;
	const char *nd = "{\"name\":\"alpha\",\"ep\":1}";
	char *doc;
	size_t len;

	tmpdb_init(&t);
	s = open_store(&t);
	CHECK_EQ(join(s, "alpha", 1, NULL), 0);
	CHECK_EQ(join(s, "beta", 2, NULL), 0);
	CHECK_EQ(join(s, "gamma", 3, NULL), 0);

	/* silent update: document changes, version does not */
	CHECK_EQ(s->ops->peer_update(s, "alpha", nd, strlen(nd), NOW, NULL, 0, &v), 0);
	CHECK_EQ(v, 3);
	CHECK_EQ(s->ops->peer_doc(s, "alpha", &doc, &len), 0);
	CHECK(strcmp(doc, nd) == 0);
	free(doc);
	/* a move bumps the version and the peer's */
	CHECK_EQ(s->ops->peer_update(s, "alpha", nd, strlen(nd), NOW, "{}", 2, &v), 0);
	CHECK_EQ(v, 4);
	CHECK_EQ(s->ops->peer_by_name(s, "alpha", &q), 0);
	CHECK_EQ(q.version, 4);
	CHECK_EQ(s->ops->peer_update(s, "nobody", nd, strlen(nd), NOW, "{}", 2, &v), -ENOENT);
	CHECK_EQ(version(s), 4);

	CHECK_EQ(s->ops->peer_leave(s, "beta", NOW, "{}", 2, &v), 0);
	CHECK_EQ(v, 5);
	CHECK_EQ(s->ops->peer_leave(s, "beta", NOW, "{}", 2, &v), -ENOENT);
	CHECK_EQ(version(s), 5);
	CHECK_EQ(s->ops->peer_by_name(s, "beta", &q), -ENOENT);

	/* full list: joined peers by name */
	CHECK_EQ(s->ops->peers_list(s, 0, &lv, peer_collect, &l), 0);
	CHECK_EQ(lv, 5);
	CHECK_EQ(l.n, 2);
	CHECK(strcmp(l.name[0], "alpha") == 0 && strcmp(l.name[1], "gamma") == 0);
	/* delta since 3: alpha moved (4), beta left (5), by version */
	memset(&l, 0, sizeof(l));
	CHECK_EQ(s->ops->peers_list(s, 3, &lv, peer_collect, &l), 0);
	CHECK_EQ(l.n, 2);
	CHECK(strcmp(l.name[0], "alpha") == 0 && !l.left[0] && l.ver[0] == 4);
	CHECK(strcmp(l.name[1], "beta") == 0 && l.left[1] && l.ver[1] == 5);
	memset(&l, 0, sizeof(l));
	CHECK_EQ(s->ops->peers_list(s, 5, &lv, peer_collect, &l), 0);
	CHECK_EQ(l.n, 0);
	/* a cursor from the future: the store lost what the client saw */
	CHECK_EQ(s->ops->peers_list(s, 6, &lv, peer_collect, &l), -ERANGE);
	reg_store_close(s);
	tmpdb_done(&t);
}

/* A trigger makes the peer insert fail after the event row was written: the
 * whole join must be rolled back. Same for the second leave of a
 * revocation. */
static void test_transactions_roll_back(void)
{
	struct tmpdb t;
	struct reg_store *s;
	struct evlog log = { .n = 0 };
	struct reg_peer q;
	const char *names[] = { "alpha", "beta" };
	const uint8_t list[] = "revocation-1";
	uint64_t v = 0, ser = 0;
	uint8_t *b;
	size_t len;

	tmpdb_init(&t);
	s = open_store(&t);
	CHECK_EQ(join(s, "alpha", 1, NULL), 0);
	CHECK_EQ(join(s, "beta", 2, NULL), 0);
	reg_store_close(s);
	sql_side(&t, "CREATE TRIGGER t1 BEFORE INSERT ON peers WHEN NEW.name = 'bad' "
		     "BEGIN SELECT RAISE(ABORT, 'injected'); END;"
		     "CREATE TRIGGER t2 BEFORE UPDATE OF left_at ON peers WHEN OLD.name = 'beta' "
		     "BEGIN SELECT RAISE(ABORT, 'injected'); END;");
	s = open_store(&t);

	CHECK(join(s, "bad", 7, NULL) < 0);
	CHECK_EQ(version(s), 2);
	CHECK_EQ(s->ops->events_after(s, 0, 100, ev_collect, &log), 0);
	CHECK_EQ(log.n, 2);
	CHECK_EQ(s->ops->peer_by_name(s, "bad", &q), -ENOENT);

	CHECK(s->ops->revoke_put(s, 1, list, sizeof(list), names, 2, NOW, "{}", 2, &v) < 0);
	CHECK_EQ(version(s), 2);
	CHECK_EQ(s->ops->peer_by_name(s, "alpha", &q), 0);
	CHECK_EQ(s->ops->revoke_get(s, &ser, &b, &len), -ENOENT);
	reg_store_close(s);

	sql_side(&t, "DROP TRIGGER t2;");
	s = open_store(&t);
	CHECK_EQ(s->ops->revoke_put(s, 1, list, sizeof(list), names, 2, NOW, "{}", 2, &v), 0);
	CHECK_EQ(v, 4);
	CHECK_EQ(s->ops->peer_by_name(s, "alpha", &q), -ENOENT);
	CHECK_EQ(s->ops->peer_by_name(s, "beta", &q), -ENOENT);
	CHECK_EQ(s->ops->revoke_get(s, &ser, &b, &len), 0);
	CHECK_EQ(ser, 1);
	CHECK_EQ(len, sizeof(list));
	CHECK_MEM(b, list, sizeof(list));
	free(b);
	/* serials only grow; a stale list changes nothing */
	CHECK_EQ(s->ops->revoke_put(s, 1, list, sizeof(list), NULL, 0, NOW, "{}", 2, &v), -ESTALE);
	CHECK_EQ(s->ops->revoke_put(s, 0, list, sizeof(list), NULL, 0, NOW, "{}", 2, &v), -ESTALE);
	CHECK_EQ(version(s), 4);
	reg_store_close(s);
	tmpdb_done(&t);
}

/* Page through events with a cursor across a restart: every sequence number
 * once, in order, none lost. */
static void test_cursor_continuity_restart(void)
{
	struct tmpdb t;
	struct reg_store *s;
	struct evlog log = { .n = 0 };
	uint64_t cursor = 0, expect = 1;
	char name[16];
	int i, rounds = 0;

	tmpdb_init(&t);
	s = open_store(&t);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		CHECK_EQ(join(s, name, (uint8_t)(i + 1), NULL), 0);
	}
	CHECK_EQ(s->ops->events_after(s, cursor, 4, ev_collect, &log), 0);
	CHECK_EQ(log.n, 4);
	cursor = log.seq[log.n - 1];
	reg_store_close(s);

	/* restart: reopen the same file; the writer keeps going */
	s = open_store(&t);
	CHECK_EQ(version(s), 10);
	for (i = 10; i < 15; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		CHECK_EQ(join(s, name, (uint8_t)(i + 1), NULL), 0);
	}
	CHECK_EQ(s->ops->peer_leave(s, "p3", NOW, NULL, 0, &cursor), 0);
	cursor = log.seq[log.n - 1];
	while (rounds++ < 20) {
		size_t before = log.n;

		CHECK_EQ(s->ops->events_after(s, cursor, 4, ev_collect, &log), 0);
		if (log.n == before)
			break;
		cursor = log.seq[log.n - 1];
	}
	CHECK_EQ(log.n, 16);
	for (i = 0; i < (int)log.n; i++)
		CHECK_EQ(log.seq[i], expect++);
	CHECK_EQ(log.type[15], REG_EV_LEAVE);
	CHECK(strcmp(log.peer[15], "p3") == 0);
	CHECK_EQ(log.type[0], REG_EV_JOIN);
	reg_store_close(s);
	tmpdb_done(&t);
}

static void test_prune_and_range(void)
{
	struct tmpdb t;
	struct reg_store *s;
	struct evlog log = { .n = 0 };
	struct plist l = { .n = 0 };
	struct reg_store_stats st;
	uint64_t v = 0, lv;
	char name[16];
	int i;

	tmpdb_init(&t);
	s = open_store(&t);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		CHECK_EQ(join(s, name, (uint8_t)(i + 1), NULL), 0);
	}
	CHECK_EQ(s->ops->peer_leave(s, "p0", NOW, NULL, 0, &v), 0); /* 9 */
	CHECK_EQ(s->ops->peer_leave(s, "p7", NOW, NULL, 0, &v), 0); /* 10 */
	CHECK_EQ(s->ops->prune(s, NOW, 2), 0);
	/* events 1..8 gone, the tombstone of p0 (version 9) kept */
	CHECK_EQ(s->ops->events_after(s, 7, 100, ev_collect, &log), -ERANGE);
	CHECK_EQ(log.n, 0);
	CHECK_EQ(s->ops->events_after(s, 8, 100, ev_collect, &log), 0);
	CHECK_EQ(log.n, 2);
	CHECK_EQ(s->ops->peers_list(s, 7, &lv, peer_collect, &l), -ERANGE);
	CHECK_EQ(s->ops->peers_list(s, 8, &lv, peer_collect, &l), 0);
	CHECK_EQ(l.n, 2);
	CHECK(l.left[0] && strcmp(l.name[0], "p0") == 0);
	/* pruning again further drops the tombstone too */
	CHECK_EQ(s->ops->prune(s, NOW, 0), 0);
	memset(&l, 0, sizeof(l));
	CHECK_EQ(s->ops->peers_list(s, 10, &lv, peer_collect, &l), 0);
	CHECK_EQ(l.n, 0);
	CHECK_EQ(s->ops->stats(s, NOW, &st), 0);
	CHECK_EQ(st.events, 0);
	CHECK_EQ(st.peers, 6);
	CHECK_EQ(st.version, 10);
	reg_store_close(s);
	/* the numbering survives pruning and restart */
	s = open_store(&t);
	CHECK_EQ(join(s, "late", 99, &v), 0);
	CHECK_EQ(v, 11);
	reg_store_close(s);
	tmpdb_done(&t);
}

struct kexlog {
	uint64_t id[32];
	uint8_t first[32];
	char from[32][REG_NAME_MAX + 1];
	size_t n;
};

static int kex_collect(void *ctx, const struct reg_kex_msg *m)
{
	struct kexlog *l = ctx;

	if (l->n >= 32)
		return -ENOSPC;
	l->id[l->n] = m->id;
	l->first[l->n] = m->msg[0];
	snprintf(l->from[l->n], sizeof(l->from[0]), "%s", m->from);
	l->n++;
	return 0;
}

static int kex(struct reg_store *s, const char *from, const char *to, uint8_t tag, int64_t now,
	       int64_t ttl, uint64_t *id)
{
	uint8_t msg[100];
	uint64_t v, dummy;

	memset(msg, tag, sizeof(msg));
	return s->ops->kex_put(s, from, to, msg, sizeof(msg), now, now + ttl, "{}", 2,
			       id ? id : &dummy, &v);
}

static void test_kex_bounds_expiry(void)
{
	struct tmpdb t;
	struct reg_store *s;
	struct kexlog l = { .n = 0 };
	uint64_t id = 0, last = 0, v;
	uint8_t big[REG_KEX_RECORD_MAX + 1] = { 0 };
	int i;

	tmpdb_init(&t);
	s = open_store(&t);
	for (i = 0; i < REG_KEX_PER_PAIR + 3; i++)
		CHECK_EQ(kex(s, "a", "b", (uint8_t)i, NOW, 600, NULL), 0);
	CHECK_EQ(kex(s, "c", "b", 0xcc, NOW, 600, NULL), 0);
	CHECK_EQ(kex(s, "a", "c", 0xac, NOW, 600, NULL), 0);
	CHECK_EQ(s->ops->kex_get(s, "b", 0, NOW, 100, kex_collect, &l), 0);
	/* the pair a->b keeps its newest REG_KEX_PER_PAIR; c->b is untouched */
	CHECK_EQ(l.n, REG_KEX_PER_PAIR + 1);
	CHECK_EQ(l.first[0], 3);
	CHECK_EQ(l.first[REG_KEX_PER_PAIR - 1], REG_KEX_PER_PAIR + 2);
	CHECK(strcmp(l.from[REG_KEX_PER_PAIR], "c") == 0);
	for (i = 1; i < (int)l.n; i++)
		CHECK(l.id[i] > l.id[i - 1]);
	/* paging with `after` */
	last = l.id[4];
	memset(&l, 0, sizeof(l));
	CHECK_EQ(s->ops->kex_get(s, "b", last, NOW, 2, kex_collect, &l), 0);
	CHECK_EQ(l.n, 2);
	CHECK(l.id[0] > last);

	/* refusals store nothing */
	CHECK_EQ(s->ops->kex_put(s, "a", "b", big, sizeof(big), NOW, NOW + 10, "{}", 2, &id, &v),
		 -EINVAL);
	CHECK_EQ(s->ops->kex_put(s, "a", "b", big, 0, NOW, NOW + 10, "{}", 2, &id, &v), -EINVAL);
	CHECK_EQ(s->ops->kex_put(s, "a", "b", big, 10, NOW, NOW, "{}", 2, &id, &v), -EINVAL);

	/* expiry: invisible once expired, then pruned */
	CHECK_EQ(kex(s, "x", "y", 1, NOW, 10, &id), 0);
	memset(&l, 0, sizeof(l));
	CHECK_EQ(s->ops->kex_get(s, "y", 0, NOW + 9, 10, kex_collect, &l), 0);
	CHECK_EQ(l.n, 1);
	memset(&l, 0, sizeof(l));
	CHECK_EQ(s->ops->kex_get(s, "y", 0, NOW + 10, 10, kex_collect, &l), 0);
	CHECK_EQ(l.n, 0);
	reg_store_close(s);

	/* ids keep growing across restart even after the newest was deleted */
	s = open_store(&t);
	CHECK_EQ(s->ops->prune(s, NOW + 10, REG_EVENTS_RETAIN), 0);
	CHECK_EQ(kex(s, "x", "y", 2, NOW + 20, 10, &last), 0);
	CHECK(last > id);
	reg_store_close(s);
	tmpdb_done(&t);
}

struct killlog {
	uint64_t serial[REG_KILLS_MAX + 2];
	size_t n;
};

static int kill_collect(void *ctx, uint64_t key, const uint8_t *p, size_t len)
{
	struct killlog *l = ctx;

	if (l->n >= SC_ARRAY_SIZE(l->serial))
		return -ENOSPC;
	l->serial[l->n++] = key;
	return 0;
}

static void test_kill(void)
{
	struct tmpdb t;
	struct reg_store *s;
	struct killlog l = { .n = 0 };
	uint8_t a[40], b[40];
	uint64_t v = 0, v2 = 0;
	int i;

	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	tmpdb_init(&t);
	s = open_store(&t);
	CHECK_EQ(s->ops->kill_put(s, 5, a, sizeof(a), NOW, "{}", 2, &v), 0);
	CHECK_EQ(v, 1);
	/* the same message again: stored once, no second event */
	CHECK_EQ(s->ops->kill_put(s, 5, a, sizeof(a), NOW, "{}", 2, &v2), 1);
	CHECK_EQ(version(s), 1);
	CHECK_EQ(s->ops->kill_put(s, 5, b, sizeof(b), NOW, "{}", 2, &v2), -EEXIST);
	CHECK_EQ(version(s), 1);
	for (i = 0; i < REG_KILLS_MAX; i++)
		CHECK_EQ(s->ops->kill_put(s, 100 + (uint64_t)i, b, sizeof(b), NOW, "{}", 2, &v), 0);
	CHECK_EQ(s->ops->kill_list(s, kill_collect, &l), 0);
	CHECK_EQ(l.n, REG_KILLS_MAX);
	CHECK_EQ(l.serial[0], 100 + REG_KILLS_MAX - 1);
	CHECK_EQ(l.serial[l.n - 1], 100); /* serial 5 was the lowest: dropped */
	reg_store_close(s);
	tmpdb_done(&t);
}

static void test_reports_tiers_stats(void)
{
	struct tmpdb t;
	struct reg_store *s;
	struct reg_store_stats st;
	struct reg_peer p, q;
	const uint8_t rep[] = "{\"peers\":[]}";
	uint8_t *b = NULL;
	size_t len = 0;
	int64_t at = 0;
	uint64_t v = 0;

	tmpdb_init(&t);
	s = open_store(&t);
	mkpeer(&p, "relay1", 1, REG_ROLE_RELAY);
	CHECK_EQ(s->ops->peer_join(s, &p, "{}", 2, "{}", 2, &v), 0);
	CHECK_EQ(join(s, "edge1", 2, NULL), 0);
	CHECK_EQ(s->ops->report_get(s, "relay1", &b, &len, &at), -ENOENT);
	CHECK_EQ(s->ops->report_put(s, "relay1", rep, sizeof(rep), NOW + 5), 0);
	CHECK_EQ(s->ops->report_put(s, "ghost", rep, sizeof(rep), NOW + 5), -ENOENT);
	CHECK_EQ(s->ops->report_get(s, "relay1", &b, &len, &at), 0);
	CHECK_EQ(len, sizeof(rep));
	CHECK_EQ(at, NOW + 5);
	CHECK_MEM(b, rep, len);
	free(b);
	CHECK_EQ(s->ops->peer_by_name(s, "relay1", &q), 0);
	CHECK_EQ(q.report_at, NOW + 5);
	CHECK_EQ(q.tier, REG_TIER_RELAY);

	CHECK_EQ(s->ops->peer_tier(s, "relay1", REG_TIER_PIPE, NOW, "{}", 2, &v), 0);
	CHECK_EQ(v, 3);
	CHECK_EQ(s->ops->peer_tier(s, "ghost", REG_TIER_PIPE, NOW, "{}", 2, &v), -ENOENT);
	CHECK_EQ(s->ops->peer_tier(s, "relay1", (enum reg_tier)9, NOW, "{}", 2, &v), -EINVAL);
	CHECK_EQ(version(s), 3);
	CHECK_EQ(s->ops->stats(s, NOW, &st), 0);
	CHECK_EQ(st.peers, 2);
	CHECK_EQ(st.relays, 1);
	CHECK_EQ(st.pipes, 1);
	CHECK_EQ(st.events, 3);
	reg_store_close(s);

	/* restart keeps report and tier; a re-join clears the report */
	s = open_store(&t);
	CHECK_EQ(s->ops->peer_by_name(s, "relay1", &q), 0);
	CHECK_EQ(q.tier, REG_TIER_PIPE);
	CHECK_EQ(q.report_at, NOW + 5);
	CHECK_EQ(s->ops->peer_join(s, &p, "{}", 2, "{}", 2, &v), 0);
	CHECK_EQ(s->ops->report_get(s, "relay1", &b, &len, &at), -ENOENT);
	CHECK_EQ(s->ops->peer_by_name(s, "relay1", &q), 0);
	CHECK_EQ(q.tier, REG_TIER_RELAY);
	reg_store_close(s);
	tmpdb_done(&t);
}

static void test_schema_version(void)
{
	struct tmpdb t;
	struct reg_store *s = NULL;
	char err[256] = "";

	tmpdb_init(&t);
	s = open_store(&t);
	reg_store_close(s);
	sql_side(&t, "PRAGMA user_version = 99;");
	s = NULL;
	CHECK_EQ(reg_store_sqlite_open(t.path, &s, err, sizeof(err)), -EPROTO);
	CHECK(s == NULL);
	CHECK(strstr(err, "99") != NULL);
	CHECK_EQ(reg_store_sqlite_open("/nonexistent-dir/x.db", &s, err, sizeof(err)), -EIO);
	tmpdb_done(&t);
}

static const struct t_case cases[] = {
	T(test_join_lookup),
	T(test_join_conflicts),
	T(test_update_leave_delta),
	T(test_transactions_roll_back),
	T(test_cursor_continuity_restart),
	T(test_prune_and_range),
	T(test_kex_bounds_expiry),
	T(test_kill),
	T(test_reports_tiers_stats),
	T(test_schema_version),
};

int main(void)
{
	return t_main("registry-store", cases, SC_ARRAY_SIZE(cases));
}
