/*
 * bindings/py_message.i - Python only: one Pipelines API message from Python objects to the
 * delivery pipeline in one call (customerio_native.analytics's hot path). Included by cdp.i.
 *
 * cio_py_message() (and cio_py_message_fast(), see below) takes the message's parts as Python
 * objects, writes the JSON text of the traits/properties/context/integrations dicts itself,
 * hands the parts to the core (cio_pipeline_try_enqueue_message, or cio_cdp_build without a
 * pipeline), which builds, validates and completes the message, and returns the message as
 * sent, as a dict, from the same parts plus what the core filled in (messageId, timestamp,
 * context.library). Nothing is validated here: this is only the translation of Python values
 * into the core's arguments.
 *
 * The JSON writer covers the values Python's json module writes by itself, and writes them the
 * same way (json.dumps(..., ensure_ascii=False, allow_nan=False, separators=(",", ":"))): dicts
 * with str keys, lists, str, int, float (repr), True/False/None, exact types only. Anything else
 * (a datetime, a Decimal, a tuple, a subclass, a non-str key, a very deep nesting) makes the call
 * return NotImplemented before anything is queued: the Python layer then converts the value with
 * its json encoder and calls again.
 */

%{
#include <math.h>

/* The core's buffer and JSON string escaper (core/src/util: private headers, the module links
 * the core's objects statically): one escaper for every JSON string the library writes. */
#include "util/buf.h"
#include "util/error.h"
#include "util/json_write.h"

/* A growing output buffer on the stack first: most messages are a few hundred bytes. */
typedef struct cio_py_text {
    cio_buf_t buf;
    char stack[1024];
} cio_py_text_t;

static void cio_py_text_init(cio_py_text_t *t) { t->buf = CIO_BUF_ON(t->stack, sizeof(t->stack)); }

static void cio_py_text_free(cio_py_text_t *t) {
    cio__buf_free(&t->buf);
    cio_py_text_init(t);
}

/* Appends n bytes (kept NUL-terminated); -1 with MemoryError set. */
static inline int cio_py_text_add(cio_py_text_t *t, const char *s, size_t n) {
    if (!cio__buf_append(&t->buf, s, n)) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* The decimal digits of v into out (no NUL); returns how many. */
static int cio_py_digits(unsigned long long v, char out[24]) {
    char rev[24];
    int n = 0, i;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++) {
        out[i] = rev[n - 1 - i];
    }
    return n;
}

/* Whether every byte of s is printable ASCII (0x20-0x7f; with no_del, 0x20-0x7e) but '"' and
 * '\\': a JSON string whose text is its bytes in quotes (json.dumps writes 0x7f as it is with
 * ensure_ascii=False, as \u007f with ensure_ascii=True). Eight bytes at a time, as cdp.c checks
 * a message's strings. */
static int cio_py_plain_ascii(const char *s, size_t len, int no_del) {
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x, q, b, d;
        memcpy(&x, s + i, 8);
        q = x ^ (ones * '"');
        b = x ^ (ones * '\\');
        d = no_del ? x ^ (ones * 0x7f) : ~(uint64_t)0;
        if (((x - ones * 0x20) & ~x & high) | (x & high) | ((q - ones) & ~q & high) |
            ((b - ones) & ~b & high) | ((d - ones) & ~d & high)) {
            return 0;
        }
    }
    for (; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || (no_del && c == 0x7f)) {
            return 0;
        }
    }
    return 1;
}

/* Appends s[0..n) in quotes, in one step; -1 with MemoryError set. */
static int cio_py_text_add_quoted(cio_py_text_t *t, const char *s, size_t n) {
    char *w;
    if (t->buf.len + n + 3 > t->buf.cap && !cio__buf_reserve(&t->buf, n + 2)) {
        PyErr_NoMemory();
        return -1;
    }
    w = t->buf.data + t->buf.len;
    w[0] = '"';
    memcpy(w + 1, s, n);
    w[n + 1] = '"';
    w[n + 2] = '\0';
    t->buf.len += n + 2;
    return 0;
}

