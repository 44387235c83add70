/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kdcom.i - SWIG interface for libkdcom: the low-level module kdcom.capi
 * (C extension kdcom._kdcom).
 *
 * The declarations come from include/kdcom.h itself, plus the KD message
 * numbers, sizes and names of include/kdcom_kd.h (kdcom.kd builds on
 * them); this file only adds the glue that a C prototype cannot express:
 *
 *   - byte-in pairs (const uint8_t *in, size_t len) and friends take any
 *     object with the buffer protocol (bytes, bytearray, memoryview, ...);
 *   - byte-out pairs (uint8_t *out, size_t cap) take a capacity and return
 *     a new bytes object of the length the call reported;
 *   - integer arguments name themselves when they are wrong: a non-int is
 *     a TypeError, a value outside the C type a ValueError, both saying
 *     "kdcom_encode_data() argument 'id' ..." (SWIG alone raises an
 *     OverflowError about "argument 4 of type 'uint32_t'");
 *   - negative kdcom_err returns raise kdcom.errors.KdcomError(code, text);
 *   - pointers the library hands out (event and frame payloads, the stats
 *     block) live inside the link or parser and die with the next call, so
 *     they are copied into Python objects before the wrapper returns.
 *
 * Private members of the engine's structures are not exposed: Python code
 * reaches them through the accessor functions, as C code must.  No
 * callbacks, no directors.
 */
%module(package="kdcom", docstring="libkdcom's C API (include/kdcom.h) as SWIG sees it; see docs/python.md for how byte buffers, errors and borrowed pointers map to Python.") capi

/* Every wrapper gets a docstring with its Python signature and types. */
%feature("autodoc", "1");

%{
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kdcom.h"
#include "kdcom_kd.h"

/* Raises kdcom.errors.KdcomError(code, kdcom_strerror(code)).  The class is
 * defined in pure Python so it can carry the enum and be subclassed; it is
 * looked up on each error (sys.modules makes that cheap). */
static void kdcom_py_raise(int code)
{
    PyObject *mod = PyImport_ImportModule("kdcom.errors");
    PyObject *cls = NULL;
    PyObject *exc;

    if (mod != NULL) {
        cls = PyObject_GetAttrString(mod, "KdcomError");
        Py_DECREF(mod);
    }
    if (cls == NULL) {
        /* The package is broken; still report the code. */
        PyErr_Clear();
        PyErr_Format(PyExc_RuntimeError, "libkdcom error %d: %s", code,
                     kdcom_strerror(code));
        return;
    }
    exc = PyObject_CallFunction(cls, "is", code, kdcom_strerror(code));
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    Py_DECREF(cls);
}

/* A read-only, C-contiguous view of any buffer-protocol object, or None as
 * "no bytes".  Returns 0 on success, -1 with a Python error set. */
static int kdcom_py_getbuf(PyObject *obj, Py_buffer *view, int *have)
{
    *have = 0;
    if (obj == Py_None) {
        memset(view, 0, sizeof(*view));
        return 0;
    }
    if (PyUnicode_Check(obj)) {
        /* str has no buffer, but say why in KDCOM terms. */
        PyErr_SetString(PyExc_TypeError,
                        "expected a bytes-like object (bytes, bytearray, "
                        "memoryview), not str: encode it first");
        return -1;
    }
    if (PyObject_GetBuffer(obj, view, PyBUF_SIMPLE) != 0)
        return -1;
    *have = 1;
    return 0;
}

/* A capacity argument: an int in [0, INT_MAX] (the library never returns
 * more than INT_MAX bytes from one call). */
static int kdcom_py_getcap(PyObject *obj, size_t *cap)
{
    Py_ssize_t v;

    if (!PyLong_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "capacity must be an int");
        return -1;
    }
    v = PyLong_AsSsize_t(obj);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < 0 || v > INT_MAX) {
        PyErr_Format(PyExc_ValueError, "capacity %zd out of range 0..%d", v,
                     INT_MAX);
        return -1;
    }
    *cap = (size_t)v;
    return 0;
}

/* An integer argument of a C function: an int (bool included, as SWIG
 * takes it) in [0, max].  Anything else raises TypeError or ValueError
 * naming the function and the C parameter.  Returns 0 on success, -1
 * with a Python error set. */
