/* The LPC head on any backbone: structure and names, every loss
 * configuration against the same loss composed by hand from the public
 * losses, gradients through the head by finite differences, optimizer
 * groups. */
#include <stdlib.h>
#include <string.h>
#include "lpct.h"

/* A custom backbone: h = silu(x W^T + b) from a user module. */
typedef struct {
    lpc_module *fc;
} backbone;

static lpc_tensor *backbone_forward(lpc_module *self, lpc_ctx *ctx, lpc_tensor *x, void *user)
{
    (void)self;
    return lpc_silu(ctx, lpc_module_forward(((backbone *)user)->fc, ctx, x));
}

static lpc_module *backbone_new(int64_t in, int64_t d, lpc_rng *rng)
{
    backbone *b = malloc(sizeof *b);
    lpc_module *m = lpc_module_new(backbone_forward, b, free);
    b->fc = lpc_linear_new(in, d, 1, rng);
    ck_assert_int_eq(lpc_module_add_child(m, "fc", b->fc), LPC_OK);
    return m;
}

/* Head over the custom backbone: 3 -> 6 features, penultimate 6 -> 4 (or none), 3 classes. */
static lpc_head *head_new(int penultimate, uint64_t seed)
{
    lpc_rng *rng = lpc_rng_new(seed);
    lpc_module *bb = backbone_new(3, 6, rng);
    lpc_module *pen = penultimate ? lpc_linear_new(6, 4, 1, rng) : NULL;
    lpc_head *h = NULL;
    ck_assert_int_eq(lpc_head_new(bb, 6, pen, penultimate ? 4 : 6, 3, rng, &h), LPC_OK);
    lpc_rng_free(rng);
    return h;
}

static const int32_t LABELS[4] = {2, 0, 1, 2};
static const float XV[12] = {0.1f, -0.3f, 0.5f, 0.2f, 1, 0, -1, 0.5f, 0.3f, 0.7f, -0.2f, 0.9f};

START_TEST(structure)
{
    lpc_head *h = head_new(1, 1);
    lpc_module *net = lpc_head_module(h);
    ck_assert_int_eq(lpc_head_latent_dim(h), 4);
    ck_assert_int_eq(lpc_head_num_classes(h), 3);
    ck_assert_str_eq(lpc_module_param_name(net, 0), "backbone.fc.weight");
    ck_assert_str_eq(lpc_module_param_name(net, 2), "penultimate.weight");
    ck_assert_str_eq(lpc_module_param_name(net, 4), "classifier.weight");
    ck_assert_int_eq(lpc_module_num_params(net), 5); /* no classifier bias */
    /* Defaults: the LPC head (CE + L2 on z, no SupCon). */
    ck_assert_double_eq(lpc_head_get(h, LPC_HEAD_LOSS), LPC_HEAD_CE);
    ck_assert_double_eq(lpc_head_get(h, LPC_HEAD_L2), LPC_L2_ON_Z);
    ck_assert_double_eq(lpc_head_get(h, LPC_HEAD_SUPCON), 0);
    ck_assert_double_eq(lpc_head_get(h, LPC_HEAD_SUPCON_TAU), 0.05);
    ck_assert_double_eq(lpc_head_get(h, LPC_HEAD_COSFACE_S), 32);
    ck_assert_double_eq(lpc_head_get(h, LPC_HEAD_COSFACE_M), 0.25);
    ck_assert_double_eq(lpc_head_get(h, LPC_HEAD_MARGIN_CLAMP), 0);
    /* Two optimizer groups: the classifier alone in group 1. */
    lpc_adamw *opt = lpc_head_adamw_new(h, 1e-3, 5e-4);
    ck_assert_int_eq(lpc_adamw_num_params(opt), 5);
    ck_assert_ptr_eq(lpc_adamw_param(opt, 4), lpc_module_find_param(net, "classifier.weight"));
    ck_assert_int_eq(lpc_adamw_set_lr(opt, 1, 0.5), LPC_OK);
    ck_assert_double_eq(lpc_adamw_get_lr(opt, 0), 1e-3);
    lpc_adamw_free(opt);
    lpc_head_free(h);
}
END_TEST

