/*
 * bindings/customerio.i - the one SWIG interface of libcustomerio, shared by the Python and Ruby
 * bindings. Everything language-neutral is at the bottom (the public headers, plus one helper to
 * create a client from plain arguments); what only one language needs sits under
 * #ifdef SWIGPYTHON / #ifdef SWIGRUBY.
 *
 * The wrapped functions are the C API itself, name for name (cio_identify, cio_track, ...). The
 * idiomatic classes (CustomerIO, AsyncCustomerIO, ...) live in each language's small layer on
 * top, which only translates names and types.
 */

#if defined(SWIGPYTHON)
/* Built as the extension module customerio_native._native (the generated native.py proxy is not
 * shipped: the package calls the flat functions of _native directly). */
%module(package="customerio_native") native
#elif defined(SWIGRUBY)
/* The Ruby module CustomerioNative::Native, built as customerio_native/customerio_native_ext.so
 * (swig -ruby -initname customerio_native_ext; see bindings/ruby/ext/customerio_native). */
%module "CustomerioNative::Native"
#else
%module customerio_native_ext
#endif

%{
#include <customerio/customerio.h>
#include <stdlib.h>
#include <string.h>

/* Creates a client from plain arguments, so that bindings need not wrap the options struct and
 * its borrowed strings. NULL strings and zero numbers mean "the default", as in
 * cio_client_options_t. _v4: it takes every field up to options version 4 (cdp_permissive,
 * cdp_batch_path), in the struct's order. */
static cio_status_t cio_swig_client_new_v4(const char *site_id, const char *api_key,
                                           const char *app_api_key, int region,
                                           const char *track_url, const char *app_url,
                                           long connect_timeout_ms, long timeout_ms,
                                           int max_attempts, long backoff_base_ms,
                                           long backoff_max_ms, long retry_after_max_ms,
                                           const char *user_agent, int tls_insecure,
                                           const char *ca_file, int max_connections,
                                           int ignore_env, const char *cdp_api_key,
                                           const char *cdp_url, int cdp_permissive,
                                           const char *cdp_batch_path, cio_client_t **out) {
    cio_client_options_t o = CIO_CLIENT_OPTIONS_INIT;
    o.site_id = site_id;
    o.api_key = api_key;
    o.app_api_key = app_api_key;
    o.region = (cio_region_t)region;
    o.track_url = track_url;
    o.app_url = app_url;
    o.connect_timeout_ms = connect_timeout_ms;
    o.timeout_ms = timeout_ms;
    o.max_attempts = max_attempts;
    o.backoff_base_ms = backoff_base_ms;
    o.backoff_max_ms = backoff_max_ms;
    o.retry_after_max_ms = retry_after_max_ms;
    o.user_agent = user_agent;
    o.tls_insecure = tls_insecure;
    o.ca_file = ca_file;
    o.max_connections = max_connections;
    o.ignore_env = ignore_env;
    o.cdp_api_key = cdp_api_key;
    o.cdp_url = cdp_url;
    o.cdp_permissive = cdp_permissive;
    o.cdp_batch_path = cdp_batch_path;
    return cio_client_new(&o, out);
}
%}

%include <stdint.i>

/* ======================================================================================== */
#ifdef SWIGPYTHON
/*
 * Python: every cio_status_t other than CIO_OK raises customerio_native._native.Error with
 * args (status, http_status, message, response_body: bytes | None, attempts, retryable: bool),
 * read from
 * cio_last_error() on the calling thread right after the call. Out-parameters become return
 * values. Calls that may block (every request-sending call, cio_client_free) release the GIL
 * (swig -threads); cheap ones are marked nothread below.
 */
