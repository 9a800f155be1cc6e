/* shopgpu CLI commands that use a model: `score` (a pairs CSV streamed through ScorePairsStream
 * a chunk at a time into user_id,item_id,score, written to a temp file renamed at the end
 * (cli_out.c), so memory is bounded and a failed run leaves no half file), `recommend` (one
 * user's top k) and `recommend-all` (a job; --out writes its lists read back with
 * ReadRecommendations). */
#include <grpc/status.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "shopgpu_io.h"

/* ---- score ---- */

/* Where a read's pairs came from: pair `start` (0-based in the stream) on line `line`, the next
 * ones on the next lines; line 0 when blank lines came in between (no line is named then). */
typedef struct pair_lines {
  uint64_t start, n, line;
} pair_lines;

typedef struct score_io {
  shopgpu_ids_csv *in;
  FILE *out;
  uint64_t pairs, read; /* scored, read from the file */
  uint32_t version;
  int in_failed; /* st says why */
  shopgpu_status st;
  /* the last reads (a few per chunk; more than the chunks in flight), to name the line of a
   * refused pair: a ring, so memory stays bounded for any file */
  pair_lines lines[256];
  size_t n_lines; /* reads so far; the last min(n, 256) are in the ring */
} score_io;

static long next_pairs(void *arg, uint64_t *users, uint64_t *items, size_t cap) {
  score_io *s = arg;
  uint64_t before = shopgpu_ids_csv_line(s->in);
  long n = shopgpu_ids_csv_read(s->in, users, items, NULL, cap, &s->st);
  if (n < 0) s->in_failed = 1;
  if (n <= 0) return n;
  uint64_t after = shopgpu_ids_csv_line(s->in);
  s->lines[s->n_lines++ % 256] =
      (pair_lines){s->read, (uint64_t)n, after - before == (uint64_t)n ? before + 1 : 0};
  s->read += (uint64_t)n;
  return n;
}

/* The server refused pair k of a chunk ("chunk C (pairs A..B of the stream): user_ids[K]: ..."):
 * the message in the file's terms, "PATH:LINE: column 1 (user_id): ..." (left as it is when the
 * line is not known). */
static void name_line(const score_io *s, const char *path, shopgpu_status *st) {
  unsigned long long a, b;
  size_t c, k;
  int at = 0;
  if (sscanf(st->message, "chunk %zu (pairs %llu..%llu of the stream): %n", &c, &a, &b, &at) != 3 ||
      !at)
    return;
  const char *rest = st->message + at, *column;
  int used = 0;
  if (sscanf(rest, "user_ids[%zu]: %n", &k, &used) == 1 && used)
    column = "column 1 (user_id)";
  else if (sscanf(rest, "item_ids[%zu]: %n", &k, &used) == 1 && used)
    column = "column 2 (item_id)";
  else
    return;
  uint64_t pair = a + k;
  for (size_t i = 0; i < s->n_lines && i < 256; i++) {
    const pair_lines *l = &s->lines[i];
    if (pair < l->start || pair >= l->start + l->n) continue;
    if (!l->line) return;
    char msg[sizeof st->message];
    snprintf(msg, sizeof msg, "%s:%llu: %s: %s", path,
             (unsigned long long)(l->line + pair - l->start), column, rest + used);
    memcpy(st->message, msg, sizeof msg);
    return;
  }
}

static int on_scores(void *arg, const uint64_t *users, const uint64_t *items, const float *scores,
                     size_t n, uint32_t model_version) {
  score_io *s = arg;
  char text[32];
  for (size_t i = 0; i < n; i++) {
    sg__float_text(text, sizeof text, scores[i]);
    fprintf(s->out, "%" PRIu64 ",%" PRIu64 ",%s\n", users[i], items[i], text);
  }
  s->pairs += n;
  s->version = model_version;
  return ferror(s->out) ? -1 : 0;
}

static void print_scored(sg_cli *cli, const score_io *s, const char *model, const char *out) {
  if (!cli->json) {
    fprintf(cli->out, "scored %" PRIu64 " pairs with %s v%u into %s\n", s->pairs, model, s->version,
            out);
    return;
  }
  sg__json j;
  sg__json_init(&j, cli->out);
  sg__json_begin_object(&j);
  sg__json_key(&j, "pairs");
  sg__json_uint(&j, s->pairs);
  sg__json_key(&j, "model");
  sg__json_string(&j, model);
  sg__json_key(&j, "model_version");
  sg__json_uint(&j, s->version);
  sg__json_key(&j, "out");
  sg__json_string(&j, out);
  sg__json_end_object(&j);
  sg__json_finish(&j);
}

