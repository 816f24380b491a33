/* test_checkpoint.c - checkpoints (scn.h section 15).
 *
 *   round trip   a save loads back exactly: parameters, buffers, velocity,
 *                SGD settings, training state, spec; a second save
 *                replaces the file and leaves no temporary behind
 *   layout       the file (and scn_checkpoint_encode's image) equals, byte
 *                for byte, version 3 as the API comment documents it,
 *                written here independently (own little-endian writer,
 *                own bit-by-bit CRC-32), with and without an optimiser and
 *                a state; scn_checkpoint_decode reads the image back
 *   legacy       versions 1 and 2 written here from the documented offsets
 *                of the old 144-byte header load with their parameters,
 *                buffers, velocity, settings and state (v1: its one mean
 *                and std on every channel; v2: per channel)
 *   records      an unknown critical record is refused, an unknown
 *                lower-case one skipped; a NaN or Inf, a negative running
 *                variance, a size running past the end, a missing or
 *                misplaced END, a bad magic are refused (CRC recomputed,
 *                so the checks behind it run)
 *   damage       every truncation and every 13th flipped byte is an error
 *                naming the file; a missing file, a directory; a checkpoint
 *                without optimiser state cannot resume
 */
#include "../scn.h"
#include "check.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], path[128], bad[160];

static void spit(const char *p, const unsigned char *b, size_t len) {
    FILE *f = fopen(p, "wb");
    if (!f) return;
    if (len) fwrite(b, 1, len, f);
    fclose(f);
}

/* ---- little-endian bytes, field by field ---- */

typedef struct lb { unsigned char *p; size_t n, cap; } lb;

