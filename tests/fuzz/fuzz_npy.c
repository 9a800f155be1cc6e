/* .npy matrices (shopgpu_npy_open / shopgpu_npy_read), read in chunks of 1 to 3 rows. */
#include "fuzz.h"
#include "shopgpu_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  shopgpu_status st = {0};
  shopgpu_npy *f = shopgpu_npy_open(sg_fuzz_file(0, data, size), &st);
  if (!f) return 0;
  uint64_t rows = shopgpu_npy_rows(f), cols = shopgpu_npy_cols(f);
  (void)shopgpu_npy_ndim(f);
  /* a header that promises more than the file holds is refused at open */
  if (rows && cols && rows > (uint64_t)size / 4 / cols) abort();
  if (cols > 0) {
    size_t chunk = 1 + size % 3;
    float *out = malloc(chunk * cols * sizeof *out);
    if (!out) abort();
    for (uint64_t r = 0; r < rows; r += chunk) {
      size_t m = rows - r < chunk ? (size_t)(rows - r) : chunk;
      if (shopgpu_npy_read(f, out, m, &st) != 0) break;
    }
    free(out);
  }
  shopgpu_npy_close(f);
  return 0;
}
