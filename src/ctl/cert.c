// SPDX-License-Identifier: GPL-2.0-only
/*
 * cert issue | inspect | verify: peer certificates, issued offline from the
 * admin key and the network definition (like nebula-cert sign).
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
#include "crypto/rand.h"
#include "ctl/ctl.h"
#include "ctl/files.h"
#include "proto/cert.h"
#include "proto/netdef.h"
#include "proto/revoke.h"

#define ISSUE  "scopectl cert issue"
#define VERIFY "scopectl cert verify"

#define DAY	     86400ull
#define DEFAULT_DAYS 365
#define SERIAL_MAX   ((1ull << 53) - 1) /* exact in JSON numbers everywhere */

struct issue_args {
	const char *dir, *out;
	uint64_t not_before, not_after, days;
	bool have_nb, have_na, have_days, have_serial;
	unsigned int seen;
};

static int issue_opt(const struct ctl_io *io, int c, const char *arg, struct proto_cert *crt,
		     struct issue_args *a)
{
	switch (c) {
	case 'd':
		a->dir = arg;
		return 0;
	case 'o':
		a->out = arg;
		return 0;
	case 'n':
		if (!proto_peer_name_valid(arg, strlen(arg)))
			return ctl_fail(
				io, ISSUE,
				"--name: 1 to %d characters of a-z 0-9 _ -, starting with a "
				"letter or digit",
				PROTO_PEER_NAME_MAX);
		snprintf(crt->name, sizeof(crt->name), "%s", arg);
		a->seen |= 1;
		return 0;
	case 'i':
	case 'w':
		if (ctl_parse_key(arg, c == 'i' ? crt->identity : crt->wgkey))
			return ctl_fail(io, ISSUE, "--%s: not a base64 public key (44 characters)",
					c == 'i' ? "identity" : "wg");
		a->seen |= c == 'i' ? 2 : 4;
		return 0;
	case '4':
	case '6':
		if (proto_addr_parse(arg, c == '4' ? 4 : 6, c == '4' ? crt->addr4 : crt->addr6))
			return ctl_fail(io, ISSUE, "--ipv%c: not an IPv%c address: %s", c, c, arg);
		a->seen |= c == '4' ? 8 : 16;
		return 0;
	case 'r':
		if (proto_roles_parse(arg, &crt->roles))
			return ctl_fail(io, ISSUE,
					"--roles: a comma-separated list of edge, relay, "
					"master");
		return 0;
	case 's':
		if (crt->n_subnets == PROTO_CERT_MAX_SUBNETS)
			return ctl_fail(io, ISSUE, "at most %d subnets", PROTO_CERT_MAX_SUBNETS);
		if (proto_prefix_parse(arg, &crt->subnets[crt->n_subnets]))
			return ctl_fail(io, ISSUE, "--subnet: not a prefix with zero host bits: %s",
					arg);
		crt->n_subnets++;
		return 0;
	case 'b':
		a->have_nb = true;
		return ctl_parse_time(arg, &a->not_before)
			       ? ctl_fail(io, ISSUE, "--not-before: Unix seconds expected")
			       : 0;
	case 'a':
		a->have_na = true;
		return ctl_parse_time(arg, &a->not_after)
			       ? ctl_fail(io, ISSUE, "--not-after: Unix seconds expected")
			       : 0;
	case 'D':
		a->have_days = true;
		return sc_parse_u64(arg, 1, 100 * 366, &a->days)
			       ? ctl_fail(io, ISSUE, "--days: 1 to 36600 expected")
			       : 0;
	case 'S':
		a->have_serial = true;
		return sc_parse_u64(arg, 1, SERIAL_MAX, &crt->serial)
			       ? ctl_fail(io, ISSUE, "--serial: 1 to %llu expected",
					  (unsigned long long)SERIAL_MAX)
			       : 0;
	default:
		return ctl_fail(io, ISSUE, "unknown option or missing value: %s", arg ? arg : "?");
	}
}

