/* test_fixtures.c - the solver and its gradients against committed outputs
 * of the independent float64 oracle (tests/oracle.py fixtures). Run from
 * the repository root. Targets (relative Frobenius error): alpha 1e-4;
 * dD, dX, dlambda1 1e-4 on well-conditioned cases, 1e-2 on badly
 * conditioned ones. */
#include "../scn.h"
#include "check.h"
#include "fd.h"
#include <string.h>

#define DIR "tests/fixtures/"

static scn_tensor *load(const char *name, const char *what) {
    char path[256];
    scn_tensor *t;
    snprintf(path, sizeof path, DIR "%s_%s.npy", name, what);
    t = scn_npy_load(path);
    CHECK(t != NULL, "%s", scn_error());
    return t;
}

static void check_case(const char *name, int m, int n, int P, float l1, float l2, int sgn,
                       const char *kind) {
    scn_tensor *D = load(name, "D"), *X = load(name, "X"), *G = load(name, "G");
    scn_tensor *a0 = load(name, "alpha"), *dD0 = load(name, "dD"), *dX0 = load(name, "dX");
    scn_tensor *dl0 = load(name, "dlambda1");
    float *a, *dD, *dX, dl;
    double tol = strcmp(kind, "well") ? 1e-2 : 1e-4, e;
    scn_solve_desc d;
    if (!D || !X || !G || !a0 || !dD0 || !dX0 || !dl0) goto done;
    CHECK(D->size == (size_t)m * n && X->size == (size_t)m * P && G->size == (size_t)n * P,
          "%s: fixture shapes disagree with cases.txt", name);
    a = (float *)calloc((size_t)n * P, sizeof(float));
    dD = (float *)calloc((size_t)m * n, sizeof(float));
    dX = (float *)calloc((size_t)m * P, sizeof(float));
    memset(&d, 0, sizeof d);
    d.lambda1 = l1; d.lambda2 = l2; d.signed_codes = sgn;
    CHECK(scn_en_solve(D->data, m, n, X->data, P, &d, a, NULL) == SCN_OK, "%s", scn_error());
    CHECK((e = fd_rel_err(a, a0->data, a0->size)) < 1e-4, "%s: alpha error %.3g", name, e);
    CHECK(scn_en_backward(D->data, m, n, X->data, P, a, G->data, &d, dD, dX, &dl) == SCN_OK,
          "%s", scn_error());
    CHECK((e = fd_rel_err(dD, dD0->data, dD0->size)) < tol, "%s: dD error %.3g", name, e);
    CHECK((e = fd_rel_err(dX, dX0->data, dX0->size)) < tol, "%s: dX error %.3g", name, e);
    CHECK((e = fd_rel_err(&dl, dl0->data, 1)) < tol, "%s: dlambda1 error %.3g", name, e);
    free(a); free(dD); free(dX);
done:
    scn_tensor_free(D); scn_tensor_free(X); scn_tensor_free(G); scn_tensor_free(a0);
    scn_tensor_free(dD0); scn_tensor_free(dX0); scn_tensor_free(dl0);
}

int main(void) {
    FILE *f = fopen(DIR "cases.txt", "r");
    char name[64], kind[16];
    int m, n, P, sgn, cases = 0;
    float l1, l2;
    CHECK(f != NULL, "cannot open " DIR "cases.txt (run from the repository root)");
    while (f && fscanf(f, "%63s %d %d %d %f %f %d %15s", name, &m, &n, &P, &l1, &l2, &sgn,
                       kind) == 8) {
        check_case(name, m, n, P, l1, l2, sgn, kind);
        cases++;
    }
    if (f) fclose(f);
    CHECK(cases >= 4, "only %d fixture cases", cases);
    return check_summary("fixtures");
}
