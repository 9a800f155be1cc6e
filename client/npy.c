/* Reader of NumPy .npy files (format 1.0, 2.0, 3.0): the magic, the header dict ('descr',
 * 'fortran_order', 'shape') parsed by hand, the file size checked against the shape at open,
 * then rows streamed into float32 (float64 converted a block at a time). Invariant: next_row is
 * the row the file position is at. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client_internal.h"
#include "shopgpu_io.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "float32 rows are read as they lie in the file (little-endian): add a byte swap here"
#endif

#define HEADER_MAX 65536
#define CONVERT_BLOCK 8192 /* float64 values converted at a time */

struct shopgpu_npy {
  FILE *f;
  char path[200];
  int ndim, f64;
  uint64_t rows, cols, next_row;
};

static int npy_error(const shopgpu_npy *f, shopgpu_status *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int npy_error(const shopgpu_npy *f, shopgpu_status *st, const char *fmt, ...) {
  char what[SHOPGPU_STATUS_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s", f->path, what);
}

/* The value after 'key': in the header dict, or NULL. */
static const char *value_of(const char *hdr, const char *key) {
  char quoted[32];
  for (int q = 0; q < 2; q++) {
    snprintf(quoted, sizeof quoted, q ? "\"%s\"" : "'%s'", key);
    const char *p = strstr(hdr, quoted);
    if (!p) continue;
    p += strlen(quoted);
    p += strspn(p, " ");
    if (*p++ != ':') return NULL;
    return p + strspn(p, " ");
  }
  return NULL;
}

static int parse_descr(shopgpu_npy *f, const char *hdr, shopgpu_status *st) {
  const char *v = value_of(hdr, "descr");
  char descr[16] = "";
  if (v && (*v == '\'' || *v == '"')) {
    size_t n = strcspn(v + 1, "'\"");
    snprintf(descr, sizeof descr, "%.*s", (int)(n < 15 ? n : 15), v + 1);
  }
  if (strcmp(descr, "<f4") == 0 || strcmp(descr, "<f8") == 0) {
    f->f64 = descr[2] == '8';
    return 0;
  }
  return npy_error(f, st, "dtype '%s': expected little-endian float32 '<f4' or float64 '<f8'",
                   descr);
}

/* 'shape': (a,) or (a, b): ndim, rows, cols. */
static int parse_shape(shopgpu_npy *f, const char *hdr, shopgpu_status *st) {
  const char *p = value_of(hdr, "shape");
  if (!p || *p != '(') return npy_error(f, st, "header: no 'shape' tuple");
  uint64_t dims[3] = {0, 0, 0};
  int n = 0;
  for (p += 1 + strspn(p + 1, " "); *p && *p != ')';) {
    /* digits only: strtoull would read "-1" as 2^64 - 1 (and take "+1") */
    if (*p < '0' || *p > '9') return npy_error(f, st, "header: bad 'shape'");
    char *end;
    errno = 0;
    unsigned long long d = strtoull(p, &end, 10);
    if (errno) return npy_error(f, st, "header: bad 'shape'");
    if (n < 3) dims[n] = d;
    n++;
    p = end + strspn(end, " ");
    if (*p == ',')
      p += 1 + strspn(p + 1, " ");
    else if (*p != ')') /* "(2 3)" */
      return npy_error(f, st, "header: bad 'shape'");
  }
  if (*p != ')') return npy_error(f, st, "header: bad 'shape'");
  if (n < 1 || n > 2) return npy_error(f, st, "a %d-D array: expected 1-D or 2-D", n);
  f->ndim = n;
  f->rows = dims[0];
  f->cols = n == 2 ? dims[1] : 1;
  return 0;
}

static int parse_header(shopgpu_npy *f, const char *hdr, shopgpu_status *st) {
  const char *order = value_of(hdr, "fortran_order");
  if (!order || (strncmp(order, "False", 5) != 0 && strncmp(order, "True", 4) != 0))
    return npy_error(f, st, "header: no 'fortran_order'");
  if (order[0] == 'T') return npy_error(f, st, "fortran_order: the array must be in C order");
  int rc = parse_descr(f, hdr, st);
  return rc ? rc : parse_shape(f, hdr, st);
}

/* The magic, version and header; leaves the file at the data. *data_at: its offset. */
static int read_header(shopgpu_npy *f, long *data_at, shopgpu_status *st) {
  unsigned char pre[12];
  if (fread(pre, 1, 10, f->f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
    return npy_error(f, st, "not a .npy file (no \\x93NUMPY magic)");
  int major = pre[6];
  if (major < 1 || major > 3)
    return npy_error(f, st, "format version %d.%d: expected 1.0, 2.0 or 3.0", major, pre[7]);
  uint32_t len = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
  if (major > 1) {
    if (fread(pre + 10, 1, 2, f->f) != 2) return npy_error(f, st, "truncated header");
    len |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
  }
  if (len > HEADER_MAX) return npy_error(f, st, "header of %u bytes is too long", len);
  char *hdr = malloc((size_t)len + 1);
  if (!hdr) return npy_error(f, st, "out of memory");
  int rc = fread(hdr, 1, len, f->f) == len ? 0 : npy_error(f, st, "truncated header");
  hdr[rc ? 0 : len] = '\0';
  if (rc == 0) rc = parse_header(f, hdr, st);
  free(hdr);
  *data_at = (major > 1 ? 12 : 10) + (long)len;
  return rc;
}

/* The data must be exactly rows × cols values. */
static int check_size(shopgpu_npy *f, long data_at, shopgpu_status *st) {
  struct stat sb;
  if (fstat(fileno(f->f), &sb) != 0 || !S_ISREG(sb.st_mode))
    return npy_error(f, st, "not a regular file");
  uint64_t item = f->f64 ? 8 : 4, have = (uint64_t)sb.st_size - (uint64_t)data_at;
  if (f->cols && f->rows > UINT64_MAX / f->cols / item) return npy_error(f, st, "shape too large");
  uint64_t want = f->rows * f->cols * item;
  if ((uint64_t)sb.st_size < (uint64_t)data_at || have < want)
    return npy_error(f, st, "truncated: %llu bytes of data, %llu expected for %llu x %llu values",
                     (unsigned long long)((uint64_t)sb.st_size < (uint64_t)data_at ? 0 : have),
                     (unsigned long long)want, (unsigned long long)f->rows,
                     (unsigned long long)f->cols);
  if (have > want)
    return npy_error(f, st, "%llu bytes after the %llu its shape holds",
                     (unsigned long long)(have - want), (unsigned long long)want);
  return 0;
}

shopgpu_npy *shopgpu_npy_open(const char *path, shopgpu_status *st) {
  shopgpu_npy *f = path ? calloc(1, sizeof *f) : NULL;
  if (!f) {
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                        path ? "npy: out of memory" : "path: NULL");
    return NULL;
  }
  snprintf(f->path, sizeof f->path, "%s", path);
  f->f = fopen(path, "rb");
  long data_at = 0;
  int rc =
      f->f ? read_header(f, &data_at, st) : npy_error(f, st, "cannot open: %s", strerror(errno));
  if (rc == 0) rc = check_size(f, data_at, st);
  if (rc != 0) {
    shopgpu_npy_close(f);
    return NULL;
  }
  return f;
}

int shopgpu_npy_ndim(const shopgpu_npy *f) { return f->ndim; }
uint64_t shopgpu_npy_rows(const shopgpu_npy *f) { return f->rows; }
uint64_t shopgpu_npy_cols(const shopgpu_npy *f) { return f->cols; }

/* "[r, c]" (or "[r]" for 1-D) of the flat index i from the first row read. */
static void place(const shopgpu_npy *f, uint64_t i, char *buf, size_t size) {
  uint64_t r = f->next_row + i / f->cols, c = i % f->cols;
  if (f->ndim == 1)
    snprintf(buf, size, "[%llu]", (unsigned long long)r);
  else
    snprintf(buf, size, "[%llu, %llu]", (unsigned long long)r, (unsigned long long)c);
}

static int bad_value(const shopgpu_npy *f, uint64_t i, double v, shopgpu_status *st) {
  char at[48];
  place(f, i, at, sizeof at);
  if (isnan(v)) return npy_error(f, st, "%s is nan", at);
  if (isinf(v)) return npy_error(f, st, "%s is %sinf", at, v < 0 ? "-" : "");
  return npy_error(f, st, "%s = %g is outside float32's range", at, v);
}

static int read_f64(shopgpu_npy *f, float *out, size_t n, shopgpu_status *st) {
  double block[CONVERT_BLOCK];
  for (size_t done = 0; done < n;) {
    size_t m = n - done < CONVERT_BLOCK ? n - done : CONVERT_BLOCK;
    if (fread(block, sizeof *block, m, f->f) != m) return npy_error(f, st, "read error");
    for (size_t i = 0; i < m; i++) {
      if (!isfinite(block[i]) || fabs(block[i]) > FLT_MAX)
        return bad_value(f, done + i, block[i], st);
      out[done + i] = (float)block[i];
    }
    done += m;
  }
  return 0;
}

int shopgpu_npy_read(shopgpu_npy *f, float *out, size_t n_rows, shopgpu_status *st) {
  if (n_rows > f->rows - f->next_row)
    return npy_error(
        f, st, "rows %llu..%llu past the last row %llu", (unsigned long long)f->next_row,
        (unsigned long long)(f->next_row + n_rows - 1), (unsigned long long)f->rows - 1);
  size_t n = n_rows * (size_t)f->cols;
  int rc = 0;
  if (f->f64) {
    rc = read_f64(f, out, n, st);
  } else if (fread(out, sizeof *out, n, f->f) != n) {
    rc = npy_error(f, st, "read error");
  } else {
    for (size_t i = 0; i < n && rc == 0; i++)
      if (!isfinite(out[i])) rc = bad_value(f, i, out[i], st);
  }
  if (rc == 0) f->next_row += n_rows;
  return rc;
}

void shopgpu_npy_close(shopgpu_npy *f) {
  if (!f) return;
  if (f->f) fclose(f->f);
  free(f);
}
