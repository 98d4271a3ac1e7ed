/* spool_csv.h — the clerk's CSV file (docs/spool.md) read into rows.
 *
 *   period,indicator,value
 *   2022-05-03,cases_new_community,12
 *   2022-05-03,task:ward-scenario,done
 *   2022-05-03,note,"Số liệu đã kiểm tra, ""đúng"""
 *
 * RFC 4180 as spreadsheets write it: the separator is ',' or ';' or a tab, whichever
 * the header line uses (a Vietnamese-locale Excel writes ';'); fields may be quoted with
 * '"' and then hold separators, quotes ("") and line breaks; lines end in LF or CRLF.
 * The header names the columns period, indicator and value, in any order and any case;
 * empty trailing columns are allowed when they stay empty. Blank rows (also ",,") and
 * lines starting with '#' are skipped. Fields are trimmed of spaces.
 *
 * This reader only splits and checks the layout; what a row means (a value, a task, the
 * note) and whether it is valid is spool_parse.c's business.
 */
#ifndef WP_AGENT_SPOOL_CSV_H
#define WP_AGENT_SPOOL_CSV_H

#include <stddef.h>

#include "error.h"
#include "spool_problems.h"

struct spool_row {
    int line;         /* where the row starts, 1-based, counting the header */
    char *period;     /* owned by the table, trimmed, never NULL */
    char *indicator;
    char *value;
};

struct spool_table {
    struct spool_row *rows; /* owned, in file order */
    size_t count, cap;
    char separator;
};

/* Reads text (len bytes: UTF-8 without BOM and without NUL bytes, as spool_parse.c has
 * checked) into *out (zeroed first; spool_table_free frees it, also after an error).
 * Layout errors are added to problems with their line ("line 4: 2 fields, but the
 * header has 3 columns"); the rows read are still returned. WP_ERR_NOMEM: out of
 * memory, nothing to judge. */
enum wp_err spool_csv_read(const char *text, size_t len, struct spool_table *out,
                           struct spool_problems *problems);

void spool_table_free(struct spool_table *t);

#endif
