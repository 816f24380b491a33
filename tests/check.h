/* check.h - the few macros every test program uses.
 *
 * A test program is tests/test_NAME.c: it includes this file, calls CHECK
 * for every assertion and ends main() with `return check_summary("NAME");`,
 * which prints one line and returns non-zero if any check failed.
 */
#ifndef SCN_TEST_CHECK_H
#define SCN_TEST_CHECK_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures = 0;
static int check_count = 0;

#define CHECK(cond, ...) do {                                              \
    check_count++;                                                         \
    if (!(cond)) {                                                         \
        check_failures++;                                                  \
        fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__,   \
                #cond);                                                    \
        fprintf(stderr, __VA_ARGS__);                                      \
        fputc('\n', stderr);                                               \
    }                                                                      \
} while (0)

/* a == b once both are rounded to float: where FLT_EVAL_METHOD is 2
 * (x87), a constant such as 0.1f and an expression on floats may carry
 * more precision than the float the library stored */
static inline int same_float(float a, float b) { return a == b; }

/* |a - b| <= tol * max(1, |b|) */
#define CHECK_NEAR(a, b, tol) CHECK(fabs((double)(a) - (double)(b)) <=      \
    (tol) * fmax(1.0, fabs((double)(b))), "%s = %.9g, %s = %.9g", #a,      \
    (double)(a), #b, (double)(b))

/* A whole file in malloc'd memory (one byte more than *len, so it is never
 * a zero-byte allocation); NULL with *len = 0 if it cannot be read. */
static inline unsigned char *check_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    long n;
    *len = 0;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = (unsigned char *)malloc((size_t)n + 1)) != NULL)
        *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static int check_summary(const char *name) {
    if (check_count == 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        return 1;
    }
    if (check_failures)
        fprintf(stderr, "%s: %d of %d checks failed\n", name, check_failures,
                check_count);
    return check_failures != 0;
}
#endif
