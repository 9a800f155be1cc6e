/* Output files of the shopgpu CLI: a temp file beside the target renamed over it only when the
 * command succeeded (or stdout for "-"), CSV field quoting, and the error line of a bad input
 * file. */
#include <errno.h>
#include <grpc/status.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int sg_cli_out_open(sg_cli *cli, sg_cli_out *o, const char *flag, const char *path) {
  o->path = path;
  o->flag = flag;
  o->tmp[0] = '\0';
  if (strcmp(path, "-") == 0) {
    o->f = cli->out;
    return SG_CLI_OK;
  }
  if (!path[0]) return sg_cli_usage("%s: an empty path (- is stdout)", flag);
  struct stat sb; /* refused before the work, not at the rename after it */
  if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    shopgpu_status st = {GRPC_STATUS_INVALID_ARGUMENT, ""};
    snprintf(st.message, sizeof st.message, "%s: %s is a directory", flag, path);
    return sg_cli_rpc_error(cli, &st);
  }
  snprintf(o->tmp, sizeof o->tmp, "%s.tmp%ld", path, (long)getpid());
  o->f = fopen(o->tmp, "w");
  if (o->f) return SG_CLI_OK;
  shopgpu_status st = {GRPC_STATUS_INVALID_ARGUMENT, ""};
  snprintf(st.message, sizeof st.message, "%s: cannot write %s: %s", flag, o->tmp, strerror(errno));
  return sg_cli_rpc_error(cli, &st);
}

int sg_cli_out_commit(sg_cli *cli, sg_cli_out *o, int ok) {
  shopgpu_status st = {GRPC_STATUS_INTERNAL, ""};
  if (!o->tmp[0]) { /* stdout */
    if (fflush(o->f) == 0 || !ok) return SG_CLI_OK;
    snprintf(st.message, sizeof st.message, "%s: cannot write stdout: %s", o->flag,
             strerror(errno));
    return sg_cli_rpc_error(cli, &st);
  }
  int good = !ferror(o->f);
  good = fclose(o->f) == 0 && good;
  if (ok && good && rename(o->tmp, o->path) == 0) return SG_CLI_OK;
  int err = errno;
  remove(o->tmp);
  if (!ok) return SG_CLI_OK; /* the caller reports its own error */
  snprintf(st.message, sizeof st.message, "%s: cannot write %s: %s", o->flag, o->path,
           strerror(err));
  return sg_cli_rpc_error(cli, &st);
}

void sg_cli_csv_field(FILE *f, const char *s) {
  size_t n = strlen(s);
  int quote = strpbrk(s, ",\"\r\n") || (n && (s[0] == ' ' || s[n - 1] == ' '));
  if (!quote) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

int sg_cli_input_error(const sg_cli *cli, const char *fmt, ...) {
  shopgpu_status st = {GRPC_STATUS_INVALID_ARGUMENT, ""};
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(st.message, sizeof st.message, fmt, ap);
  va_end(ap);
  return sg_cli_rpc_error(cli, &st);
}
