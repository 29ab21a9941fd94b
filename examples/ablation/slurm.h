/* The ablation grid as a Slurm job array: one array task per unfinished
 * cell, each running `lpc-ablation run --cell $SLURM_ARRAY_TASK_ID` with the
 * same preset and overrides. */
#ifndef AB_SLURM_H
#define AB_SLURM_H
#include "preset.h"

typedef struct {
    const char *out;         /* results directory (created; made absolute in the script) */
    const char *preset;      /* preset name and the overrides, passed to every task */
    const char *const *ov_what, *const *ov_value;
    int n_ov;
    long threads;            /* threads (and CPUs) per task, or per rank */
    long ranks;              /* > 1: each cell trained by that many MPI ranks (mpirun) */
    long limit;              /* tasks running at once (the array's %N); 0: all */
    const char *const *extra; /* further "#SBATCH" arguments, e.g. "--time=48:00:00" */
    int n_extra;
    int submit;              /* run sbatch on the script */
} ab_slurm_opts;

/* Writes DIR/slurm/array.sh for the cells of c that have no result yet and,
 * with o->submit, submits it with `sbatch --parsable` and prints the job id.
 * Running it again after the array ended resubmits only the missing cells.
 * Returns the process exit code (0 also when every cell is finished). */
int ab_slurm(const ab_config *c, const ab_slurm_opts *o);
#endif