/* An ASCII str from C bytes: no UTF-8 decoding (the ULID and the timestamp). */
static PyObject *cio_py_ascii(const char *s) {
    size_t n = strlen(s);
    PyObject *o = PyUnicode_New((Py_ssize_t)n, 127);
    if (o != NULL) {
        memcpy(PyUnicode_DATA(o), s, n);
    }
    return o;
}

/* Returned up through the writer for a str holding a NUL, which the core's escaper (C strings)
 * cannot take and the core refuses in any JSON string (\u0000): cio_py_message raises that. */
#define CIO_PY_TEXT_NUL (-2)

/* A str as a JSON string, escaped as json.dumps(ensure_ascii=False) does, by the core's escaper.
 * 1 = written, CIO_PY_TEXT_NUL, -1 = error set (a lone surrogate, memory). */
static int cio_py_text_add_str(cio_py_text_t *t, PyObject *s) {
    Py_ssize_t n = 0;
    const char *p;
    if (
#if PY_VERSION_HEX < 0x030C0000
        PyUnicode_IS_READY(s) &&
#endif
        PyUnicode_IS_ASCII(s)) { /* its bytes are its UTF-8: copied as they are when plain */
        p = (const char *)PyUnicode_DATA(s);
        n = PyUnicode_GET_LENGTH(s);
        if (cio_py_plain_ascii(p, (size_t)n, 0)) {
            return cio_py_text_add_quoted(t, p, (size_t)n) == 0 ? 1 : -1;
        }
    }
    p = PyUnicode_AsUTF8AndSize(s, &n); /* fails on lone surrogates */
    if (p == NULL) {
        return -1;
    }
    if (memchr(p, 0, (size_t)n) != NULL) {
        return CIO_PY_TEXT_NUL;
    }
    if (!cio__buf_append_json_string(&t->buf, p)) {
        PyErr_NoMemory();
        return -1;
    }
    return 1;
}

/*
 * A float as repr() writes it (json does the same). Prices and amounts, exactly m / 10^k for an
 * integer m and k <= 4 (the smallest such k; |v| from 1e-4 to 1e15, where repr writes fixed
 * point), are written from m: repr's shortest round-trip digits are those, and finding them costs
 * more than the rest of a small message. Everything else goes through PyOS_double_to_string.
 */
static int cio_py_text_add_float(cio_py_text_t *t, double v) {
    static const double pow10[] = {1.0, 10.0, 100.0, 1000.0, 10000.0};
    double a = v < 0 ? -v : v;
    char *repr;
    int k, rc;
    if (a >= 1e-4 && a < 1e15) {
        for (k = 0; k <= 4; k++) {
            double m = nearbyint(v * pow10[k]);
            if (m / pow10[k] == v && m > -9007199254740992.0 && m < 9007199254740992.0) {
                char digits[40], out[48];
                long long im = (long long)m;
                unsigned long long u = im < 0 ? (unsigned long long)(-im) : (unsigned long long)im;
                int n = cio_py_digits(u, digits), o = 0, lead;
                if (im < 0) {
                    out[o++] = '-';
                }
                if (k == 0) {
                    memcpy(out + o, digits, (size_t)n);
                    memcpy(out + o + n, ".0", 2);
                    return cio_py_text_add(t, out, (size_t)(o + n + 2)) == 0 ? 1 : -1;
                }
                if (n <= k) { /* 0.05: "0." and the zeros before the digits */
                    out[o++] = '0';
                    out[o++] = '.';
                    for (lead = n; lead < k; lead++) {
                        out[o++] = '0';
                    }
                    memcpy(out + o, digits, (size_t)n);
                    o += n;
                } else {
                    memcpy(out + o, digits, (size_t)(n - k));
                    o += n - k;
                    out[o++] = '.';
                    memcpy(out + o, digits + n - k, (size_t)k);
                    o += k;
                }
                return cio_py_text_add(t, out, (size_t)o) == 0 ? 1 : -1;
            }
        }
    }
    repr = PyOS_double_to_string(v, 'r', 0, Py_DTSF_ADD_DOT_0, NULL); /* float.__repr__ */
    if (repr == NULL) {
        return -1;
    }
    rc = cio_py_text_add(t, repr, strlen(repr));
    PyMem_Free(repr);
    return rc == 0 ? 1 : -1;
}

