/* The Forecast service through the independent Python client: per-series statuses, intervals,
 * the job form, replenishment against a hand computation, and bad specs naming the field. */
#include <criterion/criterion.h>

#include "pyclient.h"

TestSuite(forecast, .timeout = 180);

Test(forecast, forecast_start_forecast_replenish_and_bad_requests) {
  sg_test_scenario("forecast", NULL, NULL);
}
