/* jsonschema_compile.c — turns a schema document into the tree of jsonschema_tree.h:
 * keywords checked once, patterns translated and compiled, $refs resolved to nodes. */
#include "jsonschema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "jsonschema_tree.h"

#define MAX_COMPILE_DEPTH 512    /* subschemas nested while compiling, refs included */

const char *const jsonschema__type_names[7] = {"null",   "boolean", "object", "array",
                                               "number", "string",  "integer"};

struct compiler {
    struct wp_schema *schema;
    struct jsonschema_path path; /* where in the schema document, for error messages */
    char *err;
    size_t errlen;
    int depth;
};

__attribute__((format(printf, 2, 3)))
static bool compile_error(struct compiler *c, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        jsonschema__format_error(c->err, c->errlen, &c->path, fmt, ap);
        va_end(ap);
    }
    return false;
}

static struct node *compile_node(struct compiler *c, const cJSON *json);

static int hex_value(char h)
{
    return h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
         : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
}

/* Appends one byte-for-byte UTF-8 encoding of code point cp; returns its length. */
static size_t utf8_encode(unsigned cp, char *out)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | cp >> 12); out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

/* Translates an ECMA 262 pattern into a POSIX ERE with the same matches, or fails with
 * *why naming the ECMA feature ERE lacks. Schemas are written for ECMA (what JSON Schema
 * specifies); regcomp would silently give some escapes another meaning ("\d" is "d" in
 * glibc ERE), so everything unknown is refused rather than passed through.
 * out must hold 16 * strlen(src) + 1 bytes. Known difference: ECMA "." does not match
 * line terminators, ERE "." does. */