/* 1 = written, 0 = a value for the json module (see the top), -1 = error set. */
static int cio_py_text_add_value(cio_py_text_t *t, PyObject *o, int depth) {
    if (o == Py_None) {
        return cio_py_text_add(t, "null", 4) == 0 ? 1 : -1;
    }
    if (o == Py_True) {
        return cio_py_text_add(t, "true", 4) == 0 ? 1 : -1;
    }
    if (o == Py_False) {
        return cio_py_text_add(t, "false", 5) == 0 ? 1 : -1;
    }
    if (PyUnicode_CheckExact(o)) {
        return cio_py_text_add_str(t, o);
    }
    if (PyLong_CheckExact(o)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        char digits[32];
        PyObject *repr;
        int rc;
        if (overflow == 0) {
            if (v == -1 && PyErr_Occurred()) {
                return -1;
            }
            int n = 0;
            if (v < 0) {
                digits[n++] = '-';
            }
            n += cio_py_digits(v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v,
                               digits + n);
            return cio_py_text_add(t, digits, (size_t)n) == 0 ? 1 : -1;
        }
        repr = PyObject_Repr(o); /* beyond 64 bits: every digit, as json writes it */
        if (repr == NULL) {
            return -1;
        }
        {
            Py_ssize_t n = 0;
            const char *s = PyUnicode_AsUTF8AndSize(repr, &n);
            rc = s == NULL ? -1 : cio_py_text_add(t, s, (size_t)n);
        }
        Py_DECREF(repr);
        return rc == 0 ? 1 : -1;
    }
    if (PyFloat_CheckExact(o)) {
        double v = PyFloat_AS_DOUBLE(o);
        if (!Py_IS_FINITE(v)) {
            PyErr_SetString(PyExc_ValueError, "Out of range float values are not JSON compliant");
            return -1;
        }
        return cio_py_text_add_float(t, v);
    }
    if (depth > 500) {
        return 0; /* the json module reports circular references */
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
                return 0; /* json.dumps turns 1, 2.5, True, None keys into strings */
            }
            if (!first && cio_py_text_add(t, ",", 1) != 0) {
                return -1;
            }
            if ((rc = cio_py_text_add_str(t, key)) != 1) {
                return rc;
            }
            if (cio_py_text_add(t, ":", 1) != 0) {
                return -1;
            }
            first = 0;
            Py_INCREF(value); /* a __repr__ of a long int may run code that changes o */
            rc = cio_py_text_add_value(t, value, depth + 1);
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
            rc = cio_py_text_add_value(t, item, depth + 1);
            Py_DECREF(item);
            if (rc != 1) {
                return rc;
            }
        }
        return cio_py_text_add(t, "]", 1) == 0 ? 1 : -1;
    }
    return 0;
}

/* The message's member names, made once (PyDict_SetItemString would make a str per call). */
enum {
    CIO_PY_KEY_MESSAGE_ID,
    CIO_PY_KEY_TIMESTAMP,
    CIO_PY_KEY_CONTEXT,
    CIO_PY_KEY_LIBRARY,
    CIO_PY_KEY_TYPE,
    CIO_PY_KEY_USER_ID,
    CIO_PY_KEY_ANONYMOUS_ID,
    CIO_PY_KEY_PREVIOUS_ID,
    CIO_PY_KEY_GROUP_ID,
    CIO_PY_KEY_EVENT,
    CIO_PY_KEY_NAME,
    CIO_PY_KEY_CATEGORY,
    CIO_PY_KEY_TRAITS,
    CIO_PY_KEY_PROPERTIES,
    CIO_PY_KEY_INTEGRATIONS,
    CIO_PY_KEY_COUNT
};
static PyObject *cio_py_keys[CIO_PY_KEY_COUNT];

