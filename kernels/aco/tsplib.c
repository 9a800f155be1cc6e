/* TSPLIB (.tsp, .tour) and CVRPLIB (.vrp) readers. Header lines are "KEY : value" in any
 * spacing (tabs, CRLF, trailing blanks); sections are read as whitespace-separated numbers that
 * may span lines. Every error names the source and line. The instance that comes out passes
 * sg_aco_problem_check, with the depot moved to node 0. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/size.h"
#include "aco.h"

#define TOK_MAX 128

enum fmt { F_NONE, F_FULL, F_UPPER, F_LOWER, F_UPPER_DIAG, F_LOWER_DIAG, F_FUNCTION };

typedef struct lexer {
  const char *p, *end;
  int line;
} lexer;

typedef struct id_line {
  int64_t id;
  int line, index;
} id_line;

typedef struct parse {
  lexer lx;
  const char *src;
  sg_err *err;
  sg_aco_instance *in;
  int n, metric, fmt, vehicles, depot, depot_line, flags;
  int distance_line, vehicles_line, service_line;
  double capacity, distance, service;
  int have_coords, have_weights, have_demand;
  int *dem_line;
  const int64_t *ids; /* node ids by index (the instance's, or a tour's reference) */
  id_line *sorted;    /* ids sorted (the coordinates', or the tour's reference), for lookups
                         when they are not 1..n */
} parse;

static sg_status fail(parse *ps, int line, const char *fmt, const char *what) {
  return sg_err_set(ps->err, SG_INVALID_ARGUMENT, "%.80s:%d: %s%.64s", ps->src, line, fmt,
                    what ? what : "");
}

