/* An exact hash table of text IDs for the streaming link: each distinct ID gets a code, in the order IDs
 * first occur, input after input.
 *
 * Pseudonymised IDs, UUIDs and other text do not code densely. The table keeps one record per distinct ID,
 * in code order (its length, its code, its bytes), and an open-addressing index of 8-byte slots, each holding
 * where a record begins and 24 bits of its ID's 64-bit hash. A row finds its code by hashing its bytes,
 * probing the index and comparing its bytes with the record's. Two IDs share a code exactly when their bytes
 * are equal: a shared hash only costs another probe. Per distinct ID it holds its bytes, 8 bytes of record
 * header and 8 / load bytes of index (the load stays between 0.35 and 0.7).
 *
 * A row's probe takes two random reads from memory (its slot, then its record). They are issued several rows
 * ahead (software pipelining), so that many rows' reads are in flight at once instead of following one
 * another. The GIL is released while rows are coded, so the inputs ahead are read meanwhile.
 */
#define _GNU_SOURCE /* mremap */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK 4096 /* rows between checks that the table has room */
#define AHEAD 16     /* rows between the steps of a row's probe */
#define EMPTY 0
#define OFFSET_BITS 40 /* a slot: (tag << 40) | (record offset + 1) */
#define OFFSET_MASK ((1ULL << OFFSET_BITS) - 1)
#define HEADER 8 /* a record: uint32 length, uint32 code, the ID's bytes */
#define MAX_CODES 0xFFFFFFFFu

typedef struct {
    PyObject_HEAD
    uint64_t *slots; /* 0: empty */
    size_t nslots;   /* a power of two */
    uint8_t *arena;  /* a record per distinct ID, in code order */
    size_t arena_len, arena_cap;
    size_t count;
    uint64_t hash_mask; /* a test hook: the bits of each hash kept (all by default) */
} IdTable;

static inline uint64_t load_word(const uint8_t *p, size_t n) {
    uint64_t w = 0;
    memcpy(&w, p, n < 8 ? n : 8);
    return w;
}

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

static inline size_t slot_of(uint64_t h, size_t nslots) { return (size_t)(h ^ (h >> 32)) & (nslots - 1); }
static inline uint64_t tag_of(uint64_t h) { return (h >> OFFSET_BITS) << OFFSET_BITS; }

static inline uint32_t record_u32(const uint8_t *record, size_t at) {
    uint32_t v;
    memcpy(&v, record + at, 4);
    return v;
}

/* A zeroed index of n slots. Its reads are random, one per row: on huge pages (where the system gives them
 * on request) far fewer of them miss the TLB. */
static uint64_t *new_slots(size_t n) {
    size_t bytes = n * sizeof(uint64_t);
    if (bytes < (4u << 20)) return calloc(n, sizeof(uint64_t));
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

static void free_slots(uint64_t *slots, size_t n) {
    if (!slots) return;
    if (n * sizeof(uint64_t) < (4u << 20)) free(slots);
    else munmap(slots, n * sizeof(uint64_t));
}

/* The arena at a new capacity (bytes, a multiple of 2 MiB), on huge pages where the system gives them; its
 * records are read at random, one per row. Linux moves the pages rather than copying them. */
static uint8_t *arena_resize(uint8_t *old, size_t old_cap, size_t cap) {
#ifdef MREMAP_MAYMOVE
    void *p = old ? mremap(old, old_cap, cap, MREMAP_MAYMOVE)
                  : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, cap, MADV_HUGEPAGE);
#endif
    return p;
#else
    (void)old_cap;
    return realloc(old, cap);
#endif
}

static void arena_free(uint8_t *arena, size_t cap) {
    if (!arena) return;
#ifdef MREMAP_MAYMOVE
    munmap(arena, cap);
#else
    (void)cap;
    free(arena);
#endif
}

/* Room in the index for `more` codes beyond those held, doubling (and placing every record anew) as needed. */
static int reserve_slots(IdTable *t, size_t more) {
    size_t want = t->nslots;
    while ((t->count + more) * 10 > want * 7) want *= 2;
    if (want == t->nslots) return 1;
    uint64_t *slots = new_slots(want);
    if (!slots) return 0;
    for (size_t at = 0; at < t->arena_len;) {
        uint32_t n = record_u32(t->arena + at, 0);
        uint64_t h = hash_bytes(t->arena + at + HEADER, n, t->hash_mask);
        size_t s = slot_of(h, want);
        while (slots[s] != EMPTY) s = (s + 1) & (want - 1);
        slots[s] = tag_of(h) | (at + 1);
        at += HEADER + n;
    }
    free_slots(t->slots, t->nslots);
    t->slots = slots;
    t->nslots = want;
    return 1;
}