static int kdcom_py_getuint(PyObject *obj, const char *func, const char *arg,
                            unsigned long long max, unsigned long long *out)
{
    unsigned long long v;
    char bound[24];

    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be an int, not %.100s", func,
                     arg, Py_TYPE(obj)->tp_name);
        return -1;
    }
    v = PyLong_AsUnsignedLongLong(obj);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear();          /* negative or above 2**64-1 */
    } else if (v <= max) {
        *out = v;
        return 0;
    }
    /* PyErr_Format has no %llx. */
    snprintf(bound, sizeof(bound), "0x%llx", max);
    PyErr_Format(PyExc_ValueError, "%s() argument '%s' must be in 0..%s, "
                 "got %R", func, arg, bound, obj);
    return -1;
}

/* The same for a C int argument: [INT_MIN, INT_MAX]. */
static int kdcom_py_getint(PyObject *obj, const char *func, const char *arg,
                           int *out)
{
    long v;

    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "%s() argument '%s' must be an int, not %.100s", func,
                     arg, Py_TYPE(obj)->tp_name);
        return -1;
    }
    v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear();
    } else if (v >= INT_MIN && v <= INT_MAX) {
        *out = (int)v;
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "%s() argument '%s' must be in %d..%d, "
                 "got %R", func, arg, INT_MIN, INT_MAX, obj);
    return -1;
}

/* Copies len bytes at p into a new bytes object (b"" for none). */
static PyObject *kdcom_py_bytes(const uint8_t *p, uint32_t len)
{
    if (p == NULL || len == 0)
        return PyBytes_FromStringAndSize("", 0);
    return PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)len);
}
%}

%include <stdint.i>

/* ---- integer arguments ------------------------------------------------- */

/* After stdint.i, so these replace its conversions: the error names the
 * function and the parameter ($symname, $1_name) instead of SWIG's
 * "argument N of type 'uint32_t'" OverflowError. */
%define KDCOM_UINT_IN(TYPE, MAX)
%typemap(in) TYPE (unsigned long long uval_) {
    if (kdcom_py_getuint($input, "$symname", "$1_name", MAX, &uval_) != 0)
        SWIG_fail;
    $1 = (TYPE)uval_;
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_UINT64) TYPE {
    $1 = PyLong_Check($input);
}
%enddef

KDCOM_UINT_IN(uint16_t, 0xFFFFULL)
KDCOM_UINT_IN(uint32_t, 0xFFFFFFFFULL)
KDCOM_UINT_IN(uint64_t, 0xFFFFFFFFFFFFFFFFULL)

%typemap(in) int err (int ival_) {
    if (kdcom_py_getint($input, "$symname", "$1_name", &ival_) != 0)
        SWIG_fail;
    $1 = ival_;
}

/* ---- byte-in pairs ---------------------------------------------------- */

%define KDCOM_BYTES_IN(PTR, LEN)
%typemap(in) (const uint8_t *PTR, size_t LEN)
    (Py_buffer view, int have = 0) {
    if (kdcom_py_getbuf($input, &view, &have) != 0)
        SWIG_fail;
    $1 = have ? (uint8_t *)view.buf : NULL;
    $2 = have ? (size_t)view.len : 0;
}
%typemap(freearg) (const uint8_t *PTR, size_t LEN) {
    if (have$argnum)
        PyBuffer_Release(&view$argnum);
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_STRING)
    (const uint8_t *PTR, size_t LEN) {
    $1 = $input == Py_None || PyObject_CheckBuffer($input);
}
%enddef

KDCOM_BYTES_IN(in, len)
KDCOM_BYTES_IN(head, head_len)
KDCOM_BYTES_IN(data, data_len)

/* ---- byte-out pair ---------------------------------------------------- */

/* The Python argument is the capacity; the result is the bytes written.
 * The bytes object is allocated up front and shrunk to the length the
 * call returned, so no byte is copied twice.  No call writes more than a
 * few frames (kdcom_drain: the control queue and at most two copies of
 * one data packet), so a capacity above 1 MiB is allocated as 1 MiB: the
 * result is the same and a careless cap cannot ask for gigabytes. */
