/* An exact hash table of text IDs for the streaming link: each distinct ID gets a code, in the order IDs
 * first occur, input after input.
 *
 * Pseudonymised IDs, UUIDs and other text do not code densely. The table keeps one record per distinct ID
 * (its length, its code, its bytes) and an open-addressing index of 8-byte slots, each holding where a
 * record begins and 16 bits of its ID's 64-bit hash. A row finds its code by hashing its bytes, probing the
 * index and comparing its bytes with the record's. Two IDs share a code exactly when their bytes are equal:
 * a shared hash only costs another probe. Per distinct ID it holds its bytes, 8 bytes of record header and
 * 8 / load bytes of index (the load stays under 0.7).
 *
 * Records and index are split into partitions by bits of the hash, each of a few thousand IDs, and an input
 * is coded a partition at a time (a radix-partitioned hash join): its rows are first sorted into the
 * partitions, then each partition's index and records are read in order, into the cache, and its rows
 * probed there. Probing one big table instead costs two or three reads from memory at random per row (the
 * slot, the record's one or two cache lines), which dominated the time. New IDs get their codes in a last
 * pass over the rows, in row order, so the codes are those a row-by-row coder gives.
 *
 * The GIL is released while an input is coded, so the inputs ahead are read meanwhile.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY 0
#define OFFSET_BITS 48 /* a slot: (tag << 48) | (record offset + 1) */
#define OFFSET_MASK ((1ULL << OFFSET_BITS) - 1)
#define HEADER 8 /* a record: uint32 length, uint32 code, the ID's bytes */
#define MAX_CODES 0xFFFFFFF0u
#define PART_IDS 4096 /* IDs per partition aimed at: its index and records stay in the cache */
#define MAX_PARTS (1u << 15) /* partition numbers are hash bits 32..46; the tag is bits 48..63 */
#define NO_PART 0xFFFFu
#define AHEAD 16 /* rows ahead whose bytes are fetched while one is probed */
#define UNSET 0xFFFFFFFFu

typedef struct {
    uint64_t *slots; /* 0: empty */
    size_t nslots;   /* a power of two; 0 before the partition's first record */
    uint8_t *arena;  /* the partition's records */
    size_t len, cap;
    size_t count;
} Part;

typedef struct {
    PyObject_HEAD
    Part *parts;
    size_t nparts; /* a power of two; 0 before the first input */
    size_t count;  /* codes handed out */
    uint64_t hash_mask; /* a test hook: the bits of each hash kept (all by default) */
    int indexed;        /* 0 once the index was let go */
    /* Room for an input's rows sorted into partitions, kept from one input to the next: memory the system
     * gives anew is faulted in and zeroed page by page, which costs more than the sorting. */
    void *scratch;
    size_t scratch_size;
} IdTable;

/* The 8 bytes at p as a word, or the n < 8 there followed by zeros (a loop: memcpy of a length only known
 * at run time is a call). */
static inline uint64_t load_word(const uint8_t *p, size_t n) {
    uint64_t w = 0;
    if (n >= 8) {
        memcpy(&w, p, 8);
        return w;
    }
    for (size_t i = 0; i < n; i++) w |= (uint64_t)p[i] << (8 * i);
    return w;
}

#ifdef __SIZEOF_INT128__
/* The 128-bit product of a and b, its halves folded together. */
static inline uint64_t fold(uint64_t a, uint64_t b) {
    __uint128_t m = (__uint128_t)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* The ID's length and every 16 bytes of it, each pair of words mixed with its own constants by one
 * 64 × 64-bit product (as XXH3 hashes short keys): the products do not wait for one another, so a 64-byte
 * ID costs four products, not a chain of eight. Bytes past the end read as zero (the length tells). */
static inline uint64_t hash_bytes(const uint8_t *p, size_t n, uint64_t keep) {
    uint64_t acc = (uint64_t)n * 0x9E3779B185EBCA87ULL, k = 0xC2B2AE3D27D4EB4FULL;
    size_t i = 0;
    for (; i + 16 <= n; i += 16, k += 0x165667B19E3779F9ULL)
        acc += fold(load_word(p + i, 8) ^ k, load_word(p + i + 8, 8) ^ (k * 0x9E3779B97F4A7C15ULL));
    if (i < n)
        acc += fold(load_word(p + i, n - i) ^ k, (n - i > 8 ? load_word(p + i + 8, n - i - 8) : 0) ^ ~k);
    acc ^= acc >> 37;
    acc *= 0x165667919E3779F9ULL;
    acc ^= acc >> 32;
    return acc & keep;
}
#else
/* Every word of the ID and its length folded in by multiply-xorshift (MurmurHash3's finaliser constants). */
static inline uint64_t hash_bytes(const uint8_t *p, size_t n, uint64_t keep) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)n * 0xC4CEB9FE1A85EC53ULL);
    for (size_t i = 0; i < n; i += 8) {
        h ^= load_word(p + i, n - i);
        h *= 0xFF51AFD7ED558CCDULL;
        h ^= h >> 33;
    }
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h & keep;
}
#endif

