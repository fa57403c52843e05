/*
 * CPlatform: the only place Bulkhead's portable code makes system calls.
 *
 * Glibc cannot be imported by Embedded Swift, and several calls are variadic
 * (fcntl, open) or take structures Swift imports badly (epoll_event is packed
 * on x86_64, msghdr needs CMSG_* macros). So each call is a small
 * `static inline` wrapper over plain integers and pointers.
 *
 * Convention: every function returns a non-negative result on success and
 * `-errno` on failure; none prints, none aborts. Every descriptor made here
 * is close-on-exec.
 */
#ifndef CPLATFORM_H
#define CPLATFORM_H

// No _GNU_SOURCE here: Swift imports these headers beside Glibc, whose
// fd_set must match; the GNU-only calls are declared below or live in the .c.
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

// GNU extensions the inline wrappers use, declared here instead of through
// _GNU_SOURCE (see above). The .c file defines _GNU_SOURCE and gets glibc's
// own declarations.
#ifndef _GNU_SOURCE
extern int pipe2(int fds[2], int flags);
extern int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);
extern int memfd_create(const char *name, unsigned int flags);
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif

/* Error numbers the Swift side tests for (an anonymous enum imports as
 * constants in both ordinary and Embedded Swift). */
enum {
  CP_EAGAIN = EAGAIN,
  CP_EINTR = EINTR,
  CP_EINVAL = EINVAL,
  CP_ENAMETOOLONG = ENAMETOOLONG,
  CP_EPIPE = EPIPE,
  CP_ECONNRESET = ECONNRESET,
  CP_EMSGSIZE = EMSGSIZE,
};

/* Epoll event bits, as plain constants. */
enum {
  CP_EPOLLIN = EPOLLIN,
  CP_EPOLLOUT = EPOLLOUT,
  CP_EPOLLERR = EPOLLERR,
  CP_EPOLLHUP = EPOLLHUP,
  CP_EPOLLRDHUP = EPOLLRDHUP,
};

/* How many descriptors one message may carry into us. Room for more than a
 * peer should send, so that extras are received (and closed) rather than
 * silently truncated by the kernel. */
#define CP_MAX_RECEIVED_FDS 32

static inline int cp_result(long r) { return r < 0 ? -errno : (int)r; }

/* File descriptors. */
static inline int cp_close(int fd) { return cp_result(close(fd)); }

static inline long cp_read(int fd, void *buffer, size_t length) {
  long r = read(fd, buffer, length);
  return r < 0 ? -errno : r;
}

static inline long cp_write(int fd, const void *buffer, size_t length) {
  long r = write(fd, buffer, length);
  return r < 0 ? -errno : r;
}

static inline int cp_set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  return cp_result(fcntl(fd, F_SETFL, flags | O_NONBLOCK));
}

/* fds[0] is the read end, fds[1] the write end. */
static inline int cp_pipe(int fds[2]) { return cp_result(pipe2(fds, O_CLOEXEC)); }

/* Unix stream sockets. */
static inline int cp_fill_unix_address(struct sockaddr_un *address, const char *path) {
  size_t length = strlen(path);
  if (length == 0 || length >= sizeof(address->sun_path)) return -ENAMETOOLONG;
  memset(address, 0, sizeof(*address));
  address->sun_family = AF_UNIX;
  memcpy(address->sun_path, path, length + 1);
  return 0;
}

