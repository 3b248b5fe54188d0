// SPDX-License-Identifier: GPL-2.0-only
/*
 * scoped's configuration (agent/config.h): a good config for each role, and
 * every refusal an operator can run into, each with a message that names
 * the file and what is wrong. Keys, the network definition, certificates
 * and kill switches are made here through the proto API, in a temporary
 * directory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"
#include "crypto/ct.h"
#include "crypto/keys.h"
#include "crypto/x25519.h"
#include "proto/armor.h"
#include "proto/cert.h"
#include "proto/kill.h"
#include "proto/netdef.h"
#include "test.h"

#define NOW 1750000000u

static char dir[64];
static uint8_t admin_seed[32], admin_pub[32], other_seed[32];
/* WireGuard and identity keys: alpha (edge, relay), mr1 (master), beta (master, unlisted). */
static uint8_t wg_priv[3][32], wg_pub[3][32], id_seed[3][32], id_pub[3][32];

static void seq(uint8_t *p, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void put(const char *name, const void *data, size_t len, mode_t mode)
{
	char p[256];
	FILE *f;

	path_of(p, sizeof(p), name);
	unlink(p);
	f = fopen(p, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_EQ(fwrite(data, 1, len, f), len);
	fclose(f);
	CHECK_EQ(chmod(p, mode), 0);
}

static void put_str(const char *name, const char *s, mode_t mode)
{
	put(name, s, strlen(s), mode);
}

static void put_key(const char *name, const uint8_t key[32], mode_t mode)
{
	char b64[CRY_KEY_B64_LEN + 1], line[CRY_KEY_B64_LEN + 2];

	cry_key_to_b64(b64, key);
	snprintf(line, sizeof(line), "%s\n", b64);
	put_str(name, line, mode);
}

/* Armored (or raw) record file. */
static void put_record(const char *name, const uint8_t *bin, size_t len, bool armored)
{
	char text[PROTO_ARMOR_LEN(PROTO_RECORD_MAX)];

	if (!armored) {
		put(name, bin, len, 0644);
		return;
	}
	CHECK_EQ(proto_armor_encode(text, sizeof(text), bin, len), 0);
	put_str(name, text, 0644);
}

/* psk-versions of the next definitions made (0: the default). */
static uint32_t netdef_psk_versions;

static void make_netdef(const char *file, const char *name, const uint8_t seed[32], bool armored)
{
	struct proto_netdef n;
	uint8_t bin[PROTO_RECORD_MAX];
	size_t len = 0;

	memset(&n, 0, sizeof(n));
	snprintf(n.name, sizeof(n.name), "%s", name);
	n.serial = 1;
	n.issued = NOW - 100;
	CHECK_EQ(proto_prefix_parse("10.7.0.0/16", &n.v4), 0);
	CHECK_EQ(proto_prefix_parse("fd00:7::/48", &n.v6), 0);
	snprintf(n.registry, sizeof(n.registry), "https://reg.example.net/");
	n.n_relays = 1;
	snprintf(n.relays[0].name, sizeof(n.relays[0].name), "mr1");
	memcpy(n.relays[0].wgkey, wg_pub[1], 32);
	CHECK_EQ(proto_endpoint_parse("203.0.113.1:51820", &n.relays[0].endpoint), 0);
	proto_params_default(&n.params);
	if (netdef_psk_versions)
		n.params.psk_versions = netdef_psk_versions;
	CHECK_EQ(proto_netdef_sign(&n, seed), 0);
	CHECK_EQ(proto_netdef_encode(&n, bin, sizeof(bin), &len), 0);
	put_record(file, bin, len, armored);
}

/* Certificate of node i (0 alpha, 1 mr1, 2 beta) in network net. */
static void make_cert(const char *file, int i, const char *net, uint8_t roles, uint64_t not_after)
{
	static const char *const names[] = { "alpha", "mr1", "beta" };
	struct proto_cert c;
	uint8_t bin[PROTO_RECORD_MAX];
	size_t len = 0;

	memset(&c, 0, sizeof(c));
	snprintf(c.network, sizeof(c.network), "%s", net);
	c.serial = 7;
	snprintf(c.name, sizeof(c.name), "%s", names[i]);
	memcpy(c.identity, id_pub[i], 32);
	memcpy(c.wgkey, wg_pub[i], 32);
	c.roles = roles;
	c.not_before = NOW - 1000;
	c.not_after = not_after;
	CHECK_EQ(proto_addr_parse(i == 1 ? "10.7.0.1" : "10.7.0.5", 4, c.addr4), 0);
	CHECK_EQ(proto_addr_parse(i == 1 ? "fd00:7::1" : "fd00:7::5", 6, c.addr6), 0);
	CHECK_EQ(proto_cert_sign(&c, admin_seed), 0);
	CHECK_EQ(proto_cert_encode(&c, bin, sizeof(bin), &len), 0);
	put_record(file, bin, len, true);
}

static void make_kill(const char *file, const char *target, const uint8_t seed[32])
{
	struct proto_kill k;
	uint8_t bin[PROTO_RECORD_MAX];
	size_t len = 0;

	memset(&k, 0, sizeof(k));
	snprintf(k.network, sizeof(k.network), "lab");
	k.serial = 3;
	k.issued = NOW - 10;
	k.scope = target ? PROTO_KILL_LISTED : PROTO_KILL_ALL;
	if (target)
		CHECK_EQ(proto_kill_add_name(&k, target), 0);
	CHECK_EQ(proto_kill_sign(&k, seed), 0);
	CHECK_EQ(proto_kill_encode(&k, bin, sizeof(bin), &len), 0);
	put_record(file, bin, len, true);
}

/* The standard files: network.scope, alpha.cert, mr1.cert, keys. */
static void setup(void)
{
	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "/tmp/scope-test-config.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	seq(admin_seed, 32, 1);
	seq(other_seed, 32, 0x99);
	CHECK_EQ(cry_ed25519_pubkey(admin_pub, admin_seed), 0);
	for (int i = 0; i < 3; i++) {
		seq(wg_priv[i], 32, (uint8_t)(0x40 + 0x20 * i));
		cry_x25519_clamp(wg_priv[i]);
		CHECK_EQ(cry_x25519_pubkey(wg_pub[i], wg_priv[i]), 0);
		seq(id_seed[i], 32, (uint8_t)(0x50 + 0x20 * i));
		CHECK_EQ(cry_ed25519_pubkey(id_pub[i], id_seed[i]), 0);
	}
	make_netdef("network.scope", "lab", admin_seed, true);
	make_cert("alpha.cert", 0, "lab", PROTO_ROLE_EDGE | PROTO_ROLE_RELAY, NOW + 1000);
	make_cert("mr1.cert", 1, "lab", PROTO_ROLE_MASTER, NOW + 1000);
	make_cert("beta.cert", 2, "lab", PROTO_ROLE_MASTER | PROTO_ROLE_EDGE, NOW + 1000);
	put_key("alpha.id", id_seed[0], 0600);
	put_key("alpha.key", wg_priv[0], 0600);
	put_key("mr1.id", id_seed[1], 0600);
	put_key("mr1.key", wg_priv[1], 0600);
	put_key("beta.id", id_seed[2], 0600);
	put_key("beta.key", wg_priv[2], 0600);
}

/* A config for node (alpha, mr1 or beta) with the given role; extra lines
 * go at the end of [Scope] and [Interface]. */
static void write_conf(const char *node, const char *role, const char *scope_extra,
		       const char *iface_extra, mode_t mode)
{
	char text[4096], admin[CRY_KEY_B64_LEN + 1];

	cry_key_to_b64(admin, admin_pub);
	snprintf(text, sizeof(text),
		 "# scoped test config\n"
		 "[Scope]\n"
		 "Network = network.scope\n"
		 "AdminKey = %s\n"
		 "Certificate = %s.cert\n"
		 "IdentityKey = %s.id   # Ed25519 seed\n"
		 "Role = %s\n"
		 "%s"
		 "\n[Interface]\n"
		 "%s",
		 admin, node, node, role, scope_extra, iface_extra);
	put_str("scoped.conf", text, mode);
}

static char conf_path[256], err[512];
static struct agent_config cfg;

static int load(void)
{
	path_of(conf_path, sizeof(conf_path), "scoped.conf");
	err[0] = '\0';
	return agent_config_load(conf_path, NOW, &cfg, err, sizeof(err));
}

/* The load fails and the message contains every one of the words. */
static void refused(const char *w1, const char *w2)
{
	int ret = load();

	CHECK(ret < 0);
	if (ret == 0 || !strstr(err, w1) || (w2 && !strstr(err, w2)))
		fprintf(stderr, "# error '%s' (want '%s', '%s')\n", err, w1, w2 ? w2 : "");
	CHECK(strstr(err, w1) != NULL);
	if (w2)
		CHECK(strstr(err, w2) != NULL);
	agent_config_clear(&cfg);
}

/* ---- accepted ------------------------------------------------------------- */

static void test_good_edge(void)
{
	setup();
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\n", 0644);
	CHECK_EQ(load(), 0);
	if (err[0])
		fprintf(stderr, "# %s\n", err);
	CHECK_EQ(cfg.role, PROTO_ROLE_EDGE);
	CHECK(strcmp(cfg.cert.name, "alpha") == 0);
	CHECK(strcmp(cfg.net.name, "lab") == 0);
	CHECK(strcmp(cfg.ifname, "lab") == 0);
	CHECK(strcmp(cfg.state_dir, "/var/lib/scope/lab") == 0);
	CHECK(strcmp(cfg.registry, "https://reg.example.net/") == 0);
	CHECK_EQ(cfg.listen_port, 0);
	CHECK_EQ(cfg.mtu, 1420);
	CHECK_EQ(cfg.keepalive, 25);
	CHECK_EQ(cfg.backend, AGENT_BACKEND_ENGINE);
	CHECK_EQ(cfg.n_endpoints, 0);
	CHECK(!cfg.has_kill);
	CHECK_MEM(cfg.wg_private, wg_priv[0], 32);
	CHECK_MEM(cfg.identity_seed, id_seed[0], 32);
	/* The certificate's canonical bytes, ready to send on join. */
	{
		struct proto_cert c;

		CHECK(cfg.cert_len > 0);
		CHECK_EQ(proto_cert_decode(&c, cfg.cert_raw, cfg.cert_len), 0);
		CHECK_MEM(c.wgkey, wg_pub[0], 32);
	}
	agent_config_clear(&cfg);
	CHECK(cry_is_zero(cfg.wg_private, 32) && cry_is_zero(cfg.identity_seed, 32));
}

static void test_good_relay(void)
{
	char iface[512], b64[CRY_KEY_B64_LEN + 1];

	setup();
	cry_key_to_b64(b64, wg_priv[0]);
	snprintf(iface, sizeof(iface),
		 "PrivateKey = %s\n"
		 "Name = scope0\n"
		 "MTU = 1380\n"
		 "PersistentKeepalive = off\n"
		 "Endpoint = 198.51.100.7:51820\n"
		 "endpoint = [2001:db8::7]:51820\n",
		 b64);
	write_conf("alpha", "relay",
		   "StateDirectory = state\nRegistry = http://10.0.0.1:8080\nBackend = engine\n",
		   iface, 0600);
	CHECK_EQ(load(), 0);
	if (err[0])
		fprintf(stderr, "# %s\n", err);
	CHECK_EQ(cfg.role, PROTO_ROLE_RELAY);
	CHECK_EQ(cfg.listen_port, 51820);
	CHECK(strcmp(cfg.ifname, "scope0") == 0);
	CHECK_EQ(cfg.mtu, 1380);
	CHECK_EQ(cfg.keepalive, 0);
	CHECK(strcmp(cfg.registry, "http://10.0.0.1:8080") == 0);
	/* Relative to the config file's directory. */
	{
		char want[256];

		path_of(want, sizeof(want), "state");
		CHECK(strcmp(cfg.state_dir, want) == 0);
	}
	CHECK_EQ(cfg.n_endpoints, 2);
	CHECK_EQ(cfg.endpoints[1].family, 6);
	CHECK_MEM(cfg.wg_private, wg_priv[0], 32);
	agent_config_clear(&cfg);
}

static void test_good_master_with_kill(void)
{
	setup();
	/* A raw (not armored) definition is accepted too. */
	make_netdef("raw.scope", "lab", admin_seed, false);
	make_kill("kill-other.scope", "alpha", admin_seed);
	write_conf("mr1", "master", "Network = raw.scope\nKill = kill-other.scope\n",
		   "PrivateKeyFile = mr1.key\nListenPort = 4000\n", 0644);
	refused("Network given twice", "scoped.conf:");
	write_conf("mr1", "master", "Kill = kill-other.scope\n",
		   "PrivateKeyFile = mr1.key\nListenPort = 4000\n", 0644);
	CHECK_EQ(load(), 0);
	if (err[0])
		fprintf(stderr, "# %s\n", err);
	CHECK_EQ(cfg.role, PROTO_ROLE_MASTER);
	CHECK_EQ(cfg.listen_port, 4000);
	CHECK(cfg.has_kill);
	CHECK(!cfg.kill_applies);
	CHECK(cfg.kill_len > 0);
	agent_config_clear(&cfg);

	make_kill("kill-all.scope", NULL, admin_seed);
	write_conf("mr1", "master", "Kill = kill-all.scope\n", "PrivateKeyFile = mr1.key\n", 0644);
	CHECK_EQ(load(), 0);
	CHECK(cfg.has_kill && cfg.kill_applies);
	CHECK_EQ(cfg.listen_port, 51820);
	agent_config_clear(&cfg);

	/* The raw definition. */
	put_str("raw.conf", "", 0644);
	{
		char text[1024], admin[CRY_KEY_B64_LEN + 1];

		cry_key_to_b64(admin, admin_pub);
		snprintf(text, sizeof(text),
			 "[Scope]\nNetwork = raw.scope\nAdminKey = %s\nCertificate = mr1.cert\n"
			 "IdentityKey = mr1.id\nRole = master\n[Interface]\n"
			 "PrivateKeyFile = mr1.key\n",
			 admin);
		put_str("scoped.conf", text, 0644);
	}
	CHECK_EQ(load(), 0);
	CHECK(strcmp(cfg.net.name, "lab") == 0);
	agent_config_clear(&cfg);
}

/* ---- refused -------------------------------------------------------------- */

static void test_unknown_key_and_section(void)
{
	setup();
	write_conf("alpha", "edge", "Colour = blue\n", "PrivateKeyFile = alpha.key\n", 0644);
	refused("scoped.conf:8:", "unknown key 'Colour'");
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\n[Peer]\nPublicKey = x\n",
		   0644);
	refused("unknown key 'PublicKey' in [Peer]", NULL);
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\n[Peers]\nCertificate = x\n",
		   0644);
	refused("unknown section [Peers]", NULL);
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\nAddress = 10.0.0.1/24\n",
		   0644);
	refused("unknown key 'Address'", NULL);
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\n[Scope]\nKill = k\n", 0644);
	refused("second [Scope]", NULL);
}

