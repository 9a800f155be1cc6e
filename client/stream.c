/* Streaming calls for libshopgpu-client. Server stream: {send initial metadata, request, close,
 * receive initial metadata}, then one RECV_MESSAGE at a time until the end of the stream, then
 * the status. Client stream: initial metadata, one SEND_MESSAGE at a time, then {close, receive
 * the response and the status}. A caller that stops a stream gets CANCELLED. */
#include <grpc/byte_buffer.h>
#include <string.h>

#include "client_internal.h"

/* {SIM, SEND_MESSAGE(request), SEND_CLOSE, RECV_INITIAL_METADATA}: 1 ok, 0 broken, -1 refused */
static int open_server_stream(shopgpu__call *k, const ProtobufCMessage *request,
                              shopgpu_status *st) {
  grpc_metadata_array initial;
  grpc_metadata_array_init(&initial);
  grpc_byte_buffer *bb = shopgpu__pack(request);
  grpc_op ops[4];
  memset(ops, 0, sizeof ops);
  ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
  ops[0].data.send_initial_metadata.count = k->n_md;
  ops[0].data.send_initial_metadata.metadata = k->md;
  ops[1].op = GRPC_OP_SEND_MESSAGE;
  ops[1].data.send_message.send_message = bb;
  ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
  ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
  ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
  int ok = shopgpu__batch(k, ops, 4, st);
  grpc_byte_buffer_destroy(bb);
  grpc_metadata_array_destroy(&initial);
  return ok;
}

/* Next message, or NULL at the end of the stream (or when the call broke). */
static grpc_byte_buffer *recv_message(shopgpu__call *k, shopgpu_status *st) {
  grpc_byte_buffer *bb = NULL;
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_RECV_MESSAGE;
  op.data.recv_message.recv_message = &bb;
  if (shopgpu__batch(k, &op, 1, st) <= 0 && bb) {
    grpc_byte_buffer_destroy(bb);
    bb = NULL;
  }
  return bb;
}

/* Reads the whole stream, handing each message to fn until it asks to stop; after a stop or
 * an undecodable message the call is cancelled and the rest is drained. Returns 0, the local
 * error code, or -1 when the callback stopped the stream. */
static int read_stream(shopgpu__call *k, const ProtobufCMessageDescriptor *desc,
                       shopgpu_stream_fn fn, void *arg, shopgpu_status *st) {
  int outcome = 0;
  grpc_byte_buffer *bb;
  while ((bb = recv_message(k, st)) != NULL) {
    ProtobufCMessage *msg = NULL;
    if (outcome == 0) {
      int rc = shopgpu__unpack(bb, desc, &msg, st);
      if (rc != GRPC_STATUS_OK)
        outcome = rc;
      else if (fn(msg, arg) != 0)
        outcome = -1;
      if (outcome != 0) grpc_call_cancel(k->call, NULL);
    }
    if (msg) protobuf_c_message_free_unpacked(msg, NULL);
    grpc_byte_buffer_destroy(bb);
  }
  return outcome;
}

int shopgpu_call_server_stream(shopgpu_client *client, const char *path,
                               const ProtobufCMessage *request,
                               const ProtobufCMessageDescriptor *response_desc,
                               shopgpu_stream_fn on_message, void *arg, int64_t timeout_ms,
                               shopgpu_status *status) {
  if (!request || !response_desc || !on_message)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT,
                               "request, response_desc and on_message: must not be NULL");
  shopgpu__call k;
  int rc = shopgpu__call_start(client, path, timeout_ms, &k, status);
  if (rc != GRPC_STATUS_OK) return rc;
  int opened = open_server_stream(&k, request, status);
  int outcome = opened > 0 ? read_stream(&k, response_desc, on_message, arg, status) : 0;
  if (opened < 0) {
    rc = GRPC_STATUS_INTERNAL;
  } else {
    shopgpu_status server;
    rc = shopgpu__recv_status(&k, &server);
    if (outcome == -1)
      rc = shopgpu__status_set(status, GRPC_STATUS_CANCELLED, "stream stopped by the caller");
    else if (outcome > 0)
      rc = outcome; /* status already holds the local error */
    else if (status)
      *status = server;
  }
  shopgpu__call_end(&k);
  return rc;
}

/* {SEND_MESSAGE(msg)}: 1 ok, 0 broken, -1 refused. */
static int send_message(shopgpu__call *k, const ProtobufCMessage *msg, shopgpu_status *st) {
  grpc_byte_buffer *bb = shopgpu__pack(msg);
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_SEND_MESSAGE;
  op.data.send_message.send_message = bb;
  int ok = shopgpu__batch(k, &op, 1, st);
  grpc_byte_buffer_destroy(bb);
  return ok;
}

/* {SIM} then each message from next: 1 all sent, 0 broken, -1 refused, -2 the caller stopped. */
static int write_stream(shopgpu__call *k, shopgpu_produce_fn next, void *arg, shopgpu_status *st) {
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_SEND_INITIAL_METADATA;
  op.data.send_initial_metadata.count = k->n_md;
  op.data.send_initial_metadata.metadata = k->md;
  int ok = shopgpu__batch(k, &op, 1, st);
  while (ok > 0) {
    const ProtobufCMessage *msg = NULL;
    int more = next(arg, &msg);
    if (more == 0) break;
    if (more < 0 || !msg) {
      grpc_call_cancel(k->call, NULL);
      return -2;
    }
    ok = send_message(k, msg, st);
  }
  return ok;
}

/* The response and status of an upload: complete (sent > 0) or broken (0, a failed send, e.g.
 * after the server answered early: the server's status says why). The final batch always holds
 * RECV_INITIAL_METADATA with the status: with RECV_STATUS alone after a trailers-only answer
 * (auth refused) the status sometimes only arrived at the deadline (seen with core 1.51). */
static int finish_upload(shopgpu__call *k, int sent, const ProtobufCMessageDescriptor *desc,
                         ProtobufCMessage **response, shopgpu_status *st) {
  grpc_byte_buffer *bb = NULL;
  int rc = shopgpu__finish(k, sent > 0, &bb, st);
  if (rc == GRPC_STATUS_OK && !bb)
    rc = shopgpu__status_set(st, GRPC_STATUS_INTERNAL,
                             sent > 0 ? "response: OK without a message" : "upload: stream broke");
  else if (rc == GRPC_STATUS_OK)
    rc = shopgpu__unpack(bb, desc, response, st);
  if (bb) grpc_byte_buffer_destroy(bb);
  return rc;
}

int shopgpu_call_client_stream(shopgpu_client *client, const char *path, shopgpu_produce_fn next,
                               void *arg, const ProtobufCMessageDescriptor *response_desc,
                               ProtobufCMessage **response, int64_t timeout_ms,
                               shopgpu_status *status) {
  if (response) *response = NULL;
  if (!next || !response_desc || !response)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT,
                               "next, response_desc and response: must not be NULL");
  shopgpu__call k;
  int rc = shopgpu__call_start(client, path, timeout_ms, &k, status);
  if (rc != GRPC_STATUS_OK) return rc;
  int sent = write_stream(&k, next, arg, status);
  if (sent >= 0) {
    rc = finish_upload(&k, sent, response_desc, response, status);
  } else if (sent == -2) {
    shopgpu__finish(&k, 0, NULL, NULL); /* drain: the status is our own cancellation */
    rc = shopgpu__status_set(status, GRPC_STATUS_CANCELLED, "stream stopped by the caller");
  } else {
    rc = GRPC_STATUS_INTERNAL; /* status set by the refused batch */
  }
  shopgpu__call_end(&k);
  return rc;
}
