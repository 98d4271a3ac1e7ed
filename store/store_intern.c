/* store_intern.c — units and indicators as small integers (store.h, version 7): the
 * tables units and indicators give each code or name an id once, and values_in_force
 * keys its rows by the ids. The ids the daemon has looked up or given are cached here,
 * so that storing a report of 40 values asks SQLite nothing about names; the cache is
 * emptied on rollback, since an id given in a rolled-back transaction is no longer in
 * the file. */
#include "store_private.h"

#include <stdlib.h>
#include <string.h>

const struct store_statement store__intern_statements[] = {
    {STMT_UNIT_ID, "SELECT id FROM units WHERE code = ?1"},
    {STMT_UNIT_ADD, "INSERT INTO units (code) VALUES (?1)"},
    {STMT_INDICATOR_ID, "SELECT id FROM indicators WHERE name = ?1"},
    {STMT_INDICATOR_ADD, "INSERT INTO indicators (name) VALUES (?1)"},
    {STMT_INDICATOR_NAME, "SELECT name FROM indicators WHERE id = ?1"},
    {STMT_COUNT, NULL},
};

/* FNV-1a, as everywhere else a short text is hashed. */
static size_t store_intern_hash(const char *text)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * UINT64_C(1099511628211);
    return (size_t)h;
}

static struct store_intern_slot *store_intern_find(const struct store_intern *map,
                                                   const char *text)
{
    if (!map->cap)
        return NULL;
    for (size_t i = store_intern_hash(text) & (map->cap - 1);; i = (i + 1) & (map->cap - 1)) {
        struct store_intern_slot *slot = &map->slots[i];
        if (!slot->text || strcmp(slot->text, text) == 0)
            return slot;
    }
}

/* Remembers text → id; false when out of memory (then it is only not cached). */
static bool store_intern_put(struct store_intern *map, const char *text, int64_t id)
{
    if ((map->count + 1) * 2 > map->cap) {
        size_t cap = map->cap ? map->cap * 2 : 64;
        struct store_intern bigger = {calloc(cap, sizeof *bigger.slots), cap, 0};
        if (!bigger.slots)
            return false;
        for (size_t i = 0; i < map->cap; i++)
            if (map->slots[i].text) {
                *store_intern_find(&bigger, map->slots[i].text) = map->slots[i];
                bigger.count++;
            }
        free(map->slots);
        *map = bigger;
    }
    struct store_intern_slot *slot = store_intern_find(map, text);
    if (!(slot->text = strdup(text)))
        return false;
    slot->id = id;
    map->count++;
    return true;
}

void store__intern_clear(struct store_intern *map)
{
    for (size_t i = 0; i < map->cap; i++)
        free(map->slots[i].text);
    free(map->slots);
    map->slots = NULL;
    map->cap = map->count = 0;
}

enum wp_err store__intern(struct store *store, bool unit, const char *text, bool add,
                          int64_t *id)
{
    struct store_intern *map = unit ? &store->units : &store->indicators;
    struct store_intern_slot *slot = store_intern_find(map, text);
    if (slot && slot->text) {
        *id = slot->id;
        return WP_OK;
    }
    sqlite3_stmt *stmt = store__stmt_texts(store, unit ? STMT_UNIT_ID : STMT_INDICATOR_ID,
                                           text, NULL);
    int rc = sqlite3_step(stmt);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
    sqlite3_reset(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__fail(store, rc, unit ? "looking up a unit" : "looking up an indicator");
    if (rc == SQLITE_DONE && !add)
        return WP_OK;
    if (rc == SQLITE_DONE) {
        stmt = store__stmt_texts(store, unit ? STMT_UNIT_ADD : STMT_INDICATOR_ADD, text, NULL);
        enum wp_err err = store__step_done(store, stmt, unit ? "adding a unit"
                                                             : "adding an indicator");
        if (err != WP_OK)
            return err;
        *id = sqlite3_last_insert_rowid(store->db);
    }
    store_intern_put(map, text, *id);
    return WP_OK;
}

const char *store__indicator_name(struct store *store, int64_t id)
{
    if (id > 0 && (size_t)id < store->indicator_names_cap && store->indicator_names[id])
        return store->indicator_names[id];
    sqlite3_stmt *stmt = store__stmt(store, STMT_INDICATOR_NAME);
    sqlite3_bind_int64(stmt, 1, id);
    int rc = sqlite3_step(stmt);
    char *name = rc == SQLITE_ROW ? strdup(store__column_text(stmt, 0)) : NULL;
    sqlite3_reset(stmt);
    if (!name) {
        store__fail(store, rc == SQLITE_ROW ? SQLITE_NOMEM
                           : rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, "naming an indicator");
        return NULL;
    }
    if (id <= 0 || (size_t)id >= store->indicator_names_cap) {
        size_t cap = (size_t)id * 2 + 16;
        char **grown = id > 0 ? realloc(store->indicator_names, cap * sizeof *grown) : NULL;
        if (!grown) {
            free(name);   /* not cached: the caller's copy is gone with the next call */
            store__fail(store, SQLITE_NOMEM, "naming an indicator");
            return NULL;
        }
        memset(grown + store->indicator_names_cap, 0,
               (cap - store->indicator_names_cap) * sizeof *grown);
        store->indicator_names = grown;
        store->indicator_names_cap = cap;
    }
    return store->indicator_names[id] = name;
}

void store__intern_forget(struct store *store)
{
    store__intern_clear(&store->units);
    store__intern_clear(&store->indicators);
    for (size_t i = 0; i < store->indicator_names_cap; i++)
        free(store->indicator_names[i]);
    free(store->indicator_names);
    store->indicator_names = NULL;
    store->indicator_names_cap = 0;
}