/* Streams the pairs into o; SG_CLI_OK or the error printed. */
static int score_into(sg_cli *cli, score_io *s, sg_cli_out *o, int64_t chunk, int64_t version) {
  shopgpu_score_stream stream = {.model = sg_cli_opt_str(cli, "model"),
                                 .version = (uint32_t)version,
                                 .chunk_pairs = (size_t)chunk,
                                 .next_pairs = next_pairs,
                                 .on_scores = on_scores,
                                 .arg = s};
  fputs("user_id,item_id,score\n", o->f);
  shopgpu_status st;
  int rc = shopgpu_click_score_stream(cli->client, &stream, sg_cli_stream_timeout(cli), &st);
  if (rc == 0 && s->read == 0) { /* an empty stream succeeds, but an empty file is a mistake */
    snprintf(st.message, sizeof st.message, "%s: no pairs after the header",
             sg_cli_opt_str(cli, "pairs"));
    st.code = GRPC_STATUS_INVALID_ARGUMENT;
    return sg_cli_rpc_error(cli, &st);
  }
  if (rc == 0) return SG_CLI_OK;
  if (s->in_failed) return sg_cli_rpc_error(cli, &s->st);
  name_line(s, sg_cli_opt_str(cli, "pairs"), &st);
  if (ferror(o->f)) {
    snprintf(st.message, sizeof st.message, "--out: write error on %s", o->path);
    st.code = GRPC_STATUS_INTERNAL;
  }
  return sg_cli_rpc_error(cli, &st);
}

int sg_cli_cmd_score(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  (void)argv;
  int64_t chunk = SHOPGPU_SCORE_CHUNK_DEFAULT, version = 0;
  if (sg_cli_opt_int(cli, "chunk", 1, 1 << 24, &chunk) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "version", 1, UINT32_MAX, &version) != SG_CLI_OK)
    return SG_CLI_USAGE;
  score_io s = {0};
  s.in = shopgpu_ids_csv_open(sg_cli_opt_str(cli, "pairs"), 0, &s.st);
  if (!s.in) return sg_cli_rpc_error(cli, &s.st);
  sg_cli_out o;
  int rc = sg_cli_out_open(cli, &o, "--out", sg_cli_opt_str(cli, "out"));
  if (rc == SG_CLI_OK) {
    s.out = o.f;
    rc = score_into(cli, &s, &o, chunk, version);
    int committed = sg_cli_out_commit(cli, &o, rc == SG_CLI_OK);
    if (rc == SG_CLI_OK) rc = committed;
  }
  shopgpu_ids_csv_close(s.in);
  if (rc == SG_CLI_OK && strcmp(o.path, "-") != 0)
    print_scored(cli, &s, sg_cli_opt_str(cli, "model"), o.path);
  return rc;
}

/* ---- recommend ---- */

static void print_user_json(sg_cli *cli, const Shopgpu__V1__UserRecommendations *u) {
  sg__json j;
  sg__json_init(&j, cli->out);
  sg__json_begin_object(&j);
  sg__json_key(&j, "user");
  sg__json_uint(&j, u->user_id);
  sg__json_key(&j, "items");
  sg__json_begin_array(&j);
  for (size_t i = 0; i < u->n_item_ids && i < u->n_scores; i++) {
    sg__json_begin_object(&j);
    sg__json_key(&j, "item");
    sg__json_uint(&j, u->item_ids[i]);
    sg__json_key(&j, "score");
    sg__json_float(&j, u->scores[i]);
    sg__json_end_object(&j);
  }
  sg__json_end_array(&j);
  sg__json_end_object(&j);
  sg__json_finish(&j);
}

static void print_user(sg_cli *cli, const Shopgpu__V1__RecommendResponse *resp) {
  const Shopgpu__V1__UserRecommendations *u = resp->users[0];
  fprintf(cli->out, "user %" PRIu64 ", model %s v%u%s\n%4s  %-20s  %s\n", u->user_id,
          sg_cli_opt_str(cli, "model"), resp->model_version,
          resp->from_cache ? " (from cache)" : "", "RANK", "ITEM", "SCORE");
  char text[32];
  for (size_t i = 0; i < u->n_item_ids && i < u->n_scores; i++) {
    sg__float_text(text, sizeof text, u->scores[i]);
    fprintf(cli->out, "%4zu  %-20" PRIu64 "  %s\n", i + 1, u->item_ids[i], text);
  }
}

int sg_cli_cmd_recommend(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  (void)argv;
  int64_t k = 10, version = 0;
  uint64_t id = 0;
  if (sg_cli_opt_u64(cli, "user", &id) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "k", 1, 1024, &k) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "version", 1, UINT32_MAX, &version) != SG_CLI_OK)
    return SG_CLI_USAGE;
  Shopgpu__V1__RecommendResponse *resp = NULL;
  shopgpu_status st;
  if (shopgpu_click_recommend(cli->client, sg_cli_opt_str(cli, "model"), (uint32_t)version, &id, 1,
                              (uint32_t)k, sg_cli_opt_flag(cli, "include-seen"), &resp,
                              cli->timeout_ms, &st) != 0)
    return sg_cli_rpc_error(cli, &st);
  int rc = SG_CLI_OK;
  if (resp->n_users != 1) {
    snprintf(st.message, sizeof st.message, "response: %zu users for 1", resp->n_users);
    st.code = GRPC_STATUS_INTERNAL;
    rc = sg_cli_rpc_error(cli, &st);
  } else if (cli->json) {
    print_user_json(cli, resp->users[0]);
  } else {
    print_user(cli, resp);
  }
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  return rc;
}

