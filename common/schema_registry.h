/* schema_registry.h — the project's own schemas, compiled into every binary.
 *
 * The build embeds schemas/<name>.schema.json as text (cmake/embed_schemas.cmake);
 * wp_schemas_get("report") compiles it on first use and keeps it for the life of the
 * process. Names: report, ack, status, stats, alert, level, orgunits, catalog, plan.
 *
 * The table is generated: libwpcommon holds one with every schema (the aggregator, the
 * CLI, the tests); a binary that needs only a few links its own, generated from the
 * names it lists (wardpulse-agent: ack and report, agent/CMakeLists.txt), before the
 * library, so the library's table stays out of it. This registry reads whichever table
 * the binary has; a name that table lacks is the logged bug below.
 */
#ifndef WP_SCHEMA_REGISTRY_H
#define WP_SCHEMA_REGISTRY_H

#include "jsonschema.h"

struct wp_embedded_schema {
    const char *name;
    const char *text;
};

/* Generated table, ending with {NULL, NULL}. */
extern const struct wp_embedded_schema wp_embedded_schemas[];

/* Returns the compiled schema `name`, owned by the registry (never free it), or NULL
 * if there is no such schema (a bug: logged once). Not thread-safe on first use. */
const struct wp_schema *wp_schemas_get(const char *name);

/* Validates doc against the schema `name`; same contract as wp_schema_validate. */
bool wp_schemas_validate(const char *name, const cJSON *doc, char *err, size_t errlen);

/* Frees every compiled schema (for leak checkers at exit). */
void wp_schemas_release(void);

#endif
