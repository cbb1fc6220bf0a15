/* libFuzzer harness: MPI datatypes, their envelope and contents, and
 * packing, through the MPI API as a program calls it.
 *
 * The input is a program for a small stack machine that builds derived
 * types (every constructor, with counts, strides, displacements, bounds
 * and orders from the input, hostile ones included) from named ones. The
 * type on top is committed, then:
 * - packed from a patterned buffer, unpacked into a clean one and packed
 *   again: both packings must be equal (MPI_Pack_size bounds them);
 * - decoded through MPI_Type_get_envelope/_contents, rebuilt from what
 *   they say, and the rebuilt type must pack the buffer as the original;
 * - packed and unpacked in external32, which must give back the same
 *   native packing.
 * Constructors may refuse arguments (MPI_ERRORS_RETURN): then the step is
 * skipped. Types whose data would span more than 64 KiB are not packed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#define STACK 16
#define MADE_MAX 1024
#define MAX_LB ((MPI_Aint)1 << 40) /* far below any heap address's distance to 0 or 2^64 */
#define MAX_SPAN (1 << 16)

typedef struct input {
    const uint8_t *p;
    size_t left;
} input_t;

typedef struct machine {
    MPI_Datatype stack[STACK];
    int depth;
    MPI_Datatype made[MADE_MAX]; /* every type created, freed at the end */
    int nmade;
    int rebuilds; /* nodes rebuilt from contents so far: a tree can be exponential */
} machine_t;

static const MPI_Datatype named[] = {MPI_CHAR,   MPI_INT,     MPI_DOUBLE,    MPI_SHORT,
                                     MPI_FLOAT,  MPI_LONG,    MPI_2INT,      MPI_FLOAT_INT,
                                     MPI_BYTE,   MPI_UINT8_T, MPI_INT64_T,   MPI_LONG_DOUBLE,
                                     MPI_C_BOOL, MPI_WCHAR,   MPI_DOUBLE_INT};

static void fail_check(const char *what)
{
    fprintf(stderr, "fuzz_datatype: %s\n", what);
    abort();
}

static int take(input_t *in)
{
    if (in->left == 0) {
        return 0;
    }
    in->left--;
    return *in->p++;
}

/* A small signed number: counts, strides, displacements. */
static int small(input_t *in)
{
    return (int8_t)take(in) / 4;
}

static MPI_Datatype top(machine_t *m, int k)
{
    return m->depth > k ? m->stack[m->depth - 1 - k] : MPI_INT;
}

/* t is read only once rc says the constructor made it. */
static void push(machine_t *m, int rc, const MPI_Datatype *tp)
{
    if (rc != MPI_SUCCESS) {
        return;
    }
    MPI_Datatype t = *tp;
    if (m->nmade == MADE_MAX / 2) { /* the other half is for the rebuilds */
        MPI_Type_free(&t);
        return;
    }
    m->made[m->nmade++] = t;
    if (m->depth == STACK) {
        memmove(m->stack, m->stack + 1, (STACK - 1) * sizeof(MPI_Datatype));
        m->depth--;
    }
    m->stack[m->depth++] = t;
}