static inline size_t part_of(uint64_t h, size_t nparts) { return (size_t)(h >> 32) & (nparts - 1); }
static inline uint64_t tag_of(uint64_t h) { return (h >> OFFSET_BITS) << OFFSET_BITS; }

static inline uint32_t record_u32(const uint8_t *record, size_t at) {
    uint32_t v;
    memcpy(&v, record + at, 4);
    return v;
}

/* Place the record at `at` (hash h) in an index of n slots. */
static inline void place(uint64_t *slots, size_t n, uint64_t h, size_t at) {
    size_t s = (size_t)h & (n - 1);
    while (slots[s] != EMPTY) s = (s + 1) & (n - 1);
    slots[s] = tag_of(h) | (at + 1);
}

/* An index of `want` slots for the partition's records (placed anew); 0 when memory runs out. */
static int reindex(Part *p, size_t want, uint64_t keep) {
    uint64_t *slots = calloc(want, sizeof(uint64_t));
    if (!slots) return 0;
    for (size_t at = 0; at < p->len;) {
        uint32_t n = record_u32(p->arena, at);
        place(slots, want, hash_bytes(p->arena + at + HEADER, n, keep), at);
        at += HEADER + n;
    }
    free(p->slots);
    p->slots = slots;
    p->nslots = want;
    return 1;
}

/* Append a record (code, n bytes at src, hash h); 0 when memory runs out. */
static int append(Part *p, const uint8_t *src, uint32_t n, uint32_t code, uint64_t h, uint64_t keep) {
    if ((p->count + 1) * 10 > p->nslots * 7 && !reindex(p, p->nslots ? 2 * p->nslots : 16, keep)) return 0;
    if (p->len + HEADER + n > p->cap) {
        size_t cap = p->len + HEADER + n;
        cap += cap / 4 + 256;
        uint8_t *arena = realloc(p->arena, cap);
        if (!arena) return 0;
        p->arena = arena;
        p->cap = cap;
    }
    uint8_t *record = p->arena + p->len;
    memcpy(record, &n, 4);
    memcpy(record + 4, &code, 4);
    memcpy(record + HEADER, src, n);
    place(p->slots, p->nslots, h, p->len);
    p->len += HEADER + n;
    p->count++;
    return 1;
}

