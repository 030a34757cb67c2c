/*
 * bindings/python.i - the SWIG interface of libcustomerio for Python: the extension module
 * customerio_native._native (the generated native.py proxy is not shipped: the package calls the
 * flat functions of _native directly). Python's typemaps and helpers are here; the
 * language-neutral part (the public headers, the option configs, app.i, pipeline.i, cdp.i) is
 * bindings/core.i, included at the end so these typemaps apply to it.
 *
 * The wrapped functions are the C API itself, name for name (cio_identify, cio_track, ...). The
 * idiomatic classes (CustomerIO, AsyncCustomerIO, ...) live in customerio_native/, which only
 * translates names and types.
 */
%module(package="customerio_native") native

%{
#include <customerio/customerio.h>
#include <stdlib.h>
#include <string.h>
%}

%include <stdint.i>

/*
 * Python: every cio_status_t other than CIO_OK raises customerio_native._native.Error with
 * args (status, http_status, message, response_body: bytes | None, attempts, retryable: bool,
 * server_code: str | None, server_message: str | None), read from cio_last_error() on the
 * calling thread right after the call (server_code / server_message: what the answer said, read
 * by the core, so the package never parses an error body). Out-parameters become return
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
    PyObject *args = Py_BuildValue(
        "(iiNNiNNN)", (int)status, e != NULL ? e->http_status : 0, msg, body,
        e != NULL ? e->attempts : 0, PyBool_FromLong(e != NULL && e->retryable),
        cio_py_str_or_none(e != NULL ? e->server_code : NULL),
        cio_py_str_or_none(e != NULL ? e->server_message : NULL));
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
 * retryable: bool, server_code, server_message) where batch is None or (request_count,
 * [(index, reason, field, message), ...]), reason and field are Customer.io's (pipeline reports)
 * or None, retryable is the core's transient/permanent verdict (cio_completion_t.retryable), and
 * server_code / server_message are what the error answer said, as the core read it, or None. */
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
            item = Py_BuildValue("(KiiiNNNNNNNN)", (unsigned long long)c->token, (int)c->status,
                                 c->http_status, c->attempts, cio_py_str_or_none(c->message),
                                 cio_py_bytes_or_none(c->response, c->response_len), batch,
                                 cio_py_str_or_none(c->reason), cio_py_str_or_none(c->field),
                                 PyBool_FromLong(c->retryable),
                                 cio_py_str_or_none(c->server_code),
                                 cio_py_str_or_none(c->server_message));
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
        "attempts, retryable, server_code, server_message).",
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
/* The out typemap hands the status to the argout one below in $result (argout typemaps run
 * after the out typemap), which decides where the result is at hand and replaces it. */
%typemap(out) cio_status_t cio_v2_send_batch, cio_status_t cio_v2_send_batch_async,
                 cio_status_t cio_cdp_batch {
    $result = PyLong_FromLong((long)$1);
    if ($result == NULL) {
        SWIG_fail;
    }
}
%typemap(argout) cio_batch_result_t **result {
    cio_status_t status = (cio_status_t)PyLong_AsLong($result);
    Py_DECREF($result);
    $result = NULL;
    if (status != CIO_OK && status != CIO_E_PARTIAL &&
        !(*$1 != NULL && cio_batch_result_request_count(*$1) == 0)) {
        cio_batch_result_free(*$1);
        *$1 = NULL;
        cio_py_raise(status);
        SWIG_fail;
    }
    if (*$1 != NULL) {
        $result = cio_py_batch_result_items(*$1);
        cio_batch_result_free(*$1);
        *$1 = NULL;
        if ($result == NULL) {
            SWIG_fail;
        }
    } else {
        $result = SWIG_Py_Void();
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

/* Option configs (customerio/options.h). */
%typemap(in, numinputs=0) cio_config_t **out (cio_config_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_config_t **out {
    $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(*$1, $descriptor(cio_config_t *), 0));
}
/* An options table row as (name, type, doc), or None past the end. */
%typemap(out) const cio_option_info_t * {
    $result = $1 != NULL ? Py_BuildValue("(sss)", $1->name, $1->type, $1->doc) : SWIG_Py_Void();
}
%feature("nothread") cio_config_new;
%feature("nothread") cio_config_set;
%feature("nothread") cio_config_free;
%feature("nothread") cio_config_option;

%include "core.i"

PyObject *cio_py_queue_drain(cio_queue_t *queue);
PyObject *cio_py_last_response(void);
