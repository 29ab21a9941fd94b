/* lpc-ablation: the paper's eleven-model ablation as independent cells
 * (model x learning rate x seed) sharing one results directory.
 *   lpc-ablation plan | run --cell N | all [--jobs J] | slurm [--submit] | report
 *   [options] */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../common/closeout.h"
#include "../common/comm_mpi.h"
#include "../common/files.h"
#include "../common/options.h"
#include "cell.h"
#include "lock.h"
#include "preset.h"
#include "progress.h"
#include "report.h"
#include "slurm.h"

typedef struct {
    const char *out, *preset;
    long cell, jobs, threads, ranks;
    int quiet, submit;
    const char *ov_what[32], *ov_value[32], *sbatch[32];
    int n_ov, n_sbatch;
} options;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: lpc-ablation plan|run|all|slurm|report [options]\n"
        "  plan                 list the cells of the preset with their index and state\n"
        "  run --cell N         train and analyse one cell (resumes from its checkpoint);\n"
        "                       exits 75 when another process is running that cell\n"
        "  all [--jobs J]       run every unfinished cell, J processes at a time (default 1);\n"
        "                       a cell another process is running (locked) is skipped;\n"
        "                       SIGTERM or Ctrl-C stops the running cells too (they resume)\n"
        "  slurm [--submit]     write DIR/slurm-array.sh, a Slurm job array of the unfinished\n"
        "                       cells (--jobs J: at most J tasks at once, --threads N per task,\n"
        "                       default 1; --sbatch ARG: a further #SBATCH line, repeatable;\n"
        "                       --ranks R: each cell trained by R MPI ranks via mpirun);\n"
        "                       --submit passes it to sbatch (again later: the missing cells)\n"
        "  report               aggregate the finished cells into DIR/tables.md, tables.csv,\n"
        "                       summary.json and figures\n"
        "options (all subcommands):\n"
        "  --out DIR            results directory (default results/)\n"
        "  --preset NAME        (default quick):\n");
    ab_preset_list(f);
    fprintf(f,
        "  --threads N          threads per cell (default: cores / jobs)\n"
        "  --quiet              no progress output\n"
        "overrides of the preset:\n"
        "  --epochs N  --lrs A,B,..  --seeds N|S1,S2,..  --models M1,M2,..  --backbone B\n"
        "  --dataset D  --subset N (0 = all)  --gamma-max X  --deepfool-samples N\n"
        "  --protocol paper|compressed|ramp  --widths M,W,N  --batch N  --augment 0|1\n"
        "  --attacks 0|1        also FMN (L2) and PGD (Linf, 2/255 and 8/255 in pixels)\n"
        "                       on DeepFool's samples (Table 2; default 0)\n"
        "  --weight-decay X     AdamW decoupled weight decay of every group (presets 5e-4)\n"
        "  --resized-crop 0|1   RandomResizedCrop instead of the padded crop (flips: --augment)\n"
        "  --metrics-every E    training-set metrics every E epochs, in the cell's log\n"
        "                       (Fig. 5; 0 = off; presets: quick 1, fmnist 5, paper 20)\n"
        "  --lrs 1e-4,2e-4,4e-4,8e-4  the paper text's grid of four (the presets use five)\n"
        "  --holdout C1,C2,..   open set: train without these classes (e.g. 8,9), then\n"
        "                       measure OOD detection on them (near) and on generated\n"
        "                       permuted and noise images (far); the report adds its tables\n");
    ex_fidelity_usage(f);
    fprintf(f,
        "Use the same options for plan, run, all and report of one experiment.\n");
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){.out = "results", .preset = "quick", .cell = -1};
    enum { O_OUT = 256, O_PRESET, O_CELL, O_JOBS, O_THREADS, O_QUIET, O_SUBMIT, O_SBATCH,
           O_RANKS, O_OVERRIDE };
    static const struct option longopts[] = {
        {"help", no_argument, 0, 'h'}, {"out", required_argument, 0, O_OUT},
        {"preset", required_argument, 0, O_PRESET}, {"cell", required_argument, 0, O_CELL},
        {"jobs", required_argument, 0, O_JOBS}, {"threads", required_argument, 0, O_THREADS},
        {"quiet", no_argument, 0, O_QUIET}, {"submit", no_argument, 0, O_SUBMIT},
        {"sbatch", required_argument, 0, O_SBATCH}, {"ranks", required_argument, 0, O_RANKS},
        {"epochs", required_argument, 0, O_OVERRIDE}, {"lrs", required_argument, 0, O_OVERRIDE},
        {"seeds", required_argument, 0, O_OVERRIDE}, {"models", required_argument, 0, O_OVERRIDE},
        {"backbone", required_argument, 0, O_OVERRIDE},
        {"dataset", required_argument, 0, O_OVERRIDE},
        {"subset", required_argument, 0, O_OVERRIDE},
        {"gamma-max", required_argument, 0, O_OVERRIDE},
        {"deepfool-samples", required_argument, 0, O_OVERRIDE},
        {"attacks", required_argument, 0, O_OVERRIDE},
        {"protocol", required_argument, 0, O_OVERRIDE},
        {"widths", required_argument, 0, O_OVERRIDE}, {"batch", required_argument, 0, O_OVERRIDE},
        {"augment", required_argument, 0, O_OVERRIDE},
        {"metrics-every", required_argument, 0, O_OVERRIDE},
        {"holdout", required_argument, 0, O_OVERRIDE},
        {"lr-decay", required_argument, 0, O_OVERRIDE}, {"gamma", required_argument, 0, O_OVERRIDE},
        {"margin-clamp", required_argument, 0, O_OVERRIDE},
        {"train-metrics", required_argument, 0, O_OVERRIDE},
        {"nc1", required_argument, 0, O_OVERRIDE},
        {"deepfool-pick", required_argument, 0, O_OVERRIDE},
        {"authors", no_argument, 0, O_OVERRIDE},
        {"schedule", required_argument, 0, O_OVERRIDE},
        {"gamma-final", required_argument, 0, O_OVERRIDE},
        {"warmup", required_argument, 0, O_OVERRIDE},
        {"warmup-factor", required_argument, 0, O_OVERRIDE},
        {"lr-hold", required_argument, 0, O_OVERRIDE},
        {"lr-floor", required_argument, 0, O_OVERRIDE},
        {"weight-decay", required_argument, 0, O_OVERRIDE},
        {"resized-crop", required_argument, 0, O_OVERRIDE}, {0, 0, 0, 0}};
    int c, idx;
    while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
        int ok = 1;
        switch (c) {
        case 'h': usage(stdout); exit(0);
        case O_OUT: o->out = optarg; break;
        case O_PRESET: o->preset = optarg; break;
        case O_CELL: ok = ex_parse_long("--cell", optarg, 0, 1L << 30, &o->cell); break;
        case O_JOBS: ok = ex_parse_long("--jobs", optarg, 1, 1024, &o->jobs); break;
        case O_THREADS: ok = ex_parse_long("--threads", optarg, 1, 256, &o->threads); break;
        case O_QUIET: o->quiet = 1; break;
        case O_SUBMIT: o->submit = 1; break;
        case O_RANKS: ok = ex_parse_long("--ranks", optarg, 1, 4096, &o->ranks); break;
        case O_SBATCH:
            if ((ok = o->n_sbatch < 32))
                o->sbatch[o->n_sbatch++] = optarg;
            break;
        case O_OVERRIDE:
            if (o->n_ov == 32) {
                ok = 0;
                break;
            }
            o->ov_what[o->n_ov] = longopts[idx].name;
            o->ov_value[o->n_ov++] = optarg;
            break;
        default: ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "(see lpc-ablation --help)\n");
            return 0;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "error: unexpected argument '%s'\n", argv[optind]);
        return 0;
    }
    return 1;
}

