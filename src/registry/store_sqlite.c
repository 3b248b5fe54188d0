// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SQLite store (store.h): one file in WAL mode, schema versioned with
 * PRAGMA user_version, every statement prepared once at open, every change
 * in one BEGIN IMMEDIATE transaction that is rolled back on any error.
 *
 * The global version lives in meta('version'); each event takes version + 1
 * explicitly instead of relying on rowids, so the same SQL works on
 * PostgreSQL and pruning can never make a sequence number come back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "common/compiler.h"
#include "registry/store.h"

enum stmt {
	S_BEGIN_W,
	S_BEGIN_R,
	S_COMMIT,
	S_ROLLBACK,
	S_META_GET,
	S_META_SET,
	S_EVENT_INS,
	S_PEER_BY_IDENT,
	S_PEER_BY_NAME,
	S_PEER_DOC,
	S_PEER_UPSERT,
	S_PEER_SET_DOC,
	S_PEER_SET_VERSION,
	S_PEER_LEAVE,
	S_PEER_TIER,
	S_REPORT_PUT,
	S_REPORT_GET,
	S_PEERS_ALL,
	S_PEERS_SINCE,
	S_PEERS_EACH,
	S_EVENTS_AFTER,
	S_KEX_EXPIRE_PAIR,
	S_KEX_COUNT_PAIR,
	S_KEX_DROP_OLDEST,
	S_KEX_INS,
	S_KEX_GET,
	S_KILL_GET,
	S_KILL_INS,
	S_KILL_COUNT,
	S_KILL_DROP_LOWEST,
	S_KILL_LIST,
	S_REVOKE_GET,
	S_REVOKE_SET,
	S_PRUNE_KEX,
	S_PRUNE_EVENTS,
	S_PRUNE_TOMBS,
	S_STAT_PEERS,
	S_STAT_RELAYS,
	S_STAT_PIPES,
	S_STAT_EVENTS,
	S_STAT_KEX,
	S_STAT_KILLS,
	S__COUNT
};

#define PEER_COLS "name, ident, certfp, roles, joined_at, not_after, report_at, version, tier"

static const char *const sql[S__COUNT] = {
	[S_BEGIN_W] = "BEGIN IMMEDIATE",
	[S_BEGIN_R] = "BEGIN",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_META_GET] = "SELECT v FROM meta WHERE k = ?1",
	[S_META_SET] = "INSERT INTO meta (k, v) VALUES (?1, ?2) "
		       "ON CONFLICT (k) DO UPDATE SET v = excluded.v",
	[S_EVENT_INS] =
		"INSERT INTO events (seq, type, peer, at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_PEER_BY_IDENT] = "SELECT " PEER_COLS " FROM peers WHERE ident = ?1 AND left_at IS NULL",
	[S_PEER_BY_NAME] = "SELECT " PEER_COLS " FROM peers WHERE name = ?1 AND left_at IS NULL",
	[S_PEER_DOC] = "SELECT doc FROM peers WHERE name = ?1 AND left_at IS NULL",
	[S_PEER_UPSERT] =
		"INSERT INTO peers (name, ident, certfp, roles, joined_at, not_after, version, "
		"tier, "
		"doc, left_at, report, report_at) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL, NULL, 0) "
		"ON CONFLICT (name) DO UPDATE SET ident = excluded.ident, certfp = "
		"excluded.certfp, "
		"roles = excluded.roles, joined_at = excluded.joined_at, "
		"not_after = excluded.not_after, version = excluded.version, tier = excluded.tier, "
		"doc = excluded.doc, left_at = NULL, report = NULL, report_at = 0",
	[S_PEER_SET_DOC] = "UPDATE peers SET doc = ?2 WHERE name = ?1 AND left_at IS NULL",
	[S_PEER_SET_VERSION] = "UPDATE peers SET version = ?2 WHERE name = ?1",
	[S_PEER_LEAVE] = "UPDATE peers SET left_at = ?2, version = ?3, doc = NULL, report = NULL, "
			 "report_at = 0 WHERE name = ?1 AND left_at IS NULL",
	[S_PEER_TIER] =
		"UPDATE peers SET tier = ?2, version = ?3 WHERE name = ?1 AND left_at IS NULL",
	[S_REPORT_PUT] = "UPDATE peers SET report = ?2, report_at = ?3 "
			 "WHERE name = ?1 AND left_at IS NULL",
	[S_REPORT_GET] = "SELECT report, report_at FROM peers "
			 "WHERE name = ?1 AND left_at IS NULL AND report IS NOT NULL",
	[S_PEERS_ALL] = "SELECT " PEER_COLS ", doc FROM peers WHERE left_at IS NULL ORDER BY name",
	[S_PEERS_SINCE] =
		"SELECT " PEER_COLS ", doc FROM peers WHERE version > ?1 ORDER BY version",
	[S_PEERS_EACH] = "SELECT " PEER_COLS " FROM peers WHERE left_at IS NULL ORDER BY name",
	[S_EVENTS_AFTER] = "SELECT seq, type, peer, at, data FROM events WHERE seq > ?1 "
			   "ORDER BY seq LIMIT ?2",
	[S_KEX_EXPIRE_PAIR] = "DELETE FROM kex WHERE src = ?1 AND dst = ?2 AND expires <= ?3",
	[S_KEX_COUNT_PAIR] = "SELECT count(*) FROM kex WHERE src = ?1 AND dst = ?2",
	[S_KEX_DROP_OLDEST] = "DELETE FROM kex WHERE id IN (SELECT id FROM kex WHERE src = ?1 AND "
			      "dst = ?2 ORDER BY id LIMIT ?3)",
	[S_KEX_INS] =
		"INSERT INTO kex (src, dst, created, expires, msg) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_KEX_GET] = "SELECT id, src, dst, created, expires, msg FROM kex "
		      "WHERE dst = ?1 AND id > ?2 AND expires > ?3 ORDER BY id LIMIT ?4",
	[S_KILL_GET] = "SELECT msg FROM kills WHERE serial = ?1",
	[S_KILL_INS] = "INSERT INTO kills (serial, msg, received) VALUES (?1, ?2, ?3)",
	[S_KILL_COUNT] = "SELECT count(*) FROM kills",
	[S_KILL_DROP_LOWEST] = "DELETE FROM kills WHERE serial = (SELECT min(serial) FROM kills)",
	[S_KILL_LIST] = "SELECT serial, msg FROM kills ORDER BY serial DESC",
	[S_REVOKE_GET] = "SELECT serial, list FROM revocation WHERE id = 1",
	[S_REVOKE_SET] =
		"INSERT INTO revocation (id, serial, list, received) VALUES (1, ?1, ?2, ?3) "
		"ON CONFLICT (id) DO UPDATE SET serial = excluded.serial, "
		"list = excluded.list, received = excluded.received",
	[S_PRUNE_KEX] = "DELETE FROM kex WHERE expires <= ?1",
	[S_PRUNE_EVENTS] = "DELETE FROM events WHERE seq <= ?1",
	[S_PRUNE_TOMBS] = "DELETE FROM peers WHERE left_at IS NOT NULL AND version <= ?1",
	[S_STAT_PEERS] = "SELECT count(*) FROM peers WHERE left_at IS NULL",
	[S_STAT_RELAYS] = "SELECT count(*) FROM peers WHERE left_at IS NULL AND (roles & ?1) != 0",
	[S_STAT_PIPES] = "SELECT count(*) FROM peers WHERE left_at IS NULL AND tier = ?1",
	[S_STAT_EVENTS] = "SELECT count(*) FROM events",
	[S_STAT_KEX] = "SELECT count(*) FROM kex WHERE expires > ?1",
	[S_STAT_KILLS] = "SELECT count(*) FROM kills",
};

