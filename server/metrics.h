/* Prometheus metrics over HTTP (libmicrohttpd): GET /metrics on --metrics-listen.
 * Per method: calls, rejected and failed by gRPC code, latency histograms, calls in flight;
 * the worker queue depth; the backend and its device memory; uptime and build. */
#ifndef SG_SERVER_METRICS_H
#define SG_SERVER_METRICS_H

#include <stddef.h>

#include "common/status.h"

struct sg_server;
typedef struct sg_metrics sg_metrics;

/* Serves on listen (HOST:PORT; PORT 0 picks one). NULL + err naming the address on failure. */
sg_metrics *sg_metrics_start(struct sg_server *srv, const char *listen, sg_err *err);
/* The bound address, "127.0.0.1:9464". */
const char *sg_metrics_address(const sg_metrics *m);
void sg_metrics_stop(sg_metrics *m); /* NULL is fine */

/* Renders the Prometheus text exposition into a malloc'd buffer (*len bytes). NULL when out of
 * memory. Thread-safe. */
char *sg_metrics_render(struct sg_server *srv, size_t *len);

#endif
