#!/bin/sh
# Installs liblpc into a temporary prefix and builds a small C program
# against it through pkg-config only (no paths from the source tree).
set -eu
src=$1
build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
DESTDIR="$tmp/root" meson install -C "$build" --quiet >/dev/null
pc=$(find "$tmp/root" -name lpc.pc | head -1)
[ -n "$pc" ] || { echo "lpc.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR="$tmp/root"
cat > "$tmp/consumer.c" <<'C'
#include <lpc/lpc.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    lpc_ctx *ctx = lpc_ctx_new();
    float v[4] = {1, 2, 3, 4};
    lpc_tensor *x = lpc_tensor_from(ctx, 2, (int64_t[]){2, 2}, v, 4);
    lpc_tensor *s = lpc_sum(ctx, lpc_matmul(ctx, x, x, 0, 0));
    int ok = lpc_ctx_status(ctx) == LPC_OK && lpc_tensor_data(s)[0] == 54.0f &&
             strcmp(lpc_version_string(), "@VERSION@") == 0;
    lpc_ctx_free(ctx);
    printf("consumer: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
C
version=$(pkg-config --modversion lpc)
sed -i "s/@VERSION@/$version/" "$tmp/consumer.c"
cc $(pkg-config --cflags lpc) "$tmp/consumer.c" -o "$tmp/consumer" $(pkg-config --libs lpc)
# lpc.pc lives in <libdir>/pkgconfig of the staged install.
LD_LIBRARY_PATH=$(dirname "$(dirname "$pc")") "$tmp/consumer"