static int configure(const options *o, ab_config *c)
{
    if (!ab_preset_load(o->preset, c))
        return 0;
    for (int i = 0; i < o->n_ov; i++)
        if (!ab_preset_override(c, o->ov_what[i], o->ov_value[i]))
            return 0;
    ex_schedule named;
    return ex_fidelity_schedule(&c->fid, &named) >= 0; /* a bad --schedule before any work */
}

/* PID of the process running a cell, or 0 when none does. */
static long cell_holder(const char *out, const ab_cell *cell)
{
    char dir[4200];
    ab_cell_path(out, cell, NULL, dir, sizeof dir);
    return ab_lock_holder(dir);
}

static int plan(const ab_config *c, const char *out)
{
    char fid[512];
    ex_fidelity_describe(&c->fid, EX_FIDELITY_TRAINING, fid, sizeof fid);
    printf("preset %s: %s, %s backbone, %s protocol, %ld epochs, batch %ld, subset %ld, "
           "widths %d/%d/%d, augment %d%s, gamma_max %g, weight decay %g%s%s\n",
           c->preset, c->dataset, ab_backbone_name(c->backbone), ab_protocol_name(c->protocol),
           c->epochs, c->batch, c->subset, c->widths[0], c->widths[1], c->widths[2], c->augment,
           c->resized_crop ? ", resized crop" : "", c->gamma_max, c->wd, fid[0] ? ", " : "", fid);
    printf("%d cells in %s/cells:\n", ab_num_cells(c), out);
    for (int i = 0; i < ab_num_cells(c); i++) {
        ab_cell cell;
        char ck[4200];
        ab_cell_at(c, i, &cell);
        ab_cell_path(out, &cell, "checkpoint.lpcc", ck, sizeof ck);
        static const char *names[] = {"pending", "finished", "damaged (runs again)",
                                      "another configuration's result"};
        ab_result_state st = ab_cell_result(c, out, &cell);
        long holder = st == AB_RESULT_OK ? 0 : cell_holder(out, &cell);
        const char *state = st == AB_RESULT_NONE && access(ck, F_OK) == 0 ? "started"
                                                                         : names[st];
        printf("%4d  %-12s lr %-8g seed %-3ld %s", i, cell.model, cell.lr, cell.seed, state);
        if (holder)
            printf(" (running in process %ld)", holder);
        printf("\n");
    }
    return 0;
}

