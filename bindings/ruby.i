/*
 * bindings/ruby.i - the SWIG interface of libcustomerio for Ruby: the module
 * CustomerioNative::Native, built as customerio_native/customerio_native_ext.so
 * (swig -ruby -initname customerio_native_ext; see bindings/ruby/ext/customerio_native). Ruby's
 * typemaps and helpers are here; the language-neutral part (the public headers, the option
 * configs, app.i, pipeline.i, cdp.i) is bindings/core.i, included at the end so these typemaps
 * apply to it.
 *
 * The wrapped functions are the C API itself, name for name (cio_identify, cio_track, ...). The
 * gem's lib/ layer maps them to the official classes.
 */
%module "CustomerioNative::Native"

%{
#include <customerio/customerio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
%}

%include <stdint.i>

/*
 * Ruby: every cio_status_t other than CIO_OK raises CustomerioNative::Native::Error, a
 * StandardError whose message is the C library's and whose status, http_status, body,
 * attempts, retryable (the core's transient/permanent verdict), server_code and server_message
 * (what the server's error answer says, read by the core; nil when it says nothing) come from
 * cio_last_error() on the calling thread, read right after the call. Out-parameters become
 * return values. The gem's lib/ layer maps these to the official classes.
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
    /* what the server's error answer says, read by the core (nil when it says nothing) */
    rb_ivar_set(exc, rb_intern("@server_code"),
                cio_rb_str_or_nil(e != NULL ? e->server_code : NULL));
    rb_ivar_set(exc, rb_intern("@server_message"),
                cio_rb_str_or_nil(e != NULL ? e->server_message : NULL));
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

/* Whether String#strip removes byte c (NUL or ASCII whitespace) from a binary String's ends. */
static int cio_rb_strip_byte(unsigned char c) {
    return c == 0 || c == ' ' || (c >= 9 && c <= 13);
}

/* bytes [*from, *to) without what String#strip removes. */
static void cio_rb_strip(const char **from, const char **to) {
    while (*from < *to && cio_rb_strip_byte((unsigned char)**from)) {
        (*from)++;
    }
    while (*to > *from && cio_rb_strip_byte((unsigned char)(*to)[-1])) {
        (*to)--;
    }
}

/*
 * The answer to this thread's last synchronous call that succeeded, as [http_status, body,
 * status_line, fields], or nil (cio_last_response()). Read right after the call, on the same
 * thread, with the GVL held. The header text kept (the status line and header lines as
 * received) is split here as HTTPResponse.build splits it in Ruby, which made ~50 objects a
 * call: lines at \r?\n; status_line is the first (nil when there is none); fields holds name,
 * value, name, value, ... of each later line that has a ':' and a name, both stripped, as
 * binary Strings like those of the Ruby split.
 */
static VALUE cio_rb_last_response(void) {
    const cio_response_t *r = cio_last_response();
    const char *p, *end, *line;
    VALUE first = Qnil, fields;
    int index = 0;
    if (r == NULL) {
        return Qnil;
    }
    fields = rb_ary_new();
    p = r->headers != NULL ? r->headers : "";
    end = p + (r->headers != NULL ? r->headers_len : 0);
    for (line = p; line < end; index++) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *stop = nl != NULL ? nl : end, *colon;
        if (nl != NULL && stop > line && stop[-1] == '\r') {
            stop--; /* the \r of \r\n; a lone \r at the very end stays, as in the Ruby split */
        }
        if (index == 0) {
            first = rb_str_new(line, stop - line);
        } else if ((colon = memchr(line, ':', (size_t)(stop - line))) != NULL) {
            const char *name = line, *name_end = colon, *value = colon + 1, *value_end = stop;
            cio_rb_strip(&name, &name_end);
            cio_rb_strip(&value, &value_end);
            if (name_end > name) {
                rb_ary_push(fields, rb_str_new(name, name_end - name));
                rb_ary_push(fields, rb_str_new(value, value_end - value));
            }
        }
        line = nl != NULL ? nl + 1 : end;
    }
    return rb_ary_new_from_args(4, INT2NUM(r->http_status),
                                rb_utf8_str_new(r->body, (long)r->body_len), first, fields);
}

#include "cio_rb_nogvl.h"
%}

