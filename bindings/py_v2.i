/*
 * bindings/py_v2.i - Python only: one Track v2 person operation from Python objects to the
 * delivery pipeline in one call (customerio_native.Pipeline's hot path: track, identify,
 * pageview, screen). Included by cdp.i after py_message.i, whose buffer and value writer it
 * shares.
 *
 *   cio_py_v2_person(pipeline, action, id, name, data) -> seq, or NotImplemented
 *
 * action: 0 identify (name None), 1 event, 2 page (name: the URL), 3 screen. id and name are
 * passed as they are and data (the attributes dict) is written as JSON text here, exactly as
 * Pipeline's encoder writes it (json.dumps(..., separators=(",", ":"), allow_nan=False), which
 * escapes every non-ASCII character as \uXXXX); then the core's builder for the action
 * (cio_v2_person_*_request) checks the arguments and writes the operation, and
 * cio_pipeline_try_enqueue_request queues it, the GIL held throughout (it never waits). Nothing
 * is validated here: the core refuses what it refuses on the slower path, with the same error.
 *
 * NotImplemented, with nothing queued, whenever the slower path in pipeline.py would do
 * something more or else: an id or name that is not a str (or holds a NUL or a lone surrogate),
 * data values the JSON writer leaves to the json module (a datetime, NaN, a tuple, a subclass, a
 * non-str key, ...), a closed pipeline (its exception comes from there), or a full queue (which
 * may be waited for there). The caller then takes that path, which does it all again.
 */

%{
/* A str as a JSON string the way json's encode_basestring_ascii writes it: printable ASCII
 * as is, '"' '\\' and the five short escapes, everything else as \u00XX / \uXXXX (lower-case
 * hex; a UTF-16 surrogate pair above U+FFFF). 1 = written, -1 = MemoryError set. */
static int cio_py_text_add_str_ascii(cio_py_text_t *t, PyObject *s) {
    static const char hex[] = "0123456789abcdef";
    Py_ssize_t n = PyUnicode_GET_LENGTH(s), i, run = 0;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    const char *ascii = PyUnicode_IS_ASCII(s) ? (const char *)data : NULL;
    if (ascii != NULL && cio_py_plain_ascii(ascii, (size_t)n, 1)) {
        /* the usual key or value: printable ASCII, copied in one go */
        return cio_py_text_add_quoted(t, ascii, (size_t)n) == 0 ? 1 : -1;
    }
    if (cio_py_text_add(t, "\"", 1) != 0) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        char esc[12];
        int len = 0;
        if (c >= ' ' && c <= '~' && c != '"' && c != '\\') {
            if (ascii != NULL) {
                run++; /* copied in runs: most strings need no escape at all */
                continue;
            }
            esc[len++] = (char)c;
        } else {
            if (run > 0 && cio_py_text_add(t, ascii + i - run, (size_t)run) != 0) {
                return -1;
            }
            run = 0;
            esc[len++] = '\\';
            switch (c) {
            case '"': esc[len++] = '"'; break;
            case '\\': esc[len++] = '\\'; break;
            case '\b': esc[len++] = 'b'; break;
            case '\f': esc[len++] = 'f'; break;
            case '\n': esc[len++] = 'n'; break;
            case '\r': esc[len++] = 'r'; break;
            case '\t': esc[len++] = 't'; break;
            default:
                if (c >= 0x10000) {
                    Py_UCS4 hi = 0xD800 | ((c - 0x10000) >> 10);
                    esc[len++] = 'u';
                    esc[len++] = hex[(hi >> 12) & 0xf];
                    esc[len++] = hex[(hi >> 8) & 0xf];
                    esc[len++] = hex[(hi >> 4) & 0xf];
                    esc[len++] = hex[hi & 0xf];
                    esc[len++] = '\\';
                    c = 0xDC00 | ((c - 0x10000) & 0x3ff);
                }
                esc[len++] = 'u';
                esc[len++] = hex[(c >> 12) & 0xf];
                esc[len++] = hex[(c >> 8) & 0xf];
                esc[len++] = hex[(c >> 4) & 0xf];
                esc[len++] = hex[c & 0xf];
            }
        }
        if (cio_py_text_add(t, esc, (size_t)len) != 0) {
            return -1;
        }
    }
    if (run > 0 && cio_py_text_add(t, ascii + n - run, (size_t)run) != 0) {
        return -1;
    }
    return cio_py_text_add(t, "\"", 1) == 0 ? 1 : -1;
}

