/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scoped's configuration file: wg-quick-style INI (common/ini.h), two
 * sections, each at most once. docs/agent.md, "Configuration", is the
 * reference; in short:
 *
 *	[Scope]
 *	Network = network.scope       signed network definition (armored or raw)
 *	AdminKey = <base64>           pinned; the definition must carry it
 *	Certificate = alice.cert      this node's certificate (armored or raw)
 *	IdentityKey = alice.id        Ed25519 seed, no group/other access
 *	Role = edge|relay|master      allowed by the certificate
 *	StateDirectory = ...          default /var/lib/scope/<network>
 *	Registry = http(s)://... | off   default: the definition's; off: no
 *	                              registry at all (PSK-only mode only)
 *	Backend = engine | uapi | kernel   uapi, kernel: PSK-only mode on an
 *	                              existing interface (docs/pskonly.md) through
 *	                              its UAPI socket or the kernel's netlink
 *	                              (docs/wgkernel.md)
 *	Kill = kill.scope             optional kill switch (armored or raw)
 *	TestOnlyPskPeriod = <s>       TEST ONLY overrides of the PSK timings
 *	TestOnlyPskActivation = <s>   (docs/agent.md); never in production
 *	TestOnlyPskRetry = <s>
 *	TestOnlyCorruptPskVersion = <n>
 *	[Interface]
 *	PrivateKey = <base64> | PrivateKeyFile = path   (optional with uapi, kernel)
 *	ListenPort = 51820            default 51820 (master, relay), 0 (edge)
 *	Name = <ifname>               default the network name
 *	MTU = 1420
 *	PersistentKeepalive = 25      an edge's towards masters; 0 or off
 *	Endpoint = IP:port            repeatable: advertised public endpoints
 *	[Peer]                        repeatable, Backend = uapi/kernel: a peer
 *	Certificate = bob.cert        whose PSK is rotated (verified like ours)
 *
 * With Backend = uapi or kernel, ListenPort, MTU, PersistentKeepalive and
 * Endpoint are refused: PSK-only mode changes nothing on the interface but
 * the preshared keys of the listed peers.
 *
 * Relative paths are relative to the config file's directory. Loading is
 * two steps: agent_config_parse() checks the text alone (no file is
 * opened), agent_config_load() also reads and verifies every referenced
 * file. Both are all-or-nothing, and every error names the file (and line)
 * and what is wrong.
 */
#ifndef AGENT_CONFIG_H
#define AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/pskver.h"
#include "proto/cert.h"
#include "proto/kill.h"
#include "proto/limits.h"
#include "proto/netdef.h"

#define AGENT_CONFIG_FILE_MAX	   (64u << 10) /* the config file itself */
#define AGENT_CONFIG_PATH_MAX	   4096
#define AGENT_CONFIG_MAX_ENDPOINTS 8
#define AGENT_CONFIG_IFNAME_MAX	   15 /* IFNAMSIZ - 1 */
#define AGENT_CONFIG_STATE_BASE	   "/var/lib/scope"
#define AGENT_CONFIG_PORT_RELAY	   51820
#define AGENT_CONFIG_MTU	   1420
#define AGENT_CONFIG_KEEPALIVE	   25
/* [Peer] sections (PSK-only mode), and the bytes of their resolved
 * certificate paths together. */
#define AGENT_CONFIG_PEERS_MAX	    256
#define AGENT_CONFIG_PEER_PATHS_MAX (64u << 10)
/* Bounds of the test-only PSK timing keys, in seconds. */
#define AGENT_CONFIG_TEST_SECONDS_MAX 86400

enum agent_backend {
	AGENT_BACKEND_ENGINE = 1, /* the built-in userspace engine */
	AGENT_BACKEND_UAPI,	  /* PSK-only mode on an existing interface's UAPI socket */
	AGENT_BACKEND_KERNEL,	  /* PSK-only mode on a kernel interface, generic netlink */
};

/* What the text alone says (agent_config_parse). Paths are resolved
 * against the config file's directory; "" when absent. */
