/* fuzz_plan.c — the plan documents (orgunits.json, catalog.json, plan.json) on arbitrary
 * bytes: parsed with cJSON and validated against the embedded schemas, as the aggregator
 * checks a plan before it takes it (and `wardpulse validate` does by hand). When the
 * aggregator gains a plan loader that goes further (units and indicators cross-checked),
 * call it here too. Contract (jsonschema.h): any document, however deep or large, gets a
 * verdict, and an invalid one a reason.
 */
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "schema_registry.h"

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
    static const char *const names[] = {"orgunits", "catalog", "plan"};
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    if (!doc)
        return 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char why[512];
        memset(why, 0x5a, sizeof why);
        bool valid = wp_schemas_validate(names[i], doc, why, sizeof why);
        FUZZ_CHECK(valid || (fuzz_terminated(why, sizeof why) && why[0] != '\0'),
                   "%s: invalid without a reason", names[i]);
    }
    cJSON_Delete(doc);
    return 0;
}
