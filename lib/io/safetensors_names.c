/* Name styles of safetensors files (include/lpc/safetensors.h). */
#include <string.h>
#include "safetensors_names.h"

lpc_tensor *lpci_st_module_tensor(lpc_module *m, int i, int np, const char **name)
{
    if (name)
        *name = i < np ? lpc_module_param_name(m, i) : lpc_module_buffer_name(m, i - np);
    return i < np ? lpc_module_param(m, i) : lpc_module_buffer(m, i - np);
}

int lpci_st_map_name(char *out, size_t cap, const char *prefix, const char *name,
                     lpc_name_style style)
{
    size_t off = 0;
    for (const char *s = prefix ? prefix : ""; *s; s++)
        if (off + 1 < cap)
            out[off++] = *s;
        else
            return 0;
    /* Component by component, renaming "shortcut" in the torchvision style. */
    for (const char *c = name; *c;) {
        size_t len = strcspn(c, ".");
        const char *part = c;
        if (style == LPC_NAMES_TORCHVISION && len == 8 && strncmp(c, "shortcut", 8) == 0) {
            part = "downsample";
            len = 10;
        }
        if (off + len + 1 >= cap)
            return 0;
        memcpy(out + off, part, len);
        off += len;
        c += part == c ? len : 8;
        if (*c == '.') {
            out[off++] = '.';
            c++;
        }
    }
    out[off] = '\0';
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

int lpci_st_is_bn_var(const char *name) { return ends_with(name, ".running_var"); }

int lpci_st_is_batch_counter(const lpc_safetensors *st, int k)
{
    const lpci_st_entry *e = &st->entries[k];
    return ends_with(e->name, ".num_batches_tracked") && strcmp(e->dtype, "I64") == 0 &&
           e->end - e->begin == 8;
}
