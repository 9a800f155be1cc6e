/* libshopgpu-client's file readers and blob decoder on their own: id CSVs (header, column count,
 * ids, labels, blank lines, CRLF, chunked reads) and .npy files written byte by byte here
 * (versions 1-3, float32 and float64 against their own values, NaN, wrong dtype, Fortran order,
 * 3-D, truncated and overlong files), and shopgpu_rec_decode on hand-made blobs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shopgpu_io.h"
#include "shopgpu_rec.h"

static char dir[] = "/tmp/shopgpu-io-XXXXXX";

static void make_dir(void) { cr_assert_not_null(mkdtemp(dir)); }

static void remove_dir(void) {
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(io, .init = make_dir, .fini = remove_dir);

/* dir/name holding len bytes of data; returns the path (static). */
static const char *file_with(const char *name, const void *data, size_t len) {
  static char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  if (len) fwrite(data, 1, len, f);
  fclose(f);
  return path;
}

static const char *text_file(const char *name, const char *text) {
  return file_with(name, text, strlen(text));
}

/* ---- CSV ---- */

/* Opens text as a CSV and reads it whole; returns rows read or -1, the error in st. */
static long read_csv(const char *text, int with_label, uint64_t *u, uint64_t *i, uint32_t *l,
                     shopgpu_status *st) {
  shopgpu_ids_csv *r = shopgpu_ids_csv_open(text_file("in.csv", text), with_label, st);
  if (!r) return -2;
  long total = 0, n;
  while ((n = shopgpu_ids_csv_read(r, u + total, i + total, l ? l + total : NULL, 2, st)) > 0)
    total += n;
  shopgpu_ids_csv_close(r);
  return n < 0 ? -1 : total;
}

Test(io, csv_reads_ids_and_labels_in_chunks_with_crlf_bom_and_blank_lines) {
  uint64_t u[8], i[8];
  uint32_t l[8];
  shopgpu_status st;
  long n = read_csv("\xEF\xBB\xBFuser_id,item_id,label\r\n1,2,1\r\n\r\n18446744073709551615, 7 ,0\n"
                    "3,4,1",
                    1, u, i, l, &st);
  cr_assert_eq(n, 3, "%s", st.message);
  cr_expect(u[0] == 1 && i[0] == 2 && l[0] == 1);
  cr_expect(u[1] == UINT64_MAX && i[1] == 7 && l[1] == 0, "the largest id, spaces around a field");
  cr_expect(u[2] == 3 && i[2] == 4 && l[2] == 1, "no newline at the end");
  shopgpu_ids_csv *r = shopgpu_ids_csv_open(text_file("p.csv", "user_id,item_id\n5,6\n"), 1, &st);
  cr_assert_not_null(r);
  cr_expect_eq(shopgpu_ids_csv_has_label(r), 0);
  cr_expect_eq(shopgpu_ids_csv_read(r, u, i, NULL, 8, &st), 1);
  cr_expect_eq(shopgpu_ids_csv_read(r, u, i, NULL, 8, &st), 0, "0 at the end");
  cr_expect_eq(shopgpu_ids_csv_read(r, u, i, NULL, 8, &st), 0, "and from then on");
  shopgpu_ids_csv_close(r);
  cr_expect_eq(read_csv("user_id,item_id,timestamp\n1,2,1260759144\n", 1, u, i, l, &st), 1,
               "a timestamp column is accepted: %s", st.message);
  cr_expect_eq(read_csv("user_id,item_id\n", 0, u, i, NULL, &st), 0, "a header alone");
}

/* text must fail (open or read) with a message holding want. */
static void csv_fails(const char *text, int with_label, const char *want) {
  uint64_t u[8], i[8];
  uint32_t l[8];
  shopgpu_status st = {0, ""};
  long n = read_csv(text, with_label, u, i, l, &st);
  cr_expect_lt(n, 0, "accepted: %s", text);
  cr_expect_eq(st.code, 3, "INVALID_ARGUMENT for %s", text);
  cr_expect_neq(strstr(st.message, want), NULL, "\"%s\" lacks \"%s\"", st.message, want);
}