/* Room for `codes` more records holding `bytes` more bytes of IDs. The arena grows in place (its pages are
 * moved, not copied, and pages not yet written take no memory), so an eighth more is enough. */
static int reserve(IdTable *t, size_t codes, size_t bytes) {
    if (!reserve_slots(t, codes)) return 0;
    size_t need = t->arena_len + bytes + codes * HEADER;
    if (need > t->arena_cap) {
        size_t cap = ((need + need / 8) | ((2u << 20) - 1)) + 1;
        if (cap > OFFSET_MASK) return 0;
        uint8_t *arena = arena_resize(t->arena, t->arena_cap, cap);
        if (!arena) return 0;
        t->arena = arena;
        t->arena_cap = cap;
    }
    return 1;
}

/* The code of the ID at p (n bytes), with hash h, giving it the next code when new. */
static int64_t code_of(IdTable *t, const uint8_t *p, size_t n, uint64_t h) {
    size_t s = slot_of(h, t->nslots);
    uint64_t tag = tag_of(h);
    for (;; s = (s + 1) & (t->nslots - 1)) {
        uint64_t held = t->slots[s];
        if (held == EMPTY) break;
        if ((held & ~OFFSET_MASK) != tag) continue;
        const uint8_t *record = t->arena + ((held & OFFSET_MASK) - 1);
        if (record_u32(record, 0) == n && memcmp(record + HEADER, p, n) == 0) return record_u32(record, 4);
    }
    uint32_t code = (uint32_t)t->count++, len = (uint32_t)n;
    uint8_t *record = t->arena + t->arena_len;
    memcpy(record, &len, 4);
    memcpy(record + 4, &code, 4);
    memcpy(record + HEADER, p, n);
    t->slots[s] = tag | (t->arena_len + 1);
    t->arena_len += HEADER + n;
    return code;
}

typedef struct {
    const uint8_t *data;
    const void *offsets;
    int wide; /* offsets are int64 (else int32) */
    const uint8_t *valid; /* one byte per row, or NULL: every row valid */
} Rows;

static inline size_t row_start(const Rows *r, size_t i) {
    return r->wide ? (size_t)((const int64_t *)r->offsets)[i] : (size_t)((const int32_t *)r->offsets)[i];
}

static inline int has_id(const Rows *r, size_t i) {
    return row_start(r, i) != row_start(r, i + 1) && !(r->valid && !r->valid[i]);
}

/* Code rows [0, n) into out (-1: no ID: null or empty); 0 when memory or codes run out.
 *
 * Software-pipelined: at step i, row i is hashed and its first slot prefetched; row i - AHEAD's slot is read
 * and the record it names prefetched; row i - 2 AHEAD is probed, its reads already on their way. */
static int code_rows(IdTable *t, const Rows *r, size_t n, int64_t *out) {
    uint64_t hashes[2 * AHEAD + 1];
    const size_t ring = 2 * AHEAD + 1;
    for (size_t lo = 0; lo < n; lo += BLOCK) {
        size_t hi = n - lo < BLOCK ? n : lo + BLOCK;
        if (t->count + (hi - lo) > MAX_CODES) return 0;
        if (!reserve(t, hi - lo, row_start(r, hi) - row_start(r, lo))) return 0;
        for (size_t i = lo; i < hi + 2 * AHEAD; i++) {
            if (i < hi && has_id(r, i)) {
                size_t a = row_start(r, i), b = row_start(r, i + 1);
                uint64_t h = hash_bytes(r->data + a, b - a, t->hash_mask);
                hashes[i % ring] = h;
                __builtin_prefetch(&t->slots[slot_of(h, t->nslots)]);
            }
            if (i >= lo + AHEAD && i - AHEAD < hi && has_id(r, i - AHEAD)) {
                uint64_t held = t->slots[slot_of(hashes[(i - AHEAD) % ring], t->nslots)];
                if (held != EMPTY) { /* the record's first and last byte: it may span two cache lines */
                    const uint8_t *record = t->arena + ((held & OFFSET_MASK) - 1);
                    __builtin_prefetch(record);
                    __builtin_prefetch(record + HEADER + (row_start(r, i - AHEAD + 1) - row_start(r, i - AHEAD)) - 1);
                }
            }
            if (i >= lo + 2 * AHEAD) {
                size_t j = i - 2 * AHEAD;
                if (!has_id(r, j)) {
                    out[j] = -1;
                    continue;
                }
                size_t a = row_start(r, j), b = row_start(r, j + 1);
                out[j] = code_of(t, r->data + a, b - a, hashes[j % ring]);
            }
        }
    }
    return 1;
}