static void test_bad_values(void)
{
	setup();
	write_conf("alpha", "edge,relay", "", "PrivateKeyFile = alpha.key\n", 0644);
	refused("scoped.conf:7:", "Role");
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\nListenPort = 65536\n", 0644);
	refused("ListenPort", "0..65535");
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\nMTU = 500\n", 0644);
	refused("MTU", NULL);
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\nName = a/b\n", 0644);
	refused("Name", NULL);
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\nEndpoint = 1.2.3.4\n", 0644);
	refused("Endpoint", NULL);
	write_conf("alpha", "edge", "",
		   "PrivateKeyFile = alpha.key\nEndpoint = 1.2.3.4:5\nEndpoint = 1.2.3.4:5\n",
		   0644);
	refused("given twice", NULL);
	write_conf("alpha", "edge", "Backend = wireguard\n", "PrivateKeyFile = alpha.key\n", 0644);
	refused("Backend: 'wireguard' is not one of engine, uapi, kernel", NULL);
	write_conf("alpha", "edge", "Backend = Kernel\n", "PrivateKeyFile = alpha.key\n", 0644);
	refused("Backend: 'Kernel' is not one of", NULL);
	write_conf("alpha", "edge", "Registry = ftp://x\n", "PrivateKeyFile = alpha.key\n", 0644);
	refused("Registry", NULL);
	write_conf("alpha", "edge", "", "", 0644);
	refused("exactly one of PrivateKey and PrivateKeyFile", NULL);
	put_str("scoped.conf", "[Scope]\nNetwork = network.scope\n", 0644);
	refused("AdminKey is required", NULL);
	put_str("scoped.conf", "[Scope]\nNetwork\n", 0644);
	refused("scoped.conf:2:", NULL);
}

