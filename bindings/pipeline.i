/*
 * bindings/pipeline.i - the delivery pipeline (customerio/pipeline.h) for the SWIG bindings.
 * Included at the end of bindings/customerio.i, after that file's typemaps.
 *
 * The options struct holds borrowed strings and a C callback, so bindings create a pipeline
 * with cio_swig_pipeline_new() from plain arguments (zero = the default, as in
 * cio_pipeline_options_t) and get delivery reports as completions on a cio_queue_t (option
 * report_queue: token = seq, status, http_status, message, response = the operation JSON),
 * never as calls from a library thread into the interpreter (cio_report_fn is not wrapped).
 * sink is a cio_pipeline_sink_t value (0 = Track v2). Out-parameters are returned:
 * cio_pipeline_enqueue returns the operation's sequence number, cio_swig_pipeline_new the
 * pipeline. cio_pipeline_stats_json returns the counters as JSON text.
 *
 * Python: enqueue, flush, close and creation release the GIL (enqueue may wait for room when
 * the queue is full); stats keeps it. Ruby: enqueue, flush and close release the GVL (through
 * their twins in bindings/ruby/ext/customerio_native/cio_rb_nogvl.h); try_enqueue (which the
 * gem calls first), creation and stats keep it. Reports are taken off the queue with cio_rb_queue_drain() by a Ruby thread that waits on
 * the queue's descriptor (IO.select), never by a library thread calling into Ruby.
 */

%{
static cio_status_t cio_swig_pipeline_new(cio_client_t *client, int sink, size_t max_queue_bytes,
                                          int when_full, long block_timeout_ms, long linger_ms,
                                          size_t batch_bytes, int max_in_flight,
                                          double max_requests_per_second,
                                          long retry_deadline_ms, const char *spool_path,
                                          int spool_sync, cio_queue_t *report_queue,
                                          int report_successes, size_t max_batch_items,
                                          size_t max_queue_items, int max_attempts,
                                          cio_pipeline_t **out) {
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.sink = (cio_pipeline_sink_t)sink;
    o.max_queue_bytes = max_queue_bytes;
    o.when_full = (cio_when_full_t)when_full;
    o.block_timeout_ms = block_timeout_ms;
    o.linger_ms = linger_ms;
    o.batch_bytes = batch_bytes;
    o.max_in_flight = max_in_flight;
    o.max_requests_per_second = max_requests_per_second;
    o.retry_deadline_ms = retry_deadline_ms;
    o.spool_path = spool_path;
    o.spool_sync = (cio_spool_sync_t)spool_sync;
    o.report_queue = report_queue;
    o.report_successes = report_successes;
    o.max_batch_items = max_batch_items;
    o.max_queue_items = max_queue_items;
    o.max_attempts = max_attempts;
    return cio_pipeline_new(client, &o, out);
}
%}

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

/* Created through cio_swig_pipeline_new; reports come through the report queue; the counters
 * through cio_pipeline_stats_json. */
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

cio_status_t cio_swig_pipeline_new(cio_client_t *client, int sink, size_t max_queue_bytes,
                                   int when_full, long block_timeout_ms, long linger_ms,
                                   size_t batch_bytes, int max_in_flight,
                                   double max_requests_per_second, long retry_deadline_ms,
                                   const char *spool_path, int spool_sync,
                                   cio_queue_t *report_queue, int report_successes,
                                   size_t max_batch_items, size_t max_queue_items,
                                   int max_attempts, cio_pipeline_t **out);

#ifdef SWIGRUBY
VALUE cio_rb_queue_drain(cio_queue_t *queue);
#endif
