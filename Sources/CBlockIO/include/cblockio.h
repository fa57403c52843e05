/*
 * CBlockIO: the system calls volume backends make (positioned file I/O,
 * durability, space management, sockets for network block devices), as
 * plain functions over integers and pointers, because Embedded Swift cannot
 * import Glibc and open is variadic. The bodies are in cblockio.c, so that
 * the system headers they need stay out of the module Swift imports.
 *
 * Convention (as in CPlatform): a non-negative result on success, `-errno`
 * on failure; nothing prints or aborts; every descriptor is close-on-exec.
 */
#ifndef CBLOCKIO_H
#define CBLOCKIO_H

#include <stddef.h>
#include <stdint.h>

/* Error numbers the Swift side tests for (Linux values). */
enum {
  CBIO_EINTR = 4,
  CBIO_EIO = 5,
  CBIO_EINVAL = 22,
  CBIO_ENOSPC = 28,
  CBIO_ENAMETOOLONG = 36,
  CBIO_EOPNOTSUPP = 95,
};

/* How a backing file is opened. */
enum {
  CBIO_OPEN_READ_ONLY = 1,
  /* O_DIRECT: bypass the page cache (buffers, offsets and lengths must
   * then be aligned to the logical block size, 4096 covers every case). */
  CBIO_OPEN_DIRECT = 2,
  CBIO_OPEN_CREATE = 4,
};

int cbio_open(const char *path, int how);
int cbio_close(int fd);
long cbio_pread(int fd, void *buffer, size_t length, uint64_t offset);
long cbio_pwrite(int fd, const void *buffer, size_t length, uint64_t offset);
int cbio_fdatasync(int fd);
int cbio_file_size(int fd, uint64_t *size);
int cbio_ftruncate(int fd, uint64_t size);
int cbio_allocate(int fd, uint64_t offset, uint64_t length);
int cbio_punch_hole(int fd, uint64_t offset, uint64_t length);
int cbio_zero_range(int fd, uint64_t offset, uint64_t length);
int cbio_connect_unix(const char *path);
int cbio_connect_tcp4(uint32_t host, uint16_t port);
long cbio_send(int fd, const void *buffer, size_t length);
long cbio_receive(int fd, void *buffer, size_t length);

#endif /* CBLOCKIO_H */
