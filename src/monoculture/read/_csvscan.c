/* One pass over a CSV file's bytes for the streaming link: IDs straight to numbers, every other wanted
 * column to small per-file codes of its distinct raw values.
 *
 * It reads a deliberately narrow subset of CSV and declines (returns a reason) on anything else, so that
 * the caller parses the file with Arrow instead; within the subset it splits fields exactly as Arrow's
 * reader does with monoculture's options (RFC 4180 quoting, "" as an escaped quote, empty lines
 * skipped). Values are not interpreted here: the caller hands each column's distinct raw values to Arrow,
 * which gives them the types, nulls and text a full parse would give. Declined: a line break or a
 * carriage return inside a quoted value, a bare carriage return, a quote inside an unquoted value or
 * text after a closing quote, a row with another number of fields than the header, and IDs outside the
 * forms `ids.parse_dense` codes densely.
 *
 * The GIL is released while the bytes are scanned, so a scan runs beside the linking of another input.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIGITS 18 /* decimal digits that always fit in an int64 (ids._MAX_WIDTH) */

enum { SKIP = 0, VALUES = 1, IDENT = 2 };

/* An open-addressing map from 64-bit words to codes: short values packed into a word, and combinations of
 * a row's value codes packed into a word. */
typedef struct {
    uint64_t *keys;
    int32_t *codes; /* code + 1; 0 = an empty slot */
    size_t nslots, count;
} WordMap;

static int wordmap_init(WordMap *m) {
    m->nslots = 64;
    m->count = 0;
    m->keys = malloc(m->nslots * sizeof(uint64_t));
    m->codes = calloc(m->nslots, sizeof(int32_t));
    return m->keys && m->codes;
}

static void wordmap_free(WordMap *m) {
    free(m->keys);
    free(m->codes);
}

static inline size_t word_slot(uint64_t key, size_t nslots) {
    key ^= key >> 29;
    return (size_t)((key * 0x9E3779B97F4A7C15ULL) >> 32) & (nslots - 1);
}

/* The slot holding `key`, or the empty slot where it goes. */
static inline size_t wordmap_find(const WordMap *m, uint64_t key) {
    size_t s = word_slot(key, m->nslots);
    while (m->codes[s] && m->keys[s] != key) s = (s + 1) & (m->nslots - 1);
    return s;
}

/* Put key -> code in the empty slot s that `wordmap_find` gave; 0 when memory runs out. */
static int wordmap_put(WordMap *m, size_t s, uint64_t key, int32_t code) {
    m->keys[s] = key;
    m->codes[s] = code + 1;
    if (++m->count * 2 <= m->nslots) return 1;
    size_t nslots = m->nslots * 2;
    uint64_t *keys = malloc(nslots * sizeof(uint64_t));
    int32_t *codes = calloc(nslots, sizeof(int32_t));
    if (!keys || !codes) {
        free(keys);
        free(codes);
        return 0;
    }
    for (size_t i = 0; i < m->nslots; i++) {
        if (!m->codes[i]) continue;
        size_t t = word_slot(m->keys[i], nslots);
        while (codes[t]) t = (t + 1) & (nslots - 1);
        keys[t] = m->keys[i];
        codes[t] = m->codes[i];
    }
    wordmap_free(m);
    m->keys = keys;
    m->codes = codes;
    m->nslots = nslots;
    return 1;
}

/* The distinct raw values of one column: an open-addressing table of codes into an arena of bytes. */
typedef struct {
    char *arena;
    size_t arena_used, arena_size;
    size_t *start; /* per code: offset of its bytes in the arena */
    size_t *len;
    Py_ssize_t count, capacity;
    int32_t *slots; /* code + 1; 0 = empty */
    size_t nslots;
    /* Values of at most 7 bytes, packed with their length into one word: found without comparing bytes
     * (most decisions, labels and group values are this short). */
    WordMap shorts;
    int32_t one[256]; /* code + 1 of each one-byte value (0/1 decisions, letter codes): no hashing */
} Values;

typedef struct {
    int form; /* 0: not yet known; 1: prefix + fixed number of digits; 2: digits only, any width */
    char prefix[64];
    size_t prefix_len, width;
    int64_t lo, hi;
    Py_ssize_t present;
    size_t min_len, max_len;
    int leading_zero; /* digits-only: some ID has a leading zero (so the IDs are text, not integers) */
} Ident;

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001B3ULL;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    return h;
}

