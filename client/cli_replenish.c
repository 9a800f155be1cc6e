/* shopgpu CLI `replenish`: a forecast CSV as `forecast` writes it (yhat per SKU and period; each
 * period's standard error from the widest interval, se = (hi - yhat) / z) and an inventory CSV
 * (columns by name) become Replenish requests of a few MiB each; the plans go to ORDERS.csv in
 * the inventory's order. Every bad row is named by file, line and column. */
#include <grpc/status.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "shopgpu_io.h"
#include "shopgpu_ts.h"

#define REQUEST_BYTES (8u << 20) /* per Replenish call, about */
#define MAX_NAMED 5              /* SKUs named in a message about many */

/* ---- the forecast ---- */

typedef struct fc_key {
  int64_t ds;
  uint32_t sku, row;
} fc_key;

typedef struct forecast_in {
  shopgpu_csv *csv;
  shopgpu_ids *skus;
  fc_key *keys;      /* per row, sorted by (sku, ds) once read */
  double *yhat, *se; /* per row */
  uint32_t *lines;   /* per row */
  size_t n, cap;
  int col_id, col_ds, col_yhat, col_hi; /* col_ds -1: rows in file order */
  int format;                           /* of the first ds */
  double level, z;                      /* the interval the standard errors come from */
  size_t h;                             /* periods per SKU */
  double *mean_by, *se_by;              /* per SKU, h each, in period order */
} forecast_in;

/* Phi^{-1}(p) by bisection on erfc: plenty fast for one value per file. */
static double qnorm(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; i++) {
    double mid = (lo + hi) / 2;
    if (0.5 * erfc(-mid / sqrt(2.0)) < p)
      lo = mid;
    else
      hi = mid;
  }
  return (lo + hi) / 2;
}

/* The columns; the widest hi-LEVEL one gives the standard errors. */
static int forecast_columns(sg_cli *cli, forecast_in *f) {
  const shopgpu_csv *c = f->csv;
  f->col_id = shopgpu_csv_find(c, "unique_id");
  f->col_yhat = shopgpu_csv_find(c, "yhat");
  f->col_ds = shopgpu_csv_find(c, "ds");
  f->col_hi = -1;
  for (int i = 0; i < shopgpu_csv_columns(c); i++) {
    const char *name = shopgpu_csv_column_name(c, i);
    char *end;
    double v = strncmp(name, "hi-", 3) == 0 ? strtod(name + 3, &end) : 0;
    if (v > 0 && v < 100 && !*end && (f->col_hi < 0 || v > f->level)) f->col_hi = i, f->level = v;
  }
  if (f->col_id < 0 || f->col_yhat < 0)
    return sg_cli_input_error(cli, "%s:1: no column \"%s\" (expected unique_id,ds,yhat,hi-95...)",
                              shopgpu_csv_path(c), f->col_id < 0 ? "unique_id" : "yhat");
  if (f->col_hi < 0)
    return sg_cli_input_error(cli,
                              "%s:1: no hi-LEVEL column (as hi-95): the standard errors come "
                              "from the widest interval",
                              shopgpu_csv_path(c));
  f->z = qnorm(0.5 + f->level / 200);
  return SG_CLI_OK;
}

static int grow_forecast(forecast_in *f) {
  size_t cap = f->cap ? 2 * f->cap : 4096;
  fc_key *k = cap < UINT32_MAX ? realloc(f->keys, cap * sizeof *k) : NULL;
  if (k) f->keys = k;
  double *y = k ? realloc(f->yhat, cap * sizeof *y) : NULL;
  if (y) f->yhat = y;
  double *s = y ? realloc(f->se, cap * sizeof *s) : NULL;
  if (s) f->se = s;
  uint32_t *l = s ? realloc(f->lines, cap * sizeof *l) : NULL;
  if (l) f->lines = l;
  if (!l) return -1;
  f->cap = cap;
  return 0;
}