/* Whether n bytes at a and b are equal, a word at a time (IDs are short: a call to memcmp costs more). */
static inline int same_bytes(const uint8_t *a, const uint8_t *b, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) return 0;
    }
    for (; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

/* An empty partition's room for the rows about to come (`rows` IDs, `bytes` in all) at once: most of them
 * are new, and growing by steps would leave a step's room unused. A sixteenth more holds the few new IDs
 * each later input brings, so that they do not move every partition's records. */
static int room_for(Part *p, size_t rows, size_t bytes, uint64_t keep) {
    size_t want = 16, need = rows * HEADER + bytes;
    while (rows * 10 > want * 7) want *= 2;
    if (want > p->nslots && !reindex(p, want, keep)) return 0;
    need += need / 16 + 64;
    if (need > p->cap) {
        uint8_t *arena = realloc(p->arena, need);
        if (!arena) return 0;
        p->arena = arena;
        p->cap = need;
    }
    return 1;
}

/* The offset of the record holding the n bytes at src (hash h), or -1. */
static inline int64_t find(const Part *p, const uint8_t *src, size_t n, uint64_t h) {
    if (!p->nslots) return -1;
    uint64_t tag = tag_of(h);
    for (size_t s = (size_t)h & (p->nslots - 1);; s = (s + 1) & (p->nslots - 1)) {
        uint64_t held = p->slots[s];
        if (held == EMPTY) return -1;
        if ((held & ~OFFSET_MASK) != tag) continue;
        size_t at = (held & OFFSET_MASK) - 1;
        if (record_u32(p->arena, at) == n && same_bytes(p->arena + at + HEADER, src, n)) return (int64_t)at;
    }
}

/* Twice the partitions: each one's records go to the two it splits into, by the next bit of their hash.
 * Codes do not change. 0 when memory runs out. */
static int split(IdTable *t) {
    size_t n = t->nparts;
    Part *parts = calloc(2 * n, sizeof(Part));
    if (!parts) return 0;
    int ok = 1;
    for (size_t q = 0; q < n && ok; q++) {
        Part *old = &t->parts[q];
        for (size_t at = 0; at < old->len && ok;) {
            uint32_t len = record_u32(old->arena, at);
            uint64_t h = hash_bytes(old->arena + at + HEADER, len, t->hash_mask);
            ok = append(&parts[part_of(h, 2 * n)], old->arena + at + HEADER, len, record_u32(old->arena, at + 4), h,
                        t->hash_mask);
            at += HEADER + len;
        }
    }
    Part *drop = ok ? t->parts : parts;
    size_t ndrop = ok ? n : 2 * n;
    for (size_t q = 0; q < ndrop; q++) {
        free(drop[q].slots);
        free(drop[q].arena);
    }
    free(drop);
    if (ok) {
        t->parts = parts;
        t->nparts = 2 * n;
    }
    return ok;
}

typedef struct {
    const uint8_t *data;
    const void *offsets;
    int wide;             /* offsets are int64 (else int32) */
    const uint8_t *valid; /* one byte per row, or NULL: every row valid */
    size_t n;
} Rows;

static inline size_t row_start(const Rows *r, size_t i) {
    return r->wide ? (size_t)((const int64_t *)r->offsets)[i] : (size_t)((const int32_t *)r->offsets)[i];
}

typedef struct {
    const uint8_t *bytes;
    uint32_t len, row;
} Entry;

/* Read the partition's index and records into the cache in order (read at random they each cost a miss);
 * returns a byte of them so that the reads are not left out. */
static uint8_t warm(const Part *p) {
    const uint8_t *s = (const uint8_t *)p->slots;
    uint8_t sum = 0;
    for (size_t i = 0; i < p->nslots * sizeof(uint64_t); i += 64) sum ^= s[i];
    for (size_t i = 0; i < p->len; i += 64) sum ^= p->arena[i];
    return sum;
}

static volatile uint8_t warm_sink; /* where the bytes `warm` read go, so that the reads stay */

/* At least `size` bytes of scratch memory, kept by the table; NULL when memory runs out. */
static void *scratch(IdTable *t, size_t size) {
    if (size > t->scratch_size) {
        free(t->scratch);
        t->scratch_size = size + size / 8;
        if (!(t->scratch = malloc(t->scratch_size))) t->scratch_size = 0;
    }
    return t->scratch;
}

/* Code every row of an input (its chunks in order) into out (-1: no ID: null or empty); 0 when memory or
 * codes run out. */
static int code_input(IdTable *t, const Rows *chunks, size_t nchunks, size_t n, int64_t *out) {
    if (t->nparts == 0) {
        size_t parts = 1;
        while (parts * PART_IDS < n && parts < MAX_PARTS) parts *= 2;
        if (!(t->parts = calloc(parts, sizeof(Part)))) return 0;
        t->nparts = parts;
    }
    while (t->count > 4 * PART_IDS * t->nparts && t->nparts < MAX_PARTS)
        if (!split(t)) return 0;
    size_t nparts = t->nparts;
    /* The rows' partitions (2 bytes a row) and, after them, the rows sorted into partitions (an Entry each) */
    size_t head = ((n * sizeof(uint16_t)) | 15) + 1;
    uint8_t *room = scratch(t, head + n * sizeof(Entry) + 16);
    uint16_t *part = (uint16_t *)room;
    Entry *entries = (Entry *)(room + head);
    size_t *start = calloc(nparts + 1, sizeof(size_t)), *fill = calloc(nparts, sizeof(size_t));
    size_t *len_before = calloc(nparts, sizeof(size_t)), *bytes = calloc(nparts, sizeof(size_t));
    uint32_t *final = NULL;
    uint8_t warmed = 0;
    int ok = 0;
    if (!room || !start || !fill || !len_before || !bytes) goto done;
    /* 1: each row's partition, and how many rows each has */
    size_t g = 0;
    for (size_t c = 0; c < nchunks; c++) {
        const Rows *r = &chunks[c];
        for (size_t i = 0; i < r->n; i++, g++) {
            size_t a = row_start(r, i), b = row_start(r, i + 1);
            if (a == b || (r->valid && !r->valid[i])) {
                part[g] = NO_PART;
                out[g] = -1;
                continue;
            }
            size_t q = part_of(hash_bytes(r->data + a, b - a, t->hash_mask), nparts);
            part[g] = (uint16_t)q;
            start[q + 1]++;
            bytes[q] += b - a;
        }
    }
    for (size_t q = 0; q < nparts; q++) start[q + 1] += start[q];
    /* 2: the rows sorted into their partitions, in row order within each */
    g = 0;
    for (size_t c = 0; c < nchunks; c++) {
        const Rows *r = &chunks[c];
        for (size_t i = 0; i < r->n; i++, g++) {
            if (part[g] == NO_PART) continue;
            size_t a = row_start(r, i);
            Entry *e = &entries[start[part[g]] + fill[part[g]]++];
            e->bytes = r->data + a;
            e->len = (uint32_t)(row_start(r, i + 1) - a);
            e->row = (uint32_t)g;
        }
    }
    /* 3: each partition's rows probed with its index and records in the cache; a new ID is given a
     * provisional number, held in its record's code and, as -2 - number, in its rows' codes */
    size_t fresh = 0;
    for (size_t q = 0; q < nparts; q++) {
        Part *p = &t->parts[q];
        size_t lo = start[q], hi = start[q + 1];
        len_before[q] = p->len;
        if (lo == hi) continue;
        if (p->count == 0 && !room_for(p, hi - lo, bytes[q], t->hash_mask)) goto done;
        if (2 * (hi - lo) * 64 >= p->nslots * sizeof(uint64_t) + p->len) warmed ^= warm(p);
        for (size_t k = lo; k < hi; k++) {
            if (k + AHEAD < hi) {
                __builtin_prefetch(entries[k + AHEAD].bytes);
                __builtin_prefetch(entries[k + AHEAD].bytes + entries[k + AHEAD].len - 1);
            }
            const Entry *e = &entries[k];
            uint64_t h = hash_bytes(e->bytes, e->len, t->hash_mask);
            int64_t at = find(p, e->bytes, e->len, h);
            if (at >= 0) {
                uint32_t code = record_u32(p->arena, (size_t)at + 4);
                out[e->row] = (size_t)at >= len_before[q] ? -2 - (int64_t)code : (int64_t)code;
                continue;
            }
            if (t->count + fresh >= MAX_CODES || !append(p, e->bytes, e->len, (uint32_t)fresh, h, t->hash_mask))
                goto done;
            out[e->row] = -2 - (int64_t)fresh++;
        }
    }
    /* 4: new IDs numbered in the order of their first rows, in their rows and their records */
    if (fresh) {
        if (!(final = malloc(fresh * sizeof(uint32_t)))) goto done;
        memset(final, 0xFF, fresh * sizeof(uint32_t));
        for (size_t i = 0; i < n; i++) {
            if (out[i] > -2) continue;
            size_t k = (size_t)(-2 - out[i]);
            if (final[k] == UNSET) final[k] = (uint32_t)t->count++;
            out[i] = final[k];
        }
        for (size_t q = 0; q < nparts; q++) {
            Part *p = &t->parts[q];
            for (size_t at = len_before[q]; at < p->len; at += HEADER + record_u32(p->arena, at)) {
                uint32_t code = final[record_u32(p->arena, at + 4)];
                memcpy(p->arena + at + 4, &code, 4);
            }
        }
    }
    warm_sink = warmed;
    ok = 1;
done:
    free(start);
    free(fill);
    free(len_before);
    free(bytes);
    free(final);
    return ok;
}

static int buffer_of(PyObject *obj, Py_buffer *view, int flags) {
    return PyObject_GetBuffer(obj, view, flags | PyBUF_C_CONTIGUOUS) == 0;
}

/* add(chunks, out): code every row of one input. chunks: a list of (offsets, data, valid) per Arrow string
 * chunk, in order: its n + 1 offsets (int32 or int64, by item size), its bytes, and one byte per row (0:
 * null) or None; out: a writable int64 buffer of as many items as the chunks have rows. Returns how many
 * codes the table now holds. */
static PyObject *add(IdTable *t, PyObject *args) {
    PyObject *list, *out_obj;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &list, &out_obj)) return NULL;
    if (!t->indexed) {
        PyErr_SetString(PyExc_RuntimeError, "add: the index was let go");
        return NULL;
    }
    Py_ssize_t nchunks = PyList_GET_SIZE(list);
    Py_buffer *views = calloc((size_t)(3 * nchunks + 1), sizeof(Py_buffer));
    Rows *rows = calloc((size_t)(nchunks + 1), sizeof(Rows));
    Py_buffer out = {0};
    PyObject *result = NULL;
    size_t total = 0;
    if (!views || !rows) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t c = 0; c < nchunks; c++) {
        PyObject *item = PyList_GET_ITEM(list, c), *valid;
        Py_buffer *v = &views[3 * c];
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 3) {
            PyErr_SetString(PyExc_TypeError, "add: each chunk is (offsets, data, valid)");
            goto done;
        }
        if (!buffer_of(PyTuple_GET_ITEM(item, 0), &v[0], PyBUF_FORMAT) ||
            !buffer_of(PyTuple_GET_ITEM(item, 1), &v[1], PyBUF_SIMPLE))
            goto done;
        valid = PyTuple_GET_ITEM(item, 2);
        if (valid != Py_None && !buffer_of(valid, &v[2], PyBUF_SIMPLE)) goto done;
        Py_ssize_t width = v[0].itemsize, n = v[0].len / (width ? width : 1) - 1;
        Rows *r = &rows[c];
        *r = (Rows){v[1].buf, v[0].buf, width == 8, v[2].obj ? v[2].buf : NULL, (size_t)(n < 0 ? 0 : n)};
        if ((width != 4 && width != 8) || n < 0 || (v[2].obj && v[2].len < n) ||
            (n > 0 && (row_start(r, (size_t)n) > (size_t)v[1].len || row_start(r, (size_t)n) < row_start(r, 0)))) {
            PyErr_SetString(PyExc_ValueError, "add: bad buffers");
            goto done;
        }
        total += (size_t)n;
    }
    if (!buffer_of(out_obj, &out, PyBUF_WRITABLE)) goto done;
    if ((size_t)out.len < total * sizeof(int64_t) || total >= UNSET) {
        PyErr_SetString(PyExc_ValueError, "add: the output is too small, or the input too large");
        goto done;
    }
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = code_input(t, rows, (size_t)nchunks, total, out.buf);
    Py_END_ALLOW_THREADS
    if (!ok) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyLong_FromSize_t(t->count);
