/* shopgpu CLI commands for click models: `model train` (an interactions CSV read whole into one
 * TrainModel request, then the job waited for like every long command), `model upload` (.npy
 * matrices streamed a few MiB at a time), `model list` and `model delete`. Input errors print
 * "shopgpu: INVALID_ARGUMENT: FILE:LINE: ..." and exit 1. */
#include <grpc/status.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "json.h"
#include "shopgpu_io.h"

#define READ_ROWS 65536 /* CSV rows read per call */

/* ---- printing ---- */

static void format_time(char *buf, size_t size, int64_t unix_ms) {
  time_t t = (time_t)(unix_ms / 1000);
  struct tm tm;
  if (unix_ms <= 0 || !gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
    snprintf(buf, size, "-");
}

static void format_auc(char *buf, size_t size, const Shopgpu__V1__ModelInfo *m) {
  if (m->valid_auc > 0)
    snprintf(buf, size, "%.4f", m->valid_auc);
  else
    snprintf(buf, size, "-");
}

/* The model as "key value" lines. */
static void print_model(FILE *out, const Shopgpu__V1__ModelInfo *m) {
  char auc[32], created[32];
  format_auc(auc, sizeof auc, m);
  format_time(created, sizeof created, m->created_at_unix_ms);
  fprintf(out,
          "name         %s\nversion      %u\nsource       %s\nusers        %u\nitems        %u\n"
          "dim          %u\ninteraction  %s\nvalid_auc    %s\nseen         %" PRIu64
          "\ncreated      %s\n",
          m->name, m->version, m->source, m->n_users, m->n_items, m->dim,
          m->interaction ? "yes" : "no", auc, m->seen, created);
}

/* A model without a validation AUC (uploaded, or trained without a validation split) holds 0
 * in valid_auc and valid_logloss: made NaN, which the JSON writer prints as null, as the text
 * form prints "-" (format_auc). */
static void null_missing_validation(Shopgpu__V1__ModelInfo *m) {
  if (m->valid_auc > 0) return;
  m->valid_auc = NAN;
  if (m->valid_logloss == 0) m->valid_logloss = NAN;
}

static void print_message_json(sg_cli *cli, const ProtobufCMessage *msg) {
  sg__json j;
  sg__json_init(&j, cli->out);
  sg__json_message(&j, msg);
  sg__json_finish(&j);
}

/* ---- model train ---- */

typedef struct interactions {
  uint64_t *users, *items;
  uint32_t *labels;
  size_t n, cap;
  int has_label;
} interactions;

static int grow(interactions *x) {
  size_t cap = x->cap ? 2 * x->cap : READ_ROWS;
  uint64_t *u = realloc(x->users, cap * sizeof *u);
  if (u) x->users = u;
  uint64_t *i = u ? realloc(x->items, cap * sizeof *i) : NULL;
  if (i) x->items = i;
  uint32_t *l = i ? realloc(x->labels, cap * sizeof *l) : NULL;
  if (l) x->labels = l;
  if (!l) return 0;
  x->cap = cap;
  return 1;
}

/* Reads the whole CSV; SG_CLI_OK or the error printed. */
static int read_interactions(sg_cli *cli, const char *path, interactions *x) {
  shopgpu_status st;
  shopgpu_ids_csv *r = shopgpu_ids_csv_open(path, 1, &st);
  if (!r) return sg_cli_rpc_error(cli, &st);
  x->has_label = shopgpu_ids_csv_has_label(r);
  long got = 0;
  do {
    if (x->cap - x->n < READ_ROWS && !grow(x)) {
      got = -1;
      snprintf(st.message, sizeof st.message, "%s: out of memory after %zu rows", path, x->n);
      st.code = GRPC_STATUS_RESOURCE_EXHAUSTED;
      break;
    }
    got =
        shopgpu_ids_csv_read(r, x->users + x->n, x->items + x->n, x->labels + x->n, READ_ROWS, &st);
    if (got > 0) x->n += (size_t)got;
  } while (got > 0);
  shopgpu_ids_csv_close(r);
  if (got < 0) return sg_cli_rpc_error(cli, &st);
  if (x->n == 0) {
    snprintf(st.message, sizeof st.message, "%s: no interactions after the header", path);
    st.code = GRPC_STATUS_INVALID_ARGUMENT;
    return sg_cli_rpc_error(cli, &st);
  }
  return SG_CLI_OK;
}

static void free_interactions(interactions *x) {
  free(x->users);
  free(x->items);
  free(x->labels);
}

/* The TrainConfig options. */
static int train_config(sg_cli *cli, Shopgpu__V1__TrainConfig *cfg, int64_t *priority) {
  int64_t dim = 0, epochs = 0, negatives = 0, candidates = 0, seed = 0, batch = 0, patience = 0;
  double rate = 0, l2 = -1, valid = -1;
  int sgd = 0, cosine = 0;
  if (sg_cli_opt_int(cli, "dim", 1, 1024, &dim) != SG_CLI_OK ||
      sg_cli_opt_double(cli, "learning-rate", 1e-9, 100, &rate) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "epochs", 1, 10000, &epochs) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "negatives", 1, 1000, &negatives) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "negative-candidates", 1, 64, &candidates) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "seed", 0, INT64_MAX, &seed) != SG_CLI_OK ||
      sg_cli_opt_double(cli, "l2", 0, 1e6, &l2) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "batch-size", 1, 1 << 20, &batch) != SG_CLI_OK ||
      sg_cli_opt_choice(cli, "optimizer", "adam", "sgd", &sgd) != SG_CLI_OK ||
      sg_cli_opt_choice(cli, "lr-schedule", "constant", "cosine", &cosine) != SG_CLI_OK ||
      sg_cli_opt_double(cli, "valid-fraction", 0, 0.9, &valid) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "patience", 0, 10000, &patience) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "priority", -100, 100, priority) != SG_CLI_OK)
    return SG_CLI_USAGE;
  cfg->dim = (uint32_t)dim;
  cfg->epochs = (uint32_t)epochs;
  cfg->negatives = (uint32_t)negatives;
  cfg->negative_candidates = (uint32_t)candidates;
  cfg->seed = (uint64_t)seed;
  cfg->learning_rate = (float)rate;
  cfg->l2 = l2 < 0 ? 0.0f : l2 == 0 ? 1e-30f : (float)l2; /* the proto's 0 is the default */
  cfg->batch_size = (uint32_t)batch;
  cfg->optimizer = sgd ? SHOPGPU__V1__TRAIN_CONFIG__OPTIMIZER__SGD_MOMENTUM
                       : SHOPGPU__V1__TRAIN_CONFIG__OPTIMIZER__ADAM;
  cfg->lr_schedule = cosine ? SHOPGPU__V1__TRAIN_CONFIG__LR_SCHEDULE__COSINE
                            : SHOPGPU__V1__TRAIN_CONFIG__LR_SCHEDULE__CONSTANT;
  cfg->no_validation = valid == 0;
  cfg->valid_fraction = valid > 0 ? (float)valid : 0.0f;
  cfg->patience = (uint32_t)patience;
  return SG_CLI_OK;
}