static int values_init(Values *v) {
    memset(v, 0, sizeof(*v));
    v->arena_size = 1024;
    v->capacity = 16;
    v->nslots = 64;
    v->arena = malloc(v->arena_size);
    v->start = malloc(v->capacity * sizeof(size_t));
    v->len = malloc(v->capacity * sizeof(size_t));
    v->slots = calloc(v->nslots, sizeof(int32_t));
    int shorts = wordmap_init(&v->shorts);
    return v->arena && v->start && v->len && v->slots && shorts;
}

static void values_free(Values *v) {
    free(v->arena);
    free(v->start);
    free(v->len);
    free(v->slots);
    wordmap_free(&v->shorts);
}

static int values_rehash(Values *v) {
    size_t nslots = v->nslots * 2;
    int32_t *slots = calloc(nslots, sizeof(int32_t));
    if (!slots) return 0;
    for (Py_ssize_t c = 0; c < v->count; c++) {
        size_t s = hash_bytes(v->arena + v->start[c], v->len[c]) & (nslots - 1);
        while (slots[s]) s = (s + 1) & (nslots - 1);
        slots[s] = (int32_t)(c + 1);
    }
    free(v->slots);
    v->slots = slots;
    v->nslots = nslots;
    return 1;
}

static int32_t values_add(Values *v, const char *p, size_t n, size_t s);

/* The code of the value p[0..n), adding it if new; -1 when memory runs out or codes overflow. */
static inline int32_t values_code(Values *v, const char *p, size_t n, size_t room) {
    if (n == 1 && v->one[(unsigned char)p[0]]) return v->one[(unsigned char)p[0]] - 1;
    if (n <= 7) {
        uint64_t key;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (room >= 8) { /* one load, the bytes past the value masked off */
            memcpy(&key, p, 8);
            key = (key & ((1ULL << (8 * n)) - 1)) | (uint64_t)n << 56;
        } else
#endif
        {
            key = (uint64_t)n << 56;
            for (size_t i = 0; i < n; i++) key |= (uint64_t)(unsigned char)p[i] << (8 * i);
        }
        size_t s = wordmap_find(&v->shorts, key);
        if (v->shorts.codes[s]) return v->shorts.codes[s] - 1;
        size_t h = hash_bytes(p, n) & (v->nslots - 1);
        while (v->slots[h]) h = (h + 1) & (v->nslots - 1); /* new: no short key matched */
        int32_t c = values_add(v, p, n, h);
        if (c < 0 || !wordmap_put(&v->shorts, s, key, c)) return -1;
        if (n == 1) v->one[(unsigned char)p[0]] = c + 1;
        return c;
    }
    size_t s = hash_bytes(p, n) & (v->nslots - 1);
    while (v->slots[s]) {
        int32_t c = v->slots[s] - 1;
        if (v->len[c] == n && memcmp(v->arena + v->start[c], p, n) == 0) return c;
        s = (s + 1) & (v->nslots - 1);
    }
    return values_add(v, p, n, s);
}

/* Add the new value p[0..n) under code `count`, in slot s of the byte-compared table. */
static int32_t values_add(Values *v, const char *p, size_t n, size_t s) {
    if (v->count >= INT32_MAX - 1) return -1;
    if (v->count == v->capacity) {
        Py_ssize_t cap = v->capacity * 2;
        size_t *start = realloc(v->start, cap * sizeof(size_t));
        if (!start) return -1;
        v->start = start;
        size_t *len = realloc(v->len, cap * sizeof(size_t));
        if (!len) return -1;
        v->len = len;
        v->capacity = cap;
    }
    if (v->arena_used + n > v->arena_size) {
        size_t size = v->arena_size;
        while (v->arena_used + n > size) size *= 2;
        char *arena = realloc(v->arena, size);
        if (!arena) return -1;
        v->arena = arena;
        v->arena_size = size;
    }
    memcpy(v->arena + v->arena_used, p, n);
    int32_t c = (int32_t)v->count++;
    v->start[c] = v->arena_used;
    v->len[c] = n;
    v->arena_used += n;
    v->slots[s] = c + 1;
    if ((size_t)v->count * 2 > v->nslots && !values_rehash(v)) return -1;
    return c;
}