/* -1 with an exception set if a name could not be made (under the GIL: no race). */
static int cio_py_keys_ready(void) {
    static const char *const names[CIO_PY_KEY_COUNT] = {
        "messageId", "timestamp", "context", "library",  "type",       "userId",      "anonymousId",
        "previousId", "groupId", "event",   "name",     "category",   "traits",      "properties",
        "integrations"};
    int i;
    if (cio_py_keys[CIO_PY_KEY_COUNT - 1] != NULL) {
        return 0;
    }
    for (i = 0; i < CIO_PY_KEY_COUNT; i++) {
        if (cio_py_keys[i] == NULL) {
            cio_py_keys[i] = PyUnicode_InternFromString(names[i]);
        }
        if (cio_py_keys[i] == NULL) {
            return -1;
        }
    }
    return 0;
}

/*
 * The message dict is copied from a template holding its keys (one template per set of members
 * present, made on first use): CPython clones a template's key table in one go, and replacing
 * values then costs far less than inserting the members one by one into a new dict.
 */
enum { CIO_PY_ALWAYS = 4 }; /* messageId, timestamp, context and type are always sent */
static PyObject *cio_py_templates[1 << (CIO_PY_KEY_COUNT - CIO_PY_ALWAYS - 1)];
/* The type each template holds as its value (the first caller's: the Python layer passes the
 * same str constant on every call, so the copy needs no new value for it then). Borrowed: the
 * template keeps it. */
static PyObject *cio_py_template_types[1 << (CIO_PY_KEY_COUNT - CIO_PY_ALWAYS - 1)];

/* The template for the members whose bit is set in present (bit 0: the first optional one). */
static PyObject *cio_py_template(unsigned present, PyObject *type) {
    static const int always[CIO_PY_ALWAYS] = {CIO_PY_KEY_MESSAGE_ID, CIO_PY_KEY_TIMESTAMP,
                                              CIO_PY_KEY_CONTEXT, CIO_PY_KEY_TYPE};
    PyObject *t = cio_py_templates[present];
    int i;
    if (t != NULL) {
        return t;
    }
    t = PyDict_New();
    for (i = 0; t != NULL && i < CIO_PY_ALWAYS; i++) {
        if (PyDict_SetItem(t, cio_py_keys[always[i]], Py_None) != 0) {
            Py_CLEAR(t);
        }
    }
    for (i = 0; t != NULL && i < CIO_PY_KEY_COUNT - CIO_PY_ALWAYS - 1; i++) {
        if ((present & (1u << i)) != 0 &&
            PyDict_SetItem(t, cio_py_keys[CIO_PY_KEY_USER_ID + i], Py_None) != 0) {
            Py_CLEAR(t);
        }
    }
    if (t != NULL && PyDict_SetItem(t, cio_py_keys[CIO_PY_KEY_TYPE], type) != 0) {
        Py_CLEAR(t);
    }
    cio_py_templates[present] = t; /* kept for the life of the process (under the GIL) */
    cio_py_template_types[present] = t != NULL ? type : NULL;
    return t;
}