static void print_trained(sg_cli *cli, const Shopgpu__V1__Job *job) {
  if (cli->json) {
    if (job->result_case == SHOPGPU__V1__JOB__RESULT_TRAIN_MODEL && job->train_model &&
        job->train_model->model)
      null_missing_validation(job->train_model->model);
    sg__json j;
    sg__json_init(&j, cli->out);
    sg_cli_job_json(&j, job, 1);
    sg__json_finish(&j);
    return;
  }
  const Shopgpu__V1__TrainModelResult *t =
      job->result_case == SHOPGPU__V1__JOB__RESULT_TRAIN_MODEL ? job->train_model : NULL;
  if (!t || !t->model) {
    fprintf(cli->out, "job          %s\n", job->id);
    return;
  }
  print_model(cli->out, t->model);
  fprintf(cli->out, "epochs       %u%s\njob          %s\n", t->epochs_run,
          t->stopped_early ? " (stopped early)" : "", job->id);
}

/* --user-features / --item-features: a 2-D .npy, row r for the id r, read whole into f. */
static int read_features(sg_cli *cli, const char *option, Shopgpu__V1__FeatureMatrix *f,
                         Shopgpu__V1__FeatureMatrix **set) {
  const char *path = sg_cli_opt_str(cli, option);
  if (!path) return SG_CLI_OK;
  shopgpu_status st;
  shopgpu_npy *npy = shopgpu_npy_open(path, &st);
  if (!npy) return sg_cli_rpc_error(cli, &st);
  uint64_t rows = shopgpu_npy_rows(npy), cols = shopgpu_npy_cols(npy);
  int rc = SG_CLI_OK;
  if (shopgpu_npy_ndim(npy) != 2 || cols == 0 || cols > 1024 || rows > UINT32_MAX) {
    st.code = GRPC_STATUS_INVALID_ARGUMENT;
    snprintf(st.message, sizeof st.message,
             "%s: shape (%" PRIu64 "%s): expected (ids, dim) with dim in 1..1024", path, rows,
             shopgpu_npy_ndim(npy) == 2 ? ", ..." : ",");
    rc = sg_cli_rpc_error(cli, &st);
  } else if (!(f->values = malloc((rows ? rows : 1) * cols * sizeof *f->values))) {
    st.code = GRPC_STATUS_RESOURCE_EXHAUSTED;
    snprintf(st.message, sizeof st.message, "%s: out of memory", path);
    rc = sg_cli_rpc_error(cli, &st);
  } else if (shopgpu_npy_read(npy, f->values, rows, &st) != 0) {
    rc = sg_cli_rpc_error(cli, &st);
  } else {
    f->rows = (uint32_t)rows;
    f->cols = (uint32_t)cols;
    f->n_values = rows * cols;
    *set = f;
  }
  shopgpu_npy_close(npy);
  return rc;
}

