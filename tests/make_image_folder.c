/* Writes DIR/train and DIR/test class folders of small JPEG images for the
 * lpc-train script test: make_image_folder DIR CLASSES PER_CLASS H W. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "imgwrite.h"

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: make_image_folder DIR CLASSES PER_CLASS H W\n");
        return 2;
    }
    int k = atoi(argv[2]), n = atoi(argv[3]), h = atoi(argv[4]), w = atoi(argv[5]);
    char train[4096], test[4096];
    snprintf(train, sizeof train, "%s/train", argv[1]);
    snprintf(test, sizeof test, "%s/test", argv[1]);
    mkdir(argv[1], 0755);
    if (lpct_make_jpeg_folder(train, k, n, h, w, 30, 1) != 0 ||
        lpct_make_jpeg_folder(test, k, n / 4 > 0 ? n / 4 : 1, h, w, 30, 2) != 0) {
        fprintf(stderr, "make_image_folder: cannot write %s\n", argv[1]);
        return 1;
    }
    return 0;
}