/* The distinct combinations of a row's value codes (one per values column), each packed into one word of
 * `bits` bits a column: per row, one code for the whole tuple. Off (`bits` 0) when a code outgrows its
 * bits; the caller then works from the columns' codes alone. */
#define SMALL_BITS 4 /* a row whose value codes are all below 16, in at most 4 columns: a direct table */
#define SMALL_COLUMNS 4

typedef struct {
    int bits;
    int32_t *small; /* (1 << 16) slots: code + 1 of the combination packed SMALL_BITS a column; 0 = none */
    uint64_t *keys; /* by code */
    Py_ssize_t capacity;
    WordMap map;
} Combos;

static int combos_init(Combos *c, Py_ssize_t nvalues) {
    memset(c, 0, sizeof(*c));
    c->bits = nvalues ? (int)(64 / nvalues) : 0;
    if (c->bits > 32) c->bits = 32;
    c->capacity = 16;
    c->keys = malloc(c->capacity * sizeof(uint64_t));
    c->small = nvalues <= SMALL_COLUMNS ? calloc((size_t)1 << (SMALL_BITS * SMALL_COLUMNS), sizeof(int32_t)) : NULL;
    return wordmap_init(&c->map) && c->keys && (nvalues > SMALL_COLUMNS || c->small);
}

static void combos_free(Combos *c) {
    free(c->small);
    free(c->keys);
    wordmap_free(&c->map);
}

/* The code of the combination `key`, adding it if new; -1 when memory runs out. */
static inline int32_t combos_code(Combos *c, uint64_t key) {
    size_t s = wordmap_find(&c->map, key);
    if (c->map.codes[s]) return c->map.codes[s] - 1;
    int32_t code = (int32_t)c->map.count;
    if (code == c->capacity) {
        uint64_t *keys = realloc(c->keys, 2 * c->capacity * sizeof(uint64_t));
        if (!keys) return -1;
        c->keys = keys;
        c->capacity *= 2;
    }
    c->keys[code] = key;
    return wordmap_put(&c->map, s, key, code) ? code : -1;
}

typedef struct {
    const char **items;
    size_t *lens;
    Py_ssize_t n;
} Nulls;

static int is_null(const Nulls *nulls, const char *p, size_t n) {
    for (Py_ssize_t i = 0; i < nulls->n; i++)
        if (nulls->lens[i] == n && memcmp(nulls->items[i], p, n) == 0) return 1;
    return 0;
}

/* The number written by the n ASCII digits at p (n <= 18) into *out; 0 if some byte is not a digit.
 * Eight digits at a time as one little-endian word: checked in three word operations, then combined in
 * three multiply-shift-mask steps (the SWAR parse ids._decimal does with NumPy). */
static inline int parse_digits(const char *p, size_t n, int64_t *out) {
    uint64_t x = 0;
    size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if ((w & 0xF0F0F0F0F0F0F0F0ULL) != 0x3030303030303030ULL ||
            ((w + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) != 0x3030303030303030ULL)
            return 0;
        w -= 0x3030303030303030ULL;
        w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFULL;
        w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFULL;
        w = (w * 10000 + (w >> 32)) & 0xFFFFFFFFULL;
        x = x * 100000000ULL + w;
    }
#endif
    for (; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';
        if (d > 9) return 0;
        x = x * 10 + d;
    }
    *out = (int64_t)x;
    return 1;
}

static inline int same_prefix(const char *p, const char *prefix, size_t n) {
    for (size_t i = 0; i < n; i++) /* short: a loop, not a call to memcmp */
        if (p[i] != prefix[i]) return 0;
    return 1;
}

/* Fix the form from the first ID (as ids._shape does); 0 when it has no form the dense route codes. */
static int ident_form(Ident *id, const char *p, size_t n) {
    size_t width = 0;
    while (width < n && p[n - 1 - width] >= '0' && p[n - 1 - width] <= '9') width++;
    size_t plen = n - width;
    if (width == 0 || width > MAX_DIGITS || plen >= sizeof(id->prefix)) return 0;
    for (size_t i = 0; i < plen; i++)
        if ((unsigned char)p[i] >= 0x80) return 0;
    /* A prefix with white space at either end is not its stripped self (ids._shape). */
    if (plen && ((unsigned char)p[0] <= ' ' || (unsigned char)p[plen - 1] <= ' ')) return 0;
    memcpy(id->prefix, p, plen);
    id->prefix_len = plen;
    id->width = width;
    id->form = plen ? 1 : 2;
    return 1;
}