static void test_wrong_admin_key(void)
{
	setup();
	/* A definition signed by another admin, with the pinned key unchanged. */
	make_netdef("other.scope", "lab", other_seed, true);
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\n", 0644);
	{
		char *t;
		size_t n;
		char p[256];

		path_of(p, sizeof(p), "scoped.conf");
		t = t_slurp(p, &n);
		CHECK(t != NULL);
		if (!t)
			return;
		memcpy(strstr(t, "network.scope"), "other.scope  ", 13);
		put_str("scoped.conf", t, 0644);
		free(t);
	}
	refused("other.scope", "not signed by the AdminKey pinned at");
}

static void test_cert_for_another_network(void)
{
	setup();
	make_cert("lab2.cert", 0, "lab2", PROTO_ROLE_EDGE, NOW + 1000);
	put_key("lab2.id", id_seed[0], 0600);
	write_conf("lab2", "edge", "", "PrivateKeyFile = alpha.key\n", 0644);
	refused("lab2.cert", "is for network 'lab2', not 'lab'");
}

static void test_cert_expired(void)
{
	setup();
	make_cert("old.cert", 0, "lab", PROTO_ROLE_EDGE, NOW);
	put_key("old.id", id_seed[0], 0600);
	write_conf("old", "edge", "", "PrivateKeyFile = alpha.key\n", 0644);
	refused("old.cert", "expired");
}