static void step(machine_t *m, input_t *in)
{
    MPI_Datatype t = MPI_DATATYPE_NULL;
    int n = take(in) % 5, ints[8], blens[8];
    MPI_Aint addrs[8];
    MPI_Datatype types[8];
    for (int i = 0; i < 8; i++) {
        ints[i] = small(in);
        blens[i] = take(in) % 4;
        addrs[i] = small(in) * 4;
        types[i] = top(m, i % 3);
    }
    /* A constructor makes at most 32 blocks of 4 copies of its largest
     * input (subarrays and darrays fewer): past 64 KiB the type is left as
     * it is, so that a run spends its time on variety, not on bulk. */
    int biggest = 0;
    for (int k = 0; k < 3; k++) {
        int sz;
        if (MPI_Type_size(top(m, k), &sz) == MPI_SUCCESS && sz > biggest) {
            biggest = sz;
        }
    }
    int op = take(in) % 14;
    if ((size_t)biggest * 32 * 4 * 8 > MAX_SPAN && op >= 1 && op <= 12 && op != 9 && op != 10) {
        return;
    }
    switch (op) {
    case 0: m->stack[m->depth < STACK ? m->depth++ : STACK - 1] = named[take(in) % 15]; break;
    case 1: push(m, MPI_Type_contiguous(ints[0], top(m, 0), &t), &t); break;
    case 2: push(m, MPI_Type_vector(ints[0], blens[0], ints[1], top(m, 0), &t), &t); break;
    case 3: push(m, MPI_Type_create_hvector(ints[0], blens[0], addrs[0], top(m, 0), &t), &t); break;
    case 4: push(m, MPI_Type_indexed(n, blens, ints, top(m, 0), &t), &t); break;
    case 5: push(m, MPI_Type_create_hindexed(n, blens, addrs, top(m, 0), &t), &t); break;
    case 6: push(m, MPI_Type_create_indexed_block(n, blens[0], ints, top(m, 0), &t), &t); break;
    case 7: push(m, MPI_Type_create_hindexed_block(n, blens[0], addrs, top(m, 0), &t), &t); break;
    case 8: push(m, MPI_Type_create_struct(n, blens, addrs, types, &t), &t); break;
    case 9: push(m, MPI_Type_create_resized(top(m, 0), addrs[0], addrs[1], &t), &t); break;
    case 10: push(m, MPI_Type_dup(top(m, 0), &t), &t); break;
    case 11: {
        int nd = 1 + n % 3, sizes[3], subs[3], starts[3];
        for (int d = 0; d < nd; d++) {
            sizes[d] = blens[d] + 1 + take(in) % 3;
            subs[d] = blens[d + 3];
            starts[d] = ints[d] % 3;
        }
        int order = take(in) & 1 ? MPI_ORDER_C : MPI_ORDER_FORTRAN;
        push(m, MPI_Type_create_subarray(nd, sizes, subs, starts, order, top(m, 0), &t), &t);
        break;
    }
    case 12: {
        int nd = 1 + n % 2, gsizes[2], distribs[2], dargs[2], psizes[2];
        for (int d = 0; d < nd; d++) {
            gsizes[d] = 1 + blens[d] + take(in) % 4;
            distribs[d] = (int[]){MPI_DISTRIBUTE_BLOCK, MPI_DISTRIBUTE_CYCLIC,
                                  MPI_DISTRIBUTE_NONE}[take(in) % 3];
            dargs[d] = take(in) % 2 ? MPI_DISTRIBUTE_DFLT_DARG : 1 + take(in) % 3;
            psizes[d] = 1;
        }
        push(m,
             MPI_Type_create_darray(1, 0, nd, gsizes, distribs, dargs, psizes, MPI_ORDER_C,
                                    top(m, 0), &t),
             &t);
        break;
    }
    default:
        if (m->depth > 0) {
            m->depth--;
        }
        break;
    }
}

/* The type the envelope and contents of t describe, built anew; t itself
 * for a named type. Returns MPI_DATATYPE_NULL when a constructor refused. */
