/* A real redis-server for a test, on a loopback port it picks itself (no persistence). */
#ifndef SG_TEST_REDIS_FIXTURE_H
#define SG_TEST_REDIS_FIXTURE_H

#include <sys/types.h>

typedef struct sg_test_redis {
  pid_t pid;
  int port;
  char addr[64]; /* "127.0.0.1:PORT" */
} sg_test_redis;

/* Starts redis-server (extra: NULL-terminated further arguments, e.g. "--requirepass", "pw") on
 * port (0 = a free one) and waits until it answers PING (5 s at most). Returns 0 or -1. */
int sg_test_redis_start(sg_test_redis *r, int port, const char *const *extra);
/* SIGKILL (crash) or SIGTERM, and waits for the process. */
void sg_test_redis_stop(sg_test_redis *r, int sig);
/* A free loopback TCP port (bound and released; racy only against other processes). */
int sg_test_free_port(void);

#endif