%{
static PyObject *cio_py_error_type = NULL;

static PyObject *cio_py_bytes_or_none(const char *data, size_t len) {
    if (data == NULL) {
        Py_RETURN_NONE;
    }
    return PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
}

static PyObject *cio_py_str_or_none(const char *s) {
    if (s == NULL) {
        Py_RETURN_NONE;
    }
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static void cio_py_raise(cio_status_t status) {
    const cio_error_t *e = cio_last_error();
    PyObject *body = e != NULL ? cio_py_bytes_or_none(e->response_body, e->response_body_len)
                               : cio_py_bytes_or_none(NULL, 0);
    PyObject *msg = cio_py_str_or_none(e != NULL ? e->message : cio_status_str(status));
    PyObject *args = Py_BuildValue("(iiNNiN)", (int)status, e != NULL ? e->http_status : 0, msg,
                                   body, e != NULL ? e->attempts : 0,
                                   PyBool_FromLong(e != NULL && e->retryable));
    if (args != NULL) {
        PyErr_SetObject(cio_py_error_type, args);
        Py_DECREF(args);
    }
}

/* A Python str (or None) as a NUL-terminated UTF-8 string that stays valid while the argument
 * object lives; -1 with an exception set otherwise. */
static int cio_py_as_cstring(PyObject *o, const char **out, const char *what) {
    Py_ssize_t len = 0;
    const char *s;
    if (o == Py_None) {
        *out = NULL;
        return 0;
    }
    if (!PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be str or None, not %.100s", what,
                     Py_TYPE(o)->tp_name);
        return -1;
    }
    s = PyUnicode_AsUTF8AndSize(o, &len);
    if (s == NULL) {
        return -1;
    }
    if ((size_t)len != strlen(s)) {
        PyErr_Format(PyExc_ValueError, "%s contains an embedded NUL character", what);
        return -1;
    }
    *out = s;
    return 0;
}

/* Takes every completion off the queue: a list of tuples
 * (token, status, http_status, attempts, message, response: bytes | None, batch, reason, field,
 * retryable: bool) where batch is None or (request_count, [(index, reason, field, message), ...]),
 * reason and field are Customer.io's (pipeline reports) or None, and retryable is the core's
 * transient/permanent verdict (cio_completion_t.retryable). */
static PyObject *cio_py_queue_drain(cio_queue_t *queue) {
    PyObject *list = PyList_New(0);
    cio_completion_t *c = NULL;
    if (list == NULL) {
        return NULL;
    }
    while (cio_queue_poll(queue, &c) == CIO_OK && c != NULL) {
        PyObject *batch = NULL, *item = NULL;
        if (c->batch_result != NULL) {
            size_t n = cio_batch_result_error_count(c->batch_result);
            PyObject *errors = PyList_New(0);
            for (size_t i = 0; errors != NULL && i < n; i++) {
                const cio_batch_item_error_t *be = cio_batch_result_error(c->batch_result, i);
                PyObject *t = Py_BuildValue("(nNNN)", (Py_ssize_t)be->index,
                                            cio_py_str_or_none(be->reason),
                                            cio_py_str_or_none(be->field),
                                            cio_py_str_or_none(be->message));
                if (t == NULL || PyList_Append(errors, t) != 0) {
                    Py_XDECREF(t);
                    Py_CLEAR(errors);
                    break;
                }
                Py_DECREF(t);
            }
            if (errors != NULL) {
                batch = Py_BuildValue(
                    "(nN)", (Py_ssize_t)cio_batch_result_request_count(c->batch_result), errors);
            }
        } else {
            batch = Py_None;
            Py_INCREF(batch);
        }
        if (batch != NULL) {
            item = Py_BuildValue("(KiiiNNNNNN)", (unsigned long long)c->token, (int)c->status,
                                 c->http_status, c->attempts, cio_py_str_or_none(c->message),
                                 cio_py_bytes_or_none(c->response, c->response_len), batch,
                                 cio_py_str_or_none(c->reason), cio_py_str_or_none(c->field),
                                 PyBool_FromLong(c->retryable));
        }
        cio_completion_free(c);
        c = NULL;
        if (item == NULL || PyList_Append(list, item) != 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
    }
    return list;
}

/* The items of a batch result: (request_count, [(index, reason, field, message), ...]). */
static PyObject *cio_py_batch_result_items(const cio_batch_result_t *r) {
    size_t n = cio_batch_result_error_count(r);
    PyObject *errors = PyList_New(0);
    for (size_t i = 0; errors != NULL && i < n; i++) {
        const cio_batch_item_error_t *be = cio_batch_result_error(r, i);
        PyObject *t = Py_BuildValue("(nNNN)", (Py_ssize_t)be->index, cio_py_str_or_none(be->reason),
                                    cio_py_str_or_none(be->field),
                                    cio_py_str_or_none(be->message));
        if (t == NULL || PyList_Append(errors, t) != 0) {
            Py_XDECREF(t);
            Py_CLEAR(errors);
            break;
        }
        Py_DECREF(t);
    }
    if (errors == NULL) {
        return NULL;
    }
    return Py_BuildValue("(nN)", (Py_ssize_t)cio_batch_result_request_count(r), errors);
}
%}

%{
/* The answer to this thread's last synchronous call that succeeded (cio_last_response()), as
 * (http_status, body: bytes, headers: bytes), or None. Read right after the call, on the same
 * thread (the GIL is held, so nothing else runs a cio_* call on it in between). */
static PyObject *cio_py_last_response(void) {
    const cio_response_t *r = cio_last_response();
    if (r == NULL) {
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(iNN)", r->http_status,
                         PyBytes_FromStringAndSize(r->body, (Py_ssize_t)r->body_len),
                         PyBytes_FromStringAndSize(r->headers, (Py_ssize_t)r->headers_len));
}
%}

%init %{
    cio_py_error_type = PyErr_NewExceptionWithDoc(
        "customerio_native._native.Error",
        "A libcustomerio call failed: args are (status, http_status, message, response_body, "
        "attempts, retryable).",
        NULL, NULL);
    if (cio_py_error_type != NULL) {
        Py_INCREF(cio_py_error_type);
        PyModule_AddObject(m, "Error", cio_py_error_type);
    }
%}

/* Status returns: raise on error, return None (or the out-parameters) on success. */
%typemap(out) cio_status_t {
    if ($1 != CIO_OK) {
        cio_py_raise($1);
        SWIG_fail;
    }
    $result = SWIG_Py_Void();
}

/* Strings: str or None only, no embedded NUL. */
%typemap(in) const char * {
    if (cio_py_as_cstring($input, (const char **)&$1, "$1_name") != 0) {
        SWIG_fail;
    }
}
%typemap(typecheck, precedence=SWIG_TYPECHECK_STRING) const char * {
    $1 = ($input == Py_None || PyUnicode_Check($input)) ? 1 : 0;
}
%typemap(freearg) const char * ""

/* Out-parameters become return values. */
%typemap(in, numinputs=0) cio_client_t **out (cio_client_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_client_t **out {
    $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(*$1, $descriptor(cio_client_t *), 0));
}
%typemap(in, numinputs=0) cio_queue_t **out (cio_queue_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_queue_t **out {
    $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(*$1, $descriptor(cio_queue_t *), 0));
}
%typemap(in, numinputs=0) cio_region_t *out (cio_region_t tmp = CIO_REGION_DEFAULT) { $1 = &tmp; }
%typemap(argout) cio_region_t *out {
    $result = SWIG_Python_AppendOutput($result, PyLong_FromLong((long)*$1));
}

/* A server's JSON answer (cio_track_region): bytes, or None when the call was made
 * asynchronous. The App API's calls get the same mapping from app.i. */
%typemap(in, numinputs=0) char **response_json (char *tmp = NULL) { $1 = &tmp; }
%typemap(argout) char **response_json {
    if (*$1 != NULL) {
        PyObject *answer = PyBytes_FromString(*$1);
        free(*$1);
        *$1 = NULL;
        if (answer == NULL) {
            SWIG_fail;
        }
        $result = SWIG_Python_AppendOutput($result, answer);
    } else {
        $result = SWIG_Python_AppendOutput($result, SWIG_Py_Void());
    }
}
%typemap(freearg) char **response_json {
    if ($1 != NULL && *$1 != NULL) {
        free(*$1);
        *$1 = NULL;
    }
}

/* Optional event fields: None, or a tuple (timestamp: int, id: str | None). */
%typemap(in) const cio_event_options_t *options (cio_event_options_t tmp = CIO_EVENT_OPTIONS_INIT) {
    if ($input == Py_None) {
        $1 = NULL;
    } else {
        long long ts = 0;
        PyObject *id_obj = Py_None;
        if (!PyArg_ParseTuple($input, "L|O;options must be (timestamp, id)", &ts, &id_obj)) {
            SWIG_fail;
        }
        tmp.timestamp = (int64_t)ts;
        if (cio_py_as_cstring(id_obj, &tmp.id, "options.id") != 0) {
            SWIG_fail;
        }
        $1 = &tmp;
    }
}

/* A list of str as (array, count). The items are copied into a tuple first, so that another
 * thread mutating the list while the GIL is released cannot free them under the call. */
%typemap(in) (const char *const *operations_json, size_t count) (PyObject *tuple = NULL),
             (const char *const *messages_json, size_t count) (PyObject *tuple = NULL),
             (const char *const *ids, size_t count) (PyObject *tuple = NULL) {
    Py_ssize_t n, i;
    const char **items;
    tuple = PySequence_Tuple($input);
    if (tuple == NULL) {
        SWIG_fail;
    }
    n = PyTuple_GET_SIZE(tuple);
    items = (const char **)calloc(n > 0 ? (size_t)n : 1, sizeof(*items));
    if (items == NULL) {
        PyErr_NoMemory();
        SWIG_fail;
    }
    $1 = ($1_ltype)items;
    for (i = 0; i < n; i++) {
        if (cio_py_as_cstring(PyTuple_GET_ITEM(tuple, i), &items[i], "$1_name item") != 0 ||
            items[i] == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError, "$1_name items must be str");
            }
            SWIG_fail;
        }
    }
    $2 = (size_t)n;
}
%typemap(freearg) (const char *const *operations_json, size_t count),
                  (const char *const *messages_json, size_t count),
                  (const char *const *ids, size_t count) {
    free((void *)$1);
    Py_XDECREF(tuple$argnum);
}

