/* The card's persisted state: replaced atomically (write, fsync, rename,
 * fsync the folder), so a power cut leaves the old or the new file whole. */
#define _GNU_SOURCE
#include "ccardchannel.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cch_file_replace(const char *path, const char *temp_path, const uint8_t *bytes, size_t length) {
  int fd = open(temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -errno;
  size_t done = 0;
  while (done < length) {
    ssize_t n = write(fd, bytes + done, length - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      close(fd);
      unlink(temp_path);
      return -saved;
    }
    done += (size_t)n;
  }
  /* The data must be on disk before the rename makes it the state. */
  if (fsync(fd) != 0) {
    int saved = errno;
    close(fd);
    unlink(temp_path);
    return -saved;
  }
  close(fd);
  if (rename(temp_path, path) != 0) {
    int saved = errno;
    unlink(temp_path);
    return -saved;
  }
  /* And the rename itself: fsync the folder entry. */
  char folder[PATH_MAX];
  snprintf(folder, sizeof folder, "%s", path);
  int dir = open(dirname(folder), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return 0;
}

long cch_file_size(const char *path) {
  struct stat info;
  if (stat(path, &info) != 0) return -errno;
  return (long)info.st_size;
}

long cch_file_read(const char *path, uint8_t *bytes, size_t capacity) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  size_t done = 0;
  while (done < capacity) {
    ssize_t n = read(fd, bytes + done, capacity - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      close(fd);
      return -saved;
    }
    if (n == 0) break;
    done += (size_t)n;
  }
  close(fd);
  return (long)done;
}
