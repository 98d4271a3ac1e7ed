/* spool_problems.h — why a spool file is refused: "line N: why" messages for the clerk.
 *
 * Every problem found in a file is counted; the first SPOOL_PROBLEMS_SHOWN are kept as
 * text, one per line, so that the clerk can correct them all in one go rather than one
 * per drop. The text is what goes into rejected/<name>.error.
 */
#ifndef WP_AGENT_SPOOL_PROBLEMS_H
#define WP_AGENT_SPOOL_PROBLEMS_H

#include <stdbool.h>
#include <stddef.h>

#define SPOOL_PROBLEMS_SHOWN 20

struct spool_problems {
    size_t count;   /* every problem found, also those not kept as text */
    char *text;     /* owned; "line 7: …\n" lines, NULL while empty */
    size_t len, cap;
    bool nomem;     /* text could not grow: count still counts */
    bool summed_up; /* the "… and N more" line is appended */
};

/* Adds a problem; line <= 0 means the file as a whole (no "line N: " prefix). */
void spool_problem(struct spool_problems *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The kept text plus, when problems were left out, "… and N more problem(s)". Owned
 * by p; valid until the next spool_problem or spool_problems_free. Never NULL. */
const char *spool_problems_text(struct spool_problems *p);

/* Frees the text and zeroes *p. */
void spool_problems_free(struct spool_problems *p);

#endif
