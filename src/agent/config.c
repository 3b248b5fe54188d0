// SPDX-License-Identifier: GPL-2.0-only
/*
 * scoped's configuration (config.h): the INI text first, checked alone and
 * fuzzed; then every file it names, each verified against the pinned admin
 * key, and the keys against the certificate. Nothing is returned unless
 * everything holds.
 */
#include "agent/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/compiler.h"
#include "common/ini.h"
#include "common/parse.h"
#include "crypto/ct.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "proto/armor.h"
#include "proto/record.h"

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* ---- the text ------------------------------------------------------------ */

enum key_id {
	K_NETWORK,
	K_ADMIN,
	K_CERT,
	K_IDENTITY,
	K_ROLE,
	K_STATE,
	K_REGISTRY,
	K_BACKEND,
	K_KILL,
	K_T_PERIOD,
	K_T_ACTIVATION,
	K_T_RETRY,
	K_T_CORRUPT,
	K_PRIVKEY,
	K_PRIVKEY_FILE,
	K_PORT,
	K_NAME,
	K_MTU,
	K_KEEPALIVE,
	K_ENDPOINT,
	K_PEER_CERT,
	K_COUNT
};

struct key_def {
	const char *section, *key;
	bool repeat;
};

static const struct key_def keys[K_COUNT] = {
	[K_NETWORK] = { "Scope", "Network", false },
	[K_ADMIN] = { "Scope", "AdminKey", false },
	[K_CERT] = { "Scope", "Certificate", false },
	[K_IDENTITY] = { "Scope", "IdentityKey", false },
	[K_ROLE] = { "Scope", "Role", false },
	[K_STATE] = { "Scope", "StateDirectory", false },
	[K_REGISTRY] = { "Scope", "Registry", false },
	[K_BACKEND] = { "Scope", "Backend", false },
	[K_KILL] = { "Scope", "Kill", false },
	[K_T_PERIOD] = { "Scope", "TestOnlyPskPeriod", false },
	[K_T_ACTIVATION] = { "Scope", "TestOnlyPskActivation", false },
	[K_T_RETRY] = { "Scope", "TestOnlyPskRetry", false },
	[K_T_CORRUPT] = { "Scope", "TestOnlyCorruptPskVersion", false },
	[K_PRIVKEY] = { "Interface", "PrivateKey", false },
	[K_PRIVKEY_FILE] = { "Interface", "PrivateKeyFile", false },
	[K_PORT] = { "Interface", "ListenPort", false },
	[K_NAME] = { "Interface", "Name", false },
	[K_MTU] = { "Interface", "MTU", false },
	[K_KEEPALIVE] = { "Interface", "PersistentKeepalive", false },
	[K_ENDPOINT] = { "Interface", "Endpoint", true },
	/* Once per [Peer]; the sections repeat. */
	[K_PEER_CERT] = { "Peer", "Certificate", true },
};

struct parse_ctx {
	const char *name; /* the config file, for messages */
	char *err;
	size_t errlen;
	unsigned int line;
	unsigned int peer_section; /* section_n of the last [Peer] seen, ~0u: none */
	struct agent_config_text *t;
};

__attribute__((format(printf, 2, 3))) static int bad(struct parse_ctx *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(p->err, p->errlen, "%s:%u: %s", p->name, p->line, msg);
}

/* A path relative to the config file's directory. */
static int set_path(struct parse_ctx *p, const char *key, const char *v,
		    char out[AGENT_CONFIG_PATH_MAX])
{
	const char *slash = strrchr(p->name, '/');
	int n;

	if (v[0] == '/' || !slash)
		n = snprintf(out, AGENT_CONFIG_PATH_MAX, "%s", v);
	else
		n = snprintf(out, AGENT_CONFIG_PATH_MAX, "%.*s/%s", (int)(slash - p->name), p->name,
			     v);
	if (n < 0 || n >= AGENT_CONFIG_PATH_MAX)
		return bad(p, "%s: path too long", key);
	return 0;
}

/* wg-quick's interface names: [a-zA-Z0-9_=+.-]{1,15}. */
static bool ifname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > AGENT_CONFIG_IFNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_=+.-",
			    s[i]))
			return false;
	return true;
}

