// SPDX-License-Identifier: GPL-2.0-only
/*
 * init: a new network in a directory (admin key pair and the signed network
 * definition); net inspect: show a network definition.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/encode.h"
#include "common/parse.h"
#include "crypto/ct.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "ctl/ctl.h"
#include "ctl/files.h"
#include "proto/armor.h"
#include "proto/netdef.h"

#define INIT "scopectl init"

/* "NAME,WGPUBKEY,ENDPOINT" */
static int parse_master(struct proto_relay *r, const char *s)
{
	const char *c1 = strchr(s, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	char key[CRY_KEY_B64_LEN + 1];
	size_t nl;

	if (!c2)
		return -EINVAL;
	nl = (size_t)(c1 - s);
	if (!proto_peer_name_valid(s, nl) || (size_t)(c2 - c1 - 1) != CRY_KEY_B64_LEN)
		return -EINVAL;
	memcpy(key, c1 + 1, CRY_KEY_B64_LEN);
	key[CRY_KEY_B64_LEN] = '\0';
	memset(r, 0, sizeof(*r));
	memcpy(r->name, s, nl);
	if (cry_key_from_b64(r->wgkey, key) || proto_endpoint_parse(c2 + 1, &r->endpoint))
		return -EINVAL;
	return 0;
}

static int parse_param(struct proto_params *p, char *s)
{
	char *eq = strchr(s, '=');
	uint64_t v;

	if (!eq || sc_parse_u64(eq + 1, 0, UINT32_MAX, &v))
		return -EINVAL;
	*eq = '\0';
	return proto_params_set(p, s, v);
}

static int init_opts(const struct ctl_io *io, int argc, char **argv, struct proto_netdef *n)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "ipv4", required_argument, NULL, '4' },
		{ "ipv6", required_argument, NULL, '6' },
		{ "registry", required_argument, NULL, 'r' },
		{ "master", required_argument, NULL, 'm' },
		{ "param", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int seen = 0;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!proto_net_name_valid(optarg, strlen(optarg)))
				return ctl_fail(
					io, INIT,
					"--name: 1 to %d characters of a-z 0-9 _ -, starting "
					"with a letter or digit",
					PROTO_NET_NAME_MAX);
			snprintf(n->name, sizeof(n->name), "%s", optarg);
			seen |= 1;
			break;
		case '4':
		case '6':
			if (proto_prefix_parse(optarg, c == '4' ? &n->v4 : &n->v6) ||
			    (c == '4' ? n->v4.family != 4 : n->v6.family != 6))
				return ctl_fail(
					io, INIT,
					"--ipv%c: not an IPv%c prefix with zero host bits: %s", c,
					c, optarg);
			seen |= c == '4' ? 2 : 4;
			break;
		case 'r':
			if (!proto_url_valid(optarg, strlen(optarg)))
				return ctl_fail(io, INIT,
						"--registry: not an http:// or https:// URL: %s",
						optarg);
			snprintf(n->registry, sizeof(n->registry), "%s", optarg);
			seen |= 8;
			break;
		case 'm':
			if (n->n_relays == PROTO_NETDEF_MAX_RELAYS)
				return ctl_fail(io, INIT, "at most %d master relays",
						PROTO_NETDEF_MAX_RELAYS);
			if (parse_master(&n->relays[n->n_relays], optarg))
				return ctl_fail(
					io, INIT,
					"--master: expected NAME,WG-PUBLIC-KEY,IP:PORT, got %s",
					optarg);
			n->n_relays++;
			break;
		case 'p':
			ret = parse_param(&n->params, optarg);
			if (ret)
				return ctl_fail(io, INIT, "--param: %s",
						ret == -ERANGE
							? "value out of range"
							: "expected NAME=VALUE with a known NAME");
			break;
		default:
			return ctl_fail(io, INIT, "unknown option or missing value: %s",
					argv[optind - 1]);
		}
	}
	if (seen != 15)
		return ctl_fail(io, INIT, "--name, --ipv4, --ipv6 and --registry are required");
	if (optind != argc - 1)
		return ctl_fail(io, INIT, "expected one directory argument");
	return 0;
}

