/* Any protobuf-c message as JSON, driven by its descriptor, so every CLI command gets --json
 * from its response type alone. Field storage follows protobuf-c's layout: the value at
 * `offset`; for repeated fields a count (size_t) at `quantifier_offset` and an array pointer at
 * `offset`; for optional scalars a has_ flag, for oneof members the case (uint32) there. */
#include <string.h>

#include "json.h"

/* Bytes one value of this type takes in a message or repeated array. */
static size_t value_size(ProtobufCType type) {
  switch (type) {
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64: return sizeof(uint64_t);
  case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
  case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
  case PROTOBUF_C_TYPE_ENUM: return sizeof(int);
  case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
  case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
  case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
  default: return sizeof(uint32_t); /* int32, sint32, sfixed32, uint32, fixed32, float */
  }
}

static void write_enum(sg__json *j, const ProtobufCFieldDescriptor *f, int v) {
  const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
  if (ev)
    sg__json_string(j, ev->name);
  else
    sg__json_int(j, v); /* a value this build does not know */
}

static void write_value(sg__json *j, const ProtobufCFieldDescriptor *f, const void *p) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32:
  case PROTOBUF_C_TYPE_SINT32:
  case PROTOBUF_C_TYPE_SFIXED32: sg__json_int(j, *(const int32_t *)p); break;
  case PROTOBUF_C_TYPE_UINT32:
  case PROTOBUF_C_TYPE_FIXED32: sg__json_uint(j, *(const uint32_t *)p); break;
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64: sg__json_int(j, *(const int64_t *)p); break;
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64: sg__json_uint(j, *(const uint64_t *)p); break;
  case PROTOBUF_C_TYPE_FLOAT: sg__json_double(j, *(const float *)p); break;
  case PROTOBUF_C_TYPE_DOUBLE: sg__json_double(j, *(const double *)p); break;
  case PROTOBUF_C_TYPE_BOOL: sg__json_bool(j, *(const protobuf_c_boolean *)p); break;
  case PROTOBUF_C_TYPE_ENUM: write_enum(j, f, *(const int *)p); break;
  case PROTOBUF_C_TYPE_STRING: sg__json_string(j, *(const char *const *)p); break;
  case PROTOBUF_C_TYPE_BYTES: {
    const ProtobufCBinaryData *b = p;
    sg__json_base64(j, b->data, b->len);
    break;
  }
  case PROTOBUF_C_TYPE_MESSAGE:
    if (j->depth >= SG_JSON_MAX_DEPTH)
      sg__json_null(j); /* deeper than any of our APIs */
    else
      sg__json_message(j, *(const ProtobufCMessage *const *)p);
    break;
  }
}

/* Whether a non-repeated field is written: oneof members and optional scalars only when set. */
static int present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
  const char *q = (const char *)m + f->quantifier_offset;
  if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) return *(const uint32_t *)q == f->id;
  if (f->label != PROTOBUF_C_LABEL_OPTIONAL) return 1;
  if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING)
    return *(const void *const *)((const char *)m + f->offset) != NULL;
  return *(const protobuf_c_boolean *)q;
}

static void write_repeated(sg__json *j, const ProtobufCMessage *m,
                           const ProtobufCFieldDescriptor *f) {
  size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
  const char *arr = *(const char *const *)((const char *)m + f->offset);
  size_t size = value_size(f->type);
  sg__json_begin_array(j);
  for (size_t i = 0; i < n; i++)
    write_value(j, f, arr + i * size);
  sg__json_end_array(j);
}

void sg__json_message(sg__json *j, const ProtobufCMessage *msg) {
  if (!msg) {
    sg__json_null(j);
    return;
  }
  const ProtobufCMessageDescriptor *d = msg->descriptor;
  sg__json_begin_object(j);
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      sg__json_key(j, f->name);
      write_repeated(j, msg, f);
    } else if (present(msg, f)) {
      sg__json_key(j, f->name);
      write_value(j, f, (const char *)msg + f->offset);
    }
  }
  sg__json_end_object(j);
}