static int set_endpoint(struct parse_ctx *p, const char *v)
{
	struct agent_config_text *t = p->t;
	struct proto_endpoint e;

	if (proto_endpoint_parse(v, &e))
		return bad(p, "Endpoint: '%s' is not IP:port (IPv6 in brackets)", v);
	if (t->n_endpoints == AGENT_CONFIG_MAX_ENDPOINTS)
		return bad(p, "Endpoint: at most %d", AGENT_CONFIG_MAX_ENDPOINTS);
	for (size_t i = 0; i < t->n_endpoints; i++)
		if (t->endpoints[i].family == e.family && t->endpoints[i].port == e.port &&
		    memcmp(t->endpoints[i].addr, e.addr, 16) == 0) /* not secret */
			return bad(p, "Endpoint: %s given twice", v);
	t->endpoints[t->n_endpoints++] = e;
	return 0;
}

static int set_u16(struct parse_ctx *p, const char *key, const char *v, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	if (sc_parse_u64(v, min, max, out))
		return bad(p, "%s: '%s' is not a number in %llu..%llu", key, v,
			   (unsigned long long)min, (unsigned long long)max);
	return 0;
}

/* A [Peer] Certificate: one per section, at most AGENT_CONFIG_PEERS_MAX,
 * the resolved paths packed into t->peer_paths. */
static int add_peer(struct parse_ctx *p, unsigned int section_n, const char *v)
{
	struct agent_config_text *t = p->t;
	char path[AGENT_CONFIG_PATH_MAX];
	size_t n;
	int ret;

	if (t->n_peers && p->peer_section == section_n)
		return bad(p, "Certificate given twice in one [Peer]");
	if (t->n_peers == AGENT_CONFIG_PEERS_MAX)
		return bad(p, "[Peer]: at most %d", AGENT_CONFIG_PEERS_MAX);
	ret = set_path(p, "Certificate", v, path);
	if (ret)
		return ret;
	n = strlen(path) + 1;
	if (n > sizeof(t->peer_paths) - t->peer_paths_len)
		return bad(p, "[Peer] Certificate paths too long together (%u bytes at most)",
			   AGENT_CONFIG_PEER_PATHS_MAX);
	memcpy(t->peer_paths + t->peer_paths_len, path, n);
	t->peer_path_off[t->n_peers] = (uint32_t)t->peer_paths_len;
	t->line_peer[t->n_peers++] = p->line;
	t->peer_paths_len += n;
	p->peer_section = section_n;
	return 0;
}

static int set_backend(struct parse_ctx *p, const char *v)
{
	if (strcmp(v, "engine") == 0)
		p->t->backend = AGENT_BACKEND_ENGINE;
	else if (strcmp(v, "uapi") == 0)
		p->t->backend = AGENT_BACKEND_UAPI;
	else if (strcmp(v, "kernel") == 0)
		p->t->backend = AGENT_BACKEND_KERNEL;
	else
		return bad(p, "Backend: '%s' is not one of engine, uapi, kernel", v);
	return 0;
}

