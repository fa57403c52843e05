/* Sockets, the waker and the clock: the few system calls the channel
 * needs, so that Swift never imports Glibc (Embedded Swift cannot). */
#define _GNU_SOURCE
#include "ccardchannel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Fills `address` from an IPv4 or IPv6 literal; returns its length or 0. */
static socklen_t parse_address(const char *host, uint16_t port, struct sockaddr_storage *address) {
  memset(address, 0, sizeof *address);
  struct sockaddr_in *v4 = (struct sockaddr_in *)address;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return sizeof *v4;
  }
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)address;
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return sizeof *v6;
  }
  return 0;
}

int cch_tcp_listen(const char *host, uint16_t port, int backlog, uint16_t *bound_port) {
  struct sockaddr_storage address;
  socklen_t length = parse_address(host, port, &address);
  if (length == 0) return -EINVAL;
  int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  int one = 1;
  /* A restarted controller must be able to listen again at once while
   * old connections sit in TIME_WAIT. */
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&address, length) != 0 || listen(fd, backlog) != 0) {
    int saved = errno;
    close(fd);
    return -saved;
  }
  if (bound_port != NULL) {
    struct sockaddr_storage bound;
    socklen_t bound_length = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &bound_length);
    *bound_port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                                   : ((struct sockaddr_in6 *)&bound)->sin6_port);
  }
  return fd;
}

int cch_tcp_accept(int listen_fd) {
  int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return -errno;
  int one = 1;
  /* Frames are small and latency matters more than packing. */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int cch_tcp_connect(const char *host, uint16_t port, int timeout_ms) {
  struct sockaddr_storage address;
  socklen_t length = parse_address(host, port, &address);
  if (length == 0) return -EINVAL;
  int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -errno;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&address, length) != 0) {
    if (errno != EINPROGRESS) {
      int saved = errno;
      close(fd);
      return -saved;
    }
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n;
    do n = poll(&p, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    int failure = 0;
    socklen_t failure_length = sizeof failure;
    if (n == 0) failure = ETIMEDOUT;
    else if (n < 0) failure = errno;
    else getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &failure_length);
    if (failure != 0) {
      close(fd);
      return -failure;
    }
  }
  return fd;
}

void cch_close(int fd) {
  if (fd >= 0) close(fd);
}

void cch_shutdown(int fd) {
  if (fd >= 0) shutdown(fd, SHUT_RDWR);
}

int cch_waker_new(void) {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  return fd < 0 ? -errno : fd;
}

void cch_waker_signal(int waker) {
  uint64_t one = 1;
  ssize_t ignored = write(waker, &one, sizeof one);
  (void)ignored; /* a full counter is still signalled */
}

void cch_waker_drain(int waker) {
  uint64_t value;
  ssize_t ignored = read(waker, &value, sizeof value);
  (void)ignored;
}

int cch_wait(int fd, int waker, int timeout_ms) {
  struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = waker, .events = POLLIN}};
  int n;
  do n = poll(p, 2, timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  int ready = 0;
  if (fd >= 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) ready |= CCH_READY_SOCKET;
  if (waker >= 0 && (p[1].revents & POLLIN)) ready |= CCH_READY_WAKER;
  return ready;
}

uint64_t cch_monotonic_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

void cch_sleep_ms(uint32_t milliseconds) {
  struct timespec duration = {.tv_sec = milliseconds / 1000, .tv_nsec = (long)(milliseconds % 1000) * 1000000};
  while (nanosleep(&duration, &duration) != 0 && errno == EINTR) {
  }
}
