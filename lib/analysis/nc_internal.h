/* Neural-collapse internals shared by the in-memory computation
 * (neural_collapse.c) and the streaming accumulator (nc_stream.c): both
 * reduce the features to the same moments, and nc_metrics.c turns the
 * moments into every metric. Never installed. */
#ifndef LPC_NC_INTERNAL_H
#define LPC_NC_INTERNAL_H
#include "lpc/analysis.h"
#include "analysis_internal.h"

struct lpc_nc {
    double value[LPC_NC_METRIC_COUNT]; /* indexed by lpc_nc_metric */
    unsigned have;                     /* bit m set when value[m] was computed */
};

/* What the metrics need from the features (classes by the chosen membership). */
typedef struct {
    int k, p;
    unsigned flags;        /* LPC_NC_* */
    const double *mc;      /* k x p centred means mu_c - mu_G */
    const double *a;       /* k x k: M^T Sigma_W M, M = mc^T (p x k) */
    double trace_w;        /* Tr(Sigma_W) */
    const double *class_v; /* k: V_c = (1/N_c) sum_{i in c} |z_i - mu_c|^2 */
    const double *means;   /* k x p class means */
    const float *w;        /* k x p classifier or NULL */
} lpci_nc_moments;

/* Fills every metric except NC4 into nc (value and have bits). */
lpc_status lpci_nc_from_moments(const char *fn, const lpci_nc_moments *m, lpc_nc *nc);
/* Validates w, b and predictions as lpc_nc_compute documents. */
lpc_status lpci_nc_check_optional(const char *fn, const float *w, const float *b, int k, int p,
                                  const int32_t *predictions, int64_t n);
/* Class of sample z under the classifier: argmax_c (w_c . z + b_c), lowest index on ties. */
int lpci_nc_argmax(const float *zi, int p, int k, const float *w, const float *b);
/* Index of the class mean nearest to z (lowest index on ties). */
int lpci_nc_nearest(const float *zi, int p, int k, const double *means);
#endif
