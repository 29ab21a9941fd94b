/* Mini-batches of normalised float images. Each epoch starts from the
 * identity order and is Fisher-Yates shuffled with the batcher's generator,
 * so an epoch depends only on the generator state at its start. The random
 * crop/flip draws of a batch are taken serially before the parallel copy, so
 * results do not depend on the thread count. Nothing is allocated after
 * lpc_batcher_new. */
#include <math.h>
#include <string.h>
#include "parse.h"

#define DRAWS 5

struct lpc_batcher {
    const lpc_dataset *ds;
    int64_t n, batch;  /* n fixed at creation; batch <= n */
    int shuffle;
    lpc_rng *rng;
    float *lut;        /* c x 256: (v/255 - mean)/std for every byte value */
    int pad, flip;
    double rrc[4];     /* random resized crop: scale and ratio ranges; rrc[1] == 0: off */
    int64_t *order;    /* this epoch's sample order */
    int64_t pos;       /* next position in order */
    int in_epoch;
    int32_t *labels;   /* batch */
    int32_t *draws;    /* batch x DRAWS: crop y, x, height, width, flip */
};

lpc_batcher *lpc_batcher_new(const lpc_dataset *ds, int64_t batch_size, int shuffle,
                             uint64_t seed, const double *mean, const double *std)
{
    if (!ds)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_batcher_new: dataset is NULL");
    if (batch_size < 1)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_batcher_new: batch size %lld must be >= 1",
                              (long long)batch_size);
    if (!mean != !std)
        return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_batcher_new: give both mean and std, or neither");
    for (int k = 0; mean && k < ds->c; k++)
        if (!isfinite(mean[k]) || !isfinite(std[k]) || !(std[k] > 0.0))
            return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_batcher_new: channel %d has mean %g, std %g "
                                  "(need finite values and std > 0)", k, mean[k], std[k]);
    lpc_batcher *b = lpci_calloc(1, sizeof *b);
    if (!b)
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_batcher_new: out of memory");
    b->ds = ds;
    b->n = ds->n;
    b->batch = batch_size < ds->n ? batch_size : ds->n;
    b->shuffle = shuffle != 0;
    b->rng = lpc_rng_new(seed);
    b->lut = lpci_malloc((size_t)ds->c * 256 * sizeof *b->lut);
    b->order = lpci_malloc((size_t)b->n * sizeof *b->order);
    b->labels = lpci_malloc((size_t)b->batch * sizeof *b->labels);
    b->draws = lpci_malloc((size_t)b->batch * DRAWS * sizeof *b->draws);
    if (!b->rng || !b->lut || !b->order || !b->labels || !b->draws) {
        lpc_batcher_free(b);
        return LPCI_FAIL_NULL(LPC_E_NOMEM, "lpc_batcher_new: out of memory for %lld samples",
                              (long long)ds->n);
    }
    for (int k = 0; k < ds->c; k++)
        for (int v = 0; v < 256; v++) {
            float x = mean ? (float)((v / 255.0 - mean[k]) / std[k]) : (float)(v / 255.0);
            if (!isfinite(x)) { /* a tiny std overflows float */
                lpc_batcher_free(b);
                return LPCI_FAIL_NULL(LPC_E_ARG, "lpc_batcher_new: channel %d: mean %g and std "
                                      "%g give a normalised pixel of %g (not a finite float)",
                                      k, mean[k], std[k], (double)x);
            }
            b->lut[k * 256 + v] = x;
        }
    return b;
}

void lpc_batcher_free(lpc_batcher *b)
{
    if (!b)
        return;
    lpc_rng_free(b->rng);
    lpci_free(b->lut);
    lpci_free(b->order);
    lpci_free(b->labels);
    lpci_free(b->draws);
    lpci_free(b);
}

lpc_status lpc_batcher_set_augment(lpc_batcher *b, int pad, int flip)
{
    if (!b)
        return lpci_error(LPC_E_ARG, "lpc_batcher_set_augment: batcher is NULL");
    if (pad < 0 || pad > b->ds->h || pad > b->ds->w)
        return lpci_error(LPC_E_ARG, "lpc_batcher_set_augment: pad %d is not in [0, %d]", pad,
                          b->ds->h < b->ds->w ? b->ds->h : b->ds->w);
    b->pad = pad;
    b->flip = flip != 0;
    return LPC_OK;
}

