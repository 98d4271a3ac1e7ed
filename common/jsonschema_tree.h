/* jsonschema_tree.h — internal to the validator: the compiled form of a schema, shared
 * by jsonschema_compile.c (which builds it) and jsonschema.c (which walks it).
 * Nothing outside common/jsonschema*.c includes this; the public API is jsonschema.h.
 */
#ifndef WP_JSONSCHEMA_TREE_H
#define WP_JSONSCHEMA_TREE_H

#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define JSONSCHEMA_MAX_INSTANCE_DEPTH 256  /* containers nested in an instance (jsonschema.h) */
#define JSONSCHEMA_MAX_EVAL_DEPTH 2048     /* nested node evaluations: a backstop for the stack */
#define JSONSCHEMA_PATH_MAX 1024

enum type_bit {
    T_NULL = 1, T_BOOLEAN = 2, T_OBJECT = 4, T_ARRAY = 8, T_NUMBER = 16, T_STRING = 32,
    T_INTEGER = 64,
};
extern const char *const jsonschema__type_names[7];   /* by bit position of type_bit */

enum node_kind { NODE_TRUE, NODE_FALSE, NODE_REF, NODE_OBJECT };
enum bound_bit { HAS_MINIMUM = 1, HAS_MAXIMUM = 2, HAS_EXCL_MINIMUM = 4, HAS_EXCL_MAXIMUM = 8 };
enum format { FORMAT_NONE, FORMAT_DATE, FORMAT_DATE_TIME };

struct node;
struct node_list {
    struct node **items;
    size_t count;
};
struct property {
    const char *name;            /* points into wp_schema.doc */
    struct node *schema;
};
/* Fast patterns (jsonschema_pattern.c): a schema's simple pattern — anchored, ASCII
 * characters and classes with bounds, groups of alternatives — compiled for a matcher
 * that needs no regexec. compile returns NULL for any other pattern (and when out of
 * memory): regexec, always compiled too, then answers. match returns 1 or 0 for a match
 * or none, -1 when it gave up (a step budget): regexec answers then as well. */
struct jsonschema_fast_pattern;
struct jsonschema_fast_pattern *jsonschema__fast_pattern_compile(const char *ecma_source);
int jsonschema__fast_pattern_match(const struct jsonschema_fast_pattern *p, const char *s);
void jsonschema__fast_pattern_free(struct jsonschema_fast_pattern *p);

struct pattern_property {
    regex_t regex;
    struct jsonschema_fast_pattern *fast;   /* NULL: regex only */
    const char *source;
    struct node *schema;
};

/* One compiled (sub)schema. Every pointer into JSON points into wp_schema.doc, the
 * schema's private copy, so nothing here is copied twice. */
struct node {
    const cJSON *source;         /* the schema JSON this node was compiled from */
    enum node_kind kind;
    struct node *ref;            /* NODE_REF: the target; draft-07 ignores the siblings */
    unsigned types;              /* enum type_bit mask; 0 = any type */
    const cJSON *enum_values;
    const cJSON *const_value;
    unsigned bounds;             /* enum bound_bit mask */
    double minimum, maximum, exclusive_minimum, exclusive_maximum;
    long long min_length, max_length, min_items, max_items;   /* -1 = absent */
    bool has_pattern;
    regex_t pattern;
    struct jsonschema_fast_pattern *pattern_fast;   /* NULL: regex only */
    const char *pattern_source;
    enum format format;
    const cJSON *required;       /* array of strings */
    struct property *properties;
    size_t property_count;
    struct pattern_property *pattern_properties;
    size_t pattern_property_count;
    struct node *additional_properties;
    struct node *items;          /* items as one schema for every element */
    bool tuple_form;             /* items was an array: tuple holds one schema per position */
    struct node_list tuple;
    struct node *additional_items;
    struct node_list all_of, any_of, one_of;
    struct node *not_schema;
    int visit;                   /* cycle check: 0 unseen, 1 on the path, 2 done */
};

struct wp_schema {
    cJSON *doc;
    struct node **nodes;         /* every node, for lookup by source and for freeing */
    size_t node_count, node_cap;
    struct node *root;
};

/* A location in a JSON document, as errors print it: "values.deaths", "rejected[2].seq",
 * ["odd key"]; the empty path prints as "(root)". Pushes return the previous length, to
 * hand back to jsonschema__path_pop; a path too long for the buffer is cut, never overrun. */
struct jsonschema_path {
    char text[JSONSCHEMA_PATH_MAX];
    size_t len;
};

size_t jsonschema__path_push_key(struct jsonschema_path *p, const char *key);
size_t jsonschema__path_push_index(struct jsonschema_path *p, size_t index);
void jsonschema__path_pop(struct jsonschema_path *p, size_t old_len);

/* Writes "<path>: <message>" into err (errlen > 0), truncating. */
void jsonschema__format_error(char *err, size_t errlen, const struct jsonschema_path *p,
                              const char *fmt, va_list ap);

#endif
