#include "paper.h"
#include <string.h>

/* Table 1 (R, Sigma_W, CoV, H/P) and Table 2 (robustness, accuracy %), CIFAR-10. */
static const ab_paper_row ab_paper_cifar10[] = {
    {"LPC", 298.61, 1.1064e-13, 0.012, -4.123, 0.586, 94.98},
    {"LPC-Wide", 238.67, 5.7068e-14, 0.016, -3.946, 0.479, 94.86},
    {"LPC-Narrow", 359.89, 5.8526e-13, 0.015, -4.065, 0.731, 94.77},
    {"LPC-SCL", 184.57, 2.3933e-13, 0.015, -3.678, 0.347, 94.75},
    {"LPC-NoPen", 28.06, 6.7506e-12, 0.016, -1.337, 0.240, 94.69},
    {"LinPen", 3.12, 7.9841e-2, 0.359, 0.213, 0.013, 94.54},
    {"NonlinPen", 3.25, 1.8192e-1, 0.268, 0.253, 0.016, 94.46},
    {"SCL", 11.20, 8.9445e-3, 0.228, -0.170, 0.028, 94.62},
    {"ArcFace", 5.51, 8.5891e-2, 0.554, -0.268, 0.019, 94.64},
    {"CosFace", 3.66, 7.1308e-2, 0.475, 0.115, 0.018, 94.56},
    {"NoPen", 1.91, 3.4388e-2, 0.363, 0.722, 0.013, 94.50},
};

const ab_paper_row *ab_paper_find(const char *model)
{
    for (size_t i = 0; i < sizeof ab_paper_cifar10 / sizeof ab_paper_cifar10[0]; i++)
        if (strcmp(ab_paper_cifar10[i].model, model) == 0)
            return &ab_paper_cifar10[i];
    return NULL;
}
