/* shopgpu-server's configuration: one table of flags, each with its SHOPGPU_* environment
 * variable, default and help text. Precedence: flag > environment > default. */
#ifndef SG_SERVER_CONFIG_H
#define SG_SERVER_CONFIG_H

#include <stdio.h>

#include "common/backend.h"

#define SG_PATH_MAX 1024

typedef struct sg_config {
  char listen[SG_PATH_MAX]; /* host:port or unix:PATH */
  sg_backend_kind backend;
  char data_dir[SG_PATH_MAX];
  char redis[SG_PATH_MAX]; /* host:port, unix:PATH or "none" */
  int threads;             /* handler worker threads */
  int pollers;             /* gRPC poller threads, one completion queue each */
  int queue_limit;         /* calls waiting for a worker before RESOURCE_EXHAUSTED */
  int max_message_mb;
  char tls_cert[SG_PATH_MAX], tls_key[SG_PATH_MAX];
  char auth_token_file[SG_PATH_MAX];
  char metrics_listen[SG_PATH_MAX]; /* host:port, empty = off */
  sg_log_level log_level;
  double shutdown_grace_s;
  char ready_file[SG_PATH_MAX]; /* written with the bound address once serving */
} sg_config;

typedef enum { SG_CONFIG_RUN, SG_CONFIG_EXIT_OK } sg_config_action;

/* Fills cfg from defaults, the environment and argv. SG_OK with *action = SG_CONFIG_EXIT_OK
 * after --help or --version (text printed to out). Errors name the flag and the value. */
sg_status sg_config_load(sg_config *cfg, int argc, char **argv, FILE *out, sg_config_action *action,
                         sg_err *err);
void sg_config_usage(FILE *out);

#endif