/* The current row's ds (or its row number without a ds column). */
static int row_ds(forecast_in *f, int64_t *ds, shopgpu_status *st) {
  if (f->col_ds < 0) {
    *ds = (int64_t)f->n;
    return 0;
  }
  const char *text = shopgpu_csv_field(f->csv, f->col_ds);
  int format = shopgpu_ds_parse(text, ds);
  if (f->format < 0) f->format = format;
  if (format < 0 || format != f->format)
    return shopgpu_csv_error(f->csv, f->col_ds, st, "\"%.40s\" is not a ds like the first row's",
                             text);
  return 0;
}

static int forecast_row(forecast_in *f, shopgpu_status *st) {
  if (f->n == f->cap && grow_forecast(f) != 0)
    return shopgpu_csv_error(f->csv, -1, st, "out of memory");
  fc_key *k = &f->keys[f->n];
  double hi;
  if (row_ds(f, &k->ds, st) != 0 ||
      shopgpu_csv_number(f->csv, f->col_yhat, 0, &f->yhat[f->n], st) != 0 ||
      shopgpu_csv_number(f->csv, f->col_hi, 0, &hi, st) != 0)
    return -1;
  if (hi < f->yhat[f->n])
    return shopgpu_csv_error(f->csv, f->col_hi, st, "%g is below yhat %g", hi, f->yhat[f->n]);
  f->se[f->n] = (hi - f->yhat[f->n]) / f->z;
  const char *id = shopgpu_csv_field(f->csv, f->col_id);
  long sku = *id ? shopgpu_ids_add(f->skus, id) : -1;
  if (sku < 0) return shopgpu_csv_error(f->csv, f->col_id, st, *id ? "out of memory" : "empty id");
  k->sku = (uint32_t)sku, k->row = (uint32_t)f->n;
  f->lines[f->n++] = (uint32_t)shopgpu_csv_line(f->csv);
  return 0;
}

