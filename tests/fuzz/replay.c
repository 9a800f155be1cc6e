/* The Criterion side of a fuzz harness (see fuzz.h): every file of its corpus directory
 * (SG_FUZZ_CORPUS, set by tests/fuzz/tests.cmake) goes through LLVMFuzzerTestOneInput once.
 * A crash, a sanitizer report or a broken invariant (abort) fails the test. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <sys/stat.h>

#include "fuzz.h"

Test(fuzz, every_corpus_input_is_parsed_or_refused_cleanly) {
  DIR *d = opendir(SG_FUZZ_CORPUS);
  cr_assert(d, "corpus %s: cannot open", SG_FUZZ_CORPUS);
  size_t files = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", SG_FUZZ_CORPUS, e->d_name);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s: cannot open", path);
    /* a buffer of exactly the input's size, as libFuzzer gives: ASan sees an overread */
    uint8_t *in = malloc(sb.st_size ? (size_t)sb.st_size : 1);
    cr_assert(in);
    size_t n = fread(in, 1, (size_t)sb.st_size, f);
    fclose(f);
    cr_assert_eq(n, (size_t)sb.st_size, "%s: short read", path);
    LLVMFuzzerTestOneInput(in, n);
    free(in);
    files++;
  }
  closedir(d);
  cr_assert_gt(files, 0, "corpus %s is empty", SG_FUZZ_CORPUS);
}
