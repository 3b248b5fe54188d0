// SPDX-License-Identifier: GPL-2.0-only
/*
 * revoke add | inspect: the network's signed revocation list, kept as
 * DIR/revoked.scope next to the admin key. Each add signs a new list with
 * the next serial, so nodes can refuse an older one.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/encode.h"
#include "crypto/ct.h"
#include "crypto/keys.h"
#include "ctl/ctl.h"
#include "ctl/files.h"
#include "proto/cert.h"
#include "proto/netdef.h"
#include "proto/revoke.h"

#define ADD "scopectl revoke add"

struct entry {
	uint8_t kind;
	uint8_t key[PROTO_KEY_LEN];
	const char *what; /* as given, for messages */
};

static int load_cert_fp(const struct ctl_io *io, const char *path, const char *network,
			uint8_t fp[PROTO_FP_LEN])
{
	struct proto_cert c;
	uint8_t *bin;
	size_t len;
	int ret;

	if (ctl_read_record(io, ADD, path, PROTO_T_CERT, &bin, &len))
		return 1;
	ret = proto_cert_decode(&c, bin, len);
	free(bin);
	if (ret)
		return ctl_fail(io, ADD, "%s: %s", path, proto_strerror(ret));
	if (strcmp(c.network, network) != 0)
		return ctl_fail(io, ADD, "%s: a certificate of network %s, not %s", path, c.network,
				network);
	memcpy(fp, c.fingerprint, PROTO_FP_LEN);
	return 0;
}

/* Collect the entries; certificate files are read after the network is known. */
static int add_args(const struct ctl_io *io, int argc, char **argv, const char **dir,
		    struct entry *e, size_t *n, const char **certs, size_t *nc)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "cert", required_argument, NULL, 'c' },
		{ "fingerprint", required_argument, NULL, 'f' },
		{ "identity", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			*dir = optarg;
			break;
		case 'c':
			certs[(*nc)++] = optarg;
			break;
		case 'f':
			e[*n].kind = PROTO_REVOKE_CERT;
			if (strlen(optarg) != 2 * PROTO_FP_LEN ||
			    sc_hex_decode(e[*n].key, PROTO_FP_LEN, optarg, strlen(optarg)))
				return ctl_fail(io, ADD,
						"--fingerprint: %d hex characters expected "
						"(scopectl cert inspect shows it)",
						2 * PROTO_FP_LEN);
			e[(*n)++].what = optarg;
			break;
		case 'i':
			e[*n].kind = PROTO_REVOKE_IDENTITY;
			if (ctl_parse_key(optarg, e[*n].key))
				return ctl_fail(io, ADD, "--identity: not a base64 public key");
			e[(*n)++].what = optarg;
			break;
		default:
			return ctl_fail(io, ADD, "unknown option or missing value: %s",
					argv[optind - 1]);
		}
	}
	if (optind != argc)
		return ctl_fail(io, ADD, "unexpected argument: %s", argv[optind]);
	if (!*dir || !(*n + *nc))
		return ctl_fail(io, ADD,
				"usage: revoke add --dir DIR (--cert FILE | --fingerprint "
				"HEX | --identity KEY)...");
	return 0;
}

/* The list to add to: the next after DIR/revoked.scope, or a first one. */
static int start_list(const struct ctl_io *io, const char *path, const struct proto_netdef *n,
		      struct proto_revoke **out)
{
	struct proto_revoke *cur;
	int ret;

	if (access(path, F_OK) != 0)
		ret = proto_revoke_new(out, n->name, 1, ctl_now());
	else if (ctl_load_revoke(io, ADD, path, n, &cur))
		return 1;
	else {
		ret = proto_revoke_next(out, cur, ctl_now());
		proto_revoke_free(cur);
	}
	return ret ? ctl_fail(io, ADD, "%s", strerror(-ret)) : 0;
}

