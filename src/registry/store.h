/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The registry's store: every piece of state the registry keeps, behind a
 * table of function pointers so that a PostgreSQL driver can implement the
 * same contract later (DESIGN.md section 6). store_sqlite.c is the default.
 *
 * Contract for every driver:
 *  - Each call that changes state is one transaction: it is applied entirely
 *    or not at all, and its event (if any) is written in that transaction.
 *  - The global version is the sequence number of the last event. Every
 *    event gets version + 1, so versions never repeat or go backwards, even
 *    across restarts and pruning. A peer's version is the sequence number of
 *    the event that last changed it.
 *  - Documents (peer docs, event data) are JSON text the caller builds; the
 *    store keeps them verbatim and never parses them.
 *  - Calls return 0 or a negative errno; out-parameters are written only on
 *    success. -ENOENT: no such peer; -EEXIST: conflicts with stored state;
 *    -ERANGE: a cursor older than what was pruned; -EIO: the driver failed.
 *  - A store handle is not thread-safe; the registry serialises calls.
 *
 * Time values are wall-clock seconds passed in by the caller: the store never
 * reads the clock, so tests drive expiry and retention directly.
 */
#ifndef REG_STORE_H
#define REG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "registry/limits.h"

enum reg_event_type {
	REG_EV_JOIN,
	REG_EV_MOVE,
	REG_EV_LEAVE,
	REG_EV_TIER,
	REG_EV_KEX,
	REG_EV_KILL,
	REG_EV__COUNT
};

/* "join", "move", ...; NULL for an out-of-range value. */
const char *reg_event_name(enum reg_event_type t);

enum reg_tier {
	REG_TIER_NONE, /* edges: tiers apply to relays only */
	REG_TIER_RELAY,
	REG_TIER_PIPE,
};

const char *reg_tier_name(enum reg_tier t);

/* Peer roles, as certificates grant them. */
#define REG_ROLE_EDGE	0x1u
#define REG_ROLE_RELAY	0x2u
#define REG_ROLE_MASTER 0x4u

/* A peer as the store indexes it (the rest lives in its document). */
struct reg_peer {
	char name[REG_NAME_MAX + 1];
	uint8_t ident[32];  /* identity (Ed25519) public key */
	uint8_t certfp[32]; /* certificate fingerprint, for revocation */
	uint32_t roles;	    /* REG_ROLE_* */
	int64_t joined_at;  /* wall seconds of the latest join */
	int64_t not_after;  /* certificate expiry, wall seconds */
	int64_t report_at;  /* latest report, 0 if none */
	uint64_t version;
	enum reg_tier tier;
};

struct reg_event {
	uint64_t seq;
	enum reg_event_type type;
	const char *peer; /* NUL-terminated */
	int64_t at;
	const char *data; /* JSON text */
	size_t data_len;
};

struct reg_kex_msg {
	uint64_t id;
	const char *from;
	const char *to;
	int64_t created;
	int64_t expires;
	const uint8_t *msg;
	size_t len;
};

struct reg_store_stats {
	uint64_t version;
	uint64_t peers;	 /* joined */
	uint64_t relays; /* joined with the relay or master role */
	uint64_t pipes;	 /* relays currently demoted */
	uint64_t events; /* retained */
	uint64_t kex;	 /* unexpired mailbox messages */
	uint64_t kills;
	uint64_t revocation_serial;
};

/* Callbacks get views valid only during the call; non-zero stops the walk
 * and becomes the return value. doc is NULL for a peer that left. */
typedef int (*reg_peer_cb)(void *ctx, const struct reg_peer *p, const char *doc, size_t len);
typedef int (*reg_index_cb)(void *ctx, const struct reg_peer *p);
typedef int (*reg_event_cb)(void *ctx, const struct reg_event *ev);
typedef int (*reg_kex_cb)(void *ctx, const struct reg_kex_msg *m);
typedef int (*reg_blob_cb)(void *ctx, uint64_t key, const uint8_t *p, size_t len);

struct reg_store;

struct reg_store_ops {
	void (*close)(struct reg_store *s);

	/* Joined peers only. */
	int (*peer_by_ident)(struct reg_store *s, const uint8_t ident[32], struct reg_peer *out);
	int (*peer_by_name)(struct reg_store *s, const char *name, struct reg_peer *out);
	/* A joined peer's document (heap, NUL-terminated; the caller frees). */
	int (*peer_doc)(struct reg_store *s, const char *name, char **doc, size_t *len);

