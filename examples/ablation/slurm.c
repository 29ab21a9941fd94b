#include "slurm.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../common/atomic.h"
#include "../common/files.h"
#include "cell.h"
#include "lock.h"

/* Writes s as one single-quoted shell word. */
static void shell_word(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* The unfinished cells as an sbatch array list: "0-3,7,9-10". */
static int pending_ranges(const ab_config *c, const char *out, FILE *f)
{
    int n = ab_num_cells(c), count = 0;
    for (int i = 0; i < n; i++) {
        ab_cell cell;
        ab_cell_at(c, i, &cell);
        if (ab_cell_result(c, out, &cell) == AB_RESULT_OK)
            continue;
        int j = i;
        for (;;) {
            ab_cell next;
            if (j + 1 >= n)
                break;
            ab_cell_at(c, j + 1, &next);
            if (ab_cell_result(c, out, &next) == AB_RESULT_OK)
                break;
            j++;
        }
        fprintf(f, "%s%d", count ? "," : "", i);
        if (j > i)
            fprintf(f, "-%d", j);
        count += j - i + 1;
        i = j;
    }
    return count;
}

/* The script's text (malloc'ed) and the number of cells it runs. */
static char *script_text(const ab_config *c, const ab_slurm_opts *o, const char *self,
                         const char *out, int *cells)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    fprintf(f, "#!/bin/sh\n"
               "# Written by `lpc-ablation slurm`: the unfinished cells of preset %s.\n"
               "# Every task runs one cell; a killed or requeued task resumes from the\n"
               "# cell's checkpoint, a finished cell returns at once.\n",
            c->preset);
    fprintf(f, "#SBATCH --job-name=lpc-%s\n#SBATCH --array=", c->preset);
    *cells = pending_ranges(c, out, f);
    fprintf(f, "%%%ld\n", o->limit > 0 ? o->limit : *cells > 0 ? *cells : 1);
    fprintf(f, "#SBATCH --ntasks=%ld\n#SBATCH --cpus-per-task=%ld\n#SBATCH --requeue\n"
               "#SBATCH --open-mode=append\n#SBATCH --output=%s/logs/cell-%%a.log\n",
            o->ranks > 1 ? o->ranks : 1, o->threads, out);
    for (int i = 0; i < o->n_extra; i++)
        fprintf(f, "#SBATCH %s\n", o->extra[i]);
    fputs("exec ", f);
    if (o->ranks > 1) /* mpirun takes the nodes from the allocation */
        fprintf(f, "mpirun -np %ld ", o->ranks);
    shell_word(f, self);
    fprintf(f, " run --cell \"$SLURM_ARRAY_TASK_ID\" --threads %ld --out ", o->threads);
    shell_word(f, out);
    fputs(" --preset ", f);
    shell_word(f, o->preset);
    for (int i = 0; i < o->n_ov; i++) {
        fprintf(f, " \\\n    --%s ", o->ov_what[i]);
        shell_word(f, o->ov_value[i]);
    }
    fputc('\n', f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

/* Runs `sbatch --parsable script` and prints the job id it answers. */
static int submit(const char *script)
{
    int p[2];
    if (pipe(p) != 0) {
        fprintf(stderr, "error: pipe: %s\n", strerror(errno));
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        close(p[1]);
        execlp("sbatch", "sbatch", "--parsable", script, (char *)NULL);
        fprintf(stderr, "error: cannot run sbatch: %s\n", strerror(errno));
        _exit(127);
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        fprintf(stderr, "error: fork: %s\n", strerror(errno));
        return 1;
    }
    char id[256] = "";
    size_t n = 0;
    ssize_t r;
    while ((r = read(p[0], id + n, sizeof id - 1 - n)) > 0 && n + (size_t)r < sizeof id - 1)
        n += (size_t)r;
    id[n] = '\0';
    id[strcspn(id, ";\n")] = '\0'; /* --parsable: "jobid[;cluster]" */
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !id[0]) {
        fprintf(stderr, "error: sbatch %s failed (see its message above)\n", script);
        return 1;
    }
    printf("submitted job array %s\n", id);
    return 0;
}

/* s with its control characters written as C escapes (\n, \x1b, ...). */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\n')
            fputs("\\n", f);
        else if (ch == '\r')
            fputs("\\r", f);
        else if (ch == '\t')
            fputs("\\t", f);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
}

/* A value written into the script must stay on its line: no newline (it
 * would become a command of its own) nor any other control character. */
static int script_safe(const char *what, const char *v)
{
    if (!ex_has_control(v))
        return 1;
    fprintf(stderr, "error: %s '", what);
    put_escaped(stderr, v);
    fprintf(stderr, "' holds a control character; it cannot go into the job script\n");
    return 0;
}

static int all_script_safe(const ab_slurm_opts *o, const char *self, const char *out)
{
    char what[80];
    int ok = script_safe("this program's path", self) && script_safe("--out", out) &&
             script_safe("--preset", o->preset);
    for (int i = 0; ok && i < o->n_extra; i++)
        ok = script_safe("--sbatch", o->extra[i]);
    for (int i = 0; ok && i < o->n_ov; i++) {
        snprintf(what, sizeof what, "--%s", o->ov_what[i]);
        ok = script_safe(what, o->ov_value[i]);
    }
    return ok;
}

int ab_slurm(const ab_config *c, const ab_slurm_opts *o)
{
    char out[PATH_MAX], self[PATH_MAX], dir[PATH_MAX + 16], script[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "error: cannot find this program's path: %s\n", strerror(errno));
        return 1;
    }
    self[n] = '\0';
    if (!all_script_safe(o, self, o->out))
        return 2;
    /* Tasks may start in any directory: the script names absolute paths. */
    if (ex_mkdirs(o->out) != 0 || !realpath(o->out, out)) {
        fprintf(stderr, "error: cannot create %s: %s\n", o->out, strerror(errno));
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/logs", out);
    if (ex_mkdirs(dir) != 0) {
        fprintf(stderr, "error: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (!script_safe("--out", out)) /* the absolute path, through symbolic links */
        return 2;
    int cells = 0, rc;
    int lock_fd = ab_lock_results(out, &rc);
    if (lock_fd < 0)
        return rc;
    char *text = script_text(c, o, self, out, &cells);
    if (!text) {
        fprintf(stderr, "error: out of memory writing the job script\n");
        close(lock_fd);
        return 1;
    }
    if (cells == 0) {
        free(text);
        close(lock_fd);
        printf("all %d cells in %s are finished; nothing to submit\n", ab_num_cells(c), out);
        return 0;
    }
    snprintf(script, sizeof script, "%s/slurm-array.sh", out);
    rc = ex_write_atomic(script, text, strlen(text)); /* prints its error */
    free(text);
    close(lock_fd);
    if (rc != 0)
        return 1;
    printf("wrote %s: %d of %d cells, %ld rank(s) of %ld thread(s) each\n", script, cells,
           ab_num_cells(c), o->ranks > 1 ? o->ranks : 1, o->threads);
    return o->submit ? submit(script) : 0;
}
