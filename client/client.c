/* libshopgpu-client: the client object (options, channel credentials and arguments, grpc_init
 * and grpc_shutdown) and status helpers. Calls themselves live in call.c and stream.c, the
 * typed per-RPC functions in api.c. */
#include <errno.h>
#include <grpc/grpc_security.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "sg_version.h"

#define MAX_CA_FILE_BYTES (1 << 20)

/* gRPC status codes 0..16, in order (grpc/status.h). */
/* clang-format off */
#define SHOPGPU_STATUS_CODES(X)                                                                   \
  X(OK) X(CANCELLED) X(UNKNOWN) X(INVALID_ARGUMENT) X(DEADLINE_EXCEEDED) X(NOT_FOUND)             \
  X(ALREADY_EXISTS) X(PERMISSION_DENIED) X(RESOURCE_EXHAUSTED) X(FAILED_PRECONDITION) X(ABORTED)  \
  X(OUT_OF_RANGE) X(UNIMPLEMENTED) X(INTERNAL) X(UNAVAILABLE) X(DATA_LOSS) X(UNAUTHENTICATED)
/* clang-format on */

const char *shopgpu_status_code_name(int code) {
#define NAME(n) #n,
  static const char *const names[] = {SHOPGPU_STATUS_CODES(NAME)};
#undef NAME
  if (code < 0 || code >= (int)(sizeof names / sizeof names[0])) return "UNKNOWN";
  return names[code];
}

int shopgpu__status_set(shopgpu_status *st, int code, const char *fmt, ...) {
  if (!st) return code;
  st->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st->message, sizeof st->message, fmt, ap);
  va_end(ap);
  return code;
}

static char *dup_or_null(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

/* Reads a whole (small) file into a NUL-terminated heap string. */
static char *read_text_file(const char *path, shopgpu_status *st) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "tls_ca_file: cannot read \"%.200s\": %s",
                        path, strerror(errno));
    return NULL;
  }
  char *buf = malloc(MAX_CA_FILE_BYTES + 1);
  size_t n = buf ? fread(buf, 1, MAX_CA_FILE_BYTES + 1, f) : 0;
  int bad = !buf || ferror(f) || n == 0 || n > MAX_CA_FILE_BYTES;
  fclose(f);
  if (bad) {
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                        "tls_ca_file: \"%.200s\" is empty, unreadable or over 1 MiB", path);
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  return buf;
}

/* 1 when target is HOST:PORT or [V6]:PORT with a port outside 1..65535 (gRPC would quietly take
 * it modulo 65536). Other forms (unix:, unix-abstract:, vsock:, a bare IPv6 address, a name with
 * a scheme such as dns:///) are left to gRPC. */
static int bad_port(const char *target) {
  const char *colon = strrchr(target, ':');
  if (!colon || strstr(target, "://") || strncmp(target, "unix", 4) == 0 ||
      strncmp(target, "vsock:", 6) == 0)
    return 0;
  int v6 = target[0] == '[';
  if (v6 ? colon == target || colon[-1] != ']' : memchr(target, ':', (size_t)(colon - target)) != 0)
    return 0; /* a bare IPv6 address has colons of its own */
  const char *p = colon + 1;
  if (!*p || strspn(p, "0123456789") != strlen(p)) return 0;
  errno = 0;
  unsigned long port = strtoul(p, NULL, 10);
  return errno != 0 || port < 1 || port > 65535;
}

static int check_options(const shopgpu_client_options *o, shopgpu_status *st) {
  if (!o || !o->target || !o->target[0] || strcmp(o->target, "unix:") == 0 ||
      strcmp(o->target, "unix-abstract:") == 0)
    return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "target: empty address");
  if (bad_port(o->target))
    return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                               "target: the port of \"%.64s\" is not in 1..65535", o->target);
  if (o->timeout_ms < SHOPGPU_TIMEOUT_NONE)
    return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "timeout_ms: %lld < 0",
                               (long long)o->timeout_ms);
  if (o->max_receive_bytes < -1)
    return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "max_receive_bytes: %d < 0",
                               o->max_receive_bytes);
  if (o->reconnect_backoff_max_ms < 0)
    return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "reconnect_backoff_max_ms: %d < 0",
                               o->reconnect_backoff_max_ms);
  if (o->token && (!o->token[0] || strpbrk(o->token, "\r\n")))
    return shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                               "token: empty or holds a line break");
  return GRPC_STATUS_OK;
}

/* Plaintext, or TLS trusting the CA file. NULL with st set when the file cannot be read. */
static grpc_channel_credentials *make_credentials(const shopgpu_client_options *o,
                                                  shopgpu_status *st) {
  if (!o->tls_ca_file) return grpc_insecure_credentials_create();
  char *pem = read_text_file(o->tls_ca_file, st);
  if (!pem) return NULL;
  if (!strstr(pem, "-----BEGIN CERTIFICATE-----")) { /* core would only fail at connect time */
    free(pem);
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT,
                        "tls_ca_file: \"%.200s\" holds no PEM certificate", o->tls_ca_file);
    return NULL;
  }
  grpc_channel_credentials *creds = grpc_ssl_credentials_create(pem, NULL, NULL, NULL);
  free(pem);
  if (!creds)
    shopgpu__status_set(st, GRPC_STATUS_INVALID_ARGUMENT, "tls_ca_file: \"%.200s\" is not PEM",
                        o->tls_ca_file);
  return creds;
}

