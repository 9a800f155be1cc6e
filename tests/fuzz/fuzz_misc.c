/* Byte 0 (mod 3) picks: 0 the Redis recommendation blob decoder (shopgpu_rec_decode, room for
 * 0..8 items); 1 the date parser, whose result must format back to itself; 2 the CLI's JSON
 * writer on arbitrary bytes (strings, base64, doubles and floats). */
#include "fuzz.h"
#include "json.h"
#include "shopgpu_rec.h"
#include "shopgpu_ts.h"

static void rec(const uint8_t *data, size_t size) {
  uint32_t items[8];
  float scores[8];
  shopgpu_rec r = {items, scores, (uint32_t)(size % 9), 0, 0, 0, 0, 0, ""};
  uint8_t *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
  if (!copy) abort();
  memcpy(copy, data, size);
  shopgpu_rec_decode(copy, size, &r);
  free(copy);
}

static void date(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) abort();
  memcpy(s, data, size);
  s[size] = 0;
  int64_t v = 0, w = 0;
  int f = shopgpu_ds_parse(s, &v);
  if (f >= 0) {
    char buf[32];
    shopgpu_ds_format_text(buf, sizeof buf, f, v);
    if (shopgpu_ds_parse(buf, &w) != f || w != v) {
      fprintf(stderr, "date %s formats as %s, which parses otherwise\n", s, buf);
      abort();
    }
  }
  free(s);
}

static void json(const uint8_t *data, size_t size) {
  FILE *out = fopen("/dev/null", "w");
  if (!out) abort();
  char *s = malloc(size + 1);
  if (!s) abort();
  memcpy(s, data, size);
  s[size] = 0;
  sg__json j;
  sg__json_init(&j, out);
  sg__json_begin_object(&j);
  sg__json_key(&j, s);
  sg__json_string_n(&j, s, size);
  sg__json_base64(&j, data, size);
  double d = 0;
  float fl = 0;
  if (size >= 8) memcpy(&d, data, 8);
  if (size >= 4) memcpy(&fl, data, 4);
  sg__json_double(&j, d);
  sg__json_float(&j, fl);
  char b[32];
  sg__double_text(b, sizeof b, d);
  sg__float_text(b, sizeof b, fl);
  sg__json_end_object(&j);
  sg__json_finish(&j);
  free(s);
  fclose(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  switch (data[0] % 3) {
  case 0: rec(data + 1, size - 1); break;
  case 1: date(data + 1, size - 1); break;
  default: json(data + 1, size - 1); break;
  }
  return 0;
}