/* cio_v2_send_batch's result: returned as (request_count, [(index, reason, field, message)])
 * when the call returns CIO_OK or CIO_E_PARTIAL (a partial batch is not an exception here: the
 * caller gets the rejected items) or when every item was refused before sending (a result with
 * request_count 0: the same per-item answer, nothing sent), None when the call was made
 * asynchronous. */
%typemap(in, numinputs=0) cio_batch_result_t **result (cio_batch_result_t *tmp = NULL) {
    $1 = &tmp;
}
%typemap(out) cio_status_t cio_v2_send_batch, cio_status_t cio_cdp_batch {
    $result = SWIG_Py_Void();
}
/* The status is decided here, where the result is at hand: `result` is the wrapper's variable
 * holding the C return value (SWIG's documented name for it). */
%typemap(argout) cio_batch_result_t **result {
    if (result != CIO_OK && result != CIO_E_PARTIAL &&
        !(*$1 != NULL && cio_batch_result_request_count(*$1) == 0)) {
        cio_batch_result_free(*$1);
        *$1 = NULL;
        cio_py_raise(result);
        SWIG_fail;
    }
    if (*$1 != NULL) {
        PyObject *items = cio_py_batch_result_items(*$1);
        cio_batch_result_free(*$1);
        *$1 = NULL;
        if (items == NULL) {
            SWIG_fail;
        }
        $result = SWIG_Python_AppendOutput($result, items);
    }
}