static MPI_Datatype rebuild(MPI_Datatype t, machine_t *m)
{
    int ni, na, nd, combiner;
    if (MPI_Type_get_envelope(t, &ni, &na, &nd, &combiner) != MPI_SUCCESS) {
        fail_check("MPI_Type_get_envelope failed on a committed type");
    }
    if (combiner == MPI_COMBINER_NAMED) {
        return t;
    }
    if (++m->rebuilds > MADE_MAX / 2) {
        return MPI_DATATYPE_NULL; /* too big a tree to check this way */
    }
    int *is = malloc(sizeof(int) * (size_t)(ni + 1));
    MPI_Aint *as = malloc(sizeof(MPI_Aint) * (size_t)(na + 1));
    MPI_Datatype *ds = malloc(sizeof(MPI_Datatype) * (size_t)(nd + 1));
    MPI_Datatype out = MPI_DATATYPE_NULL;
    if (MPI_Type_get_contents(t, ni, na, nd, is, as, ds) != MPI_SUCCESS) {
        fail_check("MPI_Type_get_contents failed on what its envelope said");
    }
    MPI_Datatype inner[8];
    bool skip = false;
    for (int i = 0; i < nd && i < 8; i++) {
        inner[i] = rebuild(ds[i], m);
        skip |= inner[i] == MPI_DATATYPE_NULL;
    }
    int rc = MPI_ERR_TYPE;
    switch (skip ? -1 : combiner) {
    case -1: rc = MPI_SUCCESS; break;
    case MPI_COMBINER_DUP: rc = MPI_Type_dup(inner[0], &out); break;
    case MPI_COMBINER_CONTIGUOUS: rc = MPI_Type_contiguous(is[0], inner[0], &out); break;
    case MPI_COMBINER_VECTOR: rc = MPI_Type_vector(is[0], is[1], is[2], inner[0], &out); break;
    case MPI_COMBINER_HVECTOR:
        rc = MPI_Type_create_hvector(is[0], is[1], as[0], inner[0], &out);
        break;
    case MPI_COMBINER_INDEXED:
        rc = MPI_Type_indexed(is[0], is + 1, is + 1 + is[0], inner[0], &out);
        break;
    case MPI_COMBINER_HINDEXED:
        rc = MPI_Type_create_hindexed(is[0], is + 1, as, inner[0], &out);
        break;
    case MPI_COMBINER_INDEXED_BLOCK:
        rc = MPI_Type_create_indexed_block(is[0], is[1], is + 2, inner[0], &out);
        break;
    case MPI_COMBINER_HINDEXED_BLOCK:
        rc = MPI_Type_create_hindexed_block(is[0], is[1], as, inner[0], &out);
        break;
    case MPI_COMBINER_STRUCT:
        rc = is[0] <= 8 ? MPI_Type_create_struct(is[0], is + 1, as, inner, &out) : MPI_ERR_TYPE;
        break;
    case MPI_COMBINER_RESIZED: rc = MPI_Type_create_resized(inner[0], as[0], as[1], &out); break;
    case MPI_COMBINER_SUBARRAY: {
        int nd2 = is[0];
        rc = MPI_Type_create_subarray(nd2, is + 1, is + 1 + nd2, is + 1 + 2 * nd2, is[1 + 3 * nd2],
                                      inner[0], &out);
        break;
    }
    case MPI_COMBINER_DARRAY: {
        int nd2 = is[2];
        rc = MPI_Type_create_darray(is[0], is[1], nd2, is + 3, is + 3 + nd2, is + 3 + 2 * nd2,
                                    is + 3 + 3 * nd2, is[3 + 4 * nd2], inner[0], &out);
        break;
    }
    default: fail_check("a combiner this harness does not know"); break;
    }
    if (rc != MPI_SUCCESS) {
        fail_check("a constructor refused what get_contents returned");
    }
    /* Handles get_contents returned for derived types are the caller's. */
    for (int i = 0; i < nd; i++) {
        int a, b, c, comb;
        MPI_Type_get_envelope(ds[i], &a, &b, &c, &comb);
        if (comb != MPI_COMBINER_NAMED) {
            MPI_Type_free(&ds[i]);
        }
    }
    free(is);
    free(as);
    free(ds);
    if (out != MPI_DATATYPE_NULL) {
        m->made[m->nmade++] = out; /* room: MADE_MAX / 2 rebuilds at most */
    }
    return out;
}

static void *pack(MPI_Datatype t, const void *buf, int *len)
{
    int size;
    if (MPI_Pack_size(1, t, MPI_COMM_WORLD, &size) != MPI_SUCCESS) {
        fail_check("MPI_Pack_size failed on a committed type");
    }
    char *out = malloc((size_t)size + 1);
    *len = 0;
    if (MPI_Pack(buf, 1, t, out, size, len, MPI_COMM_WORLD) != MPI_SUCCESS) {
        fail_check("MPI_Pack failed within MPI_Pack_size");
    }
    return out;
}