/* The message as sent: the caller's parts plus what the core filled in. */
static PyObject *cio_py_message_dict(PyObject *library, PyObject *type, PyObject *user_id,
                                     PyObject *anonymous_id, PyObject *previous_id,
                                     PyObject *group_id, PyObject *event, PyObject *name,
                                     PyObject *category, PyObject *traits, PyObject *properties,
                                     PyObject *context, PyObject *integrations,
                                     PyObject *timestamp, PyObject *message_id,
                                     const cio_cdp_stamp_t *stamp) {
    /* the optional members, in the order of the keys from CIO_PY_KEY_USER_ID on */
    PyObject *const optional[] = {user_id, anonymous_id, previous_id, group_id, event, name,
                                  category, traits, properties, integrations};
    PyObject *const *k = cio_py_keys;
    PyObject *msg = NULL, *id = NULL, *time = NULL, *ctx = NULL, *lib = NULL, *template;
    unsigned present = 0;
    size_t i;
    int rc = 0;
    for (i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
        present |= optional[i] != Py_None ? 1u << i : 0u;
    }
    template = cio_py_template(present, type);
    id = stamp->message_id[0] != '\0' ? cio_py_ascii(stamp->message_id)
                                       : (Py_INCREF(message_id), message_id);
    time = stamp->timestamp[0] != '\0' ? cio_py_ascii(stamp->timestamp)
                                       : (Py_INCREF(timestamp), timestamp);
    /* context.library: the core adds it unless the caller's context has one */
    if (context != Py_None && PyDict_GetItemWithError(context, k[CIO_PY_KEY_LIBRARY]) != NULL) {
        ctx = context;
        Py_INCREF(ctx);
    } else if (!PyErr_Occurred()) {
        lib = PyDict_Copy(library);
        ctx = lib == NULL ? NULL : PyDict_New();
        rc = ctx == NULL ? -1 : PyDict_SetItem(ctx, k[CIO_PY_KEY_LIBRARY], lib);
        if (rc == 0 && context != Py_None) {
            rc = PyDict_Update(ctx, context);
        }
    }
    msg = template == NULL || id == NULL || time == NULL || ctx == NULL || rc != 0
              ? NULL
              : PyDict_Copy(template);
    rc = msg == NULL ? -1 : 0;
    if (rc == 0) rc = PyDict_SetItem(msg, k[CIO_PY_KEY_MESSAGE_ID], id);
    if (rc == 0) rc = PyDict_SetItem(msg, k[CIO_PY_KEY_TIMESTAMP], time);
    if (rc == 0) rc = PyDict_SetItem(msg, k[CIO_PY_KEY_CONTEXT], ctx);
    if (rc == 0 && type != cio_py_template_types[present]) {
        rc = PyDict_SetItem(msg, k[CIO_PY_KEY_TYPE], type);
    }
    for (i = 0; rc == 0 && i < sizeof(optional) / sizeof(optional[0]); i++) {
        if (optional[i] != Py_None) {
            rc = PyDict_SetItem(msg, k[CIO_PY_KEY_USER_ID + i], optional[i]);
        }
    }
    Py_XDECREF(id);
    Py_XDECREF(time);
    Py_XDECREF(ctx);
    Py_XDECREF(lib);
    if (rc != 0) {
        Py_XDECREF(msg);
        return NULL;
    }
    return msg;
}

/*
 * The pipeline's pointer from the Python Pipeline object, read under the GIL; NULL with
 * CIO_E_CLOSED raised once it is closed. Called right before the enqueue, with no call into
 * Python between the two: Pipeline.close() clears _ptr under the GIL before it frees the
 * pipeline, and anything that can run Python code (a signal handler, which the decimal writing
 * of a long int checks for, could call join()) has run by then.
 */