/* Each configuration's loss equals the same terms composed by hand. */
START_TEST(loss_configurations)
{
    const struct {
        int penult;
        lpc_head_loss_kind loss;
        lpc_l2_target l2;
        int supcon, clamp; /* clamp: LPC_HEAD_MARGIN_CLAMP */
    } cases[] = {
        {1, LPC_HEAD_CE, LPC_L2_ON_Z, 0, 0},      {0, LPC_HEAD_CE, LPC_L2_ON_H, 0, 0},
        {1, LPC_HEAD_CE, LPC_L2_OFF, 0, 0},       {1, LPC_HEAD_CE, LPC_L2_ON_Z, 1, 0},
        {1, LPC_HEAD_CE, LPC_L2_ON_H, 0, 0},      {0, LPC_HEAD_ARCFACE, LPC_L2_OFF, 0, 0},
        {0, LPC_HEAD_COSFACE, LPC_L2_OFF, 0, 0},  {1, LPC_HEAD_COSFACE, LPC_L2_ON_Z, 1, 0},
        {0, LPC_HEAD_ARCFACE, LPC_L2_OFF, 0, 1},  {1, LPC_HEAD_COSFACE, LPC_L2_ON_Z, 0, 1},
    };
    const double gamma = 3.0, arc_s = 20, arc_m = 0.2, tau = 0.1, cs = 16, cm = 0.3;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lpc_head *h = head_new(cases[i].penult, 2);
        ck_assert_int_eq(lpc_head_set(h, LPC_HEAD_LOSS, cases[i].loss), LPC_OK);
        ck_assert_int_eq(lpc_head_set(h, LPC_HEAD_L2, cases[i].l2), LPC_OK);
        ck_assert_int_eq(lpc_head_set(h, LPC_HEAD_SUPCON, cases[i].supcon), LPC_OK);
        ck_assert_int_eq(lpc_head_set(h, LPC_HEAD_SUPCON_TAU, tau), LPC_OK);
        ck_assert_int_eq(lpc_head_set(h, LPC_HEAD_COSFACE_S, cs), LPC_OK);
        ck_assert_int_eq(lpc_head_set(h, LPC_HEAD_COSFACE_M, cm), LPC_OK);
        ck_assert_int_eq(lpc_head_set(h, LPC_HEAD_MARGIN_CLAMP, cases[i].clamp), LPC_OK);
        unsigned flags = cases[i].clamp ? LPC_MARGIN_CLAMP_TARGET : 0;
        lpc_ctx *ctx = lpc_ctx_new();
        lpc_tensor *x = lpc_tensor_from(ctx, 2, (int64_t[]){4, 3}, XV, 12);
        lpc_tensor *feat, *z, *logits, *lg2;
        ck_assert_int_eq(lpc_head_forward(h, ctx, x, &feat, &z, &logits), LPC_OK);
        lpc_tensor *w = lpc_module_find_param(lpc_head_module(h), "classifier.weight");
        double expect = cases[i].loss == LPC_HEAD_ARCFACE
                            ? lpc_tensor_data(
                                  lpc_arcface_flags(ctx, z, w, LABELS, arc_s, arc_m, flags))[0]
                        : cases[i].loss == LPC_HEAD_COSFACE
                            ? lpc_tensor_data(lpc_cosface_flags(ctx, z, w, LABELS, cs, cm, flags))[0]
                            : lpc_tensor_data(lpc_cross_entropy(ctx, logits, LABELS))[0];
        if (cases[i].l2 != LPC_L2_OFF)
            expect += lpc_tensor_data(
                lpc_l2_latent(ctx, cases[i].l2 == LPC_L2_ON_Z ? z : feat, (float)gamma))[0];
        if (cases[i].supcon)
            expect += lpc_tensor_data(lpc_supcon(ctx, feat, LABELS, (float)tau))[0];
        lpc_tensor *loss = lpc_head_loss(h, ctx, x, LABELS, gamma, arc_s, arc_m, &lg2);
        ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
        LPCT_ASSERT_CLOSE(lpc_tensor_data(loss)[0], expect, 1e-5);
        ck_assert_mem_eq(lpc_tensor_cdata(lg2), lpc_tensor_cdata(logits), 12 * sizeof(float));
        ck_assert_int_eq(lpc_backward(ctx, loss), LPC_OK);
        lpc_ctx_free(ctx);
        lpc_head_free(h);
    }
}
END_TEST

typedef struct {
    lpc_head *h;
    lpc_tensor *x;
} grad_case;

static lpc_tensor *head_graph(lpc_ctx *ctx, lpc_tensor **in, void *user)
{
    (void)in;
    grad_case *c = user;
    return lpc_head_loss(c->h, ctx, c->x, LABELS, 2.0, 16.0, 0.1, NULL);
}

/* Finite differences through backbone, penultimate and classifier for the
 * LPC head with SupCon and the CosFace head. */
START_TEST(gradients)
{
    for (int variant = 0; variant < 2; variant++) {
        lpc_head *h = head_new(1, 3);
        if (variant)
            ck_assert_int_eq(lpc_head_set(h, LPC_HEAD_LOSS, LPC_HEAD_COSFACE), LPC_OK);
        else
            ck_assert_int_eq(lpc_head_set(h, LPC_HEAD_SUPCON, 1), LPC_OK);
        ck_assert_int_eq(lpc_head_set(h, LPC_HEAD_SUPCON_TAU, 0.5), LPC_OK);
        lpc_module *net = lpc_head_module(h);
        grad_case c = {h, lpct_rand(2, (int64_t[]){4, 3}, -1, 1, 8)};
        int n = lpc_module_num_params(net);
        lpc_tensor *params[8];
        for (int i = 0; i < n; i++)
            params[i] = lpc_module_param(net, i);
        ck_assert_double_le(lpct_gradcheck(head_graph, params, n, &c, 1e-3, 2e-3, 2e-2), 1.0);
        lpc_tensor_free(c.x);
        lpc_head_free(h);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("head");
    TCase *tc = tcase_create("head");
    tcase_add_test(tc, structure);
    tcase_add_test(tc, loss_configurations);
    tcase_add_test(tc, gradients);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
