// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "common/jsondepth.h"
#include "registry/json.h"
#include "registry/limits.h"

/* Walk a parsed value: arrays and strings within their caps. The depth is
 * already bounded by the pre-scan, so the recursion is too. */
static int within_caps(const json_t *v)
{
	const char *key;
	json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_length(v) <= REG_JSON_STRING_MAX;
	case JSON_ARRAY:
		if (json_array_size(v) > REG_JSON_ARRAY_MAX)
			return 0;
		json_array_foreach(v, i, x)
		{
			if (!within_caps(x))
				return 0;
		}
		return 1;
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, x)
		{
			if (strlen(key) > REG_JSON_STRING_MAX || !within_caps(x))
				return 0;
		}
		return 1;
	default:
		return 1;
	}
}

int reg_json_parse(const uint8_t *body, size_t len, json_t **out, const char **code,
		   const char **why)
{
	json_error_t err;
	json_t *v;

	if (sc_json_depth(body, len, REG_JSON_DEPTH_MAX) > REG_JSON_DEPTH_MAX) {
		*code = REG_E_JSON_DEPTH;
		*why = "JSON nested too deeply";
		return -EINVAL;
	}
	/* JSON_ALLOW_NUL stays off: a NUL inside a string is refused */
	v = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &err);
	if (!v) {
		*code = REG_E_BAD_JSON;
		*why = "body is not valid JSON (or has duplicate keys)";
		return -EINVAL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		*code = REG_E_BAD_JSON;
		*why = "body is not a JSON object";
		return -EINVAL;
	}
	if (!within_caps(v)) {
		json_decref(v);
		*code = REG_E_JSON_TOO_BIG;
		*why = "a JSON array or string exceeds its cap";
		return -EINVAL;
	}
	*out = v;
	return 0;
}