%typemap(in) (uint8_t *out, size_t cap) (PyObject *outbuf = NULL) {
    size_t cap_;
    if (kdcom_py_getcap($input, &cap_) != 0)
        SWIG_fail;
    if (cap_ > ((size_t)1 << 20))
        cap_ = (size_t)1 << 20;
    outbuf = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(cap_ ? cap_ : 1));
    if (outbuf == NULL)
        SWIG_fail;
    $1 = (uint8_t *)PyBytes_AS_STRING(outbuf);
    $2 = cap_;
}
%typemap(argout) (uint8_t *out, size_t cap) {
    /* Only reached when the call succeeded (the out typemap raised
     * otherwise); result is the number of bytes written. */
    if (_PyBytes_Resize(&outbuf$argnum, (Py_ssize_t)result) != 0)
        SWIG_fail;
    Py_DECREF($result);
    $result = outbuf$argnum;
    outbuf$argnum = NULL;
}
%typemap(freearg) (uint8_t *out, size_t cap) {
    Py_XDECREF(outbuf$argnum);
}

/* ---- negative returns raise ------------------------------------------- */

%define KDCOM_CHECKED(FN)
%typemap(out) int FN {
    if ($1 < 0) {
        kdcom_py_raise($1);
        SWIG_fail;
    }
    $result = PyLong_FromLong((long)$1);
}
%enddef

KDCOM_CHECKED(kdcom_config_init)
KDCOM_CHECKED(kdcom_encode_data)
KDCOM_CHECKED(kdcom_encode_control)
KDCOM_CHECKED(kdcom_parse)
KDCOM_CHECKED(kdcom_link_init)
KDCOM_CHECKED(kdcom_link_close)
KDCOM_CHECKED(kdcom_feed)
KDCOM_CHECKED(kdcom_drain)
KDCOM_CHECKED(kdcom_want_write)
KDCOM_CHECKED(kdcom_send)
KDCOM_CHECKED(kdcom_can_send)
KDCOM_CHECKED(kdcom_cancel_send)
KDCOM_CHECKED(kdcom_next_event)
KDCOM_CHECKED(kdcom_tick)
KDCOM_CHECKED(kdcom_send_breakin)
KDCOM_CHECKED(kdcom_resync)
KDCOM_CHECKED(kdcom_take_breakin)
KDCOM_CHECKED(kdcom_expect_header)
KDCOM_CHECKED(kdcom_is_synced)

/* ---- results that point into the link or parser: copy them ------------ */

/* kdcom_next_event(link) -> (kind, event, payload): event is an owned copy
 * of struct kdcom_event (its payload pointer cleared), payload the bytes it
 * pointed to (b"" unless kind is PACKET). */
%typemap(in, numinputs=0) struct kdcom_event *ev (struct kdcom_event tmp) {
    memset(&tmp, 0, sizeof(tmp));
    $1 = &tmp;
}
%typemap(argout) struct kdcom_event *ev {
    struct kdcom_event *copy = malloc(sizeof(*copy));
    PyObject *payload, *obj, *tuple;

    if (copy == NULL) {
        PyErr_NoMemory();
        SWIG_fail;
    }
    payload = kdcom_py_bytes($1->payload, $1->len);
    if (payload == NULL) {
        free(copy);
        SWIG_fail;
    }
    *copy = *$1;
    copy->payload = NULL;
    obj = SWIG_NewPointerObj(copy, $1_descriptor, SWIG_POINTER_OWN);
    tuple = PyTuple_Pack(3, $result, obj, payload);
    Py_DECREF(obj);
    Py_DECREF(payload);
    if (tuple == NULL)
        SWIG_fail;
    Py_DECREF($result);
    $result = tuple;
}

/* kdcom_parse(parser, data) -> (consumed, frame, payload), the same way. */
%typemap(in, numinputs=0) struct kdcom_frame *frame (struct kdcom_frame tmp) {
    memset(&tmp, 0, sizeof(tmp));
    $1 = &tmp;
}
%typemap(argout) struct kdcom_frame *frame {
    struct kdcom_frame *copy = malloc(sizeof(*copy));
    PyObject *payload, *obj, *tuple;

    if (copy == NULL) {
        PyErr_NoMemory();
        SWIG_fail;
    }
    payload = kdcom_py_bytes($1->payload, $1->payload_len);
    if (payload == NULL) {
        free(copy);
        SWIG_fail;
    }
    *copy = *$1;
    copy->payload = NULL;
    obj = SWIG_NewPointerObj(copy, $1_descriptor, SWIG_POINTER_OWN);
    tuple = PyTuple_Pack(3, $result, obj, payload);
    Py_DECREF(obj);
    Py_DECREF(payload);
    if (tuple == NULL)
        SWIG_fail;
    Py_DECREF($result);
    $result = tuple;
}