static void lb_put(lb *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = 2 * (b->n + n) + 64;
        b->p = (unsigned char *)realloc(b->p, b->cap);
        if (!b->p) { perror("realloc"); exit(1); }
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void le32(unsigned char *at, uint32_t v) {
    int i;
    for (i = 0; i < 4; i++) at[i] = (unsigned char)(v >> (8 * i));
}

static void le64(unsigned char *at, uint64_t v) {
    int i;
    for (i = 0; i < 8; i++) at[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t f32bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static void lb_u32(lb *b, uint32_t v) { unsigned char c[4]; le32(c, v); lb_put(b, c, 4); }
static void lb_u64(lb *b, uint64_t v) { unsigned char c[8]; le64(c, v); lb_put(b, c, 8); }
static void lb_f32(lb *b, float f) { lb_u32(b, f32bits(f)); }
static void lb_f32s(lb *b, const float *x, size_t n) { size_t i; for (i = 0; i < n; i++) lb_f32(b, x[i]); }
static void lb_tag(lb *b, const char *tag, uint64_t size) { lb_put(b, tag, 4); lb_u64(b, size); }

/* CRC-32 bit by bit (reflected polynomial 0xEDB88320), not scn_crc32 */
static uint32_t crc_ref(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    int k;
    while (n--) {
        c ^= *p++;
        for (k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

/* "END " with the CRC of everything so far */
static void lb_end(lb *b) {
    uint32_t crc = crc_ref(b->p, b->n);
    lb_tag(b, "END ", 4);
    lb_u32(b, crc);
}

/* ---- a version-3 image as the records it holds ---- */

typedef struct rec { char tag[5]; unsigned char *p; size_t n; } rec;
typedef struct recs { rec r[32]; int n; } recs;

/* The records between the magic and END (payloads copied); 0 if malformed. */
static int recs_parse(const unsigned char *b, size_t len, recs *rs) {
    size_t at = 8;
    memset(rs, 0, sizeof *rs);
    if (len < 8 || memcmp(b, "SCNCKPT3", 8)) return 0;
    while (len - at >= 12 && rs->n < 32) {
        uint64_t size = 0;
        int i;
        for (i = 0; i < 8; i++) size |= (uint64_t)b[at + 4 + i] << (8 * i);
        if (size > len - at - 12) return 0;
        if (!memcmp(b + at, "END ", 4)) return at + 12 + size == len;
        memcpy(rs->r[rs->n].tag, b + at, 4);
        rs->r[rs->n].n = (size_t)size;
        rs->r[rs->n].p = (unsigned char *)malloc((size_t)size + 1);
        memcpy(rs->r[rs->n].p, b + at + 12, (size_t)size);
        rs->n++;
        at += 12 + (size_t)size;
    }
    return 0;
}

static unsigned char *recs_emit(const recs *rs, size_t *len) {
    lb b = {0};
    int i;
    lb_put(&b, "SCNCKPT3", 8);
    for (i = 0; i < rs->n; i++) {
        lb_tag(&b, rs->r[i].tag, rs->r[i].n);
        lb_put(&b, rs->r[i].p, rs->r[i].n);
    }
    lb_end(&b);
    *len = b.n;
    return b.p;
}

static void recs_insert(recs *rs, int at, const char *tag, const void *p, size_t n) {
    int i;
    if (rs->n >= 32) return;
    for (i = rs->n; i > at; i--) rs->r[i] = rs->r[i - 1];
    memcpy(rs->r[at].tag, tag, 4);
    rs->r[at].tag[4] = '\0';
    rs->r[at].p = (unsigned char *)malloc(n + 1);
    if (n) memcpy(rs->r[at].p, p, n);
    rs->r[at].n = n;
    rs->n++;
}

static void recs_remove(recs *rs, const char *tag) {
    int i, n = 0;
    for (i = 0; i < rs->n; i++) {
        if (!memcmp(rs->r[i].tag, tag, 4)) { free(rs->r[i].p); continue; }
        rs->r[n++] = rs->r[i];
    }
    rs->n = n;
}

static rec *recs_find(recs *rs, const char *tag) {
    int i;
    for (i = 0; i < rs->n; i++)
        if (!memcmp(rs->r[i].tag, tag, 4)) return &rs->r[i];
    return NULL;
}

static void recs_free(recs *rs) {
    int i;
    for (i = 0; i < rs->n; i++) free(rs->r[i].p);
    rs->n = 0;
}

/* Where record tag starts in b (its tag), or 0. */
static size_t rec_at(const unsigned char *b, size_t len, const char *tag) {
    size_t at = 8;
    while (at + 12 <= len) {
        uint64_t size = 0;
        int i;
        if (!memcmp(b + at, tag, 4)) return at;
        for (i = 0; i < 8; i++) size |= (uint64_t)b[at + 4 + i] << (8 * i);
        if (size > len - at - 12) return 0;
        at += 12 + (size_t)size;
    }
    return 0;
}

/* ---- version 3 as section 15 documents it ---- */

/* The file for a net with this spec, input, generator, parameters and
 * buffers, and optionally an optimiser and a training state. */
static void expected_v3(lb *b, const char *spec, uint32_t C, uint32_t H, uint32_t W,
                        scn_rng net_rng, const float *params, size_t np,
                        const float *buffers, size_t nb, const scn_sgd *opt,
                        const scn_train_state *st) {
    uint32_t L = (uint32_t)strlen(spec), c, ch = C < 16 ? C : 16;
    int i;
    b->n = 0;
    lb_put(b, "SCNCKPT3", 8);
    lb_tag(b, "NET ", 4 * 3 + 8 + 8 + 4 + (uint64_t)L);
    lb_u32(b, C); lb_u32(b, H); lb_u32(b, W);
    lb_u64(b, net_rng.state); lb_u64(b, net_rng.inc);
    lb_u32(b, L);
    lb_put(b, spec, L);
    lb_tag(b, "PARM", 8 + 4 * (uint64_t)np);
    lb_u64(b, np);
    lb_f32s(b, params, np);
    lb_tag(b, "BUFF", 8 + 4 * (uint64_t)nb);
    lb_u64(b, nb);
    lb_f32s(b, buffers, nb);
    if (st) {
        lb_tag(b, "NORM", 4 + 8 * (uint64_t)ch);
        lb_u32(b, ch);
        for (c = 0; c < ch; c++) lb_f32(b, st->mean[c]);
        for (c = 0; c < ch; c++) lb_f32(b, st->std[c]);
        lb_tag(b, "TRST", 4 + 8 + 8 + 8 + 4);
        lb_u32(b, (uint32_t)st->epoch);
        lb_u64(b, (uint64_t)st->step);
        lb_u64(b, st->rng.state); lb_u64(b, st->rng.inc);
        lb_u32(b, (uint32_t)st->batch);
    }
    if (opt) {
        lb_tag(b, "SGD ", 4 * 4 + 3 * 4 + 8 * 4 + 8 + 8 + 4 * (uint64_t)opt->count);
        lb_f32(b, opt->desc.lr); lb_f32(b, opt->desc.momentum);
        lb_f32(b, opt->desc.weight_decay); lb_f32(b, opt->desc.gamma);
        lb_u32(b, (uint32_t)opt->desc.nesterov);
        lb_u32(b, (uint32_t)opt->desc.schedule);
        lb_u32(b, (uint32_t)opt->desc.epochs);
        for (i = 0; i < 8; i++) lb_u32(b, (uint32_t)opt->desc.milestones[i]);
        lb_u64(b, (uint64_t)opt->steps);
        lb_u64(b, opt->count);
        lb_f32s(b, opt->velocity, opt->count);
    }
    lb_end(b);
}

static size_t first_diff(const unsigned char *a, size_t na, const unsigned char *b, size_t nb) {
    size_t i;
    for (i = 0; i < na && i < nb; i++)
        if (a[i] != b[i]) return i;
    return i;
}

static int same_desc(const scn_sgd_desc *a, const scn_sgd_desc *b) {
    int i;
    for (i = 0; i < 8; i++)
        if (a->milestones[i] != b->milestones[i]) return 0;
    return a->lr == b->lr && a->momentum == b->momentum &&
           a->weight_decay == b->weight_decay && a->gamma == b->gamma &&
           a->nesterov == b->nesterov && a->schedule == b->schedule && a->epochs == b->epochs;
}

/* net's parameters and buffers equal those given, bit for bit */
static int same_net(scn_net *net, const float *params, size_t np, const float *buffers,
                    size_t nb) {
    size_t n2;
    float *b2 = scn_net_buffers(net, &n2);
    return scn_net_param_count(net) == np &&
           !memcmp(scn_net_params(net), params, np * sizeof(float)) && n2 == nb &&
           (nb == 0 || !memcmp(b2, buffers, nb * sizeof(float)));
}

/* The layout of "linear:n=2" on 1x1x3 and "bn linear:n=2" on 2x1x3, each
 * with and without an optimiser and a state. */
static void test_layout(void) {
    static const struct { const char *spec; int C; } nets[2] = {
        { "linear:n=2", 1 }, { "bn linear:n=2", 2 }
    };
    static const int milestones[8] = { 1, 2, 3, 5, 8, 13, 21, 34 };
    int k, combo, i, C, H, W;
    for (k = 0; k < 2; k++) {
        scn_net *net = scn_net_create(nets[k].spec, nets[k].C, 1, 3, 5), *back;
        scn_sgd opt, opt2;
        scn_sgd_desc d;
        scn_train_state st, st2;
        float *params, *buffers;
        size_t np, nb;
        lb e = {0};
        CHECK(net != NULL, "%s: %s", nets[k].spec, scn_error());
        if (!net) continue;
        np = scn_net_param_count(net);
        buffers = scn_net_buffers(net, &nb);
        params = scn_net_params(net);
        CHECK(np == (size_t)(k ? 4 + 14 : 8) && nb == (size_t)(k ? 4 : 0),
              "%s: %zu parameters, %zu buffers", nets[k].spec, np, nb);
        for (i = 0; i < (int)np; i++) params[i] = 0.375f * (float)i - 2.0f;
        params[1] = 1e-40f;                 /* a subnormal, kept bit for bit */
        params[2] = -0.0f;
        for (i = 0; i < (int)nb; i++) buffers[i] = 0.5f + 0.25f * (float)i;  /* var > 0 */
        scn_net_rng(net)->state = 0x0123456789abcdefULL;
        scn_net_rng(net)->inc = 0xfedcba9876543211ULL;
        memset(&d, 0, sizeof d);
        d.lr = 0.05f; d.momentum = 0.85f; d.weight_decay = 2e-4f; d.gamma = 0.3f;
        d.nesterov = 1; d.schedule = SCN_LR_COSINE; d.epochs = 40;
        memcpy(d.milestones, milestones, sizeof milestones);
        CHECK(scn_sgd_init(&opt, net, &d) == SCN_OK, "%s", scn_error());
        opt.steps = 0x123456789LL;
        for (i = 0; i < (int)opt.count; i++) opt.velocity[i] = 0.01f * (float)i - 0.05f;
        memset(&st, 0, sizeof st);
        st.epoch = 7;
        st.step = ((int64_t)1 << 33) + 5;
        st.batch = 96;
        st.rng.state = 0x1111222233334444ULL;
        st.rng.inc = 0x5555666677778889ULL;
        for (i = 0; i < SCN_MAX_CHANNELS; i++) { st.mean[i] = 9.0f; st.std[i] = 9.0f; }
        st.mean[0] = 0.4914f; st.std[0] = 0.247f;
        st.mean[1] = -0.482f; st.std[1] = 0.2435f;

        for (combo = 0; combo < 4; combo++) {
            const scn_sgd *o = (combo & 1) ? &opt : NULL;
            const scn_train_state *s = (combo & 2) ? &st : NULL;
            unsigned char *file, *mem;
            size_t flen, mlen, at;
            expected_v3(&e, nets[k].spec, (uint32_t)nets[k].C, 1, 3, *scn_net_rng(net), params, np,
                        buffers, nb, o, s);
            CHECK(scn_checkpoint_save(path, net, o, s) == SCN_OK, "%s", scn_error());
            file = check_read_file(path, &flen);
            CHECK(file && flen == e.n && !memcmp(file, e.p, e.n),
                  "%s (opt %d, state %d): the file (%zu bytes) differs from the documented "
                  "layout (%zu bytes) at byte %zu", nets[k].spec, o != NULL, s != NULL, flen,
                  e.n, file ? first_diff(file, flen, e.p, e.n) : 0);
            CHECK(scn_crc32(0, e.p, e.n - 16) == crc_ref(e.p, e.n - 16),
                  "scn_crc32 differs from a bitwise CRC-32");
            CHECK(scn_checkpoint_encode(net, o, s, &mem, &mlen) == SCN_OK, "%s", scn_error());
            CHECK(mem && mlen == e.n && !memcmp(mem, e.p, e.n),
                  "%s (opt %d, state %d): scn_checkpoint_encode differs at byte %zu",
                  nets[k].spec, o != NULL, s != NULL, mem ? first_diff(mem, mlen, e.p, e.n) : 0);
            at = rec_at(e.p, e.n, "NORM");
            CHECK((at != 0) == (s != NULL), "NORM record present %d", at != 0);

            /* read back from memory */
            back = mem ? scn_checkpoint_decode(mem, mlen, "memory.scn", o ? &opt2 : NULL,
                                               s ? &st2 : NULL) : NULL;
            CHECK(back != NULL, "decode: %s", scn_error());
            if (back) {
                CHECK(same_net(back, params, np, buffers, nb), "%s: parameters or buffers "
                      "differ", nets[k].spec);
                CHECK(!strcmp(scn_net_spec(back), nets[k].spec), "spec \"%s\"",
                      scn_net_spec(back));
                scn_net_input_shape(back, &C, &H, &W);
                CHECK(C == nets[k].C && H == 1 && W == 3, "input %d x %d x %d", C, H, W);
                CHECK(scn_net_rng(back)->state == scn_net_rng(net)->state &&
                      scn_net_rng(back)->inc == scn_net_rng(net)->inc,
                      "net generator differs");
                if (o) {
                    CHECK(opt2.count == np && !memcmp(opt2.velocity, opt.velocity,
                                                      np * sizeof(float)), "velocity differs");
                    CHECK(same_desc(&opt2.desc, &opt.desc), "sgd settings differ");
                    CHECK(opt2.steps == opt.steps, "sgd steps %lld", (long long)opt2.steps);
                    scn_sgd_free(&opt2);
                }
                if (s) {
                    CHECK(st2.epoch == 7 && st2.step == st.step && st2.batch == 96 &&
                          st2.rng.state == st.rng.state && st2.rng.inc == st.rng.inc,
                          "state differs: epoch %d step %lld", st2.epoch, (long long)st2.step);
                    for (i = 0; i < SCN_MAX_CHANNELS; i++)
                        CHECK(i < nets[k].C ? st2.mean[i] == st.mean[i] && st2.std[i] == st.std[i]
                                            : st2.mean[i] == 0.0f && st2.std[i] == 1.0f,
                              "channel %d: mean %g std %g", i, st2.mean[i], st2.std[i]);
                }
                scn_net_free(back);
            }
            /* what was not saved cannot be loaded */
            if (mem && !o) {
                back = scn_checkpoint_decode(mem, mlen, "memory.scn", &opt2, NULL);
                CHECK(back == NULL && strstr(scn_error(), "memory.scn") &&
                      strstr(scn_error(), "optimiser"), "resumed without SGD: %s", scn_error());
                scn_net_free(back);
            }
            if (mem && !s) {
                back = scn_checkpoint_decode(mem, mlen, "memory.scn", NULL, &st2);
                CHECK(back == NULL && strstr(scn_error(), "memory.scn"),
                      "a state loaded from a checkpoint without one");
                scn_net_free(back);
            }
            scn_mem_free(mem);
            free(file);
        }
        free(e.p);
        scn_sgd_free(&opt);
        scn_net_free(net);
    }
    {   /* the CRC itself: the standard check value */
        static const char nine[] = "123456789";
        CHECK(crc_ref((const unsigned char *)nine, 9) == 0xCBF43926u &&
              scn_crc32(0, nine, 9) == 0xCBF43926u, "CRC-32 of \"123456789\": %08x",
              (unsigned)scn_crc32(0, nine, 9));
        CHECK(scn_crc32(scn_crc32(0, nine, 4), nine + 4, 5) == 0xCBF43926u,
              "scn_crc32 does not continue");
    }
}

/* ---- versions 1 and 2 ---- */

typedef struct legacy {
    const char *spec;
    uint32_t C, H, W;
    const float *params, *buffers, *velocity;
    uint64_t np, nb, nv;
    int32_t epoch;
    int64_t step;
    scn_rng rng, net_rng;
    float mean, std;                    /* version 1 (version 2 writes them too) */
    float lr, momentum, weight_decay, gamma;
    int32_t milestones[8];
    float means[16], stds[16];          /* version 2 */
} legacy;

/* The file as scn__ckpt_legacy's comment gives it: the x86-64 layout of a
 * 144-byte struct after the magic (the padding at 44 holds junk), then
 * for version 2 16 means and 16 stds, the spec, the floats, the CRC-32. */
static unsigned char *legacy_file(const legacy *L, int version, size_t *len) {
    unsigned char h[144];
    lb b = {0};
    int i;
    memset(h, 0xa5, sizeof h);
    le32(h + 0, (uint32_t)strlen(L->spec));
    le32(h + 4, L->C); le32(h + 8, L->H); le32(h + 12, L->W);
    le64(h + 16, L->np); le64(h + 24, L->nb); le64(h + 32, L->nv);
    le32(h + 40, (uint32_t)L->epoch);
    le64(h + 48, (uint64_t)L->step);
    le64(h + 56, L->rng.state); le64(h + 64, L->rng.inc);
    le64(h + 72, L->net_rng.state); le64(h + 80, L->net_rng.inc);
    le32(h + 88, f32bits(L->mean)); le32(h + 92, f32bits(L->std));
    le32(h + 96, f32bits(L->lr)); le32(h + 100, f32bits(L->momentum));
    le32(h + 104, f32bits(L->weight_decay));
    for (i = 0; i < 8; i++) le32(h + 108 + 4 * i, (uint32_t)L->milestones[i]);
    le32(h + 140, f32bits(L->gamma));
    lb_put(&b, version == 1 ? "SCNCKPT1" : "SCNCKPT2", 8);
    lb_put(&b, h, sizeof h);
    if (version == 2) { lb_f32s(&b, L->means, 16); lb_f32s(&b, L->stds, 16); }
    lb_put(&b, L->spec, strlen(L->spec));
    lb_f32s(&b, L->params, L->np);
    lb_f32s(&b, L->buffers, L->nb);
    lb_f32s(&b, L->velocity, L->nv);
    lb_u32(&b, crc_ref(b.p, b.n));
    *len = b.n;
    return b.p;
}

static void test_legacy(void) {
    float params[18], buffers[4], velocity[18];
    legacy L;
    scn_net *back;
    scn_sgd opt;
    scn_train_state st;
    unsigned char *b;
    size_t len, cut;
    int v, i;
    memset(&L, 0, sizeof L);
    for (i = 0; i < 18; i++) { params[i] = 0.125f * (float)i - 1.0f; velocity[i] = -0.002f * (float)i; }
    for (i = 0; i < 4; i++) buffers[i] = 0.75f + (float)i;
    L.spec = "bn linear:n=2";
    L.C = 2; L.H = 1; L.W = 3;
    L.params = params; L.np = 18;
    L.buffers = buffers; L.nb = 4;
    L.velocity = velocity; L.nv = 18;
    L.epoch = 12;
    L.step = ((int64_t)3 << 32) + 17;
    L.rng.state = 0xaaaabbbbccccddddULL; L.rng.inc = 0x1234567812345679ULL;
    L.net_rng.state = 0x0badc0ffee0ddf00ULL; L.net_rng.inc = 0x7777777777777777ULL;
    L.mean = 0.25f; L.std = 0.5f;
    L.lr = 0.02f; L.momentum = 0.7f; L.weight_decay = 3e-4f; L.gamma = 0.25f;
    for (i = 0; i < 8; i++) L.milestones[i] = i < 3 ? 10 * (i + 1) : 0;
    for (i = 0; i < 16; i++) { L.means[i] = 0.1f * (float)i - 0.3f; L.stds[i] = 0.2f + 0.05f * (float)i; }

    for (v = 1; v <= 2; v++) {
        b = legacy_file(&L, v, &len);
        CHECK(len == 8 + 144 + (v == 2 ? 128 : 0) + strlen(L.spec) + 4 * (18 + 4 + 18) + 4,
              "version %d: %zu bytes", v, len);
        spit(bad, b, len);
        back = scn_checkpoint_load(bad, &opt, &st);
        CHECK(back != NULL, "version %d: %s", v, scn_error());
        if (back) {
            CHECK(same_net(back, params, 18, buffers, 4), "version %d: parameters or buffers "
                  "differ", v);
            CHECK(!strcmp(scn_net_spec(back), L.spec), "version %d: spec", v);
            CHECK(scn_net_rng(back)->state == L.net_rng.state &&
                  scn_net_rng(back)->inc == L.net_rng.inc,
                  "version %d: net generator", v);
            CHECK(opt.count == 18 && !memcmp(opt.velocity, velocity, sizeof velocity),
                  "version %d: velocity differs", v);
            CHECK(opt.desc.lr == L.lr && opt.desc.momentum == L.momentum &&
                  opt.desc.weight_decay == L.weight_decay && opt.desc.gamma == L.gamma &&
                  !memcmp(opt.desc.milestones, L.milestones, sizeof L.milestones),
                  "version %d: sgd settings lr %g momentum %g decay %g gamma %g", v,
                  opt.desc.lr, opt.desc.momentum, opt.desc.weight_decay, opt.desc.gamma);
            CHECK(st.epoch == 12 && st.step == L.step && st.rng.state == L.rng.state &&
                  st.rng.inc == L.rng.inc, "version %d: epoch %d step %lld", v, st.epoch,
                  (long long)st.step);
            for (i = 0; i < SCN_MAX_CHANNELS; i++)
                CHECK(v == 1 ? st.mean[i] == L.mean && st.std[i] == L.std
                             : st.mean[i] == L.means[i] && st.std[i] == L.stds[i],
                      "version %d: channel %d mean %g std %g", v, i, st.mean[i], st.std[i]);
            scn_sgd_free(&opt);
            scn_net_free(back);
        }
        /* a truncation, a wrong CRC, a spec length too long: errors naming the file */
        for (cut = 0; cut < len; cut += cut < 160 ? 7 : 41) {
            back = scn_checkpoint_decode(b, cut, bad, NULL, NULL);   /* in memory: fast */
            CHECK(back == NULL && strstr(scn_error(), "bad.scn"), "version %d truncated to "
                  "%zu loaded", v, cut);
            scn_net_free(back);
        }
        b[len - 1] ^= 1;
        spit(bad, b, len);
        back = scn_checkpoint_load(bad, NULL, NULL);
        CHECK(back == NULL && strstr(scn_error(), "bad.scn") && strstr(scn_error(), "checksum"),
              "version %d with a wrong CRC: %s", v, scn_error());
        scn_net_free(back);
        b[len - 1] ^= 1;
        le32(b + 8, (uint32_t)strlen(L.spec) + 1);
        le32(b + len - 4, crc_ref(b, len - 4));
        spit(bad, b, len);
        back = scn_checkpoint_load(bad, NULL, NULL);
        CHECK(back == NULL && strstr(scn_error(), "bad.scn") && !strstr(scn_error(), "checksum"),
              "version %d with the spec one byte longer: %s", v, scn_error());
        scn_net_free(back);
        free(b);
    }

    /* saved without velocity or state: no resuming; no normalisation (std 1) */
    L.nv = 0;
    L.mean = L.std = 0.0f;
    for (i = 0; i < 16; i++) L.means[i] = L.stds[i] = 0.0f;
    for (v = 1; v <= 2; v++) {
        b = legacy_file(&L, v, &len);
        spit(bad, b, len);
        back = scn_checkpoint_load(bad, NULL, &st);
        CHECK(back != NULL, "version %d without velocity: %s", v, scn_error());
        for (i = 0; back && i < SCN_MAX_CHANNELS; i++)
            CHECK(st.mean[i] == 0.0f && st.std[i] == 1.0f, "version %d without a state: "
                  "channel %d mean %g std %g", v, i, st.mean[i], st.std[i]);
        scn_net_free(back);
        back = scn_checkpoint_load(bad, &opt, NULL);
        CHECK(back == NULL && strstr(scn_error(), "bad.scn") && strstr(scn_error(), "optimiser"),
              "version %d without velocity resumed: %s", v, scn_error());
        scn_net_free(back);
        free(b);
    }
}

/* ---- records ---- */

/* img loads (with opt and st; from memory, named as bad.scn, except every
 * 8th call, which goes through the file) or fails naming bad.scn; a failure
 * must not be the CRC's (it was recomputed) and must contain want. */
static int load_img(const unsigned char *img, size_t len, int expect_ok, const char *want,
                    const char *what) {
    scn_sgd opt;
    scn_train_state st;
    scn_net *back;
    static int calls;
    if (calls++ % 8 == 0) {
        spit(bad, img, len);
        back = scn_checkpoint_load(bad, &opt, &st);
    } else {
        back = scn_checkpoint_decode(img, len, bad, &opt, &st);
    }
    if (expect_ok) {
        CHECK(back != NULL, "%s: %s", what, scn_error());
        if (back) scn_sgd_free(&opt);
        if (back) scn_train_state_free(&st);
    } else {
        CHECK(back == NULL, "%s loaded", what);
        CHECK(back != NULL || (strstr(scn_error(), "bad.scn") &&
                               !strstr(scn_error(), "checksum") &&
                               (!want || strstr(scn_error(), want))),
              "%s: \"%s\" (want \"%s\")", what, scn_error(), want ? want : "");
    }
    scn_net_free(back);
    return back != NULL;
}

static void set_f32(unsigned char *at, float f) { le32(at, f32bits(f)); }

static void test_records(void) {
    scn_net *net = scn_net_create("bn linear:n=2", 2, 1, 3, 9), *back;
    scn_sgd opt, opt2;
    scn_train_state st, st2;
    unsigned char *img = NULL, *e = NULL, *w;
    size_t len = 0, elen, at;
    recs rs;
    rec *r;
    int i;
    CHECK(net != NULL, "%s", scn_error());
    if (!net) return;
    CHECK(scn_sgd_init(&opt, net, NULL) == SCN_OK, "%s", scn_error());
    memset(&st, 0, sizeof st);
    for (i = 0; i < SCN_MAX_CHANNELS; i++) st.std[i] = 1.0f;
    st.epoch = 2;
    CHECK(scn_checkpoint_encode(net, &opt, &st, &img, &len) == SCN_OK, "%s", scn_error());
    rs.n = 0;       /* printed below when encoding failed */
    CHECK(img && recs_parse(img, len, &rs) && rs.n == 6, "cannot parse the records (%d)",
          rs.n);
    if (!img || rs.n != 6) goto done;
    e = recs_emit(&rs, &elen);      /* the helpers themselves: the same bytes */
    CHECK(elen == len && !memcmp(e, img, len), "records re-emitted differ at %zu",
          first_diff(e, elen, img, len));
    free(e);

    {   /* unknown records, critical and optional, in several places */
        static const struct { const char *tag; int where, ok; } cases[] = {
            { "ZZZZ", 6, 0 }, { "ZZZZ", 0, 0 }, { "Parm", 2, 0 }, { "END!", 6, 0 },
            { "zzzz", 6, 1 }, { "zzzz", 0, 1 }, { "parm", 2, 1 }, { "xtra", 3, 1 },
        };
        static const unsigned char junk[] = "SCNCKPT3 END PARM";
        char what[64];
        int k, empty;
        for (k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++)
            for (empty = 0; empty < 2; empty++) {
                recs copy;
                if (!recs_parse(img, len, &copy)) continue;
                recs_insert(&copy, cases[k].where, cases[k].tag, junk, empty ? 0 : sizeof junk);
                e = recs_emit(&copy, &elen);
                snprintf(what, sizeof what, "a '%s' record (%s) at %d", cases[k].tag,
                         empty ? "empty" : "17 bytes", cases[k].where);
                if (load_img(e, elen, cases[k].ok, cases[k].ok ? NULL : cases[k].tag, what)) {
                    back = scn_checkpoint_decode(e, elen, "x", &opt2, &st2);
                    CHECK(back && st2.epoch == 2 &&
                          !memcmp(scn_net_params(back), scn_net_params(net),
                                  scn_net_param_count(net) * sizeof(float)),
                          "%s: not the saved net", what);
                    if (back) scn_sgd_free(&opt2);
                    scn_net_free(back);
                }
                free(e);
                recs_free(&copy);
            }
    }

    /* NaN and Inf: parameters, buffers, velocity; negative running variance */
    {
        /* automatic, not static: NAN is no constant expression for tcc */
        const struct { const char *tag; size_t index; float v; const char *what, *want; }
        cases[] = {
            { "PARM", 0, NAN, "a NaN parameter", "parameter" },
            { "PARM", 17, INFINITY, "an Inf parameter", "parameter" },
            { "PARM", 5, -INFINITY, "a -Inf parameter", "parameter" },
            { "BUFF", 1, NAN, "a NaN running mean", "buffer" },
            { "BUFF", 3, INFINITY, "an Inf running variance", "buffer" },
            { "BUFF", 2, -1.0f, "a negative running variance", "variance" },
            { "BUFF", 3, -1e-30f, "a tiny negative running variance", "variance" },
            { "SGD ", 0, NAN, "a NaN velocity", "velocity" },
            { "SGD ", 17, -INFINITY, "a -Inf velocity", "velocity" },
        };
        int k;
        for (k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
            recs copy;
            if (!recs_parse(img, len, &copy)) continue;
            r = recs_find(&copy, cases[k].tag);
            /* floats start after the count (PARM, BUFF) or the SGD fields */
            at = (r->tag[0] == 'S' ? 68 : 0) + 8 + 4 * cases[k].index;
            CHECK(at + 4 <= r->n, "%s: index %zu out of the record", cases[k].what,
                  cases[k].index);
            if (at + 4 <= r->n) {
                set_f32(r->p + at, cases[k].v);
                e = recs_emit(&copy, &elen);
                load_img(e, elen, 0, cases[k].want, cases[k].what);
                free(e);
            }
            recs_free(&copy);
        }
        /* zero and -0 running variances are fine */
        for (k = 0; k < 2; k++) {
            recs copy;
            if (!recs_parse(img, len, &copy)) continue;
            r = recs_find(&copy, "BUFF");
            set_f32(r->p + 8 + 4 * 2, k ? -0.0f : 0.0f);
            e = recs_emit(&copy, &elen);
            load_img(e, elen, 1, NULL, k ? "a running variance of -0" : "a running variance of 0");
            free(e);
            recs_free(&copy);
        }
    }

    /* sizes: a record running past the end, END of another size, END not
     * last, no END, trailing bytes, the magic */
    w = (unsigned char *)malloc(len + 32);
    {
        static const uint64_t sizes[] = { 0, 1, 2, 3, 4, 5, 100000, (uint64_t)1 << 32,
                                          (uint64_t)1 << 63, ~(uint64_t)0 };
        static const char *tags[] = { "NET ", "PARM", "BUFF", "NORM", "TRST", "SGD ", "END " };
        char what[64];
        int k, t;
        for (t = 0; t < 7; t++) {
            size_t rat = rec_at(img, len, tags[t]), cur;
            uint64_t grow[3];
            CHECK(rat != 0, "no %s record", tags[t]);
            if (!rat) continue;
            cur = 0;
            for (i = 0; i < 8; i++) cur |= (size_t)img[rat + 4 + i] << (8 * i);
            grow[0] = cur + 1;                          /* one byte past its end */
            grow[1] = len - rat - 12 + 1;               /* one byte past the file's end */
            grow[2] = cur ? cur - 1 : 1;
            for (k = 0; k < (int)(sizeof sizes / sizeof sizes[0]) + 3; k++) {
                uint64_t sz = k < 3 ? grow[k] : sizes[k - 3];
                if (sz == cur) continue;
                memcpy(w, img, len);
                le64(w + rat + 4, sz);
                if (t < 6) le32(w + len - 4, crc_ref(w, len - 16));  /* not END's own bytes */
                snprintf(what, sizeof what, "%s record of size %llu (not %zu)", tags[t],
                         (unsigned long long)sz, cur);
                back = scn_checkpoint_decode(w, len, bad, NULL, NULL);
                CHECK(back == NULL && strstr(scn_error(), "bad.scn"), "%s: \"%s\"", what,
                      back ? "loaded" : scn_error());
                scn_net_free(back);
            }
        }
    }
    memcpy(w, img, len);
    memset(w + len, 0, 4);
    load_img(w, len + 4, 0, "END", "4 bytes after END");
    load_img(w, len - 16, 0, "END", "no END record");
    /* END's CRC only, with a wrong one: the one error that is the CRC's */
    le32(w + len - 4, crc_ref(img, len - 16) ^ 0x80u);
    spit(bad, w, len);
    back = scn_checkpoint_load(bad, NULL, NULL);
    CHECK(back == NULL && strstr(scn_error(), "bad.scn") && strstr(scn_error(), "checksum"),
          "a wrong END CRC: %s", scn_error());
    scn_net_free(back);
    {
        static const char *magics[] = { "SCNCKPT4", "SCNCKPT0", "scnckpt3", "SCNCKPT\0" };
        int k;
        for (k = 0; k < 4; k++) {
            memcpy(w, img, len);
            memcpy(w, magics[k], 8);
            le32(w + len - 4, crc_ref(w, len - 16));
            load_img(w, len, 0, "magic", "a wrong magic");
        }
    }
    free(w);
    /* a record missing: NET, PARM or BUFF always; NORM, TRST, SGD when asked for */
    {
        static const char *tags[] = { "NET ", "PARM", "BUFF", "NORM", "TRST", "SGD " };
        int k;
        for (k = 0; k < 6; k++) {
            recs copy;
            char what[64];
            if (!recs_parse(img, len, &copy)) continue;
            recs_remove(&copy, tags[k]);
            e = recs_emit(&copy, &elen);
            snprintf(what, sizeof what, "without its %s record", tags[k]);
            load_img(e, elen, 0, NULL, what);
            if (k >= 3) {   /* not needed without opt and st */
                back = scn_checkpoint_decode(e, elen, "x", NULL, NULL);
                CHECK(back != NULL, "%s, loading the net only: %s", what, scn_error());
                scn_net_free(back);
            }
            free(e);
            recs_free(&copy);
        }
    }
    e = NULL;
done:
    free(e);
    recs_free(&rs);
    scn_mem_free(img);
    scn_sgd_free(&opt);
    scn_net_free(net);
}

/* The mean image (PIXM) and weight decay on lambda1 (sgdl), the records
 * version 3 gained later: their bytes as section 15 documents them, a
 * round trip, files without them (as written before) loading as before,
 * and every malformed variant refused with a message naming the file. */
static void test_pixel_mean(void) {
    static const float pm[6] = { 0.125f, -0.5f, 0.75f, 1.0f, 0.0f, -2.25f };
    scn_net *net = scn_net_create("bn linear:n=2", 2, 1, 3, 9), *back;
    scn_sgd_desc d;
    scn_sgd opt, opt2;
    scn_train_state st, st2;
    unsigned char *img = NULL, *e;
    size_t len = 0, elen, at;
    recs rs;
    rec *r;
    int i, k;
    CHECK(net != NULL, "%s", scn_error());
    if (!net) return;
    memset(&d, 0, sizeof d);
    d.decay_lambda1 = 1;
    CHECK(scn_sgd_init(&opt, net, &d) == SCN_OK, "%s", scn_error());
    memset(&st, 0, sizeof st);
    for (i = 0; i < SCN_MAX_CHANNELS; i++) st.std[i] = 1.0f;
    st.epoch = 3;
    CHECK(scn_train_state_set_pixel_mean(&st, pm, 6) == SCN_OK && st.pixel_count == 6 &&
          st.pixel_mean != pm && !memcmp(st.pixel_mean, pm, sizeof pm), "set: %s",
          scn_error());
    CHECK(scn_checkpoint_encode(net, &opt, &st, &img, &len) == SCN_OK, "%s", scn_error());
    rs.n = 0;       /* printed below when encoding failed */
    CHECK(img && recs_parse(img, len, &rs) && rs.n == 8, "cannot parse the records (%d)",
          rs.n);
    if (!img || rs.n != 8) goto done;
    /* NET PARM BUFF NORM PIXM TRST SGD sgdl, PIXM's and sgdl's bytes */
    CHECK(!memcmp(rs.r[3].tag, "NORM", 4) && !memcmp(rs.r[4].tag, "PIXM", 4) &&
          !memcmp(rs.r[5].tag, "TRST", 4) && !memcmp(rs.r[7].tag, "sgdl", 4),
          "record order %s %s %s %s", rs.r[3].tag, rs.r[4].tag, rs.r[5].tag, rs.r[7].tag);
    {
        lb want = {0};
        lb_u32(&want, 2); lb_u32(&want, 1); lb_u32(&want, 3);
        lb_f32s(&want, pm, 6);
        r = recs_find(&rs, "PIXM");
        CHECK(r && r->n == want.n && !memcmp(r->p, want.p, want.n), "PIXM bytes differ");
        want.n = 0;
        lb_u32(&want, 1);
        r = recs_find(&rs, "sgdl");
        CHECK(r && r->n == 4 && !memcmp(r->p, want.p, 4), "sgdl bytes differ");
        free(want.p);
    }
    back = scn_checkpoint_decode(img, len, "x", &opt2, &st2);
    CHECK(back != NULL, "%s", scn_error());
    if (back) {
        CHECK(st2.pixel_mean && st2.pixel_count == 6 && st2.pixel_mean != st.pixel_mean &&
              !memcmp(st2.pixel_mean, pm, sizeof pm) && st2.epoch == 3,
              "the mean image did not come back");
        CHECK(opt2.desc.decay_lambda1 == 1, "decay_lambda1 %d", opt2.desc.decay_lambda1);
        scn_train_state_free(&st2);
        CHECK(st2.pixel_mean == NULL && st2.pixel_count == 0, "not freed");
        scn_sgd_free(&opt2);
        scn_net_free(back);
    }
    /* without them (a file written before they existed): no mean image, no decay */
    for (k = 0; k < 2; k++) {
        recs copy;
        if (!recs_parse(img, len, &copy)) continue;
        recs_remove(&copy, k ? "sgdl" : "PIXM");
        e = recs_emit(&copy, &elen);
        back = scn_checkpoint_decode(e, elen, "x", &opt2, &st2);
        CHECK(back != NULL, "without %s: %s", k ? "sgdl" : "PIXM", scn_error());
        if (back) {
            CHECK(k ? st2.pixel_count == 6 && opt2.desc.decay_lambda1 == 0
                    : st2.pixel_mean == NULL && st2.pixel_count == 0 &&
                      opt2.desc.decay_lambda1 == 1,
                  "without %s: mean image %p, decay %d", k ? "sgdl" : "PIXM",
                  (void *)st2.pixel_mean, opt2.desc.decay_lambda1);
            scn_train_state_free(&st2);
            scn_sgd_free(&opt2);
            scn_net_free(back);
        }
        free(e);
        recs_free(&copy);
    }
    {   /* malformed PIXM and sgdl payloads */
        static const uint32_t shapes[][4] = {     /* C H W, floats that follow */
            { 2, 1, 2, 4 }, { 1, 1, 3, 3 }, { 2, 3, 1, 6 }, { 2, 1, 3, 5 }, { 2, 1, 3, 7 },
            { 0, 1, 3, 0 }, { 65536, 65536, 1, 0 }, { 4294967295u, 4294967295u, 3, 6 },
        };
        char what[96];
        for (k = 0; k < (int)(sizeof shapes / sizeof shapes[0]) + 4; k++) {
            recs copy;
            lb p = {0};
            int sh = k < (int)(sizeof shapes / sizeof shapes[0]);
            if (!recs_parse(img, len, &copy)) continue;
            r = recs_find(&copy, "PIXM");
            if (sh) {
                lb_u32(&p, shapes[k][0]); lb_u32(&p, shapes[k][1]); lb_u32(&p, shapes[k][2]);
                for (i = 0; i < (int)shapes[k][3]; i++) lb_f32(&p, 0.5f);
                snprintf(what, sizeof what, "a PIXM of %ux%ux%u with %u values", shapes[k][0],
                         shapes[k][1], shapes[k][2], shapes[k][3]);
            } else if (k - (int)(sizeof shapes / sizeof shapes[0]) < 2) {
                int nan = k == (int)(sizeof shapes / sizeof shapes[0]);
                lb_put(&p, r->p, r->n);
                set_f32(p.p + 12 + 4 * (nan ? 0 : 5), nan ? NAN : -INFINITY);
                snprintf(what, sizeof what, "a PIXM holding %s", nan ? "a NaN" : "-Inf");
            } else if (k - (int)(sizeof shapes / sizeof shapes[0]) == 2) {
                lb_put(&p, r->p, 8);
                snprintf(what, sizeof what, "a PIXM of 8 bytes");
            } else {
                recs_insert(&copy, 5, "PIXM", r->p, r->n);
                snprintf(what, sizeof what, "two PIXM records");
            }
            r = recs_find(&copy, "PIXM");
            if (p.n || k - (int)(sizeof shapes / sizeof shapes[0]) == 2) {
                free(r->p);
                r->p = p.p ? p.p : (unsigned char *)malloc(1);
                r->n = p.n;
            }
            e = recs_emit(&copy, &elen);
            load_img(e, elen, 0, sh ? "PIXM" : k - (int)(sizeof shapes / sizeof shapes[0]) < 2
                                                    ? "mean image" : "PIXM", what);
            back = scn_checkpoint_decode(e, elen, "x", NULL, NULL);
            CHECK(back == NULL || k - (int)(sizeof shapes / sizeof shapes[0]) < 2,
                  "%s loaded without a state", what);
            scn_net_free(back);
            free(e);
            recs_free(&copy);
        }
        for (k = 0; k < 3; k++) {
            static const uint32_t vals[3][2] = { { 2, 4 }, { 0xffffffffu, 4 }, { 1, 8 } };
            recs copy;
            if (!recs_parse(img, len, &copy)) continue;
            r = recs_find(&copy, "sgdl");
            free(r->p);
            r->p = (unsigned char *)calloc(1, 8);
            le32(r->p, vals[k][0]);
            r->n = vals[k][1];
            e = recs_emit(&copy, &elen);
            snprintf(what, sizeof what, "an sgdl of %u bytes holding %u", vals[k][1],
                     vals[k][0]);
            load_img(e, elen, 0, "sgdl", what);
            free(e);
            recs_free(&copy);
        }
    }
    /* PIXM without NORM */
    {
        recs copy;
        if (recs_parse(img, len, &copy)) {
            recs_remove(&copy, "NORM");
            e = recs_emit(&copy, &elen);
            back = scn_checkpoint_decode(e, elen, bad, NULL, NULL);
            CHECK(back == NULL && strstr(scn_error(), "bad.scn") && strstr(scn_error(), "NORM"),
                  "PIXM without NORM: %s", back ? "loaded" : scn_error());
            scn_net_free(back);
            free(e);
            recs_free(&copy);
        }
    }
    /* every byte of PIXM flipped: refused */
    at = rec_at(img, len, "PIXM");
    CHECK(at != 0, "no PIXM");
    for (i = 0; at && i < 12 + 12 + 24; i++) {
        img[at + i] ^= 0x21;
        back = scn_checkpoint_decode(img, len, bad, NULL, NULL);
        CHECK(back == NULL && strstr(scn_error(), "bad.scn"), "PIXM byte %d flipped loaded", i);
        scn_net_free(back);
        img[at + i] ^= 0x21;
    }
    /* what cannot be written: a mean image of another size, or not finite */
    {
        unsigned char *x = NULL;
        size_t n = 0;
        st.pixel_count = 5;
        CHECK(scn_checkpoint_encode(net, &opt, &st, &x, &n) == SCN_ERR_ARG && !x &&
              strstr(scn_error(), "mean image"), "a mean image of 5 for 6: %s", scn_error());
        st.pixel_count = 6;
        st.pixel_mean[2] = NAN;
        CHECK(scn_checkpoint_encode(net, &opt, &st, &x, &n) == SCN_ERR_NUMERIC && !x,
              "a NaN in the mean image written");
        scn_mem_free(x);
    }
    /* set: NaN refused, NULL drops it */
    {
        float bad6[6] = { 0, 0, 0, NAN, 0, 0 };
        CHECK(scn_train_state_set_pixel_mean(&st, bad6, 6) == SCN_ERR_ARG && st.pixel_count == 6,
              "a NaN mean image kept");
        CHECK(scn_train_state_set_pixel_mean(&st, NULL, 0) == SCN_OK && !st.pixel_mean &&
              !st.pixel_count, "NULL did not drop the mean image");
    }
done:
    scn_train_state_free(&st);
    recs_free(&rs);
    scn_mem_free(img);
    scn_sgd_free(&opt);
    scn_net_free(net);
}

/* A -0 parameter in a mostly-zero net (written as PARZ) comes back as -0,
 * bit for bit (the fuzzer found it read back as +0). */
static void test_parz_signed_zero(void) {
    scn_net *net = scn_net_create("linear:n=2", 1, 1, 3, 1), *back;
    unsigned char *img = NULL;
    size_t len = 0, np;
    float *p;
    if (!net) { CHECK(0, "%s", scn_error()); return; }
    p = scn_net_params(net);
    np = scn_net_param_count(net);
    memset(p, 0, np * sizeof *p);
    p[1] = -0.0f;
    p[np - 1] = 2.5f;
    CHECK(scn_checkpoint_encode(net, NULL, NULL, &img, &len) == SCN_OK, "%s", scn_error());
    CHECK(img && rec_at(img, len, "PARZ"), "not written as PARZ");
    back = img ? scn_checkpoint_decode(img, len, "z", NULL, NULL) : NULL;
    CHECK(back && !memcmp(scn_net_params(back), p, np * sizeof *p) &&
          signbit(scn_net_params(back)[1]), "-0 not read back as -0");
    scn_net_free(back);
    scn_mem_free(img);
    scn_net_free(net);
}

/* the names in dir other than . and .. , as "a b c" */
static void list_dir(char *out, size_t cap) {
    DIR *d = opendir(dir);
    struct dirent *ent;
    out[0] = '\0';
    while (d && (ent = readdir(d)) != NULL) {
        if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, "..")) continue;
        if (out[0]) strncat(out, " ", cap - strlen(out) - 1);
        strncat(out, ent->d_name, cap - strlen(out) - 1);
    }
    if (d) closedir(d);
}

int main(void) {
    scn_net *net, *back;
    scn_sgd opt, opt2;
    scn_train_state st, st2;
    unsigned char *bytes;
    size_t len, cut, nb, nb2;
    char names[512];
    float *buf, *buf2;
    int i;
    strcpy(dir, "/tmp/scn_ckpt.XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/model.scn", dir);
    snprintf(bad, sizeof bad, "%s/bad.scn", dir);
    /* three channels: NORM holds one mean and std per input channel */
    net = scn_net_create("sc:n=6,l1=0.05 bn conv:n=4 relu gap linear:n=3", 3, 6, 6, 5);
    CHECK(net != NULL, "%s", scn_error());
    if (!net) return check_summary("checkpoint");
    CHECK(scn_sgd_init(&opt, net, NULL) == SCN_OK, "%s", scn_error());
    for (i = 0; i < (int)opt.count; i++) opt.velocity[i] = 0.001f * (float)i;
    buf = scn_net_buffers(net, &nb);
    buf[0] = 3.25f;
    memset(&st, 0, sizeof st);
    st.epoch = 4; st.step = 1234; st.batch = 32; st.mean[0] = 0.25f; st.std[0] = 0.5f;
    st.mean[1] = 0.0f; st.std[1] = 1.0f;
    st.mean[2] = -1.5f; st.std[2] = 3.0f;
    scn_rng_seed(&st.rng, 77, 8);
    CHECK(scn_checkpoint_save(path, net, &opt, &st) == SCN_OK, "%s", scn_error());
    CHECK(access(path, F_OK) == 0, "no checkpoint written");

    back = scn_checkpoint_load(path, &opt2, &st2);
    CHECK(back != NULL, "%s", scn_error());
    if (back) {
        buf2 = scn_net_buffers(back, &nb2);
        CHECK(scn_net_param_count(back) == scn_net_param_count(net) &&
              !memcmp(scn_net_params(back), scn_net_params(net),
                      scn_net_param_count(net) * sizeof(float)), "parameters differ");
        CHECK(nb2 == nb && !memcmp(buf, buf2, nb * sizeof(float)), "buffers differ");
        CHECK(opt2.count == opt.count &&
              !memcmp(opt.velocity, opt2.velocity, opt.count * sizeof(float)),
              "velocity differs");
        CHECK(same_desc(&opt2.desc, &opt.desc) && opt2.steps == opt.steps,
              "sgd settings differ");
        CHECK(st2.epoch == 4 && st2.step == 1234 && st2.batch == 32 && st2.mean[0] == 0.25f &&
              st2.std[0] == 0.5f && st2.mean[1] == 0.0f && st2.std[1] == 1.0f &&
              st2.mean[2] == -1.5f && st2.std[2] == 3.0f &&
              st2.rng.state == st.rng.state && st2.rng.inc == st.rng.inc, "state differs");
        CHECK(!strcmp(scn_net_spec(back), scn_net_spec(net)), "spec differs");
        scn_sgd_free(&opt2);
        scn_net_free(back);
    }

    /* saving again replaces the file; no temporary is left behind */
    st.epoch = 5;
    CHECK(scn_checkpoint_save(path, net, &opt, &st) == SCN_OK, "%s", scn_error());
    list_dir(names, sizeof names);
    CHECK(!strcmp(names, "model.scn"), "the directory holds \"%s\", not just model.scn", names);
    back = scn_checkpoint_load(path, NULL, &st2);
    CHECK(back && st2.epoch == 5, "second save not loaded");
    scn_net_free(back);

    bytes = check_read_file(path, &len);
    CHECK(bytes != NULL && len > 100, "cannot read back the checkpoint");
    for (cut = 0; bytes && cut < len; cut += cut < 200 ? 1 : 97) {  /* truncations */
        spit(bad, bytes, cut);
        back = scn_checkpoint_load(bad, NULL, NULL);
        CHECK(back == NULL && strstr(scn_error(), "bad.scn"), "truncated to %zu loaded", cut);
        scn_net_free(back);
    }
    for (cut = len - 16; bytes && cut < len; cut++) {                /* within END */
        spit(bad, bytes, cut);
        back = scn_checkpoint_load(bad, NULL, NULL);
        CHECK(back == NULL && strstr(scn_error(), "bad.scn"), "truncated to %zu loaded", cut);
        scn_net_free(back);
    }
    for (cut = 0; bytes && cut < len; cut += 13) {                  /* one flipped byte */
        bytes[cut] ^= 0x5a;
        spit(bad, bytes, len);
        back = scn_checkpoint_load(bad, NULL, NULL);
        CHECK(back == NULL && strstr(scn_error(), "bad.scn"), "corrupt byte %zu loaded", cut);
        scn_net_free(back);
        bytes[cut] ^= 0x5a;
    }
    free(bytes);

    test_layout();
    test_legacy();
    test_records();
    test_pixel_mean();
    test_parz_signed_zero();

    back = scn_checkpoint_load("/nonexistent/model.scn", NULL, NULL);
    CHECK(back == NULL && strstr(scn_error(), "/nonexistent/model.scn"), "missing file");
    back = scn_checkpoint_load(dir, NULL, NULL);
    CHECK(back == NULL && strstr(scn_error(), dir), "a directory loaded: %s", scn_error());
    /* a lambda1 below zero, which no training step leaves, is refused */
    {
        scn_net *sc = scn_net_create("sc:n=3,k=1 linear:n=2", 2, 2, 2, 1);
        unsigned char *img = NULL;
        size_t n = 0;
        CHECK(sc != NULL, "%s", scn_error());
        if (sc) {
            scn_net_params(sc)[2 * 3] = -5.0f;          /* after D (2 x 3) */
            CHECK(scn_checkpoint_encode(sc, NULL, NULL, &img, &n) == SCN_OK, "%s",
                  scn_error());
            back = scn_checkpoint_decode(img, n, "neg.scn", NULL, NULL);
            CHECK(back == NULL && strstr(scn_error(), "neg.scn") &&
                  strstr(scn_error(), "lambda1 is -5"), "lambda1 -5 loaded: %s", scn_error());
            scn_net_free(back);
            scn_mem_free(img);
            scn_net_free(sc);
        }
    }
    /* a checkpoint without optimiser state cannot resume */
    CHECK(scn_checkpoint_save(path, net, NULL, NULL) == SCN_OK, "%s", scn_error());
    back = scn_checkpoint_load(path, &opt2, NULL);
    CHECK(back == NULL && strstr(scn_error(), "optimiser"), "resumed without state: %s",
          scn_error());

    remove(bad);
    remove(path);
    CHECK(rmdir(dir) == 0, "files left in %s", dir);
    scn_sgd_free(&opt);
    scn_net_free(net);
    return check_summary("checkpoint");
}
