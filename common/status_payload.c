/* status_payload.c — the retained status messages (contract in status_payload.h). */
#include "status_payload.h"

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

static bool status_add_string(cJSON *doc, const char *name, const char *value)
{
    return !value || cJSON_AddStringToObject(doc, name, value);
}

char *wp_status_encode(const struct wp_status *s)
{
    char *text = NULL;
    bool ward_status = s->ward != NULL;
    cJSON *doc = cJSON_CreateObject();
    if (doc && cJSON_AddNumberToObject(doc, "v", 1) && status_add_string(doc, "ward", s->ward)
        && cJSON_AddStringToObject(doc, "state", s->state)
        && (!ward_status || status_add_string(doc, "since", s->since))
        && cJSON_AddStringToObject(doc, "version", s->version)
        && (ward_status || status_add_string(doc, "since", s->since))
        && (s->queued < 0 || cJSON_AddNumberToObject(doc, "queued", (double)s->queued))
        && status_add_string(doc, "instance", s->instance)
        && status_add_string(doc, "client_id", s->client_id))
        text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}