static int by_sku_ds(const void *a, const void *b) {
  const fc_key *x = a, *y = b;
  if (x->sku != y->sku) return x->sku < y->sku ? -1 : 1;
  if (x->ds != y->ds) return x->ds < y->ds ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

/* Sorts the rows into per-SKU arrays; every SKU needs the same number of periods, once each. */
static int lay_out_forecast(sg_cli *cli, forecast_in *f, const char *path) {
  qsort(f->keys, f->n, sizeof *f->keys, by_sku_ds);
  size_t n_skus = shopgpu_ids_count(f->skus), i = 0;
  for (size_t s = 0; s < n_skus; s++) {
    size_t b = i;
    for (; i < f->n && f->keys[i].sku == s; i++)
      if (i > b && f->keys[i].ds == f->keys[i - 1].ds)
        return sg_cli_input_error(cli, "%s:%u: sku \"%.64s\": ds repeats line %u", path,
                                  f->lines[f->keys[i].row], shopgpu_ids_get(f->skus, s),
                                  f->lines[f->keys[i - 1].row]);
    if (s == 0) f->h = i - b;
    if (i - b != f->h)
      return sg_cli_input_error(cli,
                                "%s: sku \"%.64s\" has %zu periods, sku \"%.64s\" %zu (all "
                                "need the same)",
                                path, shopgpu_ids_get(f->skus, s), i - b,
                                shopgpu_ids_get(f->skus, 0), f->h);
  }
  f->mean_by = malloc(f->n * sizeof *f->mean_by);
  f->se_by = malloc(f->n * sizeof *f->se_by);
  if (!f->mean_by || !f->se_by) return sg_cli_input_error(cli, "%s: out of memory", path);
  for (i = 0; i < f->n; i++)
    f->mean_by[i] = f->yhat[f->keys[i].row], f->se_by[i] = f->se[f->keys[i].row];
  return SG_CLI_OK;
}

static int read_forecast(sg_cli *cli, const char *path, forecast_in *f) {
  shopgpu_status st;
  f->format = -1;
  if (!(f->skus = shopgpu_ids_new())) return sg_cli_input_error(cli, "out of memory");
  if (!(f->csv = shopgpu_csv_open(path, 0, &st))) return sg_cli_rpc_error(cli, &st);
  int rc = forecast_columns(cli, f), got = 0;
  while (rc == SG_CLI_OK && (got = shopgpu_csv_next(f->csv, &st)) > 0)
    if (forecast_row(f, &st) != 0) {
      got = -1;
      break;
    }
  if (rc == SG_CLI_OK && got < 0) rc = sg_cli_rpc_error(cli, &st);
  if (rc == SG_CLI_OK && f->n == 0) rc = sg_cli_input_error(cli, "%s: no forecast rows", path);
  if (rc == SG_CLI_OK) rc = lay_out_forecast(cli, f, path);
  shopgpu_csv_close(f->csv);
  f->csv = NULL;
  return rc;
}

static void free_forecast(forecast_in *f) {
  shopgpu_ids_free(f->skus);
  free(f->keys), free(f->yhat), free(f->se), free(f->lines), free(f->mean_by), free(f->se_by);
}

/* ---- the inventory ---- */

enum { C_ID, C_ON_HAND, C_ON_ORDER, C_LEAD, C_SERVICE, C_MOQ, C_PACK, C_BACK, C_REVIEW, N_COLS };
static const char *const inv_names[N_COLS] = {"unique_id", "on_hand",       "on_order",
                                              "lead_time", "service_level", "moq",
                                              "pack_size", "backorders",    "review_period"};
#define N_REQUIRED 7 /* the first seven columns; backorders and review_period may be absent */

typedef struct inv_row {
  size_t sku; /* in the forecast */
  double on_hand, on_order, backorders, service, moq, pack;
  uint32_t lead, review;
} inv_row;

typedef struct inventory {
  shopgpu_csv *csv;
  const char *path;
  int col[N_COLS];
  inv_row *rows;
  size_t n, cap;
  shopgpu_ids *seen; /* its SKUs, to find repeats */
  uint32_t *seen_line;
  size_t seen_cap;
  size_t n_missing; /* SKUs without a forecast */
  char missing[MAX_NAMED][96];
} inventory;

static int inv_columns(sg_cli *cli, inventory *v) {
  for (int k = 0; k < N_COLS; k++) {
    v->col[k] = shopgpu_csv_find(v->csv, inv_names[k]);
    if (v->col[k] < 0 && k < N_REQUIRED)
      return sg_cli_input_error(cli,
                                "%s:1: no column \"%s\" (expected unique_id,on_hand,"
                                "on_order,lead_time,service_level,moq,pack_size[,backorders]"
                                "[,review_period])",
                                v->path, inv_names[k]);
  }
  return SG_CLI_OK;
}

/* Column k of the current row into *out: a number in [min, max] (an empty optional cell gives
 * dflt), whole when whole. */
static int inv_value(inventory *v, int k, double dflt, double min, double max, int whole,
                     double *out, shopgpu_status *st) {
  int col = v->col[k];
  if (col < 0 || (k >= C_MOQ && !*shopgpu_csv_field(v->csv, col))) {
    *out = dflt;
    return 0;
  }
  if (shopgpu_csv_number(v->csv, col, 0, out, st) != 0) return -1;
  char text[32]; /* as written, not rounded by %g */
  sg__double_text(text, sizeof text, *out);
  if (k != C_SERVICE && *out > max) /* say the limit, not the opposite of the problem */
    return shopgpu_csv_error(v->csv, col, st, "%s is over the limit %g", text, max);
  if (*out < min || (*out == min && k == C_PACK) || (k == C_SERVICE && (*out <= 0 || *out >= 1)) ||
      (whole && *out != floor(*out)))
    return shopgpu_csv_error(v->csv, col, st, "%s is not %s", text,
                             k == C_SERVICE ? "in (0, 1) (0.95 for 95%)"
                             : k == C_PACK  ? "> 0"
                             : whole        ? "a whole number of periods >= 0"
                                            : "a quantity >= 0");
  return 0;
}

static int inv_numbers(inventory *v, inv_row *r, shopgpu_status *st) {
  double lead = 0, review = 0;
  if (inv_value(v, C_ON_HAND, 0, 0, 1e300, 0, &r->on_hand, st) ||
      inv_value(v, C_ON_ORDER, 0, 0, 1e300, 0, &r->on_order, st) ||
      inv_value(v, C_LEAD, 0, 0, 1e6, 1, &lead, st) ||
      inv_value(v, C_SERVICE, 0.95, 0, 1, 0, &r->service, st) ||
      inv_value(v, C_MOQ, 0, 0, 1e300, 0, &r->moq, st) ||
      inv_value(v, C_PACK, 1, 0, 1e300, 0, &r->pack, st) ||
      inv_value(v, C_BACK, 0, 0, 1e300, 0, &r->backorders, st) ||
      inv_value(v, C_REVIEW, 0, 0, 1e6, 1, &review, st))
    return -1;
  r->lead = (uint32_t)lead, r->review = (uint32_t)review;
  return 0;
}

/* A SKU without a forecast: counted, the first few named. */
static void note_missing(inventory *v, const char *id) {
  if (v->n_missing < MAX_NAMED)
    snprintf(v->missing[v->n_missing], sizeof v->missing[0], "\"%.64s\" (line %llu)", id,
             (unsigned long long)shopgpu_csv_line(v->csv));
  v->n_missing++;
}

/* Records id as seen on this line; an error when an earlier line had it. */
static int seen_once(inventory *v, const char *id, shopgpu_status *st) {
  size_t before = shopgpu_ids_count(v->seen);
  long k = shopgpu_ids_add(v->seen, id);
  if (k < 0) return shopgpu_csv_error(v->csv, -1, st, "out of memory");
  if ((size_t)k < before)
    return shopgpu_csv_error(v->csv, v->col[C_ID], st, "sku \"%.64s\" repeats line %u", id,
                             v->seen_line[k]);
  if (before == v->seen_cap) {
    size_t cap = v->seen_cap ? 2 * v->seen_cap : 1024;
    uint32_t *lines = realloc(v->seen_line, cap * sizeof *lines);
    if (!lines) return shopgpu_csv_error(v->csv, -1, st, "out of memory");
    v->seen_line = lines, v->seen_cap = cap;
  }
  v->seen_line[before] = (uint32_t)shopgpu_csv_line(v->csv);
  return 0;
}

static int keep_row(inventory *v, const inv_row *r, shopgpu_status *st) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? 2 * v->cap : 1024;
    inv_row *rows = realloc(v->rows, cap * sizeof *rows);
    if (!rows) return shopgpu_csv_error(v->csv, -1, st, "out of memory");
    v->rows = rows, v->cap = cap;
  }
  v->rows[v->n++] = *r;
  return 0;
}