static int set_value(struct parse_ctx *p, enum key_id k, const char *v)
{
	struct agent_config_text *t = p->t;
	uint64_t u;

	switch (k) {
	case K_NETWORK:
		t->line_network = p->line;
		return set_path(p, "Network", v, t->network_path);
	case K_CERT:
		t->line_cert = p->line;
		return set_path(p, "Certificate", v, t->cert_path);
	case K_IDENTITY:
		t->line_identity = p->line;
		return set_path(p, "IdentityKey", v, t->identity_path);
	case K_STATE:
		return set_path(p, "StateDirectory", v, t->state_dir);
	case K_KILL:
		t->line_kill = p->line;
		return set_path(p, "Kill", v, t->kill_path);
	case K_PRIVKEY_FILE:
		t->line_wg_key = p->line;
		return set_path(p, "PrivateKeyFile", v, t->wg_key_path);
	case K_ADMIN:
		t->line_admin = p->line;
		if (cry_key_from_b64(t->admin, v))
			return bad(p, "AdminKey: not a public key (44 base64 characters)");
		return 0;
	case K_ROLE:
		t->line_role = p->line;
		if (proto_roles_parse(v, &t->role) ||
		    (t->role != PROTO_ROLE_EDGE && t->role != PROTO_ROLE_RELAY &&
		     t->role != PROTO_ROLE_MASTER))
			return bad(p, "Role: '%s' is not one of edge, relay, master", v);
		return 0;
	case K_REGISTRY:
		if (strcmp(v, "off") == 0) {
			t->registry_off = true;
			return 0;
		}
		if (strlen(v) > PROTO_URL_MAX || !proto_url_valid(v, strlen(v)))
			return bad(p, "Registry: not an http:// or https:// URL");
		memcpy(t->registry, v, strlen(v) + 1);
		return 0;
	case K_BACKEND:
		return set_backend(p, v);
	case K_T_PERIOD:
		return set_u16(p, "TestOnlyPskPeriod", v, 1, AGENT_CONFIG_TEST_SECONDS_MAX,
			       &t->test_psk_period_s);
	case K_T_ACTIVATION:
		t->has_test_psk_activation = true;
		return set_u16(p, "TestOnlyPskActivation", v, 0, AGENT_CONFIG_TEST_SECONDS_MAX,
			       &t->test_psk_activation_s);
	case K_T_RETRY:
		return set_u16(p, "TestOnlyPskRetry", v, 1, AGENT_CONFIG_TEST_SECONDS_MAX,
			       &t->test_psk_retry_s);
	case K_T_CORRUPT:
		return set_u16(p, "TestOnlyCorruptPskVersion", v, 1, UINT32_MAX,
			       &t->test_corrupt_version);
	case K_PRIVKEY:
		t->line_wg_key = p->line;
		if (cry_key_from_b64(t->wg_private, v))
			return bad(p, "PrivateKey: not a private key (44 base64 characters)");
		t->has_wg_private = true;
		return 0;
	case K_PORT:
		if (set_u16(p, "ListenPort", v, 0, 65535, &u))
			return -EINVAL;
		t->has_listen_port = true;
		t->listen_port = (uint16_t)u;
		return 0;
	case K_NAME:
		if (!ifname_valid(v))
			return bad(p,
				   "Name: '%s' is not an interface name ([a-zA-Z0-9_=+.-], "
				   "1 to 15)",
				   v);
		memcpy(t->ifname, v, strlen(v) + 1);
		return 0;
	case K_MTU:
		if (set_u16(p, "MTU", v, 1280, 65535, &u))
			return -EINVAL;
		t->mtu = (unsigned int)u;
		return 0;
	case K_KEEPALIVE:
		if (strcmp(v, "off") == 0)
			u = 0;
		else if (set_u16(p, "PersistentKeepalive", v, 0, 65535, &u))
			return -EINVAL;
		t->keepalive = (uint16_t)u;
		return 0;
	case K_ENDPOINT:
		return set_endpoint(p, v);
	case K_PEER_CERT: /* parse_entries calls add_peer */
	case K_COUNT:
		break;
	}
	return -EINVAL;
}

static int find_key(struct parse_ctx *p, const struct sc_ini_entry *e, enum key_id *out)
{
	bool section_known = false;

	for (int k = 0; k < K_COUNT; k++) {
		if (!sc_ini_key_is(e->section, keys[k].section))
			continue;
		section_known = true;
		if (sc_ini_key_is(e->key, keys[k].key)) {
			*out = (enum key_id)k;
			return 0;
		}
	}
	if (!section_known)
		return bad(p, "unknown section [%s] (expected [Scope], [Interface] or [Peer])",
			   e->section);
	return bad(p, "unknown key '%s' in [%s]", e->key, e->section);
}

/* PSK-only mode changes nothing on the interface but preshared keys, so
 * the keys that configure an interface are refused rather than ignored. */
static int finish_pskonly(struct parse_ctx *p, const unsigned int line[K_COUNT])
{
	static const enum key_id managed[] = { K_PORT, K_MTU, K_KEEPALIVE, K_ENDPOINT };
	for (size_t i = 0; i < SC_ARRAY_SIZE(managed); i++)
		if (line[managed[i]])
			return fail(p->err, p->errlen,
				    "%s:%u: %s is not allowed with Backend = %s: PSK-only mode "
				    "changes nothing on the interface but preshared keys",
				    p->name, line[managed[i]], keys[managed[i]].key,
				    p->t->backend == AGENT_BACKEND_KERNEL ? "kernel" : "uapi");
	if (line[K_PRIVKEY] && line[K_PRIVKEY_FILE])
		return fail(p->err, p->errlen,
			    "%s: [Interface] takes at most one of PrivateKey and PrivateKeyFile",
			    p->name);
	return 0;
}

