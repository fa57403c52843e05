/*
 * CPacketSocket: Linux AF_PACKET sockets with PACKET_MMAP rings
 * (TPACKET_V2), or in copy mode with batched recvmmsg/sendmmsg, for the
 * card's uplink in the emulator and in tests.
 * See the kernel's Documentation/networking/packet_mmap.rst.
 *
 * Same convention as CPlatform: `static inline` wrappers over integers and
 * pointers; a non-negative result on success, `-errno` on failure. Only the
 * set-up is here; walking the rings is Swift (Ports/AFPacketPort.swift),
 * through the frame-header accessors below.
 */
#ifndef CPACKETSOCKET_H
#define CPACKETSOCKET_H

// No _GNU_SOURCE here: Swift imports these headers beside Glibc, whose
// fd_set must match; the GNU-only calls are declared below or live in the .c.
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

// GNU extensions, declared here instead of through _GNU_SOURCE (see above).
#ifndef _GNU_SOURCE
extern int setns(int fd, int type);
#endif
#ifndef CLONE_NEWNET
#define CLONE_NEWNET 0x40000000
#endif

static inline int cps_result(long r) { return r < 0 ? -errno : (int)r; }

/* Frame status bits (linux/if_packet.h). */
enum {
  CPS_STATUS_KERNEL = TP_STATUS_KERNEL,
  CPS_STATUS_USER = TP_STATUS_USER,
  CPS_STATUS_SEND_REQUEST = TP_STATUS_SEND_REQUEST,
  CPS_STATUS_SENDING = TP_STATUS_SENDING,
  CPS_STATUS_WRONG_FORMAT = TP_STATUS_WRONG_FORMAT,
  CPS_STATUS_AVAILABLE = TP_STATUS_AVAILABLE,
  CPS_STATUS_LOSING = TP_STATUS_LOSING,
  CPS_PACKET_OUTGOING = PACKET_OUTGOING,
  CPS_ENOBUFS = ENOBUFS,
  CPS_EAGAIN = EAGAIN,
  CPS_ENOPROTOOPT = ENOPROTOOPT,
  /* Most frames one cps_receive_burst / cps_send_burst call moves (the
   * message headers live on the C stack). */
  CPS_BURST_MAX = 64,
};

static inline int cps_interface_index(const char *name) {
  unsigned int index = if_nametoindex(name);
  return index == 0 ? -errno : (int)index;
}

/* A raw socket for every EtherType, non-blocking, not yet bound. */
static inline int cps_open(void) {
  return cps_result(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)));
}

/* Frames this socket sends are not looped back into its own receive queue
 * (best effort: the packet type is checked per frame as well). */
static inline void cps_ignore_outgoing(int fd) {
  int one = 1;
  (void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
}

/* TPACKET_V2 and the two rings; `frame_size` must be a multiple of
 * TPACKET_ALIGNMENT and divide `block_size`, a multiple of the page size. */
static inline int cps_setup_rings(int fd, unsigned int block_size, unsigned int block_count,
                                  unsigned int frame_size) {
  int version = TPACKET_V2;
  if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) return -errno;
  cps_ignore_outgoing(fd);
  struct tpacket_req req;
  memset(&req, 0, sizeof req);
  req.tp_block_size = block_size;
  req.tp_block_nr = block_count;
  req.tp_frame_size = frame_size;
  req.tp_frame_nr = (block_size / frame_size) * block_count;
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) return -errno;
  if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) < 0) return -errno;
  return 0;
}

/* Maps both rings (receive ring first, then transmit ring). */
static inline int cps_map_rings(int fd, uint64_t total_length, void **address) {
  void *p = mmap(NULL, (size_t)total_length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
  if (p == MAP_FAILED) {
    /* MAP_LOCKED can fail under a small RLIMIT_MEMLOCK; unlocked works too. */
    p = mmap(NULL, (size_t)total_length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) return -errno;
  }
  *address = p;
  return 0;
}

static inline int cps_unmap(void *address, uint64_t length) {
  return cps_result(munmap(address, (size_t)length));
}

static inline int cps_bind(int fd, int interface_index) {
  struct sockaddr_ll address;
  memset(&address, 0, sizeof address);
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = interface_index;
  return cps_result(bind(fd, (struct sockaddr *)&address, sizeof address));
}

/* Receives frames for every MAC address (the uplink carries frames for
 * the card's underlay MAC and tenant ports carry the guest's). */
static inline int cps_set_promiscuous(int fd, int interface_index) {
  struct packet_mreq request;
  memset(&request, 0, sizeof request);
  request.mr_ifindex = interface_index;
  request.mr_type = PACKET_MR_PROMISC;
  return cps_result(setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &request, sizeof request));
}