static inline int cp_unix_listen(const char *path, int backlog) {
  struct sockaddr_un address;
  int r = cp_fill_unix_address(&address, path);
  if (r < 0) return r;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0 || listen(fd, backlog) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

static inline int cp_unix_accept(int listener) {
  return cp_result(accept4(listener, NULL, NULL, SOCK_CLOEXEC));
}

static inline int cp_unix_connect(const char *path) {
  struct sockaddr_un address;
  int r = cp_fill_unix_address(&address, path);
  if (r < 0) return r;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

static inline int cp_unix_socketpair(int fds[2]) {
  return cp_result(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
}

static inline int cp_unlink(const char *path) { return cp_result(unlink(path)); }

/* Opens a regular file read-write, creating it (mode 0600) if missing; a
 * symbolic link at `path` is refused (O_NOFOLLOW). */
static inline int cp_open_state_file(const char *path) {
  return cp_result(open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
}

/* What is at `path` (not following a symbolic link): 0 nothing, 1 a
 * socket, 2 anything else; a negative errno when it cannot be told. */
static inline int cp_path_kind(const char *path) {
  struct stat info;
  if (lstat(path, &info) != 0) return errno == ENOENT ? 0 : -errno;
  return S_ISSOCK(info.st_mode) ? 1 : 2;
}

/* Sends `length` bytes and, with the first byte, `fd_count` descriptors
 * (SCM_RIGHTS). MSG_NOSIGNAL: a vanished peer is an error, not a signal. */
static inline long cp_send_with_fds(int fd, const void *buffer, size_t length, const int *fds,
                                    int fd_count) {
  if (fd_count < 0 || fd_count > CP_MAX_RECEIVED_FDS) return -EINVAL;
  struct iovec iov = {.iov_base = (void *)buffer, .iov_len = length};
  union {
    char bytes[CMSG_SPACE(sizeof(int) * CP_MAX_RECEIVED_FDS)];
    struct cmsghdr align;
  } control;
  struct msghdr message;
  memset(&message, 0, sizeof(message));
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  if (fd_count > 0) {
    memset(&control, 0, sizeof(control));
    message.msg_control = control.bytes;
    message.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)fd_count);
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)fd_count);
    memcpy(CMSG_DATA(header), fds, sizeof(int) * (size_t)fd_count);
  }
  long r;
  do {
    r = sendmsg(fd, &message, MSG_NOSIGNAL);
  } while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

/* Receives up to `length` bytes and the descriptors sent with them. At most
 * `max_fds` are handed back in `fds`; any beyond that are closed here, and
 * `*dropped_fds` says how many (a peer that sends too many must not make us
 * leak). `*fd_count` is set to the number kept. */
static inline long cp_receive_with_fds(int fd, void *buffer, size_t length, int *fds, int max_fds,
                                       int *fd_count, int *dropped_fds) {
  struct iovec iov = {.iov_base = buffer, .iov_len = length};
  union {
    char bytes[CMSG_SPACE(sizeof(int) * CP_MAX_RECEIVED_FDS)];
    struct cmsghdr align;
  } control;
  struct msghdr message;
  memset(&message, 0, sizeof(message));
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control.bytes;
  message.msg_controllen = sizeof(control.bytes);
  *fd_count = 0;
  *dropped_fds = 0;
  long r;
  do {
    r = recvmsg(fd, &message, MSG_CMSG_CLOEXEC);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char *data = CMSG_DATA(header);
    for (size_t i = 0; i < count; i++) {
      int received;
      memcpy(&received, data + i * sizeof(int), sizeof(int));
      if (*fd_count < max_fds) {
        fds[(*fd_count)++] = received;
      } else {
        close(received);
        (*dropped_fds)++;
      }
    }
  }
  /* The kernel closed what did not fit in the control buffer. */
  if (message.msg_flags & MSG_CTRUNC) (*dropped_fds)++;
  return r;
}

/* Shared memory. */
static inline int cp_memfd_create(const char *name) {
  return cp_result(memfd_create(name, MFD_CLOEXEC));
}

/* The size of the file behind `fd` (a memfd's, for guest memory). */
static inline int cp_file_size(int fd, uint64_t *size) {
  struct stat info;
  if (fstat(fd, &info) < 0) return -errno;
  *size = (uint64_t)info.st_size;
  return 0;
}

static inline int cp_ftruncate(int fd, uint64_t size) { return cp_result(ftruncate(fd, (off_t)size)); }

/* Maps `length` bytes of `fd` from `offset`, shared and read-write. */
static inline int cp_mmap_shared(int fd, uint64_t length, uint64_t offset, void **address) {
  void *p = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
  if (p == MAP_FAILED) return -errno;
  *address = p;
  return 0;
}

static inline int cp_munmap(void *address, uint64_t length) {
  return cp_result(munmap(address, (size_t)length));
}

static inline long cp_page_size(void) { return sysconf(_SC_PAGESIZE); }

/* eventfd: a 64-bit counter; the vhost-user kick and call channels. */
static inline int cp_eventfd(unsigned int initial) {
  return cp_result(eventfd(initial, EFD_CLOEXEC | EFD_NONBLOCK));
}

static inline int cp_eventfd_read(int fd, uint64_t *value) {
  return cp_result(eventfd_read(fd, value));
}

static inline int cp_eventfd_write(int fd, uint64_t value) {
  return cp_result(eventfd_write(fd, value));
}

/* epoll, with an unpacked event record (epoll_event is packed on x86_64). */
struct cp_epoll_event {
  uint32_t events;
  uint64_t token;
};

static inline int cp_epoll_create(void) { return cp_result(epoll_create1(EPOLL_CLOEXEC)); }

/* op: 0 add, 1 modify, 2 delete. */
static inline int cp_epoll_control(int epoll_fd, int op, int fd, uint32_t events, uint64_t token) {
  static const int ops[3] = {EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL};
  if (op < 0 || op > 2) return -EINVAL;
  struct epoll_event event;
  memset(&event, 0, sizeof(event));
  event.events = events;
  event.data.u64 = token;
  return cp_result(epoll_ctl(epoll_fd, ops[op], fd, &event));
}

#define CP_EPOLL_BATCH 64

/* Waits up to `timeout_ms` (-1: forever). EINTR is reported as 0 events. */
static inline int cp_epoll_wait(int epoll_fd, struct cp_epoll_event *events, int max_events,
                                int timeout_ms) {
  struct epoll_event raw[CP_EPOLL_BATCH];
  if (max_events > CP_EPOLL_BATCH) max_events = CP_EPOLL_BATCH;
  if (max_events <= 0) return -EINVAL;
  int n = epoll_wait(epoll_fd, raw, max_events, timeout_ms);
  if (n < 0) return errno == EINTR ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    events[i].events = raw[i].events;
    events[i].token = raw[i].data.u64;
  }
  return n;
}

/* Time. */
static inline uint64_t cp_monotonic_nanoseconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

/* Signals: a peer that hangs up must not kill the process with SIGPIPE. */
static inline int cp_ignore_broken_pipe(void) {
  return signal(SIGPIPE, SIG_IGN) == SIG_ERR ? -errno : 0;
}

/* Line-buffered standard output, so a log file read by another process
 * sees each line as it is printed. */
static inline void cp_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

static inline int cp_process_id(void) { return (int)getpid(); }

#endif
