/* The shopgpu CLI's click commands against a real server: model upload from .npy files written
 * here (scores checked against the double reference), the score CSV round trip (header, order,
 * bad lines named, no half file), recommend --json's exact shape, model train from a CSV then
 * recommend without seen items, model train from a labelled click log, recommend-all --out, model
 * list and delete, usage errors. */
#include "cli_run.h"
#include "click_test.h"

TestSuite(cli_click, .init = seed_rng, .fini = cleanup_cli, .timeout = 120);

#define CPU ((const char *const[]){"--backend", "cpu", NULL})

static char paths[32][160];

/* aux_dir/name (one of 32 slots, reused round robin). */
static const char *aux(const char *name) {
  static int next;
  char *p = paths[next++ % 32];
  snprintf(p, sizeof paths[0], "%s/%s", aux_dir, name);
  return p;
}

/* U (float32, v1), V (float64, v2) and W (float32, v3) of m as .npy files in aux_dir. */
static void write_model_npy(const test_model *m) {
  static float u[64 * MAX_DIM];
  static double v[64 * MAX_DIM];
  char dict[128];
  for (uint32_t r = 0; r < m->nu; r++)
    memcpy(u + r * m->d, m->U[r], m->d * sizeof(float));
  snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%u, %u), }",
           m->nu, m->d);
  write_npy(aux("U.npy"), 1, dict, u, m->nu * m->d * sizeof(float));
  for (uint32_t r = 0; r < m->ni; r++)
    for (uint32_t k = 0; k < m->d; k++)
      v[r * m->d + k] = m->V[r][k];
  snprintf(dict, sizeof dict, "{'descr': '<f8', 'fortran_order': False, 'shape': (%u, %u), }",
           m->ni, m->d);
  write_npy(aux("V.npy"), 2, dict, v, m->ni * m->d * sizeof(double));
  snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%u,), }", m->d);
  write_npy(aux("W.npy"), 3, dict, m->w, m->d * sizeof(float));
}

/* `model upload --name name` of the files above with m's bias (printed as %.9g). */
static void cli_upload(cli_run *r, const test_model *m, const char *name, int interaction) {
  char bias[32];
  snprintf(bias, sizeof bias, "%.9g", (double)m->b);
  run_cli(r,
          ARGS("--server", srv.addr, "model", "upload", "--name", name, "--user-vectors",
               aux("U.npy"), "--item-vectors", aux("V.npy"), "--weights", aux("W.npy"), "--bias",
               bias, interaction ? "--json" : "--no-interaction"),
          NULL);
}

/* Checks a score CSV of every pair (u, i) of m in row order, against the double reference. */
static void check_score_file(const char *path, const test_model *m, int interaction) {
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "no %s", path);
  char line[128];
  cr_assert_not_null(fgets(line, sizeof line, f));
  cr_expect_str_eq(line, "user_id,item_id,score\n");
  double worst = 0;
  for (uint32_t u = 0; u < m->nu; u++)
    for (uint32_t i = 0; i < m->ni; i++) {
      unsigned long long gu, gi;
      double s;
      cr_assert(fgets(line, sizeof line, f) && sscanf(line, "%llu,%llu,%lf", &gu, &gi, &s) == 3);
      cr_assert(gu == u && gi == i, "row order: got %llu,%llu for %u,%u", gu, gi, u, i);
      worst = fmax(worst, fabs(s - ref_score(m, u, i, interaction)));
    }
  cr_expect_null(fgets(line, sizeof line, f), "no extra rows");
  fclose(f);
  cr_expect_lt(worst, 1e-5, "worst error %g", worst);
}

/* A pairs CSV of every (u, i) of m, with a blank line and CRLF ends in it. */
static const char *write_pairs(const test_model *m) {
  const char *path = aux("pairs.csv");
  FILE *f = fopen(path, "w");
  fputs("user_id,item_id\r\n", f);
  for (uint32_t u = 0; u < m->nu; u++)
    for (uint32_t i = 0; i < m->ni; i++)
      fprintf(f, "%u,%u%s", u, i, u == 1 ? "\r\n\n" : "\n");
  fclose(f);
  return path;
}