static int inv_row_read(inventory *v, const forecast_in *f, shopgpu_status *st) {
  const char *id = shopgpu_csv_field(v->csv, v->col[C_ID]);
  if (!*id) return shopgpu_csv_error(v->csv, v->col[C_ID], st, "empty id");
  inv_row r;
  if (seen_once(v, id, st) != 0 || inv_numbers(v, &r, st) != 0) return -1;
  long sku = shopgpu_ids_find(f->skus, id);
  if (sku < 0) {
    note_missing(v, id);
    return 0;
  }
  if ((size_t)r.lead + r.review > f->h)
    return shopgpu_csv_error(v->csv, -1, st,
                             "sku \"%.64s\": lead_time %u + review_period %u > %zu forecast "
                             "periods",
                             id, r.lead, r.review, f->h);
  r.sku = (size_t)sku;
  return keep_row(v, &r, st);
}

/* The error about SKUs without a forecast. */
static int missing_error(sg_cli *cli, const inventory *v, const char *fc_path) {
  char names[MAX_NAMED * 100] = "";
  size_t used = 0;
  for (size_t i = 0; i < v->n_missing && i < MAX_NAMED; i++)
    used +=
        (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "", v->missing[i]);
  return sg_cli_input_error(cli,
                            "%s: %zu sku%s without a forecast in %s: %s%s (series without "
                            "a forecast are listed in forecast --models)",
                            v->path, v->n_missing, v->n_missing == 1 ? "" : "s", fc_path, names,
                            v->n_missing > MAX_NAMED ? ", ..." : "");
}

