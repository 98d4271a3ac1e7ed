/* jsonschema.h — a JSON Schema (draft-07) validator on cJSON.
 *
 * Supported keywords (everything our schemas use, each passing its files of the
 * official JSON-Schema-Test-Suite): type, properties, required, additionalProperties,
 * patternProperties, items, enum, const, minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum, minLength, maxLength (in code points), pattern (POSIX ERE subset
 * of ECMA 262), minItems, maxItems, $ref to "#/definitions/..." (and "#"), definitions,
 * and the formats "date" and "date-time" (strict RFC 3339: real calendar dates,
 * offset required). Unknown keywords are ignored, as the specification says.
 *
 * Errors name the JSON path of the offending value, e.g.
 *   "values.deaths: must be ≥ 0"   "period: must match format \"date\""
 * The root is written "(root)".
 */
#ifndef WP_JSONSCHEMA_H
#define WP_JSONSCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

struct wp_schema;

/* Compiles a schema document. The schema keeps its own copy of what it needs; the
 * caller still owns `doc`. Returns NULL with a message in err on a malformed schema
 * (e.g. a pattern that does not compile or a $ref that does not resolve). */
struct wp_schema *wp_schema_compile(const cJSON *doc, char *err, size_t errlen);

/* Parses text then compiles it. */
struct wp_schema *wp_schema_compile_text(const char *text, char *err, size_t errlen);

/* Frees the schema and sets *schema to NULL. Accepts NULL and *schema == NULL. */
void wp_schema_free(struct wp_schema **schema);

/* Returns true if instance is valid. Otherwise returns false and, if err is not NULL,
 * writes the first violation found as "<path>: <message>" (UTF-8, NUL-terminated,
 * truncated to errlen). Safe on any cJSON tree, however deep (depth is bounded: an
 * instance nested deeper than 256 levels is invalid, not a crash). */
bool wp_schema_validate(const struct wp_schema *schema, const cJSON *instance, char *err,
                        size_t errlen);

#endif
