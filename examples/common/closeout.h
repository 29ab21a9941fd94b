/* The standard output of the example programs is checked when they exit:
 * a program whose output could not be written (a full disk, `> /dev/full`,
 * a closed standard output) reports why and exits with status 1 instead of
 * claiming success. */
#ifndef LPC_EXAMPLES_CLOSEOUT_H
#define LPC_EXAMPLES_CLOSEOUT_H

/* Call first in main. A closed standard input, output or error becomes
 * /dev/null opened read-only (so that no file the program opens later takes
 * its number, and writes to a closed output still fail), and the program's
 * exit checks stdout: on a write error it prints "PROG: error: cannot write
 * the standard output: <cause>" on stderr and the exit status becomes 1
 * (whatever status the program exited with: its output is incomplete). */
void ex_closeout_init(const char *prog);
#endif