/* Write the three files; on any error remove what was written. */
static int init_write(const struct ctl_io *io, const char *dir, const uint8_t seed[32],
		      const uint8_t *bin, size_t len)
{
	static const char *const names[] = { CTL_ADMIN_KEY, CTL_ADMIN_PUB, CTL_NETWORK };
	char paths[3][4096], kb64[CRY_KEY_B64_LEN + 2], pb64[CRY_KEY_B64_LEN + 2];
	size_t cap = proto_armor_len(bin[5], len);
	char *text = malloc(cap);
	uint8_t pub[32];
	int i, ret = 0;

	if (!text)
		return ctl_fail(io, INIT, "out of memory");
	for (i = 0; i < 3; i++)
		if (ctl_path(paths[i], sizeof(paths[i]), dir, names[i]))
			ret = -ENAMETOOLONG;
	for (i = 0; !ret && i < 3; i++)
		if (access(paths[i], F_OK) == 0) {
			free(text);
			return ctl_fail(io, INIT, "%s already exists, not overwriting", paths[i]);
		}
	cry_key_to_b64(kb64, seed);
	kb64[CRY_KEY_B64_LEN] = '\n';
	cry_ed25519_pubkey(pub, seed);
	cry_key_to_b64(pb64, pub);
	pb64[CRY_KEY_B64_LEN] = '\n';
	if (!ret)
		ret = proto_armor_encode(text, cap, bin, len);
	if (!ret)
		ret = ctl_write_file(paths[0], kb64, CRY_KEY_B64_LEN + 1, 0600, false);
	if (!ret) {
		ret = ctl_write_file(paths[1], pb64, CRY_KEY_B64_LEN + 1, 0644, false);
		if (!ret)
			ret = ctl_write_file(paths[2], text, strlen(text), 0644, false);
		if (ret) {
			unlink(paths[1]);
			unlink(paths[0]);
		}
	}
	cry_wipe(kb64, sizeof(kb64));
	free(text);
	if (ret)
		return ctl_fail(io, INIT, "%s: %s", dir, strerror(-ret));
	return 0;
}

int ctl_init(const struct ctl_io *io, int argc, char **argv)
{
	struct proto_netdef n;
	uint8_t seed[32], pub[32], bin[PROTO_RECORD_MAX];
	char pb64[CRY_KEY_B64_LEN + 1];
	const char *dir;
	struct stat st;
	bool made = false;
	size_t len;
	int ret;

	memset(&n, 0, sizeof(n));
	proto_params_default(&n.params);
	if (init_opts(io, argc, argv, &n))
		return 1;
	dir = argv[optind];
	n.serial = 1;
	n.issued = ctl_now();
	if (cry_ed25519_genkey(seed, pub))
		return ctl_fail(io, INIT, "random bytes unavailable");
	ret = proto_netdef_sign(&n, seed);
	if (!ret)
		ret = proto_netdef_encode(&n, bin, sizeof(bin), &len);
	if (ret) {
		cry_wipe(seed, sizeof(seed));
		return ctl_fail(io, INIT, "cannot sign the network definition: %s",
				proto_strerror(ret));
	}
	if (mkdir(dir, 0700) == 0)
		made = true;
	else if (errno != EEXIST || stat(dir, &st) || !S_ISDIR(st.st_mode))
		ret = ctl_fail(io, INIT, "%s: cannot create directory: %s", dir,
			       strerror(errno == EEXIST ? ENOTDIR : errno));
	if (!ret)
		ret = init_write(io, dir, seed, bin, len);
	cry_wipe(seed, sizeof(seed));
	if (ret) {
		if (made)
			rmdir(dir);
		return 1;
	}
	cry_key_to_b64(pb64, pub);
	fprintf(io->out,
		"network %s created in %s\n"
		"  %s  admin private key (mode 0600): keep it offline\n"
		"  %s  admin public key %s: pin it in every node's config\n"
		"  %s  signed network definition\n",
		n.name, dir, CTL_ADMIN_KEY, CTL_ADMIN_PUB, pb64, CTL_NETWORK);
	return 0;
}

