/* Reading a cell's result.json: whether the cell finished, and whether its
 * file is damaged (truncated, not JSON, unreadable: counted as missing and
 * run again) or belongs to another configuration. */
#ifndef AB_RESULT_H
#define AB_RESULT_H
#include <stddef.h>
#include "json.h"

typedef enum {
    AB_RESULT_NONE,    /* no result.json: not finished */
    AB_RESULT_OK,      /* finished, same configuration */
    AB_RESULT_DAMAGED, /* exists but cannot be read or parsed, or lacks its identity */
    AB_RESULT_FOREIGN, /* a finished result of another configuration */
} ab_result_state;

/* Loads path and checks config.identity against identity and the log
 * against the cell's epochs (one entry per epoch; more or fewer: damaged).
 * What is read is bounded by the epochs: a file larger than a cell of that
 * many epochs writes is damaged, without being parsed.
 * With AB_RESULT_OK *out (if out is not NULL) holds the parsed file
 * (jv_free it); otherwise *out is NULL and why says what is wrong. */
ab_result_state ab_result_load(const char *path, const char *identity, long epochs, jv **out,
                               char *why, size_t why_size);
#endif
