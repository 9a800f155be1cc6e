/* Runs scenarios of tests/server/pyclient.py (the independent Python client) against servers
 * started with the fixture, for Criterion tests. */
#ifndef SG_TEST_PYCLIENT_H
#define SG_TEST_PYCLIENT_H

#include "server_fixture.h"

/* `pyclient.py scenario ADDR [METRICS_ADDR] args...` against a running server; its exit status. */
int sg_test_pyclient(const sg_test_server *s, const char *scenario, const char *const *args);
/* Waits up to timeout_s for the server to exit by itself (no signal): its exit status
 * (128+signal when killed), or -1 while it still runs. */
int sg_test_wait_exit(sg_test_server *s, double timeout_s);
/* Starts a server with flags, runs one scenario, stops the server with SIGTERM; expects the
 * scenario to pass and the server to exit 0 (no leak under LSan, no crash, no hang). */
void sg_test_scenario(const char *name, const char *const *flags, const char *const *args);

#endif
