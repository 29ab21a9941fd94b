/* Replays the fuzz corpora (tests/fuzz/corpus/<target>/) through the fuzz
 * target functions in the ordinary and the sanitizer builds: every committed
 * seed must still be accepted, every regress-* input (a crash libFuzzer once
 * found) must be survived, and every truncation of a seed must be refused
 * cleanly. Crashes found by fuzzing also get a named test below. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "data/parse.h"
#include "../examples/ablation/result.h"
#include "fuzz/targets.h"
#include "lpct.h"

typedef struct {
    uint8_t *data;
    size_t size;
    int regress; /* name starts with "regress-" */
    char name[256];
} input;

/* LPC_TEST_DATA is <source>/tests/data (which need not exist): the corpora
 * are its siblings. */
static char *corpus_dir(const char *target)
{
    const char *data = getenv("LPC_TEST_DATA");
    ck_assert_msg(data != NULL, "LPC_TEST_DATA is not set");
    const char *slash = strrchr(data, '/');
    int tests_len = slash ? (int)(slash - data) : 0;
    size_t n = strlen(data) + strlen(target) + 32;
    char *dir = malloc(n);
    snprintf(dir, n, "%.*s/fuzz/corpus/%s", tests_len, data, target);
    return dir;
}

/* All files of a target's corpus; returns their number. */
static int load_corpus(const char *target, input **out)
{
    char *dir = corpus_dir(target);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    input *v = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        v = realloc(v, (size_t)(n + 1) * sizeof *v);
        input *in = &v[n++];
        fseek(f, 0, SEEK_END);
        in->size = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        in->data = malloc(in->size ? in->size : 1);
        ck_assert_uint_eq(fread(in->data, 1, in->size, f), in->size);
        fclose(f);
        snprintf(in->name, sizeof in->name, "%s", e->d_name);
        in->regress = strncmp(e->d_name, "regress-", 8) == 0;
    }
    closedir(d);
    free(dir);
    *out = v;
    return n;
}

static void free_corpus(input *v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i].data);
    free(v);
}

START_TEST(seeds_accepted_regressions_survived)
{
    const lpcf_target *t = &lpcf_targets[_i];
    input *v;
    int n = load_corpus(t->name, &v), seeds = 0;
    for (int i = 0; i < n; i++) {
        int ok = t->fn(v[i].data, v[i].size);
        if (!v[i].regress) {
            ck_assert_msg(ok, "%s seed %s refused: %s", t->name, v[i].name, lpc_last_error());
            seeds++;
        }
    }
    ck_assert_msg(seeds > 0, "no seeds for %s", t->name);
    free_corpus(v, n);
}
END_TEST

/* Every proper prefix of a seed is a truncated file: never a crash, and
 * refused by the formats whose header fixes the length (a CIFAR prefix that
 * ends on a record boundary is a valid file; libpng may not need the IEND). */
START_TEST(truncated_seeds_refused)
{
    const lpcf_target *t = &lpcf_targets[_i];
    int must_refuse = strcmp(t->name, "cifar") != 0 && strcmp(t->name, "png") != 0;
    input *v;
    int n = load_corpus(t->name, &v);
    for (int i = 0; i < n; i++) {
        if (v[i].regress)
            continue;
        size_t step = v[i].size > 1024 ? v[i].size / 257 : 1;
        for (size_t len = 0; len < v[i].size; len += step) {
            int ok = t->fn(v[i].data, len);
            ck_assert_msg(!ok || !must_refuse, "%s: %zu-byte prefix of %s accepted", t->name,
                          len, v[i].name);
        }
    }
    free_corpus(v, n);
}
END_TEST

/* Flipping any single byte of a small seed must never crash (most flips are
 * refused; the sanitizer build checks the rest for memory errors). */
START_TEST(corrupted_seeds_survived)
{
    const lpcf_target *t = &lpcf_targets[_i];
    input *v;
    int n = load_corpus(t->name, &v);
    for (int i = 0; i < n; i++) {
        size_t step = v[i].size > 512 ? v[i].size / 97 : 1;
        for (size_t k = 0; k < v[i].size; k += step) {
            v[i].data[k] ^= 0xA5;
            t->fn(v[i].data, v[i].size);
            v[i].data[k] ^= 0xA5;
        }
    }
    free_corpus(v, n);
}
END_TEST

/* libFuzzer (png, out of memory): a 41-byte file whose truncated sPLT chunk
 * declares 2 GiB made libpng allocate that much before reading it. Chunks
 * longer than the file are now refused up front. */
START_TEST(png_chunk_longer_than_file)
{
    input *v;
    int n = load_corpus("png", &v), found = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(v[i].name, "regress-huge-splt-length") != 0)
            continue;
        found = 1;
        int c, h, w;
        uint8_t *px = NULL;
        lpc_clear_error();
        ck_assert_int_eq(lpci_parse_png(v[i].data, v[i].size, "x.png", &c, &h, &w, &px),
                         LPC_E_FORMAT);
        ck_assert_ptr_null(px);
        ck_assert_ptr_nonnull(strstr(lpc_last_error(), "sPLT"));
    }
    ck_assert(found);
    free_corpus(v, n);
}
END_TEST

/* Issue 12 item 1: `lpc-ablation report` read a result.json cut to 100 bytes
 * (use after free, then double free in the old hand-written JSON parser).
 * It is now reported as damaged, with the byte offset, and never crashes. */
START_TEST(result_json_truncated_is_damaged)
{
    input *v;
    int n = load_corpus("result_json", &v), found = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(v[i].name, "regress-truncated-100.json") != 0)
            continue;
        found = 1;
        char *path = lpct_tmpfile("result.json"), why[256];
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(v[i].data, 1, v[i].size, f), v[i].size);
        fclose(f);
        jv *out = (jv *)1;
        ck_assert_int_eq(ab_result_load(path, "x", 1, &out, why, sizeof why), AB_RESULT_DAMAGED);
        ck_assert_ptr_null(out);
        ck_assert_msg(strstr(why, "damaged") && strstr(why, "of 100"), "why: %s", why);
        unlink(path);
        free(path);
    }
    ck_assert(found);
    free_corpus(v, n);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("regress");
    TCase *tc = tcase_create("corpus");
    tcase_add_loop_test(tc, seeds_accepted_regressions_survived, 0, lpcf_num_targets);
    tcase_add_loop_test(tc, truncated_seeds_refused, 0, lpcf_num_targets);
    tcase_add_loop_test(tc, corrupted_seeds_survived, 0, lpcf_num_targets);
    tcase_add_test(tc, png_chunk_longer_than_file);
    tcase_add_test(tc, result_json_truncated_is_damaged);
    suite_add_tcase(s, tc);
    return lpct_run(s);
}