static void test_role_not_allowed(void)
{
	setup();
	write_conf("alpha", "master", "", "PrivateKeyFile = alpha.key\n", 0644);
	refused("Role = master is not allowed", "allows edge,relay");
	/* Allowed by the certificate, but not a master of the definition. */
	write_conf("beta", "master", "", "PrivateKeyFile = beta.key\n", 0644);
	refused("not a master relay", NULL);
	write_conf("beta", "edge", "", "PrivateKeyFile = beta.key\n", 0644);
	CHECK_EQ(load(), 0);
	agent_config_clear(&cfg);
}

static void test_wg_key_mismatch(void)
{
	setup();
	write_conf("alpha", "edge", "", "PrivateKeyFile = mr1.key\n", 0644);
	refused("does not match the certificate", "scoped.conf:10:");
}

static void test_identity_key(void)
{
	char p[256];

	setup();
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\n", 0644);
	path_of(p, sizeof(p), "alpha.id");
	CHECK_EQ(chmod(p, 0644), 0);
	refused("alpha.id", "chmod 600");
	CHECK_EQ(chmod(p, 0640), 0);
	refused("alpha.id", "chmod 600");
	CHECK_EQ(chmod(p, 0600), 0);
	/* Another node's identity key. */
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\n", 0644);
	{
		char *t;
		size_t n;

		path_of(p, sizeof(p), "scoped.conf");
		t = t_slurp(p, &n);
		if (!t)
			return;
		memcpy(strstr(t, "alpha.id"), "mr1.id  ", 8);
		put_str("scoped.conf", t, 0644);
		free(t);
	}
	refused("mr1.id", "not the identity key of the certificate");
	/* A WireGuard key file readable by others. */
	path_of(p, sizeof(p), "alpha.key");
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\n", 0644);
	CHECK_EQ(chmod(p, 0604), 0);
	refused("alpha.key", "chmod 600");
	CHECK_EQ(chmod(p, 0600), 0);
}

