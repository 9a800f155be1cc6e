/* The Click service through the independent Python client: upload, scoring against a float64
 * reference, recommendations against a full sort, streaming, dynamic batching of real ScorePairs
 * calls, training on a learnable pattern, recommend-all, bad requests; models survive a restart. */
#include <criterion/criterion.h>
#include <signal.h>

#include "pyclient.h"
#include "server_fixture.h"

TestSuite(click, .timeout = 180);

Test(click, upload_score_recommend_stream_list_delete_and_bad_requests) {
  sg_test_scenario("click", NULL, NULL);
}

Test(click, train_recommend_and_recommend_all) { sg_test_scenario("click_train", NULL, NULL); }

Test(click, batched_score_pairs_calls_each_get_their_own_scores) {
  const char *flags[] = {"--backend", "cpu", "--cpu-workers", "1", "--batch-window-us",
                         "100000",    NULL};
  sg_test_scenario("click_batching", flags, NULL);
}

Test(click, models_are_served_again_after_a_restart) {
  sg_test_server a, b;
  cr_assert_eq(sg_test_server_start(&a, NULL), 0);
  cr_assert_eq(sg_test_pyclient(&a, "click_restart_before", NULL), 0);
  cr_assert_eq(sg_test_server_stop(&a, SIGTERM, 20), 0);
  const char *flags[] = {"--data-dir", a.dir, NULL};
  cr_assert_eq(sg_test_server_start(&b, flags), 0);
  cr_expect_eq(sg_test_pyclient(&b, "click_restart_after", NULL), 0);
  cr_expect_eq(sg_test_server_stop(&b, SIGTERM, 20), 0);
  sg_test_server_cleanup(&b);
  sg_test_server_cleanup(&a);
}
