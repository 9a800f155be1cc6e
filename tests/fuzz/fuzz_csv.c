/* CSV readers of the CLI: the id-pair reader (shopgpu_ids_csv_*) and the generic table reader
 * (shopgpu_csv_*). Byte 0 picks: bit 0 the id-pair reader (bit 1: with a label column, bits 2..6:
 * rows per read - 1, bit 7: no label buffer) or the generic one (bit 1: a field limit of 64
 * bytes, bit 2: empty numbers allowed); the rest is the file. */
#include "fuzz.h"
#include "shopgpu_io.h"

static void ids(unsigned mode, const char *path) {
  shopgpu_status st = {0};
  shopgpu_ids_csv *r = shopgpu_ids_csv_open(path, (mode >> 1) & 1, &st);
  if (!r) return;
  size_t cap = 1 + ((mode >> 2) & 31);
  uint64_t *u = malloc(cap * 8), *it = malloc(cap * 8);
  uint32_t *lab = malloc(cap * 4);
  if (!u || !it || !lab) abort();
  for (;;) {
    long got = shopgpu_ids_csv_read(r, u, it, (mode & 128) ? NULL : lab, cap, &st);
    if (got <= 0) break;
    if ((size_t)got > cap) abort();
  }
  (void)shopgpu_ids_csv_has_label(r);
  (void)shopgpu_ids_csv_line(r);
  free(u), free(it), free(lab);
  shopgpu_ids_csv_close(r);
}

static void table(unsigned mode, const char *path) {
  shopgpu_status st = {0};
  shopgpu_csv *c = shopgpu_csv_open(path, (mode & 2) ? 64 : 0, &st);
  if (!c) return;
  int nc = shopgpu_csv_columns(c);
  for (int i = 0; i < nc; i++) /* every column is found by its own name (the first of equals) */
    if (shopgpu_csv_find(c, shopgpu_csv_column_name(c, i)) < 0) abort();
  while (shopgpu_csv_next(c, &st) > 0) {
    for (int i = 0; i < nc; i++) {
      double v;
      volatile size_t l = strlen(shopgpu_csv_field(c, i));
      (void)l;
      shopgpu_csv_number(c, i, mode & 4, &v, &st);
    }
    shopgpu_csv_error(c, nc - 1, &st, "field %d", nc - 1);
  }
  shopgpu_csv_close(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *path = sg_fuzz_file(0, data + 1, size - 1);
  if (data[0] & 1)
    ids(data[0], path);
  else
    table(data[0], path);
  return 0;
}