/* Defaults and keys that must be present, after every line was read.
 * line[k]: the line of key k, 0 if absent. */
static int finish(struct parse_ctx *p, const unsigned int line[K_COUNT])
{
	static const enum key_id required[] = { K_NETWORK, K_ADMIN, K_CERT, K_IDENTITY, K_ROLE };
	struct agent_config_text *t = p->t;
	int ret;

	p->line = 0;
	for (size_t i = 0; i < SC_ARRAY_SIZE(required); i++)
		if (!line[required[i]])
			return fail(p->err, p->errlen, "%s: [%s] %s is required", p->name,
				    keys[required[i]].section, keys[required[i]].key);
	if (!line[K_BACKEND])
		t->backend = AGENT_BACKEND_ENGINE;
	/* uapi and kernel: PSK-only mode, the same rules (two backends). */
	if (t->backend == AGENT_BACKEND_UAPI || t->backend == AGENT_BACKEND_KERNEL) {
		ret = finish_pskonly(p, line);
		if (ret)
			return ret;
	} else if (t->n_peers) {
		return fail(p->err, p->errlen,
			    "%s:%u: [Peer] sections are for Backend = uapi or kernel (PSK-only "
			    "mode); the engine learns its peers from the registry",
			    p->name, t->line_peer[0]);
	} else if (t->registry_off) {
		return fail(p->err, p->errlen,
			    "%s:%u: Registry = off is for Backend = uapi or kernel (PSK-only "
			    "mode) only",
			    p->name, line[K_REGISTRY]);
	} else if (!line[K_PRIVKEY] == !line[K_PRIVKEY_FILE]) {
		return fail(p->err, p->errlen,
			    "%s: [Interface] needs exactly one of PrivateKey and PrivateKeyFile",
			    p->name);
	}
	if (!t->has_listen_port)
		t->listen_port = t->role == PROTO_ROLE_EDGE ? 0 : AGENT_CONFIG_PORT_RELAY;
	if (!line[K_MTU])
		t->mtu = AGENT_CONFIG_MTU;
	if (!line[K_KEEPALIVE])
		t->keepalive = AGENT_CONFIG_KEEPALIVE;
	return 0;
}

static int parse_entries(struct parse_ctx *p, const struct sc_ini *ini)
{
	/* section_n of the first [Scope] and [Interface]; a second one is refused. */
	unsigned int first_n[2] = { ~0u, ~0u };
	unsigned int line[K_COUNT] = { 0 };
	enum key_id k = K_COUNT;
	int ret;

	p->peer_section = ~0u;
	for (size_t i = 0; i < ini->n; i++) {
		const struct sc_ini_entry *e = &ini->entries[i];
		unsigned int *first;

		p->line = e->line;
		ret = find_key(p, e, &k);
		if (ret)
			return ret;
		if (k == K_PEER_CERT) {
			ret = add_peer(p, e->section_n, e->value);
			if (ret)
				return ret;
			continue;
		}
		first = &first_n[sc_ini_key_is(e->section, "Interface")];
		if (*first == ~0u)
			*first = e->section_n;
		if (*first != e->section_n)
			return bad(p, "a second [%s] section", e->section);
		if (line[k] && !keys[k].repeat)
			return bad(p, "%s given twice", keys[k].key);
		line[k] = e->line;
		ret = set_value(p, k, e->value);
		if (ret)
			return ret;
	}
	return finish(p, line);
}

int agent_config_parse(const char *text, size_t len, const char *name,
		       struct agent_config_text *out, char *err, size_t errlen)
{
	struct agent_config_text *t = calloc(1, sizeof(*t));
	struct parse_ctx p = { .name = name, .err = err, .errlen = errlen, .t = t };
	struct sc_ini_error ierr;
	struct sc_ini *ini = NULL;
	int ret;

	if (!t)
		return -ENOMEM;
	ret = sc_ini_parse(text, len, &ini, &ierr);
	if (ret == -ENOMEM) {
		fail(err, errlen, "%s: out of memory", name);
	} else if (ret && ierr.line) {
		fail(err, errlen, "%s:%u: %s", name, ierr.line, ierr.msg);
	} else if (ret) {
		fail(err, errlen, "%s: %s", name, ierr.msg);
	} else {
		ret = parse_entries(&p, ini);
	}
	sc_ini_free(ini);
	if (!ret)
		memcpy(out, t, sizeof(*t));
	agent_config_text_clear(t);
	free(t);
	return ret;
}

