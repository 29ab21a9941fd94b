/* lpc-train --lipschitz: the trained model's Lipschitz measures on the test
 * set (lpc/lipschitz.h), in the normalised input space of training. */
#ifndef EX_TRAIN_LIPSCHITZ_H
#define EX_TRAIN_LIPSCHITZ_H
#include <lpc/lpc.h>

#define EX_CERT_RADII 4

typedef struct {
    lpc_lipschitz_summary grad;       /* margin-gradient norms, all / correct */
    double latent_bound;              /* certified bound of x -> z */
    double radii[EX_CERT_RADII];      /* certified accuracy at these L2 radii */
    double cert_acc[EX_CERT_RADII];
    double median_radius;             /* over the test set (0 when misclassified) */
    double median_looseness;          /* median over samples of the certified bound of
                                       * f_y - f_j (j the competing class) over the
                                       * measured norm of its gradient */
    double seconds_estimate, seconds_bound;
} ex_lipschitz;

/* Measures head (set to eval mode, restored after) on the test set
 * normalised with mean/std; prints the error and returns its status. */
lpc_status ex_lipschitz_measure(lpc_head *head, const lpc_dataset *test, const double *mean,
                                const double *std, ex_lipschitz *out);
#endif