static sg_status failf(parse *ps, int line, const char *fmt, ...) SG_PRINTF(3, 4);
static sg_status failf(parse *ps, int line, const char *fmt, ...) {
  char msg[192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return sg_err_set(ps->err, SG_INVALID_ARGUMENT, "%.80s:%d: %s", ps->src, line, msg);
}

static void skip_blanks(lexer *lx) {
  while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
    lx->p++;
}

/* next whitespace-delimited token across lines; 0 at the end of the text */
static int next_token(lexer *lx, char *tok, int *line) {
  for (;;) {
    skip_blanks(lx);
    if (lx->p >= lx->end) return 0;
    if (*lx->p != '\n') break;
    lx->line++;
    lx->p++;
  }
  *line = lx->line;
  int len = 0;
  while (lx->p < lx->end && !strchr(" \t\r\n", *lx->p)) {
    if (len < TOK_MAX - 1) tok[len++] = *lx->p;
    lx->p++;
  }
  tok[len] = '\0';
  return 1;
}

static int is_number(const char *tok, double *v) {
  char *endp;
  errno = 0;
  *v = strtod(tok, &endp);
  return endp != tok && *endp == '\0' && errno != ERANGE;
}

/* next token as a number, and the line it is on; errors name what was expected */
static sg_status number_at(parse *ps, const char *what, double *v, int *at) {
  char tok[TOK_MAX];
  int line = ps->lx.line;
  if (!next_token(&ps->lx, tok, &line)) return fail(ps, line, "end of file while reading ", what);
  if (!is_number(tok, v)) return fail(ps, line, "expected a number for ", what);
  *at = line;
  return SG_OK;
}

static sg_status number(parse *ps, const char *what, double *v) {
  int line;
  return number_at(ps, what, v, &line);
}

static sg_status integer(parse *ps, const char *what, int64_t *v) {
  double d = 0;
  SG_TRY(number(ps, what, &d));
  if (d != floor(d) || fabs(d) > 9e15)
    return fail(ps, ps->lx.line, "expected an integer for ", what);
  *v = (int64_t)d;
  return SG_OK;
}

/* rest of the current line, trimmed, after an optional ':' */
static void header_value(lexer *lx, char *val, size_t cap) {
  skip_blanks(lx);
  if (lx->p < lx->end && *lx->p == ':') lx->p++;
  skip_blanks(lx);
  size_t len = 0;
  while (lx->p < lx->end && *lx->p != '\n') {
    if (len + 1 < cap) val[len++] = *lx->p;
    lx->p++;
  }
  while (len > 0 && strchr(" \t\r", val[len - 1]))
    len--;
  val[len] = '\0';
}

static void first_word(const char *val, char *w, size_t cap) {
  size_t len = 0;
  while (val[len] && !strchr(" \t", val[len]) && len + 1 < cap) {
    w[len] = val[len];
    len++;
  }
  /* cut short: not inside a UTF-8 character (the name goes back to clients as a string) */
  while (len > 0 && !strchr(" \t", val[len]) && ((unsigned char)val[len] & 0xC0) == 0x80)
    len--;
  w[len] = '\0';
}

static int lookup(const char *w, const char *const *names, int count) {
  for (int i = 0; i < count; i++)
    if (strcmp(w, names[i]) == 0) return i;
  return -1;
}

static sg_status set_metric(parse *ps, const char *w, int line) {
  static const char *const names[] = {"EUC_2D", "CEIL_2D", "ATT", "GEO", "EXACT_2D", "EXPLICIT"};
  int m = lookup(w, names, (int)SG_ARRAY_LEN(names));
  if (m < 0) return fail(ps, line, "unsupported EDGE_WEIGHT_TYPE ", w);
  ps->metric = m;
  return SG_OK;
}

static sg_status set_format(parse *ps, const char *w, int line) {
  static const char *const names[] = {"FULL_MATRIX",    "UPPER_ROW", "LOWER_ROW", "UPPER_DIAG_ROW",
                                      "LOWER_DIAG_ROW", "LOWER_COL", "UPPER_COL", "LOWER_DIAG_COL",
                                      "UPPER_DIAG_COL", "FUNCTION"};
  static const int map[] = {F_FULL,  F_UPPER, F_LOWER,      F_UPPER_DIAG, F_LOWER_DIAG,
                            F_UPPER, F_LOWER, F_UPPER_DIAG, F_LOWER_DIAG, F_FUNCTION};
  int f = lookup(w, names, (int)SG_ARRAY_LEN(names));
  if (f < 0) return fail(ps, line, "unsupported EDGE_WEIGHT_FORMAT ", w);
  ps->fmt = map[f];
  return SG_OK;
}

static sg_status alloc_nodes(parse *ps, int line) {
  sg_aco_instance *in = ps->in;
  if (in->ids) return SG_OK;
  if (ps->n <= 0) return fail(ps, line, "a section before DIMENSION", NULL);
  size_t n = (size_t)ps->n;
  in->ids = malloc(n * sizeof *in->ids);
  in->x = calloc(n, sizeof *in->x);
  in->y = calloc(n, sizeof *in->y);
  ps->dem_line = calloc(n, sizeof *ps->dem_line);
  if (!in->ids || !in->x || !in->y || !ps->dem_line)
    return sg_err_set(ps->err, SG_OUT_OF_MEMORY, "%.80s: out of memory for %d nodes", ps->src,
                      ps->n);
  for (int i = 0; i < ps->n; i++)
    in->ids[i] = i + 1;
  ps->ids = in->ids;
  return SG_OK;
}

static int by_id_then_line(const void *a, const void *b) {
  const id_line *x = a, *y = b;
  if (x->id != y->id) return (x->id > y->id) - (x->id < y->id);
  return (x->line > y->line) - (x->line < y->line);
}

/* index of external id, -1 when unknown (ids are 1..n in order in every known file: fast path;
 * else a binary search of the sorted coordinates' ids, or a scan where there are none) */
static int index_of(const parse *ps, int64_t id) {
  const int64_t *ids = ps->ids;
  if (id >= 1 && id <= ps->n && ids[id - 1] == id) return (int)(id - 1);
  if (ps->sorted) { /* the first entry of id, by lower bound */
    size_t lo = 0, hi = (size_t)ps->n;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (ps->sorted[mid].id < id)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo < (size_t)ps->n && ps->sorted[lo].id == id ? ps->sorted[lo].index : -1;
  }
  for (int i = 0; i < ps->n; i++)
    if (ids[i] == id) return i;
  return -1;
}

/* A repeated node id, named at its second line: sorted (n log n; comparing every pair took
 * minutes for the million nodes a file may have). */
static sg_status check_unique(parse *ps, id_line *seen) {
  qsort(seen, (size_t)ps->n, sizeof *seen, by_id_then_line);
  int first = 0; /* the earliest line that repeats an id above it */
  for (int i = 1; i < ps->n; i++)
    if (seen[i].id == seen[i - 1].id && (!first || seen[i].line < first)) first = seen[i].line;
  if (first) return fail(ps, first, "duplicate node id in NODE_COORD_SECTION", NULL);
  return SG_OK;
}

static sg_status read_coords(parse *ps, int line) {
  /* DEMAND_SECTION and DEPOT_SECTION look their ids up in the coordinates' ids (else 1..n):
   * coordinates read after them, or read again, would give their values to other nodes */
  if (ps->have_coords) return fail(ps, line, "NODE_COORD_SECTION given twice", NULL);
  if (ps->have_demand || ps->depot >= 0)
    return fail(ps, line, "NODE_COORD_SECTION after DEMAND_SECTION or DEPOT_SECTION", NULL);
  SG_TRY(alloc_nodes(ps, line));
  id_line *seen = malloc((size_t)ps->n * sizeof *seen);
  if (!seen) return sg_err_set(ps->err, SG_OUT_OF_MEMORY, "%.80s: out of memory", ps->src);
  sg_status st = SG_OK;
  for (int i = 0; st == SG_OK && i < ps->n; i++) {
    int64_t id = 0;
    st = integer(ps, "a node id in NODE_COORD_SECTION", &id);
    if (st != SG_OK) break;
    seen[i] = (id_line){id, ps->lx.line, i};
    ps->in->ids[i] = id;
    st = number(ps, "an x coordinate", &ps->in->x[i]);
    if (st == SG_OK) st = number(ps, "a y coordinate", &ps->in->y[i]);
    if (st == SG_OK && (!isfinite(ps->in->x[i]) || !isfinite(ps->in->y[i])))
      st = fail(ps, ps->lx.line, "coordinate is not finite", NULL);
    else if (st == SG_OK && ps->metric != SG_ACO_EXPLICIT && /* display-only there */
             (fabs(ps->in->x[i]) > SG_ACO_COORD_MAX || fabs(ps->in->y[i]) > SG_ACO_COORD_MAX))
      st = fail(ps, ps->lx.line, "coordinate exceeds 1e9 in magnitude", NULL);
  }
  if (st == SG_OK) st = check_unique(ps, seen);
  free(ps->sorted);
  ps->sorted = st == SG_OK ? seen : NULL; /* kept for index_of; freed with the parse */
  if (st != SG_OK) free(seen);
  if (st == SG_OK) ps->have_coords = 1;
  return st;
}

static sg_status read_weights(parse *ps, int line) {
  SG_TRY(alloc_nodes(ps, line));
  int n = ps->n;
  if (ps->fmt == F_NONE || ps->fmt == F_FUNCTION)
    return fail(ps, line, "EDGE_WEIGHT_SECTION without an EDGE_WEIGHT_FORMAT", NULL);
  if (ps->have_weights || ps->in->matrix)
    return fail(ps, line, "EDGE_WEIGHT_SECTION given twice", NULL);
  if (n > SG_ACO_MATRIX_MAX_N)
    return sg_err_set(ps->err, SG_INVALID_ARGUMENT,
                      "%.80s:%d: explicit matrix of %d nodes > SG_ACO_MATRIX_MAX_N %d", ps->src,
                      line, n, SG_ACO_MATRIX_MAX_N);
  /* the weights take 2 bytes each at least ("0 "): a short text is refused before n² doubles
   * are allocated for it (a 100-byte header asked for 128 MiB) */
  size_t nn = (size_t)n * (size_t)n, tri = (size_t)n * (size_t)(n - 1) / 2;
  size_t want = ps->fmt == F_FULL                          ? nn
                : ps->fmt == F_UPPER || ps->fmt == F_LOWER ? tri
                                                           : tri + (size_t)n;
  if (want > 0 && (size_t)(ps->lx.end - ps->lx.p) < 2 * want - 1)
    return failf(ps, line,
                 "EDGE_WEIGHT_SECTION: %zu weights for %d nodes cannot fit in the %zu "
                 "bytes left",
                 want, n, (size_t)(ps->lx.end - ps->lx.p));
  double *w = ps->in->matrix = calloc(nn, sizeof *w);
  if (!w)
    return sg_err_set(ps->err, SG_OUT_OF_MEMORY, "%.80s: out of memory for the matrix", ps->src);
  for (int i = 0; i < n; i++) {
    int lo = 0, hi = n; /* columns j in [lo, hi) of row i */
    switch (ps->fmt) {
    case F_UPPER: lo = i + 1; break;
    case F_LOWER: hi = i; break;
    case F_UPPER_DIAG: lo = i; break;
    case F_LOWER_DIAG: hi = i + 1; break;
    default: break;
    }
    for (int j = lo; j < hi; j++) {
      double v;
      int at;
      SG_TRY(number_at(ps, "a weight in EDGE_WEIGHT_SECTION", &v, &at));
      /* checked here, where the line is known (the solver's own check knows only indices) */
      if (!isfinite(v) || v < 0)
        return failf(ps, at, "weight %g (row %d, column %d) is not a finite number >= 0", v, i + 1,
                     j + 1);
      if (i == j && v != 0)
        return failf(ps, at, "weight %g on the diagonal (row %d) is not 0", v, i + 1);
      /* FULL_MATRIX: the lower triangle comes after the upper one it must equal */
      if (ps->fmt == F_FULL && j < i && v != w[(size_t)j * n + i])
        return failf(ps, at,
                     "weight %g (row %d, column %d) differs from %g (row %d, column %d): the "
                     "matrix must be symmetric",
                     v, i + 1, j + 1, w[(size_t)j * n + i], j + 1, i + 1);
      w[(size_t)i * n + j] = v;
      if (ps->fmt != F_FULL) w[(size_t)j * n + i] = v;
    }
  }
  ps->have_weights = 1;
  return SG_OK;
}

static sg_status read_demands(parse *ps, int line) {
  SG_TRY(alloc_nodes(ps, line));
  sg_aco_instance *in = ps->in;
  if (!in->demand && !(in->demand = calloc((size_t)ps->n, sizeof *in->demand)))
    return sg_err_set(ps->err, SG_OUT_OF_MEMORY, "%.80s: out of memory", ps->src);
  for (int i = 0; i < ps->n; i++) {
    int64_t id = 0, d = 0;
    SG_TRY(integer(ps, "a node id in DEMAND_SECTION", &id));
    int at = index_of(ps, id), l = ps->lx.line;
    if (at < 0) return fail(ps, l, "demand for an unknown node id", NULL);
    SG_TRY(integer(ps, "a demand", &d));
    if (d < 0) return fail(ps, l, "negative demand", NULL);
    if (d > 2000000000) return fail(ps, l, "demand too large", NULL);
    in->demand[at] = (int)d;
    ps->dem_line[at] = l;
  }
  ps->have_demand = 1;
  return SG_OK;
}

static sg_status read_depots(parse *ps, int line) {
  SG_TRY(alloc_nodes(ps, line));
  for (;;) {
    int64_t id = 0;
    SG_TRY(integer(ps, "a depot id in DEPOT_SECTION", &id));
    if (id == -1) return SG_OK;
    int at = index_of(ps, id);
    if (at < 0) return fail(ps, ps->lx.line, "unknown depot id", NULL);
    if (ps->depot >= 0 && ps->depot != at)
      return fail(ps, ps->lx.line, "more than one depot", NULL);
    ps->depot = at;
    ps->depot_line = ps->lx.line;
  }
}

/* skips numbers (DISPLAY_DATA_SECTION) up to the next keyword */
static void skip_numbers(parse *ps) {
  for (;;) {
    lexer save = ps->lx;
    char tok[TOK_MAX];
    int line;
    double v;
    if (!next_token(&ps->lx, tok, &line) || !is_number(tok, &v)) {
      ps->lx = save;
      return;
    }
  }
}

static sg_status header(parse *ps, const char *key, int line) {
  char val[256], w[64];
  header_value(&ps->lx, val, sizeof val);
  first_word(val, w, sizeof w);
  double v;
  if (strcmp(key, "NAME") == 0)
    snprintf(ps->in->name, sizeof ps->in->name, "%s", w);
  else if (strcmp(key, "TYPE") == 0) {
    if (strcmp(w, "TSP") != 0 && strcmp(w, "CVRP") != 0 && strcmp(w, "TOUR") != 0)
      return fail(ps, line, "unsupported TYPE ", w);
    snprintf(ps->in->type, sizeof ps->in->type, "%s", w);
  } else if (strcmp(key, "DIMENSION") == 0) {
    if (!is_number(w, &v) || v != floor(v) || v < SG_ACO_MIN_N || v > SG_ACO_MAX_N)
      return fail(ps, line, "DIMENSION must be an integer in 3..1000000, not ", w);
    if (ps->n > 0) return fail(ps, line, "DIMENSION given twice", NULL);
    ps->n = (int)v;
  } else if (strcmp(key, "EDGE_WEIGHT_TYPE") == 0) {
    return set_metric(ps, w, line);
  } else if (strcmp(key, "EDGE_WEIGHT_FORMAT") == 0) {
    return set_format(ps, w, line);
  } else if (strcmp(key, "CAPACITY") == 0 || strcmp(key, "DISTANCE") == 0 ||
             strcmp(key, "SERVICE_TIME") == 0 || strcmp(key, "VEHICLES") == 0) {
    if (!is_number(w, &v) || !isfinite(v) || v < 0) return fail(ps, line, "bad value ", val);
    /* whole numbers in range before any cast (VEHICLES: 2^31 must not wrap to negative) */
    if (key[0] == 'C' && (v != floor(v) || v < 1 || v > 2000000000))
      return fail(ps, line, "CAPACITY must be a whole number in 1..2000000000, not ", w);
    if (key[0] == 'V' && (v != floor(v) || v > 1000000))
      return fail(ps, line, "VEHICLES must be a whole number in 0..1000000, not ", w);
    if (key[0] == 'C')
      ps->capacity = v;
    else if (key[0] == 'D')
      ps->distance = v, ps->distance_line = line;
    else if (key[0] == 'S')
      ps->service = v, ps->service_line = line;
    else
      ps->vehicles = (int)v, ps->vehicles_line = line;
  } else if (strcmp(key, "NODE_COORD_TYPE") == 0) {
    if (strcmp(w, "TWOD_COORDS") != 0) return fail(ps, line, "unsupported NODE_COORD_TYPE ", w);
  } else if (strcmp(key, "COMMENT") != 0 && strcmp(key, "DISPLAY_DATA_TYPE") != 0) {
    return fail(ps, line, "unknown keyword ", key);
  }
  return SG_OK;
}

/* swaps nodes 0 and d in every array */
static void move_depot_first(parse *ps, int d) {
  sg_aco_instance *in = ps->in;
  int n = ps->n;
#define SWAP(T, a, i, j)                                                                           \
  do {                                                                                             \
    T t_ = (a)[i];                                                                                 \
    (a)[i] = (a)[j];                                                                               \
    (a)[j] = t_;                                                                                   \
  } while (0)
  SWAP(int64_t, in->ids, 0, d);
  SWAP(double, in->x, 0, d);
  SWAP(double, in->y, 0, d);
  SWAP(int, in->demand, 0, d);
  SWAP(int, ps->dem_line, 0, d);
  if (in->matrix) {
    for (int j = 0; j < n; j++)
      SWAP(double, in->matrix, (size_t)j, (size_t)d *n + j);
    for (int i = 0; i < n; i++)
      SWAP(double, in->matrix, (size_t)i *n, (size_t)i *n + d);
  }
#undef SWAP
}

/* The CVRP's fleet and route-length limits against the demands and distances, named at their
 * header lines with the file's node ids (the solver's check would name internal indices). */
static sg_status check_limits(parse *ps) {
  const sg_aco_problem *p = &ps->in->problem;
  long long total = 0;
  for (int i = 1; i < p->n; i++)
    total += p->demand[i];
  if (p->max_vehicles > 0 && (long long)p->max_vehicles * p->capacity < total)
    return failf(ps, ps->vehicles_line,
                 "VEHICLES %d x CAPACITY %d = %lld is less than the total demand %lld",
                 p->max_vehicles, p->capacity, (long long)p->max_vehicles * p->capacity, total);
  for (int i = 1; p->max_route_length > 0 && i < p->n; i++) {
    double need = sg_aco_distance(p, 0, i) + sg_aco_distance(p, i, 0) + ps->service;
    if (need > p->max_route_length)
      return failf(ps, ps->distance_line,
                   "DISTANCE %g is less than %g, the round trip from the depot to node %lld%s",
                   p->max_route_length, need, (long long)p->ids[i],
                   ps->service > 0 ? " with its SERVICE_TIME" : "");
  }
  return SG_OK;
}

static sg_status finish(parse *ps) {
  sg_aco_instance *in = ps->in;
  sg_aco_problem *p = &in->problem;
  if (ps->n <= 0) return fail(ps, ps->lx.line, "no DIMENSION", NULL);
  if (ps->metric < 0) return fail(ps, ps->lx.line, "no EDGE_WEIGHT_TYPE", NULL);
  if (ps->metric == SG_ACO_EXPLICIT ? !ps->have_weights : !ps->have_coords)
    return fail(ps, ps->lx.line,
                ps->metric == SG_ACO_EXPLICIT ? "no EDGE_WEIGHT_SECTION" : "no NODE_COORD_SECTION",
                NULL);
  int vrp = strcmp(in->type, "CVRP") == 0;
  if (!in->type[0]) return fail(ps, ps->lx.line, "no TYPE", NULL);
  p->n = ps->n;
  p->metric = (sg_aco_metric)ps->metric;
  if ((ps->flags & SG_ACO_READ_EXACT) && p->metric == SG_ACO_EUC_2D) p->metric = SG_ACO_EXACT_2D;
  p->x = in->x;
  p->y = in->y;
  p->matrix = in->matrix;
  p->ids = in->ids;
  if (!vrp) return SG_OK;
  if (!ps->have_demand) return fail(ps, ps->lx.line, "CVRP without DEMAND_SECTION", NULL);
  if (!(ps->capacity > 0) || ps->capacity > 2000000000)
    return fail(ps, ps->lx.line, "CVRP without a positive CAPACITY", NULL);
  int depot = ps->depot < 0 ? 0 : ps->depot;
  for (int i = 0; i < ps->n; i++) {
    if (in->demand[i] > ps->capacity)
      return fail(ps, ps->dem_line[i], "demand exceeds CAPACITY", NULL);
    if (i == depot && in->demand[i] != 0)
      return fail(ps, ps->dem_line[i], "the depot has a nonzero demand", NULL);
  }
  if (depot != 0) move_depot_first(ps, depot);
  p->demand = in->demand;
  p->capacity = (int)ps->capacity;
  p->max_route_length = ps->distance;
  p->max_vehicles = ps->vehicles;
  if (ps->service > 0) {
    if (!(in->service_time = calloc((size_t)ps->n, sizeof *in->service_time)))
      return sg_err_set(ps->err, SG_OUT_OF_MEMORY, "%.80s: out of memory", ps->src);
    for (int i = 1; i < ps->n; i++)
      in->service_time[i] = ps->service;
    p->service_time = in->service_time;
  }
  return check_limits(ps);
}

static sg_status section(parse *ps, const char *key, int line, int *stop) {
  if (strcmp(key, "NODE_COORD_SECTION") == 0) return read_coords(ps, line);
  if (strcmp(key, "EDGE_WEIGHT_SECTION") == 0) return read_weights(ps, line);
  if (strcmp(key, "DEMAND_SECTION") == 0) return read_demands(ps, line);
  if (strcmp(key, "DEPOT_SECTION") == 0) return read_depots(ps, line);
  if (strcmp(key, "DISPLAY_DATA_SECTION") == 0) {
    skip_numbers(ps);
    return SG_OK;
  }
  if (strcmp(key, "EOF") == 0 || strcmp(key, "TOUR_SECTION") == 0) {
    *stop = 1;
    return SG_OK;
  }
  return fail(ps, line, "unknown section ", key);
}

/* header lines and sections until EOF (or TOUR_SECTION, left for the tour reader) */
static sg_status parse_text(parse *ps) {
  char tok[TOK_MAX];
  int line, stop = 0;
  while (!stop && next_token(&ps->lx, tok, &line)) {
    char *colon = strchr(tok, ':');
    if (colon) { /* "KEY:" or "KEY:value": give the rest back to the header reader */
      ps->lx.p -= strlen(colon);
      *colon = '\0';
    }
    if (strstr(tok, "_SECTION") || strcmp(tok, "EOF") == 0)
      SG_TRY(section(ps, tok, line, &stop));
    else
      SG_TRY(header(ps, tok, line));
  }
  return SG_OK;
}

static void parse_init(parse *ps, sg_aco_instance *in, const char *text, size_t len,
                       const char *source, int flags, sg_err *err) {
  memset(ps, 0, sizeof *ps);
  ps->lx.p = text;
  ps->lx.end = text + len;
  ps->lx.line = 1;
  ps->src = source ? source : "(text)";
  ps->err = err;
  ps->in = in;
  ps->metric = -1;
  ps->depot = -1;
  ps->flags = flags;
}

sg_aco_instance *sg_aco_instance_parse(const char *text, size_t len, const char *source, int flags,
                                       sg_err *err) {
  sg_aco_instance *in = calloc(1, sizeof *in);
  if (!in) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "aco: out of memory");
    return NULL;
  }
  parse ps;
  if (text && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
    text += 3, len -= 3;
  parse_init(&ps, in, text ? text : "", text ? len : 0, source, flags, err);
  sg_status st = parse_text(&ps);
  if (st == SG_OK) st = finish(&ps);
  if (st == SG_OK && sg_aco_problem_check(&in->problem, err) != SG_OK) {
    sg_err_prefix(err, "%.80s", ps.src);
    st = SG_INVALID_ARGUMENT;
  }
  free(ps.dem_line);
  free(ps.sorted);
  if (st != SG_OK) {
    sg_aco_instance_free(in);
    return NULL;
  }
  return in;
}