	/* Join (or re-join) p with its document: a join event carrying ev_data.
	 * -EEXIST if another joined peer holds p's name or identity key. */
	int (*peer_join)(struct reg_store *s, const struct reg_peer *p, const char *doc,
			 size_t doc_len, const char *ev_data, size_t ev_len, uint64_t *version);
	/* Replace a joined peer's document. With ev_data a move event is written
	 * and the version bumps; without (NULL) the document changes silently. */
	int (*peer_update)(struct reg_store *s, const char *name, const char *doc, size_t doc_len,
			   int64_t now, const char *ev_data, size_t ev_len, uint64_t *version);
	/* Remove a joined peer (a tombstone stays for delta lists); leave event. */
	int (*peer_leave)(struct reg_store *s, const char *name, int64_t now, const char *ev_data,
			  size_t ev_len, uint64_t *version);
	int (*peer_tier)(struct reg_store *s, const char *name, enum reg_tier tier, int64_t now,
			 const char *ev_data, size_t ev_len, uint64_t *version);

	/* Latest report of a joined peer, verbatim (a signed body). */
	int (*report_put)(struct reg_store *s, const char *name, const uint8_t *body, size_t len,
			  int64_t now);
	int (*report_get)(struct reg_store *s, const char *name, uint8_t **body, size_t *len,
			  int64_t *at);

	/* since == 0: every joined peer. since > 0: peers changed after version
	 * since, tombstones included; -ERANGE if since predates pruning. All rows
	 * come from one snapshot whose version is written to *version first. */
	int (*peers_list)(struct reg_store *s, uint64_t since, uint64_t *version, reg_peer_cb cb,
			  void *ctx);
	/* Every joined peer's index entry, by name, without documents (cheap
	 * for housekeeping over many peers). */
	int (*peers_each)(struct reg_store *s, reg_index_cb cb, void *ctx);
	/* Joined peers. */
	int (*peer_count)(struct reg_store *s, uint64_t *n);
	/* Events with seq > cursor, oldest first, at most max. -ERANGE if events
	 * after cursor were pruned. */
	int (*events_after)(struct reg_store *s, uint64_t cursor, size_t max, reg_event_cb cb,
			    void *ctx);
	int (*version)(struct reg_store *s, uint64_t *version);

	/* Mailbox. Drops expired messages of the pair, then the pair's oldest
	 * beyond REG_KEX_PER_PAIR - 1, then stores; a kex event to `to`. */
	int (*kex_put)(struct reg_store *s, const char *from, const char *to, const uint8_t *msg,
		       size_t len, int64_t now, int64_t expires, const char *ev_data, size_t ev_len,
		       uint64_t *id, uint64_t *version);
	/* Unexpired messages to `to` with id > after, oldest first, at most max. */
	int (*kex_get)(struct reg_store *s, const char *to, uint64_t after, int64_t now, size_t max,
		       reg_kex_cb cb, void *ctx);

	/* Kill messages by serial. Storing the same bytes again is a no-op that
	 * returns 1; other bytes under a stored serial: -EEXIST. Beyond
	 * REG_KILLS_MAX the lowest serial is dropped. A kill event. */
	int (*kill_put)(struct reg_store *s, uint64_t serial, const uint8_t *msg, size_t len,
			int64_t now, const char *ev_data, size_t ev_len, uint64_t *version);
	/* Highest serial first. */
	int (*kill_list)(struct reg_store *s, reg_blob_cb cb, void *ctx);

	/* Replace the revocation list (serial must grow, else -ESTALE) and remove
	 * the listed joined peers (leave events carrying ev_data), in one
	 * transaction. */
	int (*revoke_put)(struct reg_store *s, uint64_t serial, const uint8_t *list, size_t len,
			  const char *const *names, size_t n, int64_t now, const char *ev_data,
			  size_t ev_len, uint64_t *version);
	/* -ENOENT when none was ever stored. */
	int (*revoke_get)(struct reg_store *s, uint64_t *serial, uint8_t **list, size_t *len);

	/* Drop expired mailbox messages, events beyond `retain`, and tombstones
	 * older than the oldest kept event. */
	int (*prune)(struct reg_store *s, int64_t now, uint64_t retain);
	int (*stats)(struct reg_store *s, int64_t now, struct reg_store_stats *out);
};

struct reg_store {
	const struct reg_store_ops *ops;
};

/* Open (creating if needed) the SQLite store at path: WAL, one file, schema
 * versioned. -EPROTO for a schema newer than this program; -EIO otherwise.
 * errbuf gets a reason on failure. */
int reg_store_sqlite_open(const char *path, struct reg_store **out, char *errbuf, size_t errlen);

/* The schema version this program writes. */
#define REG_STORE_SCHEMA 1

static inline void reg_store_close(struct reg_store *s)
{
	if (s)
		s->ops->close(s);
}

#endif
