/* Command-line options of shopgpu-loadgen and what they resolve to: the method path, the packed
 * request and the bearer token. Parsing only; no gRPC here. */
#ifndef SG_LOADGEN_OPTS_H
#define SG_LOADGEN_OPTS_H

#include <stddef.h>
#include <stdio.h>

typedef enum { SG_LG_INFO, SG_LG_ECHO, SG_LG_HEALTH, SG_LG_SCORE, SG_LG_RECOMMEND } sg_lg_method;

typedef struct sg_lg_opts {
  const char *server; /* "127.0.0.1:50051" or "unix:/path" */
  sg_lg_method method;
  size_t payload;         /* echo payload bytes */
  const char *model;      /* score, recommend: model name */
  size_t pairs;           /* score: pairs per call; recommend: users per call */
  size_t users, items;    /* ids are drawn from 0..users-1 and 0..items-1 */
  int k;                  /* recommend: list length */
  double seed;            /* of the ids drawn (one fixed request per run) */
  int concurrency;        /* calls in flight at all times */
  int connections;        /* channels; 0 = min(concurrency, 4) until resolved */
  int threads;            /* completion-queue threads; 0 = auto until resolved */
  double duration_s;      /* measured window */
  double warmup_s;        /* calls finishing before this are not recorded */
  int timeout_ms;         /* per-call deadline */
  const char *token_file; /* NULL = no authorization metadata */
  int no_header;          /* print only the table row */
} sg_lg_opts;

/* What parsing leaves for the run. Owns request and token (sg_lg_plan_free). */
typedef struct sg_lg_plan {
  const char *path;        /* "/shopgpu.v1.Admin/Echo" */
  const char *method_name; /* "echo", for the table */
  unsigned char *request;  /* packed request message (may be empty, never NULL) */
  size_t request_len;
  size_t expect_response_len; /* echo: the response's packed size; 0 = don't check */
  char *authorization;        /* "Bearer TOKEN" or NULL */
} sg_lg_plan;

/* Parses argv into o (defaults first). Returns 0 to run, 1 after --help (printed to out), -1 on
 * a bad flag (message on stderr). Resolves the auto connections/threads. */
int sg_lg_opts_parse(sg_lg_opts *o, int argc, char **argv, FILE *out);
/* Packs the request and reads the token file. Returns 0, or -1 with a message on stderr. */
int sg_lg_plan_make(const sg_lg_opts *o, sg_lg_plan *p);
void sg_lg_plan_free(sg_lg_plan *p);

#endif