static char *slurp(const char *path, size_t *len, sg_err *err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    sg_err_set(err, errno == ENOENT ? SG_NOT_FOUND : SG_IO, "%.160s: %s", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, used = 0;
  char *buf = malloc(cap);
  while (buf) {
    used += fread(buf + used, 1, cap - used, f);
    if (used < cap) break;
    char *bigger = cap < ((size_t)1 << 31) ? realloc(buf, cap * 2) : NULL;
    if (!bigger) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = bigger;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (!buf || bad) {
    free(buf);
    sg_err_set(err, bad ? SG_IO : SG_OUT_OF_MEMORY, "%.160s: %s", path,
               bad ? "read error" : "out of memory");
    return NULL;
  }
  *len = used;
  return buf;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

sg_aco_instance *sg_aco_instance_read(const char *path, int flags, sg_err *err) {
  size_t len;
  char *text = slurp(path, &len, err);
  if (!text) return NULL;
  sg_aco_instance *in = sg_aco_instance_parse(text, len, base_name(path), flags, err);
  free(text);
  return in;
}

void sg_aco_instance_free(sg_aco_instance *in) {
  if (!in) return;
  free(in->x);
  free(in->y);
  free(in->matrix);
  free(in->service_time);
  free(in->demand);
  free(in->ids);
  free(in);
}

sg_status sg_aco_tour_read(const char *path, const sg_aco_instance *inst, int *tour, sg_err *err) {
  size_t len;
  char *text = slurp(path, &len, err);
  if (!text) return err ? err->code : SG_IO;
  sg_aco_instance scratch = {0};
  parse ps;
  parse_init(&ps, &scratch, text, len, base_name(path), 0, err);
  sg_status st = parse_text(&ps);
  int n = inst->problem.n, got = 0;
  unsigned char *seen = calloc((size_t)n, 1);
  if (!seen && st == SG_OK) st = sg_err_set(err, SG_OUT_OF_MEMORY, "aco: out of memory");
  if (st == SG_OK && ps.n > 0 && ps.n != n)
    st = sg_err_set(err, SG_INVALID_ARGUMENT, "%.80s: tour DIMENSION %d != %d nodes", ps.src, ps.n,
                    n);
  ps.n = n;
  ps.ids = inst->problem.ids;
  free(ps.sorted); /* the tour's own NODE_COORD_SECTION, if it had one */
  ps.sorted = NULL;
  if (st == SG_OK && ps.ids) { /* sorted reference ids: a lookup per node, not a scan */
    if (!(ps.sorted = malloc((size_t)n * sizeof *ps.sorted)))
      st = sg_err_set(err, SG_OUT_OF_MEMORY, "aco: out of memory");
    for (int i = 0; ps.sorted && i < n; i++)
      ps.sorted[i] = (id_line){ps.ids[i], 0, i};
    if (ps.sorted) qsort(ps.sorted, (size_t)n, sizeof *ps.sorted, by_id_then_line);
  }
  while (st == SG_OK) {
    int64_t id = 0;
    if ((st = integer(&ps, "a node id in TOUR_SECTION", &id)) != SG_OK) break;
    if (id == -1) break;
    int at = ps.ids ? index_of(&ps, id) : (id >= 1 && id <= n ? (int)id - 1 : -1);
    if (at < 0)
      st = fail(&ps, ps.lx.line, "unknown node id in TOUR_SECTION", NULL);
    else if (seen[at])
      st = fail(&ps, ps.lx.line, "node visited twice in TOUR_SECTION", NULL);
    else if (got >= n)
      st = fail(&ps, ps.lx.line, "more nodes than DIMENSION", NULL);
    else {
      seen[at] = 1;
      tour[got++] = at;
    }
  }
  if (st == SG_OK && got != n)
    st = sg_err_set(err, SG_INVALID_ARGUMENT, "%.80s: tour has %d of %d nodes", ps.src, got, n);
  free(seen);
  free(scratch.x);
  free(scratch.y);
  free(scratch.ids);
  free(scratch.matrix);
  free(scratch.demand);
  free(ps.dem_line);
  free(ps.sorted);
  free(text);
  return st;
}