done:
    if (views)
        for (Py_ssize_t i = 0; i < 3 * nchunks; i++)
            if (views[i].obj) PyBuffer_Release(&views[i]);
    if (out.obj) PyBuffer_Release(&out);
    free(views);
    free(rows);
    return result;
}

/* export(): the distinct IDs by code, as (offsets: int64 bytes, count + 1 of them; data: bytes). */
static PyObject *export(IdTable *t, PyObject *Py_UNUSED(ignored)) {
    PyObject *offsets = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)((t->count + 1) * sizeof(int64_t)));
    if (!offsets) return NULL;
    int64_t *off = (int64_t *)PyBytes_AS_STRING(offsets);
    memset(off, 0, (t->count + 1) * sizeof(int64_t));
    for (size_t q = 0; q < t->nparts; q++) {
        const Part *p = &t->parts[q];
        for (size_t at = 0; at < p->len; at += HEADER + record_u32(p->arena, at))
            off[record_u32(p->arena, at + 4) + 1] = record_u32(p->arena, at);
    }
    for (size_t c = 0; c < t->count; c++) off[c + 1] += off[c];
    PyObject *data = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)off[t->count]);
    if (!data) {
        Py_DECREF(offsets);
        return NULL;
    }
    uint8_t *bytes = (uint8_t *)PyBytes_AS_STRING(data);
    for (size_t q = 0; q < t->nparts; q++) {
        const Part *p = &t->parts[q];
        for (size_t at = 0; at < p->len; at += HEADER + record_u32(p->arena, at))
            memcpy(bytes + off[record_u32(p->arena, at + 4)], p->arena + at + HEADER, record_u32(p->arena, at));
    }
    return Py_BuildValue("(NN)", offsets, data);
}