/* Cheap calls keep the GIL. */
%feature("nothread") cio_async_next;
%feature("nothread") cio_queue_new;
%feature("nothread") cio_queue_fd;
%feature("nothread") cio_queue_size;
%feature("nothread") cio_queue_free;
%feature("nothread") cio_py_queue_drain;
%feature("nothread") cio_status_str;
%feature("nothread") cio_version;
%feature("nothread") cio_region_parse;
%feature("nothread") cio_client_region;
%feature("nothread") cio_last_error;
%feature("nothread") cio_error_clear;

/* A success's answer comes back from cio_py_last_response() as a tuple. */
%ignore cio_response;
%ignore cio_last_response;
%feature("nothread") cio_py_last_response;
/* Errors are raised from the status typemap (which reads cio_last_error()); event options are
 * (timestamp, id) tuples. */
%ignore cio_error;
%ignore cio_last_error;
%ignore cio_error_clear;
%ignore cio_event_options;

/* Completions are taken off the queue by cio_py_queue_drain (one call per wakeup). */
%ignore cio_queue_poll;
%ignore cio_completion_free;
%ignore cio_completion;
%ignore cio_batch_result_request_count;
%ignore cio_batch_result_error_count;
%ignore cio_batch_result_error;
%ignore cio_batch_result_free;
%ignore cio_batch_item_error;
#ifdef CIO_SWIG_WEBHOOK
/* ---- webhooks (customerio/webhook.h) ---- */

/* A raw body: bytes-like (or str, taken as UTF-8), NUL bytes allowed. The buffer is held for
 * the call. */
%typemap(in) (const char *body, size_t body_len) (Py_buffer view, int have_view = 0) {
    if (PyUnicode_Check($input)) {
        Py_ssize_t len = 0;
        $1 = (char *)PyUnicode_AsUTF8AndSize($input, &len);
        if ($1 == NULL) {
            SWIG_fail;
        }
        $2 = (size_t)len;
    } else if ($input == Py_None) {
        $1 = NULL;
        $2 = 0;
    } else {
        if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) != 0) {
            SWIG_fail;
        }
        have_view = 1;
        $1 = (char *)view.buf;
        $2 = (size_t)view.len;
    }
}
%typemap(freearg) (const char *body, size_t body_len) {
    if (have_view$argnum) {
        PyBuffer_Release(&view$argnum);
    }
}

/* cio_webhook_sign's out buffer becomes the returned str. */
%typemap(in, numinputs=0) char out[ANY] (char tmp[$1_dim0]) {
    tmp[0] = '\0';
    $1 = tmp;
}
%typemap(argout) char out[ANY] {
    $result = SWIG_Python_AppendOutput($result, PyUnicode_FromString($1));
}

/* cio_webhook_parse returns the events as a list of tuples (event_id, object_type, metric,
 * timestamp, delivery_id, data_json, json); the C list is freed at once. */
%typemap(in, numinputs=0) cio_webhook_events_t **out (cio_webhook_events_t *tmp = NULL) {
    $1 = &tmp;
}
%typemap(argout) cio_webhook_events_t **out {
    size_t n = cio_webhook_events_count(*$1);
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list != NULL && i < n; i++) {
        const cio_webhook_event_t *ev = cio_webhook_events_get(*$1, i);
        PyObject *t = Py_BuildValue("(NNNLNNN)", cio_py_str_or_none(ev->event_id),
                                    cio_py_str_or_none(ev->object_type),
                                    cio_py_str_or_none(ev->metric), (long long)ev->timestamp,
                                    cio_py_str_or_none(ev->delivery_id),
                                    cio_py_str_or_none(ev->data_json),
                                    cio_py_str_or_none(ev->json));
        if (t == NULL || PyList_Append(list, t) != 0) {
            Py_XDECREF(t);
            Py_CLEAR(list);
        } else {
            Py_DECREF(t);
        }
    }
    cio_webhook_events_free(*$1);
    *$1 = NULL;
    if (list == NULL) {
        SWIG_fail;
    }
    $result = SWIG_Python_AppendOutput($result, list);
}

