/* redis-server fixture: fork+exec on a free port, poll it with PING over a plain socket. */
#include "redis_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int sg_test_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

static int pong(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  char buf[64] = "";
  int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
           write(fd, "PING\r\n", 6) == 6 && read(fd, buf, sizeof buf - 1) > 0;
  if (fd >= 0) close(fd);
  return ok && (strncmp(buf, "+PONG", 5) == 0 || strncmp(buf, "-NOAUTH", 7) == 0);
}

int sg_test_redis_start(sg_test_redis *r, int port, const char *const *extra) {
  memset(r, 0, sizeof *r);
  r->port = port ? port : sg_test_free_port();
  snprintf(r->addr, sizeof r->addr, "127.0.0.1:%d", r->port);
  char portbuf[16];
  snprintf(portbuf, sizeof portbuf, "%d", r->port);
  const char *argv[32] = {"redis-server", "--port",     portbuf,  "--bind",
                          "127.0.0.1",    "--save",     "",       "--appendonly",
                          "no",           "--loglevel", "warning"};
  int n = 11;
  for (int i = 0; extra && extra[i] && n < 31; i++)
    argv[n++] = extra[i];
  argv[n] = NULL;
  pid_t parent = getpid();
  r->pid = fork();
  if (r->pid == 0) {
    /* dies with the test process, so a failed assertion (which skips the cleanup) leaves no
     * server behind; fork and exec run on the test's own thread */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    execvp("redis-server", (char *const *)(void *)argv);
    _exit(127);
  }
  for (int i = 0; r->pid > 0 && i < 500; i++) {
    if (pong(r->port)) return 0;
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  fprintf(stderr, "redis-server on port %d did not answer\n", r->port);
  sg_test_redis_stop(r, SIGKILL);
  return -1;
}

void sg_test_redis_stop(sg_test_redis *r, int sig) {
  if (r->pid <= 0) return;
  kill(r->pid, sig);
  waitpid(r->pid, NULL, 0);
  r->pid = 0;
}
