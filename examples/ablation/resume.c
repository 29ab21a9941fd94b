#include "resume.h"
#include <stdio.h>
#include <string.h>

int ab_resume_save(const char *path, const char *identity, lpc_head *m, ex_trainer *t,
                   const ab_epoch_log *log, long done)
{
    uint64_t state[LPC_RNG_STATE_WORDS];
    lpc_checkpoint *ck = lpc_checkpoint_new();
    lpc_rng *rng = lpc_rng_new(0);
    lpc_status s = ck && rng ? LPC_OK : LPC_E_NOMEM;
    /* Each step runs only while everything before it succeeded. */
    if (s == LPC_OK)
        s = lpc_checkpoint_add_blob(ck, "identity", identity, strlen(identity));
    if (s == LPC_OK)
        s = lpc_checkpoint_add_module(ck, "model.", lpc_head_module(m));
    if (s == LPC_OK)
        s = lpc_checkpoint_add_adamw(ck, "adamw", ex_trainer_adamw(t));
    if (s == LPC_OK)
        s = lpc_batcher_get_rng_state(ex_trainer_batcher(t), state);
    if (s == LPC_OK)
        s = lpc_rng_set_state(rng, state);
    if (s == LPC_OK)
        s = lpc_checkpoint_add_rng(ck, "batcher", rng);
    if (s == LPC_OK)
        s = lpc_checkpoint_set_u64(ck, "epoch", (uint64_t)done);
    if (s == LPC_OK)
        s = lpc_checkpoint_add_blob(ck, "log", log, (size_t)done * sizeof *log);
    if (s == LPC_OK)
        s = lpc_checkpoint_save(ck, path);
    if (s != LPC_OK)
        fprintf(stderr, "error: saving checkpoint %s: %s\n", path, lpc_last_error());
    lpc_rng_free(rng);
    lpc_checkpoint_free(ck);
    return s != LPC_OK;
}

static int refuse(const char *path, const char *why)
{
    fprintf(stderr, "error: refusing checkpoint %s: %s\n"
                    "       (delete it to start this cell from scratch)\n", path, why);
    return 1;
}

int ab_resume_load(const char *path, const char *identity, lpc_head *m, ex_trainer *t,
                   ab_epoch_log *log, long max_epochs, long *done)
{
    lpc_checkpoint *ck = NULL;
    if (lpc_checkpoint_load(path, &ck) != LPC_OK)
        return refuse(path, lpc_last_error());
    int rc = 1;
    size_t n_id = 0, n_log = 0;
    const char *id = lpc_checkpoint_blob(ck, "identity", &n_id);
    const void *saved_log = lpc_checkpoint_blob(ck, "log", &n_log);
    uint64_t epoch = 0, state[LPC_RNG_STATE_WORDS];
    lpc_rng *rng = lpc_rng_new(0);
    if (!id || n_id != strlen(identity) || memcmp(id, identity, n_id) != 0)
        refuse(path, "it belongs to another configuration (model, data or schedule differ)");
    else if (lpc_checkpoint_get_u64(ck, "epoch", &epoch) != LPC_OK || epoch > (uint64_t)max_epochs ||
             !saved_log || n_log != epoch * sizeof *log)
        refuse(path, "its epoch count or log is inconsistent");
    else if (!rng || lpc_checkpoint_restore_module(ck, "model.", lpc_head_module(m)) != LPC_OK ||
             lpc_checkpoint_restore_adamw(ck, "adamw", ex_trainer_adamw(t)) != LPC_OK ||
             lpc_checkpoint_restore_rng(ck, "batcher", rng) != LPC_OK ||
             lpc_rng_get_state(rng, state) != LPC_OK ||
             lpc_batcher_set_rng_state(ex_trainer_batcher(t), state) != LPC_OK ||
             ex_trainer_set_epoch(t, (int64_t)epoch) != LPC_OK)
        refuse(path, lpc_last_error());
    else {
        memcpy(log, saved_log, n_log);
        *done = (long)epoch;
        rc = 0;
    }
    lpc_rng_free(rng);
    lpc_checkpoint_free(ck);
    return rc;
}