static grpc_channel *make_channel(const shopgpu_client_options *o, shopgpu_status *st) {
  grpc_channel_credentials *creds = make_credentials(o, st);
  if (!creds) return NULL;
  grpc_arg args[5];
  size_t n = 0;
  if (o->reconnect_backoff_max_ms > 0) { /* the first wait must not exceed the longest */
    int first = o->reconnect_backoff_max_ms < 1000 ? o->reconnect_backoff_max_ms : 1000;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = shopgpu__pb_str(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS);
    args[n++].value.integer = first;
    args[n].type = GRPC_ARG_INTEGER;
    args[n].key = shopgpu__pb_str(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS);
    args[n++].value.integer = o->reconnect_backoff_max_ms;
  }
  args[n].type = GRPC_ARG_INTEGER;
  args[n].key = shopgpu__pb_str(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH);
  args[n++].value.integer =
      o->max_receive_bytes ? o->max_receive_bytes : SHOPGPU_DEFAULT_MAX_RECEIVE_BYTES;
  args[n].type = GRPC_ARG_STRING;
  args[n].key = shopgpu__pb_str(GRPC_ARG_PRIMARY_USER_AGENT_STRING);
  args[n++].value.string = shopgpu__pb_str("shopgpu-client/" SG_VERSION);
  if (o->tls_server_name) {
    args[n].type = GRPC_ARG_STRING;
    args[n].key = shopgpu__pb_str(GRPC_SSL_TARGET_NAME_OVERRIDE_ARG);
    args[n++].value.string = shopgpu__pb_str(o->tls_server_name);
  }
  grpc_channel_args ca = {n, args};
  grpc_channel *ch = grpc_channel_create(o->target, creds, &ca);
  grpc_channel_credentials_release(creds);
  if (!ch) shopgpu__status_set(st, GRPC_STATUS_INTERNAL, "target: cannot create a channel");
  return ch;
}

static char *bearer(const char *token) {
  if (!token) return NULL;
  size_t n = strlen(token) + sizeof "Bearer ";
  char *s = malloc(n);
  if (s) snprintf(s, n, "Bearer %s", token);
  return s;
}

/* Between calls nothing polls a channel that lost its server, so gRPC core (1.51) moves it from
 * its reconnect backoff to a new connect only on its backup poller's tick, 5 s by default: calls
 * failed UNAVAILABLE for 5-10 s after the server was back, whatever the backoff. A tick of half
 * the longest backoff (50 ms to 1 s) bounds that by the backoff the caller asked for. Set in the
 * environment gRPC reads at its first grpc_init, only when the caller asked for a backoff and
 * did not set the variable. */
static int tick_ms; /* written before pthread_once, under tick_mu: the first open decides */
static pthread_mutex_t tick_mu = PTHREAD_MUTEX_INITIALIZER;

static void set_tick(void) {
  static const char var[] = "GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS";
  if (getenv(var)) return;
  char text[16];
  snprintf(text, sizeof text, "%d", tick_ms < 50 ? 50 : tick_ms > 1000 ? 1000 : tick_ms);
  setenv(var, text, 0);
}

/* Once per process (setenv is not safe beside getenv in other threads; gRPC reads it at its
 * first grpc_init anyway): the first open that asks for a backoff decides. */
static void quick_reconnects(int backoff_max_ms) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  if (backoff_max_ms <= 0) return;
  pthread_mutex_lock(&tick_mu);
  if (!tick_ms) tick_ms = backoff_max_ms / 2 > 0 ? backoff_max_ms / 2 : 1;
  pthread_once(&once, set_tick);
  pthread_mutex_unlock(&tick_mu);
}

shopgpu_client *shopgpu_client_open(const shopgpu_client_options *opts, shopgpu_status *status) {
  if (check_options(opts, status) != GRPC_STATUS_OK) return NULL;
  shopgpu_client *c = calloc(1, sizeof *c);
  if (c) {
    c->target = dup_or_null(opts->target);
    c->auth = bearer(opts->token);
  }
  if (!c || !c->target || (opts->token && !c->auth)) {
    shopgpu__status_set(status, GRPC_STATUS_RESOURCE_EXHAUSTED, "client: out of memory");
    goto fail;
  }
  c->timeout_ms =
      opts->timeout_ms == SHOPGPU_TIMEOUT_DEFAULT ? SHOPGPU_DEFAULT_TIMEOUT_MS : opts->timeout_ms;
  quick_reconnects(opts->reconnect_backoff_max_ms);
  grpc_init();
  c->channel = make_channel(opts, status);
  if (!c->channel) {
    grpc_shutdown();
    goto fail;
  }
  shopgpu__status_set(status, GRPC_STATUS_OK, "%s", "");
  return c;
fail:
  if (c) {
    free(c->target);
    free(c->auth);
  }
  free(c);
  return NULL;
}

void shopgpu_client_close(shopgpu_client *client) {
  if (!client) return;
  grpc_channel_destroy(client->channel);
  free(client->target);
  free(client->auth);
  free(client);
  grpc_shutdown();
}

const char *shopgpu_client_target(const shopgpu_client *client) {
  return client ? client->target : "";
}