static int read_inventory(sg_cli *cli, const char *path, const forecast_in *f, inventory *v,
                          const char *fc_path) {
  shopgpu_status st;
  v->path = path;
  if (!(v->seen = shopgpu_ids_new())) return sg_cli_input_error(cli, "out of memory");
  if (!(v->csv = shopgpu_csv_open(path, 0, &st))) return sg_cli_rpc_error(cli, &st);
  int rc = inv_columns(cli, v), got = 0;
  while (rc == SG_CLI_OK && (got = shopgpu_csv_next(v->csv, &st)) > 0)
    if (inv_row_read(v, f, &st) != 0) {
      got = -1;
      break;
    }
  if (rc == SG_CLI_OK && got < 0) rc = sg_cli_rpc_error(cli, &st);
  if (rc == SG_CLI_OK && v->n_missing) rc = missing_error(cli, v, fc_path);
  if (rc == SG_CLI_OK && v->n == 0) rc = sg_cli_input_error(cli, "%s: no inventory rows", path);
  shopgpu_csv_close(v->csv);
  v->csv = NULL;
  return rc;
}

static void free_inventory(inventory *v) {
  shopgpu_ids_free(v->seen);
  free(v->seen_line), free(v->rows);
}

/* Forecast SKUs the inventory does not hold: a warning (they get no plan). */
static size_t warn_unplanned(sg_cli *cli, const forecast_in *f, const inventory *v) {
  size_t n = 0;
  char names[MAX_NAMED * 80] = "";
  size_t used = 0;
  for (size_t s = 0; s < shopgpu_ids_count(f->skus); s++) {
    const char *id = shopgpu_ids_get(f->skus, s);
    if (shopgpu_ids_find(v->seen, id) >= 0) continue;
    if (n++ < MAX_NAMED)
      used +=
          (size_t)snprintf(names + used, sizeof names - used, "%s\"%.64s\"", n > 1 ? ", " : "", id);
  }
  if (n)
    fprintf(cli->err, "shopgpu: warning: %zu sku%s of the forecast not in %s (no plan): %s%s\n", n,
            n == 1 ? "" : "s", v->path, names, n > MAX_NAMED ? ", ..." : "");
  return n;
}

/* ---- planning ---- */

typedef struct plan_totals {
  size_t orders;
  double units;
} plan_totals;

static void write_plan(FILE *f, const char *id, const inv_row *r,
                       const Shopgpu__V1__ReplenishPlan *p) {
  double v[] = {r->on_hand,      r->on_order,      p->inventory_position, p->demand_lead_time,
                p->safety_stock, p->reorder_point, p->order_up_to,        p->order_quantity};
  char text[40];
  sg_cli_csv_field(f, id);
  for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
    sg__double_text(text, sizeof text, v[k]);
    fprintf(f, ",%s", text);
  }
  fputc('\n', f);
}

/* Plans rows [b, e) in one call and writes them. */
static int plan_chunk(sg_cli *cli, const forecast_in *f, const inventory *v, size_t b, size_t e,
                      double rho, FILE *out, plan_totals *t) {
  size_t n = e - b;
  Shopgpu__V1__ReplenishItem *items = calloc(n, sizeof *items), **ptrs = calloc(n, sizeof *ptrs);
  if (!items || !ptrs) {
    free(items), free(ptrs);
    return sg_cli_input_error(cli, "out of memory");
  }
  for (size_t i = 0; i < n; i++) {
    const inv_row *r = &v->rows[b + i];
    Shopgpu__V1__ReplenishItem *it = &items[i];
    shopgpu__v1__replenish_item__init(it);
    it->id = (char *)(uintptr_t)shopgpu_ids_get(f->skus, r->sku);
    it->mean = f->mean_by + r->sku * f->h, it->n_mean = f->h;
    it->se = f->se_by + r->sku * f->h, it->n_se = f->h;
    it->on_hand = r->on_hand, it->on_order = r->on_order, it->backorders = r->backorders;
    it->lead_time = r->lead, it->review_period = r->review, it->service_level = r->service;
    it->moq = r->moq, it->pack_size = r->pack;
    ptrs[i] = it;
  }
  Shopgpu__V1__ReplenishRequest req = SHOPGPU__V1__REPLENISH_REQUEST__INIT;
  req.items = ptrs, req.n_items = n, req.error_correlation = rho;
  Shopgpu__V1__ReplenishResponse *resp = NULL;
  shopgpu_status st;
  int rc = shopgpu_replenish(cli->client, &req, &resp, cli->timeout_ms, &st) == 0
               ? SG_CLI_OK
               : sg_cli_rpc_error(cli, &st);
  for (size_t i = 0; rc == SG_CLI_OK && i < n; i++) {
    write_plan(out, items[i].id, &v->rows[b + i], resp->plans[i]);
    t->orders += resp->plans[i]->order_quantity > 0;
    t->units += resp->plans[i]->order_quantity;
  }
  if (resp) protobuf_c_message_free_unpacked(&resp->base, NULL);
  free(items), free(ptrs);
  return rc;
}

