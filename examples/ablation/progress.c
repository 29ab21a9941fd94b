#include "progress.h"
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_ 512

ab_progress_mode ab_progress_mode_for_stdout(int quiet)
{
    if (quiet)
        return AB_QUIET;
    return isatty(STDOUT_FILENO) ? AB_LIVE : AB_PLAIN;
}

static int live_open; /* a live line is on screen without its newline */

static void format_eta(double s, char *buf, size_t n)
{
    if (!(s >= 0))
        snprintf(buf, n, "?");
    else if (s < 60)
        snprintf(buf, n, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, n, "%.0fm%02.0fs", (double)(long)(s / 60), s - 60 * (double)(long)(s / 60));
    else
        snprintf(buf, n, "%.1fh", s / 3600);
}

void ab_progress_epoch(ab_progress_mode mode, const char *cell, long epoch, long epochs,
                       double loss, double acc, double gamma, double eta_s)
{
    if (mode == AB_QUIET)
        return;
    char eta[32];
    format_eta(eta_s, eta, sizeof eta);
    printf("%scell %s epoch %ld/%ld loss %.4f acc %.4f gamma %.3g eta %s%s",
           mode == AB_LIVE ? "\r\033[K" : "", cell, epoch, epochs, loss, acc, gamma, eta,
           mode == AB_LIVE ? "" : "\n");
    live_open = mode == AB_LIVE;
    fflush(stdout);
}

void ab_progress_note(ab_progress_mode mode, const char *fmt, ...)
{
    if (mode == AB_QUIET)
        return;
    if (live_open)
        fputc('\n', stdout);
    live_open = 0;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* ---- the parent's board ---- */

typedef struct {
    int fd;
    char cell[128];
    char line[LINE_MAX_]; /* latest progress line */
    char partial[LINE_MAX_];
    size_t npartial;
} slot;

struct ab_board {
    ab_progress_mode mode;
    int n, drawn; /* slots; lines of the block currently on screen */
    slot *s;
};

ab_board *ab_board_new(ab_progress_mode mode, int slots)
{
    ab_board *b = calloc(1, sizeof *b);
    if (!b || !(b->s = calloc((size_t)slots, sizeof *b->s))) {
        free(b);
        return NULL;
    }
    b->mode = mode;
    b->n = slots;
    for (int i = 0; i < slots; i++)
        b->s[i].fd = -1;
    return b;
}

void ab_board_free(ab_board *b)
{
    if (!b)
        return;
    for (int i = 0; i < b->n; i++)
        if (b->s[i].fd >= 0)
            close(b->s[i].fd);
    free(b->s);
    free(b);
}

int ab_board_attach(ab_board *b, int fd, const char *cell)
{
    for (int i = 0; i < b->n; i++)
        if (b->s[i].fd < 0) {
            slot *s = &b->s[i];
            s->fd = fd;
            snprintf(s->cell, sizeof s->cell, "%s", cell);
            snprintf(s->line, sizeof s->line, "cell %s starting", cell);
            s->npartial = 0;
            return i;
        }
    return -1;
}

static void erase_block(ab_board *b)
{
    if (b->drawn)
        printf("\033[%dA", b->drawn);
    for (int i = 0; i < b->drawn; i++)
        printf("\r\033[K\n");
    if (b->drawn)
        printf("\033[%dA", b->drawn);
    b->drawn = 0;
}

static void draw_block(ab_board *b)
{
    for (int i = 0; i < b->n; i++)
        if (b->s[i].fd >= 0) {
            printf("\r\033[K%s\n", b->s[i].line);
            b->drawn++;
        }
    fflush(stdout);
}

/* Progress lines replace the slot's live line; any other line is permanent. */
static void handle_line(ab_board *b, slot *s, const char *line)
{
    int progress = strncmp(line, "cell ", 5) == 0 && strstr(line, " epoch ") != NULL;
    if (b->mode == AB_QUIET)
        return;
    if (b->mode == AB_PLAIN) {
        printf("%s\n", line);
        fflush(stdout);
        return;
    }
    if (progress) {
        snprintf(s->line, sizeof s->line, "%s", line);
    } else {
        erase_block(b);
        printf("%s\n", line);
    }
}

int ab_board_poll(ab_board *b, int timeout_ms)
{
    struct pollfd pf[64];
    int map[64], np = 0, closed = 0;
    for (int i = 0; i < b->n && np < 64; i++)
        if (b->s[i].fd >= 0) {
            pf[np] = (struct pollfd){.fd = b->s[i].fd, .events = POLLIN};
            map[np++] = i;
        }
    if (np == 0 || poll(pf, (nfds_t)np, timeout_ms) <= 0)
        return 0;
    if (b->mode == AB_LIVE)
        erase_block(b);
    for (int j = 0; j < np; j++) {
        if (!(pf[j].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        slot *s = &b->s[map[j]];
        char buf[4096];
        ssize_t got = read(s->fd, buf, sizeof buf);
        for (ssize_t k = 0; k < got; k++) {
            if (buf[k] == '\n' || buf[k] == '\r' || s->npartial + 1 == sizeof s->partial) {
                s->partial[s->npartial] = '\0';
                if (s->npartial)
                    handle_line(b, s, s->partial);
                s->npartial = 0;
            } else {
                s->partial[s->npartial++] = buf[k];
            }
        }
        if (got <= 0) {
            if (s->npartial) {
                s->partial[s->npartial] = '\0';
                handle_line(b, s, s->partial);
            }
            close(s->fd);
            s->fd = -1;
            closed++;
        }
    }
    if (b->mode == AB_LIVE)
        draw_block(b);
    return closed;
}