struct agent_config_text {
	char network_path[AGENT_CONFIG_PATH_MAX];
	char cert_path[AGENT_CONFIG_PATH_MAX];
	char identity_path[AGENT_CONFIG_PATH_MAX];
	char state_dir[AGENT_CONFIG_PATH_MAX];
	char kill_path[AGENT_CONFIG_PATH_MAX];
	char wg_key_path[AGENT_CONFIG_PATH_MAX];
	uint8_t admin[PROTO_KEY_LEN];
	uint8_t role; /* one PROTO_ROLE_* bit */
	char registry[PROTO_URL_MAX + 1];
	enum agent_backend backend;
	bool has_wg_private;		   /* PrivateKey given inline */
	uint8_t wg_private[PROTO_KEY_LEN]; /* secret */
	bool has_listen_port;
	uint16_t listen_port;
	char ifname[AGENT_CONFIG_IFNAME_MAX + 1];
	unsigned int mtu;
	uint16_t keepalive;
	size_t n_endpoints;
	struct proto_endpoint endpoints[AGENT_CONFIG_MAX_ENDPOINTS];
	bool registry_off; /* Registry = off */
	/* TEST ONLY timings, seconds; 0 (has_ false for activation): the
	 * network definition's. */
	uint64_t test_psk_period_s, test_psk_retry_s, test_psk_activation_s;
	bool has_test_psk_activation;
	uint64_t test_corrupt_version; /* 0: none */
	/* [Peer] Certificate paths: peer i's is peer_paths + peer_path_off[i]. */
	size_t n_peers;
	uint32_t peer_path_off[AGENT_CONFIG_PEERS_MAX];
	unsigned int line_peer[AGENT_CONFIG_PEERS_MAX];
	size_t peer_paths_len;
	char peer_paths[AGENT_CONFIG_PEER_PATHS_MAX];
	/* Lines of the keys, for errors found when the files are read. */
	unsigned int line_network, line_cert, line_identity, line_kill, line_wg_key, line_role,
		line_admin;
};

/* A loaded, verified configuration. Every default is filled in. */
struct agent_config {
	struct proto_netdef net;	    /* verified against the pinned admin key */
	struct proto_cert cert;		    /* verified against net at the load's now */
	uint8_t cert_raw[PROTO_RECORD_MAX]; /* canonical bytes, sent on join */
	size_t cert_len;
	uint8_t role;		   /* one PROTO_ROLE_* bit, allowed by cert */
	uint8_t identity_seed[32]; /* secret; its public key is cert.identity */
	/* Always with the engine; optional with uapi (the interface holds it). */
	bool has_wg_private;
	uint8_t wg_private[32]; /* secret; its public key is cert.wgkey */
	char ifname[AGENT_CONFIG_IFNAME_MAX + 1];
	uint16_t listen_port;
	unsigned int mtu;
	uint16_t keepalive;
	char state_dir[AGENT_CONFIG_PATH_MAX];
	char registry[PROTO_URL_MAX + 1];
	enum agent_backend backend;
	bool registry_off; /* Registry = off: registry[] is "" */
	size_t n_endpoints;
	struct proto_endpoint endpoints[AGENT_CONFIG_MAX_ENDPOINTS];
	/* PSK rotation timings: the definition's constants (psk-versions 1 is
	 * kept as 2: a revert needs the last working version), then the
	 * TestOnly keys; checked by pol_psk_config_check. */
	struct pol_psk_config psk;
	uint64_t test_only_corrupt_version; /* TestOnlyCorruptPskVersion, 0: none */
	/* [Peer] certificates (uapi only), verified like cert, in file order. */
	size_t n_peers;
	struct proto_cert peers[AGENT_CONFIG_PEERS_MAX];
	bool has_kill;	   /* a kill switch from Kill =, verified against net */
	bool kill_applies; /* ... and it names this node (or everyone) */
	struct proto_kill kill;
	uint8_t kill_raw[PROTO_RECORD_MAX];
	size_t kill_len;
};

/* Check the text of a config file named name (for messages and to resolve
 * relative paths) without opening any file. 0 with *out filled, -EINVAL
 * (err says where and why) or -ENOMEM. *out is written only on success. */
int agent_config_parse(const char *text, size_t len, const char *name,
		       struct agent_config_text *out, char *err, size_t errlen);
/* Wipe the secrets of a parsed text. */
void agent_config_text_clear(struct agent_config_text *t);

/* Read the config file at path and every file it names, and verify them at
 * Unix time now: the definition against AdminKey, the certificate against
 * the definition, the role against the certificate (a master must also be
 * listed in the definition under its name and WireGuard key), the
 * WireGuard and identity keys against the certificate, private key files
 * without group or other access, the kill switch against the definition,
 * each [Peer] certificate like this node's (and not this node's, not
 * twice), and the PSK timings. 0 with *out filled; -errno with err set, *out untouched. */
int agent_config_load(const char *path, uint64_t now, struct agent_config *out, char *err,
		      size_t errlen);
/* Wipe the keys (and everything else). */
void agent_config_clear(struct agent_config *c);

#endif