lpc_status lpc_batcher_set_random_resized_crop(lpc_batcher *b, double scale_min,
                                               double scale_max, double ratio_min,
                                               double ratio_max)
{
    if (!b)
        return lpci_error(LPC_E_ARG, "lpc_batcher_set_random_resized_crop: batcher is NULL");
    int off = scale_min == 0.0 && scale_max == 0.0 && ratio_min == 0.0 && ratio_max == 0.0;
    if (!off && !(scale_min > 0.0 && scale_min <= scale_max && scale_max <= 1.0 &&
                  ratio_min > 0.0 && ratio_min <= ratio_max && isfinite(ratio_max)))
        return lpci_error(LPC_E_ARG, "lpc_batcher_set_random_resized_crop: need 0 < scale_min "
                          "<= scale_max <= 1 and 0 < ratio_min <= ratio_max < inf (all 0: off); "
                          "got scale [%g, %g], ratio [%g, %g]", scale_min, scale_max, ratio_min,
                          ratio_max);
    b->rrc[0] = scale_min;
    b->rrc[1] = scale_max;
    b->rrc[2] = ratio_min;
    b->rrc[3] = ratio_max;
    return LPC_OK;
}

/* torchvision's RandomResizedCrop.get_params: ten tries of an area
 * fraction and a log-uniform aspect ratio, then the centre crop of the
 * image clamped to the ratio range. d receives y, x, height, width. */
static void draw_resized_crop(lpc_rng *rng, const double *rrc, int h, int w, int32_t *d)
{
    double area = (double)h * (double)w, lr0 = log(rrc[2]), lr1 = log(rrc[3]);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * (rrc[0] + (rrc[1] - rrc[0]) * lpc_rng_uniform(rng));
        double ratio = exp(lr0 + (lr1 - lr0) * lpc_rng_uniform(rng));
        int cw = (int)lround(sqrt(target * ratio)), ch = (int)lround(sqrt(target / ratio));
        if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
            d[0] = (int32_t)lpc_rng_below(rng, (uint64_t)(h - ch + 1));
            d[1] = (int32_t)lpc_rng_below(rng, (uint64_t)(w - cw + 1));
            d[2] = ch;
            d[3] = cw;
            return;
        }
    }
    double in_ratio = (double)w / (double)h;
    int cw = w, ch = h;
    if (in_ratio < rrc[2])
        ch = (int)lround(cw / rrc[2]);
    else if (in_ratio > rrc[3])
        cw = (int)lround(ch * rrc[3]);
    ch = ch < 1 ? 1 : ch > h ? h : ch;
    cw = cw < 1 ? 1 : cw > w ? w : cw;
    d[0] = (h - ch) / 2;
    d[1] = (w - cw) / 2;
    d[2] = ch;
    d[3] = cw;
}

int64_t lpc_batcher_batches_per_epoch(const lpc_batcher *b)
{
    if (!b)
        return lpci_error(LPC_E_ARG, "lpc_batcher_batches_per_epoch: batcher is NULL");
    return (b->n + b->batch - 1) / b->batch;
}

static void start_epoch(lpc_batcher *b)
{
    for (int64_t i = 0; i < b->n; i++)
        b->order[i] = i;
    if (b->shuffle)
        for (int64_t i = b->n - 1; i > 0; i--) {
            int64_t j = (int64_t)lpc_rng_below(b->rng, (uint64_t)i + 1);
            int64_t t = b->order[i];
            b->order[i] = b->order[j];
            b->order[j] = t;
        }
    b->pos = 0;
    b->in_epoch = 1;
}

/* One sample: out[y][x] = crop[y][flip ? w-1-x : x], where crop is the
 * window at (oy, ox) of the image zero-padded by `pad` after normalisation. */
static void fill_sample(const uint8_t *src, float *dst, int c, int h, int w, const float *lut,
                        int pad, int oy, int ox, int flip)
{
    for (int k = 0; k < c; k++) {
        const float *t = lut + k * 256;
        const uint8_t *s = src + (size_t)k * h * w;
        float *d = dst + (size_t)k * h * w;
        for (int y = 0; y < h; y++) {
            int sy = y + oy - pad;
            float *drow = d + (size_t)y * w;
            if (sy < 0 || sy >= h) {
                memset(drow, 0, (size_t)w * sizeof *drow);
                continue;
            }
            const uint8_t *srow = s + (size_t)sy * w;
            if (!flip && ox == pad) {
                for (int x = 0; x < w; x++)
                    drow[x] = t[srow[x]];
                continue;
            }
            for (int x = 0; x < w; x++) {
                int sx = (flip ? w - 1 - x : x) + ox - pad;
                drow[x] = sx >= 0 && sx < w ? t[srow[sx]] : 0.0f;
            }
        }
    }
}