/* One ID into value/mask; 0 when it does not have the form (the caller declines the file). */
static int ident_take(Ident *id, const Nulls *nulls, const char *p, size_t n, int64_t *value, uint8_t *mask) {
    if (n == 0 || (id->form == 0 && is_null(nulls, p, n))) {
        *value = 0;
        *mask = 0;
        return 1;
    }
    if (id->form == 0 && !ident_form(id, p, n)) return 0;
    int64_t x;
    if (id->form == 1) {
        if (n != id->prefix_len + id->width || !same_prefix(p, id->prefix, id->prefix_len) ||
            !parse_digits(p + id->prefix_len, id->width, &x)) {
            if (!is_null(nulls, p, n)) return 0;
            *value = 0;
            *mask = 0;
            return 1;
        }
    } else {
        if (n > MAX_DIGITS || !parse_digits(p, n, &x)) {
            if (!is_null(nulls, p, n)) return 0;
            *value = 0;
            *mask = 0;
            return 1;
        }
        if (n > 1 && p[0] == '0') id->leading_zero = 1;
        if (n < id->min_len) id->min_len = n;
        if (n > id->max_len) id->max_len = n;
    }
    if (id->present == 0 || x < id->lo) id->lo = x;
    if (id->present == 0 || x > id->hi) id->hi = x;
    id->present++;
    *value = x;
    *mask = 1;
    return 1;
}

/* Byte classes of the field splitter: 0 plain; the others end an unquoted value or matter inside a
 * quoted one. */
enum { PLAIN = 0, DELIM = 1, BREAK = 2, QUOTE = 3 };

typedef struct {
    const char *data;
    size_t size, pos;
    unsigned char cls[256];
    char *scratch; /* an unescaped copy of a quoted value holding "" (8 spare bytes: see values_code) */
    size_t scratch_size;
} Scanner;

static void scanner_init(Scanner *s, const char *data, size_t size, char delim) {
    memset(s, 0, sizeof(*s));
    s->data = data;
    s->size = size;
    s->cls[(unsigned char)delim] = DELIM;
    s->cls['\n'] = BREAK;
    s->cls['\r'] = BREAK;
    s->cls['"'] = QUOTE;
}

/* The next field: its bytes in *p, *n, with *room bytes readable from *p (at least *n); *end: 0 more
 * fields follow on this line, 1 the line ended. Returns 0 on input outside the subset (*why says what). */
static inline int next_field(Scanner *s, const char **p, size_t *n, size_t *room, int *end, const char **why) {
    const char *d = s->data;
    const unsigned char *cls = s->cls;
    size_t i = s->pos, size = s->size;
    if (i < size && d[i] == '"') {
        size_t j = i + 1, escapes = 0;
        for (;;) {
            while (j < size && (cls[(unsigned char)d[j]] & 2) == 0) j++; /* up to a quote or a line break */
            if (j >= size) {
                *why = "a quoted value runs to the end of the file";
                return 0;
            }
            if (d[j] != '"') {
                *why = "a line break inside a quoted value";
                return 0;
            }
            if (j + 1 < size && d[j + 1] == '"') {
                escapes++;
                j += 2;
                continue;
            }
            break;
        }
        /* d[i+1 .. j) is the quoted content, d[j] the closing quote. */
        if (escapes == 0) {
            *p = d + i + 1;
            *n = j - i - 1;
            *room = size - i - 1;
        } else {
            size_t need = j - i - 1 + 8;
            if (need > s->scratch_size) {
                char *grown = realloc(s->scratch, need);
                if (!grown) {
                    *why = "out of memory";
                    return 0;
                }
                s->scratch = grown;
                s->scratch_size = need;
            }
            size_t k = 0;
            for (size_t q = i + 1; q < j; q++) {
                s->scratch[k++] = d[q];
                if (d[q] == '"') q++;
            }
            *p = s->scratch;
            *n = k;
            *room = s->scratch_size;
        }
        i = j + 1;
    } else {
        size_t j = i;
        while (j < size && cls[(unsigned char)d[j]] == PLAIN) j++;
        if (j < size && d[j] == '"') {
            *why = "a quote inside an unquoted value";
            return 0;
        }
        *p = d + i;
        *n = j - i;
        *room = size - i;
        i = j;
    }
    if (i >= size) {
        *end = 1;
        s->pos = i;
        return 1;
    }
    unsigned char c = cls[(unsigned char)d[i]];
    if (c == DELIM) {
        *end = 0;
        s->pos = i + 1;
        return 1;
    }
    if (d[i] == '\n') {
        *end = 1;
        s->pos = i + 1;
        return 1;
    }
    if (d[i] == '\r' && i + 1 < size && d[i + 1] == '\n') {
        *end = 1;
        s->pos = i + 2;
        return 1;
    }
    *why = d[i] == '\r' ? "a carriage return that does not end a line" : "text after a closing quote";
    return 0;
}

