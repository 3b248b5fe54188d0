/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A local unix stream socket served on the event loop: the part the UAPI
 * socket (uapi/server.h) and the control socket (agent/ctlsock.h) share.
 *
 * The socket file is DIR/NAME.sock. DIR is made 0755 if missing. A socket
 * file nobody listens on (left by a crash) is replaced; one that answers is
 * refused (-EADDRINUSE), as is a path that exists but is not a socket
 * (-EEXIST). The file's mode is set between bind() and listen(), so nobody
 * can connect while it is still the umask's. unixsock_free() unlinks the
 * file only if it is still the one we made (same device and inode): a newer
 * process may have replaced it.
 *
 * Connections are accepted without blocking. Each gets a zeroed block of
 * cfg.conn_size bytes that starts with a struct unixsock_conn (the owner's
 * client struct embeds it as its first member), watched for EPOLLIN, and
 * an input buffer that grows up to cfg.in_max and is wiped whenever bytes
 * move or it is freed (UAPI requests carry private keys). At most
 * cfg.max_conns are held: a new one beyond that is closed, or with
 * cfg.evict_oldest it replaces the oldest (so stuck clients cannot lock an
 * operator out). Out of file descriptors, accepting pauses until a
 * connection closes rather than spinning on a socket that stays readable.
 *
 * Single-threaded: everything runs in loop callbacks. A callback may close
 * its connection (unixsock_close) and must not use it afterwards; it must
 * not free the server.
 */
#ifndef IO_UNIXSOCK_H
#define IO_UNIXSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "io/err.h"
#include "io/loop.h"

struct unixsock;

/* One connection; the first member of the owner's client struct. The owner
 * reads the fields and changes them only through the functions below. */
struct unixsock_conn {
	struct unixsock *srv;
	struct unixsock_conn *next, *prev; /* newest first */
	int fd;
	uint32_t events; /* what the loop watches; EPOLLIN at first */
	char *in;	 /* received bytes: [in_off, in_len) are not consumed yet */
	size_t in_off, in_len, in_cap;
	bool eof; /* the peer will send nothing more */
};

/* fd of c is ready (EPOLL* bits). ctx is cfg.ctx. */
typedef void (*unixsock_event_fn)(void *ctx, struct unixsock_conn *c, uint32_t events);
/* c is leaving: its fd is closed; release what the owner keeps in it (the
 * block itself and c->in are freed after). */
typedef void (*unixsock_close_fn)(void *ctx, struct unixsock_conn *c);

/* The strings are read by unixsock_new only. */
struct unixsock_cfg {
	const char *dir;  /* made 0755 if missing */
	const char *name; /* an interface name: 1 to 15 characters, no '/'; DIR/NAME.sock */
	mode_t mode;	  /* of the socket file */
	int backlog;
	size_t max_conns;
	bool evict_oldest;  /* full: close the oldest for the new one (else the new one) */
	size_t conn_size;   /* >= sizeof(struct unixsock_conn) */
	size_t in_first;    /* first size of the input buffer (<= in_max) */
	size_t in_max;	    /* cap of the input buffer */
	const char *what;   /* for messages: "UAPI socket" */
	const char *in_use; /* why a live socket is there: "is scoped already running?" */
	unixsock_event_fn on_event;
	unixsock_close_fn on_close; /* may be NULL */
	void *ctx;
};

/* Listen on DIR/NAME.sock and serve it on loop. 0 or -errno with a message
 * in err (may be NULL); *out only on success. */
int unixsock_new(const struct unixsock_cfg *cfg, struct loop *loop, struct unixsock **out,
		 struct io_err *err);
/* Close every connection (on_close for each) and the socket; unlink the
 * file if it is still ours. NULL ok. */
void unixsock_free(struct unixsock *u);
/* The socket's path. */
const char *unixsock_path(const struct unixsock *u);
/* Connections open now. */
size_t unixsock_conns(const struct unixsock *u);

/* Read what is there into c->in: until the socket is drained, the peer
 * closes (c->eof) or the buffer is full at in_max. 0, or -errno: close c. */
int unixsock_read(struct unixsock_conn *c);
/* The first n unconsumed bytes are handled: drop them (at the next read). */
void unixsock_consume(struct unixsock_conn *c, size_t n);
/* Send buf[*off, len) without blocking, advancing *off. 1 when all of it is
 * sent, 0 if the socket is full, -errno if the peer is gone. Never SIGPIPE. */
int unixsock_send(struct unixsock_conn *c, const void *buf, size_t len, size_t *off);
/* Watch events (EPOLLIN or EPOLLOUT) on c instead. 0 or -errno. */
int unixsock_watch(struct unixsock_conn *c, uint32_t events);
/* Close c: on_close, then free it. */
void unixsock_close(struct unixsock_conn *c);

#endif