/* Schema migrations: entry i brings user_version i to i + 1. */
static const char *const migrations[REG_STORE_SCHEMA] = {
	"CREATE TABLE meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);"
	"INSERT INTO meta (k, v) VALUES ('version', 0), ('pruned', 0);"
	"CREATE TABLE peers ("
	" name TEXT PRIMARY KEY, ident BLOB NOT NULL, certfp BLOB NOT NULL,"
	" roles INTEGER NOT NULL, joined_at INTEGER NOT NULL, not_after INTEGER NOT NULL,"
	" version INTEGER NOT NULL, tier INTEGER NOT NULL, left_at INTEGER,"
	" report_at INTEGER NOT NULL DEFAULT 0,"
	/* large values last: a scan of the small columns never walks their
	 * overflow pages */
	" doc TEXT, report BLOB);"
	"CREATE UNIQUE INDEX peers_ident ON peers (ident) WHERE left_at IS NULL;"
	"CREATE INDEX peers_version ON peers (version);"
	"CREATE TABLE events (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, peer TEXT NOT NULL,"
	" at INTEGER NOT NULL, data TEXT NOT NULL);"
	"CREATE TABLE kex (id INTEGER PRIMARY KEY AUTOINCREMENT, src TEXT NOT NULL,"
	" dst TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL,"
	" msg BLOB NOT NULL);"
	"CREATE INDEX kex_dst ON kex (dst, id);"
	"CREATE INDEX kex_pair ON kex (src, dst, id);"
	"CREATE INDEX kex_expires ON kex (expires);"
	"CREATE TABLE kills (serial INTEGER PRIMARY KEY, msg BLOB NOT NULL,"
	" received INTEGER NOT NULL);"
	"CREATE TABLE revocation (id INTEGER PRIMARY KEY CHECK (id = 1),"
	" serial INTEGER NOT NULL, list BLOB NOT NULL, received INTEGER NOT NULL);",
};

struct sq_store {
	struct reg_store base;
	sqlite3 *db;
	sqlite3_stmt *st[S__COUNT];
};

static const char *const event_names[REG_EV__COUNT] = {
	[REG_EV_JOIN] = "join", [REG_EV_MOVE] = "move", [REG_EV_LEAVE] = "leave",
	[REG_EV_TIER] = "tier", [REG_EV_KEX] = "kex",	[REG_EV_KILL] = "kill",
};

const char *reg_event_name(enum reg_event_type t)
{
	return (unsigned)t < REG_EV__COUNT ? event_names[t] : NULL;
}

static int event_from_name(const char *s, enum reg_event_type *t)
{
	unsigned i;

	for (i = 0; s && i < REG_EV__COUNT; i++) {
		if (strcmp(s, event_names[i]) == 0) {
			*t = (enum reg_event_type)i;
			return 0;
		}
	}
	return -EIO;
}