static cio_pipeline_t *cio_py_pipeline_of(PyObject *pipeline) {
    static PyObject *ptr_name = NULL;
    void *raw = NULL;
    PyObject *ptr;
    if (ptr_name == NULL && (ptr_name = PyUnicode_InternFromString("_ptr")) == NULL) {
        return NULL;
    }
    ptr = PyObject_GetAttr(pipeline, ptr_name);
    if (ptr == NULL) {
        return NULL;
    }
    if (ptr == Py_None) {
        PyObject *err = Py_BuildValue("(iisOiOOO)", (int)CIO_E_CLOSED, 0,
                                      "the pipeline is closed", Py_None, 0, Py_False, Py_None,
                                      Py_None);
        if (err != NULL) {
            PyErr_SetObject(cio_py_error_type, err);
            Py_DECREF(err);
        }
    } else if (!SWIG_IsOK(SWIG_ConvertPtr(ptr, &raw, SWIGTYPE_p_cio_pipeline, 0))) {
        PyErr_SetString(PyExc_TypeError, "cio_py_message: pipeline._ptr is not a pipeline");
    }
    Py_DECREF(ptr); /* the Pipeline object keeps it */
    return (cio_pipeline_t *)raw;
}

/*
 * The message with pipeline (a customerio_native Pipeline on the Pipelines sink): queued with
 * cio_pipeline_try_enqueue_message, which never waits (a full queue raises CIO_E_QUEUE_FULL
 * whatever the pipeline's when_full says), so the GIL is held throughout; returns the message as
 * sent (a dict). With None: only built (cio_cdp_build), returns (the message as sent, its JSON
 * text). NotImplemented: a value for the json module (see the top), nothing queued. library is
 * context.library as the core writes it (a dict, read once by the caller). The strings are
 * borrowed from the argument objects.
 */
static PyObject *cio_py_message(PyObject *pipeline, PyObject *library, PyObject *type,
                                PyObject *user_id, PyObject *anonymous_id, PyObject *previous_id,
                                PyObject *group_id, PyObject *event, PyObject *name,
                                PyObject *category, PyObject *traits, PyObject *properties,
                                PyObject *context, PyObject *integrations, PyObject *timestamp,
                                PyObject *message_id) {
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    cio_cdp_stamp_t stamp;
    cio_py_text_t objects[4];
    PyObject *const values[4] = {traits, properties, context, integrations};
    const char **texts[4] = {&m.traits_json, &m.properties_json, &m.context_json,
                             &m.integrations_json};
    PyObject *result = NULL, *msg;
    char *text = NULL;
    cio_status_t st;
    uint64_t seq = 0;
    int i, rc = 0;
    if (cio_py_keys_ready() != 0) {
        return NULL;
    }
    if (!PyDict_Check(library)) {
        PyErr_SetString(PyExc_TypeError, "library must be a dict");
        return NULL;
    }
    if (cio_py_as_cstring(type, &m.type, "type") != 0 ||
        cio_py_as_cstring(user_id, &m.user_id, "user_id") != 0 ||
        cio_py_as_cstring(anonymous_id, &m.anonymous_id, "anonymous_id") != 0 ||
        cio_py_as_cstring(previous_id, &m.previous_id, "previous_id") != 0 ||
        cio_py_as_cstring(group_id, &m.group_id, "group_id") != 0 ||
        cio_py_as_cstring(event, &m.event, "event") != 0 ||
        cio_py_as_cstring(name, &m.name, "name") != 0 ||
        cio_py_as_cstring(category, &m.category, "category") != 0 ||
        cio_py_as_cstring(timestamp, &m.timestamp, "timestamp") != 0 ||
        cio_py_as_cstring(message_id, &m.message_id, "message_id") != 0) {
        return NULL;
    }
    for (i = 0; i < 4; i++) {
        cio_py_text_init(&objects[i]);
    }
    for (i = 0; i < 4 && rc == 0; i++) {
        if (values[i] != Py_None) {
            int done = cio_py_text_add_value(&objects[i], values[i], 0);
            rc = done == 1 ? 0 : done == 0 ? 1 : -1;
            if (done == CIO_PY_TEXT_NUL) { /* as the core's JSON scanner says it */
                static const char *const names[4] = {"traits", "properties", "context",
                                                     "integrations"};
                cio_py_raise(cio__fail(CIO_E_INVALID_ARGUMENT,
                                       "cdp_build: %s is not valid JSON (\\u0000 is not allowed)",
                                       names[i]));
            }
            *texts[i] = objects[i].buf.data;
        }
    }
    if (rc == 0 && pipeline == Py_None) {
        st = cio_cdp_build(&m, &text, &stamp);
        if (st != CIO_OK) {
            cio_py_raise(st);
            rc = -1;
        }
    } else if (rc == 0) {
        cio_pipeline_t *p = cio_py_pipeline_of(pipeline); /* then straight to the enqueue */
        st = p == NULL ? CIO_E_CLOSED : cio_pipeline_try_enqueue_message(p, &m, &stamp, &seq);
        if (p != NULL && st != CIO_OK) {
            cio_py_raise(st);
        }
        rc = st == CIO_OK ? 0 : -1;
    }
    for (i = 0; i < 4; i++) {
        cio_py_text_free(&objects[i]);
    }
    if (rc == 1) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    if (rc != 0) {
        return NULL;
    }
    msg = cio_py_message_dict(library, type, user_id, anonymous_id, previous_id, group_id, event,
                              name, category, traits, properties, context, integrations,
                              timestamp, message_id, &stamp);
    if (pipeline != Py_None || msg == NULL) {
        cio_free(text);
        return msg;
    }
    result = Py_BuildValue("(Ns)", msg, text);
    cio_free(text);
    return result;
}

