/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * JSON bodies under the registry's caps (limits.h). jansson parses; before
 * it runs, the raw bytes are scanned for nesting depth (so a body of a
 * million '[' never reaches a recursive parser), and after it, every array
 * and string is checked against its cap. Duplicate keys are refused.
 */
#ifndef REG_JSON_H
#define REG_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Error codes of the API (docs/registry.md) that the JSON layer produces. */
#define REG_E_BAD_JSON	   "bad_json"
#define REG_E_JSON_DEPTH   "json_too_deep"
#define REG_E_JSON_TOO_BIG "json_too_big"

/* Parse body[0, len) into a JSON object (the caller owns *out). On error
 * returns -EINVAL and sets *code to one of the codes above and *why to a
 * static English reason. */
int reg_json_parse(const uint8_t *body, size_t len, json_t **out, const char **code,
		   const char **why);

#endif