/* Child argv: self run --cell N --threads T plus the options of this call
 * except --jobs and --threads. */
static char **child_argv(int argc, char **argv, int cell, long threads, char *bufs[2])
{
    char **a = calloc((size_t)argc + 8, sizeof *a);
    if (!a)
        return NULL;
    int n = 0;
    a[n++] = argv[0];
    a[n++] = "run";
    a[n++] = "--cell";
    a[n++] = bufs[0];
    a[n++] = "--threads";
    a[n++] = bufs[1];
    snprintf(bufs[0], 32, "%d", cell);
    snprintf(bufs[1], 32, "%ld", threads);
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--jobs") == 0 || strcmp(argv[i], "--threads") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--jobs=", 7) == 0 || strncmp(argv[i], "--threads=", 10) == 0)
            continue;
        a[n++] = argv[i];
    }
    return a;
}

/* The signal that stops `all` (SIGTERM, SIGINT or SIGHUP), 0 while none came. */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    stop_signal = sig;
}

static const int stop_signals[] = {SIGTERM, SIGINT, SIGHUP};

/* Handlers for the stop signals (no SA_RESTART: a wait returns at once), or
 * back to the default action; *mask gets the set of them. */
static void catch_stop_signals(int on, sigset_t *mask)
{
    sigemptyset(mask);
    for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) {
        struct sigaction sa = {.sa_handler = on ? on_stop : SIG_DFL};
        sigemptyset(&sa.sa_mask);
        sigaction(stop_signals[i], &sa, NULL);
        sigaddset(mask, stop_signals[i]);
    }
}

