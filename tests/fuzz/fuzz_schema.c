/* fuzz_schema.c — the JSON Schema compiler and validator (common/jsonschema*.c) on
 * arbitrary schemas: the input is a schema, a NUL byte, then an instance. The schema is
 * compiled with wp_schema_compile_text (ECMA 262 patterns translated to POSIX ERE, $refs
 * resolved, loops refused); if it compiles, the instance is parsed and validated.
 * Contract (jsonschema.h): a malformed schema is refused with a reason, never a crash; a
 * compiled one judges any instance, with a reason when it is invalid.
 */
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "jsonschema.h"

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
    const uint8_t *nul = memchr(data, '\0', size);
    size_t schema_len = nul ? (size_t)(nul - data) : size;
    char *schema_text = malloc(schema_len + 1);
    if (!schema_text)
        return 0;
    memcpy(schema_text, data, schema_len);
    schema_text[schema_len] = '\0';

    char err[512];
    memset(err, 0x5a, sizeof err);
    struct wp_schema *schema = wp_schema_compile_text(schema_text, err, sizeof err);
    free(schema_text);
    if (!schema) {
        FUZZ_CHECK(fuzz_terminated(err, sizeof err) && err[0] != '\0',
                   "schema refused without a reason");
        return 0;
    }
    if (nul) {
        const char *instance = (const char *)nul + 1;
        cJSON *doc = cJSON_ParseWithLength(instance, size - schema_len - 1);
        if (doc) {
            char why[512];
            memset(why, 0x5a, sizeof why);
            bool valid = wp_schema_validate(schema, doc, why, sizeof why);
            FUZZ_CHECK(valid || (fuzz_terminated(why, sizeof why) && why[0] != '\0'),
                       "invalid without a reason");
            cJSON_Delete(doc);
        }
    }
    wp_schema_free(&schema);
    FUZZ_CHECK(schema == NULL, "wp_schema_free did not NULL the pointer");
    return 0;
}