void agent_config_text_clear(struct agent_config_text *t)
{
	if (t)
		cry_wipe(t, sizeof(*t));
}

/* ---- the files ----------------------------------------------------------- */

/* Read a regular file of at most max bytes into a fresh buffer (NUL after
 * it). With secret, group or other access is refused (-EPERM). */
static int read_file(const char *path, size_t max, bool secret, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EISDIR;
		goto out;
	}
	if (secret && (st.st_mode & 077)) {
		ret = -EPERM;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		ret = -EFBIG;
		goto out;
	}
	buf = malloc(max + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	/* Read to the cap, not to st_size: the file may grow meanwhile. */
	while (n <= max) {
		r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		ret = -EFBIG;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	if (buf) {
		cry_wipe(buf, max + 1);
		free(buf);
	}
	close(fd);
	return ret;
}

static const char *file_error(int ret)
{
	switch (ret) {
	case -EPERM:
		return "readable or writable by group or others; chmod 600 it";
	case -EFBIG:
		return "file too large";
	case -EISDIR:
		return "not a regular file";
	default:
		return strerror(-ret);
	}
}

struct load_ctx {
	const char *name; /* the config file */
	const struct agent_config_text *t;
	struct agent_config *c;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 4, 5))) static int lfail(struct load_ctx *l, int ret,
						       const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fail(l->err, l->errlen, "%s: %s", path, msg);
	return ret;
}

/* A record file, armored or raw, of the given type, into out[PROTO_RECORD_MAX]. */
static int read_record(struct load_ctx *l, const char *path, unsigned int line, uint8_t type,
		       uint8_t *out, size_t *len)
{
	uint8_t *text, got;
	size_t tlen;
	int ret;

	ret = read_file(path, PROTO_ARMOR_LEN(PROTO_RECORD_MAX), false, &text, &tlen);
	if (ret)
		return lfail(l, ret, path, "%s (%s:%u)", file_error(ret), l->name, line);
	if (tlen >= 4 && memcmp(text, PROTO_MAGIC, 4) == 0) { /* not secret */
		ret = tlen <= PROTO_RECORD_MAX ? 0 : -EFBIG;
		if (!ret) {
			memcpy(out, text, tlen);
			*len = tlen;
			ret = proto_record_type(out, tlen);
			got = ret > 0 ? (uint8_t)ret : 0;
			ret = ret > 0 ? 0 : ret;
		}
	} else {
		ret = proto_armor_decode(out, PROTO_RECORD_MAX, len, &got, (const char *)text,
					 tlen);
	}
	free(text);
	if (ret)
		return lfail(l, -EINVAL, path, "not a %s file, armored or raw (%s:%u)",
			     proto_armor_label(type), l->name, line);
	if (got != type)
		return lfail(l, -EINVAL, path, "is a %s, expected a %s (%s:%u)",
			     proto_armor_label(got) ? proto_armor_label(got)
						    : "record of unknown type",
			     proto_armor_label(type), l->name, line);
	return 0;
}

/* A private key file: 44 base64 characters and an optional newline, no
 * group or other access. */
static int read_key(struct load_ctx *l, const char *path, unsigned int line, uint8_t key[32])
{
	uint8_t *text;
	size_t n;
	int ret;

	ret = read_file(path, CRY_KEY_B64_LEN + 1, true, &text, &n);
	if (ret)
		return lfail(l, ret, path, "%s (%s:%u)", file_error(ret), l->name, line);
	if (n == CRY_KEY_B64_LEN + 1 && text[CRY_KEY_B64_LEN] == '\n')
		text[--n] = '\0';
	ret = n == CRY_KEY_B64_LEN ? cry_key_from_b64(key, (const char *)text) : -EINVAL;
	cry_wipe(text, CRY_KEY_B64_LEN + 2);
	free(text);
	if (ret)
		return lfail(l, -EINVAL, path, "not a private key (44 base64 characters) (%s:%u)",
			     l->name, line);
	return 0;
}