int sg_cli_cmd_model_train(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  (void)argv;
  Shopgpu__V1__TrainConfig cfg = SHOPGPU__V1__TRAIN_CONFIG__INIT;
  int64_t priority = 0;
  if (train_config(cli, &cfg, &priority) != SG_CLI_OK) return SG_CLI_USAGE;
  interactions x = {0};
  int rc = read_interactions(cli, sg_cli_opt_str(cli, "interactions"), &x);
  if (rc != SG_CLI_OK) {
    free_interactions(&x);
    return rc;
  }
  Shopgpu__V1__TrainModelRequest req = SHOPGPU__V1__TRAIN_MODEL_REQUEST__INIT;
  req.name = (char *)(uintptr_t)sg_cli_opt_str(cli, "name");
  req.user_ids = x.users;
  req.item_ids = x.items;
  req.n_user_ids = req.n_item_ids = x.n;
  req.labels = x.labels;
  req.n_labels = x.has_label ? x.n : 0;
  req.config = &cfg;
  req.priority = (int32_t)priority;
  Shopgpu__V1__FeatureMatrix uf = SHOPGPU__V1__FEATURE_MATRIX__INIT,
                             vf = SHOPGPU__V1__FEATURE_MATRIX__INIT;
  rc = read_features(cli, "user-features", &uf, &req.user_features);
  if (rc == SG_CLI_OK) rc = read_features(cli, "item-features", &vf, &req.item_features);
  if (rc != SG_CLI_OK) {
    free(uf.values), free(vf.values);
    free_interactions(&x);
    return rc;
  }
  char id[SHOPGPU_JOB_ID_SIZE];
  shopgpu_status st;
  rc = shopgpu_click_train(cli->client, &req, id, cli->timeout_ms, &st);
  free(uf.values), free(vf.values);
  free_interactions(&x);
  if (rc != 0) return sg_cli_rpc_error(cli, &st);
  Shopgpu__V1__Job *final = NULL;
  rc = sg_cli_job_started(cli, id, &final);
  if (rc == SG_CLI_OK && final) print_trained(cli, final);
  if (final) protobuf_c_message_free_unpacked(&final->base, NULL);
  return rc;
}

