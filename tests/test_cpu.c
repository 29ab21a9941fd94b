/* Kernel path selection (include/lpc/cpu.h): the setter, query, names and
 * support test, their misuse, and LPC_CPU naming a path this CPU cannot
 * run, which must be refused with a message, never run; the internal
 * microarchitecture table the benchmarks print from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lpct.h"
#include "ops/kernels.h"

/* A path this build never runs: another architecture's. */
#if defined(__aarch64__)
#define FOREIGN LPC_CPU_AVX512
#else
#define FOREIGN LPC_CPU_NEON
#endif

START_TEST(names_and_support)
{
    static const char *const names[] = {"auto", "generic", "avx2", "avx512", "neon"};
    for (int p = LPC_CPU_AUTO; p <= LPC_CPU_NEON; p++)
        ck_assert_str_eq(lpc_cpu_path_name((lpc_cpu_path)p), names[p]);
    ck_assert_str_eq(lpc_cpu_path_name((lpc_cpu_path)-1), "unknown");
    ck_assert_str_eq(lpc_cpu_path_name((lpc_cpu_path)5), "unknown");
    ck_assert_int_eq(lpc_cpu_path_supported(LPC_CPU_AUTO), 1);
    ck_assert_int_eq(lpc_cpu_path_supported(LPC_CPU_GENERIC), 1);
    ck_assert_int_eq(lpc_cpu_path_supported(FOREIGN), 0);
    ck_assert_int_eq(lpc_cpu_path_supported((lpc_cpu_path)5), 0);
    ck_assert_int_eq(lpc_cpu_path_supported((lpc_cpu_path)-3), 0);
}
END_TEST

START_TEST(set_and_get)
{
    lpc_cpu_path start = lpc_get_cpu_path();
    ck_assert(start != LPC_CPU_AUTO && lpc_cpu_path_supported(start));
    for (int p = LPC_CPU_GENERIC; p <= LPC_CPU_NEON; p++) {
        if (!lpc_cpu_path_supported((lpc_cpu_path)p))
            continue;
        ck_assert_int_eq(lpc_set_cpu_path((lpc_cpu_path)p), LPC_OK);
        ck_assert_int_eq(lpc_get_cpu_path(), p);
        /* ops run on it: a small matmul against the exact answer */
        lpc_ctx *ctx = lpc_ctx_new();
        ck_assert_ptr_nonnull(ctx);
        float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1};
        lpc_tensor *ta = lpc_tensor_from(ctx, 2, (int64_t[]){2, 3}, a, 6);
        lpc_tensor *tb = lpc_tensor_from(ctx, 2, (int64_t[]){3, 2}, b, 6);
        const float *c = lpc_tensor_cdata(lpc_matmul(ctx, ta, tb, 0, 0));
        ck_assert_int_eq(lpc_ctx_status(ctx), LPC_OK);
        ck_assert(c[0] == 4 && c[1] == 5 && c[2] == 10 && c[3] == 11);
        lpc_ctx_free(ctx);
    }
    ck_assert_int_eq(lpc_set_cpu_path(LPC_CPU_AUTO), LPC_OK);
    ck_assert_int_eq(lpc_get_cpu_path(), start); /* auto: the best, as at start (no LPC_CPU) */
}
END_TEST

START_TEST(misuse)
{
    lpc_cpu_path before = lpc_get_cpu_path();
    lpc_clear_error();
    ck_assert_int_eq(lpc_set_cpu_path(FOREIGN), LPC_E_ARG);
    ck_assert_msg(strstr(lpc_last_error(), lpc_cpu_path_name(FOREIGN)) != NULL, "message: %s",
                  lpc_last_error());
    ck_assert_int_eq(lpc_get_cpu_path(), before);
    lpc_clear_error();
    ck_assert_int_eq(lpc_set_cpu_path((lpc_cpu_path)7), LPC_E_ARG);
    ck_assert_str_ne(lpc_last_error(), "");
    ck_assert_int_eq(lpc_set_cpu_path((lpc_cpu_path)-1), LPC_E_ARG);
    ck_assert_int_eq(lpc_get_cpu_path(), before);
}
END_TEST

/* In a fresh process (the path is chosen once per process): LPC_CPU set to
 * `value` makes lpc_ctx_new fail with a message containing `says`; then an
 * explicit lpc_set_cpu_path(LPC_CPU_GENERIC) lifts the refusal. Returns
 * the child's exit status (0: as expected). */
static int refused_in_child(const char *value, const char *says)
{
    pid_t pid = fork();
    if (pid == 0) {
        setenv("LPC_CPU", value, 1);
        lpc_clear_error();
        lpc_ctx *ctx = lpc_ctx_new();
        int ok = ctx == NULL && strstr(lpc_last_error(), says) != NULL &&
                 strstr(lpc_last_error(), "LPC_CPU") != NULL;
        if (!ok)
            fprintf(stderr, "LPC_CPU=%s: ctx %p, message '%s'\n", value, (void *)ctx,
                    lpc_last_error());
        ok = ok && lpc_get_cpu_path() == LPC_CPU_GENERIC; /* never the refused path */
        ok = ok && lpc_set_cpu_path(LPC_CPU_GENERIC) == LPC_OK;
        lpc_ctx *after = ok ? lpc_ctx_new() : NULL;
        ok = ok && after != NULL;
        lpc_ctx_free(after);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

START_TEST(environment_refused)
{
    ck_assert_int_eq(refused_in_child(lpc_cpu_path_name(FOREIGN), lpc_cpu_path_name(FOREIGN)), 0);
    ck_assert_int_eq(refused_in_child("sse9", "not one of"), 0);
}
END_TEST

START_TEST(microarchitecture)
{
    ck_assert_str_eq(lpci_cpu_microarch("AuthenticAMD", 25, 17), "AMD Zen 4");
    ck_assert_str_eq(lpci_cpu_microarch("AuthenticAMD", 25, 1), "AMD Zen 3");
    ck_assert_str_eq(lpci_cpu_microarch("AuthenticAMD", 23, 49), "AMD Zen 2");
    ck_assert_str_eq(lpci_cpu_microarch("AuthenticAMD", 26, 2), "AMD Zen 5");
    ck_assert_str_eq(lpci_cpu_microarch("GenuineIntel", 6, 0x55), "Intel Skylake-SP / Cascade Lake");
    ck_assert_str_eq(lpci_cpu_microarch("GenuineIntel", 6, 0x8f), "Intel Sapphire Rapids");
    ck_assert_str_eq(lpci_cpu_microarch("GenuineIntel", 6, 0x01), "unknown");
    ck_assert_str_eq(lpci_cpu_microarch("HygonGenuine", 24, 0), "unknown");
    lpci_cpu_model m;
    lpci_cpu_identify(&m);
    ck_assert_ptr_nonnull(m.name);
#if defined(__x86_64__)
    ck_assert_int_eq((int)strlen(m.vendor), 12);
    ck_assert_int_gt(m.family, 0);
    ck_assert_str_eq(m.name, lpci_cpu_microarch(m.vendor, m.family, m.model));
#else
    ck_assert_str_eq(m.vendor, "");
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu");
    TCase *tc = tcase_create("cpu");
    tcase_add_test(tc, names_and_support);
    tcase_add_test(tc, set_and_get);
    tcase_add_test(tc, misuse);
    tcase_add_test(tc, environment_refused);
    tcase_add_test(tc, microarchitecture);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
