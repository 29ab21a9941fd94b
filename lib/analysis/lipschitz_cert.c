/* Certified radii (include/lpc/lipschitz.h): a bound L_z of the latent map
 * x -> z and a linear classifier W give |grad (f_y - f_j)| <= L_z |W_y - W_j|,
 * so no input within (f_y - f_j) / (L_z |W_y - W_j|) of x reaches the
 * boundary between y and j. */
#include <math.h>
#include <string.h>
#include "../nn/module_internal.h"
#include "lipschitz_internal.h"

struct lpc_lipschitz_cert {
    double lz;
    int k;
    double *pair; /* k x k: |W_y - W_j|_2 */
};

void lpc_lipschitz_cert_free(lpc_lipschitz_cert *cert)
{
    if (!cert)
        return;
    lpci_free(cert->pair);
    lpci_free(cert);
}

static lpc_status cert_build(const char *who, double lz, const float *w, int k, int64_t p,
                             lpc_lipschitz_cert **out)
{
    size_t cells;
    if (lpci_mul_size((size_t)k * (size_t)k, sizeof(double), &cells))
        return lpci_error(LPC_E_ARG, "%s: %d classes are too many", who, k);
    for (int64_t i = 0; i < (int64_t)k * p; i++)
        if (!isfinite(w[i]))
            return lpci_error(LPC_E_NUMERIC, "%s: classifier weight %lld is not finite", who,
                              (long long)i);
    lpc_lipschitz_cert *c = lpci_calloc(1, sizeof *c);
    double *pair = c ? lpci_malloc(cells) : NULL;
    if (!pair) {
        lpci_free(c);
        return lpci_error(LPC_E_NOMEM, "%s: out of memory for %d x %d class pairs", who, k, k);
    }
    for (int y = 0; y < k; y++) {
        pair[(int64_t)y * k + y] = 0.0;
        for (int j = 0; j < y; j++) {
            double s = 0.0;
            for (int64_t q = 0; q < p; q++) {
                double d = (double)w[(int64_t)y * p + q] - w[(int64_t)j * p + q];
                s += d * d;
            }
            pair[(int64_t)y * k + j] = pair[(int64_t)j * k + y] = sqrt(s);
        }
    }
    *c = (lpc_lipschitz_cert){.lz = lz, .k = k, .pair = pair};
    *out = c;
    return LPC_OK;
}

lpc_status lpc_lipschitz_cert_new(double latent_bound, const float *w, int k, int64_t p,
                                  lpc_lipschitz_cert **out)
{
    if (out)
        *out = NULL;
    if (!out || !w)
        return lpci_error(LPC_E_ARG, "lpc_lipschitz_cert_new: w or out is NULL");
    if (k < 2 || p < 1 || p > INT64_MAX / k)
        return lpci_error(LPC_E_ARG, "lpc_lipschitz_cert_new: need k >= 2 classes and p >= 1 "
                          "features, got %d, %lld", k, (long long)p);
    if (!(latent_bound >= 0.0) || !isfinite(latent_bound))
        return lpci_error(LPC_E_ARG, "lpc_lipschitz_cert_new: latent_bound must be finite and "
                          ">= 0, got %g", latent_bound);
    return cert_build("lpc_lipschitz_cert_new", latent_bound, w, k, p, out);
}

/* The head network's child named `name`, or NULL. */
static lpc_module *head_child(lpc_module *net, const char *name)
{
    for (int i = 0; i < net->n_children; i++)
        if (strcmp(net->child_names[i], name) == 0)
            return net->children[i];
    return NULL;
}

lpc_status lpc_lipschitz_cert_head(lpc_head *head, int c, int h, int w,
                                   const lpc_lipschitz_bound_options *opt,
                                   lpc_lipschitz_cert **out)
{
    static const char who[] = "lpc_lipschitz_cert_head";
    if (out)
        *out = NULL;
    if (!head || !out)
        return lpci_error(LPC_E_ARG, "%s: head or out is NULL", who);
    lpc_module *net = lpc_head_module(head);
    lpc_module *chain[2] = {head_child(net, "backbone"), head_child(net, "penultimate")};
    lpc_module *classifier = head_child(net, "classifier");
    double lz;
    lpc_status s = lpci_lipschitz_walk(who, chain, chain[1] ? 2 : 1, c, h, w, opt, 1,
                                       &lz);
    if (s != LPC_OK)
        return s;
    const lpc_tensor *wt = lpci_own_param(classifier, 0);
    return cert_build(who, lz, wt->data, (int)wt->shape[0], wt->shape[1], out);
}

