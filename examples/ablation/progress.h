/* Progress output of training cells: a live line per running cell on a
 * terminal (\r updates), plain log lines otherwise, nothing with --quiet. */
#ifndef AB_PROGRESS_H
#define AB_PROGRESS_H

typedef enum { AB_QUIET, AB_PLAIN, AB_LIVE } ab_progress_mode;

/* LIVE when stdout is a terminal, PLAIN otherwise, QUIET when quiet. */
ab_progress_mode ab_progress_mode_for_stdout(int quiet);

/* One epoch of one cell (the line starts with "cell <name>"). */
void ab_progress_epoch(ab_progress_mode mode, const char *cell, long epoch, long epochs,
                       double loss, double acc, double gamma, double eta_s);
/* A message about a cell (ends a live line first). */
void ab_progress_note(ab_progress_mode mode, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parent side of `all`: children write plain lines into pipes; the board
 * keeps the latest line per running child and redraws them as a block on a
 * terminal, or forwards each line otherwise. */
typedef struct ab_board ab_board;
ab_board *ab_board_new(ab_progress_mode mode, int slots);
void ab_board_free(ab_board *b);
/* Attaches a child's pipe (read end) to a free slot; -1 when none is free. */
int ab_board_attach(ab_board *b, int fd, const char *cell);
/* Waits up to timeout_ms for output and handles it; returns the number of
 * slots whose pipe closed during this call (their slots are free again). */
int ab_board_poll(ab_board *b, int timeout_ms);
#endif
