/* jsonschema.h — a JSON Schema (draft-07) validator on cJSON.
 *
 * Supported keywords (everything our schemas use, each passing its files of the
 * official JSON-Schema-Test-Suite, see tests/unit/test_jsonschema.c): type ("integer"
 * is any number without a fractional part, so 1.0 is one), properties, required,
 * additionalProperties, patternProperties, items (one schema or a tuple),
 * additionalItems, enum, const (deep equality, 1 == 1.0), minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum (draft-07 numbers), minLength, maxLength (in code
 * points), pattern, minItems, maxItems, $ref, definitions, allOf, anyOf, oneOf, not,
 * boolean schemas, and the formats "date" and "date-time" (strict RFC 3339: real
 * calendar dates, offset required; timefmt.h). Unknown keywords and other formats are
 * ignored, as the specification says.
 *
 * Patterns (pattern, patternProperties) are ECMA 262 as the specification says,
 * translated to POSIX ERE and searched unanchored. \d \D \w \W \s \S, (?:...), lazy
 * quantifiers and \uXXXX work; a pattern needing what ERE lacks (lookaround,
 * back-references, \b) is refused at compile time, never silently misread.
 *
 * $ref resolves within the same document only: "#" and JSON pointers such as
 * "#/definitions/NAME" (~0, ~1 and %-escapes decoded). As draft-07 says, the other
 * keywords beside a $ref are ignored. A schema whose $refs (through allOf, anyOf,
 * oneOf, not) loop without descending into the instance is refused at compile time.
 *
 * Errors name the JSON path of the offending value, e.g.
 *   "values.deaths: must be ≥ 0"   "period: must match format \"date\""
 *   "rejected[2].seq: must be an integer"   "(root): unknown property \"foo\""
 * The root is written "(root)"; a key that is not a plain word is written ["a key"].
 * A failed anyOf/oneOf quotes what its first branch says (list the likeliest first).
 *
 * A compiled schema is immutable: validating with it from several threads is safe.
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

/* Parses text (NUL-terminated) then compiles it; "schema is not valid JSON (at byte N)"
 * if it does not parse. */
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
