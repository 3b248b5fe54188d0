// SPDX-License-Identifier: GPL-2.0-only
#include "agent/pskstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/encode.h"
#include "common/parse.h"
#include "crypto/ct.h"
#include "proto/addr.h"

#define HEADER	 "scope-psk 1"
#define LINE_MAX 128 /* the longest line, a psk line, is 4 + 2 x 21 + 45 */
#define B64_KEY	 SC_B64_LEN(32)

int kexd_store_open(const char *state_dir, int *dfd)
{
	struct stat st;
	int top, fd;

	if (mkdir(state_dir, 0700) && errno != EEXIST)
		return -errno;
	top = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return -errno;
	if (mkdirat(top, KEXD_STORE_DIR, 0700) && errno != EEXIST) {
		int err = -errno;

		close(top);
		return err;
	}
	fd = openat(top, KEXD_STORE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(top);
	if (fd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	/* The directory holds secrets: ours, and nobody else may enter it. */
	if (fstat(fd, &st) || st.st_uid != geteuid() || ((st.st_mode & 077) && fchmod(fd, 0700))) {
		close(fd);
		return -EPERM;
	}
	*dfd = fd;
	return 0;
}

/* The rules a file obeys, also checked before one is written. */
static bool file_valid(const struct kexd_store_file *f)
{
	bool working_kept = f->working == 0;
	size_t i;

	if (f->n > POL_PSK_KEEP_MAX || f->confirmed > f->max_v)
		return false;
	for (i = 0; i < f->n; i++) {
		const struct kexd_store_psk *p = &f->psk[i];

		if (!p->version || (i && p->version <= f->psk[i - 1].version) ||
		    cry_is_zero(p->key, sizeof(p->key)))
			return false;
		if (p->version == f->working)
			working_kept = true;
	}
	return working_kept && (!f->n || f->psk[f->n - 1].version <= f->confirmed);
}

int kexd_store_format(const struct kexd_store_file *f, char *out, size_t cap, size_t *len)
{
	char b64[B64_KEY + 1];
	size_t o = 0, i;
	int r;

	if (!file_valid(f))
		return -EINVAL;
	sc_b64_encode(b64, f->wg, PROTO_KEY_LEN);
	r = snprintf(out, cap, HEADER "\npeer %s\nmax %llu\nconfirmed %llu\nworking %llu\n", b64,
		     (unsigned long long)f->max_v, (unsigned long long)f->confirmed,
		     (unsigned long long)f->working);
	if (r < 0 || (size_t)r >= cap)
		return -ENOBUFS;
	o = (size_t)r;
	for (i = 0; i < f->n; i++) {
		sc_b64_encode(b64, f->psk[i].key, PROTO_KEX_PSK_LEN);
		r = snprintf(out + o, cap - o, "psk %llu %llu %s\n",
			     (unsigned long long)f->psk[i].version,
			     (unsigned long long)f->psk[i].installed_ns, b64);
		if (r < 0 || (size_t)r >= cap - o) {
			cry_wipe(b64, sizeof(b64));
			cry_wipe(out, cap);
			return -ENOBUFS;
		}
		o += (size_t)r;
	}
	cry_wipe(b64, sizeof(b64));
	*len = o;
	return 0;
}

/* Split line (NUL-terminated, no newline) into exactly n space-separated,
 * non-empty words. */
static bool words(char *line, char **w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *sp = strchr(line, ' ');

		if (!*line || sp == line)
			return false;
		w[i] = line;
		if (i + 1 == n)
			return !sp;
		if (!sp)
			return false;
		*sp = '\0';
		line = sp + 1;
	}
	return false;
}

/* Decimal, no sign, no leading zeros (sc_parse_u64): one text per number. */
static bool num(const char *s, uint64_t *out)
{
	return sc_parse_u64(s, 0, UINT64_MAX, out) == 0;
}

/* One line of the file into f; idx counts lines. */
static int parse_line(char *line, size_t idx, struct kexd_store_file *f)
{
	static const char *const keys[] = { "peer", "max", "confirmed", "working" };
	uint64_t *nums[] = { NULL, &f->max_v, &f->confirmed, &f->working };
	struct kexd_store_psk *p;
	char *w[4];

	if (idx == 0)
		return strcmp(line, HEADER) == 0 ? 0 : -EINVAL;
	if (idx <= 4) {
		if (!words(line, w, 2) || strcmp(w[0], keys[idx - 1]) != 0)
			return -EINVAL;
		if (idx == 1)
			return sc_b64_decode(f->wg, PROTO_KEY_LEN, w[1], strlen(w[1]));
		return num(w[1], nums[idx - 1]) ? 0 : -EINVAL;
	}
	if (f->n == POL_PSK_KEEP_MAX || !words(line, w, 4) || strcmp(w[0], "psk") != 0)
		return -EINVAL;
	p = &f->psk[f->n];
	if (!num(w[1], &p->version) || !num(w[2], &p->installed_ns) ||
	    sc_b64_decode(p->key, PROTO_KEX_PSK_LEN, w[3], strlen(w[3])))
		return -EINVAL;
	f->n++;
	return 0;
}

int kexd_store_parse(const char *in, size_t len, struct kexd_store_file *out)
{
	struct kexd_store_file f;
	char line[LINE_MAX];
	size_t o = 0, idx = 0;
	int ret = 0;

	memset(&f, 0, sizeof(f));
	while (!ret && o < len) {
		const char *nl = memchr(in + o, '\n', len - o);
		size_t n = nl ? (size_t)(nl - (in + o)) : 0;

		/* Every line ends in a newline; no NUL inside one. */
		if (!nl || n >= sizeof(line) || memchr(in + o, '\0', n)) {
			ret = -EINVAL;
			break;
		}
		memcpy(line, in + o, n);
		line[n] = '\0';
		ret = parse_line(line, idx++, &f);
		o += n + 1;
	}
	if (!ret && (idx < 5 || !file_valid(&f)))
		ret = -EINVAL;
	if (!ret)
		*out = f;
	cry_wipe(line, sizeof(line));
	cry_wipe(&f, sizeof(f));
	return ret;
}

int kexd_store_load(int dfd, const char *name, struct kexd_store_file *out)
{
	char buf[KEXD_STORE_FILE_MAX + 1];
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd, err = 0;

	if (!proto_peer_name_valid(name, strlen(name)))
		return -EINVAL;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	else if (st.st_size > KEXD_STORE_FILE_MAX)
		err = -EFBIG;
	/* One byte more than the cap can hold: a file growing meanwhile is
	 * refused rather than cut. */
	while (!err && n < sizeof(buf)) {
		r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = -errno;
		else if (r == 0)
			break;
		else
			n += (size_t)r;
	}
	close(fd);
	if (!err && n > KEXD_STORE_FILE_MAX)
		err = -EFBIG;
	if (!err)
		err = kexd_store_parse(buf, n, out);
	cry_wipe(buf, sizeof(buf));
	return err;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int kexd_store_save(int dfd, const char *name, const struct kexd_store_file *f)
{
	char buf[KEXD_STORE_FILE_MAX], tmp[PROTO_PEER_NAME_MAX + 8];
	size_t len;
	int fd, err;

	if (!proto_peer_name_valid(name, strlen(name)))
		return -EINVAL;
	/* Peer names never start with a dot: the temporary name is nobody's. */
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	err = kexd_store_format(f, buf, sizeof(buf), &len);
	if (err)
		return err;
	unlinkat(dfd, tmp, 0); /* a leftover of a crash */
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	err = write_all(fd, buf, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(dfd, tmp, dfd, name))
		err = -errno;
	if (!err && fsync(dfd))
		err = -errno;
	if (err)
		unlinkat(dfd, tmp, 0);
out:
	cry_wipe(buf, sizeof(buf));
	return err;
}