Test(cli_click, model_upload_from_npy_then_score_csv_matches_double_reference) {
  make_aux_dir();
  start_server(CPU);
  test_model m;
  make_model(&m, 7, 11, 5, 1);
  write_model_npy(&m);
  cli_run r;
  cli_upload(&r, &m, "up", 1);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_neq(strstr(r.out, "{\"name\":\"up\",\"version\":1,\"n_users\":7,\"n_items\":11,"
                              "\"dim\":5,\"interaction\":true,"),
                NULL, "%s", r.out);
  const char *pairs = write_pairs(&m), *out = aux("scores.csv");
  run_cli(&r,
          ARGS("--server", srv.addr, "score", "--model", "up", "--pairs", pairs, "--out", out,
               "--chunk", "10"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(strncmp(r.out, "scored 77 pairs with up v1 into ", 32), 0, "%s", r.out);
  check_score_file(out, &m, 1);
  cli_upload(&r, &m, "plain", 0);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_neq(strstr(r.out, "interaction  no\n"), NULL, "%s", r.out);
  run_cli(&r,
          ARGS("--server", srv.addr, "--json", "score", "--model", "plain", "--pairs", pairs,
               "--out", out),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(strncmp(r.out, "{\"pairs\":77,\"model\":\"plain\",\"model_version\":1,\"out\":", 52),
               0, "%s", r.out);
  check_score_file(out, &m, 0);
  stop_server_checked();
}

/* `model upload` of the files in aux_dir must exit 1 with want on stderr. */
static void upload_fails(const test_model *m, const char *want) {
  cli_run r;
  cli_upload(&r, m, "bad", 1);
  cr_expect_eq(r.status, 1, "stdout: %s", r.out);
  cr_expect_neq(strstr(r.err, want), NULL, "\"%s\" lacks \"%s\"", r.err, want);
}

Test(cli_click, model_upload_names_the_file_of_a_bad_matrix) {
  make_aux_dir();
  start_server(CPU);
  test_model m;
  make_model(&m, 4, 6, 3, 1);
  write_model_npy(&m);
  float v[6 * 4] = {0};
  write_npy(aux("V.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6, 4), }", v,
            sizeof v);
  upload_fails(&m, "shopgpu: INVALID_ARGUMENT: ");
  upload_fails(&m, "V.npy: 4 columns, ");
  write_model_npy(&m);
  float u[4 * 3] = {0};
  u[1 * 3 + 2] = NAN;
  write_npy(aux("U.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }", u,
            sizeof u);
  upload_fails(&m, "U.npy: [1, 2] is nan");
  write_npy(aux("U.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (4, 3), }", u,
            sizeof u);
  upload_fails(&m, "U.npy: dtype '<i4'");
  write_npy(aux("U.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }", u,
            sizeof u - 4);
  upload_fails(&m, "U.npy: truncated");
  write_model_npy(&m);
  write_npy(aux("W.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", u, 8);
  upload_fails(&m, "W.npy: shape (2,): expected (3,)");
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "--json", "model", "list"), NULL);
  cr_expect_str_eq(r.out, "{\"models\":[]}\n", "nothing was stored");
  stop_server_checked();
}

Test(cli_click, score_errors_name_the_line_and_leave_no_file) {
  make_aux_dir();
  start_server(CPU);
  test_model m;
  make_model(&m, 3, 4, 2, 1);
  shopgpu_client *c = open_client();
  upload_model(c, "s", &m, 0);
  shopgpu_client_close(c);
  const char *out = aux("o.csv");
  struct {
    const char *csv, *want; /* want follows "shopgpu: INVALID_ARGUMENT: " and, when named, the
                               input's path */
    int named;
  } cases[] = {
      {"user_id,item_id\n0,1\n2,x\n", ":3: column 2 (item_id): \"x\" is not", 1},
      {"0,1\n", ":1: missing header: expected user_id,item_id", 1},
      {"user_id,item_id\n0,1,1\n", ":2: 3 fields, the header has 2", 1},
      /* a pair the server refuses is named by its line (the server says which of the chunk) */
      {"user_id,item_id\n0,1\n0,77\n", ":3: column 2 (item_id): unknown id 77", 1},
      /* after a blank line the lines no longer follow the pairs: the chunk and pair are named */
      {"user_id,item_id\n0,1\n\n0,77\n",
       "chunk 0 (pairs 0..1 of the stream): item_ids[1]: unknown id 77", 0},
      {"user_id,item_id\n", ": no pairs after the header", 1},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const char *in = aux("in.csv");
    write_text(in, cases[k].csv);
    cli_run r;
    run_cli(&r, ARGS("--server", srv.addr, "score", "--model", "s", "--pairs", in, "--out", out),
            NULL);
    char want[256];
    snprintf(want, sizeof want, "shopgpu: INVALID_ARGUMENT: %s%s", cases[k].named ? in : "",
             cases[k].want);
    cr_expect_eq(r.status, 1, "case %zu", k);
    cr_expect_neq(strstr(r.err, want), NULL, "case %zu: \"%s\" lacks \"%s\"", k, r.err, want);
    cr_expect_neq(access(out, F_OK), 0, "case %zu left %s", k, out);
  }
  char ls[128];
  snprintf(ls, sizeof ls, "ls -A '%s' | grep -q tmp", aux_dir);
  cr_expect_neq(system(ls), 0, "no temp file left in %s", aux_dir);
  write_text(aux("in.csv"), "user_id,item_id\n2,3\n");
  cli_run r;
  run_cli(
      &r,
      ARGS("--server", srv.addr, "score", "--model", "s", "--pairs", aux("in.csv"), "--out", "-"),
      NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(strncmp(r.out, "user_id,item_id,score\n2,3,0.", 28), 0, "to stdout: %s", r.out);
  stop_server_checked();
}

Test(cli_click, recommend_json_has_exactly_user_and_items_best_first) {
  start_server(CPU);
  test_model m;
  make_model(&m, 6, 9, 4, 1);
  shopgpu_client *c = open_client();
  upload_model(c, "rec", &m, 0);
  shopgpu_client_close(c);
  cli_run r;
  run_cli(
      &r,
      ARGS("--server", srv.addr, "recommend", "--model", "rec", "--user", "2", "-k", "3", "--json"),
      NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  uint32_t want[3];
  ref_topk(&m, 2, 3, want);
  char prefix[64];
  snprintf(prefix, sizeof prefix, "{\"user\":2,\"items\":[{\"item\":%u,\"score\":0.", want[0]);
  cr_expect_eq(strncmp(r.out, prefix, strlen(prefix)), 0, "%s\nwant %s...", r.out, prefix);
  char args[3][32];
  for (int s = 0; s < 3; s++)
    snprintf(args[s], sizeof args[s], "%u:%.9f", want[s], ref_score(&m, 2, want[s], 1));
  const char *script =
      "import json,sys\n"
      "text=open(sys.argv[1]).read()\n"
      "assert text.endswith('}\\n') and text.count('\\n')==1, text\n"
      "d=json.loads(text)\n"
      "assert list(d)==['user','items'] and d['user']==2, d\n"
      "assert all(list(x)==['item','score'] for x in d['items']), d\n"
      "want=[(int(a.split(':')[0]),float(a.split(':')[1])) for a in sys.argv[2:]]\n"
      "assert [x['item'] for x in d['items']]==[w[0] for w in want], (d, want)\n"
      "assert all(abs(x['score']-w[1])<1e-5 for x,w in zip(d['items'],want)), (d, want)\n";
  cr_expect_eq(sg_test_run_python("-c", ARGS(script, r.out_path, args[0], args[1], args[2])), 0,
               "%s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "recommend", "--model", "rec", "--user", "2", "-k=2"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(strncmp(r.out, "user 2, model rec v1\nRANK  ITEM", 31), 0, "%s", r.out);
  cr_expect_neq(strstr(r.out, "\n   2  "), NULL, "two ranks: %s", r.out);
  cr_expect_eq(strstr(r.out, "\n   3  "), NULL, "two ranks: %s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "recommend", "--model", "rec", "--user", "99"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_neq(strstr(r.err, "shopgpu: INVALID_ARGUMENT: user_ids[0]: unknown id 99"), NULL, "%s",
                r.err);
  stop_server_checked();
}

/* Interactions of 50 users who like items of their parity, as a CSV in aux_dir. */
static const char *write_parity_csv(void) {
  const char *path = aux("parity.csv");
  FILE *f = fopen(path, "w");
  fputs("user_id,item_id\n", f);
  for (int k = 0; k < 600; k++)
    fprintf(f, "%d,%llu\n", k / 12, (unsigned long long)(2 * (rng_next() % 20) + (k / 12) % 2));
  fclose(f);
  return path;
}

Test(cli_click, model_train_from_csv_then_recommend_leaves_out_seen_items) {
  make_aux_dir();
  start_server(CPU);
  const char *csv = write_parity_csv();
  cli_run r;
  run_cli(&r,
          ARGS("--server", srv.addr, "model", "train", "--name", "p", "--interactions", csv,
               "--dim", "8", "--epochs", "8", "--seed", "3", "--learning-rate", "0.05"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_neq(strstr(r.out, "name         p\nversion      1\nsource       trained\n"
                              "users        50\n"),
                NULL, "%s", r.out);
  cr_expect_neq(strstr(r.out, "valid_auc    0."), NULL, "%s", r.out);
  cr_expect_neq(strstr(r.out, "epochs       8"), NULL, "%s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "--json", "model", "list"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(sg_test_run_python("-c", ARGS("import json,sys\n"
                                             "m=json.load(open(sys.argv[1]))['models'][0]\n"
                                             "assert 0<m['valid_auc']<=1, m\n"
                                             "assert m['valid_logloss']>0, m\n",
                                             r.out_path)),
               0, "a trained model's AUC is a number: %s", r.out);
  run_cli(
      &r,
      ARGS("--server", srv.addr, "--json", "recommend", "--model", "p", "--user", "3", "-k", "6"),
      NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  const char *script = "import json,sys\n"
                       "d=json.load(open(sys.argv[1]))\n"
                       "rows=[l.strip().split(',') for l in open(sys.argv[2]).readlines()[1:]]\n"
                       "seen={int(i) for u,i in rows if u=='3'}\n"
                       "got=[x['item'] for x in d['items']]\n"
                       "assert len(got)==6 and not set(got)&seen, (got, seen)\n"
                       "assert sum(1 for i in got if i%2==1)>=4, got\n";
  cr_expect_eq(sg_test_run_python("-c", ARGS(script, r.out_path, csv)), 0, "%s", r.out);
  run_cli(&r,
          ARGS("--server", srv.addr, "--detach", "model", "train", "--name", "p", "--interactions",
               csv, "--epochs", "1"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(strlen(r.out), 33, "--detach prints the job id: %s", r.out);
  write_text(aux("bad.csv"), "user_id,item_id,label\n1,2,1\n1,3,2\n");
  run_cli(
      &r,
      ARGS("--server", srv.addr, "model", "train", "--name", "q", "--interactions", aux("bad.csv")),
      NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_neq(strstr(r.err, "bad.csv:3: column 3 (label): 2 is not 0 or 1"), NULL, "%s", r.err);
  run_cli(&r, ARGS("--server", srv.addr, "model", "train", "--interactions", csv), NULL);
  cr_expect_eq(r.status, 2);
  cr_expect_neq(strstr(r.err, "model train: --name is required"), NULL, "%s", r.err);
  run_cli(&r,
          ARGS("--server", srv.addr, "model", "train", "--name", "h", "--interactions", csv,
               "--epochs", "2", "--negative-candidates", "3", "--l2", "0.01", "--batch-size", "64",
               "--optimizer", "sgd", "--valid-fraction", "0", "--patience", "2", "--lr-schedule",
               "cosine"),
          NULL);
  cr_expect_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_neq(strstr(r.out, "epochs       2"), NULL, "%s", r.out);
  static const struct {
    const char *flag, *value, *want;
  } usage[] = {
      {"--negative-candidates", "65", "--negative-candidates: \"65\" is not an integer in 1..64"},
      {"--optimizer", "rmsprop", "--optimizer: \"rmsprop\" is not adam or sgd"},
      {"--lr-schedule", "step", "--lr-schedule: \"step\" is not constant or cosine"},
  };
  for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
    run_cli(&r,
            ARGS("--server", srv.addr, "model", "train", "--name", "h", "--interactions", csv,
                 usage[i].flag, usage[i].value),
            NULL);
    cr_expect_eq(r.status, 2, "%s", usage[i].flag);
    cr_expect_neq(strstr(r.err, usage[i].want), NULL, "%s", r.err);
  }
  /* starting vectors from features (row = id): a user's parity in one column, an item's in the
   * other; kept by a vanishing learning rate, they rank a user's parity first */
  static float fu[50 * 2], fv[40 * 2];
  for (int i = 0; i < 50; i++)
    fu[2 * i + i % 2] = 3.0f;
  for (int i = 0; i < 40; i++)
    fv[2 * i + i % 2] = 3.0f;
  write_npy(aux("fu.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (50, 2), }", fu,
            sizeof fu);
  write_npy(aux("fv.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (40, 2), }", fv,
            sizeof fv);
  run_cli(&r,
          ARGS("--server", srv.addr, "model", "train", "--name", "f", "--interactions", csv,
               "--epochs", "1", "--learning-rate", "1e-9", "--user-features", aux("fu.npy"),
               "--item-features", aux("fv.npy")),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_neq(strstr(r.out, "dim          2\n"), NULL, "%s", r.out);
  run_cli(
      &r,
      ARGS("--server", srv.addr, "--json", "recommend", "--model", "f", "--user", "3", "-k", "6"),
      NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(
      sg_test_run_python("-c", ARGS("import json,sys\n"
                                    "got=[x['item'] for x in json.load(open(sys.argv[1]))"
                                    "['items']]\n"
                                    "assert len(got)==6 and all(i%2==1 for i in got), got\n",
                                    r.out_path)),
      0, "%s", r.out);
  write_npy(aux("w1.npy"), 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", fu,
            2 * sizeof(float));
  run_cli(&r,
          ARGS("--server", srv.addr, "model", "train", "--name", "f", "--interactions", csv,
               "--user-features", aux("w1.npy")),
          NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_neq(strstr(r.err, "w1.npy: shape (2,): expected (ids, dim) with dim in 1..1024"), NULL,
                "%s", r.err);
  stop_server_checked();
}

/* A click log: 4,000 impressions of 50 users x 40 items, clicked when the parities agree, with
 * 10% of the labels flipped. */
static const char *write_labelled_csv(void) {
  const char *path = aux("clicks.csv");
  FILE *f = fopen(path, "w");
  fputs("user_id,item_id,label\n", f);
  for (int k = 0; k < 4000; k++) {
    unsigned u = (unsigned)(rng_next() % 50), i = (unsigned)(rng_next() % 40);
    int label = (u % 2 == i % 2) ^ (rng_next() % 10 == 0);
    fprintf(f, "%u,%u,%d\n", u, i, label);
  }
  fclose(f);
  return path;
}

Test(cli_click, model_train_from_a_labelled_click_log) {
  make_aux_dir();
  start_server(CPU);
  const char *csv = write_labelled_csv();
  cli_run r;
  run_cli(&r,
          ARGS("--server", srv.addr, "--progress", "model", "train", "--name", "clicks",
               "--interactions", csv, "--dim", "8", "--epochs", "20", "--seed", "5",
               "--learning-rate", "0.05"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_neq(strstr(r.err, "80/80 minibatches"), NULL, "the progress bar ends: %s", r.err);
  const char *a = strstr(r.out, "valid_auc    ");
  double auc = 0;
  cr_assert(a && sscanf(a + 13, "%lf", &auc) == 1, "%s", r.out);
  /* 10% flipped labels cap the AUC near 0.9; a model that learnt nothing sits at 0.5 */
  cr_expect_gt(auc, 0.8, "%s", r.out);
  /* each epoch's validation metrics are in the server's log */
  char grep[512];
  snprintf(grep, sizeof grep, "grep -q 'train clicks: epoch 20/20: valid log loss 0\\.' '%s'",
           srv.log_path);
  cr_expect_eq(system(grep), 0, "no epoch line in %s", srv.log_path);
  run_cli(&r,
          ARGS("--server", srv.addr, "--json", "recommend", "--model", "clicks", "--user", "7",
               "-k", "5", "--include-seen"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(sg_test_run_python(
                   "-c", ARGS("import json,sys\n"
                              "got=[x['item'] for x in json.load(open(sys.argv[1]))['items']]\n"
                              "assert len(got)==5 and sum(i%2 for i in got)>=4, got\n",
                              r.out_path)),
               0, "%s", r.out);
  run_cli(&r,
          ARGS("--server", srv.addr, "model", "train", "--name", "clicks", "--interactions", csv,
               "--negatives", "2"),
          NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_neq(strstr(r.err, "negatives"), NULL, "%s", r.err);
  stop_server_checked();
}

Test(cli_click, recommend_all_out_writes_every_users_top_k) {
  make_aux_dir();
  start_server(CPU);
  test_model m;
  make_model(&m, 9, 13, 4, 1);
  shopgpu_client *c = open_client();
  upload_model(c, "all", &m, 0);
  shopgpu_client_close(c);
  const char *out = aux("all.csv");
  cli_run r;
  run_cli(&r,
          ARGS("--server", srv.addr, "recommend-all", "--model", "all", "-k", "4", "--out", out),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_neq(strstr(r.out, "users      9\npublished  0 lists"), NULL, "%s", r.out);
  cr_expect_neq(strstr(r.out, "out        36 rows in "), NULL, "%s", r.out);
  FILE *f = fopen(out, "r");
  cr_assert_not_null(f);
  char line[128];
  cr_assert_not_null(fgets(line, sizeof line, f));
  cr_expect_str_eq(line, "user_id,rank,item_id,score\n");
  for (uint32_t u = 0; u < 9; u++) {
    uint32_t want[4];
    ref_topk(&m, u, 4, want);
    for (unsigned s = 0; s < 4; s++) {
      unsigned long long gu, gi;
      unsigned rank;
      double score;
      cr_assert(fgets(line, sizeof line, f) &&
                sscanf(line, "%llu,%u,%llu,%lf", &gu, &rank, &gi, &score) == 4);
      cr_expect(gu == u && rank == s + 1 && gi == want[s], "user %u rank %u: %s", u, s + 1, line);
      cr_expect_lt(fabs(score - ref_score(&m, u, want[s], 1)), 1e-5, "%s", line);
    }
  }
  fclose(f);
  run_cli(&r,
          ARGS("--server", srv.addr, "--detach", "recommend-all", "--model", "all", "-k", "4",
               "--out", out),
          NULL);
  cr_expect_eq(r.status, 2, "--out with --detach is a usage error");
  run_cli(&r, ARGS("--server", srv.addr, "--detach", "recommend-all", "--model", "all", "-k", "4"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(strlen(r.out), 33, "--detach prints the job id: %s", r.out);
  char watch_id[40];
  snprintf(watch_id, sizeof watch_id, "%.32s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "--progress", "jobs", "watch", watch_id), NULL);
  cr_expect_eq(r.status, 0, "the detached job succeeds: %s", r.err);
  cr_expect_neq(strstr(r.err, "users"), NULL, "the progress bar counts users: %s", r.err);
  run_cli(&r, ARGS("--server", srv.addr, "recommend-all", "--model", "all"), NULL);
  cr_expect_eq(r.status, 2);
  cr_expect_neq(strstr(r.err, "recommend-all: -k is required"), NULL, "%s", r.err);
  stop_server_checked();
}

Test(cli_click, model_list_and_delete_by_version) {
  start_server(CPU);
  test_model m;
  make_model(&m, 3, 4, 2, 1);
  shopgpu_client *c = open_client();
  upload_model(c, "a", &m, 0);
  upload_model(c, "a", &m, 0);
  upload_model(c, "b", &m, 0);
  shopgpu_client_close(c);
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "model", "list"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_eq(strncmp(r.out, "NAME ", 5), 0, "%s", r.out);
  const char *row = strstr(r.out, "\na ");
  char source[16];
  unsigned version, users, items, dim;
  cr_assert(row && sscanf(row + 2, "%u %15s %u %u %u", &version, source, &users, &items, &dim) == 5,
            "%s", r.out);
  cr_expect(version == 2 && strcmp(source, "uploaded") == 0 && users == 3 && items == 4 && dim == 2,
            "%s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "model", "delete", "--name", "a", "--version", "2"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_str_eq(r.out, "deleted 1 version of a\n");
  run_cli(&r, ARGS("--server", srv.addr, "--json", "model", "list"), NULL);
  const char *script = "import json,sys\n"
                       "d=json.load(open(sys.argv[1]))\n"
                       "got=[(x['name'],x['version']) for x in d['models']]\n"
                       "assert got==[('a',1),('b',1)], got\n"
                       "assert all(x['valid_auc'] is None and x['valid_logloss'] is None\n"
                       "           for x in d['models']), d\n";
  cr_expect_eq(sg_test_run_python("-c", ARGS(script, r.out_path)), 0, "%s", r.out);
  run_cli(&r, ARGS("--server", srv.addr, "--json", "model", "delete", "--name", "a"), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  cr_expect_str_eq(r.out, "{\"deleted\":1}\n");
  run_cli(&r, ARGS("--server", srv.addr, "model", "delete", "--name", "a"), NULL);
  cr_expect_eq(r.status, 1);
  cr_expect_neq(strstr(r.err, "shopgpu: NOT_FOUND: "), NULL, "%s", r.err);
  run_cli(&r, ARGS("--version"), NULL);
  cr_expect_eq(strncmp(r.out, "shopgpu ", 8), 0, "--version alone still prints the version");
  stop_server_checked();
}
