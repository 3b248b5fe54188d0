// SPDX-License-Identifier: GPL-2.0-only
/*
 * genkey, pubkey, genpsk: the same input and output as wg(8), so keys move
 * freely between Scope and wireguard-tools.
 */
#include <errno.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/keys.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "ctl/ctl.h"

static int no_args(const struct ctl_io *io, int argc, char **argv)
{
	if (argc > 1) {
		fprintf(io->err, "%s: takes no arguments\n", argv[0]);
		return 1;
	}
	return 0;
}

/* Print a fresh 32-byte secret; clamp it when it is an X25519 private key. */
static int print_secret(const struct ctl_io *io, const char *what, int clamp)
{
	uint8_t key[CRY_KEY_LEN];
	char b64[CRY_KEY_B64_LEN + 1];
	int ret = cry_random(key, sizeof(key));

	if (ret) {
		fprintf(io->err, "%s: random bytes unavailable: %s\n", what, strerror(-ret));
		return 1;
	}
	if (clamp)
		cry_x25519_clamp(key);
	cry_key_to_b64(b64, key);
	fprintf(io->out, "%s\n", b64);
	cry_wipe(key, sizeof(key));
	cry_wipe(b64, sizeof(b64));
	return 0;
}

int ctl_genkey(const struct ctl_io *io, int argc, char **argv)
{
	return no_args(io, argc, argv) ?: print_secret(io, argv[0], 1);
}

int ctl_genpsk(const struct ctl_io *io, int argc, char **argv)
{
	return no_args(io, argc, argv) ?: print_secret(io, argv[0], 0);
}

/* Read one key line: 44 base64 chars, optionally followed by a newline, like
 * wg pubkey. Anything else is refused. */
static int read_key(FILE *in, uint8_t key[CRY_KEY_LEN])
{
	char line[CRY_KEY_B64_LEN + 3];
	size_t n;
	int ret;

	if (!fgets(line, sizeof(line), in))
		return -EINVAL;
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[--n] = '\0';
	ret = (n == CRY_KEY_B64_LEN && fgetc(in) == EOF) ? cry_key_from_b64(key, line) : -EINVAL;
	cry_wipe(line, sizeof(line));
	return ret;
}

int ctl_pubkey(const struct ctl_io *io, int argc, char **argv)
{
	uint8_t priv[CRY_KEY_LEN], pub[CRY_KEY_LEN];
	char b64[CRY_KEY_B64_LEN + 1];
	int ret;

	if (no_args(io, argc, argv))
		return 1;
	if (read_key(io->in, priv)) {
		fprintf(io->err, "%s: expected one base64 private key (44 characters) on stdin\n",
			argv[0]);
		return 1;
	}
	ret = cry_x25519_pubkey(pub, priv);
	cry_wipe(priv, sizeof(priv));
	if (ret) {
		fprintf(io->err, "%s: cannot derive the public key\n", argv[0]);
		return 1;
	}
	cry_key_to_b64(b64, pub);
	fprintf(io->out, "%s\n", b64);
	return 0;
}