Test(io, csv_errors_name_the_file_line_and_column) {
  csv_fails("1,2\n3,4\n", 1, "in.csv:1: missing header: expected user_id,item_id[,label]");
  csv_fails("", 0, "in.csv: empty: expected a header user_id,item_id");
  csv_fails("item_id,user_id\n1,2\n", 0, "in.csv:1: header \"item_id,user_id\": expected");
  csv_fails("user_id,item_id,label\n1,2\n", 0, "header \"user_id,item_id,label\"");
  csv_fails("user_id,item_id\n1,2\n3\n", 0, "in.csv:3: 1 fields, the header has 2");
  csv_fails("user_id,item_id\n1,2,3\n", 0, "in.csv:2: 3 fields, the header has 2");
  csv_fails("user_id,item_id\n1,2\nx,4\n", 0,
            "in.csv:3: column 1 (user_id): \"x\" is not an unsigned integer");
  csv_fails("user_id,item_id\n1,-2\n", 0, "in.csv:2: column 2 (item_id): \"-2\"");
  csv_fails("user_id,item_id\n1,2.5\n", 0, "column 2 (item_id): \"2.5\" is not");
  csv_fails("user_id,item_id\n18446744073709551616,1\n", 0, "column 1 (user_id)");
  csv_fails("user_id,item_id\n1,\n", 0, "column 2 (item_id): \"\" is not");
  csv_fails("user_id,item_id,label\n1,2,1\n1,3,2\n", 1,
            "in.csv:3: column 3 (label): 2 is not 0 or 1");
  char long_line[6000];
  memset(long_line, '1', sizeof long_line - 1);
  long_line[sizeof long_line - 1] = '\0';
  memcpy(long_line, "user_id,item_id\n", 16);
  csv_fails(long_line, 0, "in.csv:2: line longer than 4096 bytes");
  shopgpu_status st;
  cr_expect_null(shopgpu_ids_csv_open("/nonexistent/x.csv", 0, &st));
  cr_expect_neq(strstr(st.message, "/nonexistent/x.csv: cannot open"), NULL, "%s", st.message);
}

Test(io, csv_refuses_a_nul_byte_instead_of_cutting_the_field_short) {
  static const char text[] = "user_id,item_id\n1,2\n3,4\0"
                             "5\n";
  shopgpu_status st = {0, ""};
  shopgpu_ids_csv *r = shopgpu_ids_csv_open(file_with("nul.csv", text, sizeof text - 1), 0, &st);
  cr_assert_not_null(r, "%s", st.message);
  uint64_t u[4], i[4];
  long n = shopgpu_ids_csv_read(r, u, i, NULL, 4, &st);
  shopgpu_ids_csv_close(r);
  cr_expect_lt(n, 0, "item 4\\05 read as 4");
  cr_expect_neq(strstr(st.message, "nul.csv:3: a NUL byte at byte 4"), NULL, "%s", st.message);
}

/* ---- .npy ---- */

/* A .npy file: version major.0, header dict, data. */
static const char *npy_file(const char *name, int major, const char *dict, const void *data,
                            size_t len) {
  size_t pre = major == 1 ? 10 : 12, n = strlen(dict) + 1, pad = (64 - (pre + n) % 64) % 64;
  size_t hlen = n + pad, total = pre + hlen + len;
  unsigned char *buf = calloc(1, total);
  memcpy(buf, "\x93NUMPY", 6);
  buf[6] = (unsigned char)major;
  for (size_t k = 0; k < pre - 8; k++)
    buf[8 + k] = (unsigned char)(hlen >> (8 * k));
  memcpy(buf + pre, dict, n - 1);
  memset(buf + pre + n - 1, ' ', pad);
  buf[pre + hlen - 1] = '\n';
  if (len) memcpy(buf + pre + hlen, data, len);
  const char *path = file_with(name, buf, total);
  free(buf);
  return path;
}