static bool ecma_to_ere(const char *src, char *out, const char **why)
{
    static const char ere_special[] = ".[]()*+?{}|^$\\";
    bool in_class = false, after_quantifier = false;
    char *o = out;
    for (const char *s = src; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        /* ECMA refuses a quantifier on a quantifier ("a++": nothing to repeat), and glibc
         * would accept it and duplicate its tree for each one, exponentially: a schema
         * pattern must never be able to exhaust the daemon's memory. */
        bool was_quantifier = after_quantifier;
        after_quantifier = false;
        if (ch == '\\') {
            char e = *++s;
            const char *set = e == 'd' || e == 'D' ? "0-9" : e == 'w' || e == 'W'
                              ? "A-Za-z0-9_" : e == 's' || e == 'S' ? "[:space:]" : NULL;
            bool negated = e == 'D' || e == 'W' || e == 'S';
            unsigned cp = 0;
            int hex = e == 'u' ? 4 : e == 'x' ? 2 : 0;
            if (set && in_class && negated) {
                *why = "a negated class escape inside [...]";
                return false;
            } else if (set) {
                o += sprintf(o, in_class ? "%s" : negated ? "[^%s]" : "[%s]", set);
                continue;
            } else if (hex) {
                for (int i = 1; i <= hex; i++) {
                    if (hex_value(s[i]) < 0) {
                        *why = "a malformed \\x or \\u escape";
                        return false;
                    }
                    cp = cp * 16 + (unsigned)hex_value(s[i]);
                }
                s += hex;
            } else if (e == 'n' || e == 't' || e == 'r' || e == 'f' || e == 'v') {
                cp = (unsigned char)(e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r'
                                     : e == 'f' ? '\f' : '\v');
            } else if (e && !((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')
                              || (e >= '0' && e <= '9'))) {
                cp = (unsigned char)e;               /* an escaped punctuation character */
            } else {
                *why = e ? "an escape (\\b, \\B, back-reference, ...) POSIX ERE lacks"
                         : "a trailing backslash";
                return false;
            }
            if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)
                || (in_class && (cp >= 0x80 || cp == ']' || cp == '-' || cp == '^'))) {
                *why = "a character POSIX ERE cannot write there (NUL, a surrogate, "
                       "or ] - ^ or non-ASCII inside [...])";
                return false;
            }
            char bytes[4];
            size_t n = utf8_encode(cp, bytes);
            if (n > 1)
                o += sprintf(o, "(%.*s)", (int)n, bytes);
            else if (!in_class && strchr(ere_special, (int)cp))
                o += sprintf(o, "\\%c", (char)cp);
            else
                *o++ = (char)cp;
        } else if (in_class) {
            if (ch >= 0x80 || (ch == '[' && s[1] && strchr(":.=", s[1]))) {
                *why = "non-ASCII or [: :] inside [...]";
                return false;
            }
            in_class = ch != ']';
            *o++ = (char)ch;
        } else if (ch == '[') {
            *o++ = *s;
            if (s[1] == '^')
                *o++ = *++s;
            if (s[1] == ']') {
                *why = "an empty class [] or [^]";
                return false;
            }
            in_class = true;
        } else if (ch == '(' && s[1] == '?') {
            if (s[2] != ':') {
                *why = "lookaround or named groups";
                return false;
            }
            *o++ = '(';
            s += 2;
        } else if (ch == '{' || ch == '}') {
            /* ECMA reads a brace that is not a complete bound as a literal character. */
            size_t digits = strspn(s + 1, "0123456789"), more = 0;
            if (ch == '{' && digits && s[1 + digits] == ',')
                more = 1 + strspn(s + 2 + digits, "0123456789");
            if (ch == '{' && digits && s[1 + digits + more] == '}') {
                if (was_quantifier) {
                    *why = "a quantifier after a quantifier (nothing to repeat)";
                    return false;
                }
                after_quantifier = true;
                memcpy(o, s, digits + more + 2);
                o += digits + more + 2;
                s += digits + more + 1;
                if (s[1] == '?')
                    s++;                 /* lazy or greedy, a match is a match */
            } else {
                o += sprintf(o, "\\%c", ch);
            }
        } else if (ch == '*' || ch == '+' || ch == '?') {
            if (was_quantifier) {
                *why = "a quantifier after a quantifier (nothing to repeat)";
                return false;
            }
            after_quantifier = true;
            *o++ = (char)ch;
            if (s[1] == '?')
                s++;                     /* lazy quantifier: same verdict under REG_NOSUB */
        } else if (ch >= 0xC0) {
            /* A multi-byte character stays one atom for a following quantifier. */
            size_t n = 1;
            while (((unsigned char)s[n] & 0xC0) == 0x80)
                n++;
            o += sprintf(o, "(%.*s)", (int)n, s);
            s += n - 1;
        } else {
            *o++ = (char)ch;
        }
    }
    *o = '\0';
    if (in_class)
        *why = "an unterminated [...]";
    return !in_class;
}

static bool compile_regex(struct compiler *c, regex_t *re, const char *source)
{
    const char *why = NULL;
    char *ere = malloc(16 * strlen(source) + 1);
    if (!ere)
        return compile_error(c, "out of memory");
    bool ok = ecma_to_ere(source, ere, &why);
    int rc = ok ? regcomp(re, ere, REG_EXTENDED | REG_NOSUB) : 0;
    free(ere);
    if (!ok)
        return compile_error(c, "pattern \"%s\" uses %s", source, why);
    if (rc != 0) {
        char msg[128];
        regerror(rc, NULL, msg, sizeof msg);
        return compile_error(c, "pattern \"%s\" does not compile: %s", source, msg);
    }
    return true;
}

/* Resolves a same-document $ref: "#" or "#/json/pointer", %-decoded then ~1 → "/" and
 * ~0 → "~" per token (RFC 6901, RFC 3986). Returns NULL if it does not resolve. */
