/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hard caps of the UAPI layer (STYLE.md section 4): everything a client of
 * the UAPI socket can make us hold has its bound here.
 *
 * A whole-device `set` must fit in one request: `wg setconf` and `wg
 * syncconf` send a device's entire configuration at once, so the per-request
 * caps are the device's own (wg/limits.h). The byte cap is what that costs:
 * 2^20 allowed IPs of ~25 bytes each.
 */
#ifndef UAPI_LIMITS_H
#define UAPI_LIMITS_H

#include "wg/limits.h"

/* Bytes of one request, the operation line and the final empty line included. */
#define UAPI_MAX_REQUEST (32u << 20)

/* Lines of one `set` request (the final empty line excluded). */
#define UAPI_MAX_LINES (1u << 21)

/* Bytes of one line without its newline. The longest valid line is an
 * endpoint with a zone, "endpoint=[" 45 "%" 10 "]:" 5: about 75 bytes. */
#define UAPI_MAX_LINE 256

/* public_key blocks of one `set` request (the same key may appear in more
 * than one block). */
#define UAPI_MAX_PEERS WG_MAX_PEERS

/* allowed_ip lines of one `set` request, over all its peers. */
#define UAPI_MAX_ALLOWEDIPS WG_MAX_ALLOWEDIPS

/* Bytes of one reply. Only a `get` reply is large, and it is bounded by the
 * device's caps: under 512 bytes per peer, under 64 per allowed IP. */
#define UAPI_MAX_REPLY (256u + WG_MAX_PEERS * 512u + WG_MAX_ALLOWEDIPS * 64u)

/* Connections the server holds at once; more are accepted and closed at
 * once, so a stuck client cannot fill the listen backlog. */
#define UAPI_MAX_CLIENTS 16

/* Listen backlog of the UAPI socket. */
#define UAPI_BACKLOG 16

#endif
