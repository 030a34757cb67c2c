/*
 * bindings/app.i - the App API (customerio/app.h) for the SWIG bindings: transactional sends with
 * attachments, broadcast triggers, and the reads of customers, segments and transactional
 * templates. Included by bindings/core.i, after the language's typemaps (python.i, ruby.i) (strings,
 * id lists, status -> exception), which apply here too.
 *
 * Mapping, the same in both languages:
 * - char **response_json (the server's JSON answer) becomes the return value: bytes in Python /
 *   a String in Ruby, or None / nil when the call was made asynchronous (cio_async_next); the
 *   C string is freed with cio_free() at once.
 * - (const cio_attachment_t *attachments, size_t n_attachments): a sequence of (name, data)
 *   pairs, data being raw bytes (the core base64-encodes them), or None / nil for none.
 * - const cio_page_t *page: None / nil (the first page, server's size) or (start, limit), start
 *   a str or None and limit an int (0 = not sent).
 * - const cio_delivery_filter_t *filter: None / nil or (metric, state, start_ts, end_ts,
 *   tracked_responses): two str-or-None, two ints (0 = not sent) and a cio_flag_t
 *   (CIO_FLAG_UNSET / CIO_FLAG_TRUE / CIO_FLAG_FALSE; Ruby also takes nil / true / false).
 * - int flag arguments (unique) are cio_flag_t values, as in C: the constants CIO_FLAG_*.
 * - const char *const *ids: the id list typemap of python.i / ruby.i.
 *
 * Python: every call here sends requests and so releases the GIL (swig -threads); the arguments
 * are converted, and the buffers they point to pinned, before it is released.
 * Ruby: the calls hold the GVL unless bindings/ruby/ext/customerio_native/cio_rb_nogvl.h lists
 * them; the typemaps keep every String they pass to C as a frozen copy referenced from the
 * wrapper's stack until the call returns.
 */

/* ======================================================================================== */
#ifdef SWIGPYTHON
%{
/* An attachment list: the C array plus the Python objects and buffers it points into. */
typedef struct cio_py_attachments {
    cio_attachment_t *items;
    Py_buffer *views;
    Py_ssize_t n;       /* items filled */
    Py_ssize_t nviews;  /* views held */
    PyObject *keep;     /* the (name, data) tuples, kept alive for their names */
} cio_py_attachments_t;

#define CIO_PY_ATTACHMENTS_INIT {NULL, NULL, 0, 0, NULL}

static void cio_py_attachments_release(cio_py_attachments_t *a) {
    for (Py_ssize_t i = 0; i < a->nviews; i++) {
        PyBuffer_Release(&a->views[i]);
    }
    free(a->items);
    free(a->views);
    Py_XDECREF(a->keep);
    memset(a, 0, sizeof(*a));
}

/* None or a sequence of (name: str, data: bytes-like) as a cio_attachment_t array; -1 with an
 * exception set when the shape or a type is wrong (the C library checks the names). */
static int cio_py_attachments_from(PyObject *o, cio_py_attachments_t *a) {
    Py_ssize_t n;
    memset(a, 0, sizeof(*a));
    if (o == Py_None) {
        return 0;
    }
    a->keep = PySequence_Tuple(o);
    if (a->keep == NULL) {
        PyErr_SetString(PyExc_TypeError, "attachments must be a sequence of (name, data) pairs");
        return -1;
    }
    n = PyTuple_GET_SIZE(a->keep);
    a->items = (cio_attachment_t *)calloc(n > 0 ? (size_t)n : 1, sizeof(*a->items));
    a->views = (Py_buffer *)calloc(n > 0 ? (size_t)n : 1, sizeof(*a->views));
    if (a->items == NULL || a->views == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyTuple_GET_ITEM(a->keep, i);
        PyObject *name, *data;
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            PyErr_Format(PyExc_TypeError, "attachments[%zd] must be a (name, data) tuple", i);
            return -1;
        }
        name = PyTuple_GET_ITEM(pair, 0);
        data = PyTuple_GET_ITEM(pair, 1);
        if (name == Py_None || cio_py_as_cstring(name, &a->items[i].name, "attachment name") != 0) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_TypeError, "attachments[%zd] name must be str", i);
            }
            return -1;
        }
        if (PyUnicode_Check(data)) {
            PyErr_Format(PyExc_TypeError,
                         "attachments[%zd] data must be bytes-like (raw file content), not str", i);
            return -1;
        }
        if (PyObject_GetBuffer(data, &a->views[i], PyBUF_SIMPLE) != 0) {
            return -1;
        }
        a->nviews = i + 1;
        a->items[i].data = a->views[i].buf;
        a->items[i].len = (size_t)a->views[i].len;
    }
    a->n = n;
    return 0;
}

