// SPDX-License-Identifier: GPL-2.0-only
/*
 * kill sign | inspect | verify: the admin-signed kill switch. The registry
 * only stores and forwards the file; nodes verify it against the pinned
 * admin key.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encode.h"
#include "common/parse.h"
#include "crypto/ct.h"
#include "crypto/keys.h"
#include "ctl/ctl.h"
#include "ctl/files.h"
#include "proto/kill.h"
#include "proto/netdef.h"

#define SIGN   "scopectl kill sign"
#define VERIFY "scopectl kill verify"

static int sign_args(const struct ctl_io *io, int argc, char **argv, struct proto_kill *k,
		     const char **dir, const char **out, bool *all)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },
		{ "peer", required_argument, NULL, 'p' },
		{ "identity", required_argument, NULL, 'i' },
		{ "serial", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t key[PROTO_KEY_LEN];
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			*dir = optarg;
			break;
		case 'o':
			*out = optarg;
			break;
		case 'a':
			*all = true;
			break;
		case 'p':
		case 'i':
			if (c == 'i' && ctl_parse_key(optarg, key))
				return ctl_fail(io, SIGN, "--identity: not a base64 public key");
			ret = c == 'p' ? proto_kill_add_name(k, optarg)
				       : proto_kill_add_identity(k, key);
			if (ret == -ENOSPC)
				return ctl_fail(io, SIGN, "at most %d targets",
						PROTO_KILL_MAX_TARGETS);
			if (ret)
				return ctl_fail(io, SIGN, "--peer: not a peer name: %s", optarg);
			break;
		case 's':
			if (sc_parse_u64(optarg, 1, UINT64_MAX, &k->serial))
				return ctl_fail(io, SIGN, "--serial: a positive integer expected");
			break;
		default:
			return ctl_fail(io, SIGN, "unknown option or missing value: %s",
					argv[optind - 1]);
		}
	}
	if (optind != argc)
		return ctl_fail(io, SIGN, "unexpected argument: %s", argv[optind]);
	if (!*dir || *all == (k->n_targets > 0))
		return ctl_fail(io, SIGN,
				"usage: kill sign --dir DIR (--all | (--peer NAME | "
				"--identity KEY)...) [--serial N] [--out FILE]");
	return 0;
}

static int kill_sign(const struct ctl_io *io, int argc, char **argv)
{
	struct proto_kill *k = calloc(1, sizeof(*k));
	struct proto_netdef n;
	const char *dir = NULL, *out = NULL;
	uint8_t seed[32], bin[PROTO_RECORD_MAX];
	bool all = false;
	size_t len;
	int ret = 1;

	if (!k)
		return ctl_fail(io, SIGN, "out of memory");
	if (sign_args(io, argc, argv, k, &dir, &out, &all) ||
	    ctl_load_admin(io, SIGN, dir, seed, &n))
		goto out;
	memcpy(k->network, n.name, sizeof(k->network));
	k->issued = ctl_now();
	/* By default the serial is the issue time: later switches get larger
	 * serials without keeping state next to the admin key. */
	if (!k->serial)
		k->serial = k->issued;
	k->scope = all ? PROTO_KILL_ALL : PROTO_KILL_LISTED;
	ret = proto_kill_sign(k, seed);
	cry_wipe(seed, sizeof(seed));
	if (!ret)
		ret = proto_kill_encode(k, bin, sizeof(bin), &len);
	if (ret) {
		ret = ctl_fail(io, SIGN, "%s",
			       ret == -EINVAL ? "a target is listed twice" : proto_strerror(ret));
		goto out;
	}
	ret = ctl_write_record(io, SIGN, out, bin, len, false);
out:
	free(k);
	return ret;
}

static void target_text(char *out, size_t cap, const struct proto_kill_target *t)
{
	char k[CRY_KEY_B64_LEN + 1];

	if (t->kind == PROTO_TARGET_NAME) {
		snprintf(out, cap, "%.*s", (int)t->len, (const char *)t->value);
		return;
	}
	cry_key_to_b64(k, t->value);
	snprintf(out, cap, "%s", k);
}

static json_t *kill_json(const struct proto_kill *k)
{
	json_t *o = json_object();
	char s[CRY_KEY_B64_LEN + 1], fp[2 * PROTO_FP_LEN + 1];
	size_t i;

	json_object_set_new(o, "type", json_string("kill_switch"));
	json_object_set_new(o, "network", json_string(k->network));
	json_object_set_new(o, "serial", json_integer((json_int_t)k->serial));
	json_object_set_new(o, "issued", json_integer((json_int_t)k->issued));
	if (k->scope == PROTO_KILL_ALL) {
		json_object_set_new(o, "target", json_string("all"));
	} else {
		json_t *peers = json_array(), *ids = json_array();

		for (i = 0; i < k->n_targets; i++) {
			target_text(s, sizeof(s), &k->targets[i]);
			json_array_append_new(k->targets[i].kind == PROTO_TARGET_NAME ? peers : ids,
					      json_string(s));
		}
		json_object_set_new(o, "target", json_string("listed"));
		json_object_set_new(o, "peers", peers);
		json_object_set_new(o, "identities", ids);
	}
	sc_hex_encode(fp, k->fingerprint, PROTO_FP_LEN);
	json_object_set_new(o, "fingerprint", json_string(fp));
	return o;
}