static const cJSON *resolve_pointer(const cJSON *doc, const char *ref)
{
    if (ref[0] != '#')
        return NULL;                     /* another document: not supported */
    size_t n = strlen(ref);
    char *decoded = malloc(n + 1), *token = malloc(n + 1), *d = decoded;
    const cJSON *at = doc;
    if (!decoded || !token) {
        at = NULL;
        goto cleanup;
    }
    for (const char *s = ref + 1; *s; s++) {
        if (*s == '%' && hex_value(s[1]) >= 0 && hex_value(s[2]) >= 0
            && (s[1] != '0' || s[2] != '0')) {
            *d++ = (char)(hex_value(s[1]) * 16 + hex_value(s[2]));
            s += 2;
        } else {
            *d++ = *s;
        }
    }
    *d = '\0';
    if (decoded[0] != '\0' && decoded[0] != '/') {
        at = NULL;                       /* plain-name fragments need $id: not supported */
        goto cleanup;
    }
    for (const char *s = decoded; at && *s == '/';) {
        char *t = token;
        for (s++; *s && *s != '/'; s++) {
            if (*s == '~' && (s[1] == '0' || s[1] == '1'))
                *t++ = *++s == '1' ? '/' : '~';
            else
                *t++ = *s;
        }
        *t = '\0';
        if (cJSON_IsObject(at)) {
            at = cJSON_GetObjectItemCaseSensitive(at, token);
        } else if (cJSON_IsArray(at) && token[0] && strspn(token, "0123456789") == strlen(token)
                   && (token[0] != '0' || token[1] == '\0') && strlen(token) < 10) {
            at = cJSON_GetArrayItem(at, atoi(token));
        } else {
            at = NULL;
        }
    }
cleanup:
    free(decoded);
    free(token);
    return at;
}

/* ---- keyword compilers: one per keyword, found through the table below ---- */

typedef bool keyword_fn(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                        unsigned flag);

static bool kw_type(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                    unsigned flag)
{
    (void)offset, (void)flag;
    const cJSON *one = value;
    if (cJSON_IsArray(value))
        one = value->child;
    for (; one; one = cJSON_IsArray(value) ? one->next : NULL) {
        size_t i = 0;
        while (i < 7 && !(cJSON_IsString(one)
                          && strcmp(one->valuestring, jsonschema__type_names[i]) == 0))
            i++;
        if (i == 7)
            return compile_error(c, "type must be one of null, boolean, object, array, "
                                    "number, string, integer, or an array of them");
        n->types |= 1u << i;
    }
    return true;
}

static bool kw_json(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                    unsigned flag)
{
    (void)flag;
    if (offset == offsetof(struct node, enum_values) && !cJSON_IsArray(value))
        return compile_error(c, "enum must be an array");
    *(const cJSON **)((char *)n + offset) = value;
    return true;
}

static bool kw_bound(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                     unsigned flag)
{
    if (!cJSON_IsNumber(value))
        return compile_error(c, "must be a number");
    *(double *)((char *)n + offset) = value->valuedouble;
    n->bounds |= flag;
    return true;
}

static bool kw_count(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                     unsigned flag)
{
    (void)flag;
    if (!cJSON_IsNumber(value) || value->valuedouble < 0 || value->valuedouble > 1e15
        || value->valuedouble != floor(value->valuedouble))
        return compile_error(c, "must be a non-negative integer");
    *(long long *)((char *)n + offset) = (long long)value->valuedouble;
    return true;
}

static bool kw_pattern(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                       unsigned flag)
{
    (void)offset, (void)flag;
    if (!cJSON_IsString(value))
        return compile_error(c, "must be a string");
    if (!compile_regex(c, &n->pattern, value->valuestring))
        return false;
    n->has_pattern = true;
    n->pattern_fast = jsonschema__fast_pattern_compile(value->valuestring);
    n->pattern_source = value->valuestring;
    return true;
}

static bool kw_format(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                      unsigned flag)
{
    (void)offset, (void)flag;
    if (!cJSON_IsString(value))
        return compile_error(c, "must be a string");
    /* Other formats are annotations only, as draft-07 allows. */
    n->format = strcmp(value->valuestring, "date") == 0        ? FORMAT_DATE
              : strcmp(value->valuestring, "date-time") == 0   ? FORMAT_DATE_TIME
                                                               : FORMAT_NONE;
    return true;
}