/* ---- model upload ---- */

typedef struct npy_set {
  shopgpu_npy *u, *v, *w;
  int failed; /* a read failed: st says why */
  shopgpu_status st;
} npy_set;

/* Opens the three files and checks their shapes agree; SG_CLI_OK or the error printed. */
static int open_matrices(sg_cli *cli, npy_set *m) {
  const char *up = sg_cli_opt_str(cli, "user-vectors"), *vp = sg_cli_opt_str(cli, "item-vectors"),
             *wp = sg_cli_opt_str(cli, "weights");
  shopgpu_status *st = &m->st;
  if (!(m->u = shopgpu_npy_open(up, st)) || !(m->v = shopgpu_npy_open(vp, st)) ||
      !(m->w = shopgpu_npy_open(wp, st)))
    return sg_cli_rpc_error(cli, st);
  uint64_t d = shopgpu_npy_cols(m->u);
  st->code = GRPC_STATUS_INVALID_ARGUMENT;
  if (shopgpu_npy_ndim(m->u) != 2 || shopgpu_npy_ndim(m->v) != 2)
    snprintf(st->message, sizeof st->message, "%s: a 1-D array: expected n x dim",
             shopgpu_npy_ndim(m->u) != 2 ? up : vp);
  else if (shopgpu_npy_cols(m->v) != d)
    snprintf(st->message, sizeof st->message, "%s: %" PRIu64 " columns, %s has %" PRIu64, vp,
             shopgpu_npy_cols(m->v), up, d);
  else if (shopgpu_npy_ndim(m->w) != 1 || shopgpu_npy_rows(m->w) != d)
    snprintf(st->message, sizeof st->message,
             "%s: shape (%" PRIu64 "%s): expected (%" PRIu64 ",), one weight per column of %s", wp,
             shopgpu_npy_rows(m->w), shopgpu_npy_ndim(m->w) == 1 ? "," : ", ...", d, up);
  else if (d == 0 || d > 1024 || shopgpu_npy_rows(m->u) > UINT32_MAX ||
           shopgpu_npy_rows(m->v) > UINT32_MAX)
    snprintf(st->message, sizeof st->message,
             "%s: dim %" PRIu64 " not in 1..1024, or over 2^32 rows", up, d);
  else
    return SG_CLI_OK;
  return sg_cli_rpc_error(cli, st);
}

static int read_rows(void *arg, int matrix, uint64_t row_offset, size_t n_rows, float *buf) {
  npy_set *m = arg;
  (void)row_offset; /* asked for in order, as the files are read */
  shopgpu_npy *f = matrix == SHOPGPU__V1__UPLOAD_MODEL_CHUNK__MATRIX__USERS ? m->u : m->v;
  if (shopgpu_npy_read(f, buf, n_rows, &m->st) == 0) return 0;
  m->failed = 1;
  return -1;
}

static void close_matrices(npy_set *m) {
  shopgpu_npy_close(m->u);
  shopgpu_npy_close(m->v);
  shopgpu_npy_close(m->w);
}