static void kill_text(FILE *f, const struct proto_kill *k)
{
	char s[CRY_KEY_B64_LEN + 1], t[32], fp[2 * PROTO_FP_LEN + 1];
	size_t i;

	fprintf(f, "network:     %s\n", k->network);
	fprintf(f, "serial:      %llu\n", (unsigned long long)k->serial);
	ctl_format_time(t, k->issued);
	fprintf(f, "issued:      %s (%llu)\n", t, (unsigned long long)k->issued);
	if (k->scope == PROTO_KILL_ALL)
		fprintf(f, "target:      all peers\n");
	for (i = 0; i < k->n_targets; i++) {
		target_text(s, sizeof(s), &k->targets[i]);
		fprintf(f, "target:      %s %s\n",
			k->targets[i].kind == PROTO_TARGET_NAME ? "peer" : "identity", s);
	}
	sc_hex_encode(fp, k->fingerprint, PROTO_FP_LEN);
	fprintf(f, "fingerprint: %s\n", fp);
}

static int load_kill(const struct ctl_io *io, const char *cmd, const char *path,
		     struct proto_kill *k)
{
	uint8_t *bin;
	size_t len;
	int ret;

	if (ctl_read_record(io, cmd, path, PROTO_T_KILL, &bin, &len))
		return 1;
	ret = proto_kill_decode(k, bin, len);
	free(bin);
	return ret ? ctl_fail(io, cmd, "%s: %s", path, proto_strerror(ret)) : 0;
}

static int kill_inspect(const struct ctl_io *io, int argc, char **argv)
{
	const char *cmd = "scopectl kill inspect", *path;
	struct proto_kill *k = calloc(1, sizeof(*k));
	int json, ret = 1;

	if (!k)
		return ctl_fail(io, cmd, "out of memory");
	if (!ctl_inspect_args(io, cmd, argc, argv, &json, &path) && !load_kill(io, cmd, path, k)) {
		ret = 0;
		if (json)
			ret = ctl_print_json(io, cmd, kill_json(k));
		else
			kill_text(io->out, k);
	}
	free(k);
	return ret;
}

static int kill_verify(const struct ctl_io *io, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "network", required_argument, NULL, 'n' },
		{ "admin-pub", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct proto_kill *k = NULL;
	struct proto_netdef n;
	const char *network = NULL;
	uint8_t pin[32];
	bool have_pin = false;
	int c, ret = 1;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n') {
			network = optarg;
		} else if (c == 'p' && !ctl_parse_key(optarg, pin)) {
			have_pin = true;
		} else {
			return ctl_fail(io, VERIFY, "unknown option or bad value: %s",
					argv[optind - 1]);
		}
	}
	if (!network || optind != argc - 1)
		return ctl_fail(io, VERIFY,
				"usage: kill verify --network FILE [--admin-pub KEY] "
				"KILL-FILE");
	k = calloc(1, sizeof(*k));
	if (!k)
		return ctl_fail(io, VERIFY, "out of memory");
	if (ctl_load_netdef(io, VERIFY, network, have_pin ? pin : NULL, &n) ||
	    load_kill(io, VERIFY, argv[optind], k))
		goto out;
	ret = proto_kill_verify(k, &n);
	if (ret) {
		ret = ctl_fail(io, VERIFY, "%s: %s", argv[optind], proto_strerror(ret));
		goto out;
	}
	if (k->scope == PROTO_KILL_ALL)
		fprintf(io->out, "%s: ok: kill switch %llu for every peer of %s\n", argv[optind],
			(unsigned long long)k->serial, k->network);
	else
		fprintf(io->out, "%s: ok: kill switch %llu for %zu listed peers of %s\n",
			argv[optind], (unsigned long long)k->serial, k->n_targets, k->network);
out:
	free(k);
	return ret;
}

int ctl_kill(const struct ctl_io *io, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "sign") == 0)
		return kill_sign(io, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "inspect") == 0)
		return kill_inspect(io, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return kill_verify(io, argc - 1, argv + 1);
	return ctl_fail(io, "scopectl kill", "expected: kill sign | inspect | verify");
}