/* A page as (start: str | None, limit: int); None = NULL. */
static int cio_py_page_from(PyObject *o, cio_page_t *page, const cio_page_t **out) {
    PyObject *start = Py_None;
    int limit = 0;
    if (o == Py_None) {
        *out = NULL;
        return 0;
    }
    if (!PyArg_ParseTuple(o, "Oi;page must be (start, limit)", &start, &limit)) {
        return -1;
    }
    if (cio_py_as_cstring(start, &page->start, "page.start") != 0) {
        return -1;
    }
    page->limit = limit;
    *out = page;
    return 0;
}

/* A delivery filter as (metric, state, start_ts, end_ts, tracked_responses); None = NULL. */
static int cio_py_delivery_filter_from(PyObject *o, cio_delivery_filter_t *f,
                                       const cio_delivery_filter_t **out) {
    PyObject *metric = Py_None, *state = Py_None;
    long long start_ts = 0, end_ts = 0;
    int tracked = 0;
    if (o == Py_None) {
        *out = NULL;
        return 0;
    }
    if (!PyArg_ParseTuple(o, "OOLLi;filter must be (metric, state, start_ts, end_ts, "
                             "tracked_responses)",
                          &metric, &state, &start_ts, &end_ts, &tracked)) {
        return -1;
    }
    if (cio_py_as_cstring(metric, &f->metric, "filter.metric") != 0 ||
        cio_py_as_cstring(state, &f->state, "filter.state") != 0) {
        return -1;
    }
    f->start_ts = (int64_t)start_ts;
    f->end_ts = (int64_t)end_ts;
    f->tracked_responses = tracked; /* a cio_flag_t; the core checks it */
    *out = f;
    return 0;
}
%}

/* The server's JSON answer: bytes (None when the call was made asynchronous). */
%typemap(in, numinputs=0) char **response_json (char *tmp = NULL) { $1 = &tmp; }
%typemap(argout) char **response_json {
    if (*$1 != NULL) {
        PyObject *body = PyBytes_FromString(*$1);
        cio_free(*$1);
        *$1 = NULL;
        if (body == NULL) {
            SWIG_fail;
        }
        $result = SWIG_Python_AppendOutput($result, body);
    } else {
        $result = SWIG_Python_AppendOutput($result, SWIG_Py_Void());
    }
}
%typemap(freearg) char **response_json {
    if ($1 != NULL && *$1 != NULL) {
        cio_free(*$1);
        *$1 = NULL;
    }
}

%typemap(in) (const cio_attachment_t *attachments, size_t n_attachments)
    (cio_py_attachments_t att = CIO_PY_ATTACHMENTS_INIT) {
    if (cio_py_attachments_from($input, &att) != 0) {
        cio_py_attachments_release(&att);
        SWIG_fail;
    }
    $1 = att.items;
    $2 = (size_t)att.n;
}
%typemap(freearg) (const cio_attachment_t *attachments, size_t n_attachments) {
    cio_py_attachments_release(&att$argnum);
}

%typemap(in) const cio_page_t *page (cio_page_t tmp = CIO_PAGE_INIT) {
    if (cio_py_page_from($input, &tmp, (const cio_page_t **)&$1) != 0) {
        SWIG_fail;
    }
}

%typemap(in) const cio_delivery_filter_t *filter
    (cio_delivery_filter_t tmp = CIO_DELIVERY_FILTER_INIT) {
    if (cio_py_delivery_filter_from($input, &tmp, (const cio_delivery_filter_t **)&$1) != 0) {
        SWIG_fail;
    }
}
#endif /* SWIGPYTHON */

/* ======================================================================================== */
#ifdef SWIGRUBY
%{
/* A String argument as a NUL-terminated C string, held as a frozen copy in *keep for the call
 * (nil = NULL). */
static const char *cio_rb_app_cstr(VALUE v, VALUE *keep, const char *what) {
    VALUE s;
    *keep = Qnil;
    if (NIL_P(v)) {
        return NULL;
    }
    if (!RB_TYPE_P(v, T_STRING)) {
        rb_raise(rb_eTypeError, "%s must be a String or nil", what);
    }
    s = rb_str_new_frozen(v);
    if (memchr(RSTRING_PTR(s), '\0', (size_t)RSTRING_LEN(s)) != NULL) {
        rb_raise(rb_eArgError, "%s contains a NUL byte", what);
    }
    if (RSTRING_PTR(s)[RSTRING_LEN(s)] != '\0') {
        s = rb_str_new(RSTRING_PTR(s), RSTRING_LEN(s));
    }
    *keep = s;
    return RSTRING_PTR(s);
}

/* nil or an Array of [name, data] pairs as a cio_attachment_t array in a GC-managed temporary
 * buffer (*tmpbuf); the frozen copies of the Strings go into *keep, an Array referenced from
 * the wrapper's stack. */
static cio_attachment_t *cio_rb_attachments(VALUE ary, volatile VALUE *tmpbuf, VALUE *keep,
                                            size_t *count) {
    long n, i;
    cio_attachment_t *items;
    *count = 0;
    *keep = Qnil;
    if (NIL_P(ary)) {
        return NULL;
    }
    Check_Type(ary, T_ARRAY);
    n = RARRAY_LEN(ary);
    *keep = rb_ary_new_capa(2 * n);
    for (i = 0; i < n; i++) {
        VALUE pair = RARRAY_AREF(ary, i), name, data, k;
        if (!RB_TYPE_P(pair, T_ARRAY) || RARRAY_LEN(pair) != 2) {
            rb_raise(rb_eTypeError, "attachments[%ld] must be a [name, data] pair", i);
        }
        name = RARRAY_AREF(pair, 0);
        data = RARRAY_AREF(pair, 1);
        if (!RB_TYPE_P(data, T_STRING)) {
            rb_raise(rb_eTypeError, "attachments[%ld] data must be a String", i);
        }
        cio_rb_app_cstr(name, &k, "attachment name");
        if (NIL_P(k)) {
            rb_raise(rb_eTypeError, "attachments[%ld] name must be a String", i);
        }
        rb_ary_push(*keep, k);
        rb_ary_push(*keep, rb_str_new_frozen(data));
    }
    items = (cio_attachment_t *)rb_alloc_tmp_buffer(tmpbuf,
                                                    (long)(sizeof(*items) * (size_t)(n > 0 ? n : 1)));
    for (i = 0; i < n; i++) {
        VALUE name = RARRAY_AREF(*keep, 2 * i), data = RARRAY_AREF(*keep, 2 * i + 1);
        items[i].name = RSTRING_PTR(name);
        items[i].data = RSTRING_PTR(data);
        items[i].len = (size_t)RSTRING_LEN(data);
    }
    *count = (size_t)n;
    return items;
}
%}