int64_t lpc_batcher_next(lpc_batcher *b, lpc_ctx *ctx, lpc_tensor **x, const int32_t **labels)
{
    if (!b || !ctx || !x || !labels)
        return lpci_error(LPC_E_ARG, "lpc_batcher_next: NULL argument");
    *x = NULL;
    *labels = NULL;
    const lpc_dataset *ds = b->ds;
    if (ds->n != b->n)
        return lpci_error(LPC_E_STATE, "lpc_batcher_next: the dataset was resized from %lld to "
                          "%lld samples after the batcher was made", (long long)b->n,
                          (long long)ds->n);
    int64_t pos = b->in_epoch ? b->pos : 0; /* a new epoch starts at 0 */
    if (pos >= b->n) {
        b->in_epoch = 0;
        return 0;
    }
    int64_t k = b->n - pos < b->batch ? b->n - pos : b->batch;
    lpc_tensor *t = lpc_tensor_temp(ctx, 4, (int64_t[]){k, ds->c, ds->h, ds->w});
    float *out = lpc_tensor_data(t);
    if (!out) /* nothing drawn yet: a failed call leaves the batcher as it was */
        return lpci_error(lpc_ctx_status(ctx) != LPC_OK ? lpc_ctx_status(ctx) : LPC_E_NOMEM,
                          "lpc_batcher_next: no batch tensor: %s", lpc_ctx_error(ctx));
    if (!b->in_epoch)
        start_epoch(b);
    const int64_t *idx = b->order + b->pos;
    int span = 2 * b->pad + 1, rrc = b->rrc[1] > 0.0;
    for (int64_t i = 0; i < k; i++) {
        int32_t *d = b->draws + DRAWS * i;
        b->labels[i] = ds->labels[idx[i]];
        if (rrc) {
            draw_resized_crop(b->rng, b->rrc, ds->h, ds->w, d);
        } else {
            d[0] = b->pad ? (int32_t)lpc_rng_below(b->rng, (uint64_t)span) : b->pad;
            d[1] = b->pad ? (int32_t)lpc_rng_below(b->rng, (uint64_t)span) : b->pad;
        }
        d[4] = b->flip ? (int32_t)(lpc_rng_u64(b->rng) >> 63) : 0;
    }
    const size_t img = lpci_dataset_image_bytes(ds);
    const int32_t *draws = b->draws;
#pragma omp parallel for schedule(static) num_threads(lpci_threads())
    for (int64_t i = 0; i < k; i++) {
        const int32_t *d = draws + DRAWS * i;
        if (rrc)
            lpci_resized_crop_f32(ds->images + (size_t)idx[i] * img, ds->c, ds->h, ds->w, d[0],
                                  d[1], d[2], d[3], d[4], b->lut, out + (size_t)i * img);
        else
            fill_sample(ds->images + (size_t)idx[i] * img, out + (size_t)i * img, ds->c, ds->h,
                        ds->w, b->lut, b->pad, d[0], d[1], d[4]);
    }
    b->pos += k;
    *x = t;
    *labels = b->labels;
    return k;
}

lpc_status lpc_batcher_get_rng_state(const lpc_batcher *b, uint64_t state[4])
{
    if (!b || !state)
        return lpci_error(LPC_E_ARG, "lpc_batcher_get_rng_state: NULL argument");
    if (b->in_epoch && b->pos < b->n)
        return lpci_error(LPC_E_STATE, "lpc_batcher_get_rng_state: in the middle of an epoch "
                          "(%lld of %lld samples served)", (long long)b->pos, (long long)b->n);
    return lpc_rng_get_state(b->rng, state);
}

lpc_status lpc_batcher_set_rng_state(lpc_batcher *b, const uint64_t state[4])
{
    if (!b || !state)
        return lpci_error(LPC_E_ARG, "lpc_batcher_set_rng_state: NULL argument");
    lpc_status s = lpc_rng_set_state(b->rng, state);
    if (s != LPC_OK)
        return s;
    /* Any epoch in progress is abandoned: the next call starts a fresh one. */
    b->in_epoch = 0;
    b->pos = 0;
    return LPC_OK;
}