static bool kw_required(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                        unsigned flag)
{
    (void)offset, (void)flag;
    const cJSON *name;
    if (!cJSON_IsArray(value))
        return compile_error(c, "must be an array of strings");
    cJSON_ArrayForEach(name, value)
        if (!cJSON_IsString(name))
            return compile_error(c, "must be an array of strings");
    n->required = value;
    return true;
}

static bool kw_subschema(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                         unsigned flag)
{
    (void)flag;
    struct node *sub = compile_node(c, value);
    *(struct node **)((char *)n + offset) = sub;
    return sub != NULL;
}

static bool kw_schema_list(struct compiler *c, struct node *n, const cJSON *value,
                           size_t offset, unsigned flag)
{
    struct node_list *list = (struct node_list *)((char *)n + offset);
    const cJSON *item;
    if (!cJSON_IsArray(value) || (!value->child && !flag))
        return compile_error(c, "must be a non-empty array of schemas");
    list->items = calloc((size_t)cJSON_GetArraySize(value) + 1, sizeof *list->items);
    if (!list->items)
        return compile_error(c, "out of memory");
    cJSON_ArrayForEach(item, value) {
        size_t mark = jsonschema__path_push_index(&c->path, list->count);
        list->items[list->count] = compile_node(c, item);
        jsonschema__path_pop(&c->path, mark);
        if (!list->items[list->count++])
            return false;
    }
    return true;
}

static bool kw_items(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                     unsigned flag)
{
    (void)offset, (void)flag;
    if (!cJSON_IsArray(value))
        return kw_subschema(c, n, value, offsetof(struct node, items), 0);
    n->tuple_form = true;
    return kw_schema_list(c, n, value, offsetof(struct node, tuple), 1);
}

/* properties, patternProperties and definitions: objects whose members are schemas. */
static bool kw_schema_map(struct compiler *c, struct node *n, const cJSON *value, size_t offset,
                          unsigned flag)
{
    (void)flag;
    const cJSON *member;
    size_t count = (size_t)cJSON_GetArraySize(value);
    if (!cJSON_IsObject(value))
        return compile_error(c, "must be an object whose values are schemas");
    if (offset == offsetof(struct node, properties)
        && !(n->properties = calloc(count + 1, sizeof *n->properties)))
        return compile_error(c, "out of memory");
    if (offset == offsetof(struct node, pattern_properties)
        && !(n->pattern_properties = calloc(count + 1, sizeof *n->pattern_properties)))
        return compile_error(c, "out of memory");
    cJSON_ArrayForEach(member, value) {
        size_t mark = jsonschema__path_push_key(&c->path, member->string);
        struct node *sub = compile_node(c, member);
        bool ok = sub != NULL;
        if (ok && offset == offsetof(struct node, properties)) {
            n->properties[n->property_count++] = (struct property){member->string, sub};
        } else if (ok && offset == offsetof(struct node, pattern_properties)) {
            struct pattern_property *pp = &n->pattern_properties[n->pattern_property_count];
            ok = compile_regex(c, &pp->regex, member->string);
            if (ok) {
                pp->fast = jsonschema__fast_pattern_compile(member->string);
                pp->source = member->string;
                pp->schema = sub;
                n->pattern_property_count++;
            }
        }
        jsonschema__path_pop(&c->path, mark);
        if (!ok)
            return false;
    }
    return true;
}