/* char **response_json: bindings/request.i (included earlier) maps it for Ruby. */

%typemap(in) (const cio_attachment_t *attachments, size_t n_attachments)
    (volatile VALUE tmpbuf = 0, VALUE keep = Qnil) {
    size_t n = 0;
    $1 = cio_rb_attachments($input, &tmpbuf, &keep, &n);
    $2 = n;
}
%typemap(freearg) (const cio_attachment_t *attachments, size_t n_attachments) {
    RB_GC_GUARD(keep$argnum);
    if (tmpbuf$argnum) {
        rb_free_tmp_buffer(&tmpbuf$argnum);
    }
}

/* nil or [start (String or nil), limit (Integer)]. */
%typemap(in) const cio_page_t *page (cio_page_t tmp = CIO_PAGE_INIT, VALUE keep = Qnil) {
    if (NIL_P($input)) {
        $1 = NULL;
    } else {
        Check_Type($input, T_ARRAY);
        if (RARRAY_LEN($input) != 2) {
            rb_raise(rb_eArgError, "page must be [start, limit]");
        }
        tmp.start = cio_rb_app_cstr(RARRAY_AREF($input, 0), &keep, "page start");
        tmp.limit = NUM2INT(RARRAY_AREF($input, 1));
        $1 = &tmp;
    }
}
%typemap(freearg) const cio_page_t *page {
    RB_GC_GUARD(keep$argnum);
}

/* nil or [metric, state, start_ts, end_ts, tracked_responses]. */
%typemap(in) const cio_delivery_filter_t *filter
    (cio_delivery_filter_t tmp = CIO_DELIVERY_FILTER_INIT, VALUE keep1 = Qnil, VALUE keep2 = Qnil) {
    if (NIL_P($input)) {
        $1 = NULL;
    } else {
        Check_Type($input, T_ARRAY);
        if (RARRAY_LEN($input) != 5) {
            rb_raise(rb_eArgError,
                     "filter must be [metric, state, start_ts, end_ts, tracked_responses]");
        }
        tmp.metric = cio_rb_app_cstr(RARRAY_AREF($input, 0), &keep1, "filter metric");
        tmp.state = cio_rb_app_cstr(RARRAY_AREF($input, 1), &keep2, "filter state");
        tmp.start_ts = (int64_t)NUM2LL(RARRAY_AREF($input, 2));
        tmp.end_ts = (int64_t)NUM2LL(RARRAY_AREF($input, 3));
        VALUE tracked = RARRAY_AREF($input, 4);
        tmp.tracked_responses = NIL_P(tracked)        ? CIO_FLAG_UNSET
                                : tracked == Qtrue    ? CIO_FLAG_TRUE
                                : tracked == Qfalse   ? CIO_FLAG_FALSE
                                                      : NUM2INT(tracked);
        $1 = &tmp;
    }
}
%typemap(freearg) const cio_delivery_filter_t *filter {
    RB_GC_GUARD(keep1$argnum);
    RB_GC_GUARD(keep2$argnum);
}
#endif /* SWIGRUBY */

/* ======================================================================================== */
/* Language-neutral: the header itself. The structs are passed through the typemaps above, and
 * response strings are freed by the typemaps, so none of these is wrapped on its own. */
%ignore cio_free;
%ignore cio_attachment;
%ignore cio_page;
%ignore cio_delivery_filter;

%include "customerio/app.h"
