/*
 * bindings/pipeline.i - the delivery pipeline (customerio/pipeline.h) for the SWIG bindings.
 * Included by bindings/core.i, after the language's typemaps (python.i, ruby.i).
 *
 * The options struct holds borrowed strings and a C callback, so bindings create a pipeline
 * with cio_pipeline_new_from_config() from a config set by name (customerio/options.h) and get
 * delivery reports as completions on a cio_queue_t (its report_queue argument: token = seq,
 * status, http_status, message, response = the operation JSON),
 * never as calls from a library thread into the interpreter (cio_report_fn is not wrapped).
 * The sink is an option by name (track_v2 or pipelines). Out-parameters are returned:
 * cio_pipeline_enqueue returns the operation's sequence number, cio_pipeline_new_from_config
 * the pipeline. cio_pipeline_stats_json returns the counters as JSON text.
 *
 * Python: enqueue, flush, close and creation release the GIL (enqueue may wait for room when
 * the queue is full); stats keeps it. Ruby: enqueue, flush and close release the GVL (through
 * their twins in bindings/ruby/ext/customerio_native/cio_rb_nogvl.h); try_enqueue (which the
 * gem calls first), creation and stats keep it. Reports are taken off the queue with cio_rb_queue_drain() by a Ruby thread that waits on
 * the queue's descriptor (IO.select), never by a library thread calling into Ruby.
 */


/* ======================================================================================== */
#ifdef SWIGPYTHON
%typemap(in, numinputs=0) cio_pipeline_t **out (cio_pipeline_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_pipeline_t **out {
    $result = SWIG_Python_AppendOutput($result,
        SWIG_NewPointerObj(*$1, $descriptor(cio_pipeline_t *), 0));
}
%typemap(in, numinputs=0) uint64_t *seq (uint64_t tmp = 0) { $1 = &tmp; }
%typemap(argout) uint64_t *seq {
    $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLongLong(*$1));
}
%feature("nothread") cio_pipeline_stats_json;
#endif /* SWIGPYTHON */

/* ======================================================================================== */
#ifdef SWIGRUBY
%{
/* Takes every completion off the queue: an Array of
 * [token, status, http_status, attempts, message, response, reason, field] (Strings or nil), for
 * the pipeline's delivery reports (token = seq, response = the operation JSON). Each completion
 * is freed as soon as it is converted. Cheap; keeps the GVL. */
static VALUE cio_rb_queue_drain(cio_queue_t *queue) {
    VALUE list = rb_ary_new();
    cio_completion_t *c = NULL;
    while (cio_queue_poll(queue, &c) == CIO_OK && c != NULL) {
        VALUE item = rb_ary_new_capa(8);
        rb_ary_push(list, item); /* reachable before the next allocation */
        rb_ary_push(item, ULL2NUM((unsigned long long)c->token));
        rb_ary_push(item, INT2NUM((int)c->status));
        rb_ary_push(item, INT2NUM(c->http_status));
        rb_ary_push(item, INT2NUM(c->attempts));
        rb_ary_push(item, cio_rb_str_or_nil(c->message));
        rb_ary_push(item, cio_rb_bytes_or_nil(c->response, c->response_len));
        rb_ary_push(item, cio_rb_str_or_nil(c->reason));
        rb_ary_push(item, cio_rb_str_or_nil(c->field));
        cio_completion_free(c);
        c = NULL;
    }
    return list;
}
%}

%typemap(in, numinputs=0) cio_pipeline_t **out (cio_pipeline_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_pipeline_t **out {
    $result = SWIG_Ruby_AppendOutput($result,
        SWIG_NewPointerObj(*$1, $descriptor(cio_pipeline_t *), 0));
}
%typemap(in, numinputs=0) uint64_t *seq (uint64_t tmp = 0) { $1 = &tmp; }
%typemap(argout) uint64_t *seq {
    $result = SWIG_Ruby_AppendOutput($result, ULL2NUM((unsigned long long)*$1));
}
#endif /* SWIGRUBY */

/* ======================================================================================== */
/* Language-neutral. */

/* The JSON counters: returned as a string, the C copy freed with cio_free_string(). */
%newobject cio_pipeline_stats_json;
%typemap(newfree) char *cio_pipeline_stats_json "cio_free_string($1);";

/* Created through cio_pipeline_new_from_config (options by name, bindings/core.i); reports come
 * through the report queue; the counters through cio_pipeline_stats_json. */
%ignore cio_pipeline_new;
%ignore cio_pipeline_options;
%ignore cio_delivery_report;
%ignore cio_report_fn;
%ignore cio_pipeline_stats;
%ignore cio_free_string;
/* Messages from their parts: through cio_py_message (bindings/cdp.i). */
%ignore cio_pipeline_enqueue_message;
%ignore cio_pipeline_try_enqueue_message;

%include "customerio/pipeline.h"


#ifdef SWIGRUBY
VALUE cio_rb_queue_drain(cio_queue_t *queue);
#endif