/* The same through the interface's flags (SIOCSIFFLAGS), for where the
 * socket option is refused (QEMU's user-mode emulation answers
 * ENOPROTOOPT to every SOL_PACKET option). Unlike the membership the flag
 * outlives the socket. 0 or -errno. */
static inline int cps_set_interface_promiscuous(int fd, const char *name) {
  struct ifreq request;
  memset(&request, 0, sizeof request);
  strncpy(request.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFFLAGS, &request) < 0) return -errno;
  if (request.ifr_flags & IFF_PROMISC) return 0;
  request.ifr_flags |= IFF_PROMISC;
  return ioctl(fd, SIOCSIFFLAGS, &request) < 0 ? -errno : 0;
}

/* Asks the kernel to send every frame marked SEND_REQUEST in the tx ring. */
static inline long cps_flush(int fd) { return cps_result(send(fd, NULL, 0, MSG_DONTWAIT)); }

/* Frame-header accessors (struct tpacket2_hdr), so that Swift sees no
 * layout but integers. `frame` is the start of a ring frame. */
static inline uint32_t cps_status(const void *frame) {
  return __atomic_load_n(&((const struct tpacket2_hdr *)frame)->tp_status, __ATOMIC_ACQUIRE);
}
static inline void cps_set_status(void *frame, uint32_t status) {
  __atomic_store_n(&((struct tpacket2_hdr *)frame)->tp_status, status, __ATOMIC_RELEASE);
}
static inline uint32_t cps_length(const void *frame) { return ((const struct tpacket2_hdr *)frame)->tp_len; }
static inline uint32_t cps_snap_length(const void *frame) {
  return ((const struct tpacket2_hdr *)frame)->tp_snaplen;
}
static inline uint32_t cps_mac_offset(const void *frame) { return ((const struct tpacket2_hdr *)frame)->tp_mac; }
static inline uint8_t cps_packet_type(const void *frame) {
  const struct sockaddr_ll *ll =
      (const struct sockaddr_ll *)((const uint8_t *)frame + TPACKET_ALIGN(sizeof(struct tpacket2_hdr)));
  return ll->sll_pkttype;
}
static inline void cps_set_send_length(void *frame, uint32_t length) {
  ((struct tpacket2_hdr *)frame)->tp_len = length;
}
/* Where a frame to send starts in a tx ring frame: TPACKET2_HDRLEN minus
 * the sockaddr_ll the kernel does not read for SOCK_RAW (tpacket_fill_skb). */
static inline uint32_t cps_tx_data_offset(void) {
  return (uint32_t)(TPACKET2_HDRLEN - sizeof(struct sockaddr_ll));
}

/* A descriptor for the network namespace at `path` (e.g.
 * /var/run/netns/NAME, or /proc/thread-self/ns/net for the calling
 * thread's own), or -errno. */
static inline int cps_open_network_namespace(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

/* Moves the calling thread into the network namespace `fd` names, so that
 * ports opened next bind to that namespace's interfaces; a socket keeps its
 * namespace after the thread moves back. 0 or -errno. */
static inline int cps_set_network_namespace(int fd) {
  return setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
}

/* Copy mode (cpacketsocket.c, where struct mmsghdr is visible): one
 * non-blocking recvmmsg into `count` (at most CPS_BURST_MAX) buffers,
 * `lengths[i]` bytes at `buffers[i]`. For each frame received,
 * `lengths[i]` becomes its length on the wire (larger than the buffer if it
 * was cut short) and `packet_types[i]` its sll_pkttype. Returns how many
 * frames, 0 when none is waiting, or -errno. */
int cps_receive_burst(int fd, void *const *buffers, uint32_t *lengths, uint8_t *packet_types,
                      unsigned int count);

/* Copy mode: one non-blocking sendmmsg of `count` (at most CPS_BURST_MAX)
 * frames. Returns how many were sent (the first `n`), or -errno for the
 * first frame's failure (EAGAIN/ENOBUFS: the socket's queue is full). */
int cps_send_burst(int fd, void *const *frames, const uint32_t *lengths, unsigned int count);

/* Frames the kernel dropped for a full ring (or, in copy mode, a full
 * receive queue) since the last call (the counter resets when read), or
 * -errno. */
static inline long cps_kernel_drops(int fd) {
  struct tpacket_stats stats;
  socklen_t length = sizeof stats;
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &stats, &length) < 0) return -errno;
  return (long)stats.tp_drops;
}

#endif
