/* File helpers: atomic write replaces whole files, read caps sizes, mkdir -p is idempotent; batch
 * step sizing follows the measured time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static char dir[64];
static void mk(void) {
  snprintf(dir, sizeof dir, "/tmp/sg-util-XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}
static void rm(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}
TestSuite(util, .init = mk, .fini = rm);

Test(util, atomic_write_then_read_round_trips_and_leaves_no_temp_file) {
  char path[128];
  snprintf(path, sizeof path, "%s/a.txt", dir);
  sg_err e = {0};
  cr_assert_eq(sg_write_file_atomic(path, "first", 5, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(sg_write_file_atomic(path, "second!", 7, &e), SG_OK, "%s", e.msg);
  char *text;
  size_t len;
  cr_assert_eq(sg_read_file(path, 100, &text, &len, &e), SG_OK);
  cr_assert_eq(len, 7);
  cr_assert_str_eq(text, "second!");
  free(text);
  char cmd[160];
  snprintf(cmd, sizeof cmd, "test $(ls %s | wc -l) -eq 1", dir);
  cr_assert_eq(system(cmd), 0, "only the file itself remains");
}

Test(util, read_refuses_files_over_the_cap_and_names_missing_ones) {
  char path[128];
  snprintf(path, sizeof path, "%s/big", dir);
  sg_err e = {0};
  char data[10000];
  memset(data, 'x', sizeof data);
  cr_assert_eq(sg_write_file_atomic(path, data, sizeof data, &e), SG_OK);
  char *text = NULL;
  size_t len;
  cr_assert_eq(sg_read_file(path, 9999, &text, &len, &e), SG_INVALID_ARGUMENT);
  cr_assert_null(text);
  sg_err_clear(&e);
  cr_assert_eq(sg_read_file("/nonexistent/file", 10, &text, &len, &e), SG_NOT_FOUND);
  cr_assert(strstr(e.msg, "/nonexistent/file"), "%s", e.msg);
}

Test(util, mkdir_p_creates_nested_dirs_and_is_idempotent) {
  char path[128];
  snprintf(path, sizeof path, "%s/a/b/c", dir);
  sg_err e = {0};
  cr_assert_eq(sg_mkdir_p(path, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(sg_mkdir_p(path, &e), SG_OK, "%s", e.msg);
  struct stat sb;
  cr_assert_eq(stat(path, &sb), 0);
  cr_assert(S_ISDIR(sb.st_mode));
  char file[160];
  snprintf(file, sizeof file, "%s/a/f", dir);
  cr_assert_eq(sg_write_file_atomic(file, "x", 1, &e), SG_OK);
  snprintf(path, sizeof path, "%s/a/f/g", dir);
  cr_assert_neq(sg_mkdir_p(path, &e), SG_OK, "a file in the way is an error");
}

Test(util, step_units_follow_the_measured_time_within_bounds) {
  cr_expect_eq(sg_step_units(10, 0.2, 0.1, 4), 5, "twice too slow: half the units");
  cr_expect_eq(sg_step_units(10, 0.001, 0.1, 4), 21, "much too fast: at most 2x + 1");
  cr_expect_eq(sg_step_units(10, 1.0, 0.1, 4), 4, "never below the minimum");
  cr_expect_eq(sg_step_units(10, 0.0, 0.1, 4), 10, "no time measured: unchanged");
  cr_expect_eq(sg_step_units(1, 0.04, 0.02, 1), 1);
}

/* The memory checks of UploadModel and TrainModel: short past 80% of what is available now. */
Test(util, mem_short_is_past_eighty_percent_of_the_memory_available) {
  double avail = 0;
  cr_expect_eq(sg_mem_short(0, &avail), 0);
  if (avail <= 0) cr_skip_test("available memory unknown here");
  cr_expect_eq(sg_mem_short(0.5 * avail, &avail), 0);
  cr_expect_eq(sg_mem_short(1e30, &avail), 1);
  cr_expect_gt(avail, 0);
}