static json_t *netdef_json(const struct proto_netdef *n, int sig)
{
	json_t *o = json_object(), *relays = json_array(), *params = json_object();
	char s[PROTO_ENDPOINT_STRLEN], k[CRY_KEY_B64_LEN + 1], fp[2 * PROTO_FP_LEN + 1];
	size_t i;

	json_object_set_new(o, "type", json_string("network"));
	json_object_set_new(o, "name", json_string(n->name));
	json_object_set_new(o, "serial", json_integer((json_int_t)n->serial));
	json_object_set_new(o, "issued", json_integer((json_int_t)n->issued));
	cry_key_to_b64(k, n->admin);
	json_object_set_new(o, "admin_key", json_string(k));
	proto_prefix_format(s, &n->v4);
	json_object_set_new(o, "ipv4", json_string(s));
	proto_prefix_format(s, &n->v6);
	json_object_set_new(o, "ipv6", json_string(s));
	json_object_set_new(o, "registry", json_string(n->registry));
	for (i = 0; i < n->n_relays; i++) {
		json_t *r = json_object();

		json_object_set_new(r, "name", json_string(n->relays[i].name));
		cry_key_to_b64(k, n->relays[i].wgkey);
		json_object_set_new(r, "wg_key", json_string(k));
		proto_endpoint_format(s, &n->relays[i].endpoint);
		json_object_set_new(r, "endpoint", json_string(s));
		json_array_append_new(relays, r);
	}
	json_object_set_new(o, "master_relays", relays);
	for (i = 0; i < PROTO_N_PARAMS; i++)
		json_object_set_new(params, proto_params_info[i].name,
				    json_integer(proto_params_get(&n->params, i)));
	json_object_set_new(o, "params", params);
	sc_hex_encode(fp, n->fingerprint, PROTO_FP_LEN);
	json_object_set_new(o, "fingerprint", json_string(fp));
	json_object_set_new(o, "self_signature", json_string(sig ? "invalid" : "valid"));
	return o;
}

static void netdef_text(FILE *f, const struct proto_netdef *n, int sig)
{
	char s[PROTO_ENDPOINT_STRLEN], k[CRY_KEY_B64_LEN + 1], t[32], fp[2 * PROTO_FP_LEN + 1];
	size_t i;

	fprintf(f, "network:      %s\n", n->name);
	fprintf(f, "serial:       %llu\n", (unsigned long long)n->serial);
	ctl_format_time(t, n->issued);
	fprintf(f, "issued:       %s (%llu)\n", t, (unsigned long long)n->issued);
	cry_key_to_b64(k, n->admin);
	fprintf(f, "admin key:    %s\n", k);
	proto_prefix_format(s, &n->v4);
	fprintf(f, "ipv4:         %s\n", s);
	proto_prefix_format(s, &n->v6);
	fprintf(f, "ipv6:         %s\n", s);
	fprintf(f, "registry:     %s\n", n->registry);
	for (i = 0; i < n->n_relays; i++) {
		cry_key_to_b64(k, n->relays[i].wgkey);
		proto_endpoint_format(s, &n->relays[i].endpoint);
		fprintf(f, "master relay: %s %s %s\n", n->relays[i].name, k, s);
	}
	for (i = 0; i < PROTO_N_PARAMS; i++)
		fprintf(f, "param:        %s=%u\n", proto_params_info[i].name,
			proto_params_get(&n->params, i));
	sc_hex_encode(fp, n->fingerprint, PROTO_FP_LEN);
	fprintf(f, "fingerprint:  %s\n", fp);
	fprintf(f, "signature:    %s\n", sig ? "INVALID" : "valid (self-signed by the admin key)");
}

/* --json and one file argument; shared by the inspect subcommands. */
int ctl_inspect_args(const struct ctl_io *io, const char *cmd, int argc, char **argv, int *json,
		     const char **path)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*json = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'j')
			return ctl_fail(io, cmd, "unknown option: %s", argv[optind - 1]);
		*json = 1;
	}
	if (optind != argc - 1)
		return ctl_fail(io, cmd, "expected one file argument (- for stdin)");
	*path = argv[optind];
	return 0;
}

static int net_inspect(const struct ctl_io *io, int argc, char **argv)
{
	const char *cmd = "scopectl net inspect", *path;
	struct proto_netdef n;
	uint8_t *bin;
	size_t len;
	int json, ret;

	if (ctl_inspect_args(io, cmd, argc, argv, &json, &path) ||
	    ctl_read_record(io, cmd, path, PROTO_T_NETDEF, &bin, &len))
		return 1;
	ret = proto_netdef_decode(&n, bin, len);
	free(bin);
	if (ret)
		return ctl_fail(io, cmd, "%s: %s", path, proto_strerror(ret));
	ret = proto_netdef_verify(&n, NULL);
	if (json)
		return ctl_print_json(io, cmd, netdef_json(&n, ret));
	netdef_text(io->out, &n, ret);
	return 0;
}

#define UPDATE "scopectl net update"

/* Changes to an existing definition: the registry, the master relays (any
 * --master replaces the whole list) and the constants. The name and the
 * prefixes stay: certificates are bound to them. */
struct net_changes {
	const char *dir, *registry;
	bool masters;
	size_t n_relays;
	struct proto_relay relays[PROTO_NETDEF_MAX_RELAYS];
	char **params; /* NAME=VALUE strings, applied once the file is loaded */
	size_t n_params;
};