const char *reg_tier_name(enum reg_tier t)
{
	switch (t) {
	case REG_TIER_NONE:
		return "none";
	case REG_TIER_RELAY:
		return "relay";
	case REG_TIER_PIPE:
		return "pipe";
	}
	return NULL;
}

static struct sq_store *sq(struct reg_store *s)
{
	return (struct sq_store *)s;
}

/* Fetch a prepared statement, reset and unbound. */
static sqlite3_stmt *stmt(struct sq_store *q, enum stmt i)
{
	sqlite3_stmt *st = q->st[i];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return -EEXIST;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int exec(struct sq_store *q, enum stmt i)
{
	return step_done(stmt(q, i));
}

static int begin_write(struct sq_store *q)
{
	return exec(q, S_BEGIN_W);
}

/* Commit on r == 0, else roll back; returns r, or -EIO if the commit fails. */
static int finish(struct sq_store *q, int r)
{
	if (r == 0 && exec(q, S_COMMIT) == 0)
		return 0;
	if (!sqlite3_get_autocommit(q->db))
		exec(q, S_ROLLBACK);
	return r ? r : -EIO;
}

/* A single integer from a one-row query with its bindings already set. */
static int one_int(sqlite3_stmt *st, int64_t *out)
{
	int rc = sqlite3_step(st), r = -EIO;

	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		r = 0;
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	}
	sqlite3_reset(st);
	return r;
}

static int meta_get(struct sq_store *q, const char *k, uint64_t *v)
{
	sqlite3_stmt *st = stmt(q, S_META_GET);
	int64_t x;
	int r;

	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	r = one_int(st, &x);
	if (r == 0)
		*v = (uint64_t)x;
	return r == -ENOENT ? -EIO : r;
}

static int meta_set(struct sq_store *q, const char *k, uint64_t v)
{
	sqlite3_stmt *st = stmt(q, S_META_SET);

	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)v);
	return step_done(st);
}

/* Append an event inside the caller's transaction; *seq gets its number. */
static int event_append(struct sq_store *q, enum reg_event_type type, const char *peer, int64_t at,
			const char *data, size_t len, uint64_t *seq)
{
	sqlite3_stmt *st;
	uint64_t v;
	int r = meta_get(q, "version", &v);

	if (r)
		return r;
	if (len > INT32_MAX)
		return -E2BIG;
	v++;
	st = stmt(q, S_EVENT_INS);
	sqlite3_bind_int64(st, 1, (int64_t)v);
	sqlite3_bind_text(st, 2, event_names[type], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, peer, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, at);
	sqlite3_bind_text(st, 5, data ? data : "{}", data ? (int)len : 2, SQLITE_STATIC);
	r = step_done(st);
	if (!r)
		r = meta_set(q, "version", v);
	if (!r)
		*seq = v;
	return r;
}

static int read_peer(sqlite3_stmt *st, struct reg_peer *p)
{
	const unsigned char *name = sqlite3_column_text(st, 0);
	int nlen = sqlite3_column_bytes(st, 0);

	if (!name || nlen <= 0 || nlen > REG_NAME_MAX || sqlite3_column_bytes(st, 1) != 32 ||
	    sqlite3_column_bytes(st, 2) != 32)
		return -EIO;
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, (size_t)nlen);
	memcpy(p->ident, sqlite3_column_blob(st, 1), 32);
	memcpy(p->certfp, sqlite3_column_blob(st, 2), 32);
	p->roles = (uint32_t)sqlite3_column_int64(st, 3);
	p->joined_at = sqlite3_column_int64(st, 4);
	p->not_after = sqlite3_column_int64(st, 5);
	p->report_at = sqlite3_column_int64(st, 6);
	p->version = (uint64_t)sqlite3_column_int64(st, 7);
	p->tier = (enum reg_tier)sqlite3_column_int(st, 8);
	return 0;
}

static int peer_one(sqlite3_stmt *st, struct reg_peer *out)
{
	struct reg_peer p;
	int rc = sqlite3_step(st), r = -EIO;

	if (rc == SQLITE_ROW)
		r = read_peer(st, &p);
	else if (rc == SQLITE_DONE)
		r = -ENOENT;
	sqlite3_reset(st);
	if (r == 0)
		*out = p;
	return r;
}

static int sq_peer_by_ident(struct reg_store *s, const uint8_t ident[32], struct reg_peer *out)
{
	sqlite3_stmt *st = stmt(sq(s), S_PEER_BY_IDENT);

	sqlite3_bind_blob(st, 1, ident, 32, SQLITE_STATIC);
	return peer_one(st, out);
}

static int sq_peer_by_name(struct reg_store *s, const char *name, struct reg_peer *out)
{
	sqlite3_stmt *st = stmt(sq(s), S_PEER_BY_NAME);

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return peer_one(st, out);
}

static int sq_peer_doc(struct reg_store *s, const char *name, char **doc, size_t *len)
{
	sqlite3_stmt *st = stmt(sq(s), S_PEER_DOC);
	int rc, r = -EIO;
	char *d = NULL;
	size_t n = 0;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n = (size_t)sqlite3_column_bytes(st, 0);
		d = malloc(n + 1);
		r = d ? 0 : -ENOMEM;
		if (d) {
			memcpy(d, sqlite3_column_text(st, 0), n);
			d[n] = '\0';
		}
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	}
	sqlite3_reset(st);
	if (r == 0) {
		*doc = d;
		*len = n;
	}
	return r;
}

