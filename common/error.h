/* error.h — the one error enum of wardpulse.
 *
 * Every function that can fail returns enum wp_err (WP_OK == 0) and, where a person
 * must read why, also fills a caller-owned `char *err, size_t errlen` buffer.
 */
#ifndef WP_ERROR_H
#define WP_ERROR_H

enum wp_err {
    WP_OK = 0,
    WP_ERR_NOMEM,      /* allocation failed */
    WP_ERR_INVALID,    /* input violates a schema or a rule; err says which */
    WP_ERR_CONFIG,     /* bad configuration; err names file and line */
    WP_ERR_IO,         /* file system */
    WP_ERR_DB,         /* SQLite */
    WP_ERR_FULL,       /* disk or database full: nothing was written */
    WP_ERR_MQTT,       /* libmosquitto */
    WP_ERR_NOT_FOUND,  /* a looked-up item does not exist */
    WP_ERR_DUPLICATE,  /* already stored: not an error for the protocol, counted */
    WP_ERR_CONFLICT,   /* an identity already names other content (a reused seq) */
    WP_ERR_REPLACED,   /* the file at a database's path is no longer the one open: stop */
};

/* Static English text for an error code; never NULL. */
const char *wp_strerror(enum wp_err err);

#endif
