/* Reader of CSVs with a header whose columns are found by name (time series, forecasts,
 * inventories): one record at a time through a growing line buffer, fields split in place.
 * Invariant: after shopgpu_csv_next returned 1, fields[0..n_cols) point into buf and line is
 * that record's line number; every error names the file and the line (and column). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client_internal.h"
#include "shopgpu_io.h"

struct shopgpu_csv {
  FILE *f;
  char path[200]; /* as given, cut for messages */
  uint64_t line;  /* the last line read */
  int n_cols, at_end, failed;
  char **names;  /* the header's fields (owned copies) */
  char **fields; /* the current record's fields, into buf */
  char *buf;     /* the current line */
  size_t buf_cap;
  uint64_t read, max_bytes; /* bytes read so far, and the most the file may have */
};

int shopgpu_csv_error(const shopgpu_csv *c, int col, shopgpu_status *st, const char *fmt, ...) {
  char what[SHOPGPU_STATUS_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (col >= 0 && col < c->n_cols)
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s:%llu: column %d (%.40s): %s", c->path,
                        (unsigned long long)c->line, col + 1, c->names[col], what);
  else
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s:%llu: %s", c->path,
                        (unsigned long long)c->line, what);
  return -1;
}

/* The next line without its line break in c->buf: 1, 0 at the end, -1 on an error. Reading
 * stops as soon as a line passes SHOPGPU_CSV_RECORD_MAX or the file max_bytes (a pipe or a
 * device has no size to check up front: /dev/zero must not fill the memory), and a NUL byte is
 * an error (C strings would end there and the field would silently be cut short). */
static int next_line(shopgpu_csv *c, shopgpu_status *st) {
  size_t n = 0, nul = SIZE_MAX;
  int ch = EOF;
  errno = 0;
  if (!c->buf) { /* an empty line needs its terminator too */
    if (!(c->buf = malloc(4096))) return shopgpu_csv_error(c, -1, st, "out of memory");
    c->buf_cap = 4096;
  }
  while ((ch = getc_unlocked(c->f)) != EOF) {
    if (++c->read > c->max_bytes) {
      c->line++;
      shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                          "%s: more than %llu bytes, the limit (split the file)", c->path,
                          (unsigned long long)c->max_bytes);
      return -1;
    }
    if (ch == '\n') break;
    if (n >= SHOPGPU_CSV_RECORD_MAX) {
      c->line++;
      return shopgpu_csv_error(c, -1, st, "line longer than %d bytes", SHOPGPU_CSV_RECORD_MAX);
    }
    if (n + 2 > c->buf_cap) {
      size_t cap = c->buf_cap ? 2 * c->buf_cap : 4096;
      char *b = realloc(c->buf, cap);
      if (!b) {
        c->line++;
        return shopgpu_csv_error(c, -1, st, "out of memory for a line of %zu bytes", n);
      }
      c->buf = b, c->buf_cap = cap;
    }
    if (ch == '\0' && nul == SIZE_MAX) nul = n;
    c->buf[n++] = (char)ch;
  }
  if (ch == EOF && ferror(c->f)) {
    c->line++;
    return shopgpu_csv_error(c, -1, st, "read error: %s", strerror(errno ? errno : EIO));
  }
  if (ch == EOF && n == 0) return 0;
  c->line++;
  if (nul != SIZE_MAX) return shopgpu_csv_error(c, -1, st, "a NUL byte at byte %zu", nul + 1);
  while (n && c->buf[n - 1] == '\r')
    n--;
  c->buf[n] = '\0';
  return 1;
}

static char *trim(char *s, char *end) {
  while (s < end && (*s == ' ' || *s == '\t'))
    s++;
  while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
    end--;
  *end = '\0';
  return s;
}

/* One quoted field starting at the quote q: unquoted in place; *next: after it (at the comma or
 * the end). Returns the field, or NULL for a missing closing quote or text after it. */
static char *unquote(char *q, char **next) {
  char *w = q, *r = q + 1;
  for (;; r++) {
    if (*r == '\0') return NULL;
    if (*r == '"' && r[1] == '"') {
      *w++ = '"';
      r++;
    } else if (*r == '"') {
      break;
    } else {
      *w++ = *r;
    }
  }
  r++;
  r += strspn(r, " \t");
  if (*r != ',' && *r != '\0') return NULL;
  *next = r;
  *w = '\0';
  return q;
}

/* Splits line into fields (at most cap stored); returns how many there are, or -1 for a bad
 * quoted field. */
static int split(char *line, char **fields, int cap) {
  int n = 0;
  for (char *p = line;;) {
    p += strspn(p, " \t");
    char *field, *next;
    int quoted = *p == '"';
    if (quoted) {
      if (!(field = unquote(p, &next))) return -1;
    } else {
      next = p + strcspn(p, ",");
      field = p;
    }
    int last = *next == '\0';
    if (!quoted) field = trim(p, next);
    if (n < cap) fields[n] = field;
    n++;
    if (last) break;
    *next = '\0';
    p = next + 1;
  }
  return n;
}

