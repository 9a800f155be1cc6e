/* libshopgpu-client: a C client for shopgpu-server over gRPC core + protobuf-c. One channel
 * object (shopgpu_client), a generic unary / server-streaming / client-streaming call each, and
 * one typed function per RPC built on them. Errors come back as a gRPC status code plus a
 * message; the library never aborts and never prints (gRPC core itself may log through gpr_log:
 * set GRPC_VERBOSITY or gpr_set_log_function in the application to control that). */
#ifndef SHOPGPU_CLIENT_H
#define SHOPGPU_CLIENT_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "grpc/health/v1/health.pb-c.h"
#include "shopgpu/v1/admin.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status ------------------------------------------------------------------------------- */

#define SHOPGPU_STATUS_MESSAGE_MAX 512

/* The outcome of a call. code is a gRPC status code (grpc_status_code: 0 = OK, 4 =
 * DEADLINE_EXCEEDED, 14 = UNAVAILABLE, 16 = UNAUTHENTICATED, ...). message is the server's
 * status message, or the library's own lowercase text for local errors (bad option, unreadable
 * CA file, undecodable response), always NUL-terminated, truncated to fit. Local errors use
 * INVALID_ARGUMENT (bad options or arguments), INTERNAL (a response that does not decode, a
 * gRPC core call refused) and RESOURCE_EXHAUSTED (out of memory). */
typedef struct shopgpu_status {
  int code;
  char message[SHOPGPU_STATUS_MESSAGE_MAX];
} shopgpu_status;

/* "OK", "CANCELLED", ..., "UNAUTHENTICATED"; "UNKNOWN" for a code outside 0..16. Static text. */
const char *shopgpu_status_code_name(int code);

/* ---- the client --------------------------------------------------------------------------- */

/* Timeouts are in milliseconds. In shopgpu_client_options.timeout_ms, SHOPGPU_TIMEOUT_DEFAULT
 * means 30 s; in a call, it means the client's timeout. SHOPGPU_TIMEOUT_NONE: no deadline. */
#define SHOPGPU_TIMEOUT_DEFAULT 0
#define SHOPGPU_TIMEOUT_NONE (-1)
#define SHOPGPU_DEFAULT_TIMEOUT_MS 30000
#define SHOPGPU_DEFAULT_MAX_RECEIVE_BYTES (64 * 1024 * 1024)

typedef struct shopgpu_client_options {
  const char *target;          /* "host:port" or "unix:/path/to/sock"; required */
  const char *token;           /* bearer token sent as "authorization: Bearer TOKEN", or NULL */
  const char *tls_ca_file;     /* PEM file of the CA(s) to trust; NULL = plaintext */
  const char *tls_server_name; /* name to verify the server certificate against instead of the
                                  target's host, or NULL */
  int64_t timeout_ms;          /* default per-call timeout (see SHOPGPU_TIMEOUT_*) */
  int max_receive_bytes;       /* largest response accepted: 0 = 64 MiB, -1 = unlimited */
} shopgpu_client_options;

typedef struct shopgpu_client shopgpu_client;

/* Creates a client (calls grpc_init). Nothing connects yet: the first call does, and fails
 * with UNAVAILABLE at once if the server cannot be reached (no waiting for it to come up).
 * The options' strings are copied (the CA file is read here). Returns NULL and fills status (if
 * not NULL) on a bad option: INVALID_ARGUMENT for an empty target, a token that is empty or
 * holds a line break, an unreadable CA file or one without a PEM certificate, a negative timeout
 * other than SHOPGPU_TIMEOUT_NONE, max_receive_bytes < -1. */
shopgpu_client *shopgpu_client_open(const shopgpu_client_options *opts, shopgpu_status *status);

/* Destroys the client (calls grpc_shutdown). No call may be in progress. NULL is a no-op. */
void shopgpu_client_close(shopgpu_client *client);

/* The target the client was opened with. */
const char *shopgpu_client_target(const shopgpu_client *client);

/* Thread-safety: one client may be used from any number of threads at once. Every call makes
 * its own gRPC call object and its own pluck completion queue, so calls share only the channel
 * (which gRPC makes thread-safe). shopgpu_client_close must not race with calls.
 *
 * Every call function returns the status code (0 = OK) and, if status is not NULL, fills it.
 * Responses are protobuf-c messages owned by the caller, freed with
 * protobuf_c_message_free_unpacked(&msg->base, NULL) (or with the generated __free_unpacked);
 * *response is set to NULL unless the call succeeded. Request messages are only read. */

/* ---- generic calls ------------------------------------------------------------------------ */

/* One request, one response. path: "/package.Service/Method". response_desc: the type of the
 * response (e.g. &shopgpu__v1__server_info__descriptor). */
