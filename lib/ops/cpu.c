/* The one dispatch point between the portable code and the kernels of each
 * instruction set. The path is chosen once per process, on first use: the
 * one LPC_CPU names, or else the best the CPU reports (cpuid on x86-64,
 * hwcaps on aarch64). Kernels for another architecture are not compiled in,
 * so a path is usable only when both the build and the CPU have it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif
#include "kernels.h"

static const char *const names[] = {"auto", "generic", "avx2", "avx512", "neon"};

const char *lpc_cpu_path_name(lpc_cpu_path path)
{
    return path >= LPC_CPU_AUTO && path <= LPC_CPU_NEON ? names[path] : "unknown";
}

/* What is missing for `path` on this build and CPU, or NULL when it can run. */
static const char *lacking(lpc_cpu_path path)
{
    switch (path) {
    case LPC_CPU_AUTO:
    case LPC_CPU_GENERIC:
        return NULL;
#if defined(__x86_64__)
    case LPC_CPU_AVX2:
        __builtin_cpu_init(); /* also checks that the OS saves the ymm/zmm state */
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                   ? NULL
                   : "this CPU lacks AVX2 or FMA";
    case LPC_CPU_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")
                   ? NULL
                   : "this CPU lacks AVX-512F";
    case LPC_CPU_NEON:
        return "NEON kernels exist only in aarch64 builds (this one is x86-64)";
#elif defined(__aarch64__)
    case LPC_CPU_AVX2:
    case LPC_CPU_AVX512:
        return "x86-64 kernels exist only in x86-64 builds (this one is aarch64)";
    case LPC_CPU_NEON:
#if defined(__linux__)
        return getauxval(AT_HWCAP) & HWCAP_ASIMD ? NULL : "this CPU lacks Advanced SIMD";
#else
        return NULL; /* Advanced SIMD is part of every ARMv8-A core */
#endif
#else
    case LPC_CPU_AVX2:
    case LPC_CPU_AVX512:
    case LPC_CPU_NEON:
        return "this build has only the generic kernels";
#endif
    }
    return "no such path";
}

int lpc_cpu_path_supported(lpc_cpu_path path) { return lacking(path) == NULL; }

static lpc_cpu_path best(void)
{
    static const lpc_cpu_path order[] = {LPC_CPU_AVX512, LPC_CPU_AVX2, LPC_CPU_NEON};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        if (!lacking(order[i]))
            return order[i];
    return LPC_CPU_GENERIC;
}

static atomic_int current = LPC_CPU_GENERIC;
static pthread_once_t chosen = PTHREAD_ONCE_INIT;
static char env_error[256]; /* why LPC_CPU was refused; "" when it was not */

static void choose(void)
{
    const char *want = getenv("LPC_CPU");
    lpc_cpu_path path = best();
    if (want && *want) {
        int found = -1;
        for (int i = 0; i <= LPC_CPU_NEON; i++)
            if (strcmp(want, names[i]) == 0)
                found = i;
        const char *why = found < 0 ? "not one of auto, generic, avx2, avx512, neon"
                                    : lacking((lpc_cpu_path)found);
        if (why) { /* refused: run the portable kernels, which every CPU can */
            snprintf(env_error, sizeof env_error, "LPC_CPU=%s: %s", want, why);
            path = LPC_CPU_GENERIC;
        } else if (found != LPC_CPU_AUTO) {
            path = (lpc_cpu_path)found;
        }
    }
    atomic_store(&current, path);
}

lpc_cpu_path lpci_cpu(void)
{
    pthread_once(&chosen, choose);
    return (lpc_cpu_path)atomic_load_explicit(&current, memory_order_relaxed);
}

lpc_status lpci_cpu_env_status(void)
{
    pthread_once(&chosen, choose);
    return env_error[0] ? lpci_error(LPC_E_ARG, "%s", env_error) : LPC_OK;
}

lpc_cpu_path lpc_get_cpu_path(void) { return lpci_cpu(); }

lpc_status lpc_set_cpu_path(lpc_cpu_path path)
{
    const char *why = lacking(path);
    if (why)
        return lpci_error(LPC_E_ARG, "lpc_set_cpu_path: %s (%d): %s", lpc_cpu_path_name(path),
                          (int)path, why);
    pthread_once(&chosen, choose);
    env_error[0] = '\0'; /* an explicit choice replaces a refused LPC_CPU */
    atomic_store(&current, path == LPC_CPU_AUTO ? best() : path);
    return LPC_OK;
}

/* Display family and model ranges of the microarchitectures; the first
 * match wins. */
