/* The Click service through the independent Python client: upload, scoring against a float64
 * reference, recommendations against a full sort, streaming, dynamic batching of real ScorePairs
 * calls, training on a learnable pattern, recommend-all, bad requests; models survive a restart. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pyclient.h"
#include "server_fixture.h"

TestSuite(click, .timeout = 180);

Test(click, upload_score_recommend_stream_list_delete_and_bad_requests) {
  sg_test_scenario("click", NULL, NULL);
}

Test(click, train_recommend_and_recommend_all) { sg_test_scenario("click_train", NULL, NULL); }

Test(click, batched_score_pairs_calls_each_get_their_own_scores) {
  const char *flags[] = {"--backend", "cpu", "--cpu-workers", "1", "--batch-window-us",
                         "100000",    NULL};
  sg_test_scenario("click_batching", flags, NULL);
}

#ifdef SG_CUDA_EMU
/* On the emulated device (tests/cuda_emu) where no cudaMalloc succeeds, no model fits in device
 * memory: with --fallback cpu the CPU serves every model (the whole click scenario passes on a
 * CUDA backend); without it UploadModel is RESOURCE_EXHAUSTED. */
Test(click, models_that_do_not_fit_on_the_device_are_served_by_the_cpu_fallback) {
  setenv("SG_CUDA_EMU_MALLOC_MAX_BYTES", "0", 1);
  const char *flags[] = {"--backend", "cuda", "--fallback", "cpu", NULL};
  sg_test_scenario("click", flags, NULL);
}

Test(click, models_that_do_not_fit_on_the_device_are_refused_without_a_fallback) {
  setenv("SG_CUDA_EMU_MALLOC_MAX_BYTES", "0", 1);
  const char *flags[] = {"--backend", "cuda", NULL};
  sg_test_scenario("click_no_device_memory", flags, NULL);
}

/* The emulated device's first kernel launch faults (a sticky error, as an illegal address). */
Test(click, a_sticky_device_fault_moves_later_calls_to_the_cpu_fallback) {
  setenv("SG_CUDA_EMU_FAULT_AT_LAUNCH", "1", 1);
  const char *flags[] = {"--backend", "cuda", "--fallback", "cpu", NULL};
  const char *args[] = {"cpu", NULL};
  sg_test_scenario("click_device_fault", flags, args);
}

Test(click, a_sticky_device_fault_fails_later_calls_fast_without_a_fallback) {
  setenv("SG_CUDA_EMU_FAULT_AT_LAUNCH", "1", 1);
  const char *flags[] = {"--backend", "cuda", NULL};
  const char *args[] = {"none", NULL};
  sg_test_scenario("click_device_fault", flags, args);
}
#endif

Test(click, models_are_served_again_after_a_restart) {
  sg_test_server a, b;
  cr_assert_eq(sg_test_server_start(&a, NULL), 0);
  cr_assert_eq(sg_test_pyclient(&a, "click_restart_before", NULL), 0);
  cr_assert_eq(sg_test_server_stop(&a, SIGTERM, 20), 0);
  const char *flags[] = {"--data-dir", a.dir, NULL};
  cr_assert_eq(sg_test_server_start(&b, flags), 0);
  cr_expect_eq(sg_test_pyclient(&b, "click_restart_after", NULL), 0);
  cr_expect_eq(sg_test_server_stop(&b, SIGTERM, 20), 0);
  sg_test_server_cleanup(&b);
  sg_test_server_cleanup(&a);
}

/* ---- damaged model files ---- */

typedef struct mfile {
  unsigned char buf[4096];
  size_t n;
} mfile;

static void mput(mfile *f, const void *p, size_t n) {
  cr_assert_leq(f->n + n, sizeof f->buf);
  memcpy(f->buf + f->n, p, n);
  f->n += n;
}

/* A model file as the format documents it (header, arrays, FNV-1a 64 of all before it): 2
 * users (ids 1, 2), 3 items (ids 10, 20, 30), dim 2, seen lists given as offsets and items. The
 * header's dim is `header_dim` (2 for a true one). */
