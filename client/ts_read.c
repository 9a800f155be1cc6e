/* Reads a long time-series CSV (unique_id,ds,y[,exog...]) whole: rows are collected with their
 * series (a hash of ids, numbered by first appearance), sorted by (series, ds), checked (repeats,
 * a y per series, one frequency), then laid out as the ragged arrays of a ForecastRequest with
 * NaN in the periods no row gave, and the regressors' future rows split off. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "shopgpu_io.h"
#include "shopgpu_ts.h"

long shopgpu_ts_find(const shopgpu_ts *ts, const char *id) {
  return ts && ts->ids && id ? shopgpu_ids_find(ts->ids, id) : -1;
}

/* ---- collecting rows ---- */

typedef struct key {
  int64_t ds;
  uint32_t series, row;
} key;

typedef struct reader {
  shopgpu_csv *csv;
  shopgpu_status *st;
  int n_exog, horizon;
  int col_id, col_ds, col_y, col_x[SHOPGPU_TS_MAX_EXOG];
  int format; /* of the first row's ds */
  key *keys;  /* per row; sorted by (series, ds) once all are read */
  double *y, *x;
  uint32_t *lines;
  size_t n, cap;
  shopgpu_ids *ids;     /* the series */
  uint64_t *first_line; /* per series: its first row's line */
  size_t first_cap;
} reader;

static int oom(reader *r) {
  return shopgpu__status_set(r->st, GRPC_STATUS_RESOURCE_EXHAUSTED,
                             "%s: out of memory after %zu rows", shopgpu_csv_path(r->csv), r->n),
         -1;
}