/* A value as json.dumps(ensure_ascii=True, allow_nan=False) writes it: py_message.i's writer for
 * numbers and constants, the ASCII string writer above. 1 = written, 0 = a value for the json
 * module (NaN and infinities too: Pipeline sends those as null), -1 = error set. */
static int cio_py_text_add_value_ascii(cio_py_text_t *t, PyObject *o, int depth) {
    if (PyUnicode_CheckExact(o)) {
        return cio_py_text_add_str_ascii(t, o);
    }
    if (PyFloat_CheckExact(o)) {
        double v = PyFloat_AS_DOUBLE(o);
        return Py_IS_FINITE(v) ? cio_py_text_add_float(t, v) : 0;
    }
    if (depth > 500) {
        return 0;
    }
    if (PyDict_CheckExact(o)) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        int first = 1, rc;
        if (cio_py_text_add(t, "{", 1) != 0) {
            return -1;
        }
        while (PyDict_Next(o, &pos, &key, &value)) {
            if (!PyUnicode_CheckExact(key)) {
                return 0;
            }
            if ((!first && cio_py_text_add(t, ",", 1) != 0) ||
                cio_py_text_add_str_ascii(t, key) != 1 || cio_py_text_add(t, ":", 1) != 0) {
                return -1;
            }
            first = 0;
            Py_INCREF(value); /* a __repr__ of a long int may run code that changes o */
            rc = cio_py_text_add_value_ascii(t, value, depth + 1);
            Py_DECREF(value);
            if (rc != 1) {
                return rc;
            }
        }
        return cio_py_text_add(t, "}", 1) == 0 ? 1 : -1;
    }
    if (PyList_CheckExact(o)) {
        Py_ssize_t i;
        int rc;
        if (cio_py_text_add(t, "[", 1) != 0) {
            return -1;
        }
        for (i = 0; i < PyList_GET_SIZE(o); i++) {
            PyObject *item = PyList_GET_ITEM(o, i);
            if (i > 0 && cio_py_text_add(t, ",", 1) != 0) {
                return -1;
            }
            Py_INCREF(item);
            rc = cio_py_text_add_value_ascii(t, item, depth + 1);
            Py_DECREF(item);
            if (rc != 1) {
                return rc;
            }
        }
        return cio_py_text_add(t, "]", 1) == 0 ? 1 : -1;
    }
    if (o == Py_None || o == Py_True || o == Py_False || PyLong_CheckExact(o)) {
        return cio_py_text_add_value(t, o, depth);
    }
    return 0;
}

/* A str as UTF-8 for the core; NULL (no exception left set) for anything the slower path
 * handles itself: not a str, a lone surrogate, an embedded NUL. */
static const char *cio_py_v2_text(PyObject *o) {
    Py_ssize_t len = 0;
    const char *s;
    if (!PyUnicode_CheckExact(o)) {
        return NULL;
    }
    s = PyUnicode_AsUTF8AndSize(o, &len);
    if (s == NULL) {
        PyErr_Clear();
        return NULL;
    }
    return (size_t)len == strlen(s) ? s : NULL;
}

/* The pipeline behind a Python Pipeline object's _ptr, read under the GIL right before the
 * enqueue (see cio_py_pipeline_of); NULL without an exception when it is closed, -1 in *err
 * with one set when _ptr cannot be read. */