static void write_model_file(const char *dir, const char *name, uint32_t version,
                             uint32_t header_dim, const uint64_t off[3], uint64_t n_seen,
                             const uint32_t *seen) {
  mfile f = {.n = 0};
  uint32_t u32[] = {1, 2, 3, header_dim, 1}; /* format, users, items, dim, interaction */
  float b = 0.25f, w[2] = {0.5f, -0.5f}, U[4] = {1, 0, 0, 1}, V[6] = {1, 1, 0, 1, 1, 0};
  char source[16] = "uploaded";
  int64_t created = 1700000000000;
  double auc = 0, loss = 0;
  uint64_t uid[2] = {1, 2}, iid[3] = {10, 20, 30};
  mput(&f, "SGMODEL1", 8);
  mput(&f, u32, sizeof u32);
  mput(&f, &b, 4);
  mput(&f, source, 16);
  mput(&f, &created, 8);
  mput(&f, &auc, 8);
  mput(&f, &loss, 8);
  mput(&f, &n_seen, 8);
  mput(&f, w, sizeof w);
  mput(&f, U, sizeof U);
  mput(&f, V, sizeof V);
  mput(&f, uid, sizeof uid);
  mput(&f, iid, sizeof iid);
  if (n_seen) {
    mput(&f, off, 3 * sizeof *off);
    mput(&f, seen, n_seen * sizeof *seen);
  }
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < f.n; i++)
    h = (h ^ f.buf[i]) * 0x100000001b3ull;
  mput(&f, &h, 8);
  char path[512];
  snprintf(path, sizeof path, "%s/models/%s", dir, name);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/models/%s/v%u.model", dir, name, version);
  FILE *out = fopen(path, "wb");
  cr_assert_not_null(out, "%s", path);
  cr_assert_eq(fwrite(f.buf, 1, f.n, out), f.n);
  fclose(out);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f, "%s", path);
  fputs(text, f);
  fclose(f);
}

static int log_has(const sg_test_server *s, const char *want) {
  FILE *f = fopen(s->log_path, "r");
  if (!f) return 0;
  static char text[1 << 16];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  return strstr(text, want) != NULL;
}

/* Files whose checksum holds but whose contents a writer got wrong (seen offsets past the end:
 * a heap overflow on the next Recommend; an item past n_items), a header whose sizes do not
 * match the file (dim 2^32-1 asked for 32 GiB before the checksum could fail), temp files left
 * by a crash, a last_version that is not a number, and one at the end of the numbers: each
 * skipped or refused with a reason, the good model served. And one server per data dir. */
Test(click, damaged_model_files_are_skipped_with_a_reason) {
  sg_test_server a, b;
  cr_assert_eq(sg_test_server_start(&a, NULL), 0);
  cr_assert_eq(sg_test_server_stop(&a, SIGTERM, 20), 0);
  static const uint64_t good_off[3] = {0, 1, 2}, far_off[3] = {0, 1, 1000000000};
  static const uint32_t seen[2] = {0, 2}, past[2] = {0, 7};
  write_model_file(a.dir, "good", 1, 2, good_off, 2, seen);
  write_model_file(a.dir, "seenoff", 1, 2, far_off, 2, seen);
  write_model_file(a.dir, "seenitem", 1, 2, good_off, 2, past);
  write_model_file(a.dir, "hugedim", 1, 4294967295u, good_off, 2, seen);
  char path[512];
  snprintf(path, sizeof path, "%s/models/good/v2.model.tmp", a.dir);
  write_text(path, "half a model");
  snprintf(path, sizeof path, "%s/models/good/last_version.tmp.4242", a.dir);
  write_text(path, "7\n");
  snprintf(path, sizeof path, "%s/models/good/last_version", a.dir);
  write_text(path, "garbage\n");
  write_model_file(a.dir, "full", 4294967295u, 2, good_off, 2, seen);
  const char *flags[] = {"--data-dir", a.dir, NULL};
  cr_assert_eq(sg_test_server_start(&b, flags), 0);
  cr_expect(log_has(&b, "seenoff v1 not loaded: ") &&
                log_has(&b, "corrupt seen lists (offsets 0..1000000000"),
            "the far offset is named");
  cr_expect(log_has(&b, "seenitem v1 not loaded: ") &&
                log_has(&b, "corrupt seen lists (item row 7 of 3)"),
            "the item past the end is named");
  cr_expect(log_has(&b, "hugedim v1 not loaded: ") && log_has(&b, "dim 4294967295"),
            "the header that does not fit the file is named");
  cr_expect(log_has(&b, "good/v2.model.tmp (left by an interrupted write)") &&
                log_has(&b, "good/last_version.tmp.4242 (left by an interrupted write)"),
            "temp files removed");
  struct stat sb;
  snprintf(path, sizeof path, "%s/models/good/v2.model.tmp", a.dir);
  cr_expect_neq(stat(path, &sb), 0, "the temp file is gone");
  /* a second server on the same data dir is refused at start */
  sg_test_server c;
  cr_expect_neq(sg_test_server_start(&c, flags), 0, "a second server on the same data dir");
  cr_expect_eq(sg_test_pyclient(&b, "click_damaged_after", NULL), 0);
  cr_expect(log_has(&b, "good/last_version: not a version number (\"garbage"),
            "the upload's last_version is named");
  cr_expect_eq(sg_test_server_stop(&b, SIGTERM, 20), 0);
  sg_test_server_cleanup(&c);
  sg_test_server_cleanup(&b);
  sg_test_server_cleanup(&a);
}