/* "path:line: ..." for a line already read. */
static int fail_at(reader *r, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(reader *r, uint64_t line, const char *fmt, ...) {
  char what[SHOPGPU_STATUS_MESSAGE_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return shopgpu__status_set(r->st, GRPC_STATUS_INVALID_ARGUMENT, "%s:%llu: %s",
                             shopgpu_csv_path(r->csv), (unsigned long long)line, what),
         -1;
}

/* Column name's index into *col, or the error. */
static int need_column(reader *r, const char *name, const char *why, int *col) {
  *col = shopgpu_csv_find(r->csv, name);
  if (*col >= 0) return 0;
  return fail_at(r, 1, "no column \"%.64s\" in the header (%s)", name, why);
}

static int find_columns(reader *r, const shopgpu_ts_options *o) {
  const char *want = "expected unique_id,ds,y[,exog...]";
  if (need_column(r, "unique_id", want, &r->col_id) || need_column(r, "ds", want, &r->col_ds) ||
      need_column(r, "y", want, &r->col_y))
    return -1;
  for (int j = 0; j < r->n_exog; j++) {
    const char *name = o->exog[j];
    if (!name || strcmp(name, "unique_id") == 0 || strcmp(name, "ds") == 0 ||
        strcmp(name, "y") == 0)
      return fail_at(r, 1, "exog column %d: \"%.64s\" cannot be a regressor", j + 1,
                     name ? name : "(null)");
    if (need_column(r, name, "a regressor", &r->col_x[j])) return -1;
  }
  return 0;
}

static int grow(reader *r) {
  size_t cap = r->cap ? 2 * r->cap : 4096, nx = (size_t)r->n_exog;
  if (cap >= UINT32_MAX) return fail_at(r, shopgpu_csv_line(r->csv), "over %u rows", UINT32_MAX);
  key *k = realloc(r->keys, cap * sizeof *k);
  if (k) r->keys = k;
  double *y = k ? realloc(r->y, cap * sizeof *y) : NULL;
  if (y) r->y = y;
  uint32_t *l = y ? realloc(r->lines, cap * sizeof *l) : NULL;
  if (l) r->lines = l;
  double *x = l && nx ? realloc(r->x, cap * nx * sizeof *x) : NULL;
  if (x) r->x = x;
  if (!l || (nx && !x)) return oom(r);
  r->cap = cap;
  return 0;
}

/* The current record's ds into *ds: its format must be the first row's. */
static int row_ds(reader *r, int64_t *ds) {
  const char *text = shopgpu_csv_field(r->csv, r->col_ds);
  int format = shopgpu_ds_parse(text, ds);
  const char *digits = text + (*text == '-');
  if (format < 0 && *digits && strspn(digits, "0123456789") == strlen(digits))
    return shopgpu_csv_error(r->csv, r->col_ds, r->st,
                             "\"%.40s\": an integer ds has at most 18 digits", text);
  if (format < 0)
    return shopgpu_csv_error(r->csv, r->col_ds, r->st,
                             "\"%.40s\" is not an integer nor a date YYYY-MM-DD[ HH:MM:SS] or "
                             "YYYY-MM-DDTHH:MM:SS",
                             text);
  static const char *const names[] = {"an integer", "a date", "a date and time (T)",
                                      "a date and time"};
  if (r->format < 0) r->format = format;
  if (format != r->format)
    return shopgpu_csv_error(r->csv, r->col_ds, r->st, "\"%.40s\" is %s, the first row's ds is %s",
                             text, names[format], names[r->format]);
  return 0;
}

/* Keeps the first line of series s when it is new. */
static int note_series(reader *r, size_t s) {
  if (s < r->first_cap && r->first_line[s]) return 0;
  if (s >= r->first_cap) {
    size_t cap = r->first_cap ? 2 * r->first_cap : 256;
    uint64_t *l = realloc(r->first_line, cap * sizeof *l);
    if (!l) return -1;
    memset(l + r->first_cap, 0, (cap - r->first_cap) * sizeof *l);
    r->first_line = l, r->first_cap = cap;
  }
  r->first_line[s] = shopgpu_csv_line(r->csv);
  return 0;
}

static int add_row(reader *r) {
  if (r->n == r->cap && grow(r) != 0) return -1;
  const char *id = shopgpu_csv_field(r->csv, r->col_id);
  if (!*id) return shopgpu_csv_error(r->csv, r->col_id, r->st, "empty id");
  key *k = &r->keys[r->n];
  if (row_ds(r, &k->ds) != 0 || shopgpu_csv_number(r->csv, r->col_y, 1, &r->y[r->n], r->st) != 0)
    return -1;
  for (int j = 0; j < r->n_exog; j++)
    if (shopgpu_csv_number(r->csv, r->col_x[j], 1, &r->x[r->n * (size_t)r->n_exog + (size_t)j],
                           r->st) != 0)
      return -1;
  long s = shopgpu_ids_add(r->ids, id);
  if (s < 0 || note_series(r, (size_t)s) != 0) return oom(r);
  k->series = (uint32_t)s;
  k->row = (uint32_t)r->n;
  r->lines[r->n++] = (uint32_t)shopgpu_csv_line(r->csv);
  return 0;
}

static int read_rows(reader *r) {
  int got;
  while ((got = shopgpu_csv_next(r->csv, r->st)) > 0)
    if (add_row(r) != 0) return -1;
  if (got < 0) return -1;
  if (r->n == 0) return fail_at(r, 1, "no rows after the header");
  return 0;
}

static int by_series_ds(const void *a, const void *b) {
  const key *x = a, *y = b;
  if (x->series != y->series) return x->series < y->series ? -1 : 1;
  if (x->ds != y->ds) return x->ds < y->ds ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

/* Sorts the rows and rejects a ds given twice in a series. */
static int sort_rows(reader *r) {
  qsort(r->keys, r->n, sizeof *r->keys, by_series_ds);
  for (size_t i = 1; i < r->n; i++) {
    const key *a = &r->keys[i - 1], *b = &r->keys[i];
    if (a->series != b->series || a->ds != b->ds) continue;
    char ds[32];
    shopgpu_ds_format_text(ds, sizeof ds, r->format, b->ds);
    return fail_at(r, r->lines[b->row], "series \"%.64s\": ds %s repeats line %u",
                   shopgpu_ids_get(r->ids, b->series), ds, r->lines[a->row]);
  }
  return 0;
}

/* ---- laying the series out ---- */

/* seg[s] .. seg[s+1]: the sorted rows of series s. */
static size_t *segments(reader *r) {
  size_t n_series = shopgpu_ids_count(r->ids), *seg = calloc(n_series + 1, sizeof *seg);
  if (!seg) return NULL;
  for (size_t i = 0; i < r->n; i++)
    seg[r->keys[i].series + 1]++;
  for (size_t s = 0; s < n_series; s++)
    seg[s + 1] += seg[s];
  return seg;
}

/* The frequency of every row's ds (future rows included). */
static int infer(reader *r, const size_t *seg, shopgpu_freq *f) {
  int64_t *ds = malloc(r->n * sizeof *ds);
  if (!ds) return oom(r);
  for (size_t i = 0; i < r->n; i++)
    ds[i] = r->keys[i].ds;
  size_t n_series = shopgpu_ids_count(r->ids);
  const char **ids = malloc(n_series * sizeof *ids);
  for (size_t s = 0; ids && s < n_series; s++)
    ids[s] = shopgpu_ids_get(r->ids, s);
  int rc = ids ? shopgpu_freq_infer(r->format, ds, seg, n_series, ids, f, r->st) : oom(r);
  free(ds);
  free(ids);
  if (!ids) return -1;
  if (rc == 0) return 0;
  char what[SHOPGPU_STATUS_MESSAGE_MAX];
  snprintf(what, sizeof what, "%s", r->st->message);
  return shopgpu__status_set(r->st, GRPC_STATUS_INVALID_ARGUMENT, "%s: %s",
                             shopgpu_csv_path(r->csv), what),
         -1;
}

/* The row of series s's last y (an index into keys), its value count and first/last ds. */
static int measure(reader *r, const shopgpu_freq *f, const size_t *seg, size_t s,
                   shopgpu_ts_series *out, size_t *last_y) {
  size_t h = seg[s + 1];
  while (h > seg[s] && isnan(r->y[r->keys[h - 1].row]))
    h--;
  const char *id = shopgpu_ids_get(r->ids, s);
  if (h == seg[s]) return fail_at(r, r->first_line[s], "series \"%.64s\": no value of y", id);
  *last_y = h - 1;
  out->id = id;
  out->line = r->first_line[s];
  out->first = r->keys[seg[s]].ds;
  out->last = r->keys[h - 1].ds;
  int64_t periods = 0;
  shopgpu_freq_periods(f, out->first, out->last, &periods); /* on the grid: inferred so */
  if (periods >= SHOPGPU_TS_MAX_LENGTH)
    return fail_at(r, out->line, "series \"%.64s\": %lld periods from first to last y (over %d)",
                   id, (long long)periods + 1, SHOPGPU_TS_MAX_LENGTH);
  out->len = (size_t)periods + 1;
  out->missing = out->len;
  int64_t end;
  if (r->horizon > 0 && shopgpu_freq_add_checked(f, out->last, r->horizon, &end) != 0) {
    char last[32], max[32];
    shopgpu_ds_format_text(last, sizeof last, r->format, out->last);
    shopgpu_ds_format_text(max, sizeof max, r->format, shopgpu_ds_max(r->format));
    return fail_at(r, out->line,
                   "series \"%.64s\": %d period%s after its last ds %s pass%s %s, the last ds "
                   "this file's form can have",
                   id, r->horizon, r->horizon == 1 ? "" : "s", last, r->horizon == 1 ? "es" : "",
                   max);
  }
  return 0;
}

static int alloc_arrays(reader *r, shopgpu_ts *ts, size_t total) {
  size_t nx = (size_t)r->n_exog, future = ts->n_series * (size_t)r->horizon * nx;
  ts->values = malloc((total ? total : 1) * sizeof *ts->values);
  if (nx) {
    ts->xreg = malloc(total * nx * sizeof *ts->xreg);
    ts->xreg_future = malloc(future * sizeof *ts->xreg_future);
  }
  if (!ts->values || (nx && (!ts->xreg || !ts->xreg_future))) return oom(r);
  for (size_t i = 0; i < total; i++)
    ts->values[i] = NAN;
  for (size_t i = 0; i < total * nx; i++)
    ts->xreg[i] = NAN;
  return 0;
}

/* Series s's rows up to its last y into values and xreg. */
static void place_history(reader *r, shopgpu_ts *ts, shopgpu_ts_series *x, size_t b, size_t h) {
  size_t nx = (size_t)r->n_exog;
  for (size_t k = b; k <= h; k++) {
    const key *row = &r->keys[k];
    int64_t t = 0;
    shopgpu_freq_periods(&ts->freq, x->first, row->ds, &t);
    size_t at = x->offset + (size_t)t;
    ts->values[at] = r->y[row->row];
    if (!isnan(ts->values[at]))
      x->missing--;
    else
      x->na++; /* a row, but no value */
    if (nx) memcpy(ts->xreg + at * nx, r->x + row->row * nx, nx * sizeof *ts->xreg);
  }
}

/* Series s's rows after its last y: the regressors' future (or ignored without regressors). */
static int place_future(reader *r, shopgpu_ts *ts, size_t s, size_t h, size_t e) {
  size_t nx = (size_t)r->n_exog, n = e - h - 1;
  const shopgpu_ts_series *x = &ts->series[s];
  if (!nx) {
    ts->ignored_rows += n;
    return 0;
  }
  if (n != (size_t)r->horizon)
    return fail_at(r, x->line,
                   "series \"%.64s\": %zu future rows (y empty after its last y, line %u), the "
                   "regressors need exactly %d (the horizon)",
                   x->id, n, r->lines[r->keys[h].row], r->horizon);
  for (size_t k = 0; k < n; k++) {
    const key *row = &r->keys[h + 1 + k];
    int64_t t = 0;
    char want[32];
    shopgpu_ds_format_text(want, sizeof want, r->format,
                           shopgpu_freq_add(&ts->freq, x->last, k + 1));
    if (shopgpu_freq_periods(&ts->freq, x->last, row->ds, &t) != 0 || t != (int64_t)k + 1)
      return fail_at(r, r->lines[row->row], "series \"%.64s\": future row %zu should be ds %s",
                     x->id, k + 1, want);
    for (size_t j = 0; j < nx; j++) {
      double v = r->x[row->row * nx + j];
      if (isnan(v))
        return fail_at(r, r->lines[row->row],
                       "column %d (%.40s): series \"%.64s\": a future row "
                       "needs the regressor's value",
                       r->col_x[j] + 1, shopgpu_csv_column_name(r->csv, r->col_x[j]), x->id);
      ts->xreg_future[(s * (size_t)r->horizon + k) * nx + j] = v;
    }
  }
  return 0;
}

static int lay_out(reader *r, shopgpu_ts *ts, const size_t *seg) {
  size_t *last_y = malloc(ts->n_series * sizeof *last_y), total = 0;
  int rc = last_y ? 0 : oom(r);
  for (size_t s = 0; rc == 0 && s < ts->n_series; s++) {
    rc = measure(r, &ts->freq, seg, s, &ts->series[s], &last_y[s]);
    ts->series[s].offset = total;
    total += ts->series[s].len;
    /* gaps are filled with NaN: a small file whose series span years of seconds would else ask
     * for gigabytes (checked before anything is allocated) */
    if (rc == 0 && total * (1 + (size_t)r->n_exog) > SHOPGPU_TS_MAX_TOTAL)
      rc = fail_at(r, ts->series[s].line,
                   "series \"%.64s\": the series up to here span %zu periods, gaps included, "
                   "times %d value(s) each (over %d in all)",
                   ts->series[s].id, total, 1 + r->n_exog, SHOPGPU_TS_MAX_TOTAL);
  }
  if (rc == 0) rc = alloc_arrays(r, ts, total);
  for (size_t s = 0; rc == 0 && s < ts->n_series; s++) {
    shopgpu_ts_series *x = &ts->series[s];
    place_history(r, ts, x, seg[s], last_y[s]);
    rc = place_future(r, ts, s, last_y[s], seg[s + 1]);
    ts->missing += x->missing;
    ts->gap_series += x->missing > 0;
  }
  free(last_y);
  return rc;
}

/* ---- the whole read ---- */

static int read_all(reader *r, shopgpu_ts *ts) {
  if (read_rows(r) != 0 || sort_rows(r) != 0) return -1;
  size_t *seg = segments(r);
  if (!seg) return oom(r);
  ts->n_series = shopgpu_ids_count(r->ids);
  ts->rows = r->n;
  ts->series = calloc(ts->n_series, sizeof *ts->series);
  int rc = ts->series ? infer(r, seg, &ts->freq) : oom(r);
  if (rc == 0) rc = lay_out(r, ts, seg);
  free(seg);
  return rc;
}

shopgpu_ts *shopgpu_ts_read(const char *path, const shopgpu_ts_options *opts, shopgpu_status *st) {
  shopgpu_ts_options none = {0};
  const shopgpu_ts_options *o = opts ? opts : &none;
  if (o->n_exog < 0 || o->n_exog > SHOPGPU_TS_MAX_EXOG ||
      (o->n_exog && (!o->exog || o->horizon < 1))) {
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                        "exog: %d columns (0..%d, each with a horizon >= 1)", o->n_exog,
                        SHOPGPU_TS_MAX_EXOG);
    return NULL;
  }
  shopgpu_status local;
  reader r = {.st = st ? st : &local, .n_exog = o->n_exog, .horizon = o->horizon, .format = -1};
  shopgpu_ts *ts = calloc(1, sizeof *ts);
  r.ids = shopgpu_ids_new();
  r.csv = ts && r.ids ? shopgpu_csv_open(path, o->max_bytes, r.st) : NULL;
  int rc = -1;
  if (!ts || !r.ids)
    shopgpu__status_set(r.st, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  else if (r.csv)
    rc = find_columns(&r, o) == 0 ? read_all(&r, ts) : -1;
  if (ts) {
    ts->n_exog = o->n_exog, ts->horizon = o->horizon;
    ts->ids = r.ids;
  } else {
    shopgpu_ids_free(r.ids);
  }
  shopgpu_csv_close(r.csv);
  free(r.keys), free(r.y), free(r.x), free(r.lines), free(r.first_line);
  if (rc == 0) return ts;
  shopgpu_ts_free(ts);
  return NULL;
}

void shopgpu_ts_free(shopgpu_ts *ts) {
  if (!ts) return;
  shopgpu_ids_free(ts->ids);
  free(ts->series), free(ts->values), free(ts->xreg), free(ts->xreg_future);
  free(ts);
}