/* Counts the header's fields and keeps copies of their names. */
static int read_header(shopgpu_csv *c, shopgpu_status *st) {
  char *line = c->buf;
  if (strncmp(line, "\xEF\xBB\xBF", 3) == 0) line += 3; /* a UTF-8 byte order mark */
  size_t commas = 0;
  for (const char *p = line; *p; p++)
    commas += *p == ',';
  c->names = calloc(commas + 1, sizeof *c->names);
  c->fields = calloc(commas + 1, sizeof *c->fields);
  if (!c->names || !c->fields)
    return shopgpu__status_set(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "%s: out of memory", c->path),
           -1;
  int n = split(line, c->fields, (int)commas + 1);
  if (n < 0) return shopgpu_csv_error(c, -1, st, "header: a quoted name lacks its closing quote");
  c->n_cols = n;
  for (int i = 0; i < n; i++)
    if (!(c->names[i] = strdup(c->fields[i])))
      return shopgpu__status_set(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "%s: out of memory", c->path),
             -1;
  return 0;
}

/* "12 bytes", "1.5 MiB". */
static void human_size(char *buf, size_t size, uint64_t n) {
  if (n < (1u << 20))
    snprintf(buf, size, "%llu bytes", (unsigned long long)n);
  else
    snprintf(buf, size, "%.1f MiB", (double)n / 1048576.0);
}

/* Checks the file's size against max_bytes. */
static int check_size(shopgpu_csv *c, uint64_t max_bytes, shopgpu_status *st) {
  struct stat sb;
  if (fstat(fileno(c->f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s: is a directory", c->path);
    return -1;
  }
  if (fstat(fileno(c->f), &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size <= max_bytes)
    return 0; /* pipes and the like: read what comes (next_line counts) */
  char have[32], limit[32];
  human_size(have, sizeof have, (uint64_t)sb.st_size);
  human_size(limit, sizeof limit, max_bytes);
  shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                      "%s: %s is over the limit of %s (split the file)", c->path, have, limit);
  return -1;
}

shopgpu_csv *shopgpu_csv_open(const char *path, uint64_t max_bytes, shopgpu_status *st) {
  if (!path) {
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "path: NULL");
    return NULL;
  }
  shopgpu_csv *c = calloc(1, sizeof *c);
  if (!c) {
    shopgpu__status_set(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "csv: out of memory");
    return NULL;
  }
  snprintf(c->path, sizeof c->path, "%s", path);
  c->f = fopen(path, "r");
  if (!c->f) {
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s: cannot open: %s", c->path,
                        strerror(errno));
    shopgpu_csv_close(c);
    return NULL;
  }
  c->max_bytes = max_bytes ? max_bytes : SHOPGPU_CSV_MAX_BYTES_DEFAULT;
  int rc = check_size(c, c->max_bytes, st);
  if (rc == 0) rc = next_line(c, st);
  if (rc == 0) {
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s: empty: expected a header line",
                        c->path);
    rc = -1;
  }
  if (rc < 0 || read_header(c, st) != 0) {
    shopgpu_csv_close(c);
    return NULL;
  }
  return c;
}

int shopgpu_csv_columns(const shopgpu_csv *c) { return c->n_cols; }

const char *shopgpu_csv_column_name(const shopgpu_csv *c, int col) {
  return col >= 0 && col < c->n_cols ? c->names[col] : NULL;
}

int shopgpu_csv_find(const shopgpu_csv *c, const char *name) {
  for (int i = 0; i < c->n_cols; i++)
    if (strcmp(c->names[i], name) == 0) return i;
  return -1;
}

int shopgpu_csv_next(shopgpu_csv *c, shopgpu_status *st) {
  if (c->failed) return shopgpu_csv_error(c, -1, st, "the reader failed before");
  for (;;) {
    if (c->at_end) return 0;
    int got = next_line(c, st);
    if (got <= 0) {
      c->failed = got < 0;
      c->at_end = got == 0;
      return got;
    }
    if (!c->buf[strspn(c->buf, " \t")]) continue; /* a blank line */
    int n = split(c->buf, c->fields, c->n_cols);
    if (n == c->n_cols) return 1;
    c->failed = 1;
    if (n < 0) return shopgpu_csv_error(c, -1, st, "a quoted field lacks its closing quote");
    return shopgpu_csv_error(c, -1, st, "%d fields, the header has %d", n, c->n_cols);
  }
}

const char *shopgpu_csv_field(const shopgpu_csv *c, int col) { return c->fields[col]; }

uint64_t shopgpu_csv_line(const shopgpu_csv *c) { return c->line; }

const char *shopgpu_csv_path(const shopgpu_csv *c) { return c->path; }

static int is_missing(const char *s) {
  return !*s || strcmp(s, "NA") == 0 || strcmp(s, "NaN") == 0 || strcmp(s, "nan") == 0;
}

int shopgpu_csv_number(const shopgpu_csv *c, int col, int missing_ok, double *v,
                       shopgpu_status *st) {
  const char *s = c->fields[col];
  if (is_missing(s)) {
    if (missing_ok) {
      *v = NAN;
      return 0;
    }
    return shopgpu_csv_error(c, col, st, "a number is required, found \"%.40s\"", s);
  }
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (end == s || *end || errno == ERANGE || !isfinite(x))
    return shopgpu_csv_error(c, col, st, "\"%.40s\" is not a finite number", s);
  *v = x;
  return 0;
}

void shopgpu_csv_close(shopgpu_csv *c) {
  if (!c) return;
  if (c->f) fclose(c->f);
  for (int i = 0; c->names && i < c->n_cols; i++)
    free(c->names[i]);
  free(c->names);
  free(c->fields);
  free(c->buf);
  free(c);
}
