#include "jsonschema.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonschema_tree.h"
#include "timefmt.h"

/* ---- paths: "values.deaths", "rejected[2].seq", "(root)" ---------------------------- */

size_t jsonschema__path_push_key(struct jsonschema_path *p, const char *key)
{
    size_t old = p->len;
    bool plain = *key && key[strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_-$")] == '\0';
    int n = snprintf(p->text + old, sizeof p->text - old, plain ? "%s%s" : "%s[\"%s\"]",
                     plain && old ? "." : "", key);
    p->len = n < 0 ? old : old + (size_t)n < sizeof p->text ? old + (size_t)n
                                                              : sizeof p->text - 1;
    return old;
}

size_t jsonschema__path_push_index(struct jsonschema_path *p, size_t index)
{
    size_t old = p->len;
    int n = snprintf(p->text + old, sizeof p->text - old, "[%zu]", index);
    p->len = n < 0 ? old : old + (size_t)n < sizeof p->text ? old + (size_t)n
                                                              : sizeof p->text - 1;
    return old;
}

void jsonschema__path_pop(struct jsonschema_path *p, size_t old)
{
    p->len = old;
    p->text[old] = '\0';
}

void jsonschema__format_error(char *err, size_t errlen, const struct jsonschema_path *p,
                              const char *fmt, va_list ap)
{
    /* A very deep path keeps its two ends, so that the message itself still fits. */
    int n = p->len == 0 ? snprintf(err, errlen, "(root): ")
          : p->len <= 160 ? snprintf(err, errlen, "%s: ", p->text)
          : snprintf(err, errlen, "%.60s...%s: ", p->text, p->text + p->len - 80);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

/* ---- validating ------------------------------------------------------------------------ */

static const char *const type_phrases[] = {"null", "a boolean", "an object", "an array",
                                           "a number", "a string", "an integer"};

/* One step of the path to the instance value being checked: a member's key, or (key
 * NULL) an element's index. The text ("values.deaths") is only written by fail(): on
 * the happy path a step costs two stores, not a snprintf per member. */
struct path_step {
    const char *key;
    size_t index;
};

struct validator {
    char *err;                   /* NULL: nobody reads the message, so none is formatted */
    size_t errlen;
    int quiet;                   /* > 0 inside anyOf/oneOf/not: a failure there is no error */
    int depth;
    /* Steps are pushed one per container level of the instance, which is at most
     * JSONSCHEMA_MAX_INSTANCE_DEPTH deep (checked before validating). */
    struct path_step steps[JSONSCHEMA_MAX_INSTANCE_DEPTH + 2];
    size_t step_count;
    /* For the words of the one message formatted per call. Kept here rather than in the
     * frames of the recursive functions, whose stack use bounds how deep we can go. */
    char scratch[1024];
};

__attribute__((format(printf, 2, 3)))
static bool fail(struct validator *v, const char *fmt, ...)
{
    if (v->quiet || !v->err)
        return false;
    struct jsonschema_path path;
    path.len = 0;
    path.text[0] = '\0';
    for (size_t i = 0; i < v->step_count; i++) {
        if (v->steps[i].key)
            jsonschema__path_push_key(&path, v->steps[i].key);
        else
            jsonschema__path_push_index(&path, v->steps[i].index);
    }
    va_list ap;
    va_start(ap, fmt);
    jsonschema__format_error(v->err, v->errlen, &path, fmt, ap);
    va_end(ap);
    v->err = NULL;               /* the first violation is the one reported */
    return false;
}

/* Steps are only noted when a message may be formatted: inside anyOf, oneOf and not,
 * or when the caller wants no message, they would be wasted work. Each returns the mark
 * to hand to leave(). */
static size_t enter_key(struct validator *v, const char *key)
{
    size_t mark = v->step_count;
    if (v->err && !v->quiet && mark < sizeof v->steps / sizeof v->steps[0])
        v->steps[v->step_count++] = (struct path_step){key, 0};
    return mark;
}

static size_t enter_index(struct validator *v, size_t index)
{
    size_t mark = v->step_count;
    if (v->err && !v->quiet && mark < sizeof v->steps / sizeof v->steps[0])
        v->steps[v->step_count++] = (struct path_step){NULL, index};
    return mark;
}

static void leave(struct validator *v, size_t mark)
{
    v->step_count = mark;
}

/* Does s match the pattern? The fast matcher when the pattern has one and it answers,
 * regexec otherwise (jsonschema_tree.h). */
static bool pattern_matches(const regex_t *re, const struct jsonschema_fast_pattern *fast,
                            const char *s)
{
    int verdict = fast ? jsonschema__fast_pattern_match(fast, s) : -1;
    return verdict >= 0 ? verdict == 1 : regexec(re, s, 0, NULL, 0) == 0;
}

static bool is_integer(double d)
{
    return isfinite(d) && d == floor(d);
}

static unsigned type_of(const cJSON *j)
{
    if (cJSON_IsNumber(j))
        return T_NUMBER | (is_integer(j->valuedouble) ? T_INTEGER : 0);
    return cJSON_IsNull(j) ? T_NULL : cJSON_IsBool(j) ? T_BOOLEAN : cJSON_IsObject(j) ? T_OBJECT
         : cJSON_IsArray(j) ? T_ARRAY : cJSON_IsString(j) ? T_STRING : 0;
}

/* Deep equality of JSON values: numbers by value (1 == 1.0), object members in any order. */
static bool json_equal(const cJSON *a, const cJSON *b)
{
    unsigned ta = type_of(a), tb = type_of(b);
    if (ta != tb || !ta)
        return false;            /* numbers too: 1 and 1.5 differ in T_INTEGER already */
    if (ta & T_NUMBER)
        return a->valuedouble == b->valuedouble;
    if (ta == T_BOOLEAN)
        return cJSON_IsTrue(a) == cJSON_IsTrue(b);
    if (ta == T_STRING)
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (ta != T_ARRAY && ta != T_OBJECT)
        return true;                     /* null */
    if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
        return false;
    for (const cJSON *x = a->child, *y = b->child; x; x = x->next, y = y->next) {
        const cJSON *other = ta == T_ARRAY ? y : cJSON_GetObjectItemCaseSensitive(b, x->string);
        if (!other || !json_equal(x, other))
            return false;
    }
    return true;
}

static const char *number_text(double d, char *buf, size_t size)
{
    snprintf(buf, size, "%.15g", d);
    if (strtod(buf, NULL) != d)
        snprintf(buf, size, "%.17g", d);
    return buf;
}

/* Appends the JSON text of value to buf (for enum and const messages). */
static void append_json(char *buf, size_t size, const cJSON *value, const char *separator)
{
    char *text = cJSON_PrintUnformatted(value);
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s%s", separator, text ? text : "?");
    free(text);
}

/* True if item holds containers nested more than `levels` deep. Bounded recursion. */
static bool deeper_than(const cJSON *item, int levels)
{
    if (!cJSON_IsArray(item) && !cJSON_IsObject(item))
        return false;
    if (levels == 0)
        return true;
    for (const cJSON *child = item->child; child; child = child->next)
        if (deeper_than(child, levels - 1))
            return true;
    return false;
}

static bool validate(struct validator *v, const struct node *n, const cJSON *inst);

static bool check_type_and_values(struct validator *v, const struct node *n, const cJSON *inst)
{
    unsigned type = type_of(inst);
    char *text = v->scratch;
    const size_t size = sizeof v->scratch;
    text[0] = '\0';
    if (n->types && !(type & n->types)) {
        if (!v->err || v->quiet)
            return false;
        /* Name the types in the schema's own order: "an integer, a string or null". */
        const cJSON *names = cJSON_GetObjectItemCaseSensitive(n->source, "type"), *name;
        const cJSON *first = cJSON_IsArray(names) ? names->child : names;
        for (name = first; name; name = cJSON_IsArray(names) ? name->next : NULL) {
            size_t i = 0, len = strlen(text);
            while (i < 6 && strcmp(name->valuestring, jsonschema__type_names[i]) != 0)
                i++;
            snprintf(text + len, size - len, "%s%s",
                     name == first ? "" : name->next ? ", " : " or ", type_phrases[i]);
        }
        return fail(v, "must be %s", text);
    }
    if (n->enum_values) {
        const cJSON *option;
        cJSON_ArrayForEach(option, n->enum_values)
            if (json_equal(option, inst))
                break;
        if (!option) {
            if (!v->err || v->quiet)
                return false;
            cJSON_ArrayForEach(option, n->enum_values)
                append_json(text, size, option, option == n->enum_values->child ? "" : ", ");
            return fail(v, "must be one of %s", text);
        }
    }
    if (n->const_value && !json_equal(n->const_value, inst)) {
        if (v->err && !v->quiet)
            append_json(text, size, n->const_value, "");
        return fail(v, "must be %s", text);
    }
    if (type & T_NUMBER) {
        double d = inst->valuedouble;
        if ((n->bounds & HAS_MINIMUM) && d < n->minimum)
            return fail(v, "must be ≥ %s", number_text(n->minimum, text, size));
        if ((n->bounds & HAS_MAXIMUM) && d > n->maximum)
            return fail(v, "must be ≤ %s", number_text(n->maximum, text, size));
        if ((n->bounds & HAS_EXCL_MINIMUM) && d <= n->exclusive_minimum)
            return fail(v, "must be > %s", number_text(n->exclusive_minimum, text, size));
        if ((n->bounds & HAS_EXCL_MAXIMUM) && d >= n->exclusive_maximum)
            return fail(v, "must be < %s", number_text(n->exclusive_maximum, text, size));
    }
    if (type == T_STRING) {
        const char *s = inst->valuestring;
        long long code_points = 0;
        for (const char *p = s; *p; p++)
            code_points += ((unsigned char)*p & 0xC0) != 0x80;
        if (n->min_length >= 0 && code_points < n->min_length)
            return fail(v, "must be at least %lld character%s long", n->min_length,
                        n->min_length == 1 ? "" : "s");
        if (n->max_length >= 0 && code_points > n->max_length)
            return fail(v, "must be at most %lld character%s long", n->max_length,
                        n->max_length == 1 ? "" : "s");
        if (n->has_pattern && !pattern_matches(&n->pattern, n->pattern_fast, s))
            return fail(v, "must match pattern %s", n->pattern_source);
        if ((n->format == FORMAT_DATE && !wp_date_parse(s, NULL))
            || (n->format == FORMAT_DATE_TIME && !wp_datetime_parse(s, NULL)))
            return fail(v, "must match format \"%s\"",
                        n->format == FORMAT_DATE ? "date" : "date-time");
    }
    return true;
}

static bool check_array(struct validator *v, const struct node *n, const cJSON *inst)
{
    long long count = cJSON_GetArraySize(inst);
    if (n->min_items >= 0 && count < n->min_items)
        return fail(v, "must have at least %lld items", n->min_items);
    if (n->max_items >= 0 && count > n->max_items)
        return fail(v, "must have at most %lld items", n->max_items);
    size_t i = 0;
    for (const cJSON *item = inst->child; item; item = item->next, i++) {
        const struct node *sub = !n->tuple_form ? n->items
                               : i < n->tuple.count ? n->tuple.items[i] : n->additional_items;
        if (!sub)
            continue;
        size_t mark = enter_index(v, i);
        bool ok = validate(v, sub, item);
        leave(v, mark);
        if (!ok)
            return false;
    }
    return true;
}

static bool check_object(struct validator *v, const struct node *n, const cJSON *inst)
{
    const cJSON *name, *member;
    cJSON_ArrayForEach(name, n->required)
        if (!cJSON_GetObjectItemCaseSensitive(inst, name->valuestring))
            return fail(v, "missing required property \"%s\"", name->valuestring);
    cJSON_ArrayForEach(member, inst) {
        bool known = false, ok = true;
        size_t mark = enter_key(v, member->string);
        for (size_t i = 0; ok && i < n->property_count; i++)
            if (strcmp(n->properties[i].name, member->string) == 0) {
                known = true;
                ok = validate(v, n->properties[i].schema, member);
            }
        for (size_t i = 0; ok && i < n->pattern_property_count; i++)
            if (pattern_matches(&n->pattern_properties[i].regex, n->pattern_properties[i].fast,
                                member->string)) {
                known = true;
                ok = validate(v, n->pattern_properties[i].schema, member);
            }
        if (ok && !known && n->additional_properties) {
            if (n->additional_properties->kind == NODE_FALSE) {
                leave(v, mark);   /* the object is at fault */
                return fail(v, "unknown property \"%s\"", member->string);
            }
            ok = validate(v, n->additional_properties, member);
        }
        leave(v, mark);
        if (!ok)
            return false;
    }
    return true;
}

/* anyOf or oneOf matched nothing. The message quotes the first branch's complaint, so
 * that it says at least one concrete thing to fix. Its buffer is allocated: a frame of
 * the recursion must stay small. */
static bool fail_no_match(struct validator *v, const struct node_list *list,
                          const char *keyword, const cJSON *inst)
{
    char *why = v->err && !v->quiet ? calloc(1, 512) : NULL;
    if (why) {
        char *saved = v->err;
        size_t saved_len = v->errlen;
        v->err = why;
        v->errlen = 512;
        validate(v, list->items[0], inst);
        v->err = saved;
        v->errlen = saved_len;
    }
    fail(v, "must match %s schema of %s (the first says: %s)",
         keyword[0] == 'a' ? "at least one" : "exactly one", keyword, why ? why : "?");
    free(why);
    return false;
}

static bool check_combinators(struct validator *v, const struct node *n, const cJSON *inst)
{
    for (size_t i = 0; i < n->all_of.count; i++)
        if (!validate(v, n->all_of.items[i], inst))
            return false;
    const struct node_list *lists[] = {&n->any_of, &n->one_of};
    for (size_t l = 0; l < 2; l++) {
        const struct node_list *list = lists[l];
        size_t matches = 0, match[2] = {0, 0};
        v->quiet++;
        for (size_t i = 0; i < list->count && matches < (l == 0 ? 1u : 2u); i++)
            if (validate(v, list->items[i], inst))
                match[matches++] = i;
        v->quiet--;
        const char *keyword = l == 0 ? "anyOf" : "oneOf";
        if (matches > 1)
            return fail(v, "must match exactly one schema of oneOf, but matches #%zu and #%zu",
                        match[0], match[1]);
        if (list->count && matches == 0)
            return fail_no_match(v, list, keyword, inst);
    }
    if (n->not_schema) {
        v->quiet++;
        bool matched = validate(v, n->not_schema, inst);
        v->quiet--;
        if (matched)
            return fail(v, "must not match the \"not\" schema");
    }
    return true;
}

static bool validate(struct validator *v, const struct node *n, const cJSON *inst)
{
    if (v->depth >= JSONSCHEMA_MAX_EVAL_DEPTH)
        return fail(v, "schema evaluation nested too deeply");
    switch (n->kind) {
    case NODE_TRUE:
        return true;
    case NODE_FALSE:
        return fail(v, "is not allowed");
    case NODE_REF: {
        v->depth++;
        bool ok = validate(v, n->ref, inst);
        v->depth--;
        return ok;
    }
    case NODE_OBJECT:
        break;
    }
    v->depth++;
    bool ok = check_type_and_values(v, n, inst)
           && (!cJSON_IsArray(inst) || check_array(v, n, inst))
           && (!cJSON_IsObject(inst) || check_object(v, n, inst))
           && check_combinators(v, n, inst);
    v->depth--;
    return ok;
}

bool wp_schema_validate(const struct wp_schema *schema, const cJSON *instance, char *err,
                        size_t errlen)
{
    struct validator v = {.err = errlen ? err : NULL, .errlen = errlen};
    if (v.err)
        err[0] = '\0';
    if (!schema || !instance)
        return fail(&v, "no %s", schema ? "instance" : "schema");
    if (deeper_than(instance, JSONSCHEMA_MAX_INSTANCE_DEPTH)) {
        /* Walk down a too-deep branch so that the message says where. */
        const cJSON *at = instance;
        for (int levels = JSONSCHEMA_MAX_INSTANCE_DEPTH; levels > 0; levels--) {
            const cJSON *child = at->child;
            size_t i = 0;
            while (!deeper_than(child, levels - 1))
                child = child->next, i++;
            if (cJSON_IsObject(at))
                enter_key(&v, child->string);
            else
                enter_index(&v, i);
            at = child;
        }
        return fail(&v, "nested too deeply (more than %d levels)",
                    JSONSCHEMA_MAX_INSTANCE_DEPTH);
    }
    return validate(&v, schema->root, instance);
}
