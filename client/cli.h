/* The shopgpu CLI's shared pieces: the context every command runs with, the command table's
 * row type, exit codes, and the helpers commands use to report errors. A new subcommand is one
 * row in cli.c's table plus one cli_cmd_* function (in a cli_<area>.c file). */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "shopgpu_client.h"

enum {
  SG_CLI_OK = 0,    /* success (health: SERVING) */
  SG_CLI_FAIL = 1,  /* the RPC failed, or the answer is a negative one (health: not SERVING) */
  SG_CLI_USAGE = 2, /* bad command line, unreadable token file */
};

typedef struct sg_cli {
  shopgpu_client *client;
  int json;           /* --json: one JSON document on stdout */
  int64_t timeout_ms; /* per call */
  FILE *out;          /* stdout */
  FILE *err;          /* stderr */
} sg_cli;

typedef struct sg_cli_command {
  const char *name;
  const char *args; /* argument synopsis for --help, e.g. "[SERVICE]" */
  int min_args, max_args;
  const char *summary;                            /* one line for --help */
  int (*run)(sg_cli *cli, int argc, char **argv); /* returns an exit code */
} sg_cli_command;

/* Prints "shopgpu: CODE_NAME: message" to stderr; returns SG_CLI_FAIL. */
int sg_cli_rpc_error(const sg_cli *cli, const shopgpu_status *st);

/* Commands (cli_admin.c). argv holds the command's arguments only. */
int sg_cli_cmd_info(sg_cli *cli, int argc, char **argv);
int sg_cli_cmd_health(sg_cli *cli, int argc, char **argv);

#endif