static int buffer_of(PyObject *obj, Py_buffer *view, int flags) {
    return PyObject_GetBuffer(obj, view, flags | PyBUF_C_CONTIGUOUS) == 0;
}

/* add(offsets, data, valid, out): code every row of one Arrow string chunk. offsets: its n + 1 offsets
 * (int32 or int64, by item size); data: its bytes; valid: one byte per row (0: null), or None; out: a
 * writable int64 buffer of n items. Returns how many codes the table now holds. */
static PyObject *add(IdTable *t, PyObject *args) {
    PyObject *offsets_obj, *data_obj, *valid_obj, *out_obj;
    if (!PyArg_ParseTuple(args, "OOOO", &offsets_obj, &data_obj, &valid_obj, &out_obj)) return NULL;
    Py_buffer offsets = {0}, data = {0}, valid = {0}, out = {0};
    PyObject *result = NULL;
    int got_valid = 0;
    if (!buffer_of(offsets_obj, &offsets, PyBUF_FORMAT) || !buffer_of(data_obj, &data, PyBUF_SIMPLE) ||
        !buffer_of(out_obj, &out, PyBUF_WRITABLE))
        goto done;
    if (valid_obj != Py_None) {
        if (!buffer_of(valid_obj, &valid, PyBUF_SIMPLE)) goto done;
        got_valid = 1;
    }
    Py_ssize_t width = offsets.itemsize, n = offsets.len / (width ? width : 1) - 1;
    if ((width != 4 && width != 8) || n < 0 || out.len < n * 8 || (got_valid && valid.len < n)) {
        PyErr_SetString(PyExc_ValueError, "add: bad buffers");
        goto done;
    }
    Rows r = {data.buf, offsets.buf, width == 8, got_valid ? valid.buf : NULL};
    if (n > 0 && (row_start(&r, (size_t)n) > (size_t)data.len || row_start(&r, (size_t)n) < row_start(&r, 0))) {
        PyErr_SetString(PyExc_ValueError, "add: offsets beyond the data");
        goto done;
    }
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = code_rows(t, &r, (size_t)n, out.buf);
    Py_END_ALLOW_THREADS
    if (!ok) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyLong_FromSize_t(t->count);
done:
    if (offsets.obj) PyBuffer_Release(&offsets);
    if (data.obj) PyBuffer_Release(&data);
    if (out.obj) PyBuffer_Release(&out);
    if (got_valid) PyBuffer_Release(&valid);
    return result;
}

/* untrimmed(offsets, data, valid): whether some non-empty, valid row begins or ends with a byte at or below
 * ' ' or at or above 0x7F (white space, or a non-ASCII byte that may begin or end a Unicode space): only then
 * can trimming change an ID. */
static PyObject *untrimmed(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *offsets_obj, *data_obj, *valid_obj;
    if (!PyArg_ParseTuple(args, "OOO", &offsets_obj, &data_obj, &valid_obj)) return NULL;
    Py_buffer offsets = {0}, data = {0}, valid = {0};
    PyObject *result = NULL;
    int got_valid = 0;
    if (!buffer_of(offsets_obj, &offsets, PyBUF_FORMAT) || !buffer_of(data_obj, &data, PyBUF_SIMPLE)) goto done;
    if (valid_obj != Py_None) {
        if (!buffer_of(valid_obj, &valid, PyBUF_SIMPLE)) goto done;
        got_valid = 1;
    }
    Py_ssize_t width = offsets.itemsize, n = offsets.len / (width ? width : 1) - 1;
    if ((width != 4 && width != 8) || n < 0 || (got_valid && valid.len < n)) {
        PyErr_SetString(PyExc_ValueError, "untrimmed: bad buffers");
        goto done;
    }
    Rows r = {data.buf, offsets.buf, width == 8, got_valid ? valid.buf : NULL};
    int found = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n && !found; i++) {
        size_t a = row_start(&r, (size_t)i), b = row_start(&r, (size_t)i + 1);
        if (a == b || (r.valid && !r.valid[i]) || b > (size_t)data.len) continue;
        uint8_t first = r.data[a], last = r.data[b - 1];
        found = first <= 0x20 || first >= 0x7F || last <= 0x20 || last >= 0x7F;
    }
    Py_END_ALLOW_THREADS
    result = PyBool_FromLong(found);