%typemap(in, numinputs=0) cio_webhook_dedup_t **out (cio_webhook_dedup_t *tmp = NULL) {
    $1 = &tmp;
}
%typemap(argout) cio_webhook_dedup_t **out {
    $result = SWIG_Python_AppendOutput($result,
        SWIG_NewPointerObj(*$1, $descriptor(cio_webhook_dedup_t *), 0));
}
%typemap(in, numinputs=0) int *is_duplicate (int tmp = 0) { $1 = &tmp; }
%typemap(argout) int *is_duplicate {
    $result = SWIG_Python_AppendOutput($result, PyBool_FromLong(*$1));
}

%ignore cio_webhook_events_count;
%ignore cio_webhook_events_get;
%ignore cio_webhook_events_free;
%ignore cio_webhook_event;
%feature("nothread") cio_webhook_dedup_check;
%feature("nothread") cio_webhook_dedup_size;
%feature("nothread") cio_webhook_dedup_new;
%feature("nothread") cio_webhook_dedup_free;
#endif /* CIO_SWIG_WEBHOOK */
#endif /* SWIGPYTHON */

/* ======================================================================================== */
#ifdef SWIGRUBY
/*
 * Ruby: every cio_status_t other than CIO_OK raises CustomerioNative::Native::Error, a
 * StandardError whose message is the C library's and whose status, http_status, body,
 * attempts and retryable (the core's transient/permanent verdict) come from cio_last_error() on the calling thread, read right after the call. Out-
 * parameters become return values. The gem's lib/ layer maps these to the official classes.
 *
 * The GVL: every call that may block (each request-sending call, the pipeline's enqueue, flush
 * and close, and cio_client_free) goes through a twin in bindings/ruby/ext/customerio_native/cio_rb_nogvl.h that runs it inside
 * rb_thread_call_without_gvl(), so other Ruby threads run while it waits on the network. What
 * the C call reads must then stay put: a String argument is passed as a frozen copy held on the
 * C stack (copy-on-write, so a caller changing its own String meanwhile gets a new buffer), and
 * an Array of Strings is copied into one GC-managed temporary buffer. Nothing the typemaps
 * allocate depends on the wrapper's cleanup code, so an exception one raises (a longjmp past
 * that cleanup) leaks nothing.
 */
