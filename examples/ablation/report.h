/* `report`: aggregates the finished cells of a configuration into
 * DIR/tables.md, DIR/tables.csv, DIR/summary.json and figures. */
#ifndef AB_REPORT_H
#define AB_REPORT_H
#include "json.h"
#include "preset.h"
#include "result.h"

/* Per-run quantities read from result.json (NaN when absent). */
typedef enum {
    AB_ACC_TEST, AB_ACC_TRAIN, AB_R_TRAIN, AB_R_TEST, AB_SW_TRAIN, AB_SW_TEST, AB_COV_TRAIN,
    AB_H_TRAIN, AB_ROBUST, AB_FMN, AB_PGD_2, AB_PGD_8, AB_NUM_METRICS
} ab_metric;

typedef struct {
    ab_cell cell;
    int model;   /* position in the configuration's model list */
    int chosen;  /* best learning rate of its (model, seed) */
    double v[AB_NUM_METRICS];
    jv *json;    /* the whole result.json; NULL unless state is AB_RESULT_OK */
    ab_result_state state;
} ab_record;

/* Returns the exit code: 0 also when cells are missing or damaged (they are
 * listed), 1 when any output could not be written. Every output is written
 * atomically: a failure keeps the previous file. */
int ab_report(const ab_config *c, const char *out, int quiet);
#endif