done:
    if (offsets.obj) PyBuffer_Release(&offsets);
    if (data.obj) PyBuffer_Release(&data);
    if (got_valid) PyBuffer_Release(&valid);
    return result;
}

/* export(): the distinct IDs by code, as (offsets: int64 bytes, count + 1 of them; data: bytes). */
static PyObject *export(IdTable *t, PyObject *Py_UNUSED(ignored)) {
    size_t bytes = t->arena_len - t->count * HEADER;
    PyObject *offsets = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)((t->count + 1) * sizeof(int64_t)));
    PyObject *data = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)bytes);
    if (!offsets || !data) {
        Py_XDECREF(offsets);
        Py_XDECREF(data);
        return NULL;
    }
    int64_t *off = (int64_t *)PyBytes_AS_STRING(offsets);
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(data);
    size_t done = 0, c = 0;
    off[0] = 0;
    for (size_t at = 0; at < t->arena_len; c++) {
        uint32_t n = record_u32(t->arena + at, 0);
        memcpy(out + done, t->arena + at + HEADER, n);
        done += n;
        off[c + 1] = (int64_t)done;
        at += HEADER + n;
    }
    return Py_BuildValue("(NN)", offsets, data);
}

/* drop_index(): let the index go (the IDs' bytes stay, for export); adding then fails. */
static PyObject *drop_index(IdTable *t, PyObject *Py_UNUSED(ignored)) {
    free_slots(t->slots, t->nslots);
    t->slots = NULL;
    t->nslots = 0;
    Py_RETURN_NONE;
}

/* reserve(codes, bytes): room for this many more IDs of this many bytes in all, at once (the caller's first
 * input brings mostly new IDs: room for all of them saves placing every record anew at each doubling;
 * pages of the arena never written take no memory). */
static PyObject *reserve_method(IdTable *t, PyObject *args) {
    Py_ssize_t codes, bytes;
    if (!PyArg_ParseTuple(args, "nn", &codes, &bytes)) return NULL;
    if (codes < 0 || bytes < 0 || !t->slots) {
        PyErr_SetString(PyExc_ValueError, "reserve: bad arguments");
        return NULL;
    }
    if (!reserve(t, (size_t)codes, (size_t)bytes)) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *table_count(IdTable *t, void *Py_UNUSED(closure)) { return PyLong_FromSize_t(t->count); }

static PyObject *table_nbytes(IdTable *t, void *Py_UNUSED(closure)) {
    return PyLong_FromSize_t(t->nslots * sizeof(uint64_t) + t->arena_len);
}

static int table_init(IdTable *t, PyObject *args, PyObject *kwds) {
    static char *names[] = {"hash_bits", NULL};
    int bits = 64;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|i", names, &bits)) return -1;
    if (bits < 0 || bits > 64) {
        PyErr_SetString(PyExc_ValueError, "hash_bits must be in [0, 64]");
        return -1;
    }
    free_slots(t->slots, t->nslots);
    arena_free(t->arena, t->arena_cap);
    t->hash_mask = bits == 64 ? ~0ULL : ((1ULL << bits) - 1);
    t->nslots = 1024;
    t->slots = new_slots(t->nslots);
    t->arena_cap = 2u << 20;
    t->arena = arena_resize(NULL, 0, t->arena_cap);
    t->count = t->arena_len = 0;
    if (!t->slots || !t->arena) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static PyObject *add_checked(IdTable *t, PyObject *args) {
    if (!t->slots) {
        PyErr_SetString(PyExc_RuntimeError, "add: the index was dropped");
        return NULL;
    }
    return add(t, args);
}

static void table_dealloc(IdTable *t) {
    free_slots(t->slots, t->nslots);
    arena_free(t->arena, t->arena_cap);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyMethodDef table_methods[] = {
    {"add", (PyCFunction)add_checked, METH_VARARGS, "Code every row of one Arrow string chunk (see the C source)."},
    {"reserve", (PyCFunction)reserve_method, METH_VARARGS, "Room for (codes, bytes) more at once."},
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
    {"untrimmed", untrimmed, METH_VARARGS, "Whether trimming may change some ID (see the C source)."},
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