static int bind_doc(sqlite3_stmt *st, int i, const char *doc, size_t len)
{
	if (len > INT32_MAX)
		return -E2BIG;
	sqlite3_bind_text(st, i, doc, (int)len, SQLITE_STATIC);
	return 0;
}

/* Does another joined peer hold p's name or identity key? Two indexed
 * lookups (one OR query would scan the table). */
static int join_conflict(struct sq_store *q, const struct reg_peer *p)
{
	struct reg_peer other;
	sqlite3_stmt *st = stmt(q, S_PEER_BY_NAME);
	int r;

	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	r = peer_one(st, &other);
	if (r == 0 && memcmp(other.ident, p->ident, 32) != 0) /* not secret: public keys */
		return -EEXIST;
	if (r && r != -ENOENT)
		return r;
	st = stmt(q, S_PEER_BY_IDENT);
	sqlite3_bind_blob(st, 1, p->ident, 32, SQLITE_STATIC);
	r = peer_one(st, &other);
	if (r == 0 && strcmp(other.name, p->name) != 0)
		return -EEXIST;
	return r == -ENOENT ? 0 : r;
}

static int join_tx(struct sq_store *q, const struct reg_peer *p, const char *doc, size_t doc_len,
		   const char *ev, size_t ev_len, uint64_t *version)
{
	sqlite3_stmt *st;
	uint64_t v;
	int r = join_conflict(q, p);

	if (r)
		return r;
	r = event_append(q, REG_EV_JOIN, p->name, p->joined_at, ev, ev_len, &v);
	if (r)
		return r;
	st = stmt(q, S_PEER_UPSERT);
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, p->ident, 32, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, p->certfp, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, p->roles);
	sqlite3_bind_int64(st, 5, p->joined_at);
	sqlite3_bind_int64(st, 6, p->not_after);
	sqlite3_bind_int64(st, 7, (int64_t)v);
	sqlite3_bind_int(st, 8, (int)p->tier);
	r = bind_doc(st, 9, doc, doc_len);
	if (!r)
		r = step_done(st);
	if (!r)
		*version = v;
	return r;
}

static int sq_peer_join(struct reg_store *s, const struct reg_peer *p, const char *doc,
			size_t doc_len, const char *ev, size_t ev_len, uint64_t *version)
{
	struct sq_store *q = sq(s);
	uint64_t v = 0;
	int r = begin_write(q);

	if (r)
		return r;
	r = finish(q, join_tx(q, p, doc, doc_len, ev, ev_len, &v));
	if (!r)
		*version = v;
	return r;
}

/* Run an UPDATE on a joined peer; -ENOENT when it matched no row. */
static int update_peer(struct sq_store *q, sqlite3_stmt *st)
{
	int r = step_done(st);

	if (!r && sqlite3_changes(q->db) == 0)
		r = -ENOENT;
	return r;
}

static int update_tx(struct sq_store *q, const char *name, const char *doc, size_t doc_len,
		     int64_t now, const char *ev, size_t ev_len, uint64_t *version)
{
	sqlite3_stmt *st = stmt(q, S_PEER_SET_DOC);
	uint64_t v;
	int r;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	r = bind_doc(st, 2, doc, doc_len);
	if (!r)
		r = update_peer(q, st);
	if (r || !ev)
		return r;
	r = event_append(q, REG_EV_MOVE, name, now, ev, ev_len, &v);
	if (r)
		return r;
	st = stmt(q, S_PEER_SET_VERSION);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)v);
	r = step_done(st);
	if (!r)
		*version = v;
	return r;
}

static int sq_peer_update(struct reg_store *s, const char *name, const char *doc, size_t doc_len,
			  int64_t now, const char *ev, size_t ev_len, uint64_t *version)
{
	struct sq_store *q = sq(s);
	uint64_t v = 0;
	int r = begin_write(q);

	if (r)
		return r;
	if (!ev)
		r = meta_get(q, "version", &v);
	r = finish(q, r ? r : update_tx(q, name, doc, doc_len, now, ev, ev_len, &v));
	if (!r)
		*version = v;
	return r;
}

static int leave_tx(struct sq_store *q, const char *name, int64_t now, const char *ev,
		    size_t ev_len, uint64_t *version)
{
	sqlite3_stmt *st;
	uint64_t v;
	int r = event_append(q, REG_EV_LEAVE, name, now, ev, ev_len, &v);

	if (r)
		return r;
	st = stmt(q, S_PEER_LEAVE);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, (int64_t)v);
	r = update_peer(q, st);
	if (!r)
		*version = v;
	return r;
}

static int sq_peer_leave(struct reg_store *s, const char *name, int64_t now, const char *ev,
			 size_t ev_len, uint64_t *version)
{
	struct sq_store *q = sq(s);
	uint64_t v = 0;
	int r = begin_write(q);

	if (r)
		return r;
	r = finish(q, leave_tx(q, name, now, ev, ev_len, &v));
	if (!r)
		*version = v;
	return r;
}

