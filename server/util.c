/* File and clock helpers. Atomic writes follow write-temp, fsync, rename, fsync-dir. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/utf8.h"

int64_t sg_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sg_step_units(int64_t cur, double took_s, double target_s, int64_t min_units) {
  if (!(took_s > 0)) return cur;
  double want = fmin((double)cur * target_s / took_s, 2.0 * (double)cur + 1.0);
  return want > (double)min_units ? (int64_t)want : min_units;
}

sg_status sg_read_file(const char *path, size_t max_bytes, char **out, size_t *len, sg_err *err) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return sg_err_set(err, SG_NOT_FOUND, "%s: %s", path, strerror(errno));
  char *buf = NULL;
  size_t n = 0, cap = 0;
  sg_status st = SG_OK;
  for (;;) {
    if (n + 1 >= cap) {
      size_t ncap = cap ? cap * 2 : 4096;
      char *nb = realloc(buf, ncap);
      if (!nb) {
        st = sg_err_set(err, SG_OUT_OF_MEMORY, "%s: out of memory", path);
        break;
      }
      buf = nb;
      cap = ncap;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (n > max_bytes) {
      st = sg_err_set(err, SG_INVALID_ARGUMENT, "%s: larger than %zu bytes", path, max_bytes);
      break;
    }
    if (got == 0) {
      if (ferror(f)) st = sg_err_set(err, SG_IO, "%s: read error", path);
      break;
    }
  }
  fclose(f);
  if (st != SG_OK) {
    free(buf);
    return st;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return SG_OK;
}

static sg_status fsync_dir_of(const char *path, sg_err *err) {
  char copy[4096];
  snprintf(copy, sizeof copy, "%s", path);
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return sg_err_set(err, sg_io_status(errno), "%s: cannot open its directory: %s", path,
                      strerror(errno));
  int rc = fsync(fd), e = errno;
  close(fd);
  return rc == 0
             ? SG_OK
             : sg_err_set(err, sg_io_status(e), "%s: fsync of directory: %s", path, strerror(e));
}

sg_status sg_io_status(int e) {
  return e == ENOSPC || e == EDQUOT || e == EFBIG ? SG_RESOURCE_EXHAUSTED : SG_IO;
}

sg_status sg_write_file_atomic(const char *path, const void *data, size_t len, sg_err *err) {
  char tmp[4096];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "path too long: %.64s...", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return sg_err_set(err, sg_io_status(errno), "%s: %s", tmp, strerror(errno));
  const char *p = data;
  size_t left = len;
  while (left) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = w < 0 ? errno : ENOSPC;
      sg_status code = sg_err_set(err, sg_io_status(e), "%s: write: %s", tmp, strerror(e));
      close(fd);
      unlink(tmp);
      return code;
    }
    p += w;
    left -= (size_t)w;
  }
  int rc = fsync(fd), e = errno; /* closed either way: a failed fsync must not leak fd */
  if (close(fd) != 0 && rc == 0) rc = -1, e = errno;
  if (rc != 0) {
    sg_status code = sg_err_set(err, sg_io_status(e), "%s: fsync: %s", tmp, strerror(e));
    unlink(tmp);
    return code;
  }
  if (rename(tmp, path) != 0) {
    e = errno;
    sg_status code = sg_err_set(err, sg_io_status(e), "%s: rename: %s", path, strerror(e));
    unlink(tmp);
    return code;
  }
  return fsync_dir_of(path, err);
}

sg_status sg_mkdir_p(const char *path, sg_err *err) {
  char buf[4096];
  if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "path too long: %.64s...", path);
  for (char *p = buf + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
      return sg_err_set(err, SG_IO, "%s: %s", buf, strerror(errno));
    *p = saved;
    if (!saved) break;
  }
  struct stat sb;
  if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
    return sg_err_set(err, SG_IO, "%s: not a directory", path);
  return SG_OK;
}

sg_status sg_utf8_check(const char *s, const char *field, sg_err *err) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s);
  for (size_t i = 0; i < n;) {
    size_t len = sg_utf8_seq_len(p + i, n - i);
    if (!len) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: not UTF-8 (byte %zu)", field, i);
    i += len;
  }
  return SG_OK;
}

void sg_utf8_sanitize(char *s) {
  unsigned char *p = (unsigned char *)s;
  size_t n = strlen(s);
  for (size_t i = 0; i < n;) {
    size_t len = sg_utf8_seq_len(p + i, n - i);
    if (!len) p[i] = '?', len = 1;
    i += len;
  }
}

/* One number from a file (cgroup v2's memory.max holds "max" when there is no limit). */
static int read_u64(const char *path, unsigned long long *v) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int ok = fscanf(f, "%llu", v) == 1;
  fclose(f);
  return ok;
}

uint64_t sg_mem_available(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[128];
  unsigned long long kb = 0, max, used;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
  fclose(f);
  uint64_t avail = (uint64_t)kb * 1024;
  /* a container's limit (cgroup v2) is what the OOM killer goes by */
  if (read_u64("/sys/fs/cgroup/memory.max", &max) &&
      read_u64("/sys/fs/cgroup/memory.current", &used)) {
    uint64_t left = max > used ? (uint64_t)(max - used) : 0;
    if (!avail || left < avail) avail = left ? left : 1;
  }
  return avail;
}

int sg_mem_short(double need, double *avail) {
  *avail = (double)sg_mem_available();
  return *avail > 0 && need > 0.8 * *avail;
}

void sg_err_reword(sg_err *err, size_t drop, const char *add) {
  if (!err || err->code == SG_OK) return;
  size_t len = strlen(err->msg);
  char buf[sizeof err->msg];
  snprintf(buf, sizeof buf, "%s%s", add, err->msg + (drop < len ? drop : len));
  memcpy(err->msg, buf, sizeof buf);
}
