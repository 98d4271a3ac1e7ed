/* fuzz_ack.c — the agent's ack handling on arbitrary bytes: ack_decode (agent/ack.c), as
 * the agent's publisher calls it for every message on wardpulse/v1/ack/<ward>; and, on
 * the same bytes, the "ack" schema after a cJSON parse (what any other reader of acks
 * does). Contract (ack.h): WP_OK only for an ack of this ward and stream, with every
 * rejection carrying a reason; otherwise a reason and nothing left allocated.
 */
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ack.h"
#include "fuzz_common.h"
#include "schema_registry.h"

#define FUZZ_WARD "00001"
#define FUZZ_STREAM "9f1c2a7e4b5d6c3a"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ack ack;
    char err[512];
    enum wp_err rc = ack_decode(data, size, FUZZ_WARD, FUZZ_STREAM, &ack, err, sizeof err);
    if (rc == WP_OK) {
        FUZZ_CHECK(ack.doc != NULL, "an accepted ack has no document");
        FUZZ_CHECK(ack.acked_through >= 0, "acked_through %lld", (long long)ack.acked_through);
        FUZZ_CHECK(ack.rejected_count == 0 || ack.rejected != NULL, "rejections lost");
        for (size_t i = 0; i < ack.rejected_count; i++)
            FUZZ_CHECK(ack.rejected[i].reason != NULL && ack.rejected[i].seq >= 1,
                       "rejection %zu: seq %lld", i, (long long)ack.rejected[i].seq);
        ack_clear(&ack);
    } else {
        FUZZ_CHECK(rc == WP_ERR_INVALID || rc == WP_ERR_NOMEM, "unexpected result %d", (int)rc);
        FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0] != '\0', "no reason given");
        FUZZ_CHECK(ack.doc == NULL && ack.rejected == NULL, "a refused ack holds allocations");
    }

    /* The schema alone, as a reader other than the agent would check an ack. */
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    if (doc) {
        char why[512];
        bool valid = wp_schemas_validate("ack", doc, why, sizeof why);
        FUZZ_CHECK(valid || (fuzz_terminated(why, sizeof why) && why[0] != '\0'),
                   "invalid without a reason");
        cJSON_Delete(doc);
    }
    return 0;
}