%{
static VALUE cio_rb_error_class = Qnil;

static VALUE cio_rb_str_or_nil(const char *s) {
    return s != NULL ? rb_utf8_str_new_cstr(s) : Qnil;
}

static VALUE cio_rb_bytes_or_nil(const char *data, size_t len) {
    return data != NULL ? rb_utf8_str_new(data, (long)len) : Qnil;
}

/* The exception for a call that returned status, from this thread's cio_last_error(). */
static VALUE cio_rb_error_new(cio_status_t status) {
    const cio_error_t *e = cio_last_error();
    int http_status = e != NULL ? e->http_status : 0;
    int attempts = e != NULL ? e->attempts : 0;
    VALUE body = e != NULL ? cio_rb_bytes_or_nil(e->response_body, e->response_body_len) : Qnil;
    VALUE msg = cio_rb_str_or_nil(e != NULL ? e->message : cio_status_str(status));
    VALUE exc = rb_exc_new_str(cio_rb_error_class, msg);
    rb_ivar_set(exc, rb_intern("@status"), INT2NUM((int)status));
    rb_ivar_set(exc, rb_intern("@http_status"), INT2NUM(http_status));
    rb_ivar_set(exc, rb_intern("@body"), body);
    rb_ivar_set(exc, rb_intern("@attempts"), INT2NUM(attempts));
    rb_ivar_set(exc, rb_intern("@retryable"), (e != NULL && e->retryable) ? Qtrue : Qfalse);
    return exc;
}

static void cio_rb_raise(cio_status_t status) {
    rb_exc_raise(cio_rb_error_new(status));
}

/* A String (or nil) as a NUL-terminated C string that stays valid and unchanged while *keep
 * lives: a frozen copy, or a private one when the bytes are not NUL-terminated (a shared
 * substring). TypeError or ArgumentError naming the argument otherwise. */
static const char *cio_rb_cstr(VALUE v, VALUE *keep, const char *what) {
    VALUE s;
    *keep = Qnil;
    if (NIL_P(v)) {
        return NULL;
    }
    if (!RB_TYPE_P(v, T_STRING)) {
        rb_raise(rb_eTypeError, "%s must be a String or nil (got %" PRIsVALUE ")", what,
                 rb_obj_class(v));
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

/* An Array of Strings as count NUL-terminated copies in one buffer owned by *tmpbuf (a
 * GC-managed temporary buffer, freed by the caller or, after an exception, by the GC), so that
 * nothing Ruby does during the call can reach them. */
static const char **cio_rb_cstr_array(VALUE ary, volatile VALUE *tmpbuf, size_t *count,
                                      const char *what) {
    long n, i;
    size_t bytes;
    const char **items;
    char *p;
    Check_Type(ary, T_ARRAY);
    n = RARRAY_LEN(ary);
    bytes = sizeof(*items) * (size_t)(n > 0 ? n : 1);
    for (i = 0; i < n; i++) {
        VALUE item = RARRAY_AREF(ary, i);
        if (!RB_TYPE_P(item, T_STRING)) {
            rb_raise(rb_eTypeError, "%s[%ld] must be a String (got %" PRIsVALUE ")", what, i,
                     rb_obj_class(item));
        }
        if (memchr(RSTRING_PTR(item), '\0', (size_t)RSTRING_LEN(item)) != NULL) {
            rb_raise(rb_eArgError, "%s[%ld] contains a NUL byte", what, i);
        }
        bytes += (size_t)RSTRING_LEN(item) + 1;
    }
    items = (const char **)rb_alloc_tmp_buffer(tmpbuf, (long)bytes);
    p = (char *)(items + (n > 0 ? n : 1));
    for (i = 0; i < n; i++) {
        VALUE item = RARRAY_AREF(ary, i);
        size_t len = (size_t)RSTRING_LEN(item);
        memcpy(p, RSTRING_PTR(item), len);
        p[len] = '\0';
        items[i] = p;
        p += len + 1;
    }
    *count = (size_t)n;
    return items;
}

/* A batch result as [request_count, [[index, reason, field, message], ...]]. */
static VALUE cio_rb_batch_result_items(const cio_batch_result_t *r) {
    size_t n = cio_batch_result_error_count(r);
    VALUE errors = rb_ary_new_capa((long)n);
    for (size_t i = 0; i < n; i++) {
        const cio_batch_item_error_t *be = cio_batch_result_error(r, i);
        rb_ary_push(errors, rb_ary_new_from_args(4, SIZET2NUM(be->index),
                                                 cio_rb_str_or_nil(be->reason),
                                                 cio_rb_str_or_nil(be->field),
                                                 cio_rb_str_or_nil(be->message)));
    }
    return rb_ary_new_from_args(2, SIZET2NUM(cio_batch_result_request_count(r)), errors);
}

/* The answer to this thread's last synchronous call that succeeded, as [http_status, body,
 * headers] (headers: the status line and header lines as received, "" when not kept), or nil
 * (cio_last_response()). Read right after the call, on the same thread, with the GVL held. */
static VALUE cio_rb_last_response(void) {
    const cio_response_t *r = cio_last_response();
    if (r == NULL) {
        return Qnil;
    }
    return rb_ary_new_from_args(3, INT2NUM(r->http_status),
                                rb_utf8_str_new(r->body, (long)r->body_len),
                                rb_str_new(r->headers, (long)r->headers_len));
}

#include "cio_rb_nogvl.h"
%}

%init %{
    cio_rb_error_class = rb_define_class_under(rb_path2class("CustomerioNative::Native"), "Error",
                                               rb_eStandardError);
    rb_gc_register_mark_object(cio_rb_error_class);
    rb_define_attr(cio_rb_error_class, "status", 1, 0);
    rb_define_attr(cio_rb_error_class, "http_status", 1, 0);
    rb_define_attr(cio_rb_error_class, "body", 1, 0);
    rb_define_attr(cio_rb_error_class, "attempts", 1, 0);
    rb_define_attr(cio_rb_error_class, "retryable", 1, 0);
%}

/* Status returns: raise on error, return nil (or the out-parameters) on success. */
%typemap(out) cio_status_t {
    if ($1 != CIO_OK) {
        cio_rb_raise($1);
    }
    $result = Qnil;
}

/* Strings: String or nil, no NUL byte; held as a frozen copy until the call returns. */
%typemap(in) const char * (VALUE keep = Qnil) {
    $1 = ($1_ltype)cio_rb_cstr($input, &keep, "$1_name");
}
%typemap(freearg) const char * {
    RB_GC_GUARD(keep$argnum);
}
%typemap(out) const char * {
    $result = cio_rb_str_or_nil($1);
}

/* Out-parameters become return values. */
%typemap(in, numinputs=0) cio_client_t **out (cio_client_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_client_t **out {
    $result = SWIG_Ruby_AppendOutput($result, SWIG_NewPointerObj(*$1, $descriptor(cio_client_t *), 0));
}
%typemap(in, numinputs=0) cio_region_t *out (cio_region_t tmp = CIO_REGION_DEFAULT) { $1 = &tmp; }
%typemap(argout) cio_region_t *out {
    $result = SWIG_Ruby_AppendOutput($result, INT2NUM((int)*$1));
}
%typemap(in, numinputs=0) cio_queue_t **out (cio_queue_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_queue_t **out {
    $result = SWIG_Ruby_AppendOutput($result, SWIG_NewPointerObj(*$1, $descriptor(cio_queue_t *), 0));
}

/* Optional event fields: nil, or [timestamp (Integer), id (String or nil)]. */
%typemap(in) const cio_event_options_t *options
    (cio_event_options_t tmp = CIO_EVENT_OPTIONS_INIT, VALUE keep = Qnil) {
    if (NIL_P($input)) {
        $1 = NULL;
    } else {
        Check_Type($input, T_ARRAY);
        if (RARRAY_LEN($input) != 2) {
            rb_raise(rb_eArgError, "options must be [timestamp, id]");
        }
        tmp.timestamp = (int64_t)NUM2LL(RARRAY_AREF($input, 0));
        tmp.id = cio_rb_cstr(RARRAY_AREF($input, 1), &keep, "options id");
        $1 = &tmp;
    }
}
%typemap(freearg) const cio_event_options_t *options {
    RB_GC_GUARD(keep$argnum);
}

/* An Array of Strings as (array, count), copied. */
%typemap(in) (const char *const *operations_json, size_t count) (volatile VALUE tmpbuf = 0),
             (const char *const *messages_json, size_t count) (volatile VALUE tmpbuf = 0),
             (const char *const *ids, size_t count) (volatile VALUE tmpbuf = 0) {
    size_t n = 0;
    $1 = ($1_ltype)cio_rb_cstr_array($input, &tmpbuf, &n, "$1_name");
    $2 = n;
}
%typemap(freearg) (const char *const *operations_json, size_t count),
                  (const char *const *messages_json, size_t count),
                  (const char *const *ids, size_t count) {
    rb_free_tmp_buffer(&tmpbuf$argnum);
}

/* cio_v2_send_batch returns [request_count, [[index, reason, field, message], ...]] when the
 * requests went through (CIO_OK or CIO_E_PARTIAL: rejected items are a result, not an
 * exception) or every item was refused before sending (request_count 0, nothing sent). */
%typemap(in, numinputs=0) cio_batch_result_t **result (cio_batch_result_t *tmp = NULL) {
    $1 = &tmp;
}
%typemap(out) cio_status_t cio_v2_send_batch, cio_status_t cio_cdp_batch {
    $result = Qnil;
}
/* The status is decided here, where the result is at hand: `result` is the wrapper's variable
 * holding the C return value (SWIG's documented name for it). */
%typemap(argout) cio_batch_result_t **result {
    if (result != CIO_OK && result != CIO_E_PARTIAL &&
        !(*$1 != NULL && cio_batch_result_request_count(*$1) == 0)) {
        VALUE exc = cio_rb_error_new(result);
        cio_batch_result_free(*$1);
        *$1 = NULL;
        rb_exc_raise(exc);
    }
    if (*$1 != NULL) {
        VALUE items = cio_rb_batch_result_items(*$1);
        cio_batch_result_free(*$1);
        *$1 = NULL;
        $result = SWIG_Ruby_AppendOutput($result, items);
    }
}

/* Errors are raised from the status typemap; event options are [timestamp, id] arrays. */
%ignore cio_error;
%ignore cio_last_error;
%ignore cio_error_clear;
%ignore cio_event_options;
/* The last 2xx answer comes back from cio_rb_last_response() as an Array. */
%ignore cio_response;
%ignore cio_last_response;
%typemap(out) VALUE cio_rb_last_response { $result = $1; }

/* Asynchronous calls are for event loops; the Ruby classes make blocking calls that release the
 * GVL instead. Completion queues are wrapped for the delivery pipeline's reports only
 * (cio_queue_new, cio_queue_fd, cio_queue_size, cio_queue_free; completions are taken off with
 * cio_rb_queue_drain, see pipeline.i). */
%ignore cio_async_next;
%ignore cio_queue_poll;
%ignore cio_completion;
%ignore cio_completion_free;

/* Batch results come back from cio_v2_send_batch as arrays. */
%ignore cio_batch_result_request_count;
%ignore cio_batch_result_error_count;
%ignore cio_batch_result_error;
%ignore cio_batch_result_free;
%ignore cio_batch_item_error;

#ifdef CIO_SWIG_WEBHOOK
/* ---- webhooks (customerio/webhook.h); quick, CPU-only calls that keep the GVL ---- */

/* A raw body: a String of any encoding (its bytes, NUL bytes allowed) or nil. */
%typemap(in) (const char *body, size_t body_len) (VALUE keep = Qnil) {
    if (NIL_P($input)) {
        $1 = NULL;
        $2 = 0;
    } else {
        Check_Type($input, T_STRING);
        keep = rb_str_new_frozen($input);
        $1 = RSTRING_PTR(keep);
        $2 = (size_t)RSTRING_LEN(keep);
    }
}
%typemap(freearg) (const char *body, size_t body_len) {
    RB_GC_GUARD(keep$argnum);
}

/* cio_webhook_sign's out buffer becomes the returned String. */
%typemap(in, numinputs=0) char out[ANY] (char tmp[$1_dim0]) {
    tmp[0] = '\0';
    $1 = tmp;
}
%typemap(argout) char out[ANY] {
    $result = SWIG_Ruby_AppendOutput($result, rb_utf8_str_new_cstr($1));
}

/* cio_webhook_parse returns the events as an Array of [event_id, object_type, metric,
 * timestamp, delivery_id, data_json, json]; the C list is freed at once. */
%typemap(in, numinputs=0) cio_webhook_events_t **out (cio_webhook_events_t *tmp = NULL) {
    $1 = &tmp;
}
%typemap(argout) cio_webhook_events_t **out {
    size_t n = cio_webhook_events_count(*$1);
    VALUE list = rb_ary_new_capa((long)n);
    for (size_t i = 0; i < n; i++) {
        const cio_webhook_event_t *ev = cio_webhook_events_get(*$1, i);
        VALUE item = rb_ary_new_capa(7);
        rb_ary_push(item, cio_rb_str_or_nil(ev->event_id));
        rb_ary_push(item, cio_rb_str_or_nil(ev->object_type));
        rb_ary_push(item, cio_rb_str_or_nil(ev->metric));
        rb_ary_push(item, LL2NUM((long long)ev->timestamp));
        rb_ary_push(item, cio_rb_str_or_nil(ev->delivery_id));
        rb_ary_push(item, cio_rb_str_or_nil(ev->data_json));
        rb_ary_push(item, cio_rb_str_or_nil(ev->json));
        rb_ary_push(list, item);
    }
    cio_webhook_events_free(*$1);
    *$1 = NULL;
    $result = SWIG_Ruby_AppendOutput($result, list);
}

%typemap(in, numinputs=0) cio_webhook_dedup_t **out (cio_webhook_dedup_t *tmp = NULL) {
    $1 = &tmp;
}
%typemap(argout) cio_webhook_dedup_t **out {
    $result = SWIG_Ruby_AppendOutput($result,
        SWIG_NewPointerObj(*$1, $descriptor(cio_webhook_dedup_t *), 0));
}
%typemap(in, numinputs=0) int *is_duplicate (int tmp = 0) { $1 = &tmp; }
%typemap(argout) int *is_duplicate {
    $result = SWIG_Ruby_AppendOutput($result, *$1 ? Qtrue : Qfalse);
}

%ignore cio_webhook_events_count;
%ignore cio_webhook_events_get;
%ignore cio_webhook_events_free;
%ignore cio_webhook_event;
#endif /* CIO_SWIG_WEBHOOK */
#endif /* SWIGRUBY */

/* ======================================================================================== */
/* Language-neutral part: the public headers. */

/* cio_client_new takes a struct of borrowed strings; bindings call cio_swig_client_new_v4. */
%ignore cio_client_new;
%ignore cio_client_options;
/* char out[CIO_ULID_BUFSIZE] has no natural mapping; events get ULIDs from the library. */
%ignore cio_ulid;

%include "customerio/common.h"
%include "customerio/errors.h"
%include "request.i"
%include "customerio/client.h"
%include "customerio/track.h"
%include "customerio/track_v2.h"
%include "customerio/async.h"
/* Headers that landed after the first binding: included when the build finds them (see
 * bindings/python/CMakeLists.txt), so the interface builds on any tree. */
#ifdef CIO_SWIG_WEBHOOK
%include "customerio/webhook.h"
#endif

cio_status_t cio_swig_client_new_v4(const char *site_id, const char *api_key,
                                    const char *app_api_key, int region, const char *track_url,
                                    const char *app_url, long connect_timeout_ms,
                                    long timeout_ms, int max_attempts, long backoff_base_ms,
                                    long backoff_max_ms, long retry_after_max_ms,
                                    const char *user_agent, int tls_insecure,
                                    const char *ca_file, int max_connections, int ignore_env,
                                    const char *cdp_api_key, const char *cdp_url,
                                    int cdp_permissive, const char *cdp_batch_path,
                                    cio_client_t **out);

#ifdef SWIGPYTHON
PyObject *cio_py_queue_drain(cio_queue_t *queue);
PyObject *cio_py_last_response(void);
#endif
#ifdef SWIGRUBY
VALUE cio_rb_last_response(void);
#endif
#ifdef SWIGRUBY
VALUE cio_rb_last_response(void);
#endif
%include "app.i"
%include "pipeline.i"
%include "cdp.i"