static void test_inline_key_in_readable_config(void)
{
	char iface[128], b64[CRY_KEY_B64_LEN + 1];

	setup();
	cry_key_to_b64(b64, wg_priv[0]);
	snprintf(iface, sizeof(iface), "PrivateKey = %s\n", b64);
	write_conf("alpha", "edge", "", iface, 0644);
	refused("holds a PrivateKey", "chmod 600");
}

static void test_missing_file(void)
{
	setup();
	write_conf("nobody", "edge", "", "PrivateKeyFile = alpha.key\n", 0644);
	refused("nobody.cert", "No such file");
	path_of(conf_path, sizeof(conf_path), "absent.conf");
	CHECK(agent_config_load(conf_path, NOW, &cfg, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "absent.conf") != NULL);
	write_conf("alpha", "edge", "Kill = nokill.scope\n", "PrivateKeyFile = alpha.key\n", 0644);
	refused("nokill.scope", "scoped.conf:8");
	/* A certificate where the definition should be. */
	write_conf("alpha", "edge", "Network = alpha.cert\n", "PrivateKeyFile = alpha.key\n", 0644);
	refused("Network given twice", NULL);
}

static void test_wrong_kind_of_file(void)
{
	char text[1024], admin[CRY_KEY_B64_LEN + 1];

	setup();
	cry_key_to_b64(admin, admin_pub);
	snprintf(text, sizeof(text),
		 "[Scope]\nNetwork = alpha.cert\nAdminKey = %s\nCertificate = alpha.cert\n"
		 "IdentityKey = alpha.id\nRole = edge\n[Interface]\nPrivateKeyFile = alpha.key\n",
		 admin);
	put_str("scoped.conf", text, 0644);
	refused("alpha.cert", "expected a SCOPE NETWORK");
	put_str("garbage.scope", "hello\n", 0644);
	snprintf(text, sizeof(text),
		 "[Scope]\nNetwork = garbage.scope\nAdminKey = %s\nCertificate = alpha.cert\n"
		 "IdentityKey = alpha.id\nRole = edge\n[Interface]\nPrivateKeyFile = alpha.key\n",
		 admin);
	put_str("scoped.conf", text, 0644);
	refused("garbage.scope", "not a SCOPE NETWORK file");
}

static void test_forged_kill(void)
{
	setup();
	make_kill("forged.scope", NULL, other_seed);
	write_conf("alpha", "edge", "Kill = forged.scope\n", "PrivateKeyFile = alpha.key\n", 0644);
	refused("forged.scope", "kill switch");
}

static void test_out_untouched_on_error(void)
{
	struct agent_config before;

	setup();
	write_conf("alpha", "master", "", "PrivateKeyFile = alpha.key\n", 0644);
	memset(&cfg, 0xa5, sizeof(cfg));
	memcpy(&before, &cfg, sizeof(cfg));
	CHECK(load() < 0);
	CHECK(memcmp(&before, &cfg, sizeof(cfg)) == 0);
	agent_config_clear(&cfg);
}

static void test_parse_only(void)
{
	struct agent_config_text t;
	const char *text = "[Scope]\nNetwork = /etc/n\nAdminKey = "
			   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nCertificate = c\n"
			   "IdentityKey = i\nRole = relay\n[Interface]\nPrivateKeyFile = k\n";

	CHECK_EQ(agent_config_parse(text, strlen(text), "/etc/scope/x.conf", &t, err, sizeof(err)),
		 0);
	CHECK(strcmp(t.network_path, "/etc/n") == 0);
	CHECK(strcmp(t.cert_path, "/etc/scope/c") == 0);
	CHECK(strcmp(t.wg_key_path, "/etc/scope/k") == 0);
	CHECK_EQ(t.listen_port, 51820);
	CHECK_EQ(t.role, PROTO_ROLE_RELAY);
	agent_config_text_clear(&t);
}

/* ---- PSK-only mode (Backend = uapi) ---------------------------------------- */

#define PEERS_MR1_BETA "[Peer]\nCertificate = mr1.cert\n\n[Peer]\ncertificate = beta.cert\n"

