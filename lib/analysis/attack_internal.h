/* Shared parts of the attacks of include/lpc/attack.h: the domain (pixel
 * <-> model input), the batched model evaluation with the attack loss's
 * input gradient, norms, projections and a counter-based generator. */
#ifndef LPC_ATTACK_INTERNAL_H
#define LPC_ATTACK_INTERNAL_H
#include "analysis_internal.h"
#include "lpc/attack.h"

#define LPCA_CHUNK 256

/* The loss whose input gradient lpca_eval computes (the attacker ascends it). */
typedef enum {
    LPCA_LOSS_NONE,   /* logits only */
    LPCA_LOSS_MARGIN, /* max_{j != y} f_j - f_y */
    LPCA_LOSS_CE      /* -log softmax(f)_y */
} lpca_loss;

/* One attack call: model, shapes, domain and the work buffers of a chunk. */
typedef struct {
    const char *who;
    lpc_module *model;
    int ndim;
    int64_t shape[4];
    int64_t d, hw; /* floats per sample, per channel */
    int c;
    int box;       /* pixel domain: clip to [0,1] */
    double *scale, *offset; /* c entries: model input = (p - offset) / scale */
    lpc_ctx *ctx;
    int64_t k;     /* logits per sample, 0 until the first forward */
    float *logits; /* LPCA_CHUNK x k */
    double *grad;  /* LPCA_CHUNK x d: loss gradient in the domain's space */
    int32_t *idx;  /* LPCA_CHUNK */
    double *p0;    /* LPCA_CHUNK x d: clean points in the domain's space */
    int32_t *y;    /* LPCA_CHUNK labels of the chunk */
} lpca_attack;

/* Checks the common arguments (model, x finite, shapes, domain; with
 * nonzero, every sample non-zero in the domain's space) and sets up a; on
 * failure a is freed. labels are checked once K is known (lpca_chunk). */
lpc_status lpca_open(lpca_attack *a, const char *who, lpc_module *model, const float *x,
                     int64_t n, int c, int h, int w, lpc_attack_domain domain, const float *mean,
                     const float *std, int nonzero);
void lpca_close(lpca_attack *a);
/* Loads samples [base, base + m) into a->p0 and their labels into a->y
 * (labels NULL: the model's predictions). */
lpc_status lpca_chunk(lpca_attack *a, const float *x, const int32_t *labels, int64_t base,
                      int64_t m);
/* Evaluates the model at the points p (na x d, domain space) of the chunk
 * samples act[0..na) (a->y[act[b]] their labels): logits to a->logits and,
 * unless LPCA_LOSS_NONE, the loss gradient to a->grad (na x d). base names
 * samples in errors. */
lpc_status lpca_eval(lpca_attack *a, const double *p, const int64_t *act, int64_t na,
                     lpca_loss loss, int64_t base);
/* Whether a logit row is misclassified for label y (argmax, lower index on
 * ties, differs from y). */
int lpca_wrong(const float *row, int64_t k, int32_t y);
/* f_y - max_{j != y} f_j of a row, the best other class to *j. */
double lpca_margin(const float *row, int64_t k, int32_t y, int32_t *j);
/* |v|_2 or |v|_inf of d doubles. */
double lpca_norm(const double *v, int64_t d, lpc_attack_norm norm);
/* Projects delta onto the eps-ball of norm, then clips p0 + delta to the
 * domain (by changing delta). */
void lpca_project(const lpca_attack *a, const double *p0, double *delta, double eps,
                  lpc_attack_norm norm);
/* Copies the caller's options of `size` bytes over the defaults in dst
 * (dst_size bytes); LPC_E_ARG for a size of 0. */
lpc_status lpca_options(const char *who, void *dst, size_t dst_size, const void *src,
                        size_t src_size);
/* Checks the domain fields of an options struct. */
lpc_status lpca_check_domain(const char *who, lpc_attack_domain domain, int c, const float *mean,
                             const float *std);
lpc_status lpca_check_norm(const char *who, lpc_attack_norm norm);
/* The arguments PGD and the random search share: the sample view, the
 * outputs (read into *ov; robust_accuracy required) and num_radii >= 1
 * finite radii >= 0. */
lpc_status lpca_radii_args(const char *who, const lpc_samples *samples, const double *radii,
                           int num_radii, const lpc_pgd_outputs *out, lpc_pgd_outputs *ov);

/* Counter-based generator: one stream per (seed, sample, stream). */
typedef struct {
    uint64_t s;
} lpca_rng;
void lpca_rng_init(lpca_rng *r, uint64_t seed, int64_t sample, uint64_t stream);
double lpca_uniform(lpca_rng *r); /* [0, 1) */
double lpca_normal(lpca_rng *r);
uint64_t lpca_below(lpca_rng *r, uint64_t n);
#endif