/* ---- recommend-all ---- */

typedef struct rows_out {
  FILE *f;
  uint64_t rows;
} rows_out;

static int write_user(const Shopgpu__V1__UserRecommendations *u, void *arg) {
  rows_out *w = arg;
  char text[32];
  for (size_t i = 0; i < u->n_item_ids && i < u->n_scores; i++) {
    sg__float_text(text, sizeof text, u->scores[i]);
    fprintf(w->f, "%" PRIu64 ",%zu,%" PRIu64 ",%s\n", u->user_id, i + 1, u->item_ids[i], text);
  }
  w->rows += u->n_item_ids;
  return ferror(w->f) ? -1 : 0;
}

/* Writes the job's lists as user_id,rank,item_id,score; SG_CLI_OK or the error printed. */
static int write_lists(sg_cli *cli, const char *job_id, const char *path, uint64_t *rows) {
  sg_cli_out o;
  int rc = sg_cli_out_open(cli, &o, "--out", path);
  if (rc != SG_CLI_OK) return rc;
  fputs("user_id,rank,item_id,score\n", o.f);
  rows_out w = {o.f, 0};
  shopgpu_status st;
  int code = shopgpu_click_read_recommendations(cli->client, job_id, 0, 0, write_user, &w,
                                                sg_cli_stream_timeout(cli), &st);
  if (code != 0 && ferror(o.f)) {
    snprintf(st.message, sizeof st.message, "--out: write error on %s", path);
    st.code = GRPC_STATUS_INTERNAL;
  }
  rc = code == 0 ? SG_CLI_OK : sg_cli_rpc_error(cli, &st);
  int committed = sg_cli_out_commit(cli, &o, rc == SG_CLI_OK);
  *rows = w.rows;
  return rc == SG_CLI_OK ? committed : rc;
}

static void print_all(sg_cli *cli, const Shopgpu__V1__Job *job, const char *path, uint64_t rows) {
  if (cli->json) {
    sg__json j;
    sg__json_init(&j, cli->out);
    sg_cli_job_json(&j, job, 1);
    sg__json_finish(&j);
    return;
  }
  const Shopgpu__V1__RecommendAllResult *r =
      job->result_case == SHOPGPU__V1__JOB__RESULT_RECOMMEND_ALL ? job->recommend_all : NULL;
  if (r)
    fprintf(cli->out,
            "model      %s v%u\nk          %u\nusers      %" PRIu64 "\npublished  %" PRIu64
            " lists to Redis (shopgpu:rec:%s:<user>)\n",
            r->model, r->model_version, r->k, r->users, r->published, r->model);
  if (path) fprintf(cli->out, "out        %" PRIu64 " rows in %s\n", rows, path);
  fprintf(cli->out, "job        %s\n", job->id);
}

int sg_cli_cmd_recommend_all(sg_cli *cli, int argc, char **argv) {
  (void)argc;
  (void)argv;
  int64_t k = 10, version = 0, priority = 0;
  const char *out = sg_cli_opt_str(cli, "out");
  if (sg_cli_opt_int(cli, "k", 1, 1024, &k) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "version", 1, UINT32_MAX, &version) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "priority", -100, 100, &priority) != SG_CLI_OK)
    return SG_CLI_USAGE;
  if (out && cli->detach)
    return sg_cli_usage("recommend-all: --out needs the job's end: leave out --detach");
  if (out && cli->json && strcmp(out, "-") == 0)
    return sg_cli_usage("recommend-all: --out - and --json would share stdout");
  Shopgpu__V1__RecommendAllRequest req = SHOPGPU__V1__RECOMMEND_ALL_REQUEST__INIT;
  req.model = (char *)(uintptr_t)sg_cli_opt_str(cli, "model");
  req.version = (uint32_t)version;
  req.k = (uint32_t)k;
  req.priority = (int32_t)priority;
  req.no_publish = sg_cli_opt_flag(cli, "no-publish");
  char id[SHOPGPU_JOB_ID_SIZE];
  shopgpu_status st;
  if (shopgpu_click_recommend_all(cli->client, &req, id, cli->timeout_ms, &st) != 0)
    return sg_cli_rpc_error(cli, &st);
  Shopgpu__V1__Job *final = NULL;
  int rc = sg_cli_job_started(cli, id, &final);
  uint64_t rows = 0;
  if (rc == SG_CLI_OK && final && out) rc = write_lists(cli, id, out, &rows);
  if (rc == SG_CLI_OK && final && !(out && strcmp(out, "-") == 0)) /* stdout holds the CSV */
    print_all(cli, final, out, rows);
  if (final) protobuf_c_message_free_unpacked(&final->base, NULL);
  return rc;
}