lpc_status lpc_lipschitz_cert_latent(const lpc_lipschitz_cert *cert, double *bound)
{
    if (!cert || !bound)
        return lpci_error(LPC_E_ARG, "lpc_lipschitz_cert_latent: cert or bound is NULL");
    *bound = cert->lz;
    return LPC_OK;
}

lpc_status lpc_lipschitz_cert_pair(const lpc_lipschitz_cert *cert, int y, int j, double *bound)
{
    if (!cert || !bound)
        return lpci_error(LPC_E_ARG, "lpc_lipschitz_cert_pair: cert or bound is NULL");
    if (y < 0 || y >= cert->k || j < 0 || j >= cert->k)
        return lpci_error(LPC_E_ARG, "lpc_lipschitz_cert_pair: classes %d, %d are not in "
                          "[0, %d)", y, j, cert->k);
    *bound = cert->lz * cert->pair[(int64_t)y * cert->k + j];
    return LPC_OK;
}

lpc_status lpc_lipschitz_cert_radii(const lpc_lipschitz_cert *cert, const float *logits,
                                    int64_t n, const int32_t *labels, double *radii)
{
    static const char who[] = "lpc_lipschitz_cert_radii";
    if (!cert || !logits || !labels || !radii)
        return lpci_error(LPC_E_ARG, "%s: cert, logits, labels or radii is NULL", who);
    if (n < 1)
        return lpci_error(LPC_E_ARG, "%s: need n >= 1, got %lld", who, (long long)n);
    int k = cert->k;
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k)
            return lpci_error(LPC_E_ARG, "%s: label %d of sample %lld is not in [0, %d)", who,
                              (int)labels[i], (long long)i, k);
        for (int j = 0; j < k; j++)
            if (!isfinite(logits[i * k + j]))
                return lpci_error(LPC_E_NUMERIC, "%s: logit %d of sample %lld is not finite",
                                  who, j, (long long)i);
    }
    for (int64_t i = 0; i < n; i++) {
        const float *f = logits + i * k;
        int y = labels[i];
        double r = INFINITY;
        for (int j = 0; j < k && r > 0.0; j++) {
            if (j == y)
                continue;
            double diff = (double)f[y] - f[j], lip = cert->lz * cert->pair[(int64_t)y * k + j];
            if (lip > 0.0)
                r = fmin(r, diff / lip);
            else if (diff <= 0.0)
                r = 0.0;
        }
        radii[i] = r > 0.0 ? r : 0.0;
    }
    return LPC_OK;
}

lpc_status lpc_certified_accuracy(const double *radii, int64_t n, const double *eps, int n_eps,
                                  double *accuracy)
{
    static const char who[] = "lpc_certified_accuracy";
    if (!radii || !eps || !accuracy)
        return lpci_error(LPC_E_ARG, "%s: radii, eps or accuracy is NULL", who);
    if (n < 1 || n_eps < 1)
        return lpci_error(LPC_E_ARG, "%s: need n >= 1 and n_eps >= 1, got %lld, %d", who,
                          (long long)n, n_eps);
    for (int r = 0; r < n_eps; r++)
        if (!(eps[r] >= 0.0) || !isfinite(eps[r]))
            return lpci_error(LPC_E_ARG, "%s: radius %d is %g (needs finite >= 0)", who, r,
                              eps[r]);
    for (int64_t i = 0; i < n; i++)
        if (!(radii[i] >= 0.0))
            return lpci_error(LPC_E_ARG, "%s: certified radius %lld is %g (needs >= 0)", who,
                              (long long)i, radii[i]);
    for (int r = 0; r < n_eps; r++) {
        int64_t count = 0;
        for (int64_t i = 0; i < n; i++)
            count += radii[i] > eps[r];
        accuracy[r] = (double)count / (double)n;
    }
    return LPC_OK;
}