static int issue_args(const struct ctl_io *io, int argc, char **argv, struct proto_cert *crt,
		      struct issue_args *a)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ "identity", required_argument, NULL, 'i' },
		{ "wg", required_argument, NULL, 'w' },
		{ "ipv4", required_argument, NULL, '4' },
		{ "ipv6", required_argument, NULL, '6' },
		{ "roles", required_argument, NULL, 'r' },
		{ "subnet", required_argument, NULL, 's' },
		{ "not-before", required_argument, NULL, 'b' },
		{ "not-after", required_argument, NULL, 'a' },
		{ "days", required_argument, NULL, 'D' },
		{ "serial", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (issue_opt(io, c, c == '?' ? argv[optind - 1] : optarg, crt, a))
			return 1;
	if (optind != argc)
		return ctl_fail(io, ISSUE, "unexpected argument: %s", argv[optind]);
	if (!a->dir || a->seen != 31)
		return ctl_fail(io, ISSUE,
				"--dir, --name, --identity, --wg, --ipv4 and --ipv6 are required");
	if (a->have_na && a->have_days)
		return ctl_fail(io, ISSUE, "give --not-after or --days, not both");
	return 0;
}

/* Fill in the defaults: now, a year, a random serial. */
static int issue_defaults(const struct ctl_io *io, struct proto_cert *crt, struct issue_args *a)
{
	crt->not_before = a->have_nb ? a->not_before : ctl_now();
	if (a->have_na)
		crt->not_after = a->not_after;
	else
		crt->not_after = crt->not_before + (a->have_days ? a->days : DEFAULT_DAYS) * DAY;
	if (crt->not_after <= crt->not_before)
		return ctl_fail(io, ISSUE,
				"the validity window is empty (not-after <= not-before)");
	while (!a->have_serial && !crt->serial) {
		uint64_t r;

		if (cry_random(&r, sizeof(r)))
			return ctl_fail(io, ISSUE, "random bytes unavailable");
		crt->serial = r & SERIAL_MAX;
	}
	return 0;
}

static int cert_issue(const struct ctl_io *io, int argc, char **argv)
{
	struct proto_cert crt;
	struct proto_netdef n;
	struct issue_args a = { 0 };
	uint8_t seed[32], bin[PROTO_RECORD_MAX];
	size_t len;
	int ret;

	memset(&crt, 0, sizeof(crt));
	crt.roles = PROTO_ROLE_EDGE;
	if (issue_args(io, argc, argv, &crt, &a) || issue_defaults(io, &crt, &a) ||
	    ctl_load_admin(io, ISSUE, a.dir, seed, &n))
		return 1;
	memcpy(crt.network, n.name, sizeof(crt.network));
	ret = proto_cert_sign(&crt, seed);
	cry_wipe(seed, sizeof(seed));
	if (ret)
		return ctl_fail(io, ISSUE, "invalid certificate fields (duplicate subnets?)");
	/* Refuse what nodes would refuse: checked as of the first valid second. */
	ret = proto_cert_verify(&crt, &n, NULL, crt.not_before);
	if (ret)
		return ctl_fail(io, ISSUE, "%s",
				ret == PROTO_ERR_ADDR ? "--ipv4/--ipv6 must be host addresses "
							"inside the network's prefixes"
						      : proto_strerror(ret));
	ret = proto_cert_encode(&crt, bin, sizeof(bin), &len);
	if (ret)
		return ctl_fail(io, ISSUE, "%s", proto_strerror(ret));
	return ctl_write_record(io, ISSUE, a.out, bin, len, false);
}

