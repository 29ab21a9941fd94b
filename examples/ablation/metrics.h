/* Table 1 and Appendix D/E metrics of one feature set, written as a JSON object. */
#ifndef AB_METRICS_H
#define AB_METRICS_H
#include <stdint.h>
#include "json.h"

/* z: n x p features; labels: true labels; pred: predicted labels (Sigma_W
 * membership); w: the classifier (k x p, no bias); nc_flags: LPC_NC_* conventions. A metric that cannot be
 * computed (e.g. a constant dimension for binarity) is written as null with
 * a warning naming `cell` on stderr. */
void ab_metrics_write(jw *w, const char *key, const float *z, int64_t n, int p,
                      const int32_t *labels, const int32_t *pred, int k, const float *wcls,
                      unsigned nc_flags, const char *cell);
#endif
