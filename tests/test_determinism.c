/* Same seed and thread count give bit-identical weights after N steps, for
 * the dense model and for a small ResNet (2 threads). */
#include <stdlib.h>
#include <string.h>
#include "lpct.h"
#include "../examples/common/recipes.h"

/* Trains `steps` steps of model `name` with `threads` threads on synthetic
 * data and returns a malloc'ed copy of all weights (count in *n). */
static float *train_weights(const char *name, ex_backbone backbone, int threads, int steps,
                            int64_t *n)
{
    lpc_set_num_threads(threads);
    const int c = 1, hw = backbone == EX_BACKBONE_MLP ? 28 : 12, batch = 32;
    const int widths[3] = {16, 32, 8};
    lpc_rng *rng = lpc_rng_new(7);
    lpc_head *m = NULL;
    ck_assert_int_eq(ex_model_new(ex_model_index(name), backbone, c, hw, hw, 5, widths, rng, &m),
                     LPC_OK);
    lpc_adamw *opt = lpc_head_adamw_new(m, 1e-3, 5e-4);
    lpc_module *net = lpc_head_module(m);
    lpc_ctx *ctx = lpc_ctx_new();
    int64_t n_in = (int64_t)batch * c * hw * hw;
    float *x = malloc((size_t)n_in * sizeof *x);
    int32_t y[32];
    for (int s = 0; s < steps; s++) {
        for (int64_t i = 0; i < n_in; i++)
            x[i] = (float)lpc_rng_normal(rng);
        for (int i = 0; i < batch; i++)
            y[i] = (int32_t)lpc_rng_below(rng, 5);
        lpc_ctx_reset(ctx);
        lpc_tensor *xt = lpc_tensor_from(ctx, 4, (int64_t[]){batch, c, hw, hw}, x, n_in);
        lpc_tensor *loss = lpc_head_loss(m, ctx, xt, y, 0.5, 20, 0.2, NULL);
        ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
        ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
        ck_assert_int_eq(lpc_adamw_step(opt), LPC_OK);
        lpc_module_zero_grad(net);
    }
    *n = lpc_module_num_weights(net);
    float *w = malloc((size_t)*n * sizeof *w), *p = w;
    for (int i = 0; i < lpc_module_num_params(net); i++) {
        lpc_tensor *t = lpc_module_param(net, i);
        memcpy(p, lpc_tensor_cdata(t), (size_t)lpc_tensor_numel(t) * sizeof *p);
        p += lpc_tensor_numel(t);
    }
    free(x);
    lpc_ctx_free(ctx);
    lpc_adamw_free(opt);
    lpc_head_free(m);
    lpc_rng_free(rng);
    lpc_set_num_threads(1);
    return w;
}

static void check_identical(const char *name, ex_backbone backbone, int steps)
{
    int64_t n1, n2;
    float *a = train_weights(name, backbone, 2, steps, &n1);
    float *b = train_weights(name, backbone, 2, steps, &n2);
    ck_assert_int_eq(n1, n2);
    ck_assert_msg(memcmp(a, b, (size_t)n1 * sizeof *a) == 0, "%s: weights differ between runs", name);
    free(a);
    free(b);
}

START_TEST(dense_bit_identical) { check_identical("LPC", EX_BACKBONE_MLP, 20); }
END_TEST

START_TEST(supcon_bit_identical) { check_identical("LPC-SCL", EX_BACKBONE_MLP, 10); }
END_TEST

START_TEST(resnet_small_bit_identical) { check_identical("ArcFace", EX_BACKBONE_RESNET_SMALL, 3); }
END_TEST

int main(void)
{
    Suite *s = suite_create("determinism");
    TCase *tc = tcase_create("determinism");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, dense_bit_identical);
    tcase_add_test(tc, supcon_bit_identical);
    tcase_add_test(tc, resnet_small_bit_identical);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
