/* gRPC core plumbing: pollers with their own completion queues, per-call state machines for
 * unary, server-streaming and client-streaming calls, the gatekeeper, and the handler API.
 *
 * The path of a call: a poller accepts it (NEW), the gatekeeper checks method, shutdown, auth
 * and deadline, the request is received and unpacked (RECV), then the method's handler runs on
 * a worker (or inline on the poller for SG_METHOD_INLINE methods, which must never block).
 * A handler finishes the call exactly once with sg_call_reply, from any thread, now or later.
 * Calls rejected before the handler and calls whose handler answered an error are counted
 * apart (sg_method_stats). No compute runs on pollers. */
#ifndef SG_SERVER_RPC_H
#define SG_SERVER_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/status.h"
#include "stats.h"

typedef struct sg_rpc sg_rpc;
typedef struct sg_call sg_call;

typedef enum sg_rpc_kind {
  SG_RPC_UNARY,
  SG_RPC_SERVER_STREAM,
  SG_RPC_CLIENT_STREAM,
  SG_RPC_BIDI_STREAM, /* the handler reads with sg_call_recv and writes with sg_call_send */
} sg_rpc_kind;

enum {
  SG_METHOD_NO_AUTH = 1u << 0, /* exempt from the bearer token (health) */
  SG_METHOD_INLINE = 1u << 1,  /* handler runs on the poller: must be quick and never block */
};

/* req: the unpacked request (unary, server-stream), NULL for client- and bidi-stream (use
 * sg_call_recv).
 * It stays valid until the call ends. */
typedef void (*sg_handler_fn)(sg_call *call, const ProtobufCMessage *req);

typedef struct sg_method {
  const char *path; /* "/shopgpu.v1.Admin/Echo" */
  sg_rpc_kind kind;
  const ProtobufCMessageDescriptor *request, *response;
  sg_handler_fn handler;
  unsigned flags;
} sg_method;

typedef struct sg_rpc_config {
  const char *listen;        /* "127.0.0.1:50051", "127.0.0.1:0", "unix:/path" */
  int pollers;               /* threads, each with its own completion queue */
  int workers;               /* handler threads of unary calls */
  int stream_workers;        /* handler threads of streaming calls (a pool of their own) */
  int64_t stream_idle_ms;    /* a stream's next message waits at most this long; 0 = forever */
  int queue_limit;           /* calls waiting for a worker */
  int max_message_bytes;     /* receive and send limit */
  size_t max_inflight_bytes; /* decoded unary requests held at once; 0 = no limit */
  const char *tls_cert_pem;  /* NULL = plaintext */
  const char *tls_key_pem;
  const char *const *tokens; /* NULL = no auth; else accepted bearer tokens */
  int n_tokens;
  const sg_method *methods; /* the method table; must outlive the server */
  int n_methods;
  void *app; /* handed to handlers by sg_call_app */
} sg_rpc_config;

/* Creates, binds and starts the server. On failure (address in use, bad TLS material) returns
 * NULL with a message naming the address or file. */
sg_rpc *sg_rpc_start(const sg_rpc_config *cfg, sg_err *err);
/* The address actually bound ("127.0.0.1:43127" when port 0 was asked for). */
const char *sg_rpc_address(const sg_rpc *rpc);
/* Graceful stop, in three calls from the main thread:
 * sg_rpc_drain refuses new calls and waits up to grace_s for the in-flight ones (1 when all
 * finished); sg_rpc_cancel_all cancels what is left (handlers and jobs see it); once nothing
 * else can reply any more (the scheduler stopped), sg_rpc_shutdown waits for the last calls
 * and stops the threads. */
int sg_rpc_drain(sg_rpc *rpc, double grace_s);
void sg_rpc_cancel_all(sg_rpc *rpc);
void sg_rpc_shutdown(sg_rpc *rpc);
void sg_rpc_destroy(sg_rpc *rpc);
/* 1 once sg_rpc_shutdown began. */
int sg_rpc_shutting_down(const sg_rpc *rpc);

/* Per-method counters, indexed like the method table; row n_methods counts unknown paths. */
const sg_method_stats *sg_rpc_stats(const sg_rpc *rpc);
/* Calls waiting for a worker now. */
size_t sg_rpc_queue_depth(const sg_rpc *rpc);

/* ---- the handler API ---- */

void *sg_call_app(const sg_call *call);
/* The server the call came in on (handlers may run before sg_rpc_start has returned its
 * pointer to the caller, so they must not read a copy of it kept elsewhere). */
const sg_rpc *sg_call_server(const sg_call *call);
const sg_method *sg_call_method(const sg_call *call);

/* Finishes the call: with err NULL or OK sends resp (unary and client-stream; NULL for
 * server- and bidi-stream) and status OK; else the status mapped from err->code with err's message.
 * Exactly once per call, from any thread. resp is packed before this returns. */
void sg_call_reply(sg_call *call, const ProtobufCMessage *resp, const sg_err *err);

/* Server-streaming: sends one message and blocks until flow control accepts it. Returns
 * SG_CANCELLED when the call is dead (client gone, deadline, shutdown, or the client read
 * nothing for stream_idle_ms: the call then ends DEADLINE_EXCEEDED): stop producing. */
sg_status sg_call_send(sg_call *call, const ProtobufCMessage *msg, sg_err *err);

/* Server-streaming, latest state wins: sends msg now if no send is outstanding, else keeps it as
 * the next message, replacing any older one not yet sent. Never blocks (health and progress
 * watches). Returns SG_CANCELLED once the call is dead. */
sg_status sg_call_push(sg_call *call, const ProtobufCMessage *msg, sg_err *err);

/* Client-streaming: blocks for the next message; *msg = NULL at the end of the stream. The
 * message is the caller's (protobuf_c_message_free_unpacked(msg, NULL)). An unparsable message
 * is SG_INVALID_ARGUMENT naming the message type; a dead call SG_CANCELLED (also when no message
 * came for stream_idle_ms: the call then ends DEADLINE_EXCEEDED). */
sg_status sg_call_recv(sg_call *call, ProtobufCMessage **msg, sg_err *err);

/* 1 once the client cancelled, the deadline passed or the server is cancelling calls. */
int sg_call_cancelled(const sg_call *call);
/* Why a cancelled call ended: SG_DEADLINE_EXCEEDED once its deadline passed, else SG_CANCELLED
 * (the status a handler that stops early answers with). */
sg_status sg_call_cancel_status(const sg_call *call);
/* The flag behind sg_call_cancelled (except the deadline), for jobs that watch it. */
const atomic_int *sg_call_cancel_flag(const sg_call *call);
/* Milliseconds left before the deadline; INT64_MAX without one; <= 0 once passed. */
int64_t sg_call_remaining_ms(const sg_call *call);

/* Keeps the call object alive beyond its reply (e.g. in a list of watchers). */
void sg_call_ref(sg_call *call);
void sg_call_unref(sg_call *call);
/* fn(call, arg) runs once when the call ends (finished, cancelled or failed), on a poller
 * thread, or at once when it has ended already. One per call; fn NULL clears it. */
void sg_call_on_done(sg_call *call, void (*fn)(sg_call *call, void *arg), void *arg);

/* Zeroed memory that lives as long as the call (for building responses). NULL when out of
 * memory. */
void *sg_call_alloc(sg_call *call, size_t bytes);

#endif