static PyObject *values_list(const Values *v) {
    PyObject *list = PyList_New(v->count);
    if (!list) return NULL;
    for (Py_ssize_t c = 0; c < v->count; c++) {
        PyObject *b = PyBytes_FromStringAndSize(v->arena + v->start[c], (Py_ssize_t)v->len[c]);
        if (!b) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, c, b);
    }
    return list;
}

/* The scan itself, without the GIL. Returns the number of rows, or -1 with *why set. */
static Py_ssize_t scan_rows(Scanner *s, Py_ssize_t ncols, const char *actions, Values *values, int32_t **codes,
                            Combos *combos, int32_t *combo_out, Ident *id, const Nulls *nulls, int64_t *id_value,
                            uint8_t *id_mask, Py_ssize_t max_rows, const char **why) {
    Py_ssize_t row = 0;
    while (s->pos < s->size) {
        const char c0 = s->data[s->pos];
        if (c0 == '\n') { /* an empty line: Arrow skips it */
            s->pos++;
            continue;
        }
        if (c0 == '\r' && s->pos + 1 < s->size && s->data[s->pos + 1] == '\n') {
            s->pos += 2;
            continue;
        }
        if (row >= max_rows) {
            *why = "more rows than the output buffers hold";
            return -1;
        }
        Py_ssize_t v = 0;
        uint64_t key = 0;
        uint32_t small = 0, big = combos->small == NULL; /* big: some code outgrows SMALL_BITS */
        for (Py_ssize_t col = 0; col < ncols; col++) {
            const char *p;
            size_t n, room;
            int end;
            if (!next_field(s, &p, &n, &room, &end, why)) return -1;
            if (end != (col == ncols - 1)) {
                *why = "a row with another number of fields than the header";
                return -1;
            }
            if (actions[col] == VALUES) {
                int32_t code = values_code(&values[v], p, n, room);
                if (code < 0) {
                    *why = "out of memory";
                    return -1;
                }
                codes[v][row] = code;
                if (combos->bits) {
                    if ((uint64_t)code >> combos->bits) combos->bits = 0; /* outgrown: off from here on */
                    else key |= (uint64_t)code << (combos->bits * v);
                    big |= (uint32_t)code >> SMALL_BITS;
                    small |= (uint32_t)code << (SMALL_BITS * v);
                }
                v++;
            } else if (actions[col] == IDENT) {
                if (!ident_take(id, nulls, p, n, id_value + row, id_mask + row)) {
                    *why = "IDs outside the dense forms";
                    return -1;
                }
            }
        }
        if (combos->bits) {
            int32_t combo;
            if (!big && combos->small[small]) /* a combination of small codes is only ever coded here */
                combo = combos->small[small] - 1;
            else if ((combo = combos_code(combos, key)) >= 0 && !big)
                combos->small[small] = combo + 1;
            if (combo < 0) {
                *why = "out of memory";
                return -1;
            }
            combo_out[row] = combo;
        }
        row++;
    }
    return row;
}

static int writable(PyObject *obj, Py_buffer *view, Py_ssize_t min_bytes) {
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS) < 0) return 0;
    if (view->len < min_bytes) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_ValueError, "output buffer too small");
        return 0;
    }
    return 1;
}