/*
 * One Pipelines API message from its parts (customerio_native/analytics.rb's hot path): the
 * Ruby layer passes the parts as one Array in the order of cio_cdp_message_t's members
 * (CIO_RB_CDP_PARTS below: type, ids, event, name, category, the JSON text of traits,
 * properties, context and integrations, timestamp, message id, the JSON text of options; each a
 * String or nil), and the
 * core writes, validates and completes the message, so Ruby spells no member of it.
 *
 *   Native.cio_rb_cdp_build(parts)            -> the message as sent (JSON text, cio_cdp_build)
 *   Native.cio_rb_cdp_try_enqueue(ptr, parts) -> nil; cio_pipeline_try_enqueue_message, GVL held
 *                                               (it never waits, like cio_pipeline_try_enqueue)
 *   Native.cio_rb_cdp_enqueue(ptr, parts)     -> nil; cio_pipeline_enqueue_message without the
 *                                               GVL (it may wait for room or for the disk)
 *
 * The parts are copied into one buffer first (on the stack when they fit), so nothing Ruby does
 * while the GVL is released can reach them; a part that is not a String or nil raises TypeError,
 * one with a NUL byte (which a C string cannot carry) Native::Error with CIO_E_INVALID_ARGUMENT
 * naming the part, both before anything is built. Failures of the core raise Native::Error.
 */
