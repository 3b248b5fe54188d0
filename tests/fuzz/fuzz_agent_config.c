// SPDX-License-Identifier: GPL-2.0-only
/*
 * scoped's config text (agent_config_parse, no file is opened): never
 * crashes; an accepted text has every required setting, one role, defaults
 * filled in, paths resolved against the config's directory, and values in
 * their ranges; [Peer] paths, Registry = off and an absent private key only
 * with Backend = uapi, which also never carries interface settings. A
 * refusal always says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p, bool required)
{
	size_t n = strnlen(p, AGENT_CONFIG_PATH_MAX);

	if (n == AGENT_CONFIG_PATH_MAX ||
	    (required && strncmp(p, "/etc/scope/", 11) != 0 && p[0] != '/'))
		abort();
	if (!required && n && p[0] != '/')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config_text t;
	char err[256] = "";

	if (agent_config_parse((const char *)data, size, "/etc/scope/fuzz.conf", &t, err,
			       sizeof(err))) {
		if (!err[0])
			abort();
		return 0;
	}
	check_path(t.network_path, true);
	check_path(t.cert_path, true);
	check_path(t.identity_path, true);
	check_path(t.state_dir, false);
	check_path(t.kill_path, false);
	if (t.role != PROTO_ROLE_EDGE && t.role != PROTO_ROLE_RELAY && t.role != PROTO_ROLE_MASTER)
		abort();
	if (t.has_wg_private && t.wg_key_path[0])
		abort();
	if (t.mtu < 1280 || t.mtu > 65535 || t.n_endpoints > AGENT_CONFIG_MAX_ENDPOINTS)
		abort();
	if (t.backend == AGENT_BACKEND_ENGINE) {
		if (t.n_peers || t.registry_off || (!t.has_wg_private && !t.wg_key_path[0]))
			abort();
	} else if (t.backend == AGENT_BACKEND_UAPI || t.backend == AGENT_BACKEND_KERNEL) {
		if (t.n_endpoints || t.has_listen_port)
			abort();
	} else {
		abort();
	}
	if (t.n_peers > AGENT_CONFIG_PEERS_MAX || t.peer_paths_len > sizeof(t.peer_paths))
		abort();
	for (size_t i = 0; i < t.n_peers; i++) {
		const char *p = t.peer_paths + t.peer_path_off[i];

		if (t.peer_path_off[i] >= t.peer_paths_len ||
		    !memchr(p, '\0', t.peer_paths_len - t.peer_path_off[i]) || p[0] != '/')
			abort();
	}
	if (t.registry_off && t.registry[0])
		abort();
	if (t.test_psk_period_s > AGENT_CONFIG_TEST_SECONDS_MAX ||
	    t.test_psk_retry_s > AGENT_CONFIG_TEST_SECONDS_MAX ||
	    t.test_psk_activation_s > AGENT_CONFIG_TEST_SECONDS_MAX)
		abort();
	if (strnlen(t.ifname, sizeof(t.ifname)) == sizeof(t.ifname))
		abort();
	agent_config_text_clear(&t);
	return 0;
}