/* scan(data, start, delimiter, actions, nulls, codes_out, id_value, id_mask, combo_out)
 *
 * data: the CSV bytes; start: the offset of the first data row (after the header line); actions: one byte
 * per header column (0 skip, 1 values, 2 the ID; exactly one ID); nulls: the byte strings Arrow reads as
 * null (an ID equal to one is missing); codes_out: one writable int32 buffer per values column, in column
 * order; id_value (int64), id_mask (bool) and combo_out (int32): writable buffers. Rows beyond what every
 * buffer holds are declined: a row takes at least one byte per column (its delimiters and line break), so
 * (bytes + 1) / columns + 1 items always suffice.
 *
 * Returns (rows, values, id, combos): values, per values column, its distinct raw values by code; id None
 * when no row has an ID, else (prefix, width, lo, hi, leading_zero, min_len, max_len); combos None, or
 * (bits, keys) with keys the distinct combinations of a row's value codes by combination code, packed `bits`
 * bits a column into native uint64 words (combo_out then holds each row's combination). Or a str saying
 * why the file is declined.
 */
static PyObject *scan(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer data = {0}, actions_buf = {0};
    Py_ssize_t start;
    int delim;
    PyObject *nulls_obj, *codes_obj, *outs[3]; /* id_value, id_mask, combo_out */
    if (!PyArg_ParseTuple(args, "y*niy*OOOOO", &data, &start, &delim, &actions_buf, &nulls_obj, &codes_obj,
                          &outs[0], &outs[1], &outs[2]))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t ncols = actions_buf.len, nvalues = 0, nids = 0;
    const char *actions = actions_buf.buf;
    for (Py_ssize_t i = 0; i < ncols; i++) {
        if (actions[i] == VALUES) nvalues++;
        else if (actions[i] == IDENT) nids++;
    }
    size_t slots = (size_t)(nvalues ? nvalues : 1);
    Values *values = calloc(slots, sizeof(Values));
    int32_t **codes = calloc(slots, sizeof(int32_t *));
    Py_buffer *code_views = calloc(slots, sizeof(Py_buffer));
    Py_buffer out_views[3];
    int got_outs = 0;
    Py_ssize_t got_views = 0, inited = 0;
    Nulls nulls = {0};
    Combos combos;
    int combos_ok = combos_init(&combos, nvalues);
    Scanner s;
    memset(&s, 0, sizeof(s));
    if (!values || !codes || !code_views || !combos_ok) {
        PyErr_NoMemory();
        goto done;
    }
    if (nids != 1 || start < 0 || start > data.len || !PyList_Check(codes_obj) ||
        PyList_GET_SIZE(codes_obj) != nvalues || !PyTuple_Check(nulls_obj)) {
        PyErr_SetString(PyExc_ValueError, "scan: bad arguments");
        goto done;
    }
    for (; got_outs < 3; got_outs++)
        if (!writable(outs[got_outs], &out_views[got_outs], 0)) goto done;
    Py_ssize_t max_rows = out_views[1].len;
    if (out_views[0].len / 8 < max_rows) max_rows = out_views[0].len / 8;
    if (out_views[2].len / 4 < max_rows) max_rows = out_views[2].len / 4;
    for (; got_views < nvalues; got_views++) {
        if (!writable(PyList_GET_ITEM(codes_obj, got_views), &code_views[got_views], 0)) goto done;
        codes[got_views] = code_views[got_views].buf;
        if (code_views[got_views].len / 4 < max_rows) max_rows = code_views[got_views].len / 4;
    }
    nulls.n = PyTuple_GET_SIZE(nulls_obj);
    nulls.items = calloc(nulls.n ? nulls.n : 1, sizeof(char *));
    nulls.lens = calloc(nulls.n ? nulls.n : 1, sizeof(size_t));
    if (!nulls.items || !nulls.lens) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nulls.n; i++) {
        PyObject *item = PyTuple_GET_ITEM(nulls_obj, i);
        if (!PyBytes_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "scan: nulls must be bytes");
            goto done;
        }
        nulls.items[i] = PyBytes_AS_STRING(item);
        nulls.lens[i] = (size_t)PyBytes_GET_SIZE(item);
    }
    for (; inited < nvalues; inited++) {
        if (!values_init(&values[inited])) {
            inited++;
            PyErr_NoMemory();
            goto done;
        }
    }
    Ident id;
    memset(&id, 0, sizeof(id));
    id.min_len = (size_t)-1;
    scanner_init(&s, (const char *)data.buf + start, (size_t)(data.len - start), (char)delim);
    const char *why = NULL;
    Py_ssize_t rows;
    Py_BEGIN_ALLOW_THREADS
    rows = scan_rows(&s, ncols, actions, values, codes, &combos, out_views[2].buf, &id, &nulls, out_views[0].buf,
                     out_views[1].buf, max_rows, &why);
    Py_END_ALLOW_THREADS
    if (rows < 0) {
        if (why && strcmp(why, "out of memory") == 0) PyErr_NoMemory();
        else result = PyUnicode_FromString(why ? why : "declined");
        goto done;
    }
    PyObject *lists = PyList_New(nvalues), *ident = NULL, *combo = NULL;
    if (!lists) goto done;
    for (Py_ssize_t v = 0; v < nvalues; v++) {
        PyObject *list = values_list(&values[v]);
        if (!list) {
            Py_DECREF(lists);
            goto done;
        }
        PyList_SET_ITEM(lists, v, list);
    }
    if (id.present == 0)
        ident = Py_NewRef(Py_None);
    else
        ident = Py_BuildValue("(y#nLLinn)", id.prefix, (Py_ssize_t)id.prefix_len, (Py_ssize_t)id.width,
                              (long long)id.lo, (long long)id.hi, id.leading_zero, (Py_ssize_t)id.min_len,
                              (Py_ssize_t)id.max_len);
    if (combos.bits == 0 || nvalues == 0)
        combo = Py_NewRef(Py_None);
    else
        combo = Py_BuildValue("(iy#)", combos.bits, (const char *)combos.keys,
                              (Py_ssize_t)(combos.map.count * sizeof(uint64_t)));
    if (!ident || !combo) {
        Py_DECREF(lists);
        Py_XDECREF(ident);
        Py_XDECREF(combo);
        goto done;
    }
    result = Py_BuildValue("(nNNN)", rows, lists, ident, combo);