static int revoke_add(const struct ctl_io *io, int argc, char **argv)
{
	struct entry *e = calloc((size_t)argc, sizeof(*e));
	const char **certs = calloc((size_t)argc, sizeof(*certs)), *dir = NULL;
	struct proto_revoke *rl = NULL;
	struct proto_netdef n;
	uint8_t seed[32], *bin = NULL;
	char path[4096];
	size_t ne = 0, nc = 0, i, added = 0, len;
	int ret = 1;

	if (!e || !certs) {
		ret = ctl_fail(io, ADD, "out of memory");
		goto out;
	}
	if (add_args(io, argc, argv, &dir, e, &ne, certs, &nc) ||
	    ctl_load_admin(io, ADD, dir, seed, &n))
		goto out;
	for (i = 0; i < nc; i++, ne++) {
		e[ne].kind = PROTO_REVOKE_CERT;
		e[ne].what = certs[i];
		if (load_cert_fp(io, certs[i], n.name, e[ne].key))
			goto wipe;
	}
	if (ctl_path(path, sizeof(path), dir, CTL_REVOKED)) {
		ctl_fail(io, ADD, "%s: path too long", dir);
		goto wipe;
	}
	if (start_list(io, path, &n, &rl))
		goto wipe;
	for (i = 0; i < ne; i++) {
		int r = proto_revoke_add(rl, e[i].kind, e[i].key);

		if (r == -EEXIST)
			fprintf(io->err, "%s: %s: already revoked\n", ADD, e[i].what);
		else if (r) {
			ctl_fail(io, ADD, "%s: %s", e[i].what,
				 r == -ENOSPC ? "the list is full" : strerror(-r));
			goto wipe;
		} else
			added++;
	}
	if (!added) {
		ctl_fail(io, ADD, "nothing new to revoke; %s left unchanged", path);
		goto wipe;
	}
	len = proto_revoke_encoded_len(rl);
	bin = malloc(len);
	if (!bin || proto_revoke_sign(rl, seed) || proto_revoke_encode(rl, bin, len, &len)) {
		ctl_fail(io, ADD, "cannot sign the revocation list");
		goto wipe;
	}
	if (ctl_write_record(io, ADD, path, bin, len, true))
		goto wipe;
	fprintf(io->out, "%s: serial %llu, %zu entries (%zu new)\n", path,
		(unsigned long long)proto_revoke_serial(rl), proto_revoke_count(rl), added);
	ret = 0;
wipe:
	cry_wipe(seed, sizeof(seed));
out:
	free(bin);
	proto_revoke_free(rl);
	free(certs);
	free(e);
	return ret;
}

static json_t *revoke_json(const struct proto_revoke *rl)
{
	json_t *o = json_object(), *entries = json_array();
	char fp[2 * PROTO_FP_LEN + 1], k[CRY_KEY_B64_LEN + 1];
	uint8_t kind, key[PROTO_KEY_LEN];
	size_t i;

	json_object_set_new(o, "type", json_string("revocation_list"));
	json_object_set_new(o, "network", json_string(proto_revoke_network(rl)));
	json_object_set_new(o, "serial", json_integer((json_int_t)proto_revoke_serial(rl)));
	json_object_set_new(o, "issued", json_integer((json_int_t)proto_revoke_issued(rl)));
	for (i = 0; i < proto_revoke_count(rl); i++) {
		json_t *e = json_object();

		proto_revoke_entry(rl, i, &kind, key);
		if (kind == PROTO_REVOKE_CERT) {
			sc_hex_encode(fp, key, PROTO_FP_LEN);
			json_object_set_new(e, "certificate", json_string(fp));
		} else {
			cry_key_to_b64(k, key);
			json_object_set_new(e, "identity", json_string(k));
		}
		json_array_append_new(entries, e);
	}
	json_object_set_new(o, "entries", entries);
	sc_hex_encode(fp, proto_revoke_fingerprint(rl), PROTO_FP_LEN);
	json_object_set_new(o, "fingerprint", json_string(fp));
	return o;
}

static void revoke_text(FILE *f, const struct proto_revoke *rl)
{
	char fp[2 * PROTO_FP_LEN + 1], k[CRY_KEY_B64_LEN + 1], t[32];
	uint8_t kind, key[PROTO_KEY_LEN];
	size_t i;

	fprintf(f, "network:     %s\n", proto_revoke_network(rl));
	fprintf(f, "serial:      %llu\n", (unsigned long long)proto_revoke_serial(rl));
	ctl_format_time(t, proto_revoke_issued(rl));
	fprintf(f, "issued:      %s (%llu)\n", t, (unsigned long long)proto_revoke_issued(rl));
	for (i = 0; i < proto_revoke_count(rl); i++) {
		proto_revoke_entry(rl, i, &kind, key);
		if (kind == PROTO_REVOKE_CERT) {
			sc_hex_encode(fp, key, PROTO_FP_LEN);
			fprintf(f, "certificate: %s\n", fp);
		} else {
			cry_key_to_b64(k, key);
			fprintf(f, "identity:    %s\n", k);
		}
	}
	fprintf(f, "signature:   not checked (use scopectl cert verify --revoked)\n");
}

static int revoke_inspect(const struct ctl_io *io, int argc, char **argv)
{
	const char *cmd = "scopectl revoke inspect", *path;
	struct proto_revoke *rl;
	uint8_t *bin;
	size_t len;
	int json, ret;

	if (ctl_inspect_args(io, cmd, argc, argv, &json, &path) ||
	    ctl_read_record(io, cmd, path, PROTO_T_REVOKE, &bin, &len))
		return 1;
	ret = proto_revoke_decode(&rl, bin, len);
	free(bin);
	if (ret)
		return ctl_fail(io, cmd, "%s: %s", path, proto_strerror(ret));
	if (json)
		ret = ctl_print_json(io, cmd, revoke_json(rl));
	else
		revoke_text(io->out, rl);
	proto_revoke_free(rl);
	return ret;
}

int ctl_revoke(const struct ctl_io *io, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return revoke_add(io, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "inspect") == 0)
		return revoke_inspect(io, argc - 1, argv + 1);
	return ctl_fail(io, "scopectl revoke", "expected: revoke add | inspect");
}
