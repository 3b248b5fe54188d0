// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* mkostemp */
#include "ctl/files.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/parse.h"
#include "crypto/ct.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "proto/armor.h"
#include "proto/netdef.h"
#include "proto/record.h"

int ctl_fail(const struct ctl_io *io, const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(io->err, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(io->err, fmt, ap);
	va_end(ap);
	fputc('\n', io->err);
	return 1;
}

uint64_t ctl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec < 0 ? 0 : (uint64_t)ts.tv_sec;
}

static int read_fd(int fd, size_t max, uint8_t **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap + 1), *nb;
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int ctl_read_file(const struct ctl_io *io, const char *path, size_t max, uint8_t **out, size_t *len)
{
	int fd, ret;

	if (strcmp(path, "-") == 0)
		return read_fd(fileno(io->in), max, out, len);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read_fd(fd, max, out, len);
	close(fd);
	return ret;
}

int ctl_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int ctl_write_file(const char *path, const void *data, size_t len, mode_t mode, bool replace)
{
	char tmp[4096];
	const char *slash = strrchr(path, '/');
	int fd, ret;

	/* The temporary file sits next to the target, so link/rename stay
	 * within one file system. */
	if (slash)
		ret = snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(slash - path), path,
			       slash + 1);
	else
		ret = snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", path);
	if (ret < 0 || (size_t)ret >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (!replace && access(path, F_OK) == 0)
		return -EEXIST;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fchmod(fd, mode) ? -errno : 0;
	if (!ret)
		ret = write_all(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	/* link() fails with EEXIST rather than replacing: no race with a file
	 * created since the check above. */
	if (!ret && (replace ? rename(tmp, path) : link(tmp, path)))
		ret = -errno;
	if (ret || !replace)
		unlink(tmp);
	return ret;
}

int ctl_parse_key(const char *s, uint8_t key[32])
{
	return cry_key_from_b64(key, s);
}

int ctl_read_seed(const char *path, uint8_t seed[32])
{
	char line[CRY_KEY_B64_LEN + 2];
	struct stat st;
	ssize_t n;
	int fd, ret = -EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if (st.st_mode & 077) {
		ret = -EPERM;
		goto out;
	}
	n = read(fd, line, sizeof(line));
	if (n == CRY_KEY_B64_LEN + 1 && line[CRY_KEY_B64_LEN] == '\n')
		n--;
	if (n == CRY_KEY_B64_LEN) {
		line[n] = '\0';
		ret = cry_key_from_b64(seed, line);
	}
out:
	cry_wipe(line, sizeof(line));
	close(fd);
	return ret;
}

int ctl_parse_time(const char *s, uint64_t *out)
{
	/* Up to the year 9999: far enough, and no overflow adding durations. */
	return sc_parse_u64(s, 0, 253402300799ull, out) ? -EINVAL : 0;
}

int ctl_read_record(const struct ctl_io *io, const char *cmd, const char *path, uint8_t type,
		    uint8_t **bin, size_t *len)
{
	uint8_t *text, *buf;
	size_t tlen, cap;
	uint8_t got;
	int ret;

	ret = ctl_read_file(io, path, PROTO_ARMOR_MAX, &text, &tlen);
	if (ret)
		return ctl_fail(io, cmd, "%s: %s", path,
				ret == -EFBIG ? "file too large" : strerror(-ret));
	cap = tlen; /* base64 is longer than what it encodes */
	buf = malloc(cap ? cap : 1);
	if (!buf) {
		free(text);
		return ctl_fail(io, cmd, "out of memory");
	}
	ret = proto_armor_decode(buf, cap, len, &got, (const char *)text, tlen);
	free(text);
	if (ret) {
		free(buf);
		return ctl_fail(io, cmd, "%s: not a Scope record file (expected %s armor)", path,
				proto_armor_label(type));
	}
	if (got != type) {
		free(buf);
		return ctl_fail(io, cmd, "%s: is a %s, expected a %s", path, proto_armor_label(got),
				proto_armor_label(type));
	}
	*bin = buf;
	return 0;
}

int ctl_write_record(const struct ctl_io *io, const char *cmd, const char *path, const uint8_t *bin,
		     size_t len, bool replace)
{
	size_t cap = proto_armor_len(bin[5], len);
	char *text = malloc(cap);
	int ret;

	if (!text)
		return ctl_fail(io, cmd, "out of memory");
	ret = proto_armor_encode(text, cap, bin, len);
	if (!ret && !path) {
		fputs(text, io->out);
	} else if (!ret) {
		ret = ctl_write_file(path, text, strlen(text), 0644, replace);
		if (ret == -EEXIST) {
			free(text);
			return ctl_fail(io, cmd, "%s: already exists, not overwriting", path);
		}
	}
	free(text);
	if (ret)
		return ctl_fail(io, cmd, "%s: %s", path ? path : "output", strerror(-ret));
	return 0;
}

int ctl_load_netdef(const struct ctl_io *io, const char *cmd, const char *path, const uint8_t *pin,
		    struct proto_netdef *n)
{
	uint8_t *bin;
	size_t len;
	int ret;

	if (ctl_read_record(io, cmd, path, PROTO_T_NETDEF, &bin, &len))
		return 1;
	ret = proto_netdef_decode(n, bin, len);
	free(bin);
	if (!ret)
		ret = proto_netdef_verify(n, pin);
	if (ret)
		return ctl_fail(io, cmd, "%s: network definition: %s", path, proto_strerror(ret));
	return 0;
}

int ctl_load_admin(const struct ctl_io *io, const char *cmd, const char *dir, uint8_t seed[32],
		   struct proto_netdef *n)
{
	char kpath[4096], npath[4096];
	uint8_t s[32], pub[32];
	int ret;

	if (ctl_path(kpath, sizeof(kpath), dir, CTL_ADMIN_KEY) ||
	    ctl_path(npath, sizeof(npath), dir, CTL_NETWORK))
		return ctl_fail(io, cmd, "%s: path too long", dir);
	if (ctl_load_netdef(io, cmd, npath, NULL, n))
		return 1;
	ret = ctl_read_seed(kpath, s);
	if (ret == -EPERM)
		return ctl_fail(io, cmd, "%s: readable by group or others; chmod 600 it", kpath);
	if (ret)
		return ctl_fail(io, cmd, "%s: %s", kpath,
				ret == -EINVAL ? "not a private key (44 base64 characters)"
					       : strerror(-ret));
	ret = cry_ed25519_pubkey(pub, s);
	if (ret || !cry_memeq(pub, n->admin, sizeof(pub))) {
		cry_wipe(s, sizeof(s));
		return ctl_fail(io, cmd, "%s is not the admin key of %s", kpath, npath);
	}
	memcpy(seed, s, sizeof(s));
	cry_wipe(s, sizeof(s));
	return 0;
}

void ctl_format_time(char out[32], uint64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t > 253402300799ull || !gmtime_r(&tt, &tm) ||
	    !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "(year > 9999)");
}

int ctl_print_json(const struct ctl_io *io, const char *cmd, void *json)
{
	char *s = json ? json_dumps(json, JSON_INDENT(2)) : NULL;

	json_decref(json);
	if (!s)
		return ctl_fail(io, cmd, "out of memory");
	fprintf(io->out, "%s\n", s);
	free(s);
	return 0;
}
