/* Bidirectional streaming calls for libshopgpu-client. Two chains of batches run on one next
 * queue: the send chain ({SIM}, then one SEND_MESSAGE at a time, then SEND_CLOSE) and the
 * receive chain ({RECV_INITIAL_METADATA, RECV_MESSAGE}, then RECV_MESSAGE until the end of the
 * stream); each has at most one batch outstanding, tagged by its own byte in bidi_run. The
 * status is received once both chains are idle. */
#include <grpc/byte_buffer.h>
#include <grpc/support/time.h>
#include <string.h>

#include "client_internal.h"

typedef struct bidi_run {
  shopgpu__call *k;
  const shopgpu_bidi *io;
  grpc_byte_buffer *send_bb, *recv_bb; /* the outstanding send's message, the receive's slot */
  grpc_metadata_array initial;
  int sending, receiving; /* a batch of that chain is outstanding */
  int send_done;          /* closed, broken or stopped: nothing more is sent */
  int recv_done;          /* the response stream ended */
  size_t sent, received;  /* messages */
  int outcome;            /* 0, -1 when the caller stopped, or a local status code (st set) */
  char send_tag, recv_tag;
} bidi_run;

/* Starts a batch: 1, or 0 when core refused it (st set; the call is cancelled). */
static int start(bidi_run *b, const grpc_op *ops, size_t n, void *tag, shopgpu_status *st) {
  grpc_call_error e = grpc_call_start_batch(b->k->call, ops, n, tag, NULL);
  if (e == GRPC_CALL_OK) return 1;
  if (b->outcome == 0)
    b->outcome =
        shopgpu__status_set(st, GRPC_STATUS_INTERNAL, "grpc_call_start_batch: error %d", (int)e);
  b->send_done = 1;
  grpc_call_cancel(b->k->call, NULL);
  return 0;
}

/* Ends the call early: nothing more is sent, the receive chain drains to its end. */
static void stop(bidi_run *b, int outcome) {
  if (b->outcome == 0) b->outcome = outcome;
  b->send_done = 1;
  grpc_call_cancel(b->k->call, NULL);
}

static void start_metadata(bidi_run *b, shopgpu_status *st) {
  grpc_op op;
  memset(&op, 0, sizeof op);
  op.op = GRPC_OP_SEND_INITIAL_METADATA;
  op.data.send_initial_metadata.count = b->k->n_md;
  op.data.send_initial_metadata.metadata = b->k->md;
  b->sending = start(b, &op, 1, &b->send_tag, st);
}

/* The next message from the caller, the half-close, or nothing (window full, or done). */
static void next_send(bidi_run *b, shopgpu_status *st) {
  if (b->sending || b->send_done || b->recv_done) return;
  if (b->io->window && b->sent - b->received >= b->io->window) return;
  const ProtobufCMessage *msg = NULL;
  int more = b->io->next(b->io->next_arg, &msg);
  if (more < 0 || (more > 0 && !msg)) {
    stop(b, -1);
    return;
  }
  grpc_op op;
  memset(&op, 0, sizeof op);
  if (more == 0) {
    op.op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    b->send_done = 1;
  } else {
    b->send_bb = shopgpu__pack(msg);
    if (!b->send_bb) {
      stop(b, shopgpu__status_set(st, GRPC_STATUS_RESOURCE_EXHAUSTED, "request: out of memory"));
      return;
    }
    op.op = GRPC_OP_SEND_MESSAGE;
    op.data.send_message.send_message = b->send_bb;
    b->sent++;
  }
  b->sending = start(b, &op, 1, &b->send_tag, st);
  if (!b->sending && b->send_bb) { /* refused: no completion will free it */
    grpc_byte_buffer_destroy(b->send_bb);
    b->send_bb = NULL;
  }
}

static void on_sent(bidi_run *b, int success) {
  b->sending = 0;
  if (b->send_bb) grpc_byte_buffer_destroy(b->send_bb);
  b->send_bb = NULL;
  if (!success) b->send_done = 1; /* the call broke: the status says why */
}

static void arm_recv(bidi_run *b, int first, shopgpu_status *st) {
  grpc_op ops[2];
  size_t n = 0;
  memset(ops, 0, sizeof ops);
  if (first) {
    ops[n].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[n++].data.recv_initial_metadata.recv_initial_metadata = &b->initial;
  }
  ops[n].op = GRPC_OP_RECV_MESSAGE;
  ops[n++].data.recv_message.recv_message = &b->recv_bb;
  b->receiving = start(b, ops, n, &b->recv_tag, st);
  if (!b->receiving) b->recv_done = 1;
}

/* A response arrived (or the stream ended): hand it over, then wait for the next one. After a
 * stop the rest is drained unread. */
static void on_received(bidi_run *b, int success, shopgpu_status *st) {
  b->receiving = 0;
  grpc_byte_buffer *bb = b->recv_bb;
  b->recv_bb = NULL;
  if (!bb || !success) {
    if (bb) grpc_byte_buffer_destroy(bb);
    b->recv_done = 1;
    return;
  }
  if (b->outcome == 0) {
    ProtobufCMessage *msg = NULL;
    int rc = shopgpu__unpack(bb, b->io->response_desc, &msg, st);
    b->received++;
    if (rc != GRPC_STATUS_OK)
      stop(b, rc);
    else if (b->io->on_message(msg, b->io->message_arg) != 0)
      stop(b, -1);
    if (msg) protobuf_c_message_free_unpacked(msg, NULL);
  }
  grpc_byte_buffer_destroy(bb);
  arm_recv(b, 0, st);
}

/* Runs both chains until the response stream ended and no send is pending. */
static void run(bidi_run *b, shopgpu_status *st) {
  start_metadata(b, st);
  arm_recv(b, 1, st);
  gpr_timespec never = gpr_inf_future(GPR_CLOCK_REALTIME);
  while (b->sending || b->receiving) {
    grpc_event ev = grpc_completion_queue_next(b->k->cq, never, NULL);
    if (ev.type != GRPC_OP_COMPLETE) break; /* only at shutdown, which comes after the call */
    if (ev.tag == &b->send_tag)
      on_sent(b, ev.success);
    else
      on_received(b, ev.success, st);
    next_send(b, st);
  }
}

int shopgpu_call_bidi(shopgpu_client *client, const char *path, const shopgpu_bidi *io,
                      int64_t timeout_ms, shopgpu_status *status) {
  if (!io || !io->next || !io->response_desc || !io->on_message)
    return shopgpu__status_set(status, GRPC_STATUS_INVALID_ARGUMENT,
                               "io, io->next, io->response_desc and io->on_message: must not be "
                               "NULL");
  shopgpu__call k;
  int rc = shopgpu__call_open(client, path, timeout_ms, 1, &k, status);
  if (rc != GRPC_STATUS_OK) return rc;
  bidi_run b = {.k = &k, .io = io};
  grpc_metadata_array_init(&b.initial);
  run(&b, status);
  shopgpu_status server;
  rc = shopgpu__recv_status(&k, &server);
  if (b.outcome == -1)
    rc = shopgpu__status_set(status, GRPC_STATUS_CANCELLED, "stream stopped by the caller");
  else if (b.outcome > 0)
    rc = b.outcome; /* status already holds the local error */
  else if (status)
    *status = server;
  grpc_metadata_array_destroy(&b.initial);
  shopgpu__call_end(&k);
  return rc;
}