Test(io, npy_reads_float32_and_converts_float64_for_every_version) {
  float f[6] = {1.5f, -2.25f, 3e-5f, 4, 5, 6};
  double d[6] = {0.1, -1e30, 2, 3, 4, 1e-40};
  shopgpu_status st;
  for (int major = 1; major <= 3; major++) {
    shopgpu_npy *a = shopgpu_npy_open(
        npy_file("f.npy", major, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f,
                 sizeof f),
        &st);
    cr_assert_not_null(a, "version %d: %s", major, st.message);
    cr_expect(shopgpu_npy_ndim(a) == 2 && shopgpu_npy_rows(a) == 3 && shopgpu_npy_cols(a) == 2);
    float out[6];
    cr_assert_eq(shopgpu_npy_read(a, out, 1, &st), 0, "%s", st.message);
    cr_assert_eq(shopgpu_npy_read(a, out + 2, 2, &st), 0, "%s", st.message);
    cr_expect_eq(memcmp(out, f, sizeof f), 0, "float32 read as written");
    cr_expect_neq(shopgpu_npy_read(a, out, 1, &st), 0, "past the last row");
    shopgpu_npy_close(a);
  }
  shopgpu_npy *b = shopgpu_npy_open(
      npy_file("d.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", d,
               sizeof d),
      &st);
  cr_assert_not_null(b, "%s", st.message);
  cr_expect(shopgpu_npy_ndim(b) == 1 && shopgpu_npy_rows(b) == 6 && shopgpu_npy_cols(b) == 1);
  float out[6];
  cr_assert_eq(shopgpu_npy_read(b, out, 6, &st), 0, "%s", st.message);
  for (int k = 0; k < 6; k++)
    cr_expect_eq(out[k], (float)d[k], "value %d", k);
  shopgpu_npy_close(b);
}

/* The file must fail to open, or its first read must fail, with want in the message. */
static void npy_fails(const char *dict, const void *data, size_t len, const char *want) {
  shopgpu_status st = {0, ""};
  shopgpu_npy *a = shopgpu_npy_open(npy_file("bad.npy", 1, dict, data, len), &st);
  float out[64];
  int rc = a ? shopgpu_npy_read(a, out, shopgpu_npy_rows(a), &st) : st.code;
  shopgpu_npy_close(a);
  cr_expect_neq(rc, 0, "accepted: %s", dict);
  cr_expect_neq(strstr(st.message, want), NULL, "\"%s\" lacks \"%s\"", st.message, want);
  cr_expect_eq(strncmp(st.message, dir, strlen(dir)), 0, "names the file: %s", st.message);
}

Test(io, npy_rejects_nan_wrong_dtype_order_shape_and_size) {
  float nan[4] = {1, 2, NAN, 4}, inf[2] = {INFINITY, 1};
  double big[2] = {1, 1e300};
  int32_t ints[4] = {1, 2, 3, 4};
  npy_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", nan, sizeof nan,
            "bad.npy: [1, 0] is nan");
  npy_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", inf, sizeof inf,
            "bad.npy: [0] is inf");
  npy_fails("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", big, sizeof big,
            "[1] = 1e+300 is outside float32's range");
  npy_fails("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", ints, sizeof ints,
            "dtype '<i4': expected little-endian float32 '<f4' or float64 '<f8'");
  npy_fails("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", ints, sizeof ints,
            "dtype '>f4'");
  npy_fails("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", ints, sizeof ints,
            "fortran_order: the array must be in C order");
  npy_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }", ints, sizeof ints,
            "a 3-D array: expected 1-D or 2-D");
  npy_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", ints, 4, "a 0-D array");
  npy_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", ints, sizeof ints,
            "truncated: 16 bytes of data, 24 expected for 3 x 2 values");
  npy_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", ints, sizeof ints,
            "4 bytes after the 12 its shape holds");
  npy_fails("{'descr': '<f4', 'shape': (4,), }", ints, sizeof ints, "no 'fortran_order'");
  /* found by fuzzing: "-1" was read as 2^64 - 1 rows (with 0 columns, a file with no data
   * passed the size check); a sign or a missing comma was taken too */
  npy_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 0), }", ints, 0,
            "header: bad 'shape'");
  npy_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (0, -1), }", ints, 0,
            "header: bad 'shape'");
  npy_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (+2, 2), }", ints, sizeof ints,
            "header: bad 'shape'");
  npy_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (2 2), }", ints, sizeof ints,
            "header: bad 'shape'");
  shopgpu_status st;
  cr_expect_null(shopgpu_npy_open(file_with("x.npy", "NUMPY\x01\x00", 8), &st));
  cr_expect_neq(strstr(st.message, "not a .npy file"), NULL, "%s", st.message);
  cr_expect_null(shopgpu_npy_open(file_with("y.npy", "\x93NUMPY\x01\x00\x40\x00", 10), &st));
  cr_expect_neq(strstr(st.message, "truncated header"), NULL, "%s", st.message);
}