static int update_opt(const struct ctl_io *io, int c, char *arg, struct net_changes *ch)
{
	switch (c) {
	case 'd':
		ch->dir = arg;
		return 0;
	case 'r':
		if (!proto_url_valid(arg, strlen(arg)))
			return ctl_fail(io, UPDATE, "--registry: not an http:// or https:// URL");
		ch->registry = arg;
		return 0;
	case 'M':
		ch->masters = true;
		return 0;
	case 'm':
		ch->masters = true;
		if (ch->n_relays == PROTO_NETDEF_MAX_RELAYS)
			return ctl_fail(io, UPDATE, "at most %d master relays",
					PROTO_NETDEF_MAX_RELAYS);
		if (parse_master(&ch->relays[ch->n_relays], arg))
			return ctl_fail(io, UPDATE,
					"--master: expected NAME,WG-PUBLIC-KEY,IP:PORT, got %s",
					arg);
		ch->n_relays++;
		return 0;
	case 'p':
		ch->params[ch->n_params++] = arg;
		return 0;
	default:
		return ctl_fail(io, UPDATE, "unknown option or missing value: %s", arg);
	}
}

static int update_opts(const struct ctl_io *io, int argc, char **argv, struct net_changes *ch)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "registry", required_argument, NULL, 'r' },
		{ "master", required_argument, NULL, 'm' },
		{ "no-masters", no_argument, NULL, 'M' },
		{ "param", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (update_opt(io, c, c == '?' ? argv[optind - 1] : optarg, ch))
			return 1;
	if (optind != argc || !ch->dir || !(ch->registry || ch->masters || ch->n_params))
		return ctl_fail(io, UPDATE,
				"usage: net update --dir DIR [--registry URL] "
				"[--master N,KEY,IP:PORT... | --no-masters] [--param N=V]...");
	return 0;
}

static int update_apply(const struct ctl_io *io, const struct net_changes *ch,
			struct proto_netdef *n)
{
	size_t i;
	int ret;

	if (ch->registry)
		snprintf(n->registry, sizeof(n->registry), "%s", ch->registry);
	if (ch->masters) {
		n->n_relays = ch->n_relays;
		memcpy(n->relays, ch->relays, sizeof(ch->relays));
	}
	for (i = 0; i < ch->n_params; i++) {
		ret = parse_param(&n->params, ch->params[i]);
		if (ret)
			return ctl_fail(io, UPDATE, "--param: %s",
					ret == -ERANGE ? "value out of range"
						       : "expected NAME=VALUE with a known NAME");
	}
	if (n->serial == UINT64_MAX)
		return ctl_fail(io, UPDATE, "the serial cannot grow any more");
	n->serial++;
	n->issued = ctl_now();
	return 0;
}

/* Sign the changed definition with the next serial and replace DIR/network.scope. */
static int net_update(const struct ctl_io *io, int argc, char **argv)
{
	struct net_changes *ch = calloc(1, sizeof(*ch));
	struct proto_netdef n;
	uint8_t seed[32], bin[PROTO_RECORD_MAX];
	char path[4096];
	size_t len;
	int ret = 1;

	if (!ch || !(ch->params = calloc((size_t)argc, sizeof(*ch->params)))) {
		ret = ctl_fail(io, UPDATE, "out of memory");
		goto out;
	}
	if (update_opts(io, argc, argv, ch) || ctl_load_admin(io, UPDATE, ch->dir, seed, &n))
		goto out;
	ret = update_apply(io, ch, &n);
	if (!ret) {
		ret = proto_netdef_sign(&n, seed);
		if (!ret)
			ret = proto_netdef_encode(&n, bin, sizeof(bin), &len);
		if (ret)
			ret = ctl_fail(io, UPDATE,
				       "invalid definition (a master relay listed twice?)");
	}
	cry_wipe(seed, sizeof(seed));
	if (!ret && ctl_path(path, sizeof(path), ch->dir, CTL_NETWORK))
		ret = ctl_fail(io, UPDATE, "%s: path too long", ch->dir);
	if (!ret)
		ret = ctl_write_record(io, UPDATE, path, bin, len, true);
	if (!ret)
		fprintf(io->out, "%s: serial %llu\n", path, (unsigned long long)n.serial);
out:
	if (ch)
		free(ch->params);
	free(ch);
	return ret;
}

int ctl_net(const struct ctl_io *io, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "inspect") == 0)
		return net_inspect(io, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "update") == 0)
		return net_update(io, argc - 1, argv + 1);
	return ctl_fail(io, "scopectl net", "expected: net inspect | update");
}