static const struct keyword {
    const char *name;
    keyword_fn *compile;
    size_t offset;               /* the node field filled, for handlers shared by keywords */
    unsigned flag;
} keywords[] = {
    {"type", kw_type, 0, 0},
    {"enum", kw_json, offsetof(struct node, enum_values), 0},
    {"const", kw_json, offsetof(struct node, const_value), 0},
    {"minimum", kw_bound, offsetof(struct node, minimum), HAS_MINIMUM},
    {"maximum", kw_bound, offsetof(struct node, maximum), HAS_MAXIMUM},
    {"exclusiveMinimum", kw_bound, offsetof(struct node, exclusive_minimum), HAS_EXCL_MINIMUM},
    {"exclusiveMaximum", kw_bound, offsetof(struct node, exclusive_maximum), HAS_EXCL_MAXIMUM},
    {"minLength", kw_count, offsetof(struct node, min_length), 0},
    {"maxLength", kw_count, offsetof(struct node, max_length), 0},
    {"pattern", kw_pattern, 0, 0},
    {"format", kw_format, 0, 0},
    {"minItems", kw_count, offsetof(struct node, min_items), 0},
    {"maxItems", kw_count, offsetof(struct node, max_items), 0},
    {"items", kw_items, 0, 0},
    {"additionalItems", kw_subschema, offsetof(struct node, additional_items), 0},
    {"required", kw_required, 0, 0},
    {"properties", kw_schema_map, offsetof(struct node, properties), 0},
    {"patternProperties", kw_schema_map, offsetof(struct node, pattern_properties), 0},
    {"additionalProperties", kw_subschema, offsetof(struct node, additional_properties), 0},
    {"definitions", kw_schema_map, 0, 0},   /* compiled to check them; $refs find them */
    {"allOf", kw_schema_list, offsetof(struct node, all_of), 0},
    {"anyOf", kw_schema_list, offsetof(struct node, any_of), 0},
    {"oneOf", kw_schema_list, offsetof(struct node, one_of), 0},
    {"not", kw_subschema, offsetof(struct node, not_schema), 0},
};

/* Compiles the schema at json (inside c->schema->doc). A subschema reached twice (say by
 * its place and by a $ref) is compiled once: the node is registered before its children
 * are compiled, which is also what makes $ref cycles terminate. */
static struct node *compile_node(struct compiler *c, const cJSON *json)
{
    struct wp_schema *schema = c->schema;
    for (size_t i = 0; i < schema->node_count; i++)
        if (schema->nodes[i]->source == json)
            return schema->nodes[i];
    if (c->depth >= MAX_COMPILE_DEPTH)
        return compile_error(c, "schema nested too deeply"), NULL;
    if (!WP_ARRAY_RESERVE(schema->nodes, schema->node_cap, schema->node_count + 1))
        return compile_error(c, "out of memory"), NULL;
    struct node *n = calloc(1, sizeof *n);
    if (!n)
        return compile_error(c, "out of memory"), NULL;
    schema->nodes[schema->node_count++] = n;
    n->source = json;
    n->min_length = n->max_length = n->min_items = n->max_items = -1;
    if (cJSON_IsBool(json)) {
        n->kind = cJSON_IsTrue(json) ? NODE_TRUE : NODE_FALSE;
        return n;
    }
    if (!cJSON_IsObject(json))
        return compile_error(c, "a schema must be an object or a boolean"), NULL;

    c->depth++;
    bool ok = true;
    const cJSON *ref = cJSON_GetObjectItemCaseSensitive(json, "$ref");
    if (ref) {
        const cJSON *target = cJSON_IsString(ref) ? resolve_pointer(schema->doc,
                                                                    ref->valuestring) : NULL;
        n->kind = NODE_REF;
        if (!target)
            ok = compile_error(c, "$ref %s does not resolve in this document",
                               cJSON_IsString(ref) ? ref->valuestring : "(not a string)");
        else
            ok = (n->ref = compile_node(c, target)) != NULL;
    } else {
        n->kind = NODE_OBJECT;
    }
    const cJSON *member;
    cJSON_ArrayForEach(member, json) {
        for (size_t i = 0; ok && i < sizeof keywords / sizeof keywords[0]; i++) {
            const struct keyword *k = &keywords[i];
            /* Beside $ref only definitions matter (to compile-check them). */
            if (strcmp(member->string, k->name) != 0 || (ref && strcmp(k->name, "definitions")))
                continue;
            /* cJSON keeps duplicate keys; a second one would overwrite (and leak) the first */
            for (const cJSON *before = json->child; ok && before != member; before = before->next)
                if (strcmp(before->string, member->string) == 0)
                    ok = compile_error(c, "duplicate keyword \"%s\"", member->string);
            if (!ok)
                break;
            size_t mark = jsonschema__path_push_key(&c->path, k->name);
            ok = k->compile(c, n, member, k->offset, k->flag);
            jsonschema__path_pop(&c->path, mark);
        }
    }
    c->depth--;
    return ok ? n : NULL;
}