static void check(MPI_Datatype t, machine_t *m)
{
    MPI_Aint lb, extent, tlb, textent;
    int size;
    MPI_Type_size(t, &size);
    MPI_Type_get_extent(t, &lb, &extent);
    MPI_Type_get_true_extent(t, &tlb, &textent);
    /* A buffer is found at its address minus true_lb: a type whose data
     * starts further away than any address space reaches names no buffer
     * (and the subtraction itself would overflow). */
    if (size < 0 || size > MAX_SPAN || textent < 0 || textent > MAX_SPAN || tlb > MAX_LB ||
        tlb < -MAX_LB) {
        return;
    }
    char *space = malloc((size_t)textent + 1);
    for (MPI_Aint i = 0; i < textent; i++) {
        space[i] = (char)(i * 7 + 1);
    }
    char *buf = space - tlb; /* the type's data starts at true_lb */
    int len1, len2, len3;
    char *p1 = pack(t, buf, &len1);
    if (len1 != size) {
        fail_check("a packing is not MPI_Type_size long");
    }
    char *back = calloc(1, (size_t)textent + 1);
    int pos = 0;
    if (MPI_Unpack(p1, len1, &pos, back - tlb, 1, t, MPI_COMM_WORLD) != MPI_SUCCESS ||
        pos != len1) {
        fail_check("MPI_Unpack failed on what MPI_Pack made");
    }
    char *p2 = pack(t, back - tlb, &len2);
    if (len2 != len1 || memcmp(p1, p2, (size_t)len1) != 0) {
        fail_check("pack, unpack, pack again differs");
    }
    MPI_Datatype r = m->nmade <= MADE_MAX / 2 ? rebuild(t, m) : t;
    if (r != t && r != MPI_DATATYPE_NULL) {
        MPI_Type_commit(&r);
        char *p3 = pack(r, buf, &len3);
        if (len3 != len1 || memcmp(p1, p3, (size_t)len1) != 0) {
            fail_check("the type rebuilt from its contents packs differently");
        }
        free(p3);
    }
    MPI_Aint xsize;
    if (MPI_Pack_external_size("external32", 1, t, &xsize) == MPI_SUCCESS && xsize <= MAX_SPAN) {
        char *x = malloc((size_t)xsize + 1);
        MPI_Aint xpos = 0, upos = 0;
        memset(back, 0, (size_t)textent + 1);
        if (MPI_Pack_external("external32", buf, 1, t, x, xsize, &xpos) == MPI_SUCCESS) {
            if (xpos != xsize || MPI_Unpack_external("external32", x, xsize, &upos, back - tlb, 1,
                                                     t) != MPI_SUCCESS) {
                fail_check("external32 does not come back");
            }
            char *p4 = pack(t, back - tlb, &len3);
            if (len3 != len1 || memcmp(p1, p4, (size_t)len1) != 0) {
                fail_check("external32 packing and unpacking changed the data");
            }
            free(p4);
        }
        free(x);
    }
    free(p1);
    free(p2);
    free(back);
    free(space);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    setenv("MRAIL_MCA_btl", "self", 1);
    MPI_Init(argc, argv);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    machine_t m = {.depth = 0};
    input_t in = {data, size};
    while (in.left > 0) {
        step(&m, &in);
    }
    MPI_Datatype t = top(&m, 0);
    int combiner, a, b, c;
    MPI_Type_get_envelope(t, &a, &b, &c, &combiner);
    if (combiner != MPI_COMBINER_NAMED && MPI_Type_commit(&t) != MPI_SUCCESS) {
        fail_check("MPI_Type_commit failed");
    }
    check(t, &m);
    for (int i = 0; i < m.nmade; i++) {
        MPI_Type_free(&m.made[i]);
    }
    return 0;
}