/* drop_index(): let the index go (the records stay, for export); adding then fails. */
static PyObject *drop_index(IdTable *t, PyObject *Py_UNUSED(ignored)) {
    for (size_t q = 0; q < t->nparts; q++) {
        free(t->parts[q].slots);
        t->parts[q].slots = NULL;
        t->parts[q].nslots = 0;
    }
    free(t->scratch);
    t->scratch = NULL;
    t->scratch_size = 0;
    t->indexed = 0;
    Py_RETURN_NONE;
}

static PyObject *table_count(IdTable *t, void *Py_UNUSED(closure)) { return PyLong_FromSize_t(t->count); }

static PyObject *table_nbytes(IdTable *t, void *Py_UNUSED(closure)) {
    size_t bytes = t->nparts * sizeof(Part);
    for (size_t q = 0; q < t->nparts; q++) bytes += t->parts[q].nslots * sizeof(uint64_t) + t->parts[q].cap;
    return PyLong_FromSize_t(bytes);
}

static void free_parts(IdTable *t) {
    free(t->scratch);
    t->scratch = NULL;
    t->scratch_size = 0;
    for (size_t q = 0; q < t->nparts; q++) {
        free(t->parts[q].slots);
        free(t->parts[q].arena);
    }
    free(t->parts);
    t->parts = NULL;
    t->nparts = 0;
}

