/* Reader of id CSVs (interactions user_id,item_id[,label][,timestamp], pairs user_id,item_id):
 * one line at a time through a fixed buffer, so any file size takes the same memory. The header
 * fixes the column count; every error names the file, the line (1-based, the header is line 1)
 * and, for a bad field, the column (1-based) and its name. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client_internal.h"
#include "shopgpu_io.h"

#define MAX_COLS 4 /* user_id, item_id, label, timestamp (accepted, never read) */

struct shopgpu_ids_csv {
  FILE *f;
  char path[200];                    /* as given, cut for messages */
  uint64_t line;                     /* the last line read */
  int n_cols, label, failed, at_end; /* label: 1 when column 3 is the label */
  int with_label;
  char buf[SHOPGPU_CSV_LINE_MAX + 2];
};

/* Sets st to "path:line: ..." (INVALID_ARGUMENT) and marks the reader failed; returns -1. */
static int bad(shopgpu_ids_csv *r, shopgpu_status *st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(shopgpu_ids_csv *r, shopgpu_status *st, const char *fmt, ...) {
  char what[SHOPGPU_STATUS_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  r->failed = 1;
  shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s:%llu: %s", r->path,
                      (unsigned long long)r->line, what);
  return -1;
}

/* The next line without its line break in r->buf: 1, 0 at the end, -1 on an error (a line
 * over SHOPGPU_CSV_LINE_MAX, or with a NUL byte, which would cut a field short unseen). */
static int next_line(shopgpu_ids_csv *r, shopgpu_status *st) {
  size_t n = 0, nul = SIZE_MAX;
  int ch = EOF;
  errno = 0;
  while ((ch = getc_unlocked(r->f)) != EOF && ch != '\n') {
    if (n >= SHOPGPU_CSV_LINE_MAX) {
      r->line++;
      return bad(r, st, "line longer than %d bytes", SHOPGPU_CSV_LINE_MAX);
    }
    if (ch == '\0' && nul == SIZE_MAX) nul = n;
    r->buf[n++] = (char)ch;
  }
  if (ch == EOF && ferror(r->f)) {
    r->line++;
    return bad(r, st, "read error: %s", strerror(errno ? errno : EIO));
  }
  if (ch == EOF && n == 0) return 0;
  r->line++;
  if (nul != SIZE_MAX) return bad(r, st, "a NUL byte at byte %zu", nul + 1);
  while (n && r->buf[n - 1] == '\r')
    n--;
  r->buf[n] = '\0';
  return 1;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    s[--n] = '\0';
  return s;
}

/* Splits the line at commas into at most MAX_COLS + 1 trimmed fields; returns how many. */
static int split(char *line, char **fields) {
  int n = 0;
  for (char *p = line;; p++) {
    char *comma = strchr(p, ',');
    if (comma) *comma = '\0';
    if (n <= MAX_COLS) fields[n] = trim(p);
    n++;
    if (!comma) break;
    p = comma;
  }
  return n;
}

/* An unsigned decimal integer (digits only, fits uint64): 1, else 0. */
static int parse_u64(const char *s, uint64_t *v) {
  if (*s < '0' || *s > '9') return 0;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  errno = 0;
  unsigned long long x = strtoull(s, NULL, 10);
  if (errno == ERANGE) return 0;
  *v = x;
  return 1;
}

static int check_header(shopgpu_ids_csv *r, shopgpu_status *st) {
  char *line = r->buf;
  if (strncmp(line, "\xEF\xBB\xBF", 3) == 0) line += 3; /* a UTF-8 byte order mark */
  char copy[80];
  snprintf(copy, sizeof copy, "%s", line);
  const char *want = r->with_label ? "user_id,item_id[,label]" : "user_id,item_id";
  char *fields[MAX_COLS + 1];
  int n = split(line, fields);
  uint64_t v;
  if (parse_u64(fields[0], &v))
    return bad(r, st, "missing header: expected %s, found data \"%s\"", want, copy);
  int ok = n >= 2 && n <= (r->with_label ? MAX_COLS : 2) && strcmp(fields[0], "user_id") == 0 &&
           strcmp(fields[1], "item_id") == 0;
  r->label = ok && n >= 3 && strcmp(fields[2], "label") == 0;
  if (ok && n > 2 + r->label) ok = n == 3 + r->label && strcmp(fields[n - 1], "timestamp") == 0;
  if (!ok) return bad(r, st, "header \"%s\": expected %s", copy, want);
  r->n_cols = n;
  return 0;
}

shopgpu_ids_csv *shopgpu_ids_csv_open(const char *path, int with_label, shopgpu_status *st) {
  if (!path) {
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "path: NULL");
    return NULL;
  }
  shopgpu_ids_csv *r = calloc(1, sizeof *r);
  if (!r) {
    shopgpu__status_set(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "csv: out of memory");
    return NULL;
  }
  snprintf(r->path, sizeof r->path, "%s", path);
  r->with_label = with_label != 0;
  r->f = fopen(path, "r");
  struct stat sb;
  if (r->f && fstat(fileno(r->f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s: is a directory", r->path);
    shopgpu_ids_csv_close(r);
    return NULL;
  }
  int rc = r->f ? next_line(r, st) : -1;
  if (!r->f)
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s: cannot open: %s", r->path,
                        strerror(errno));
  else if (rc == 0)
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "%s: empty: expected a header %s",
                        r->path, with_label ? "user_id,item_id[,label]" : "user_id,item_id");
  if (rc <= 0 || check_header(r, st) != 0) {
    shopgpu_ids_csv_close(r);
    return NULL;
  }
  return r;
}

