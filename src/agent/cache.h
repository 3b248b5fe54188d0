/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The node's persistent cache (DESIGN.md section 5): the verified peer
 * documents with the registry version and event cursor they are current to,
 * so a restart while the registry is down still reconnects; and the highest
 * kill-switch serial the node obeyed, so a restart does not obey it again.
 *
 * In the state directory (mode 0700, created if missing, tightened if
 * looser and ours): "peers.json" and "kill-serial", each mode 0600, each
 * replaced atomically (temporary file, fsync, rename, fsync of the
 * directory), so a crash leaves the old file or the new one, never half.
 *
 * The cache is not trusted more than the registry: every document is
 * verified again on load, against the current network definition,
 * revocation list and clock. A tampered or expired entry is refused on its
 * own (reported through the callback); the others load.
 *
 * One agent_cache per directory and process; not thread-safe.
 */
#ifndef AGENT_CACHE_H
#define AGENT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "agent/peer.h"

struct proto_netdef;
struct proto_revoke;
struct agent_cache;

/* Open (create) the state directory dir for the network net (verified;
 * copied). 0, -ENOMEM, -ENOTDIR, -EPERM (owned by another user), or the
 * errno of mkdir/open. */
int agent_cache_open(const char *dir, const struct proto_netdef *net, struct agent_cache **out);
void agent_cache_free(struct agent_cache *c);
/* Where refused entries are reported (NULL: nowhere). */
void agent_cache_set_refuse_cb(struct agent_cache *c, agent_refuse_fn fn, void *ctx);

struct agent_cache_peers {
	struct agent_peer *peers; /* verified, sorted by name, names distinct */
	size_t n;
	uint64_t version; /* the registry version the set is current to */
	uint64_t cursor;  /* the event cursor to continue from */
	size_t refused;	  /* entries that failed verification */
};

/* Load and re-verify the cached peers at now (Unix seconds) against rl
 * (verified; NULL: none). 0; -ENOENT (no cache yet); -EXDEV (a cache of
 * another network); -EFBIG (over AGENT_CACHE_FILE_MAX); -EINVAL (not a
 * cache file); an I/O errno. */
int agent_cache_load(struct agent_cache *c, const struct proto_revoke *rl, uint64_t now,
		     struct agent_cache_peers *out);
void agent_cache_peers_clear(struct agent_cache_peers *p);
/* Replace the cached peers by peers[0, n) (their doc text is written as
 * is). 0, -EFBIG, -EINVAL (a peer without a document), or an I/O errno;
 * on error the previous file stays. */
int agent_cache_save(struct agent_cache *c, const struct agent_peer *peers, size_t n,
		     uint64_t version, uint64_t cursor);

/* The highest kill-switch serial obeyed: 0, -ENOENT (none recorded) or
 * -EINVAL (malformed file: treat as none, which obeys again: fail closed). */
int agent_cache_kill_serial(struct agent_cache *c, uint64_t *serial);
/* Record serial as obeyed. Never lowers the stored value (-EALREADY if
 * serial is below it; the same serial again is 0). */
int agent_cache_save_kill_serial(struct agent_cache *c, uint64_t serial);

/* The newest verified revocation list the node adopted, raw (canonical
 * bytes; the caller decodes and verifies it again). *rec is the caller's to
 * free. 0, -ENOENT (none), -EFBIG, or an I/O errno. */
int agent_cache_revocations(struct agent_cache *c, uint8_t **rec, size_t *len);
/* Replace it (atomically). 0, -EFBIG or an I/O errno. */
int agent_cache_save_revocations(struct agent_cache *c, const uint8_t *rec, size_t len);

#endif