static void test_pskonly_good(void)
{
	setup();
	/* No private key: the interface holds it. */
	write_conf("alpha", "edge", "Backend = uapi\nRegistry = off\n",
		   "Name = wg-lab0\n" PEERS_MR1_BETA, 0644);
	CHECK_EQ(load(), 0);
	if (err[0])
		fprintf(stderr, "# %s\n", err);
	CHECK_EQ(cfg.backend, AGENT_BACKEND_UAPI);
	CHECK(!cfg.has_wg_private);
	CHECK(cry_is_zero(cfg.wg_private, 32));
	CHECK(cfg.registry_off);
	CHECK_EQ(cfg.registry[0], '\0');
	CHECK(strcmp(cfg.ifname, "wg-lab0") == 0);
	CHECK_EQ(cfg.n_peers, 2);
	CHECK(strcmp(cfg.peers[0].name, "mr1") == 0);
	CHECK(strcmp(cfg.peers[1].name, "beta") == 0);
	CHECK_MEM(cfg.peers[0].wgkey, wg_pub[1], 32);
	CHECK_MEM(cfg.peers[1].wgkey, wg_pub[2], 32);
	/* The in-tunnel address of a peer is its certificate's. */
	CHECK_EQ(cfg.peers[0].addr4[3], 1);
	/* The definition's PSK constants, in ns. */
	CHECK_EQ(cfg.psk.period, 3600 * SC_NSEC_PER_SEC);
	CHECK_EQ(cfg.psk.activation, 60 * SC_NSEC_PER_SEC);
	CHECK_EQ(cfg.psk.revert, 15 * SC_NSEC_PER_SEC);
	CHECK_EQ(cfg.psk.keep, 3);
	CHECK(!cfg.psk.test_only_short_period);
	CHECK_EQ(cfg.test_only_corrupt_version, 0);
	CHECK_EQ(pol_psk_config_check(&cfg.psk), 0);
	CHECK_MEM(cfg.identity_seed, id_seed[0], 32);
	agent_config_clear(&cfg);

	/* The kernel backend (issue 7): the same mode, the same keys. */
	write_conf("alpha", "edge", "Backend = kernel\nRegistry = off\n",
		   "Name = wg-lab0\n" PEERS_MR1_BETA, 0644);
	CHECK_EQ(load(), 0);
	if (err[0])
		fprintf(stderr, "# %s\n", err);
	CHECK_EQ(cfg.backend, AGENT_BACKEND_KERNEL);
	CHECK(!cfg.has_wg_private);
	CHECK(cfg.registry_off);
	CHECK(strcmp(cfg.ifname, "wg-lab0") == 0);
	CHECK_EQ(cfg.n_peers, 2);
	CHECK_MEM(cfg.peers[1].wgkey, wg_pub[2], 32);
	CHECK_EQ(pol_psk_config_check(&cfg.psk), 0);
	agent_config_clear(&cfg);
	write_conf("alpha", "edge", "Backend = kernel\n", "PrivateKeyFile = alpha.key\n", 0644);
	CHECK_EQ(load(), 0);
	CHECK_EQ(cfg.backend, AGENT_BACKEND_KERNEL);
	CHECK(cfg.has_wg_private);
	CHECK(!cfg.registry_off);
	agent_config_clear(&cfg);
	write_conf("alpha", "edge", "Backend = kernel\n", "PrivateKeyFile = mr1.key\n", 0644);
	refused("does not match the certificate", NULL);

	/* With the key, which must then match; with the registry; no peers. */
	write_conf("alpha", "edge", "Backend = uapi\n", "PrivateKeyFile = alpha.key\n", 0644);
	CHECK_EQ(load(), 0);
	CHECK(cfg.has_wg_private);
	CHECK_MEM(cfg.wg_private, wg_priv[0], 32);
	CHECK(!cfg.registry_off);
	CHECK(strcmp(cfg.registry, "https://reg.example.net/") == 0);
	CHECK(strcmp(cfg.ifname, "lab") == 0);
	CHECK_EQ(cfg.n_peers, 0);
	agent_config_clear(&cfg);
	write_conf("alpha", "edge", "Backend = uapi\n", "PrivateKeyFile = mr1.key\n", 0644);
	refused("does not match the certificate", NULL);
	/* The engine always has the key. */
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\n", 0644);
	CHECK_EQ(load(), 0);
	CHECK(cfg.has_wg_private);
	CHECK_EQ(cfg.n_peers, 0);
	agent_config_clear(&cfg);
}