static json_t *cert_json(const struct proto_cert *c)
{
	json_t *o = json_object(), *subnets = json_array(), *roles = json_array();
	char s[PROTO_PREFIX_STRLEN], k[CRY_KEY_B64_LEN + 1], fp[2 * PROTO_FP_LEN + 1];
	static const char *const names[] = { "edge", "relay", "master" };
	size_t i;

	json_object_set_new(o, "type", json_string("certificate"));
	json_object_set_new(o, "network", json_string(c->network));
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "serial", json_integer((json_int_t)c->serial));
	cry_key_to_b64(k, c->identity);
	json_object_set_new(o, "identity", json_string(k));
	cry_key_to_b64(k, c->wgkey);
	json_object_set_new(o, "wg_key", json_string(k));
	for (i = 0; i < 3; i++)
		if (c->roles & (1u << i))
			json_array_append_new(roles, json_string(names[i]));
	json_object_set_new(o, "roles", roles);
	json_object_set_new(o, "not_before", json_integer((json_int_t)c->not_before));
	json_object_set_new(o, "not_after", json_integer((json_int_t)c->not_after));
	proto_addr_format(s, 4, c->addr4);
	json_object_set_new(o, "ipv4", json_string(s));
	proto_addr_format(s, 6, c->addr6);
	json_object_set_new(o, "ipv6", json_string(s));
	for (i = 0; i < c->n_subnets; i++) {
		proto_prefix_format(s, &c->subnets[i]);
		json_array_append_new(subnets, json_string(s));
	}
	json_object_set_new(o, "subnets", subnets);
	sc_hex_encode(fp, c->fingerprint, PROTO_FP_LEN);
	json_object_set_new(o, "fingerprint", json_string(fp));
	return o;
}

static void cert_text(FILE *f, const struct proto_cert *c)
{
	char s[PROTO_PREFIX_STRLEN], k[CRY_KEY_B64_LEN + 1], t[32], r[18];
	char fp[2 * PROTO_FP_LEN + 1];
	size_t i;

	fprintf(f, "network:     %s\n", c->network);
	fprintf(f, "name:        %s\n", c->name);
	fprintf(f, "serial:      %llu\n", (unsigned long long)c->serial);
	cry_key_to_b64(k, c->identity);
	fprintf(f, "identity:    %s\n", k);
	cry_key_to_b64(k, c->wgkey);
	fprintf(f, "wg key:      %s\n", k);
	proto_roles_format(r, c->roles);
	fprintf(f, "roles:       %s\n", r);
	ctl_format_time(t, c->not_before);
	fprintf(f, "not before:  %s (%llu)\n", t, (unsigned long long)c->not_before);
	ctl_format_time(t, c->not_after);
	fprintf(f, "not after:   %s (%llu)\n", t, (unsigned long long)c->not_after);
	proto_addr_format(s, 4, c->addr4);
	fprintf(f, "ipv4:        %s\n", s);
	proto_addr_format(s, 6, c->addr6);
	fprintf(f, "ipv6:        %s\n", s);
	for (i = 0; i < c->n_subnets; i++) {
		proto_prefix_format(s, &c->subnets[i]);
		fprintf(f, "subnet:      %s\n", s);
	}
	sc_hex_encode(fp, c->fingerprint, PROTO_FP_LEN);
	fprintf(f, "fingerprint: %s\n", fp);
	fprintf(f, "signature:   not checked (use scopectl cert verify)\n");
}

static int load_cert(const struct ctl_io *io, const char *cmd, const char *path,
		     struct proto_cert *c)
{
	uint8_t *bin;
	size_t len;
	int ret;

	if (ctl_read_record(io, cmd, path, PROTO_T_CERT, &bin, &len))
		return 1;
	ret = proto_cert_decode(c, bin, len);
	free(bin);
	return ret ? ctl_fail(io, cmd, "%s: %s", path, proto_strerror(ret)) : 0;
}

static int cert_inspect(const struct ctl_io *io, int argc, char **argv)
{
	const char *cmd = "scopectl cert inspect", *path;
	struct proto_cert c;
	int json;

	if (ctl_inspect_args(io, cmd, argc, argv, &json, &path) || load_cert(io, cmd, path, &c))
		return 1;
	if (json)
		return ctl_print_json(io, cmd, cert_json(&c));
	cert_text(io->out, &c);
	return 0;
}

