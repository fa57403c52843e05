#define _GNU_SOURCE 1
#include "cpacketsocket.h"
#include <stddef.h>

/* struct mmsghdr, recvmmsg and sendmmsg are GNU extensions: they are used
 * only here, where _GNU_SOURCE is defined, so that the header Swift imports
 * stays free of it (see the header). */

int cps_receive_burst(int fd, void *const *buffers, uint32_t *lengths, uint8_t *packet_types,
                      unsigned int count) {
  if (count > CPS_BURST_MAX) count = CPS_BURST_MAX;
  struct mmsghdr messages[CPS_BURST_MAX];
  struct iovec vectors[CPS_BURST_MAX];
  struct sockaddr_ll senders[CPS_BURST_MAX];
  for (unsigned int i = 0; i < count; i++) {
    vectors[i].iov_base = buffers[i];
    vectors[i].iov_len = lengths[i];
    memset(&messages[i], 0, sizeof messages[i]);
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
    messages[i].msg_hdr.msg_name = &senders[i];
    messages[i].msg_hdr.msg_namelen = sizeof senders[i];
  }
  /* MSG_TRUNC: packet(7) then reports a frame's real length even when the
   * buffer was too small, so a cut frame is recognised and counted. */
  int n = recvmmsg(fd, messages, count, MSG_DONTWAIT | MSG_TRUNC, NULL);
  if (n < 0) return errno == EAGAIN ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    uint32_t capacity = (uint32_t)vectors[i].iov_len;
    lengths[i] = messages[i].msg_len;
    if ((messages[i].msg_hdr.msg_flags & MSG_TRUNC) && lengths[i] <= capacity) lengths[i] = capacity + 1;
    packet_types[i] = messages[i].msg_hdr.msg_namelen >= offsetof(struct sockaddr_ll, sll_pkttype) + 1
                          ? senders[i].sll_pkttype
                          : PACKET_HOST;
  }
  return n;
}

int cps_send_burst(int fd, void *const *frames, const uint32_t *lengths, unsigned int count) {
  if (count > CPS_BURST_MAX) count = CPS_BURST_MAX;
  struct mmsghdr messages[CPS_BURST_MAX];
  struct iovec vectors[CPS_BURST_MAX];
  for (unsigned int i = 0; i < count; i++) {
    vectors[i].iov_base = frames[i];
    vectors[i].iov_len = lengths[i];
    memset(&messages[i], 0, sizeof messages[i]);
    messages[i].msg_hdr.msg_iov = &vectors[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  /* No destination address: the socket is bound to its interface and the
   * frames carry their own Ethernet header (SOCK_RAW, packet(7)). */
  int n = sendmmsg(fd, messages, count, MSG_DONTWAIT);
  return n < 0 ? -errno : n;
}