static int load_netdef(struct load_ctx *l)
{
	const struct agent_config_text *t = l->t;
	const char *path = t->network_path;
	uint8_t *bin = (uint8_t *)l->c->cert_raw; /* scratch until the certificate */
	size_t len;
	int ret;

	ret = read_record(l, path, t->line_network, PROTO_T_NETDEF, bin, &len);
	if (ret)
		return ret;
	ret = proto_netdef_decode(&l->c->net, bin, len);
	if (ret)
		return lfail(l, ret, path, "network definition: %s", proto_strerror(ret));
	ret = proto_netdef_verify(&l->c->net, t->admin);
	if (ret == PROTO_ERR_ADMIN)
		return lfail(l, ret, path,
			     "network definition is not signed by the AdminKey pinned at %s:%u",
			     l->name, t->line_admin);
	if (ret)
		return lfail(l, ret, path, "network definition: %s", proto_strerror(ret));
	return 0;
}

static int load_cert(struct load_ctx *l, uint64_t now)
{
	const struct agent_config_text *t = l->t;
	struct agent_config *c = l->c;
	const char *path = t->cert_path;
	int ret;

	ret = read_record(l, path, t->line_cert, PROTO_T_CERT, c->cert_raw, &c->cert_len);
	if (ret)
		return ret;
	ret = proto_cert_decode(&c->cert, c->cert_raw, c->cert_len);
	if (ret)
		return lfail(l, ret, path, "certificate: %s", proto_strerror(ret));
	ret = proto_cert_verify(&c->cert, &c->net, NULL, now);
	if (ret == PROTO_ERR_NETWORK)
		return lfail(l, ret, path, "certificate is for network '%s', not '%s' (%s)",
			     c->cert.network, c->net.name, t->network_path);
	if (ret == PROTO_ERR_SIG)
		return lfail(l, ret, path,
			     "certificate is not signed by the admin key of network '%s'",
			     c->net.name);
	if (ret)
		return lfail(l, ret, path, "certificate of '%s': %s", c->cert.name,
			     proto_strerror(ret));
	return 0;
}

static int check_role(struct load_ctx *l)
{
	struct agent_config *c = l->c;
	char allowed[18], want[18];

	proto_roles_format(allowed, c->cert.roles);
	proto_roles_format(want, l->t->role);
	if (!proto_cert_allows(&c->cert, l->t->role))
		return fail(l->err, l->errlen,
			    "%s:%u: Role = %s is not allowed by the certificate %s (allows %s)",
			    l->name, l->t->line_role, want, l->t->cert_path, allowed);
	c->role = l->t->role;
	if (c->role != PROTO_ROLE_MASTER)
		return 0;
	for (size_t i = 0; i < c->net.n_relays; i++)
		if (strcmp(c->net.relays[i].name, c->cert.name) == 0 &&
		    memcmp(c->net.relays[i].wgkey, c->cert.wgkey, 32) == 0) /* not secret */
			return 0;
	return fail(l->err, l->errlen,
		    "%s:%u: Role = master, but '%s' with this WireGuard key is not a master relay "
		    "of the network definition %s",
		    l->name, l->t->line_role, c->cert.name, l->t->network_path);
}

static int check_keys(struct load_ctx *l)
{
	const struct agent_config_text *t = l->t;
	struct agent_config *c = l->c;
	uint8_t pub[32];
	int ret;

	/* PSK-only mode may leave the key to the interface (parse allowed it). */
	c->has_wg_private = t->has_wg_private || t->wg_key_path[0];
	if (t->has_wg_private)
		memcpy(c->wg_private, t->wg_private, 32);
	else if (c->has_wg_private &&
		 (ret = read_key(l, t->wg_key_path, t->line_wg_key, c->wg_private)))
		return ret;
	if (c->has_wg_private &&
	    (cry_x25519_pubkey(pub, c->wg_private) || !cry_memeq(pub, c->cert.wgkey, 32)))
		return fail(l->err, l->errlen,
			    "%s:%u: the WireGuard private key does not match the certificate's "
			    "WireGuard key (%s)",
			    l->name, t->line_wg_key, t->cert_path);
	ret = read_key(l, t->identity_path, t->line_identity, c->identity_seed);
	if (ret)
		return ret;
	if (cry_ed25519_pubkey(pub, c->identity_seed) || !cry_memeq(pub, c->cert.identity, 32))
		return lfail(l, -EINVAL, t->identity_path,
			     "not the identity key of the certificate %s (%s:%u)", t->cert_path,
			     l->name, t->line_identity);
	return 0;
}

