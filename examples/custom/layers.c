/* Collapse at every layer (layers.h): two streamed passes over the samples,
 * the first for the class means, Sigma_W and Sigma_B (NC1, CDNV), the second
 * for R, which needs the final means. */
#include <limits.h>
#include <stdio.h>
#include "layers.h"

#define BATCH 500

/* One pass: every layer's features of the first `limit` samples into its
 * stream (made on the first batch, once the width is known). 0 on success. */
static int pass(lpc_module *net, const lpc_dataset *ds, const double *mean, const double *std,
                int64_t limit, int k, int n, const char *const *names, lpc_feature_stream **st,
                int64_t *width)
{
    lpc_batcher *b = lpc_batcher_new(ds, BATCH, 0, 0, mean, std);
    lpc_ctx *ctx = lpc_ctx_new();
    int rc = !b || !ctx || lpc_ctx_set_grad(ctx, 0) != LPC_OK;
    lpc_tensor *x, *outs[LAYERS_MAX];
    const int32_t *y;
    int64_t done = 0, got;
    while (!rc && done < limit) {
        if ((got = lpc_batcher_next(b, ctx, &x, &y)) <= 0) {
            rc = got < 0;
            break;
        }
        got = got < limit - done ? got : limit - done; /* rows are samples: keep the first */
        lpc_module_forward_collect(net, ctx, x, n, names, outs);
        for (int l = 0; l < n && !rc; l++) {
            lpc_tensor *t = lpc_tensor_ndim(outs[l]) == 4 ? lpc_global_avgpool(ctx, outs[l])
                                                          : outs[l];
            if (lpc_ctx_status(ctx) != LPC_OK) {
                fprintf(stderr, "error: layer %s: %s\n", names[l], lpc_ctx_error(ctx));
                rc = 1;
                break;
            }
            width[l] = lpc_tensor_numel(t) / lpc_tensor_dim(t, 0);
            rc = width[l] > INT_MAX || (!st[l] &&
                  lpc_feature_stream_new((int)width[l], k, NULL, NULL, 0, &st[l]) != LPC_OK) ||
                 lpc_feature_stream_add(st[l], lpc_tensor_cdata(t), got, y, NULL) != LPC_OK;
        }
        done += got;
        lpc_ctx_reset(ctx);
    }
    for (int l = 0; l < n && !rc; l++)
        rc = !st[l] || lpc_feature_stream_end_pass(st[l]) != LPC_OK;
    lpc_ctx_free(ctx);
    lpc_batcher_free(b);
    return rc;
}

int layers_measure(lpc_module *net, const lpc_dataset *ds, const double *mean, const double *std,
                   int64_t n_samples, int k, int n_layers, const char *const *names,
                   layer_collapse *out)
{
    const char *present[LAYERS_MAX];
    int at[LAYERS_MAX], n = 0;
    if (n_layers > LAYERS_MAX) {
        fprintf(stderr, "error: %d layers to measure, at most %d\n", n_layers, LAYERS_MAX);
        return 1;
    }
    for (int l = 0; l < n_layers; l++) {
        out[l] = (layer_collapse){0, 0, 0, 0};
        if (lpc_module_find(net, names[l])) {
            present[n] = names[l];
            at[n++] = l;
        }
    }
    lpc_feature_stream *st[LAYERS_MAX] = {0};
    int64_t width[LAYERS_MAX] = {0};
    int was_train = lpc_module_is_train(net);
    int rc = lpc_module_set_train(net, 0) != LPC_OK ||
         pass(net, ds, mean, std, n_samples, k, n, present, st, width) ||
         pass(net, ds, mean, std, n_samples, k, n, present, st, width);
    for (int i = 0; i < n && !rc; i++) {
        lpc_nc *nc = NULL;
        layer_collapse *o = &out[at[i]];
        rc = lpc_feature_stream_nc(st[i], &nc) != LPC_OK ||
             lpc_nc_get(nc, LPC_NC_NC1, &o->nc1) != LPC_OK ||
             lpc_nc_get(nc, LPC_NC_CDNV, &o->cdnv) != LPC_OK ||
             lpc_feature_stream_get(st[i], LPC_STREAM_R, &o->r) != LPC_OK;
        o->width = rc ? 0 : width[i];
        lpc_nc_free(nc);
    }
    if (rc)
        fprintf(stderr, "error: measuring collapse by layer: %s\n", lpc_last_error());
    for (int i = 0; i < n; i++)
        lpc_feature_stream_free(st[i]);
    lpc_module_set_train(net, was_train);
    return rc;
}

void layers_print(int n_layers, const char *const *names, int n_nets,
                  const char *const *net_names, const layer_collapse *const *by_net)
{
    static const char *const measure[3] = {"NC1", "CDNV", "R"};
    printf("%-16s %5s", "layer", "width");
    for (int m = 0; m < 3; m++)
        for (int i = 0; i < n_nets; i++) {
            char label[32];
            snprintf(label, sizeof label, "%s %s", net_names[i], measure[m]);
            printf(" %11s", label);
        }
    printf("\n");
    for (int l = 0; l < n_layers; l++) {
        int64_t width = 0;
        for (int i = 0; i < n_nets; i++)
            width = by_net[i][l].width > width ? by_net[i][l].width : width;
        printf("%-16s %5lld", names[l], (long long)width);
        for (int m = 0; m < 3; m++)
            for (int i = 0; i < n_nets; i++) {
                const layer_collapse *c = &by_net[i][l];
                double v = m == 0 ? c->nc1 : m == 1 ? c->cdnv : c->r;
                if (c->width)
                    printf(" %11.4g", v);
                else
                    printf(" %11s", "-");
            }
        printf("\n");
    }
}
