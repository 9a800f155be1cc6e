/* A tiny streaming JSON writer for the shopgpu CLI: compact output, commas placed for you,
 * strings escaped per RFC 8259 (invalid UTF-8 becomes U+FFFD), non-finite numbers as null,
 * bytes as base64. sg__json_message writes any protobuf-c message (json_pb.c). */
#ifndef SG_CLI_JSON_H
#define SG_CLI_JSON_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SG_JSON_MAX_DEPTH 32

typedef struct sg__json {
  FILE *out;
  int depth;                                      /* open objects/arrays */
  int after_key;                                  /* a key was written: the value needs no comma */
  unsigned char has_items[SG_JSON_MAX_DEPTH + 1]; /* per level: 1 once an item was written */
} sg__json;

void sg__json_init(sg__json *j, FILE *out);
void sg__json_begin_object(sg__json *j);
void sg__json_end_object(sg__json *j);
void sg__json_begin_array(sg__json *j);
void sg__json_end_array(sg__json *j);
/* Object key; the next call writes its value. */
void sg__json_key(sg__json *j, const char *key);
/* NUL-terminated string; NULL writes null. */
void sg__json_string(sg__json *j, const char *s);
void sg__json_string_n(sg__json *j, const char *s, size_t n);
void sg__json_base64(sg__json *j, const uint8_t *data, size_t n);
void sg__json_int(sg__json *j, int64_t v);
void sg__json_uint(sg__json *j, uint64_t v);
void sg__json_double(sg__json *j, double v);
/* A float32 value in the fewest digits that read back as the same float (0.1f is 0.1). */
void sg__json_float(sg__json *j, float v);
void sg__json_bool(sg__json *j, int v);
void sg__json_null(sg__json *j);
/* The text sg__json_float writes: the shortest of %.6g .. %.9g that reads back as v ("nan",
 * "inf" for those). */
void sg__float_text(char *buf, size_t size, float v);
/* The shortest of %.15g, %.16g, %.17g that reads back as v ("nan", "inf", "-inf" for those);
 * 32 bytes suffice. */
void sg__double_text(char *buf, size_t size, double v);
/* Ends the document with a newline. */
void sg__json_finish(sg__json *j);

/* Writes msg as an object keyed by the proto field names (snake_case): every proto3 field,
 * set or default; oneof and optional fields only when set; unset messages as null; enums by
 * name; 64-bit integers as numbers; bytes as base64. NULL writes null. */
void sg__json_message(sg__json *j, const ProtobufCMessage *msg);

#endif