static int tier_tx(struct sq_store *q, const char *name, enum reg_tier tier, int64_t now,
		   const char *ev, size_t ev_len, uint64_t *version)
{
	sqlite3_stmt *st;
	uint64_t v;
	int r = event_append(q, REG_EV_TIER, name, now, ev, ev_len, &v);

	if (r)
		return r;
	st = stmt(q, S_PEER_TIER);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)tier);
	sqlite3_bind_int64(st, 3, (int64_t)v);
	r = update_peer(q, st);
	if (!r)
		*version = v;
	return r;
}

static int sq_peer_tier(struct reg_store *s, const char *name, enum reg_tier tier, int64_t now,
			const char *ev, size_t ev_len, uint64_t *version)
{
	struct sq_store *q = sq(s);
	uint64_t v = 0;
	int r;

	if (!reg_tier_name(tier))
		return -EINVAL;
	r = begin_write(q);
	if (r)
		return r;
	r = finish(q, tier_tx(q, name, tier, now, ev, ev_len, &v));
	if (!r)
		*version = v;
	return r;
}

static int sq_report_put(struct reg_store *s, const char *name, const uint8_t *body, size_t len,
			 int64_t now)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st = stmt(q, S_REPORT_PUT);

	if (len > INT32_MAX)
		return -E2BIG;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, len ? (const void *)body : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	/* a single statement is its own transaction */
	return update_peer(q, st);
}

static int sq_report_get(struct reg_store *s, const char *name, uint8_t **body, size_t *len,
			 int64_t *at)
{
	sqlite3_stmt *st = stmt(sq(s), S_REPORT_GET);
	uint8_t *b = NULL;
	int64_t t = 0;
	size_t n = 0;
	int rc, r = -EIO;

	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n = (size_t)sqlite3_column_bytes(st, 0);
		t = sqlite3_column_int64(st, 1);
		b = malloc(n + 1);
		r = b ? 0 : -ENOMEM;
		if (b) {
			if (n)
				memcpy(b, sqlite3_column_blob(st, 0), n);
			b[n] = 0;
		}
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	}
	sqlite3_reset(st);
	if (r == 0) {
		*body = b;
		*len = n;
		*at = t;
	}
	return r;
}

/* Is cursor (a version or event sequence number) still answerable? */
static int cursor_ok(struct sq_store *q, uint64_t cursor)
{
	uint64_t version, pruned;
	int r = meta_get(q, "version", &version);

	if (!r)
		r = meta_get(q, "pruned", &pruned);
	if (r)
		return r;
	/* A cursor from the future means this store lost state the client saw. */
	if (cursor < pruned || cursor > version)
		return -ERANGE;
	return 0;
}

static int walk_peers(sqlite3_stmt *st, reg_peer_cb cb, void *ctx)
{
	struct reg_peer p;
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *doc = (const char *)sqlite3_column_text(st, 9);

		r = read_peer(st, &p);
		if (!r)
			r = cb(ctx, &p, doc, doc ? (size_t)sqlite3_column_bytes(st, 9) : 0);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_reset(st);
	return r;
}

static int list_tx(struct sq_store *q, uint64_t since, uint64_t *version, reg_peer_cb cb, void *ctx)
{
	sqlite3_stmt *st;
	int r = meta_get(q, "version", version);

	if (!r && since)
		r = cursor_ok(q, since);
	if (r)
		return r;
	if (since) {
		st = stmt(q, S_PEERS_SINCE);
		sqlite3_bind_int64(st, 1, (int64_t)since);
	} else {
		st = stmt(q, S_PEERS_ALL);
	}
	return walk_peers(st, cb, ctx);
}

static int sq_peers_list(struct reg_store *s, uint64_t since, uint64_t *version, reg_peer_cb cb,
			 void *ctx)
{
	struct sq_store *q = sq(s);
	int r = exec(q, S_BEGIN_R);

	if (r)
		return r;
	/* a read transaction: version and rows come from one WAL snapshot */
	r = list_tx(q, since, version, cb, ctx);
	exec(q, r ? S_ROLLBACK : S_COMMIT);
	return r;
}

static int count(struct sq_store *q, enum stmt i, int64_t arg, uint64_t *out);

static int sq_peers_each(struct reg_store *s, reg_index_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt(sq(s), S_PEERS_EACH);
	struct reg_peer p;
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = read_peer(st, &p);
		if (!r)
			r = cb(ctx, &p);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_reset(st);
	return r;
}

static int sq_peer_count(struct reg_store *s, uint64_t *n)
{
	return count(sq(s), S_STAT_PEERS, 0, n);
}

static int walk_events(sqlite3_stmt *st, reg_event_cb cb, void *ctx)
{
	struct reg_event ev;
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&ev, 0, sizeof(ev));
		ev.seq = (uint64_t)sqlite3_column_int64(st, 0);
		r = event_from_name((const char *)sqlite3_column_text(st, 1), &ev.type);
		ev.peer = (const char *)sqlite3_column_text(st, 2);
		ev.at = sqlite3_column_int64(st, 3);
		ev.data = (const char *)sqlite3_column_text(st, 4);
		ev.data_len = (size_t)sqlite3_column_bytes(st, 4);
		if (!r && (!ev.peer || !ev.data))
			r = -EIO;
		if (!r)
			r = cb(ctx, &ev);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_reset(st);
	return r;
}

