/* lpc-analyze --stream: metrics of features given in chunks (stream.c). */
#ifndef LPC_ANALYZE_STREAM_H
#define LPC_ANALYZE_STREAM_H
/* argv[0] is "--stream"; returns the exit status (0, or 2 on bad arguments or files). */
int analyze_stream(int argc, char **argv);
#endif
