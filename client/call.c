/* One gRPC call's plumbing for libshopgpu-client (a pluck completion queue per call, deadline,
 * auth metadata, batches, status, protobuf packing) and the generic unary call. Ownership rules
 * follow GRPC_CORE.md section 2: received buffers, status details and metadata arrays are ours
 * to release; send buffers are destroyed once their batch has completed. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <string.h>

#include "client_internal.h"

static gpr_timespec deadline_for(const shopgpu_client *c, int64_t timeout_ms) {
  int64_t ms = timeout_ms == SHOPGPU_TIMEOUT_DEFAULT ? c->timeout_ms : timeout_ms;
  if (ms < 0) return gpr_inf_future(GPR_CLOCK_REALTIME);
  return gpr_time_add(gpr_now(GPR_CLOCK_REALTIME), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

int shopgpu__call_start(shopgpu_client *client, const char *path, int64_t timeout_ms,
                        shopgpu__call *k, shopgpu_status *st) {
  return shopgpu__call_open(client, path, timeout_ms, 0, k, st);
}

int shopgpu__call_open(shopgpu_client *client, const char *path, int64_t timeout_ms, int next_cq,
                       shopgpu__call *k, shopgpu_status *st) {
  memset(k, 0, sizeof *k);
  if (!client || !path || path[0] != '/')
    return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                               client ? "path: must start with '/'" : "client: NULL");
  if (timeout_ms < SHOPGPU_TIMEOUT_NONE)
    return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "timeout_ms: %lld < 0",
                               (long long)timeout_ms);
  k->next_cq = next_cq;
  k->cq = next_cq ? grpc_completion_queue_create_for_next(NULL)
                  : grpc_completion_queue_create_for_pluck(NULL);
  if (!k->cq) return shopgpu__status_set(st, GRPC_STATUS_INTERNAL, "completion queue: not created");
  k->call = grpc_channel_create_call(client->channel, NULL, GRPC_PROPAGATE_DEFAULTS, k->cq,
                                     grpc_slice_from_static_string(path), NULL,
                                     deadline_for(client, timeout_ms), NULL);
  if (!k->call) {
    shopgpu__call_end(k);
    return shopgpu__status_set(st, GRPC_STATUS_INTERNAL, "call %.200s: not created", path);
  }
  if (client->auth) {
    k->md[0].key = grpc_slice_from_static_string("authorization");
    k->md[0].value = grpc_slice_from_copied_string(client->auth);
    k->n_md = 1;
  }
  return GRPC_STATUS_OK;
}

void shopgpu__call_end(shopgpu__call *k) {
  if (k->call) grpc_call_unref(k->call);
  if (k->n_md) grpc_slice_unref(k->md[0].value);
  if (k->cq) {
    gpr_timespec never = gpr_inf_future(GPR_CLOCK_REALTIME);
    grpc_completion_queue_shutdown(k->cq);
    while ((k->next_cq ? grpc_completion_queue_next(k->cq, never, NULL)
                       : grpc_completion_queue_pluck(k->cq, k, never, NULL))
               .type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(k->cq);
  }
  memset(k, 0, sizeof *k);
}

int shopgpu__batch(shopgpu__call *k, const grpc_op *ops, size_t n, shopgpu_status *st) {
  grpc_call_error e = grpc_call_start_batch(k->call, ops, n, k, NULL);
  if (e != GRPC_CALL_OK) {
    shopgpu__status_set(st, GRPC_STATUS_INTERNAL, "grpc_call_start_batch: error %d", (int)e);
    return -1;
  }
  gpr_timespec never = gpr_inf_future(GPR_CLOCK_REALTIME);
  grpc_event ev;
  if (!k->next_cq) {
    ev = grpc_completion_queue_pluck(k->cq, k, never, NULL);
  } else { /* no other batch is outstanding (see client_internal.h) */
    do
      ev = grpc_completion_queue_next(k->cq, never, NULL);
    while (ev.type == GRPC_OP_COMPLETE && ev.tag != k);
  }
  return ev.type == GRPC_OP_COMPLETE && ev.success;
}

int shopgpu__status_from(shopgpu_status *st, grpc_status_code code, grpc_slice details) {
  if (st) {
    size_t len = GRPC_SLICE_LENGTH(details);
    if (len >= sizeof st->message) len = sizeof st->message - 1;
    memcpy(st->message, GRPC_SLICE_START_PTR(details), len);
    st->message[len] = '\0';
    st->code = (int)code;
  }
  grpc_slice_unref(details);
  return (int)code;
}

/* Fills op as RECV_STATUS_ON_CLIENT writing into the given outputs. */
static void status_op(grpc_op *op, grpc_metadata_array *trailing, grpc_status_code *code,
                      grpc_slice *details, const char **error_string) {
  memset(op, 0, sizeof *op);
  op->op = GRPC_OP_RECV_STATUS_ON_CLIENT;
  op->data.recv_status_on_client.trailing_metadata = trailing;
  op->data.recv_status_on_client.status = code;
  op->data.recv_status_on_client.status_details = details;
  op->data.recv_status_on_client.error_string = error_string;
}