static int sq_events_after(struct reg_store *s, uint64_t cursor, size_t max, reg_event_cb cb,
			   void *ctx)
{
	struct sq_store *q = sq(s);
	sqlite3_stmt *st;
	int r = exec(q, S_BEGIN_R);

	if (r)
		return r;
	r = cursor_ok(q, cursor);
	if (!r) {
		st = stmt(q, S_EVENTS_AFTER);
		sqlite3_bind_int64(st, 1, (int64_t)cursor);
		sqlite3_bind_int64(st, 2, (int64_t)SC_MIN(max, (size_t)INT32_MAX));
		r = walk_events(st, cb, ctx);
	}
	exec(q, r ? S_ROLLBACK : S_COMMIT);
	return r;
}

static int sq_version(struct reg_store *s, uint64_t *version)
{
	return meta_get(sq(s), "version", version);
}

static int kex_tx(struct sq_store *q, const char *from, const char *to, const uint8_t *msg,
		  size_t len, int64_t now, int64_t expires, const char *ev, size_t ev_len,
		  uint64_t *id, uint64_t *version)
{
	sqlite3_stmt *st = stmt(q, S_KEX_EXPIRE_PAIR);
	int64_t count;
	uint64_t v;
	int r;

	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	r = step_done(st);
	if (r)
		return r;
	st = stmt(q, S_KEX_COUNT_PAIR);
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	r = one_int(st, &count);
	if (r)
		return -EIO;
	if (count >= REG_KEX_PER_PAIR) {
		st = stmt(q, S_KEX_DROP_OLDEST);
		sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, count - REG_KEX_PER_PAIR + 1);
		r = step_done(st);
		if (r)
			return r;
	}
	st = stmt(q, S_KEX_INS);
	sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, expires);
	sqlite3_bind_blob(st, 5, msg, (int)len, SQLITE_STATIC);
	r = step_done(st);
	if (r)
		return r;
	*id = (uint64_t)sqlite3_last_insert_rowid(q->db);
	r = event_append(q, REG_EV_KEX, to, now, ev, ev_len, &v);
	if (!r)
		*version = v;
	return r;
}

static int sq_kex_put(struct reg_store *s, const char *from, const char *to, const uint8_t *msg,
		      size_t len, int64_t now, int64_t expires, const char *ev, size_t ev_len,
		      uint64_t *id, uint64_t *version)
{
	struct sq_store *q = sq(s);
	uint64_t i = 0, v = 0;
	int r;

	if (len == 0 || len > REG_KEX_RECORD_MAX || expires <= now)
		return -EINVAL;
	r = begin_write(q);
	if (r)
		return r;
	r = finish(q, kex_tx(q, from, to, msg, len, now, expires, ev, ev_len, &i, &v));
	if (!r) {
		*id = i;
		*version = v;
	}
	return r;
}

static int sq_kex_get(struct reg_store *s, const char *to, uint64_t after, int64_t now, size_t max,
		      reg_kex_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt(sq(s), S_KEX_GET);
	struct reg_kex_msg m;
	int rc, r = 0;

	sqlite3_bind_text(st, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)SC_MIN(after, (uint64_t)INT64_MAX));
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, (int64_t)SC_MIN(max, (size_t)INT32_MAX));
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		m.id = (uint64_t)sqlite3_column_int64(st, 0);
		m.from = (const char *)sqlite3_column_text(st, 1);
		m.to = (const char *)sqlite3_column_text(st, 2);
		m.created = sqlite3_column_int64(st, 3);
		m.expires = sqlite3_column_int64(st, 4);
		m.msg = sqlite3_column_blob(st, 5);
		m.len = (size_t)sqlite3_column_bytes(st, 5);
		r = (m.from && m.to && m.msg) ? cb(ctx, &m) : -EIO;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_reset(st);
	return r;
}

/* 1 if the same bytes are stored under serial, 0 if none, -EEXIST if other
 * bytes are. */
static int kill_same(struct sq_store *q, uint64_t serial, const uint8_t *msg, size_t len)
{
	sqlite3_stmt *st = stmt(q, S_KILL_GET);
	int rc, r = -EIO;

	sqlite3_bind_int64(st, 1, (int64_t)serial);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = 0;
	} else if (rc == SQLITE_ROW) {
		const void *old = sqlite3_column_blob(st, 0);
		int same = (size_t)sqlite3_column_bytes(st, 0) == len &&
			   memcmp(old, msg, len) == 0; /* not secret: signed public messages */

		r = same ? 1 : -EEXIST;
	}
	sqlite3_reset(st);
	return r;
}

