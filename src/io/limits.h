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

/* One segmented send (UDP GSO): at most the kernel's UDP_MAX_SEGMENTS
 * datagrams (64 on Linux 6.1) and a payload that fits one IP packet's
 * length field with IPv6 and UDP headers. */
#define IO_UDP_GSO_SEGS	 64
#define IO_UDP_GSO_BYTES 65000

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