/* ---- recommendation blobs ---- */

/* A blob of version 7, published at 1234567890123 ms, k entries (item 100 + i, score 1 / (i+1)). */
static size_t make_blob(unsigned char *b, uint32_t k) {
  uint32_t magic = SHOPGPU_REC_MAGIC, version = 7;
  uint16_t format = 1, flags = 0;
  uint64_t at = 1234567890123ULL;
  memcpy(b, &magic, 4), memcpy(b + 4, &format, 2), memcpy(b + 6, &flags, 2);
  memcpy(b + 8, &version, 4), memcpy(b + 12, &at, 8), memcpy(b + 20, &k, 4);
  for (uint32_t i = 0; i < k; i++) {
    uint32_t item = 100 + i;
    float score = 1.0f / (float)(i + 1);
    memcpy(b + 24 + 8 * i, &item, 4), memcpy(b + 28 + 8 * i, &score, 4);
  }
  return 24 + 8 * (size_t)k;
}

Test(io, rec_decode_fills_up_to_capacity_and_misses_bad_blobs) {
  unsigned char b[24 + 8 * 5];
  size_t len = make_blob(b, 5);
  uint32_t items[3];
  float scores[3];
  shopgpu_rec rec = {.items = items, .scores = scores, .capacity = 3};
  cr_assert_eq(shopgpu_rec_decode(b, len, &rec), SHOPGPU_REC_FOUND, "%s", rec.reason);
  cr_expect(rec.model_version == 7 && rec.published_at_ms == 1234567890123ULL);
  cr_expect(rec.total == 5 && rec.k == 3, "the first 3 of 5");
  cr_expect(items[0] == 100 && items[2] == 102 && scores[1] == 0.5f);
  cr_expect_str_eq(rec.reason, "");
  cr_expect_eq(rec.flags, 0);
  b[6] = SHOPGPU_REC_COMPLETE;
  cr_assert_eq(shopgpu_rec_decode(b, len, &rec), SHOPGPU_REC_FOUND, "%s", rec.reason);
  cr_expect_eq(rec.flags, SHOPGPU_REC_COMPLETE, "the complete flag is read");
  b[6] = 0;
  cr_expect_eq(shopgpu_rec_decode(b, len - 1, &rec), SHOPGPU_REC_MISS);
  cr_expect_neq(strstr(rec.reason, "63 bytes for k = 5 (64 expected)"), NULL, "%s", rec.reason);
  cr_expect_eq(rec.k, 0, "nothing found");
  cr_expect_eq(shopgpu_rec_decode(b, 10, &rec), SHOPGPU_REC_MISS);
  b[4] = 2;
  cr_expect_eq(shopgpu_rec_decode(b, len, &rec), SHOPGPU_REC_MISS);
  cr_expect_neq(strstr(rec.reason, "format 2"), NULL, "%s", rec.reason);
  b[4] = 1, b[0] ^= 0xff;
  cr_expect_eq(shopgpu_rec_decode(b, len, &rec), SHOPGPU_REC_MISS);
  cr_expect_neq(strstr(rec.reason, "magic"), NULL, "%s", rec.reason);
  cr_expect_eq(shopgpu_rec_decode(b, make_blob(b, 0), &rec), SHOPGPU_REC_FOUND, "an empty list");
  cr_expect_eq(rec.k, 0);
}