%{
#define CIO_RB_CDP_PARTS 15
CIO_RB_NOGVL4(cio_pipeline_enqueue_message, cio_pipeline_t *, const cio_cdp_message_t *,
              cio_cdp_stamp_t *, uint64_t *)

/* A Native::Error for a refusal made here rather than by the core. */
static void cio_rb_raise_invalid(const char *fmt, ...) {
    char msg[160];
    va_list ap;
    VALUE exc;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    exc = rb_exc_new_cstr(cio_rb_error_class, msg);
    rb_ivar_set(exc, rb_intern("@status"), INT2NUM((int)CIO_E_INVALID_ARGUMENT));
    rb_ivar_set(exc, rb_intern("@http_status"), INT2NUM(0));
    rb_ivar_set(exc, rb_intern("@body"), Qnil);
    rb_ivar_set(exc, rb_intern("@attempts"), INT2NUM(0));
    rb_ivar_set(exc, rb_intern("@retryable"), Qfalse);
    rb_ivar_set(exc, rb_intern("@server_code"), Qnil);
    rb_ivar_set(exc, rb_intern("@server_message"), Qnil);
    rb_exc_raise(exc);
}

/* Fills m from parts, the strings copied into stack (size bytes) or, when they do not fit, into
 * a GC-managed temporary buffer owned by *tmpbuf; raises before copying anything. */
static void cio_rb_cdp_parts(VALUE parts, cio_cdp_message_t *m, char *stack, size_t size,
                             volatile VALUE *tmpbuf) {
    static const char *const names[CIO_RB_CDP_PARTS] = {
        "type",   "user_id", "anonymous_id", "previous_id", "group_id",
        "event",  "name",    "category",     "traits",      "properties",
        "context", "integrations", "timestamp", "message_id", "options"};
    const char **slots[CIO_RB_CDP_PARTS] = {
        &m->type,        &m->user_id,         &m->anonymous_id, &m->previous_id, &m->group_id,
        &m->event,       &m->name,            &m->category,     &m->traits_json,
        &m->properties_json, &m->context_json, &m->integrations_json, &m->timestamp,
        &m->message_id,  &m->options_json};
    size_t bytes = 0;
    char *p;
    long i;
    Check_Type(parts, T_ARRAY);
    if (RARRAY_LEN(parts) != CIO_RB_CDP_PARTS) {
        rb_raise(rb_eArgError, "a Pipelines message takes %d parts (got %ld)", CIO_RB_CDP_PARTS,
                 RARRAY_LEN(parts));
    }
    for (i = 0; i < CIO_RB_CDP_PARTS; i++) {
        VALUE v = RARRAY_AREF(parts, i);
        if (NIL_P(v)) {
            continue;
        }
        if (!RB_TYPE_P(v, T_STRING)) {
            rb_raise(rb_eTypeError, "%s must be a String or nil (got %" PRIsVALUE ")", names[i],
                     rb_obj_class(v));
        }
        if (memchr(RSTRING_PTR(v), '\0', (size_t)RSTRING_LEN(v)) != NULL) {
            cio_rb_raise_invalid("%s contains a NUL byte", names[i]);
        }
        bytes += (size_t)RSTRING_LEN(v) + 1;
    }
    p = bytes <= size ? stack : (char *)rb_alloc_tmp_buffer(tmpbuf, (long)bytes);
    for (i = 0; i < CIO_RB_CDP_PARTS; i++) {
        VALUE v = RARRAY_AREF(parts, i);
        size_t len;
        if (NIL_P(v)) {
            *slots[i] = NULL;
            continue;
        }
        len = (size_t)RSTRING_LEN(v);
        memcpy(p, RSTRING_PTR(v), len);
        p[len] = '\0';
        *slots[i] = p;
        p += len + 1;
    }
}

static cio_pipeline_t *cio_rb_pipeline_ptr(VALUE ptr) {
    void *raw = NULL;
    if (!SWIG_IsOK(SWIG_ConvertPtr(ptr, &raw, SWIGTYPE_p_cio_pipeline, 0)) || raw == NULL) {
        rb_raise(rb_eTypeError, "not a pipeline");
    }
    return (cio_pipeline_t *)raw;
}

/* The pipeline of a Native::Guard (its @ptr), or NULL when it has none (closed). Read with the
 * GVL held; the callers queue with no Ruby code run in between (see
 * cio_rb_cdp_try_enqueue_guarded). */
static cio_pipeline_t *cio_rb_guard_pipeline(VALUE guard) {
    static ID id_ptr = 0;
    static VALUE pipeline_class = Qnil; /* SWIG's class of cio_pipeline_t pointers */
    void *raw = NULL;
    VALUE ptr;
    if (id_ptr == 0) {
        id_ptr = rb_intern("@ptr");
    }
    ptr = rb_ivar_get(guard, id_ptr);
    if (NIL_P(ptr)) {
        return NULL;
    }
    if (rb_obj_class(ptr) == pipeline_class) {
        return (cio_pipeline_t *)DATA_PTR(ptr); /* SWIG_ConvertPtr checks by name: costlier */
    }
    if (!SWIG_IsOK(SWIG_ConvertPtr(ptr, &raw, SWIGTYPE_p_cio_pipeline, 0))) {
        return NULL;
    }
    if (NIL_P(pipeline_class)) {
        pipeline_class = rb_obj_class(ptr);
        rb_gc_register_mark_object(pipeline_class); /* kept and pinned: compaction moves none */
    }
    return (cio_pipeline_t *)raw;
}

static VALUE cio_rb_cdp_build(VALUE self, VALUE parts) {
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    char stack[2048], *text = NULL;
    volatile VALUE tmpbuf = 0;
    cio_status_t st;
    VALUE out;
    (void)self;
    cio_rb_cdp_parts(parts, &m, stack, sizeof(stack), &tmpbuf);
    st = cio_cdp_build(&m, &text, NULL);
    if (tmpbuf) {
        rb_free_tmp_buffer(&tmpbuf);
    }
    if (st != CIO_OK) {
        cio_rb_raise(st);
    }
    out = rb_utf8_str_new_cstr(text);
    cio_free(text);
    return out;
}

static VALUE cio_rb_cdp_enqueue_with(VALUE ptr, VALUE parts, int wait) {
    cio_pipeline_t *pipeline = cio_rb_pipeline_ptr(ptr);
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    char stack[2048];
    volatile VALUE tmpbuf = 0;
    cio_status_t st;
    cio_rb_cdp_parts(parts, &m, stack, sizeof(stack), &tmpbuf);
    st = wait ? cio_rb_nogvl_cio_pipeline_enqueue_message(pipeline, &m, NULL, NULL)
              : cio_pipeline_try_enqueue_message(pipeline, &m, NULL, NULL);
    if (tmpbuf) {
        rb_free_tmp_buffer(&tmpbuf);
    }
    if (st != CIO_OK) {
        cio_rb_raise(st);
    }
    return Qnil;
}

static VALUE cio_rb_cdp_try_enqueue(VALUE self, VALUE ptr, VALUE parts) {
    (void)self;
    return cio_rb_cdp_enqueue_with(ptr, parts, 0);
}

static VALUE cio_rb_cdp_enqueue(VALUE self, VALUE ptr, VALUE parts) {
    (void)self;
    return cio_rb_cdp_enqueue_with(ptr, parts, 1);
}

/* Native.cio_rb_cdp_try_enqueue_guarded(guard, parts) -> true, or nil with nothing queued:
 * cio_rb_cdp_try_enqueue on the pipeline of a Native::Guard (its @ptr), without the Guard's
 * enter and leave. The GVL is held from reading @ptr until the message is queued, with no Ruby
 * code in between, so the Guard's #retire (which takes @ptr away under the GVL before the
 * pipeline is closed) cannot free it meanwhile. nil for a closed pipeline, a full queue or one
 * made before fork(): the caller's slower path raises or waits for those. */
static VALUE cio_rb_cdp_try_enqueue_guarded(VALUE self, VALUE guard, VALUE parts) {
    cio_cdp_message_t m = CIO_CDP_MESSAGE_INIT;
    char stack[2048];
    volatile VALUE tmpbuf = 0;
    cio_pipeline_t *pipeline;
    cio_status_t st;
    (void)self;
    cio_rb_cdp_parts(parts, &m, stack, sizeof(stack), &tmpbuf); /* raises as the slower path */
    pipeline = cio_rb_guard_pipeline(guard);
    st = pipeline == NULL ? CIO_E_CLOSED
                          : cio_pipeline_try_enqueue_message(pipeline, &m, NULL, NULL);
    if (tmpbuf) {
        rb_free_tmp_buffer(&tmpbuf);
    }
    if (st == CIO_E_CLOSED || st == CIO_E_QUEUE_FULL) {
        return Qnil;
    }
    if (st != CIO_OK) {
        cio_rb_raise(st);
    }
    return Qtrue;
}
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
    rb_define_attr(cio_rb_error_class, "server_code", 1, 0);
    rb_define_attr(cio_rb_error_class, "server_message", 1, 0);
    {
        VALUE native = rb_path2class("CustomerioNative::Native");
        rb_define_module_function(native, "cio_rb_cdp_build", cio_rb_cdp_build, 1);
        rb_define_module_function(native, "cio_rb_cdp_try_enqueue", cio_rb_cdp_try_enqueue, 2);
        rb_define_module_function(native, "cio_rb_cdp_enqueue", cio_rb_cdp_enqueue, 2);
        rb_define_module_function(native, "cio_rb_cdp_try_enqueue_guarded",
                                  cio_rb_cdp_try_enqueue_guarded, 2);
    }
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
/* The out typemap hands the status to the argout one below in $result (argout typemaps run
 * after the out typemap), which decides where the result is at hand and replaces it. */
%typemap(out) cio_status_t cio_v2_send_batch, cio_status_t cio_cdp_batch {
    $result = INT2NUM((int)$1);
}
%typemap(argout) cio_batch_result_t **result {
    cio_status_t status = (cio_status_t)NUM2INT($result);
    $result = Qnil;
    if (status != CIO_OK && status != CIO_E_PARTIAL &&
        !(*$1 != NULL && cio_batch_result_request_count(*$1) == 0)) {
        VALUE exc = cio_rb_error_new(status);
        cio_batch_result_free(*$1);
        *$1 = NULL;
        rb_exc_raise(exc);
    }
    if (*$1 != NULL) {
        VALUE items = cio_rb_batch_result_items(*$1);
        cio_batch_result_free(*$1);
        *$1 = NULL;
        $result = items;
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
%ignore cio_v2_send_batch_async; /* Ruby has no asynchronous calls */
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

/* Option configs (customerio/options.h). */
%typemap(in, numinputs=0) cio_config_t **out (cio_config_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_config_t **out {
    $result = SWIG_Ruby_AppendOutput($result, SWIG_NewPointerObj(*$1, $descriptor(cio_config_t *), 0));
}
/* An options table row as [name, type, doc], or nil past the end. */
%typemap(out) const cio_option_info_t * {
    $result = $1 != NULL ? rb_ary_new_from_args(3, rb_utf8_str_new_cstr($1->name),
                                                rb_utf8_str_new_cstr($1->type),
                                                rb_utf8_str_new_cstr($1->doc))
                         : Qnil;
}

%include "core.i"
%include "rb_v2.i"

VALUE cio_rb_last_response(void);
