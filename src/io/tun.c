// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE
#include "io/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct tun {
	int fd;
	bool offload;
	char name[IFNAMSIZ];
};

#define TUN_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

static const char *open_hint(int neg)
{
	switch (neg) {
	case -EPERM:
		return " (needs CAP_NET_ADMIN)";
	case -EBUSY:
		return " (open in another process)";
	case -EINVAL:
		return " (bad name, or an existing device that is not a TUN)";
	default:
		return "";
	}
}

static int tun_attach(int fd, const char *name, bool vnet, char actual[IFNAMSIZ],
		      struct io_err *err)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int ret = -errno;

		return io_errf(err, ret, "TUNSETIFF %s%s", *name ? name : "(any)", open_hint(ret));
	}
	memcpy(actual, ifr.ifr_name, IFNAMSIZ);
	actual[IFNAMSIZ - 1] = '\0';
	return 0;
}

static int tun_open_fd(int *fdp, struct io_err *err)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK), ret;

	if (fd < 0) {
		ret = -errno;
		return io_errf(err, ret, "open /dev/net/tun%s",
			       ret == -ENOENT ? " (no tun driver: modprobe tun)" : "");
	}
	*fdp = fd;
	return 0;
}

/* Attach with IFF_VNET_HDR and switch the offloads on; on any refusal
 * reopen plainly (the flag cannot be dropped from an attached fd). */
static int tun_attach_any(int *fdp, const char *name, bool offload, bool *got,
			  char actual[IFNAMSIZ], struct io_err *err)
{
	int ret;

	*got = false;
	if (offload && tun_attach(*fdp, name, true, actual, NULL) == 0) {
		if (ioctl(*fdp, TUNSETOFFLOAD, (unsigned long)TUN_OFFLOADS) == 0) {
			*got = true;
			return 0;
		}
		close(*fdp);
		ret = tun_open_fd(fdp, err);
		if (ret)
			return ret;
	}
	return tun_attach(*fdp, name, false, actual, err);
}

static int tun_open_opts(const char *name, bool offload, struct tun **out, struct io_err *err)
{
	char actual[IFNAMSIZ];
	struct tun *t;
	bool got;
	int fd = -1, ret;

	if (!name)
		name = "";
	if (strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
		return io_errf(err, -EINVAL, "TUN name \"%.*s...\" longer than %d characters",
			       IFNAMSIZ, name, IFNAMSIZ - 1);
	ret = tun_open_fd(&fd, err);
	if (ret)
		return ret;
	ret = tun_attach_any(&fd, name, offload, &got, actual, err);
	if (ret)
		goto err_close;
	t = calloc(1, sizeof(*t));
	if (!t) {
		ret = io_errf(err, -ENOMEM, "TUN %s", actual);
		goto err_close;
	}
	t->fd = fd;
	t->offload = got;
	memcpy(t->name, actual, sizeof(t->name));
	*out = t;
	return 0;

err_close:
	close(fd);
	return ret;
}

int tun_open(const char *name, struct tun **out, struct io_err *err)
{
	return tun_open_opts(name, false, out, err);
}

int tun_open_offload(const char *name, struct tun **out, struct io_err *err)
{
	return tun_open_opts(name, true, out, err);
}

bool tun_offload(const struct tun *t)
{
	return t->offload;
}

void tun_free(struct tun *t)
{
	if (!t)
		return;
	close(t->fd);
	free(t);
}

const char *tun_name(const struct tun *t)
{
	return t->name;
}

int tun_fd(const struct tun *t)
{
	return t->fd;
}

/* Interface ioctls go through any inet socket; AF_INET6 only if IPv4 is
 * missing from the kernel. A socket per call is fine: these run at set-up. */
static int if_ioctl(const struct tun *t, unsigned long req, struct ifreq *ifr)
{
	int s, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memcpy(ifr->ifr_name, t->name, IFNAMSIZ);
	if (ioctl(s, req, ifr) < 0)
		ret = -errno;
	close(s);
	return ret;
}

int tun_set_mtu(struct tun *t, unsigned int mtu, struct io_err *err)
{
	struct ifreq ifr;
	int ret;

	/* The kernel clamps nothing for us: refuse what ifr_mtu cannot hold. */
	if (mtu > IO_PKT_MAX)
		return io_errf(err, -EINVAL, "MTU %u of %s above %d", mtu, t->name, IO_PKT_MAX);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = (int)mtu;
	ret = if_ioctl(t, SIOCSIFMTU, &ifr);
	if (ret)
		return io_errf(err, ret, "set MTU %u on %s", mtu, t->name);
	return 0;
}

int tun_get_mtu(struct tun *t, unsigned int *mtu, struct io_err *err)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	ret = if_ioctl(t, SIOCGIFMTU, &ifr);
	if (ret)
		return io_errf(err, ret, "get MTU of %s", t->name);
	*mtu = (unsigned int)ifr.ifr_mtu;
	return 0;
}

int tun_set_up(struct tun *t, int up, struct io_err *err)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	ret = if_ioctl(t, SIOCGIFFLAGS, &ifr);
	if (ret)
		return io_errf(err, ret, "get flags of %s", t->name);
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	ret = if_ioctl(t, SIOCSIFFLAGS, &ifr);
	if (ret)
		return io_errf(err, ret, "set %s %s", t->name, up ? "up" : "down");
	return 0;
}

int tun_get_ifindex(struct tun *t, int *ifindex, struct io_err *err)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	ret = if_ioctl(t, SIOCGIFINDEX, &ifr);
	if (ret)
		return io_errf(err, ret, "get ifindex of %s", t->name);
	*ifindex = ifr.ifr_ifindex;
	return 0;
}

int tun_read(struct tun *t, uint8_t *buf, size_t cap, size_t *len)
{
	ssize_t r;

	do {
		r = read(t->fd, buf, cap);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	*len = (size_t)r;
	return 0;
}

int tun_write(struct tun *t, const uint8_t *p, size_t n)
{
	ssize_t r;

	do {
		r = write(t->fd, p, n);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	/* TUN takes a packet whole or not at all; a short count means a bug. */
	return (size_t)r == n ? 0 : -EIO;
}
