// SPDX-License-Identifier: GPL-2.0-only
/*
 * In-tunnel KEX transport (kexnet.h): a non-blocking UDP socket on the
 * overlay address, read in bounded bursts on the loop.
 */
#include "agent/kexnet.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/limits.h"
#include "proto/limits.h"

struct kexnet {
	struct loop *loop;
	int fd;
	uint16_t port;
	bool has_allow;
	struct proto_prefix allow;
	kexnet_recv_fn fn;
	void *ctx;
	struct kexnet_stats st;
	/* One byte more than a record, so that MSG_TRUNC is not the only
	 * sign of an oversized datagram. */
	uint8_t buf[PROTO_KEX_RECORD_MAX + 1];
};

static void kexnet_readable(void *ctx, int fd, uint32_t events)
{
	struct kexnet *kn = ctx;
	struct sockaddr_in src;
	socklen_t slen;
	ssize_t n;

	(void)events;
	for (int i = 0; i < AGENT_KEX_RX_BURST; i++) {
		slen = sizeof(src);
		n = recvfrom(fd, kn->buf, sizeof(kn->buf), MSG_TRUNC | MSG_DONTWAIT,
			     (struct sockaddr *)&src, &slen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return; /* EAGAIN, or an ICMP error queued by a send: nothing to read */
		if (n == 0 || (size_t)n > PROTO_KEX_RECORD_MAX) {
			kn->st.rx_too_big++;
			continue;
		}
		if (slen < sizeof(src) || src.sin_family != AF_INET ||
		    (kn->has_allow &&
		     !proto_prefix_contains(&kn->allow, (const uint8_t *)&src.sin_addr))) {
			kn->st.rx_foreign++;
			continue;
		}
		kn->st.rx++;
		kn->fn(kn->ctx, kn->buf, (size_t)n, (const uint8_t *)&src.sin_addr);
	}
}

static int kexnet_open(const uint8_t addr4[4], uint16_t port, int *fdp, uint16_t *bound,
		       struct io_err *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t slen = sizeof(sa);
	int one = 1, fd, ret;

	memcpy(&sa.sin_addr, addr4, 4);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return io_errf(err, -errno, "kex socket");
	/* The overlay address may not be on an interface yet. */
	if (setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one))) {
		ret = io_errf(err, -errno, "kex socket: IP_FREEBIND");
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = io_errf(err, -errno, "kex socket: bind to %u.%u.%u.%u:%u", addr4[0], addr4[1],
			      addr4[2], addr4[3], port);
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&sa, &slen)) {
		ret = io_errf(err, -errno, "kex socket: getsockname");
		goto fail;
	}
	*fdp = fd;
	*bound = ntohs(sa.sin_port);
	return 0;
fail:
	close(fd);
	return ret;
}

int kexnet_new(struct loop *loop, const uint8_t addr4[4], uint16_t port,
	       const struct proto_prefix *allow, kexnet_recv_fn fn, void *ctx, struct kexnet **out,
	       struct io_err *err)
{
	struct kexnet *kn;
	int ret;

	if (!loop || !addr4 || !fn || (allow && allow->family != 4))
		return io_errf(err, -EINVAL, "kex socket: bad arguments");
	kn = calloc(1, sizeof(*kn));
	if (!kn)
		return io_errf(err, -ENOMEM, "kex socket");
	kn->loop = loop;
	kn->fn = fn;
	kn->ctx = ctx;
	if (allow) {
		kn->allow = *allow;
		kn->has_allow = true;
	}
	ret = kexnet_open(addr4, port, &kn->fd, &kn->port, err);
	if (ret) {
		free(kn);
		return ret;
	}
	ret = loop_add_fd(loop, kn->fd, EPOLLIN, kexnet_readable, kn);
	if (ret) {
		io_errf(err, ret, "kex socket: event loop");
		close(kn->fd);
		free(kn);
		return ret;
	}
	*out = kn;
	return 0;
}

void kexnet_free(struct kexnet *kn)
{
	if (!kn)
		return;
	loop_del_fd(kn->loop, kn->fd);
	close(kn->fd);
	free(kn);
}

int kexnet_send(struct kexnet *kn, const uint8_t dst4[4], const uint8_t *rec, size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(kn->port) };
	ssize_t n;

	if (len == 0 || len > PROTO_KEX_RECORD_MAX)
		return -EMSGSIZE;
	memcpy(&sa.sin_addr, dst4, 4);
	do {
		n = sendto(kn->fd, rec, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		kn->st.tx_errors++;
		return -errno;
	}
	kn->st.tx++;
	return 0;
}

uint16_t kexnet_port(const struct kexnet *kn)
{
	return kn->port;
}

void kexnet_get_stats(const struct kexnet *kn, struct kexnet_stats *out)
{
	*out = kn->st;
}
