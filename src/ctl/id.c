// SPDX-License-Identifier: GPL-2.0-only
/*
 * genid, idpub: a node's identity key (Ed25519), in the same text form as
 * WireGuard keys (44 base64 characters), so `scopectl genid > id.key` and
 * `scopectl idpub < id.key` work like wg genkey and wg pubkey.
 */
#include <string.h>

#include "crypto/ct.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "ctl/ctl.h"
#include "ctl/files.h"

int ctl_genid(const struct ctl_io *io, int argc, char **argv)
{
	uint8_t seed[32], pub[32];
	char b64[CRY_KEY_B64_LEN + 1];

	if (argc > 1)
		return ctl_fail(io, "scopectl genid", "takes no arguments");
	if (cry_ed25519_genkey(seed, pub))
		return ctl_fail(io, "scopectl genid", "random bytes unavailable");
	cry_key_to_b64(b64, seed);
	fprintf(io->out, "%s\n", b64);
	cry_wipe(seed, sizeof(seed));
	cry_wipe(b64, sizeof(b64));
	return 0;
}

int ctl_idpub(const struct ctl_io *io, int argc, char **argv)
{
	char line[CRY_KEY_B64_LEN + 3];
	uint8_t seed[32], pub[32];
	size_t n;
	int ret = -1;

	if (argc > 1)
		return ctl_fail(io, "scopectl idpub", "takes no arguments");
	if (fgets(line, sizeof(line), io->in)) {
		n = strlen(line);
		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == CRY_KEY_B64_LEN && fgetc(io->in) == EOF)
			ret = cry_key_from_b64(seed, line);
	}
	cry_wipe(line, sizeof(line));
	if (ret)
		return ctl_fail(
			io, "scopectl idpub",
			"expected one base64 identity private key (44 characters) on stdin");
	ret = cry_ed25519_pubkey(pub, seed);
	cry_wipe(seed, sizeof(seed));
	if (ret)
		return ctl_fail(io, "scopectl idpub", "cannot derive the public key");
	cry_key_to_b64(line, pub);
	fprintf(io->out, "%s\n", line);
	return 0;
}
