// SPDX-License-Identifier: GPL-2.0-only
/*
 * scoped's config text (agent_config_parse, no file is opened): never
 * crashes; an accepted text has every required setting, one role, defaults
 * filled in, paths resolved against the config's directory, and values in
 * their ranges. A refusal always says why.
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
	if (t.has_wg_private == (t.wg_key_path[0] != '\0'))
		abort();
	if (t.mtu < 1280 || t.mtu > 65535 || t.n_endpoints > AGENT_CONFIG_MAX_ENDPOINTS ||
	    t.backend != AGENT_BACKEND_ENGINE)
		abort();
	if (strnlen(t.ifname, sizeof(t.ifname)) == sizeof(t.ifname))
		abort();
	agent_config_text_clear(&t);
	return 0;
}
