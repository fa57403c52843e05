/*
 * CCardProcess: what the firmware process needs from the OS beyond
 * CPlatform: its command-line arguments (Embedded Swift has no
 * `CommandLine`), opening its configuration file, and signals delivered
 * through a signalfd so that the run loop's epoll wakes on them.
 *
 * Convention as in CPlatform: a non-negative result or `-errno`.
 */
#ifndef CCARDPROCESS_H
#define CCARDPROCESS_H

// No _GNU_SOURCE here: Swift imports these headers beside Glibc, whose
// fd_set must match; the GNU-only calls are declared below or live in the .c.
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

enum {
  CCP_SIGINT = SIGINT,
  CCP_SIGTERM = SIGTERM,
  CCP_SIGUSR1 = SIGUSR1,
  CCP_SIGHUP = SIGHUP,
};

/* argc and argv as glibc passes them to constructors (cardprocess.c). */
int ccp_argument_count(void);
const char *ccp_argument(int index);

static inline int ccp_open_read_only(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

/* Blocks SIGINT, SIGTERM and SIGUSR1 for the calling thread (call before
 * starting others, which inherit the mask) and returns a non-blocking
 * signalfd that reports them instead. */
static inline int ccp_signal_descriptor(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGHUP);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -errno;
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

/* The next pending signal's number, 0 when none is pending. */
static inline int ccp_read_signal(int fd) {
  struct signalfd_siginfo info;
  ssize_t n = read(fd, &info, sizeof info);
  if (n < 0) return errno == EAGAIN ? 0 : -errno;
  return n == (ssize_t)sizeof info ? (int)info.ssi_signo : 0;
}

#endif