int shopgpu_ids_csv_has_label(const shopgpu_ids_csv *r) { return r->label; }

/* Parses the fields of one row into slot i. */
static int parse_row(shopgpu_ids_csv *r, char **fields, int n, size_t i, uint64_t *users,
                     uint64_t *items, uint32_t *labels, shopgpu_status *st) {
  static const char *const names[] = {"user_id", "item_id", "label"};
  if (n != r->n_cols) return bad(r, st, "%d fields, the header has %d", n, r->n_cols);
  uint64_t v[3] = {0, 0, 0};
  for (int c = 0; c < 2 + r->label; c++)
    if (!parse_u64(fields[c], &v[c]))
      return bad(r, st, "column %d (%s): \"%.40s\" is not an unsigned integer", c + 1, names[c],
                 fields[c]);
  if (r->label && v[2] > 1) return bad(r, st, "column 3 (label): %.40s is not 0 or 1", fields[2]);
  users[i] = v[0];
  items[i] = v[1];
  if (r->label && labels) labels[i] = (uint32_t)v[2];
  return 0;
}

long shopgpu_ids_csv_read(shopgpu_ids_csv *r, uint64_t *users, uint64_t *items, uint32_t *labels,
                          size_t cap, shopgpu_status *st) {
  if (r->failed) return bad(r, st, "the reader failed before");
  size_t n = 0;
  while (n < cap && !r->at_end) {
    int got = next_line(r, st);
    if (got < 0) return -1;
    if (got == 0) {
      r->at_end = 1;
      break;
    }
    if (!r->buf[strspn(r->buf, " \t")]) continue; /* a blank line */
    char *fields[MAX_COLS + 1];
    int k = split(r->buf, fields);
    if (parse_row(r, fields, k, n, users, items, labels, st) != 0) return -1;
    n++;
  }
  return (long)n;
}

void shopgpu_ids_csv_close(shopgpu_ids_csv *r) {
  if (!r) return;
  if (r->f) fclose(r->f);
  free(r);
}

uint64_t shopgpu_ids_csv_line(const shopgpu_ids_csv *r) { return r->line; }
