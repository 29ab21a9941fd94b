/* The paper's CIFAR-10 ResNet-18 values (Tables 1 and 2, means over 5 seeds). */
#ifndef AB_PAPER_H
#define AB_PAPER_H
#include <stddef.h>

typedef struct {
    const char *model;
    double r, sigma_w, cov, h_per_dim, robustness, acc;
} ab_paper_row;

/* The row of a model, or NULL. */
const ab_paper_row *ab_paper_find(const char *model);
#endif