static int upload(sg_cli *cli, npy_set *m, double bias) {
  uint32_t dim = (uint32_t)shopgpu_npy_cols(m->u);
  float weights[1024];
  if (shopgpu_npy_read(m->w, weights, dim, &m->st) != 0) return sg_cli_rpc_error(cli, &m->st);
  shopgpu_model_upload up = {
      .name = sg_cli_opt_str(cli, "name"),
      .n_users = (uint32_t)shopgpu_npy_rows(m->u),
      .n_items = (uint32_t)shopgpu_npy_rows(m->v),
      .dim = dim,
      .interaction = !sg_cli_opt_flag(cli, "no-interaction"),
      .bias = (float)bias,
      .weights = weights,
      .read_rows = read_rows,
      .arg = m,
  };
  Shopgpu__V1__ModelInfo *info = NULL;
  shopgpu_status st;
  if (shopgpu_click_upload_model(cli->client, &up, &info, sg_cli_stream_timeout(cli), &st) != 0)
    return sg_cli_rpc_error(cli, m->failed ? &m->st : &st);
  if (cli->json) {
    null_missing_validation(info);
    print_message_json(cli, &info->base);
  } else
    print_model(cli->out, info);
  protobuf_c_message_free_unpacked(&info->base, NULL);
  return SG_CLI_OK;
}

int sg_cli_cmd_model_upload(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  (void)argv;
  double bias = 0;
  if (sg_cli_opt_double(cli, "bias", -1e30, 1e30, &bias) != SG_CLI_OK) return SG_CLI_USAGE;
  npy_set m = {0};
  int rc = open_matrices(cli, &m);
  if (rc == SG_CLI_OK) rc = upload(cli, &m, bias);
  close_matrices(&m);
  return rc;
}

/* ---- model list, model delete ---- */

static void print_models(FILE *out, const Shopgpu__V1__ListModelsResponse *resp) {
  fprintf(out, "%-20s %7s %-9s %9s %9s %5s %9s  %s\n", "NAME", "VERSION", "SOURCE", "USERS",
          "ITEMS", "DIM", "VALID_AUC", "CREATED");
  for (size_t i = 0; i < resp->n_models; i++) {
    const Shopgpu__V1__ModelInfo *m = resp->models[i];
    char auc[32], created[32];
    format_auc(auc, sizeof auc, m);
    format_time(created, sizeof created, m->created_at_unix_ms);
    fprintf(out, "%-20s %7u %-9s %9u %9u %5u %9s  %s\n", m->name, m->version, m->source, m->n_users,
            m->n_items, m->dim, auc, created);
  }
}

int sg_cli_cmd_model_list(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  (void)argv;
  Shopgpu__V1__ListModelsResponse *resp = NULL;
  shopgpu_status st;
  if (shopgpu_click_list_models(cli->client, &resp, cli->timeout_ms, &st) != 0)
    return sg_cli_rpc_error(cli, &st);
  if (cli->json) {
    for (size_t i = 0; i < resp->n_models; i++)
      null_missing_validation(resp->models[i]);
    print_message_json(cli, &resp->base);
  } else {
    print_models(cli->out, resp);
  }
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  return SG_CLI_OK;
}

int sg_cli_cmd_model_delete(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  (void)argv;
  int64_t version = 0;
  if (sg_cli_opt_int(cli, "version", 1, UINT32_MAX, &version) != SG_CLI_OK) return SG_CLI_USAGE;
  const char *name = sg_cli_opt_str(cli, "name");
  uint32_t deleted = 0;
  shopgpu_status st;
  if (shopgpu_click_delete_model(cli->client, name, (uint32_t)version, &deleted, cli->timeout_ms,
                                 &st) != 0)
    return sg_cli_rpc_error(cli, &st);
  if (cli->json) {
    sg__json j;
    sg__json_init(&j, cli->out);
    sg__json_begin_object(&j);
    sg__json_key(&j, "deleted");
    sg__json_uint(&j, deleted);
    sg__json_end_object(&j);
    sg__json_finish(&j);
  } else {
    fprintf(cli->out, "deleted %u version%s of %s\n", deleted, deleted == 1 ? "" : "s", name);
  }
  return SG_CLI_OK;
}