static int kill_tx(struct sq_store *q, uint64_t serial, const uint8_t *msg, size_t len, int64_t now,
		   const char *ev, size_t ev_len, uint64_t *version)
{
	sqlite3_stmt *st;
	int64_t count;
	uint64_t v;
	int r = kill_same(q, serial, msg, len);

	if (r)
		return r;
	st = stmt(q, S_KILL_INS);
	sqlite3_bind_int64(st, 1, (int64_t)serial);
	sqlite3_bind_blob(st, 2, msg, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	r = step_done(st);
	if (!r)
		r = one_int(stmt(q, S_KILL_COUNT), &count);
	if (!r && count > REG_KILLS_MAX)
		r = exec(q, S_KILL_DROP_LOWEST);
	if (!r)
		r = event_append(q, REG_EV_KILL, "", now, ev, ev_len, &v);
	if (!r)
		*version = v;
	return r;
}

static int sq_kill_put(struct reg_store *s, uint64_t serial, const uint8_t *msg, size_t len,
		       int64_t now, const char *ev, size_t ev_len, uint64_t *version)
{
	struct sq_store *q = sq(s);
	uint64_t v = 0;
	int r;

	if (serial > INT64_MAX || len == 0 || len > REG_KILL_MAX)
		return -EINVAL;
	r = begin_write(q);
	if (r)
		return r;
	r = kill_tx(q, serial, msg, len, now, ev, ev_len, &v);
	if (r == 1) {
		finish(q, -EALREADY);
		return 1;
	}
	r = finish(q, r);
	if (!r)
		*version = v;
	return r;
}

static int sq_kill_list(struct reg_store *s, reg_blob_cb cb, void *ctx)
{
	sqlite3_stmt *st = stmt(sq(s), S_KILL_LIST);
	int rc, r = 0;

	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
		r = cb(ctx, (uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
		       (size_t)sqlite3_column_bytes(st, 1));
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_reset(st);
	return r;
}

static int revoke_tx(struct sq_store *q, uint64_t serial, const uint8_t *list, size_t len,
		     const char *const *names, size_t n, int64_t now, const char *ev, size_t ev_len,
		     uint64_t *version)
{
	sqlite3_stmt *st = stmt(q, S_REVOKE_GET);
	int64_t cur;
	uint64_t v;
	size_t i;
	int r = one_int(st, &cur);

	if (r == 0 && (uint64_t)cur >= serial)
		return -ESTALE;
	if (r && r != -ENOENT)
		return r;
	st = stmt(q, S_REVOKE_SET);
	sqlite3_bind_int64(st, 1, (int64_t)serial);
	sqlite3_bind_blob(st, 2, len ? (const void *)list : "", (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	r = step_done(st);
	if (r)
		return r;
	r = meta_get(q, "version", &v);
	for (i = 0; !r && i < n; i++) {
		r = leave_tx(q, names[i], now, ev, ev_len, &v);
		if (r == -ENOENT) /* already gone */
			r = 0;
	}
	if (!r)
		*version = v;
	return r;
}

static int sq_revoke_put(struct reg_store *s, uint64_t serial, const uint8_t *list, size_t len,
			 const char *const *names, size_t n, int64_t now, const char *ev,
			 size_t ev_len, uint64_t *version)
{
	struct sq_store *q = sq(s);
	uint64_t v = 0;
	int r;

	if (serial > INT64_MAX || len > REG_REVOKE_MAX)
		return -EINVAL;
	r = begin_write(q);
	if (r)
		return r;
	r = finish(q, revoke_tx(q, serial, list, len, names, n, now, ev, ev_len, &v));
	if (!r)
		*version = v;
	return r;
}

static int sq_revoke_get(struct reg_store *s, uint64_t *serial, uint8_t **list, size_t *len)
{
	sqlite3_stmt *st = stmt(sq(s), S_REVOKE_GET);
	uint8_t *b = NULL;
	uint64_t ser = 0;
	size_t n = 0;
	int rc, r = -EIO;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ser = (uint64_t)sqlite3_column_int64(st, 0);
		n = (size_t)sqlite3_column_bytes(st, 1);
		b = malloc(n + 1);
		r = b ? 0 : -ENOMEM;
		if (b && n)
			memcpy(b, sqlite3_column_blob(st, 1), n);
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	}
	sqlite3_reset(st);
	if (r == 0) {
		*serial = ser;
		*list = b;
		*len = n;
	}
	return r;
}

static int prune_tx(struct sq_store *q, int64_t now, uint64_t retain)
{
	sqlite3_stmt *st = stmt(q, S_PRUNE_KEX);
	uint64_t version, pruned, cut;
	int r;

	sqlite3_bind_int64(st, 1, now);
	r = step_done(st);
	if (!r)
		r = meta_get(q, "version", &version);
	if (!r)
		r = meta_get(q, "pruned", &pruned);
	if (r || version <= retain || version - retain <= pruned)
		return r;
	cut = version - retain;
	st = stmt(q, S_PRUNE_EVENTS);
	sqlite3_bind_int64(st, 1, (int64_t)cut);
	r = step_done(st);
	if (!r) {
		st = stmt(q, S_PRUNE_TOMBS);
		sqlite3_bind_int64(st, 1, (int64_t)cut);
		r = step_done(st);
	}
	if (!r)
		r = meta_set(q, "pruned", cut);
	return r;
}

static int sq_prune(struct reg_store *s, int64_t now, uint64_t retain)
{
	struct sq_store *q = sq(s);
	int r = begin_write(q);

	if (r)
		return r;
	return finish(q, prune_tx(q, now, retain));
}

static int count(struct sq_store *q, enum stmt i, int64_t arg, uint64_t *out)
{
	sqlite3_stmt *st = stmt(q, i);
	int64_t n;
	int r;

	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, arg);
	r = one_int(st, &n);
	if (r == 0)
		*out = (uint64_t)n;
	return r ? -EIO : 0;
}

static int sq_stats(struct reg_store *s, int64_t now, struct reg_store_stats *out)
{
	struct sq_store *q = sq(s);
	struct reg_store_stats st = { 0 };
	uint8_t *list;
	size_t len;
	int r = meta_get(q, "version", &st.version);

	if (!r)
		r = count(q, S_STAT_PEERS, 0, &st.peers);
	if (!r)
		r = count(q, S_STAT_RELAYS, REG_ROLE_RELAY | REG_ROLE_MASTER, &st.relays);
	if (!r)
		r = count(q, S_STAT_PIPES, REG_TIER_PIPE, &st.pipes);
	if (!r)
		r = count(q, S_STAT_EVENTS, 0, &st.events);
	if (!r)
		r = count(q, S_STAT_KEX, now, &st.kex);
	if (!r)
		r = count(q, S_STAT_KILLS, 0, &st.kills);
	if (!r) {
		r = sq_revoke_get(s, &st.revocation_serial, &list, &len);
		if (r == 0)
			free(list);
		if (r == -ENOENT)
			r = 0;
	}
	if (!r)
		*out = st;
	return r;
}

static void sq_close(struct reg_store *s)
{
	struct sq_store *q = sq(s);
	unsigned i;

	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->db);
	free(q);
}

static const struct reg_store_ops sq_ops = {
	.close = sq_close,
	.peer_by_ident = sq_peer_by_ident,
	.peer_by_name = sq_peer_by_name,
	.peer_doc = sq_peer_doc,
	.peer_join = sq_peer_join,
	.peer_update = sq_peer_update,
	.peer_leave = sq_peer_leave,
	.peer_tier = sq_peer_tier,
	.report_put = sq_report_put,
	.report_get = sq_report_get,
	.peers_list = sq_peers_list,
	.peers_each = sq_peers_each,
	.peer_count = sq_peer_count,
	.events_after = sq_events_after,
	.version = sq_version,
	.kex_put = sq_kex_put,
	.kex_get = sq_kex_get,
	.kill_put = sq_kill_put,
	.kill_list = sq_kill_list,
	.revoke_put = sq_revoke_put,
	.revoke_get = sq_revoke_get,
	.prune = sq_prune,
	.stats = sq_stats,
};

static int pragma(sqlite3 *db, const char *sqltext, char *errbuf, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sqltext, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(errbuf, errlen, "%s: %s", sqltext, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -EIO;
}

static int user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st;
	int r = -EIO;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

/* Bring the schema to REG_STORE_SCHEMA, each step in its own transaction. */
static int migrate(sqlite3 *db, char *errbuf, size_t errlen)
{
	char buf[64];
	int v, r = user_version(db, &v);

	if (r) {
		snprintf(errbuf, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
		return r;
	}
	if (v > REG_STORE_SCHEMA) {
		snprintf(errbuf, errlen, "schema version %d is newer than this program's %d", v,
			 REG_STORE_SCHEMA);
		return -EPROTO;
	}
	for (; v < REG_STORE_SCHEMA; v++) {
		r = pragma(db, "BEGIN IMMEDIATE", errbuf, errlen);
		if (!r)
			r = pragma(db, migrations[v], errbuf, errlen);
		snprintf(buf, sizeof(buf), "PRAGMA user_version = %d", v + 1);
		if (!r)
			r = pragma(db, buf, errbuf, errlen);
		if (!r)
			r = pragma(db, "COMMIT", errbuf, errlen);
		if (r) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
	}
	return 0;
}

static int prepare_all(struct sq_store *q, char *errbuf, size_t errlen)
{
	unsigned i;

	for (i = 0; i < S__COUNT; i++) {
		if (sqlite3_prepare_v3(q->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i],
				       NULL) != SQLITE_OK) {
			snprintf(errbuf, errlen, "prepare %u: %s", i, sqlite3_errmsg(q->db));
			return -EIO;
		}
	}
	return 0;
}

int reg_store_sqlite_open(const char *path, struct reg_store **out, char *errbuf, size_t errlen)
{
	struct sq_store *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	q->base.ops = &sq_ops;
	/* NOMUTEX: the registry serialises calls itself (store.h) */
	if (sqlite3_open_v2(path, &q->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		snprintf(errbuf, errlen, "open %s: %s", path,
			 q->db ? sqlite3_errmsg(q->db) : "out of memory");
		r = -EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(q->db, 0);
	sqlite3_busy_timeout(q->db, 5000);
	/* WAL: readers never block the writer; synchronous=NORMAL in WAL mode
	 * survives a crash of the process (the OS still has the log) and may
	 * lose the last transactions on power loss: peers re-join and re-report
	 * within minutes, so throughput wins (docs/registry.md). */
	r = pragma(q->db, "PRAGMA journal_mode = WAL", errbuf, errlen);
	if (!r)
		r = pragma(q->db, "PRAGMA synchronous = NORMAL", errbuf, errlen);
	/* the peer list is read whole: keep it in memory (64 MiB of page
	 * cache, 256 MiB mapped) rather than pread page by page */
	if (!r)
		r = pragma(q->db, "PRAGMA cache_size = -65536", errbuf, errlen);
	if (!r)
		r = pragma(q->db, "PRAGMA mmap_size = 268435456", errbuf, errlen);
	if (!r)
		r = pragma(q->db, "PRAGMA foreign_keys = ON", errbuf, errlen);
	if (!r)
		r = migrate(q->db, errbuf, errlen);
	if (!r)
		r = prepare_all(q, errbuf, errlen);
	if (r)
		goto fail;
	*out = &q->base;
	return 0;
fail:
	sq_close(&q->base);
	return r;
}