int shopgpu_call_unary(shopgpu_client *client, const char *path, const ProtobufCMessage *request,
                       const ProtobufCMessageDescriptor *response_desc, ProtobufCMessage **response,
                       int64_t timeout_ms, shopgpu_status *status);

/* Called once per streamed message, in order, on the calling thread. msg belongs to the library
 * and is freed when the callback returns: copy what you keep. Return 0 to go on, nonzero to
 * cancel the call: the function then returns CANCELLED promptly. */
typedef int (*shopgpu_stream_fn)(const ProtobufCMessage *msg, void *arg);

/* One request, a stream of responses, each handed to on_message. Returns once the server ends
 * the stream (its status), the deadline passes or the callback cancels. */
int shopgpu_call_server_stream(shopgpu_client *client, const char *path,
                               const ProtobufCMessage *request,
                               const ProtobufCMessageDescriptor *response_desc,
                               shopgpu_stream_fn on_message, void *arg, int64_t timeout_ms,
                               shopgpu_status *status);

/* Supplies the next request of a client stream: set *msg and return 1 to send it (the library
 * packs it before calling again, so it only needs to live until the next call), return 0 to end
 * the stream, or a negative value to cancel the call (the function returns CANCELLED). */
typedef int (*shopgpu_produce_fn)(void *arg, const ProtobufCMessage **msg);

/* A stream of requests (from next), one response. */
int shopgpu_call_client_stream(shopgpu_client *client, const char *path, shopgpu_produce_fn next,
                               void *arg, const ProtobufCMessageDescriptor *response_desc,
                               ProtobufCMessage **response, int64_t timeout_ms,
                               shopgpu_status *status);

/* ---- grpc.health.v1.Health (no token needed) ---------------------------------------------- */

/* Serving status of service ("" or NULL = the whole server): GRPC__HEALTH__V1__HEALTH_CHECK_
 * RESPONSE__SERVING_STATUS__SERVING (1), NOT_SERVING (2), ... An unknown service is the call
 * status NOT_FOUND, not a serving status. *serving is set only when the call succeeds. */
int shopgpu_health_check(shopgpu_client *client, const char *service, int *serving,
                         int64_t timeout_ms, shopgpu_status *status);

/* Called with each serving status Watch reports (the current one first, then each change;
 * SERVICE_UNKNOWN (3) for an unknown service). Return nonzero to stop watching. */
typedef int (*shopgpu_health_fn)(int serving, void *arg);

/* Watches service until the callback stops it (CANCELLED), the deadline passes or the server
 * ends the stream (UNAVAILABLE when it shuts down). Use SHOPGPU_TIMEOUT_NONE to watch forever. */
int shopgpu_health_watch(shopgpu_client *client, const char *service, shopgpu_health_fn on_status,
                         void *arg, int64_t timeout_ms, shopgpu_status *status);

/* ---- shopgpu.v1.Admin --------------------------------------------------------------------- */

/* Version, backend, uptime and per-method counters. */
int shopgpu_server_info(shopgpu_client *client, Shopgpu__V1__ServerInfo **info, int64_t timeout_ms,
                        shopgpu_status *status);

/* Sends len bytes of payload (payload may be NULL when len is 0) and gets them back. The server
 * holds the call delay_ms milliseconds first (at most 60,000). */
int shopgpu_echo(shopgpu_client *client, const void *payload, size_t len, uint32_t delay_ms,
                 Shopgpu__V1__EchoResponse **response, int64_t timeout_ms, shopgpu_status *status);

/* Called with each EchoStream message. Return nonzero to cancel. */
typedef int (*shopgpu_echo_fn)(const Shopgpu__V1__EchoResponse *msg, void *arg);

/* Asks for count copies of the payload, interval_ms apart (count at most 1,000,000,
 * interval_ms at most 10,000). */
int shopgpu_echo_stream(shopgpu_client *client, const void *payload, size_t len, uint32_t count,
                        uint32_t interval_ms, shopgpu_echo_fn on_message, void *arg,
                        int64_t timeout_ms, shopgpu_status *status);

/* One chunk of an upload: len bytes at data (data may be NULL when len is 0). */
typedef struct shopgpu_bytes {
  const void *data;
  size_t len;
} shopgpu_bytes;

/* Streams n messages (one per chunk) and gets back the count of messages and bytes the server
 * received. */
int shopgpu_echo_upload(shopgpu_client *client, const shopgpu_bytes *chunks, size_t n,
                        Shopgpu__V1__EchoUploadResponse **response, int64_t timeout_ms,
                        shopgpu_status *status);

#ifdef __cplusplus
}
#endif

#endif
