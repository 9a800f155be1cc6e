/* Health status per service and the Watch streams. Lock order: health mutex, then a call's
 * (sg_call_push/reply take the call's own mutex); watchers are removed by the call's on_done
 * callback, which runs with no call mutex held. Each watcher holds a reference on its call. */
#include "health.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grpc/health/v1/health.pb-c.h"
#include "log.h"

#define MAX_SERVICE_NAME 128

typedef struct watcher {
  struct watcher *next;
  sg_call *call;
  int service; /* index, or -1 for an unknown service */
  int finished;
} watcher;

struct sg_health {
  pthread_mutex_t mu;
  int n;
  char (*names)[MAX_SERVICE_NAME];
  int *status;
  watcher *watchers;
  int closed; /* finish_watches ran: new watches end at once */
};

static int find(const sg_health *h, const char *service) {
  for (int i = 0; i < h->n; i++)
    if (strcmp(h->names[i], service) == 0) return i;
  return -1;
}

sg_health *sg_health_create(const sg_method *methods, int n_methods, sg_err *err) {
  sg_health *h = calloc(1, sizeof *h);
  if (h) {
    h->names = calloc((size_t)n_methods + 1, sizeof *h->names);
    h->status = calloc((size_t)n_methods + 1, sizeof *h->status);
  }
  if (!h || !h->names || !h->status) {
    sg_health_destroy(h);
    sg_err_set(err, SG_OUT_OF_MEMORY, "health: out of memory");
    return NULL;
  }
  pthread_mutex_init(&h->mu, NULL);
  h->n = 1; /* names[0] = "": the whole server */
  for (int i = 0; i < n_methods; i++) {
    const char *p = methods[i].path + 1, *slash = strchr(p, '/');
    char name[MAX_SERVICE_NAME];
    snprintf(name, sizeof name, "%.*s", slash ? (int)(slash - p) : (int)strlen(p), p);
    if (find(h, name) < 0) strcpy(h->names[h->n++], name);
  }
  for (int i = 0; i < h->n; i++)
    h->status[i] = SG_HEALTH_NOT_SERVING;
  return h;
}

void sg_health_destroy(sg_health *h) {
  if (!h) return;
  if (h->watchers) SG_ERROR("health", "destroyed with watch streams still open");
  if (h->names) pthread_mutex_destroy(&h->mu);
  free(h->names);
  free(h->status);
  free(h);
}

static void push(watcher *w, int status) {
  Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
  resp.status = (Grpc__Health__V1__HealthCheckResponse__ServingStatus)status;
  sg_call_push(w->call, &resp.base, NULL);
}

void sg_health_set_all(sg_health *h, int status) {
  pthread_mutex_lock(&h->mu);
  for (int i = 0; i < h->n; i++)
    h->status[i] = status;
  for (watcher *w = h->watchers; w; w = w->next)
    if (w->service >= 0 && !w->finished) push(w, status);
  pthread_mutex_unlock(&h->mu);
}

sg_status sg_health_check(sg_health *h, const char *service, int *status, sg_err *err) {
  pthread_mutex_lock(&h->mu);
  int i = find(h, service);
  if (i >= 0) *status = h->status[i];
  pthread_mutex_unlock(&h->mu);
  if (i < 0) return sg_err_set(err, SG_NOT_FOUND, "unknown service \"%.64s\"", service);
  return SG_OK;
}

static void end_watch(watcher *w, sg_status st, const char *msg) {
  if (w->finished) return;
  w->finished = 1;
  sg_err e = {0};
  sg_err_set(&e, st, "%s", msg);
  sg_call_reply(w->call, NULL, &e);
}

static void on_watch_done(sg_call *call, void *arg) {
  sg_health *h = arg;
  pthread_mutex_lock(&h->mu);
  for (watcher **pp = &h->watchers; *pp; pp = &(*pp)->next) {
    if ((*pp)->call != call) continue;
    watcher *w = *pp;
    *pp = w->next;
    end_watch(w, SG_CANCELLED, "watch ended");
    free(w);
    break;
  }
  pthread_mutex_unlock(&h->mu);
  sg_call_unref(call); /* the watcher's reference */
}

void sg_health_watch(sg_health *h, sg_call *call, const char *service) {
  watcher *w = calloc(1, sizeof *w);
  if (!w) {
    sg_err e = {0};
    sg_err_set(&e, SG_OUT_OF_MEMORY, "health: out of memory");
    sg_call_reply(call, NULL, &e);
    return;
  }
  sg_call_ref(call);
  w->call = call;
  pthread_mutex_lock(&h->mu);
  if (h->closed) { /* shutting down: answer instead of registering a watch nobody will end */
    pthread_mutex_unlock(&h->mu);
    free(w);
    sg_err e = {0};
    sg_err_set(&e, SG_UNAVAILABLE, "server shutting down");
    sg_call_reply(call, NULL, &e);
    sg_call_unref(call);
    return;
  }
  w->service = find(h, service);
  w->next = h->watchers;
  h->watchers = w;
  push(w, w->service >= 0 ? h->status[w->service] : SG_HEALTH_SERVICE_UNKNOWN);
  pthread_mutex_unlock(&h->mu);
  sg_call_on_done(call, on_watch_done, h);
}

void sg_health_finish_watches(sg_health *h) {
  pthread_mutex_lock(&h->mu);
  h->closed = 1;
  for (watcher *w = h->watchers; w; w = w->next)
    end_watch(w, SG_UNAVAILABLE, "server shutting down");
  pthread_mutex_unlock(&h->mu);
}
