/* The Poisson-binomial recursion of `ecosystem.poisson_binomial_pmf`, one row of probabilities at a time.
 *
 * For each row r of p (n rows of k probabilities, row-major) the masses P(0..size-1) of the number of
 * successes, by P_j(m) = P_{j-1}(m)·(1 − p_j) + P_{j-1}(m − 1)·p_j over j = 0..k-1. Each step is the
 * same two products and one sum, rounded the same way, as the NumPy version's (no fused multiply-add:
 * setup.py compiles this file with -ffp-contract=off), so the two give the same bits; the tests hold
 * them to that. NumPy runs each step over a block of rows; here a row's k + 1 masses stay in L1 cache
 * through all k steps, and the GIL is released while they are computed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

static int view(PyObject *obj, Py_buffer *v, int flags, const char *what) {
    if (PyObject_GetBuffer(obj, v, flags | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return 0;
    if (v->itemsize != sizeof(double) || v->format == NULL || v->format[0] != 'd' || v->format[1] != '\0') {
        PyBuffer_Release(v);
        PyErr_Format(PyExc_TypeError, "%s must be contiguous float64", what);
        return 0;
    }
    return 1;
}

/* pmf(p, k, out, size): p holds n·k doubles, out n·size doubles (written). */
static PyObject *pmf(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *p_obj, *out_obj;
    Py_ssize_t k, size;
    if (!PyArg_ParseTuple(args, "OnOn", &p_obj, &k, &out_obj, &size)) return NULL;
    if (k < 0 || size < 1) return PyErr_Format(PyExc_ValueError, "need k >= 0 and size >= 1");
    Py_buffer p = {0}, out = {0};
    if (!view(p_obj, &p, PyBUF_SIMPLE, "p")) return NULL;
    if (!view(out_obj, &out, PyBUF_WRITABLE, "out")) {
        PyBuffer_Release(&p);
        return NULL;
    }
    Py_ssize_t n = k ? (Py_ssize_t)(p.len / sizeof(double)) / k : (Py_ssize_t)(out.len / sizeof(double)) / size;
    if ((k && n * k * (Py_ssize_t)sizeof(double) != p.len) || n * size * (Py_ssize_t)sizeof(double) != out.len) {
        PyBuffer_Release(&p);
        PyBuffer_Release(&out);
        return PyErr_Format(PyExc_ValueError, "p and out do not hold the same number of rows");
    }
    Py_ssize_t width = size > k + 1 ? size : k + 1;
    double *mass = malloc((size_t)width * sizeof(double));
    if (mass == NULL) {
        PyBuffer_Release(&p);
        PyBuffer_Release(&out);
        return PyErr_NoMemory();
    }
    const double *prob = (const double *)p.buf;
    double *dst = (double *)out.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < n; r++) {
        const double *pr = prob + r * k;
        mass[0] = 1.0;
        for (Py_ssize_t m = 1; m < width; m++) mass[m] = 0.0;
        for (Py_ssize_t j = 0; j < k; j++) {
            double pj = pr[j], qj = 1.0 - pj;
            for (Py_ssize_t m = j + 1; m >= 1; m--) {
                double kept = mass[m] * qj, moved = mass[m - 1] * pj;
                mass[m] = kept + moved;
            }
            mass[0] *= qj;
        }
        for (Py_ssize_t m = 0; m < size; m++) dst[r * size + m] = mass[m];
    }
    Py_END_ALLOW_THREADS
    free(mass);
    PyBuffer_Release(&p);
    PyBuffer_Release(&out);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"pmf", pmf, METH_VARARGS, "pmf(p, k, out, size): the Poisson-binomial masses of each row (see the C source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_pmf", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__pmf(void) { return PyModule_Create(&module); }