int shopgpu__recv_status(shopgpu__call *k, shopgpu_status *st) {
  grpc_metadata_array trailing;
  grpc_metadata_array_init(&trailing);
  grpc_status_code code = GRPC_STATUS_UNKNOWN;
  grpc_slice details = grpc_empty_slice();
  const char *error_string = NULL;
  grpc_op op;
  status_op(&op, &trailing, &code, &details, &error_string);
  int rc = shopgpu__batch(k, &op, 1, st) < 0 ? GRPC_STATUS_INTERNAL
                                             : shopgpu__status_from(st, code, details);
  gpr_free((void *)(uintptr_t)error_string);
  grpc_metadata_array_destroy(&trailing);
  return rc;
}

grpc_byte_buffer *shopgpu__pack(const ProtobufCMessage *msg) {
  size_t n = protobuf_c_message_get_packed_size(msg);
  grpc_slice s = grpc_slice_malloc(n);
  protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(s));
  grpc_byte_buffer *bb = grpc_raw_byte_buffer_create(&s, 1);
  grpc_slice_unref(s);
  return bb;
}

int shopgpu__unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc,
                    ProtobufCMessage **out, shopgpu_status *st) {
  grpc_byte_buffer_reader rd;
  if (!grpc_byte_buffer_reader_init(&rd, bb))
    return shopgpu__status_set(st, GRPC_STATUS_INTERNAL, "response: cannot read %s", desc->name);
  grpc_slice s = grpc_byte_buffer_reader_readall(&rd);
  *out = protobuf_c_message_unpack(desc, NULL, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
  grpc_slice_unref(s);
  grpc_byte_buffer_reader_destroy(&rd);
  if (!*out)
    return shopgpu__status_set(st, GRPC_STATUS_INTERNAL, "response: cannot decode %s", desc->name);
  return GRPC_STATUS_OK;
}

int shopgpu__finish(shopgpu__call *k, int close, grpc_byte_buffer **recv, shopgpu_status *st) {
  grpc_metadata_array initial, trailing;
  grpc_metadata_array_init(&initial);
  grpc_metadata_array_init(&trailing);
  grpc_status_code code = GRPC_STATUS_UNKNOWN;
  grpc_slice details = grpc_empty_slice();
  const char *error_string = NULL;
  grpc_op ops[4];
  size_t n = 0;
  memset(ops, 0, sizeof ops);
  if (close) ops[n++].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[n++].data.recv_initial_metadata.recv_initial_metadata = &initial;
  grpc_byte_buffer *unwanted = NULL;
  ops[n].op = GRPC_OP_RECV_MESSAGE;
  ops[n++].data.recv_message.recv_message = recv ? recv : &unwanted;
  status_op(&ops[n++], &trailing, &code, &details, &error_string);
  int rc = shopgpu__batch(k, ops, n, st) < 0 ? GRPC_STATUS_INTERNAL
                                             : shopgpu__status_from(st, code, details);
  if (unwanted) grpc_byte_buffer_destroy(unwanted);
  gpr_free((void *)(uintptr_t)error_string);
  grpc_metadata_array_destroy(&initial);
  grpc_metadata_array_destroy(&trailing);
  return rc;
}

/* The six ops of a unary call, writing into the given outputs. */
typedef struct unary_io {
  grpc_byte_buffer *send, *recv;
  grpc_metadata_array initial, trailing;
  grpc_status_code code;
  grpc_slice details;
  const char *error_string;
} unary_io;

static int run_unary(shopgpu__call *k, unary_io *io, shopgpu_status *st) {
  grpc_op ops[6];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count = k->n_md;
  ops[0].data.send_initial_metadata.metadata = k->md;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = io->send;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &io->initial;
  ops[4].op = GRPC_OP_RECV_MESSAGE;
  ops[4].data.recv_message.recv_message = &io->recv;
  status_op(&ops[5], &io->trailing, &io->code, &io->details, &io->error_string);
  if (shopgpu__batch(k, ops, 6, st) < 0) return GRPC_STATUS_INTERNAL;
  return shopgpu__status_from(st, io->code, io->details);
}

int shopgpu_call_unary(shopgpu_client *client, const char *path, const ProtobufCMessage *request,
                       const ProtobufCMessageDescriptor *response_desc, ProtobufCMessage **response,
                       int64_t timeout_ms, shopgpu_status *status) {
  if (response) *response = NULL;
  if (!request || !response_desc || !response)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT,
                               "request, response_desc and response: must not be NULL");
  shopgpu__call k;
  int rc = shopgpu__call_start(client, path, timeout_ms, &k, status);
  if (rc != GRPC_STATUS_OK) return rc;
  unary_io io = {.code = GRPC_STATUS_UNKNOWN, .details = grpc_empty_slice()};
  grpc_metadata_array_init(&io.initial);
  grpc_metadata_array_init(&io.trailing);
  io.send = shopgpu__pack(request);
  rc = run_unary(&k, &io, status);
  if (rc == GRPC_STATUS_OK && !io.recv)
    rc = shopgpu__status_set(status, GRPC_STATUS_INTERNAL, "response: OK without a message");
  else if (rc == GRPC_STATUS_OK)
    rc = shopgpu__unpack(io.recv, response_desc, response, status);
  if (io.recv) grpc_byte_buffer_destroy(io.recv);
  grpc_byte_buffer_destroy(io.send);
  gpr_free((void *)(uintptr_t)io.error_string);
  grpc_metadata_array_destroy(&io.initial);
  grpc_metadata_array_destroy(&io.trailing);
  shopgpu__call_end(&k);
  return rc;
}
