#include "error.h"

const char *wp_strerror(enum wp_err err)
{
    switch (err) {
    case WP_OK: return "success";
    case WP_ERR_NOMEM: return "out of memory";
    case WP_ERR_INVALID: return "invalid input";
    case WP_ERR_CONFIG: return "bad configuration";
    case WP_ERR_IO: return "file system error";
    case WP_ERR_DB: return "database error";
    case WP_ERR_FULL: return "disk or database full";
    case WP_ERR_MQTT: return "MQTT error";
    case WP_ERR_NOT_FOUND: return "not found";
    case WP_ERR_DUPLICATE: return "duplicate";
    case WP_ERR_CONFLICT: return "conflict";
    case WP_ERR_REPLACED: return "database file replaced or removed while open";
    }
    return "unknown error";
}
