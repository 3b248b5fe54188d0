/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The UAPI's text forms, shared by the request processor (uapi.c) and the
 * client (client.c); internal to src/uapi. Values are (pointer, length)
 * slices of a request or reply, not C strings. Parsers return 0 or -EINVAL
 * and write *out only on success.
 */
#ifndef UAPI_TEXT_H
#define UAPI_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "io/endpoint.h"
#include "wg/wg.h"

/* A decimal number in [0, max], as Go's strconv.ParseUint(s, 10, bits)
 * takes it in wireguard-go: digits only, leading zeros allowed. */
int uapi_text_uint(const char *s, size_t n, uint64_t max, uint64_t *out);
/* A key: exactly 64 hex digits, either case (constant time). */
int uapi_text_key(const char *s, size_t n, uint8_t key[WG_KEY_LEN]);
/* "[-]addr/cidr" as Go's netip.ParsePrefix takes it (no zone, a prefix
 * length without sign or leading zeros), host bits cleared. A leading '-'
 * (newer wireguard-tools: remove this prefix) sets out->remove. */
int uapi_text_allowedip(const char *s, size_t n, struct wg_allowedip *out);
/* An endpoint in io_endpoint_parse's forms. */
int uapi_text_endpoint(const char *s, size_t n, struct io_endpoint *out);

/* An IPv6 address as Go's netip.Addr.String() writes it (what wireguard-go
 * prints); len >= 40. */
void uapi_text_ip6(char *buf, size_t len, const uint8_t a[16]);

/* Make room for element n of an array of *cap elements of size bytes,
 * growing it (never past max) into a new block and wiping the old one: the
 * arrays hold keys. 0, -E2BIG (n >= max) or -ENOMEM. */
int uapi_text_grow(void **arr, size_t *cap, size_t n, size_t size, size_t max);

#endif
