/* The CLI's JSON writer: separators, string escaping with UTF-8 validation, numbers, base64.
 * Invariant: has_items[depth] says whether the innermost open container already holds an item,
 * i.e. whether the next item needs a comma. */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/common/utf8.h"

void sg__json_init(sg__json *j, FILE *out) {
  j->out = out;
  j->depth = 0;
  j->after_key = 0;
  j->has_items[0] = 0;
}

/* Writes the comma an item needs (none right after a key). */
static void item(sg__json *j) {
  if (j->after_key) {
    j->after_key = 0;
    return;
  }
  if (j->has_items[j->depth]) fputc(',', j->out);
  j->has_items[j->depth] = 1;
}

static void open_container(sg__json *j, char c) {
  item(j);
  fputc(c, j->out);
  if (j->depth < SG_JSON_MAX_DEPTH) j->depth++;
  j->has_items[j->depth] = 0;
}

static void close_container(sg__json *j, char c) {
  fputc(c, j->out);
  if (j->depth > 0) j->depth--;
}

void sg__json_begin_object(sg__json *j) { open_container(j, '{'); }
void sg__json_end_object(sg__json *j) { close_container(j, '}'); }
void sg__json_begin_array(sg__json *j) { open_container(j, '['); }
void sg__json_end_array(sg__json *j) { close_container(j, ']'); }

static void write_escaped(FILE *out, const unsigned char *s, size_t n) {
  fputc('"', out);
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t len = sg_utf8_seq_len(s + i, n - i);
    if (len == 0) {
      fputs("\\ufffd", out);
      i++;
      continue;
    }
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", (int)c);
    else if (c == '\n')
      fputs("\\n", out);
    else if (c == '\r')
      fputs("\\r", out);
    else if (c == '\t')
      fputs("\\t", out);
    else if (c < 0x20)
      fprintf(out, "\\u%04x", c);
    else
      fwrite(s + i, 1, len, out);
    i += len;
  }
  fputc('"', out);
}

void sg__json_key(sg__json *j, const char *key) {
  item(j);
  write_escaped(j->out, (const unsigned char *)key, strlen(key));
  fputc(':', j->out);
  j->after_key = 1;
}

void sg__json_string_n(sg__json *j, const char *s, size_t n) {
  item(j);
  write_escaped(j->out, (const unsigned char *)s, n);
}

void sg__json_string(sg__json *j, const char *s) {
  if (!s)
    sg__json_null(j);
  else
    sg__json_string_n(j, s, strlen(s));
}

void sg__json_base64(sg__json *j, const uint8_t *data, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  item(j);
  fputc('"', j->out);
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)data[i] << 16;
    if (i + 1 < n) v |= (uint32_t)data[i + 1] << 8;
    if (i + 2 < n) v |= data[i + 2];
    fputc(tab[v >> 18 & 63], j->out);
    fputc(tab[v >> 12 & 63], j->out);
    fputc(i + 1 < n ? tab[v >> 6 & 63] : '=', j->out);
    fputc(i + 2 < n ? tab[v & 63] : '=', j->out);
  }
  fputc('"', j->out);
}

void sg__json_int(sg__json *j, int64_t v) {
  item(j);
  fprintf(j->out, "%" PRId64, v);
}

void sg__json_uint(sg__json *j, uint64_t v) {
  item(j);
  fprintf(j->out, "%" PRIu64, v);
}

void sg__double_text(char *buf, size_t size, double v) {
  if (!isfinite(v)) {
    snprintf(buf, size, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
}

void sg__json_double(sg__json *j, double v) {
  if (!isfinite(v)) {
    sg__json_null(j);
    return;
  }
  char buf[32];
  sg__double_text(buf, sizeof buf, v);
  item(j);
  fputs(buf, j->out);
}

void sg__float_text(char *buf, size_t size, float v) {
  for (int prec = 6; prec <= 9; prec++) {
    snprintf(buf, size, "%.*g", prec, (double)v);
    if (strtof(buf, NULL) == v) break;
  }
}

void sg__json_float(sg__json *j, float v) {
  if (!isfinite(v)) {
    sg__json_null(j);
    return;
  }
  char buf[32];
  sg__float_text(buf, sizeof buf, v);
  item(j);
  fputs(buf, j->out);
}

void sg__json_bool(sg__json *j, int v) {
  item(j);
  fputs(v ? "true" : "false", j->out);
}

void sg__json_null(sg__json *j) {
  item(j);
  fputs("null", j->out);
}

void sg__json_finish(sg__json *j) {
  fputc('\n', j->out);
  fflush(j->out);
}
