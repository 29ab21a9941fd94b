/* liblpc — the Latent Point Collapse head for any backbone.
 *
 * A head turns a backbone h(x) (N x ... -> N x D) into a classifier with
 * the parts the paper studies: an optional penultimate layer z = g(h)
 * (usually lpc_linear_new(D, P, 1, rng): linear D -> P with bias; or none,
 * then z = h), a bias-free linear classifier logits = W z, and the training
 * loss
 *     CE(logits) | ArcFace(z, W) | CosFace(z, W)          (LPC_HEAD_LOSS)
 *   + gamma * mean(z^2) or gamma * mean(h^2)             (LPC_HEAD_L2)
 *   + SupCon(h; tau)                                      (LPC_HEAD_SUPCON)
 * configured by enum-keyed settings with bounds. Predictions are the argmax
 * of the raw logits W z for every loss. gamma and ArcFace's (s, m) change
 * during training and are passed to each lpc_head_loss call; their
 * schedules are in optim.h.
 *
 * The head owns the whole network, one lpc_module with the children
 * "backbone", ["penultimate",] "classifier" (parameters "backbone.*",
 * "penultimate.*", "classifier.weight"): use it for train/eval mode,
 * optimizers, checkpoints and DeepFool (which attacks the raw logits). */
#ifndef LPC_HEAD_H
#define LPC_HEAD_H
#include "module.h"
#include "optim.h"

typedef struct lpc_head lpc_head;

/* Classification loss (LPC_HEAD_LOSS). */
typedef enum {
    LPC_HEAD_CE = 0,      /* cross-entropy on the raw logits (default) */
    LPC_HEAD_ARCFACE = 1, /* ArcFace on (z, W) with the (s, m) given to lpc_head_loss */
    LPC_HEAD_COSFACE = 2, /* CosFace on (z, W), LPC_HEAD_COSFACE_S / _M */
} lpc_head_loss_kind;

/* Where the gamma * mean(.^2) term goes (LPC_HEAD_L2). */
typedef enum {
    LPC_L2_OFF = 0,  /* no term */
    LPC_L2_ON_Z = 1, /* on the latent z (LPC; the default) */
    LPC_L2_ON_H = 2, /* on the backbone feature h (LPC-NoPen) */
} lpc_l2_target;

/* Settings (lpc_head_set / lpc_head_get) with their bounds. */
typedef enum {
    LPC_HEAD_LOSS = 0,       /* lpc_head_loss_kind (default LPC_HEAD_CE) */
    LPC_HEAD_L2 = 1,         /* lpc_l2_target (default LPC_L2_ON_Z) */
    LPC_HEAD_SUPCON = 2,     /* SupCon on h: 0 off (default) or 1 on */
    LPC_HEAD_SUPCON_TAU = 3, /* SupCon temperature, (0, 100] (default 0.05) */
    LPC_HEAD_COSFACE_S = 4,  /* CosFace scale, (0, 1e4] (default 32) */
    LPC_HEAD_COSFACE_M = 5,  /* CosFace margin, [0, 1] (default 0.25) */
    LPC_HEAD_MARGIN_CLAMP = 6, /* 1: ArcFace/CosFace clamp the target after the margin
                                * (LPC_MARGIN_CLAMP_TARGET, the authors' code); 0 off
                                * (default) */
} lpc_head_setting;

LPC_BEGIN_DECLS
/* Builds the network backbone -> [penultimate] -> classifier (K x P, no
 * bias, drawn from rng after the caller's layers, PyTorch's default init).
 * feature_dim D is the backbone's output width; latent_dim P is the
 * penultimate's output width (it must equal D when penultimate is NULL).
 * Takes ownership of backbone and penultimate, also on failure (then they
 * are freed), unless they belong to a container or a head already
 * (LPC_E_ARG, left alone). num_classes >= 2. *out is owned by the caller: lpc_head_free. */
LPC_API lpc_status lpc_head_new(lpc_module *backbone, int64_t feature_dim,
                                lpc_module *penultimate, int64_t latent_dim, int num_classes,
                                lpc_rng *rng, lpc_head **out);
/* Frees the head and the whole network. NULL is a no-op. */
LPC_API void lpc_head_free(lpc_head *h);
/* Settings; a value outside the bounds above is LPC_E_ARG (nothing changes). */
LPC_API lpc_status lpc_head_set(lpc_head *h, lpc_head_setting what, double value);
LPC_API double lpc_head_get(const lpc_head *h, lpc_head_setting what); /* NAN on error */
/* The network (owned by the head, valid until lpc_head_free): lpc_module_free
 * refuses it, and adding it to a container is LPC_E_ARG. */
LPC_API lpc_module *lpc_head_module(lpc_head *h);
/* P (the width of z) and K; -1 for NULL. */
LPC_API int64_t lpc_head_latent_dim(const lpc_head *h);
LPC_API int lpc_head_num_classes(const lpc_head *h);
/* Forward pass: backbone feature h (N x D), latent z (N x P) and raw logits
 * (N x K), temporaries of ctx; each output pointer may be NULL. Returns the
 * ctx's sticky status. */
LPC_API lpc_status lpc_head_forward(lpc_head *h, lpc_ctx *ctx, lpc_tensor *x,
                                    lpc_tensor **feature, lpc_tensor **z, lpc_tensor **logits);
/* Forward pass and training loss for labels (N entries in [0, K)): a scalar
 * temporary (poisoned on error, sticky in ctx). gamma >= 0 weighs the L2
 * term; (arc_s, arc_m) are ArcFace's scale and margin (ignored by the other
 * losses). logits (may be NULL) receives the raw logits. */
LPC_API lpc_tensor *lpc_head_loss(lpc_head *h, lpc_ctx *ctx, lpc_tensor *x,
                                  const int32_t *labels, double gamma, double arc_s,
                                  double arc_m, lpc_tensor **logits);
/* AdamW (betas 0.9, 0.999, eps 1e-8) with the paper's two groups: group 0 =
 * every parameter but the classifier's, group 1 = the classifier; both start
 * with lr and weight_decay. The optimizer is the caller's (lpc_adamw_free,
 * before lpc_head_free). NULL with lpc_last_error() on error. */
LPC_API lpc_adamw *lpc_head_adamw_new(lpc_head *h, double lr, double weight_decay);
LPC_END_DECLS
#endif
