/* libshopgpu-client internals shared by its files: the client object, one call's gRPC state
 * (call + pluck completion queue + auth metadata), batches, and protobuf <-> byte buffer.
 * Prefix shopgpu__ (internal across files); nothing here is part of the public API. */
#ifndef SHOPGPU_CLIENT_INTERNAL_H
#define SHOPGPU_CLIENT_INTERNAL_H

#include <grpc/grpc.h>

#include "shopgpu_client.h"

struct shopgpu_client {
  grpc_channel *channel;
  char *target;
  char *auth;         /* "Bearer TOKEN", or NULL */
  int64_t timeout_ms; /* resolved default: > 0, or SHOPGPU_TIMEOUT_NONE */
};

/* One call in flight. Unary and one-way streams run one batch at a time on a pluck queue: each
 * is started and plucked before the next, so the address of this struct is the only tag. A
 * bidi call (bidi.c) keeps a send and a receive outstanding at once on a next queue instead. */
typedef struct shopgpu__call {
  grpc_completion_queue *cq;
  int next_cq; /* cq is a GRPC_CQ_NEXT queue (bidi), else GRPC_CQ_PLUCK */
  grpc_call *call;
  grpc_metadata md[1]; /* authorization, when the client has a token */
  size_t n_md;
} shopgpu__call;

/* A unary call answering a JobTicket (TrainModel, RecommendAll, StartForecast): its id into
 * job_id (INTERNAL when the id is not 32 characters). */
int shopgpu__ticket_call(shopgpu_client *client, const char *path, const ProtobufCMessage *req,
                         char job_id[SHOPGPU_JOB_ID_SIZE], int64_t timeout_ms,
                         shopgpu_status *status);

/* protobuf-c wants `char *` for strings that requests only read. */
static inline char *shopgpu__pb_str(const char *s) {
  union {
    const char *c;
    char *m;
  } u = {s};
  return u.m;
}

/* Same for bytes fields that point at the caller's const data. */
static inline uint8_t *shopgpu__pb_bytes(const void *p) {
  union {
    const void *c;
    uint8_t *m;
  } u = {p};
  return u.m;
}

/* Fills st (if not NULL) and returns code. */
int shopgpu__status_set(shopgpu_status *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Creates the call's queue and call (deadline from timeout_ms, see SHOPGPU_TIMEOUT_*) and its
 * metadata. On failure everything is released and the status code returned. */
int shopgpu__call_start(shopgpu_client *client, const char *path, int64_t timeout_ms,
                        shopgpu__call *k, shopgpu_status *st);
/* The same with a next queue (next_cq nonzero) for calls that wait on several tags. */
int shopgpu__call_open(shopgpu_client *client, const char *path, int64_t timeout_ms, int next_cq,
                       shopgpu__call *k, shopgpu_status *st);
/* Releases the call, its metadata and its queue. Every batch must have completed. */
void shopgpu__call_end(shopgpu__call *k);
/* Runs one batch and waits for it: 1 = it succeeded, 0 = the call is broken (the status batch
 * says why), -1 = core refused the batch (st set to INTERNAL). On a next queue, only while no
 * other batch of the call is outstanding. */
int shopgpu__batch(shopgpu__call *k, const grpc_op *ops, size_t n, shopgpu_status *st);
/* {RECV_STATUS_ON_CLIENT} alone, copied into st; returns the code. */
int shopgpu__recv_status(shopgpu__call *k, shopgpu_status *st);
/* The end of a call whose initial metadata was not received yet: {SEND_CLOSE_FROM_CLIENT (when
 * close), RECV_INITIAL_METADATA, RECV_MESSAGE into *recv, RECV_STATUS_ON_CLIENT} in one batch
 * (a lone RECV_STATUS there can wait for the deadline after a trailers-only answer: see
 * stream.c). *recv (NULL or a buffer) is the caller's; recv NULL drops any message. Returns the
 * status code. */
int shopgpu__finish(shopgpu__call *k, int close, grpc_byte_buffer **recv, shopgpu_status *st);
/* Copies a received status (code + details slice, which it unrefs) into st; returns code. */
int shopgpu__status_from(shopgpu_status *st, grpc_status_code code, grpc_slice details);

/* A byte buffer holding msg packed, or NULL when out of memory. */
grpc_byte_buffer *shopgpu__pack(const ProtobufCMessage *msg);
/* Unpacks bb (not consumed) as desc into *out; returns 0 or INTERNAL with st set. */
int shopgpu__unpack(grpc_byte_buffer *bb, const ProtobufCMessageDescriptor *desc,
                    ProtobufCMessage **out, shopgpu_status *st);

#endif
