/* test_status_payload — the retained status messages of the agent and the aggregator
 * (common/status_payload.c): the exact bytes each published before they shared one
 * builder, and each valid against its schema. */
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "schema_registry.h"
#include "status_payload.h"

static void check_payload(const struct wp_status *status, const char *schema,
                          const char *expected)
{
    char *text = wp_status_encode(status);
    CHECK_STR(text, expected);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    char why[256] = "";
    CHECK(doc && wp_schemas_validate(schema, doc, why, sizeof why));
    if (why[0])
        fprintf(stderr, "  %s: %s\n", schema, why);
    cJSON_Delete(doc);
    free(text);
}

static const struct {
    struct wp_status status;
    const char *schema, *payload;
} cases[] = {
    /* a ward's birth and its Last Will */
    {{.ward = "00001", .state = "online", .since = "2022-05-03T07:30:00+07:00",
      .version = "0.1.0", .queued = 3},
     "status",
     "{\"v\":1,\"ward\":\"00001\",\"state\":\"online\",\"since\":\"2022-05-03T07:30:00+07:00\","
     "\"version\":\"0.1.0\",\"queued\":3}"},
    {{.ward = "00001", .state = "offline", .version = "0.1.0", .queued = -1},
     "status", "{\"v\":1,\"ward\":\"00001\",\"state\":\"offline\",\"version\":\"0.1.0\"}"},
    {{.ward = "001", .state = "offline", .since = "2022-05-03T07:30:00+07:00",
      .version = "0.1.0", .queued = 0},
     "status",
     "{\"v\":1,\"ward\":\"001\",\"state\":\"offline\",\"since\":\"2022-05-03T07:30:00+07:00\","
     "\"version\":\"0.1.0\",\"queued\":0}"},
    /* the aggregator's, with and without since (its Last Will) */
    {{.state = "online", .since = "2022-05-03T07:00:00+07:00", .version = "0.1.0",
      .queued = -1, .instance = "5be1c0a9d2f4e387", .client_id = "wardpulse-aggregator"},
     "aggregator_status",
     "{\"v\":1,\"state\":\"online\",\"version\":\"0.1.0\",\"since\":\"2022-05-03T07:00:00+07:00\","
     "\"instance\":\"5be1c0a9d2f4e387\",\"client_id\":\"wardpulse-aggregator\"}"},
    {{.state = "offline", .version = "0.1.0", .queued = -1, .instance = "5be1c0a9d2f4e387",
      .client_id = "wardpulse-aggregator"},
     "aggregator_status",
     "{\"v\":1,\"state\":\"offline\",\"version\":\"0.1.0\",\"instance\":\"5be1c0a9d2f4e387\","
     "\"client_id\":\"wardpulse-aggregator\"}"},
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_payload(&cases[i].status, cases[i].schema, cases[i].payload);
    return CHECK_DONE();
}