static const struct {
    int amd, family, model_lo, model_hi;
    const char *name;
} table[] = {
    {1, 0x17, 0x00, 0x2f, "AMD Zen / Zen+"},
    {1, 0x17, 0x30, 0xff, "AMD Zen 2"},
    {1, 0x19, 0x10, 0x1f, "AMD Zen 4"},
    {1, 0x19, 0x60, 0x7f, "AMD Zen 4"},
    {1, 0x19, 0xa0, 0xaf, "AMD Zen 4"},
    {1, 0x19, 0x00, 0xff, "AMD Zen 3"},
    {1, 0x1a, 0x00, 0xff, "AMD Zen 5"},
    {0, 6, 0x3c, 0x3c, "Intel Haswell"},
    {0, 6, 0x3f, 0x3f, "Intel Haswell"},
    {0, 6, 0x45, 0x46, "Intel Haswell"},
    {0, 6, 0x3d, 0x3d, "Intel Broadwell"},
    {0, 6, 0x47, 0x47, "Intel Broadwell"},
    {0, 6, 0x4f, 0x4f, "Intel Broadwell"},
    {0, 6, 0x56, 0x56, "Intel Broadwell"},
    {0, 6, 0x4e, 0x4e, "Intel Skylake"},
    {0, 6, 0x5e, 0x5e, "Intel Skylake"},
    {0, 6, 0x55, 0x55, "Intel Skylake-SP / Cascade Lake"},
    {0, 6, 0x8e, 0x8e, "Intel Kaby / Coffee Lake"},
    {0, 6, 0x9e, 0x9e, "Intel Kaby / Coffee Lake"},
    {0, 6, 0x6a, 0x6a, "Intel Ice Lake-SP"},
    {0, 6, 0x6c, 0x6c, "Intel Ice Lake-SP"},
    {0, 6, 0x7d, 0x7e, "Intel Ice Lake"},
    {0, 6, 0x8c, 0x8d, "Intel Tiger Lake"},
    {0, 6, 0x97, 0x9a, "Intel Alder Lake"},
    {0, 6, 0xb7, 0xb7, "Intel Raptor Lake"},
    {0, 6, 0xba, 0xba, "Intel Raptor Lake"},
    {0, 6, 0xbf, 0xbf, "Intel Raptor Lake"},
    {0, 6, 0x8f, 0x8f, "Intel Sapphire Rapids"},
    {0, 6, 0xcf, 0xcf, "Intel Emerald Rapids"},
    {0, 6, 0xad, 0xae, "Intel Granite Rapids"},
    {0, 6, 0xaf, 0xaf, "Intel Sierra Forest"},
};

const char *lpci_cpu_microarch(const char *vendor, int family, int model)
{
    int amd = strcmp(vendor, "AuthenticAMD") == 0;
    if (!amd && strcmp(vendor, "GenuineIntel") != 0)
        return "unknown";
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (table[i].amd == amd && table[i].family == family && model >= table[i].model_lo &&
            model <= table[i].model_hi)
            return table[i].name;
    return "unknown";
}

void lpci_cpu_identify(lpci_cpu_model *out)
{
    *out = (lpci_cpu_model){.name = "unknown"};
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return;
    memcpy(out->vendor, &b, 4);
    memcpy(out->vendor + 4, &d, 4);
    memcpy(out->vendor + 8, &c, 4);
    out->vendor[12] = '\0';
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    int family = (int)(a >> 8 & 0xf), model = (int)(a >> 4 & 0xf);
    if (family == 0xf)
        family += (int)(a >> 20 & 0xff);
    if (family == 0x6 || family >= 0xf)
        model += (int)(a >> 16 & 0xf) << 4;
    out->family = family;
    out->model = model;
    out->name = lpci_cpu_microarch(out->vendor, family, model);
#endif
}

#define LPCI_WINO_OF(isa) lpci_wino_input_##isa, lpci_wino_output_##isa, lpci_wino_grad_##isa
static const lpci_kernels generic = {LPC_CPU_GENERIC, NULL, LPCI_WINO_OF(generic)};
#if defined(__x86_64__)
static const lpci_kernels avx2 = {LPC_CPU_AVX2, lpci_sgemm_avx2, LPCI_WINO_OF(avx2)};
static const lpci_kernels avx512 = {LPC_CPU_AVX512, lpci_sgemm_avx512, LPCI_WINO_OF(avx512)};
#elif defined(__aarch64__)
static const lpci_kernels neon = {LPC_CPU_NEON, lpci_sgemm_neon, LPCI_WINO_OF(neon)};
#endif

const lpci_sgemm_kernel lpci_sgemm_kernels[] = {
#if defined(__x86_64__)
    {LPC_CPU_AVX2, lpci_sgemm_avx2},
    {LPC_CPU_AVX512, lpci_sgemm_avx512},
#elif defined(__aarch64__)
    {LPC_CPU_NEON, lpci_sgemm_neon},
#endif
    {LPC_CPU_GENERIC, NULL}, /* a terminator, so that the array is never empty */
};
const int lpci_sgemm_kernel_count = sizeof lpci_sgemm_kernels / sizeof *lpci_sgemm_kernels - 1;

const lpci_kernels *lpci_kernels_now(void)
{
    switch (lpci_cpu()) {
#if defined(__x86_64__)
    case LPC_CPU_AVX2:
        return &avx2;
    case LPC_CPU_AVX512:
        return &avx512;
#elif defined(__aarch64__)
    case LPC_CPU_NEON:
        return &neon;
#endif
    default:
        return &generic;
    }
}
