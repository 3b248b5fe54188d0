/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hard caps of the I/O layer (STYLE.md section 4): every array the kernel
 * fills for us has its size named here.
 */
#ifndef IO_LIMITS_H
#define IO_LIMITS_H

/* Datagrams per recvmmsg/sendmmsg call. Larger batches save syscalls but
 * hold the loop thread longer and enlarge the per-socket scratch space.
 * wireguard-go uses 128 (conn.IdealBatchSize); 64 until the benchmark of
 * issue 3 says otherwise. */
#define IO_UDP_BATCH_MAX 64

/* Largest UDP payload or TUN packet without offloads (IPv4 total length). */
#define IO_PKT_MAX 65535

/* Socket buffers we ask for: bursts of a 10 Gbit/s flow outlast the default
 * 208 KiB. wireguard-go asks for 7 MiB too. Best effort: capped by
 * net.core.rmem_max unless we hold CAP_NET_ADMIN (SO_RCVBUFFORCE). */
#define IO_UDP_SOCKBUF (7 << 20)

/* epoll events handled per epoll_wait. */
#define IO_LOOP_EVENTS 64

/* Longest textual endpoint, "[" ipv6 "%" zone "]:" port, plus NUL. */
#define IO_ENDPOINT_STRLEN (1 + 45 + 1 + 10 + 2 + 5 + 1)

/* Longest error message kept in struct io_err. */
#define IO_ERR_MSGLEN 160

#endif