/* Load and verify a revocation list of net. Prints a message, returns 1. */
int ctl_load_revoke(const struct ctl_io *io, const char *cmd, const char *path,
		    const struct proto_netdef *net, struct proto_revoke **out)
{
	struct proto_revoke *rl = NULL;
	uint8_t *bin;
	size_t len;
	int ret;

	if (ctl_read_record(io, cmd, path, PROTO_T_REVOKE, &bin, &len))
		return 1;
	ret = proto_revoke_decode(&rl, bin, len);
	free(bin);
	if (!ret)
		ret = proto_revoke_verify(rl, net);
	if (ret) {
		proto_revoke_free(rl);
		return ctl_fail(io, cmd, "%s: revocation list: %s", path, proto_strerror(ret));
	}
	*out = rl;
	return 0;
}

struct verify_args {
	const char *network, *revoked, *path;
	uint8_t pin[32];
	bool have_pin;
	uint64_t at;
	uint8_t roles;
};

static int verify_args(const struct ctl_io *io, int argc, char **argv, struct verify_args *a)
{
	static const struct option opts[] = {
		{ "network", required_argument, NULL, 'n' },
		{ "revoked", required_argument, NULL, 'r' },
		{ "admin-pub", required_argument, NULL, 'p' },
		{ "at", required_argument, NULL, 'a' },
		{ "role", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->at = ctl_now();
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			a->network = optarg;
			break;
		case 'r':
			a->revoked = optarg;
			break;
		case 'p':
			if (ctl_parse_key(optarg, a->pin))
				return ctl_fail(io, VERIFY, "--admin-pub: not a base64 public key");
			a->have_pin = true;
			break;
		case 'a':
			if (ctl_parse_time(optarg, &a->at))
				return ctl_fail(io, VERIFY, "--at: Unix seconds expected");
			break;
		case 'R':
			if (proto_roles_parse(optarg, &a->roles))
				return ctl_fail(io, VERIFY, "--role: edge, relay and/or master");
			break;
		default:
			return ctl_fail(io, VERIFY, "unknown option or missing value: %s",
					argv[optind - 1]);
		}
	}
	if (!a->network || optind != argc - 1)
		return ctl_fail(io, VERIFY,
				"usage: cert verify --network FILE [--revoked FILE] "
				"[--admin-pub KEY] [--at SECS] [--role ROLES] CERT");
	a->path = argv[optind];
	return 0;
}

static int cert_verify(const struct ctl_io *io, int argc, char **argv)
{
	struct verify_args a = { 0 };
	struct proto_netdef n;
	struct proto_revoke *rl = NULL;
	struct proto_cert c;
	char fp[PROTO_FP_SHORT + 1], t[32];
	int ret;

	if (verify_args(io, argc, argv, &a) ||
	    ctl_load_netdef(io, VERIFY, a.network, a.have_pin ? a.pin : NULL, &n) ||
	    (a.revoked && ctl_load_revoke(io, VERIFY, a.revoked, &n, &rl)) ||
	    load_cert(io, VERIFY, a.path, &c)) {
		proto_revoke_free(rl);
		return 1;
	}
	ret = proto_cert_verify(&c, &n, rl, a.at);
	proto_revoke_free(rl);
	if (ret)
		return ctl_fail(io, VERIFY, "%s: %s", a.path, proto_strerror(ret));
	if (a.roles && !proto_cert_allows(&c, a.roles))
		return ctl_fail(io, VERIFY, "%s: role not allowed by the certificate", a.path);
	proto_fp_short(fp, c.fingerprint);
	ctl_format_time(t, c.not_after);
	fprintf(io->out, "%s: ok: %s in %s (%s), valid until %s\n", a.path, c.name, c.network, fp,
		t);
	return 0;
}

int ctl_cert(const struct ctl_io *io, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "issue") == 0)
		return cert_issue(io, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "inspect") == 0)
		return cert_inspect(io, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return cert_verify(io, argc - 1, argv + 1);
	return ctl_fail(io, "scopectl cert", "expected: cert issue | inspect | verify");
}
