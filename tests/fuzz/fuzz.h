/* Shared by the fuzz harnesses (tests/fuzz/fuzz_*.c). Each harness defines libFuzzer's entry
 * point, LLVMFuzzerTestOneInput, over one family of parsers. Built two ways:
 *   - always, as a Criterion test (fuzz.NAME) that replays every file of tests/fuzz/corpus/NAME
 *     through the harness (replay.c), under ASan and UBSan in CI: every input that once found a
 *     bug stays a regression test;
 *   - with -DSHOPGPU_FUZZ=ON and clang, as a libFuzzer program (fuzz_NAME) that searches for new
 *     ones (tests/fuzz/run).
 * A harness must not abort on bad input: a parser refusing it is the expected outcome. It aborts
 * only where an invariant the parser promises is broken. */
#ifndef SG_TESTS_FUZZ_H
#define SG_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char sg_fuzz_paths[4][128];

static inline void sg_fuzz_remove_files(void) {
  for (int i = 0; i < 4; i++)
    if (sg_fuzz_paths[i][0]) unlink(sg_fuzz_paths[i]);
}

/* The parsers read files: writes data to this process's scratch file `slot` (0..3, one per file
 * a harness needs at once), removed at exit, and returns its path. */
static inline const char *sg_fuzz_file(int slot, const uint8_t *data, size_t size) {
  if (!sg_fuzz_paths[slot][0]) {
    const char *dir = getenv("TMPDIR");
    snprintf(sg_fuzz_paths[slot], sizeof sg_fuzz_paths[slot], "%s/sg-fuzz-%d-%d",
             dir && *dir ? dir : "/tmp", (int)getpid(), slot);
    static int registered;
    if (!registered++) atexit(sg_fuzz_remove_files);
  }
  FILE *f = fopen(sg_fuzz_paths[slot], "wb");
  if (!f) abort();
  if (size && fwrite(data, 1, size, f) != size) abort();
  if (fclose(f) != 0) abort();
  return sg_fuzz_paths[slot];
}

/* The part of data before the separator sep (*rest: what follows it, or NULL without one). */
static inline size_t sg_fuzz_split(const uint8_t *data, size_t size, const char *sep,
                                   const uint8_t **rest, size_t *rest_size) {
  size_t n = strlen(sep);
  const uint8_t *cut = memmem(data, size, sep, n);
  if (!cut) {
    *rest = NULL;
    *rest_size = 0;
    return size;
  }
  *rest = cut + n;
  *rest_size = size - (size_t)(cut - data) - n;
  return (size_t)(cut - data);
}

#endif