/* True if n reaches itself through $ref, allOf, anyOf, oneOf or not alone: such a schema
 * would evaluate the same instance forever. */
static bool in_place_cycle(struct node *n, int depth)
{
    if (n->visit == 1 || depth > JSONSCHEMA_MAX_EVAL_DEPTH)
        return true;
    if (n->visit == 2)
        return false;
    n->visit = 1;
    const struct node_list *lists[] = {&n->all_of, &n->any_of, &n->one_of};
    if ((n->ref && in_place_cycle(n->ref, depth + 1))
        || (n->not_schema && in_place_cycle(n->not_schema, depth + 1)))
        return true;
    for (size_t l = 0; l < 3; l++)
        for (size_t i = 0; i < lists[l]->count; i++)
            if (in_place_cycle(lists[l]->items[i], depth + 1))
                return true;
    n->visit = 2;
    return false;
}

struct wp_schema *wp_schema_compile(const cJSON *doc, char *err, size_t errlen)
{
    struct compiler c = {.err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!doc)
        return compile_error(&c, "no schema"), NULL;
    c.schema = calloc(1, sizeof *c.schema);
    if (!c.schema || !(c.schema->doc = cJSON_Duplicate(doc, true))) {
        compile_error(&c, "out of memory");
        goto failed;
    }
    if (!(c.schema->root = compile_node(&c, c.schema->doc)))
        goto failed;
    for (size_t i = 0; i < c.schema->node_count; i++) {
        if (in_place_cycle(c.schema->nodes[i], 0)) {
            compile_error(&c, "a $ref cycle never descends into the instance (or is too deep)");
            goto failed;
        }
    }
    return c.schema;
failed:
    wp_schema_free(&c.schema);
    return NULL;
}

struct wp_schema *wp_schema_compile_text(const char *text, char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *doc = text ? cJSON_ParseWithOpts(text, &end, true) : NULL;
    if (!doc) {
        if (err && errlen)
            snprintf(err, errlen, "schema is not valid JSON (at byte %td)",
                     text && end ? end - text : (ptrdiff_t)0);
        return NULL;
    }
    struct wp_schema *schema = wp_schema_compile(doc, err, errlen);
    cJSON_Delete(doc);
    return schema;
}

void wp_schema_free(struct wp_schema **schema)
{
    if (!schema || !*schema)
        return;
    struct wp_schema *s = *schema;
    for (size_t i = 0; i < s->node_count; i++) {
        struct node *n = s->nodes[i];
        if (n->has_pattern)
            regfree(&n->pattern);
        jsonschema__fast_pattern_free(n->pattern_fast);
        for (size_t p = 0; p < n->pattern_property_count; p++) {
            regfree(&n->pattern_properties[p].regex);
            jsonschema__fast_pattern_free(n->pattern_properties[p].fast);
        }
        free(n->pattern_properties);
        free(n->properties);
        free(n->tuple.items);
        free(n->all_of.items);
        free(n->any_of.items);
        free(n->one_of.items);
        free(n);
    }
    free(s->nodes);
    cJSON_Delete(s->doc);
    free(s);
    *schema = NULL;
}