/* The Python entry point, registered below with METH_FASTCALL rather than wrapped by SWIG:
 * its sixteen arguments would otherwise be packed into a tuple and unpacked again on every
 * message, a measurable part of the call. */
/* args[0] is the Python Pipeline object (or None: build only); see cio_py_pipeline_of. */
static PyObject *cio_py_message_fastcall(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const int text_args[] = {3, 4, 5, 6, 14, 15}; /* the ids and the timestamp */
    size_t i;
    if (nargs != 16) {
        PyErr_Format(PyExc_TypeError, "cio_py_message takes 16 arguments (%zd given)", nargs);
        return NULL;
    }
    /* cio_py_message_fast (self is True): the common call as the caller got it; anything the
     * Python layer prepares first (no pipeline, a number id, a datetime) is NotImplemented. */
    if (self == Py_True) {
        if (args[0] == Py_None || args[0] == Py_False) {
            Py_RETURN_NOTIMPLEMENTED;
        }
        for (i = 0; i < sizeof(text_args) / sizeof(text_args[0]); i++) {
            if (args[text_args[i]] != Py_None && !PyUnicode_CheckExact(args[text_args[i]])) {
                Py_RETURN_NOTIMPLEMENTED;
            }
        }
    }
    return cio_py_message(args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7],
                          args[8], args[9], args[10], args[11], args[12], args[13], args[14],
                          args[15]);
}

static PyMethodDef cio_py_message_def = {
    "cio_py_message", (PyCFunction)(void (*)(void))cio_py_message_fastcall, METH_FASTCALL,
    "cio_py_message(pipeline, library, type, user_id, anonymous_id, previous_id, group_id, "
    "event, name, category, traits, properties, context, integrations, timestamp, message_id)"};
static PyMethodDef cio_py_message_fast_def = {
    "cio_py_message_fast", (PyCFunction)(void (*)(void))cio_py_message_fastcall, METH_FASTCALL,
    "cio_py_message_fast(...): cio_py_message, or NotImplemented when the pipeline is None or "
    "False, or an id or the timestamp is not a str or None."};
%}

%init %{
    {
        PyObject *fn = PyCFunction_NewEx(&cio_py_message_def, NULL, NULL);
        if (fn == NULL || PyModule_AddObject(m, "cio_py_message", fn) != 0) {
            Py_XDECREF(fn);
        }
        fn = PyCFunction_NewEx(&cio_py_message_fast_def, Py_True, NULL);
        if (fn == NULL || PyModule_AddObject(m, "cio_py_message_fast", fn) != 0) {
            Py_XDECREF(fn);
        }
    }
%}