/* kdcom_get_stats(link) -> an owned snapshot, or None for None. */
%typemap(out) const struct kdcom_stats * {
    if ($1 == NULL) {
        $result = SWIG_Py_Void();
    } else {
        struct kdcom_stats *copy = malloc(sizeof(*copy));
        if (copy == NULL) {
            PyErr_NoMemory();
            SWIG_fail;
        }
        *copy = *$1;
        $result = SWIG_NewPointerObj(copy, $descriptor(struct kdcom_stats *),
                                     SWIG_POINTER_OWN);
    }
}

/* ---- docstrings where the typemaps change the C signature ----------- */

%feature("autodoc", "kdcom_checksum(data) -> int\n\nByte sum of a bytes-like object modulo 2**32.") kdcom_checksum;
%feature("autodoc", "kdcom_checksum_update(sum, data) -> int\n\nContinues a checksum with more bytes.") kdcom_checksum_update;
%feature("autodoc", "kdcom_encode_data(cap, type, id, head, data) -> bytes\n\nA data packet of at most cap bytes; head/data are bytes-like or None.\nRaises KdcomError (BAD_TYPE, TOO_BIG, NOBUFS).") kdcom_encode_data;
%feature("autodoc", "kdcom_encode_control(cap, type, id) -> bytes\n\nA 16-byte control packet.  Raises KdcomError (BAD_TYPE, NOBUFS).") kdcom_encode_control;
%feature("autodoc", "kdcom_parse(parser, data) -> (consumed, frame, payload)\n\nframe is an owned kdcom_frame copy, payload a bytes copy (b'' if none).") kdcom_parse;
%feature("autodoc", "kdcom_feed(link, now, data) -> int\n\nBytes consumed (may be fewer than len(data): take events, drain, feed\nthe rest).  Raises KdcomError on a fatal code.") kdcom_feed;
%feature("autodoc", "kdcom_drain(link, now, cap) -> bytes\n\nAt most cap bytes to send.  Raises KdcomError on a fatal code.") kdcom_drain;
%feature("autodoc", "kdcom_send(link, now, type, head, data) -> int\n\nQueues a data packet.  Raises KdcomError (BUSY, BAD_TYPE, TOO_BIG, ...).") kdcom_send;
%feature("autodoc", "kdcom_next_event(link) -> (kind, event, payload)\n\nevent is an owned kdcom_event copy, payload a bytes copy (b'' unless\nkind is KDCOM_EV_PACKET).  kind 0 means no event.") kdcom_next_event;
%feature("autodoc", "kdcom_get_stats(link) -> kdcom_stats\n\nAn owned snapshot of the link's counters (None for None).") kdcom_get_stats;

/* ---- what is not part of the Python API -------------------------------- */

/* Every member of the link is private; Python sees only the type. */
%rename("$ignore", regextarget=1, fullname=1) "^kdcom_link::(?!kdcom_link$)[a-z_]+$";
/* Parser internals; its read-only counters stay visible. */
%ignore kdcom_parser::state;
%ignore kdcom_parser::run_byte;
%ignore kdcom_parser::run_len;
%ignore kdcom_parser::hdr_have;
%ignore kdcom_parser::hdr;
%ignore kdcom_parser::byte_count;
%ignore kdcom_parser::pay_have;
%ignore kdcom_parser::pay_sum;
%ignore kdcom_parser::payload;
/* Borrowed pointers: the wrappers above return the bytes instead. */
%ignore kdcom_event::payload;
%ignore kdcom_frame::payload;

/* Results and counters are read-only from Python. */
%immutable kdcom_event::kind;
%immutable kdcom_event::type;
%immutable kdcom_event::id;
%immutable kdcom_event::retries;
%immutable kdcom_event::len;
%immutable kdcom_parser::bytes_in;
%immutable kdcom_parser::noise_bytes;
%immutable kdcom_parser::partial_leaders;

%include "kdcom.h"

/* kdcom_kd.h: its byte-order helpers take bare pointers, which Python does
 * not need (use struct); the numbers, sizes, names and
 * kdcom_kd_droppable(type, head) are wrapped. */
%rename("$ignore", regextarget=1) "^kdcom_kd_(ld|st)(16|32|64)$";
%include "kdcom_kd.h"

%pythoncode %{
__version__ = kdcom_version_string()
%}
