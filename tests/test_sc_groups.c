/* test_sc_groups.c - test_layers.c with SCN_SC_SCRATCH of one byte: every
 * sc, csf and sf layer solves a batch one image at a time, so each of its
 * finite-difference checks covers the gradients summed over groups of
 * images (the unsupervised loss's sums included). */
#define SCN_SC_SCRATCH 1
#define SCN_IMPLEMENTATION
#include "test_layers.c"