static int load_kill(struct load_ctx *l)
{
	const struct agent_config_text *t = l->t;
	struct agent_config *c = l->c;
	int ret;

	if (!t->kill_path[0])
		return 0;
	ret = read_record(l, t->kill_path, t->line_kill, PROTO_T_KILL, c->kill_raw, &c->kill_len);
	if (ret)
		return ret;
	ret = proto_kill_decode(&c->kill, c->kill_raw, c->kill_len);
	if (!ret)
		ret = proto_kill_verify(&c->kill, &c->net);
	if (ret == PROTO_ERR_NETWORK)
		return lfail(l, ret, t->kill_path, "kill switch is for network '%s', not '%s'",
			     c->kill.network, c->net.name);
	if (ret)
		return lfail(l, ret, t->kill_path, "kill switch: %s", proto_strerror(ret));
	c->has_kill = true;
	c->kill_applies = proto_kill_applies(&c->kill, c->cert.name, c->cert.identity);
	return 0;
}

/* One [Peer] certificate: verified like this node's, not this node's, not
 * a peer given before. */
static int load_peer(struct load_ctx *l, size_t i, uint64_t now, uint8_t *bin)
{
	const struct agent_config_text *t = l->t;
	struct agent_config *c = l->c;
	const char *path = t->peer_paths + t->peer_path_off[i];
	struct proto_cert *pc = &c->peers[i];
	size_t len;
	int ret;

	ret = read_record(l, path, t->line_peer[i], PROTO_T_CERT, bin, &len);
	if (ret)
		return ret;
	ret = proto_cert_decode(pc, bin, len);
	if (ret)
		return lfail(l, ret, path, "certificate: %s (%s:%u)", proto_strerror(ret), l->name,
			     t->line_peer[i]);
	ret = proto_cert_verify(pc, &c->net, NULL, now);
	if (ret == PROTO_ERR_NETWORK)
		return lfail(l, ret, path, "peer certificate is for network '%s', not '%s' (%s:%u)",
			     pc->network, c->net.name, l->name, t->line_peer[i]);
	if (ret == PROTO_ERR_SIG)
		return lfail(l, ret, path,
			     "peer certificate is not signed by the admin key of network '%s' "
			     "(%s:%u)",
			     c->net.name, l->name, t->line_peer[i]);
	if (ret)
		return lfail(l, ret, path, "peer certificate of '%s': %s (%s:%u)", pc->name,
			     proto_strerror(ret), l->name, t->line_peer[i]);
	/* Names and keys are public: plain comparisons. */
	if (strcmp(pc->name, c->cert.name) == 0 ||
	    memcmp(pc->wgkey, c->cert.wgkey, 32) == 0) /* not secret */
		return lfail(l, -EINVAL, path, "is this node's own certificate ('%s') (%s:%u)",
			     pc->name, l->name, t->line_peer[i]);
	for (size_t j = 0; j < i; j++)
		if (strcmp(pc->name, c->peers[j].name) == 0 ||
		    memcmp(pc->wgkey, c->peers[j].wgkey, 32) == 0) /* not secret */
			return lfail(l, -EINVAL, path,
				     "peer '%s' (or its WireGuard key) is listed twice (%s:%u and "
				     "%u)",
				     pc->name, l->name, t->line_peer[j], t->line_peer[i]);
	return 0;
}

static int load_peers(struct load_ctx *l, uint64_t now)
{
	uint8_t *bin;
	int ret = 0;

	if (!l->t->n_peers)
		return 0;
	bin = malloc(PROTO_RECORD_MAX);
	if (!bin)
		return -ENOMEM;
	for (size_t i = 0; i < l->t->n_peers && !ret; i++)
		ret = load_peer(l, i, now, bin);
	free(bin);
	if (!ret)
		l->c->n_peers = l->t->n_peers;
	return ret;
}

