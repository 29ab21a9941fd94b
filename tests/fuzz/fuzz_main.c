/* libFuzzer entry point; LPCF_TARGET names the function of targets.h.
 * libFuzzer reserves non-zero return values, so acceptance is dropped. */
#include <stddef.h>
#include <stdint.h>
#include "targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    LPCF_TARGET(data, size);
    return 0;
}