static void test_pskonly_refusals(void)
{
	static const char *const managed[] = { "ListenPort = 51820\n", "MTU = 1420\n",
					       "PersistentKeepalive = 25\n",
					       "Endpoint = 198.51.100.7:51820\n" };
	static const char *const names[] = { "ListenPort", "MTU", "PersistentKeepalive",
					     "Endpoint" };
	char iface[256];

	setup();
	for (size_t i = 0; i < SC_ARRAY_SIZE(managed); i++) {
		snprintf(iface, sizeof(iface), "Name = wg0\n%s", managed[i]);
		write_conf("alpha", "edge", "Backend = uapi\n", iface, 0644);
		refused(names[i], "not allowed with Backend = uapi");
		CHECK(strstr(err, "scoped.conf:12:") != NULL);
		write_conf("alpha", "edge", "Backend = kernel\n", iface, 0644);
		refused(names[i], "not allowed with Backend = kernel");
		CHECK(strstr(err, "scoped.conf:12:") != NULL);
	}
	{
		char b64[CRY_KEY_B64_LEN + 1];

		cry_key_to_b64(b64, wg_priv[0]);
		snprintf(iface, sizeof(iface), "PrivateKey = %s\nPrivateKeyFile = alpha.key\n",
			 b64);
		write_conf("alpha", "edge", "Backend = uapi\n", iface, 0600);
		refused("at most one of PrivateKey and PrivateKeyFile", NULL);
	}
	/* [Peer] and Registry = off are PSK-only. */
	write_conf("alpha", "edge", "", "PrivateKeyFile = alpha.key\n" PEERS_MR1_BETA, 0644);
	refused("[Peer] sections are for Backend = uapi", "scoped.conf:12:");
	write_conf("alpha", "edge", "Registry = off\n", "PrivateKeyFile = alpha.key\n", 0644);
	refused("Registry = off is for Backend = uapi", "scoped.conf:8:");
	/* One Certificate per [Peer]. */
	write_conf("alpha", "edge", "Backend = uapi\n",
		   "[Peer]\nCertificate = mr1.cert\nCertificate = beta.cert\n", 0644);
	refused("Certificate given twice in one [Peer]", "scoped.conf:13:");
	/* A peer's certificate for another network: refused, naming it. */
	make_cert("other-net.cert", 2, "lab2", PROTO_ROLE_EDGE, NOW + 1000);
	write_conf("alpha", "edge", "Backend = uapi\n",
		   "[Peer]\nCertificate = mr1.cert\n[Peer]\nCertificate = other-net.cert\n", 0644);
	refused("other-net.cert", "is for network 'lab2', not 'lab' (");
	CHECK(strstr(err, "scoped.conf:14") != NULL);
	/* Expired, not yet valid. */
	make_cert("old-peer.cert", 2, "lab", PROTO_ROLE_EDGE, NOW);
	write_conf("alpha", "edge", "Backend = uapi\n", "[Peer]\nCertificate = old-peer.cert\n",
		   0644);
	refused("old-peer.cert", "expired");
	/* Signed by someone else: a certificate made with another admin key. */
	{
		uint8_t save[32];

		memcpy(save, admin_seed, 32);
		memcpy(admin_seed, other_seed, 32);
		make_cert("forged-peer.cert", 2, "lab", PROTO_ROLE_EDGE, NOW + 1000);
		memcpy(admin_seed, save, 32);
	}
	write_conf("alpha", "edge", "Backend = uapi\n", "[Peer]\nCertificate = forged-peer.cert\n",
		   0644);
	refused("forged-peer.cert", "not signed by the admin key");
	/* This node's own certificate, a peer twice, a missing file, a definition. */
	write_conf("alpha", "edge", "Backend = uapi\n", "[Peer]\nCertificate = alpha.cert\n", 0644);
	refused("this node's own certificate", NULL);
	write_conf("alpha", "edge", "Backend = uapi\n",
		   "[Peer]\nCertificate = mr1.cert\n[Peer]\nCertificate = ./mr1.cert\n", 0644);
	refused("'mr1' (or its WireGuard key) is listed twice", NULL);
	write_conf("alpha", "edge", "Backend = uapi\n", "[Peer]\nCertificate = nobody.cert\n",
		   0644);
	refused("nobody.cert", "No such file");
	write_conf("alpha", "edge", "Backend = uapi\n", "[Peer]\nCertificate = network.scope\n",
		   0644);
	refused("network.scope", "expected a SCOPE CERTIFICATE");
}

/* The cap on [Peer] sections, from the text alone. */
static void test_pskonly_peer_cap(void)
{
	const char *head = "[Scope]\nNetwork = n\nAdminKey = "
			   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nCertificate = c\n"
			   "IdentityKey = i\nRole = edge\nBackend = uapi\n";
	struct agent_config_text *t = calloc(1, sizeof(*t));
	size_t cap = 64 * 1024, n;
	char *text = malloc(cap);

	CHECK(t && text);
	if (!t || !text)
		goto out;
	for (int peers = AGENT_CONFIG_PEERS_MAX; peers <= AGENT_CONFIG_PEERS_MAX + 1; peers++) {
		n = (size_t)snprintf(text, cap, "%s", head);
		for (int i = 0; i < peers; i++)
			n += (size_t)snprintf(text + n, cap - n, "[Peer]\nCertificate = p%d.cert\n",
					      i);
		err[0] = '\0';
		if (peers == AGENT_CONFIG_PEERS_MAX) {
			CHECK_EQ(agent_config_parse(text, n, "/etc/scope/x.conf", t, err,
						    sizeof(err)),
				 0);
			CHECK_EQ(t->n_peers, AGENT_CONFIG_PEERS_MAX);
			CHECK(strcmp(t->peer_paths + t->peer_path_off[255],
				     "/etc/scope/p255.cert") == 0);
			CHECK(strcmp(t->peer_paths + t->peer_path_off[0], "/etc/scope/p0.cert") ==
			      0);
			agent_config_text_clear(t);
		} else {
			CHECK_EQ(agent_config_parse(text, n, "/etc/scope/x.conf", t, err,
						    sizeof(err)),
				 -EINVAL);
			CHECK(strstr(err, "at most 256") != NULL);
		}
	}
out:
	free(text);
	free(t);
}