/* The definition's PSK constants, then the test-only overrides. */
static int fill_psk(struct load_ctx *l)
{
	const struct agent_config_text *t = l->t;
	const struct proto_params *pp = &l->c->net.params;
	struct pol_psk_config *k = &l->c->psk;

	pol_psk_config_default(k);
	k->period = pp->psk_rotation_s * SC_NSEC_PER_SEC;
	k->activation = pp->kex_activation_s * SC_NSEC_PER_SEC;
	k->revert = pp->revert_s * SC_NSEC_PER_SEC;
	/* A revert needs the last working version besides the new one. */
	k->keep = pp->psk_versions < 2 ? 2 : pp->psk_versions;
	if (t->test_psk_period_s) {
		k->period = t->test_psk_period_s * SC_NSEC_PER_SEC;
		k->test_only_short_period = true;
	}
	if (t->has_test_psk_activation)
		k->activation = t->test_psk_activation_s * SC_NSEC_PER_SEC;
	if (t->test_psk_retry_s) {
		k->retry = t->test_psk_retry_s * SC_NSEC_PER_SEC;
		k->timeout = 4 * k->retry;
	}
	l->c->test_only_corrupt_version = t->test_corrupt_version;
	if (pol_psk_config_check(k))
		return fail(l->err, l->errlen,
			    "%s: the PSK timings of network '%s' and the TestOnly keys are not "
			    "valid together (period, retry, timeout, revert, versions)",
			    l->name, l->c->net.name);
	return 0;
}

static int fill_defaults(struct load_ctx *l)
{
	const struct agent_config_text *t = l->t;
	struct agent_config *c = l->c;
	int n;

	memcpy(c->ifname, t->ifname[0] ? t->ifname : c->net.name, sizeof(c->ifname));
	c->ifname[sizeof(c->ifname) - 1] = '\0';
	c->registry_off = t->registry_off;
	if (t->registry_off)
		c->registry[0] = '\0';
	else
		memcpy(c->registry, t->registry[0] ? t->registry : c->net.registry,
		       sizeof(c->registry));
	if (t->state_dir[0])
		n = snprintf(c->state_dir, sizeof(c->state_dir), "%s", t->state_dir);
	else
		n = snprintf(c->state_dir, sizeof(c->state_dir), "%s/%s", AGENT_CONFIG_STATE_BASE,
			     c->net.name);
	if (n < 0 || (size_t)n >= sizeof(c->state_dir))
		return fail(l->err, l->errlen, "%s: StateDirectory too long", l->name);
	c->listen_port = t->listen_port;
	c->mtu = t->mtu;
	c->keepalive = t->keepalive;
	c->backend = t->backend;
	c->n_endpoints = t->n_endpoints;
	memcpy(c->endpoints, t->endpoints, sizeof(c->endpoints));
	return 0;
}

static int load_all(struct load_ctx *l, uint64_t now)
{
	int ret;

	ret = load_netdef(l);
	if (!ret)
		ret = load_cert(l, now);
	if (!ret)
		ret = check_role(l);
	if (!ret)
		ret = check_keys(l);
	if (!ret)
		ret = load_kill(l);
	if (!ret)
		ret = load_peers(l, now);
	if (!ret)
		ret = fill_psk(l);
	if (!ret)
		ret = fill_defaults(l);
	return ret;
}

int agent_config_load(const char *path, uint64_t now, struct agent_config *out, char *err,
		      size_t errlen)
{
	struct agent_config_text *t = NULL;
	struct agent_config *c = NULL;
	struct load_ctx l = { .name = path, .err = err, .errlen = errlen };
	uint8_t *text = NULL;
	size_t len = 0;
	int ret;

	ret = read_file(path, AGENT_CONFIG_FILE_MAX, false, &text, &len);
	if (ret) {
		fail(err, errlen, "%s: %s", path, file_error(ret));
		return ret;
	}
	t = calloc(1, sizeof(*t));
	c = calloc(1, sizeof(*c));
	ret = t && c ? agent_config_parse((const char *)text, len, path, t, err, errlen) : -ENOMEM;
	if (!ret && t->has_wg_private) {
		struct stat st;

		/* The file holds a private key: the same rule as a key file. */
		if (stat(path, &st) == 0 && (st.st_mode & 077))
			ret = fail(err, errlen,
				   "%s: holds a PrivateKey and is readable by group or others; "
				   "chmod 600 it",
				   path);
	}
	if (!ret) {
		l.t = t;
		l.c = c;
		ret = load_all(&l, now);
	}
	if (!ret)
		memcpy(out, c, sizeof(*c));
	if (ret == -ENOMEM)
		fail(err, errlen, "%s: out of memory", path);
	cry_wipe(text, len);
	free(text);
	agent_config_text_clear(t);
	free(t);
	agent_config_clear(c);
	free(c);
	return ret;
}

void agent_config_clear(struct agent_config *c)
{
	if (c)
		cry_wipe(c, sizeof(*c));
}