static int plan_all(sg_cli *cli, const forecast_in *f, const inventory *v, double rho,
                    const char *path, plan_totals *t) {
  sg_cli_out out;
  int rc = sg_cli_out_open(cli, &out, "--out", path);
  if (rc != SG_CLI_OK) return rc;
  fputs("unique_id,on_hand,on_order,inventory_position,demand_lead_time,safety_stock,"
        "reorder_point,order_up_to,order_qty\n",
        out.f);
  size_t chunk = REQUEST_BYTES / (f->h * 18 + 96) + 1;
  for (size_t b = 0; rc == SG_CLI_OK && b < v->n; b += chunk)
    rc = plan_chunk(cli, f, v, b, b + chunk < v->n ? b + chunk : v->n, rho, out.f, t);
  int committed = sg_cli_out_commit(cli, &out, rc == SG_CLI_OK);
  return rc == SG_CLI_OK ? committed : rc;
}

static void summary(sg_cli *cli, const forecast_in *f, const inventory *v, const plan_totals *t,
                    double rho, const char *path, size_t unplanned) {
  if (!cli->json) {
    if (strcmp(path, "-") != 0)
      fprintf(cli->out, "planned %zu skus: %zu orders, %g units into %s (se from hi-%g)\n", v->n,
              t->orders, t->units, path, f->level);
    return;
  }
  sg__json j;
  sg__json_init(&j, cli->out);
  sg__json_begin_object(&j);
  sg__json_key(&j, "skus"), sg__json_uint(&j, v->n);
  sg__json_key(&j, "orders"), sg__json_uint(&j, t->orders);
  sg__json_key(&j, "order_units"), sg__json_double(&j, t->units);
  sg__json_key(&j, "periods"), sg__json_uint(&j, f->h);
  sg__json_key(&j, "level"), sg__json_double(&j, f->level);
  sg__json_key(&j, "error_correlation"), sg__json_double(&j, rho);
  sg__json_key(&j, "not_in_inventory"), sg__json_uint(&j, unplanned);
  sg__json_key(&j, "out"), sg__json_string(&j, path);
  sg__json_end_object(&j);
  sg__json_finish(&j);
}

int sg_cli_cmd_replenish(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  double rho = 0;
  const char *out = sg_cli_opt_str(cli, "out");
  if (sg_cli_opt_double(cli, "error-correlation", 0, 1, &rho) != SG_CLI_OK) return SG_CLI_USAGE;
  if (cli->json && strcmp(out, "-") == 0)
    return sg_cli_usage("replenish: --out - and --json would share stdout");
  forecast_in f = {0};
  inventory v = {0};
  plan_totals t = {0, 0};
  int rc = read_forecast(cli, argv[0], &f);
  if (rc == SG_CLI_OK) rc = read_inventory(cli, sg_cli_opt_str(cli, "inventory"), &f, &v, argv[0]);
  size_t unplanned = rc == SG_CLI_OK ? warn_unplanned(cli, &f, &v) : 0;
  if (rc == SG_CLI_OK) rc = plan_all(cli, &f, &v, rho, out, &t);
  if (rc == SG_CLI_OK) summary(cli, &f, &v, &t, rho, out, unplanned);
  free_forecast(&f);
  free_inventory(&v);
  return rc;
}
