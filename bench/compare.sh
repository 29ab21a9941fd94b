#!/bin/sh
# Side-by-side training throughput of liblpc and PyTorch in one run.
# usage: bench/compare.sh [BUILD_DIR] [MODEL...] (default: build, mlp resnet-small resnet18)
# THREADS (default 2) sets both sides' threads; ISA=avx2|avx512 pins both
# sides to one instruction set (LPC_CPU for liblpc; ATEN_CPU_CAPABILITY and
# DNNL_MAX_CPU_ISA for PyTorch). PEERS lists the Python interpreters whose
# torch is compared (default /usr/bin/python3, Debian's python3-torch); each
# model runs liblpc once, then every peer, and prints one row per peer.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
[ $# -gt 0 ] && shift
models=${*:-mlp resnet-small resnet18}
threads=${THREADS:-2}
peers=${PEERS:-/usr/bin/python3}
case "${ISA:-}" in
"") lpc_env="" torch_env="" ;;
avx2) lpc_env="LPC_CPU=avx2" torch_env="ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2" ;;
avx512) lpc_env="LPC_CPU=avx512" torch_env="ATEN_CPU_CAPABILITY=avx512 DNNL_MAX_CPU_ISA=AVX512_CORE" ;;
*) echo "compare.sh: ISA must be avx2 or avx512" >&2; exit 2 ;;
esac
field() { printf '%s\n' "$1" | sed -n "s/.*$2=\([0-9a-z.+]*\).*/\1/p"; }
printf '%-14s %-8s %12s %-14s %12s %8s %12s %12s\n' model path lpc_img/s torch torch_img/s ratio lpc_rss_MB torch_rss_MB
for m in $models; do
    a=$(env $lpc_env "$build/bench/lpc-bench" "$m" --threads "$threads" | tail -1)
    for py in $peers; do
        if b=$(env $torch_env "$py" "$here/torch_bench.py" "$m" --threads "$threads" 2>/dev/null | tail -1) && [ -n "$b" ]; then
            ratio=$(awk -v x="$(field "$a" images_per_s)" -v y="$(field "$b" images_per_s)" 'BEGIN{printf "%.2f", x/y}')
            printf '%-14s %-8s %12s %-14s %12s %8s %12s %12s\n' "$m" "$(field "$a" kernel_path)" "$(field "$a" images_per_s)" \
                "$(field "$b" torch)" "$(field "$b" images_per_s)" "$ratio" "$(field "$a" peak_rss_mb)" "$(field "$b" peak_rss_mb)"
        else
            printf '%-14s %-8s %12s %-14s %12s %8s %12s %12s\n' "$m" "$(field "$a" kernel_path)" "$(field "$a" images_per_s)" \
                "$py" skipped - "$(field "$a" peak_rss_mb)" -
            echo "(no torch under $py: install python3-torch, or a torch wheel, for the comparison)" >&2
        fi
    done
done