static void test_psk_timings(void)
{
	const char *ok = "Backend = uapi\nTestOnlyPskPeriod = 5\nTestOnlyPskActivation = 2\n"
			 "TestOnlyPskRetry = 1\nTestOnlyCorruptPskVersion = 3\n";

	setup();
	write_conf("alpha", "edge", ok, PEERS_MR1_BETA, 0644);
	CHECK_EQ(load(), 0);
	if (err[0])
		fprintf(stderr, "# %s\n", err);
	CHECK_EQ(cfg.psk.period, 5 * SC_NSEC_PER_SEC);
	CHECK(cfg.psk.test_only_short_period);
	CHECK_EQ(cfg.psk.activation, 2 * SC_NSEC_PER_SEC);
	CHECK_EQ(cfg.psk.retry, 1 * SC_NSEC_PER_SEC);
	CHECK_EQ(cfg.psk.timeout, 4 * SC_NSEC_PER_SEC);
	CHECK_EQ(cfg.psk.revert, 15 * SC_NSEC_PER_SEC);
	CHECK_EQ(cfg.test_only_corrupt_version, 3);
	CHECK_EQ(pol_psk_config_check(&cfg.psk), 0);
	agent_config_clear(&cfg);
	/* Each alone; activation 0 is allowed (switch at confirmation). The
	 * keys work with the engine too (the managed mode's tests use them). */
	write_conf("alpha", "edge", "TestOnlyPskActivation = 0\n", "PrivateKeyFile = alpha.key\n",
		   0644);
	CHECK_EQ(load(), 0);
	CHECK_EQ(cfg.psk.activation, 0);
	CHECK_EQ(cfg.psk.period, 3600 * SC_NSEC_PER_SEC);
	CHECK(!cfg.psk.test_only_short_period);
	CHECK_EQ(cfg.psk.retry, 10 * SC_NSEC_PER_SEC);
	CHECK_EQ(cfg.psk.timeout, 120 * SC_NSEC_PER_SEC);
	agent_config_clear(&cfg);
	/* Refusals: out of range, not a number, twice. */
	write_conf("alpha", "edge", "Backend = uapi\nTestOnlyPskPeriod = 0\n", "", 0644);
	refused("TestOnlyPskPeriod", "1..86400");
	write_conf("alpha", "edge", "Backend = uapi\nTestOnlyPskActivation = 86401\n", "", 0644);
	refused("TestOnlyPskActivation", "0..86400");
	write_conf("alpha", "edge", "Backend = uapi\nTestOnlyPskRetry = 0\n", "", 0644);
	refused("TestOnlyPskRetry", NULL);
	write_conf("alpha", "edge", "Backend = uapi\nTestOnlyPskRetry = 1s\n", "", 0644);
	refused("TestOnlyPskRetry", "not a number");
	write_conf("alpha", "edge", "Backend = uapi\nTestOnlyCorruptPskVersion = 0\n", "", 0644);
	refused("TestOnlyCorruptPskVersion", NULL);
	write_conf("alpha", "edge",
		   "Backend = uapi\nTestOnlyPskPeriod = 5\nTestOnlyPskPeriod = 6\n", "", 0644);
	refused("TestOnlyPskPeriod given twice", NULL);
	/* psk-versions = 1 in the definition: kept as 2 (a revert needs two). */
	netdef_psk_versions = 1;
	make_netdef("v1.scope", "lab", admin_seed, true);
	netdef_psk_versions = 4;
	make_netdef("v4.scope", "lab", admin_seed, true);
	netdef_psk_versions = 0;
	{
		char text[1024], admin[CRY_KEY_B64_LEN + 1];

		cry_key_to_b64(admin, admin_pub);
		for (int v = 1; v <= 4; v += 3) {
			snprintf(
				text, sizeof(text),
				"[Scope]\nNetwork = v%d.scope\nAdminKey = %s\nCertificate = "
				"alpha.cert\nIdentityKey = alpha.id\nRole = edge\nBackend = uapi\n",
				v, admin);
			put_str("scoped.conf", text, 0644);
			CHECK_EQ(load(), 0);
			CHECK_EQ(cfg.psk.keep, v == 1 ? 2 : 4);
			agent_config_clear(&cfg);
		}
	}
}

static void cleanup(void)
{
	char cmd[128];

	if (!dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_EQ(system(cmd), 0);
}

static const struct t_case cases[] = {
	T(test_good_edge),
	T(test_good_relay),
	T(test_good_master_with_kill),
	T(test_unknown_key_and_section),
	T(test_bad_values),
	T(test_wrong_admin_key),
	T(test_cert_for_another_network),
	T(test_cert_expired),
	T(test_role_not_allowed),
	T(test_wg_key_mismatch),
	T(test_identity_key),
	T(test_inline_key_in_readable_config),
	T(test_missing_file),
	T(test_wrong_kind_of_file),
	T(test_forged_kill),
	T(test_out_untouched_on_error),
	T(test_parse_only),
	T(test_pskonly_good),
	T(test_pskonly_refusals),
	T(test_pskonly_peer_cap),
	T(test_psk_timings),
	T(cleanup),
};

int main(void)
{
	return t_main("agent-config", cases, SC_ARRAY_SIZE(cases));
}