/* Starts a child with args and its stdout on a pipe (*fd). The stop signals
 * are blocked meanwhile, so that the caller records the child before a stop
 * signal can ask for its PID; the child gets the default actions back. */
static pid_t spawn(char **args, int *fd, const sigset_t *stops)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    sigset_t old;
    sigprocmask(SIG_BLOCK, stops, &old);
    pid_t pid = fork();
    if (pid == 0) {
        for (size_t i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++)
            signal(stop_signals[i], SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
        execv("/proc/self/exe", args);
        fprintf(stderr, "error: cannot execute /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    int err = errno;
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        sigprocmask(SIG_SETMASK, &old, NULL);
        errno = err;
        return -1;
    }
    *fd = p[0];
    return pid; /* the caller unblocks after recording it */
}

/* A child `run` ends done (0), skipped (its cell was locked meanwhile) or failed. */
static void count_exit(int status, int *ok, int *skipped, int *failed)
{
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    ++*(code == 0 ? ok : code == AB_EXIT_LOCKED ? skipped : failed);
}

/* Stopped: the running cells stop too (they resume from their checkpoints
 * next time), and their locks go with them. */
static void forward(const pid_t *kids, long jobs, int running)
{
    for (long j = 0; j < jobs; j++)
        if (kids[j])
            kill(kids[j], stop_signal);
    fprintf(stderr, "lpc-ablation: %s: stopping %d running cell(s)\n", strsignal(stop_signal),
            running);
}

static int run_all(const ab_config *c, const options *o, int argc, char **argv)
{
    long jobs = o->jobs ? o->jobs : 1, threads = o->threads;
    if (!threads) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores / jobs > 0 ? cores / jobs : 1;
    }
    int total = ab_num_cells(c), pending[4096], n_pending = 0, skipped = 0;
    for (int i = 0; i < total && n_pending < 4096; i++) {
        ab_cell cell;
        ab_cell_at(c, i, &cell);
        if (ab_cell_result(c, o->out, &cell) == AB_RESULT_OK)
            continue;
        long holder = cell_holder(o->out, &cell);
        if (holder) {
            fprintf(stderr, "note: cell %s is locked by process %ld (running elsewhere); "
                            "skipped\n", cell.name, holder);
            skipped++;
            continue;
        }
        pending[n_pending++] = i;
    }
    ab_progress_mode mode = ab_progress_mode_for_stdout(o->quiet);
    ab_progress_note(mode, "%d of %d cells to run, %ld at a time with %ld thread(s) each",
                     n_pending, total, jobs, threads);
    ab_board *board = ab_board_new(mode, (int)jobs);
    if (!board)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    sigset_t stops;
    catch_stop_signals(1, &stops);
    pid_t *kids = calloc((size_t)jobs, sizeof *kids);
    if (!kids) {
        fprintf(stderr, "error: out of memory\n");
        ab_board_free(board);
        return 1;
    }
    int next = 0, running = 0, failed = 0, ok = 0, forwarded = 0;
    while (next < n_pending || running > 0) {
        while (!stop_signal && running < jobs && next < n_pending) {
            char b0[32], b1[32], *bufs[2] = {b0, b1};
            char **args = child_argv(argc, argv, pending[next], threads, bufs);
            ab_cell cell;
            ab_cell_at(c, pending[next], &cell);
            int fd = -1;
            pid_t pid = args ? spawn(args, &fd, &stops) : -1;
            free(args);
            if (pid < 0) {
                fprintf(stderr, "error: cannot start cell %s: %s\n", cell.name, strerror(errno));
                failed++;
            } else {
                for (long j = 0; j < jobs; j++)
                    if (!kids[j]) {
                        kids[j] = pid;
                        break;
                    }
                sigprocmask(SIG_UNBLOCK, &stops, NULL);
                ab_board_attach(board, fd, cell.name);
                running++;
            }
            next++;
        }
        if (stop_signal && !forwarded) {
            forward(kids, jobs, running);
            forwarded = 1;
            next = n_pending;
        }
        running -= ab_board_poll(board, 500);
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            for (long j = 0; j < jobs; j++)
                if (kids[j] == pid)
                    kids[j] = 0;
            if (!forwarded)
                count_exit(status, &ok, &skipped, &failed);
        }
        if (forwarded && pid < 0 && errno == ECHILD)
            break; /* every child is gone, whatever its pipe says */
    }
    for (;;) { /* the children whose output ended before they did */
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (stop_signal && !forwarded) {
            forward(kids, jobs, running);
            forwarded = 1;
        }
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break;
        for (long j = 0; j < jobs; j++)
            if (kids[j] == pid)
                kids[j] = 0;
        if (!forwarded)
            count_exit(status, &ok, &skipped, &failed);
    }
    free(kids);
    if (stop_signal) {
        ab_board_free(board);
        int sig = stop_signal;
        catch_stop_signals(0, &stops);
        fflush(stdout);
        raise(sig); /* the conventional end: killed by that signal */
        return 128 + sig;
    }
    ab_board_free(board);
    ab_progress_note(mode == AB_QUIET ? AB_PLAIN : mode,
                     "%d cell(s) done, %d skipped (locked by another process), %d failed%s", ok,
                     skipped, failed,
                     failed ? " (see the errors above; run `all` again to retry)" : "");
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    ex_closeout_init("lpc-ablation");
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    /* getopt permutes its argv: keep the original for the children of `all`. */
    char **orig = malloc((size_t)(argc + 1) * sizeof *orig);
    if (!orig)
        return 1;
    memcpy(orig, argv, (size_t)(argc + 1) * sizeof *orig);
    options o;
    ab_config c;
    if (!parse(argc - 1, argv + 1, &o) || !ex_check_dir_option("--out", o.out) ||
        !configure(&o, &c)) {
        free(orig);
        return 2;
    }
    int rc;
    if (strcmp(cmd, "report") != 0 && !o.quiet)
        printf("kernel path: %s\n", lpc_cpu_path_name(lpc_get_cpu_path()));
    if (strcmp(cmd, "plan") == 0) {
        rc = plan(&c, o.out);
    } else if (strcmp(cmd, "run") == 0) {
        if (o.cell < 0) {
            fprintf(stderr, "error: run needs --cell N (see `lpc-ablation plan`)\n");
            rc = 2;
        } else {
            /* Under mpirun: one cell trained by all ranks (data-parallel). */
            lpc_comm *comm = NULL;
            if (ex_comm_start(&argc, &argv, &comm) != 0) {
                free(orig);
                return 1;
            }
            int ranks = comm ? lpc_comm_size(comm) : 1;
            long threads = o.threads ? o.threads : sysconf(_SC_NPROCESSORS_ONLN) / ranks;
            rc = ab_cell_run(&c, (int)o.cell, o.out, (int)(threads > 0 ? threads : 1),
                             ab_progress_mode_for_stdout(o.quiet || ex_comm_rank(comm) != 0),
                             comm);
            rc = ex_comm_end(comm, rc);
        }
    } else if (strcmp(cmd, "all") == 0) {
        rc = run_all(&c, &o, argc, orig);
    } else if (strcmp(cmd, "slurm") == 0) {
        ab_slurm_opts so = {o.out,     o.preset,   o.ov_what,  o.ov_value, o.n_ov,
                            o.threads ? o.threads : 1, o.ranks, o.jobs, o.sbatch, o.n_sbatch,
                            o.submit};
        rc = ab_slurm(&c, &so);
    } else if (strcmp(cmd, "report") == 0) {
        rc = ab_report(&c, o.out, o.quiet);
    } else {
        fprintf(stderr, "error: unknown subcommand '%s' (plan, run, all, slurm, report)\n", cmd);
        rc = 2;
    }
    free(orig);
    return rc;
}
