/* Small helpers shared by the example programs: data-set and backbone
 * selection by name, and strict number parsing. */
#ifndef LPC_EXAMPLES_OPTIONS_H
#define LPC_EXAMPLES_OPTIONS_H
#include <lpc/lpc.h>
#include "recipes.h"

/* "fashion-mnist" (default dir), "mnist:DIR", "cifar10:DIR", "cifar100:DIR",
 * "cifar100-coarse:DIR", "pngdir:DIR" (DIR/train and DIR/test; test labels
 * follow the training folders' class names), "imagedir:DIR" (the same with
 * JPEG and PNG files), "imagedir-HxW:DIR" and "imagedir-HxWxC:DIR" (resized
 * to H x W, converted to C = 1 or 3 channels), with a suffix "cF" (e.g.
 * imagedir-64x64c0.875:DIR) the test images through Resize + CenterCrop
 * keeping the fraction F. Classes without a sample are
 * reported on stderr (a warning for the training set, a note for the test set). */
lpc_status ex_load_dataset(const char *spec, int train, lpc_dataset **out);
/* Classes of ds without a sample, on stderr: a warning for a training set
 * (the model still has an output for them), a note for a test set. */
void ex_report_empty_classes(const char *spec, int train, const lpc_dataset *ds);
/* The library's message for a failure s, or when it gave none (a failure of
 * the programs' own code, e.g. an allocation) what s means. */
const char *ex_status_reason(lpc_status s);
/* Whether the training set ds (of spec) has the two classes or more a
 * classifier needs; 0 after "error: the training set of DATA has 1 class
 * (NAME) ..." on stderr. */
int ex_enough_classes(const char *spec, const lpc_dataset *ds);
/* "mlp", "resnet-small", "resnet18", "resnet50", "wrn50-2". */
int ex_parse_backbone(const char *name, ex_backbone *out);
/* Strict parsers: whole string, finite, in range; print an error and return 0 otherwise. */
int ex_parse_long(const char *opt, const char *s, long lo, long hi, long *out);
int ex_parse_double(const char *opt, const char *s, double lo, double hi, double *out);
/* "64,128,16" -> three positive widths. */
int ex_parse_widths(const char *s, int widths[3]);
/* "paper", "compressed", "ramp". */
int ex_parse_protocol(const char *s, lpc_protocol *out);
#endif