static int table_init(IdTable *t, PyObject *args, PyObject *kwds) {
    static char *names[] = {"hash_bits", NULL};
    int bits = 64;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|i", names, &bits)) return -1;
    if (bits < 0 || bits > 64) {
        PyErr_SetString(PyExc_ValueError, "hash_bits must be in [0, 64]");
        return -1;
    }
    free_parts(t);
    t->hash_mask = bits == 64 ? ~0ULL : ((1ULL << bits) - 1);
    t->count = 0;
    t->indexed = 1;
    return 0;
}

static void table_dealloc(IdTable *t) {
    free_parts(t);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyMethodDef table_methods[] = {
    {"add", (PyCFunction)add, METH_VARARGS, "Code every row of one input's string chunks (see the C source)."},
    {"export", (PyCFunction)export, METH_NOARGS, "The distinct IDs by code: (int64 offsets, bytes)."},
    {"drop_index", (PyCFunction)drop_index, METH_NOARGS, "Free the index, keeping the IDs' bytes."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef table_getset[] = {
    {"count", (getter)table_count, NULL, "Codes handed out.", NULL},
    {"nbytes", (getter)table_nbytes, NULL, "Bytes held (index, and each ID's bytes with its length and code).",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject IdTableType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "monoculture.read._idtable.IdTable",
    .tp_basicsize = sizeof(IdTable),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An exact hash table of text IDs (see the C source).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)table_init,
    .tp_dealloc = (destructor)table_dealloc,
    .tp_methods = table_methods,
    .tp_getset = table_getset,
};

static PyMethodDef methods[] = {
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_idtable", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__idtable(void) {
    if (PyType_Ready(&IdTableType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    if (PyModule_AddObjectRef(m, "IdTable", (PyObject *)&IdTableType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
