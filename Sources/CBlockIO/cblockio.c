/* The wrappers declared in cblockio.h. Kept out of the header so that the
 * system headers they need (fcntl, sockets, netinet) are not part of the
 * module Swift imports, where they would clash with Glibc's. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cblockio.h"

static long cbio_result(long r) { return r < 0 ? -errno : r; }

int cbio_open(const char *path, int how) {
  int flags = O_CLOEXEC | ((how & CBIO_OPEN_READ_ONLY) ? O_RDONLY : O_RDWR);
  if (how & CBIO_OPEN_DIRECT) flags |= O_DIRECT;
  if (how & CBIO_OPEN_CREATE) flags |= O_CREAT;
  return (int)cbio_result(open(path, flags, 0600));
}

int cbio_close(int fd) { return (int)cbio_result(close(fd)); }

/* One pread/pwrite; the caller loops and treats 0 as a short transfer. */
long cbio_pread(int fd, void *buffer, size_t length, uint64_t offset) {
  long r;
  do { r = pread(fd, buffer, length, (off_t)offset); } while (r < 0 && errno == EINTR);
  return cbio_result(r);
}

long cbio_pwrite(int fd, const void *buffer, size_t length, uint64_t offset) {
  long r;
  do { r = pwrite(fd, buffer, length, (off_t)offset); } while (r < 0 && errno == EINTR);
  return cbio_result(r);
}

int cbio_fdatasync(int fd) { return (int)cbio_result(fdatasync(fd)); }

int cbio_file_size(int fd, uint64_t *size) {
  struct stat st;
  if (fstat(fd, &st) < 0) return -errno;
  *size = (uint64_t)st.st_size;
  return 0;
}

int cbio_ftruncate(int fd, uint64_t size) {
  return (int)cbio_result(ftruncate(fd, (off_t)size));
}

/* Reserves blocks (preallocation): fallocate mode 0. */
int cbio_allocate(int fd, uint64_t offset, uint64_t length) {
  return (int)cbio_result(fallocate(fd, 0, (off_t)offset, (off_t)length));
}

/* Frees blocks, keeping the size: later reads return zeros. */
int cbio_punch_hole(int fd, uint64_t offset, uint64_t length) {
  return (int)cbio_result(
      fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length));
}

/* Zeroes a range, keeping the blocks allocated. */
int cbio_zero_range(int fd, uint64_t offset, uint64_t length) {
  return (int)cbio_result(fallocate(fd, FALLOC_FL_ZERO_RANGE, (off_t)offset, (off_t)length));
}

/* Stream sockets for NBD: unix path, or TCP to an IPv4 address given as a
 * host-order integer (127.0.0.1 = 0x7f000001). Blocking, Nagle off. */
int cbio_connect_unix(const char *path) {
  struct sockaddr_un address;
  memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  size_t n = strlen(path);
  if (n >= sizeof address.sun_path) return -ENAMETOOLONG;
  memcpy(address.sun_path, path, n);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

int cbio_connect_tcp4(uint32_t host, uint16_t port) {
  struct sockaddr_in address;
  memset(&address, 0, sizeof address);
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(host);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* One send/recv on a blocking socket; MSG_NOSIGNAL so a gone peer is EPIPE,
 * not a signal. */
long cbio_send(int fd, const void *buffer, size_t length) {
  long r;
  do { r = send(fd, buffer, length, MSG_NOSIGNAL); } while (r < 0 && errno == EINTR);
  return cbio_result(r);
}

long cbio_receive(int fd, void *buffer, size_t length) {
  long r;
  do { r = recv(fd, buffer, length, 0); } while (r < 0 && errno == EINTR);
  return cbio_result(r);
}


_Static_assert(CBIO_EINTR == EINTR && CBIO_EIO == EIO && CBIO_EINVAL == EINVAL && CBIO_ENOSPC == ENOSPC &&
                   CBIO_ENAMETOOLONG == ENAMETOOLONG && CBIO_EOPNOTSUPP == EOPNOTSUPP,
               "errno values differ from Linux's");