static cio_pipeline_t *cio_py_v2_pipeline(PyObject *pipeline, int *err) {
    static PyObject *ptr_name = NULL;
    void *raw = NULL;
    PyObject *ptr;
    *err = 0;
    if (ptr_name == NULL && (ptr_name = PyUnicode_InternFromString("_ptr")) == NULL) {
        *err = -1;
        return NULL;
    }
    ptr = PyObject_GetAttr(pipeline, ptr_name);
    if (ptr == NULL) {
        *err = -1;
        return NULL;
    }
    if (ptr != Py_None && !SWIG_IsOK(SWIG_ConvertPtr(ptr, &raw, SWIGTYPE_p_cio_pipeline, 0))) {
        PyErr_SetString(PyExc_TypeError, "cio_py_v2_person: pipeline._ptr is not a pipeline");
        *err = -1;
    }
    Py_DECREF(ptr); /* the Pipeline object keeps it */
    return (cio_pipeline_t *)raw;
}

static PyObject *cio_py_v2_person(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    cio_py_text_t data;
    const char *id, *name = NULL;
    cio_pipeline_t *p;
    cio_request_t *req = NULL;
    cio_status_t st;
    uint64_t seq = 0;
    long action;
    int rc, err = 0;
    (void)self;
    if (nargs != 5) {
        PyErr_Format(PyExc_TypeError, "cio_py_v2_person takes 5 arguments (%zd given)", nargs);
        return NULL;
    }
    action = PyLong_AsLong(args[1]);
    if (action == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (action < 0 || action > 3) {
        PyErr_SetString(PyExc_ValueError, "cio_py_v2_person: action is 0 to 3");
        return NULL;
    }
    id = cio_py_v2_text(args[2]);
    if (action != 0) {
        name = cio_py_v2_text(args[3]);
    }
    if (id == NULL || (action != 0 && name == NULL) || !PyDict_CheckExact(args[4])) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    cio_py_text_init(&data);
    rc = PyDict_GET_SIZE(args[4]) == 0 ? (cio_py_text_add(&data, "{}", 2) == 0 ? 1 : -1)
                                       : cio_py_text_add_value_ascii(&data, args[4], 0);
    /* no call into Python between reading _ptr and the enqueue (see cio_py_pipeline_of) */
    p = rc == 1 ? cio_py_v2_pipeline(args[0], &err) : NULL;
    if (rc != 1 || err != 0 || p == NULL) {
        cio_py_text_free(&data);
        if (rc == -1 || err != 0) {
            return NULL;
        }
        Py_RETURN_NOTIMPLEMENTED;
    }
    switch (action) {
    case 0: st = cio_v2_person_identify_request(CIO_ID_TYPE_ID, id, data.buf.data, &req); break;
    case 1:
        st = cio_v2_person_event_request(CIO_ID_TYPE_ID, id, name, data.buf.data, NULL, &req);
        break;
    case 2:
        st = cio_v2_person_page_request(CIO_ID_TYPE_ID, id, name, data.buf.data, NULL, &req);
        break;
    default:
        st = cio_v2_person_screen_request(CIO_ID_TYPE_ID, id, name, data.buf.data, NULL, &req);
    }
    cio_py_text_free(&data);
    if (st == CIO_OK) {
        st = cio_pipeline_try_enqueue_request(p, req, &seq);
        cio_request_free(req);
        if (st == CIO_E_QUEUE_FULL) { /* the slower path waits for room or raises */
            Py_RETURN_NOTIMPLEMENTED;
        }
    }
    if (st != CIO_OK) {
        cio_py_raise(st);
        return NULL;
    }
    return PyLong_FromUnsignedLongLong(seq);
}

static PyMethodDef cio_py_v2_person_def = {
    "cio_py_v2_person", (PyCFunction)(void (*)(void))cio_py_v2_person, METH_FASTCALL,
    "cio_py_v2_person(pipeline, action, id, name, data) -> seq or NotImplemented"};
%}

%init %{
    {
        PyObject *fn = PyCFunction_NewEx(&cio_py_v2_person_def, NULL, NULL);
        if (fn == NULL || PyModule_AddObject(m, "cio_py_v2_person", fn) != 0) {
            Py_XDECREF(fn);
        }
    }
%}