done:
    for (Py_ssize_t v = 0; v < inited; v++) values_free(&values[v]);
    for (Py_ssize_t v = 0; v < got_views; v++) PyBuffer_Release(&code_views[v]);
    for (int o = 0; o < got_outs; o++) PyBuffer_Release(&out_views[o]);
    combos_free(&combos);
    free(values);
    free(codes);
    free(code_views);
    free(nulls.items);
    free(nulls.lens);
    free(s.scratch);
    PyBuffer_Release(&data);
    PyBuffer_Release(&actions_buf);
    return result;
}

/* header(data, delimiter): the first line's fields (raw bytes) and the offset of the line after it, split
 * as the rows are; or a str saying why the file is declined. */
static PyObject *header(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer data;
    int delim;
    if (!PyArg_ParseTuple(args, "y*i", &data, &delim)) return NULL;
    Scanner s;
    scanner_init(&s, data.buf, (size_t)data.len, (char)delim);
    PyObject *fields = PyList_New(0), *result = NULL;
    const char *why = NULL;
    if (!fields) goto done;
    if (s.size == 0 || s.data[0] == '\n' || s.data[0] == '\r') {
        result = PyUnicode_FromString("no header on the first line");
        goto done;
    }
    for (int end = 0; !end;) {
        const char *p;
        size_t n, room;
        if (!next_field(&s, &p, &n, &room, &end, &why)) {
            result = PyUnicode_FromString(why);
            goto done;
        }
        PyObject *b = PyBytes_FromStringAndSize(p, (Py_ssize_t)n);
        if (!b || PyList_Append(fields, b) < 0) {
            Py_XDECREF(b);
            goto done;
        }
        Py_DECREF(b);
    }
    result = Py_BuildValue("(On)", fields, (Py_ssize_t)s.pos);
done:
    Py_XDECREF(fields);
    free(s.scratch);
    PyBuffer_Release(&data);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_VARARGS, "Scan CSV bytes: IDs to numbers, other wanted columns to codes (see the C source)."},
    {"header", header, METH_VARARGS, "The first line's fields and the offset after it (see the C source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_csvscan", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__csvscan(void) { return PyModule_Create(&module); }
