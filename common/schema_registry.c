#include "schema_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* One slot per row of wp_embedded_schemas, filled on first use. Compiling lazily keeps
 * start-up free of work a daemon may never need (the agent never validates a plan). */
static struct slot {
    struct wp_schema *schema;
    bool failed;                 /* compile failed once: logged, not retried */
} *slots;
static size_t slot_count;

static bool slots_ready(void)
{
    if (slots)
        return true;
    size_t n = 0;
    while (wp_embedded_schemas[n].name)
        n++;
    slots = calloc(n ? n : 1, sizeof *slots);
    if (!slots)
        return false;
    slot_count = n;
    return true;
}

const struct wp_schema *wp_schemas_get(const char *name)
{
    static bool unknown_logged;
    if (!name || !slots_ready())
        return NULL;
    for (size_t i = 0; i < slot_count; i++) {
        if (strcmp(wp_embedded_schemas[i].name, name) != 0)
            continue;
        struct slot *slot = &slots[i];
        if (!slot->schema && !slot->failed) {
            char err[256];
            slot->schema = wp_schema_compile_text(wp_embedded_schemas[i].text, err, sizeof err);
            if (!slot->schema) {
                /* The schema shipped inside this binary is broken: a build-time bug. */
                slot->failed = true;
                wp_log(WP_LOG_ERR, "embedded schema %s does not compile: %s", name, err);
            }
        }
        return slot->schema;
    }
    if (!unknown_logged) {
        unknown_logged = true;
        wp_log(WP_LOG_ERR, "no embedded schema named \"%s\" (a bug)", name);
    }
    return NULL;
}

bool wp_schemas_validate(const char *name, const cJSON *doc, char *err, size_t errlen)
{
    const struct wp_schema *schema = wp_schemas_get(name);
    if (!schema) {
        if (err && errlen)
            snprintf(err, errlen, "(root): no usable schema \"%s\"", name ? name : "(null)");
        return false;
    }
    return wp_schema_validate(schema, doc, err, errlen);
}

void wp_schemas_release(void)
{
    for (size_t i = 0; slots && i < slot_count; i++)
        wp_schema_free(&slots[i].schema);
    free(slots);
    slots = NULL;
    slot_count = 0;
}
