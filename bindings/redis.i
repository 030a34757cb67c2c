/*
 * bindings/redis.i - the shared Redis queue's worker and queue calls (customerio/redis.h) for
 * the SWIG bindings. Included by bindings/core.i, after the language's typemaps (strings,
 * status -> exception), which apply here too.
 *
 * Wrapped through small helpers (the cio_swig_* functions below) rather than the header:
 * - cio_swig_worker_new: cio_worker_new with the worker's pipeline options from a pipeline
 *   config set by name (its sink is the queue served); the config may be freed afterwards;
 * - cio_swig_worker_run: cio_worker_run. Python: releases the GIL (swig -threads). Ruby: runs
 *   without the GVL, and an interrupt (Thread#raise, Ctrl-C) stops the worker (the unblocking
 *   function is cio_worker_stop), so the call returns and the interrupt is raised;
 * - cio_worker_stop, cio_worker_free as they are; cio_swig_worker_stats,
 *   cio_swig_queue_stats, cio_swig_dead_letters (JSON text, raising on failure) and
 *   cio_swig_dead_letters_retry / _drop (how many).
 */

%{
/* cio_worker_new with the pipeline options of a pipeline config. */
static cio_status_t cio_swig_worker_new(cio_client_t *client, const char *redis_url,
                                        const cio_config_t *pipeline, const char *group,
                                        const char *consumer, long claim_idle_ms,
                                        long max_pending, long block_ms, cio_worker_t **out) {
    cio_pipeline_options_t po;
    cio_status_t st = cio_config_pipeline_options(pipeline, &po);
    if (st != CIO_OK)
        return st;
    cio_worker_options_t wo = CIO_WORKER_OPTIONS_INIT;
    wo.redis_url = redis_url;
    wo.sink = po.sink;
    wo.group = group;
    wo.consumer = consumer;
    wo.claim_idle_ms = claim_idle_ms > 0 ? claim_idle_ms : 0;
    wo.max_pending = max_pending > 0 ? (size_t)max_pending : 0;
    wo.block_ms = block_ms > 0 ? block_ms : 0;
    wo.pipeline = &po;
    return cio_worker_new(client, &wo, out);
}

/* A JSON answer as an out-parameter: the status says whether it came. */
static cio_status_t cio_swig_json(char *json, char **json_out) {
    *json_out = json;
    if (json != NULL)
        return CIO_OK;
    const cio_error_t *e = cio_last_error();
    return e != NULL && e->status != CIO_OK ? e->status : CIO_E_NOMEM;
}

static cio_status_t cio_swig_worker_stats(cio_worker_t *worker, char **json_out) {
    return cio_swig_json(cio_worker_stats_json(worker), json_out);
}

static cio_status_t cio_swig_queue_stats(cio_client_t *client, const char *redis_url, int sink,
                                         const char *group, char **json_out) {
    return cio_swig_json(
        cio_redis_queue_stats_json(client, redis_url, (cio_pipeline_sink_t)sink, group),
        json_out);
}

static cio_status_t cio_swig_dead_letters(cio_client_t *client, const char *redis_url, int sink,
                                          long count, char **json_out) {
    return cio_swig_json(cio_redis_dead_letters_json(client, redis_url, (cio_pipeline_sink_t)sink,
                                                     count > 0 ? (size_t)count : 0),
                         json_out);
}

static cio_status_t cio_swig_dead_letters_retry(cio_client_t *client, const char *redis_url,
                                                int sink, const char *id, long *done_out) {
    size_t n = 0;
    cio_status_t st =
        cio_redis_dead_letters_retry(client, redis_url, (cio_pipeline_sink_t)sink, id, &n);
    *done_out = (long)n;
    return st;
}

static cio_status_t cio_swig_dead_letters_drop(cio_client_t *client, const char *redis_url,
                                               int sink, const char *id, long *done_out) {
    size_t n = 0;
    cio_status_t st =
        cio_redis_dead_letters_drop(client, redis_url, (cio_pipeline_sink_t)sink, id, &n);
    *done_out = (long)n;
    return st;
}
%}

/* ======================================================================================== */
#ifdef SWIGPYTHON
%{
static cio_status_t cio_swig_worker_run(cio_worker_t *worker, long stop_timeout_ms) {
    return cio_worker_run(worker, stop_timeout_ms);
}
%}
%typemap(in, numinputs=0) cio_worker_t **out (cio_worker_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_worker_t **out {
    $result = SWIG_Python_AppendOutput($result,
        SWIG_NewPointerObj(*$1, $descriptor(cio_worker_t *), 0));
}
%typemap(in, numinputs=0) char **json_out (char *tmp = NULL) { $1 = &tmp; }
%typemap(argout) char **json_out {
    PyObject *text = PyUnicode_FromString(*$1);
    if (text == NULL) {
        SWIG_fail;
    }
    $result = SWIG_Python_AppendOutput($result, text);
}
%typemap(freearg) char **json_out { cio_free_string(*$1); }
%typemap(in, numinputs=0) long *done_out (long tmp = 0) { $1 = &tmp; }
%typemap(argout) long *done_out {
    $result = SWIG_Python_AppendOutput($result, PyLong_FromLong(*$1));
}
%feature("nothread") cio_swig_worker_stats;
%feature("nothread") cio_worker_stop;
#endif /* SWIGPYTHON */

/* ======================================================================================== */
#ifdef SWIGRUBY
%{
typedef struct {
    cio_worker_t *worker;
    long stop_timeout_ms;
    cio_status_t st;
} cio_swig_run_args_t;

static void *cio_swig_run_nogvl(void *p) {
    cio_swig_run_args_t *a = (cio_swig_run_args_t *)p;
    a->st = cio_worker_run(a->worker, a->stop_timeout_ms);
    return NULL;
}

/* Thread#raise, Ctrl-C: the worker stops; cio_worker_run returns soon after. */
static void cio_swig_run_ubf(void *p) { cio_worker_stop((cio_worker_t *)p); }

static cio_status_t cio_swig_worker_run(cio_worker_t *worker, long stop_timeout_ms) {
    cio_swig_run_args_t a = {worker, stop_timeout_ms, CIO_OK};
    rb_thread_call_without_gvl(cio_swig_run_nogvl, &a, cio_swig_run_ubf, worker);
    return a.st;
}
%}
%typemap(in, numinputs=0) cio_worker_t **out (cio_worker_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_worker_t **out {
    $result = SWIG_Ruby_AppendOutput($result,
        SWIG_NewPointerObj(*$1, $descriptor(cio_worker_t *), 0));
}
%typemap(in, numinputs=0) char **json_out (char *tmp = NULL) { $1 = &tmp; }
%typemap(argout) char **json_out {
    $result = SWIG_Ruby_AppendOutput($result, rb_utf8_str_new_cstr(*$1));
}
%typemap(freearg) char **json_out { cio_free_string(*$1); }
%typemap(in, numinputs=0) long *done_out (long tmp = 0) { $1 = &tmp; }
%typemap(argout) long *done_out {
    $result = SWIG_Ruby_AppendOutput($result, LONG2NUM(*$1));
}
#endif /* SWIGRUBY */

/* ======================================================================================== */
/* Language-neutral. */

typedef struct cio_worker cio_worker_t;
cio_status_t cio_swig_worker_new(cio_client_t *client, const char *redis_url,
                                 const cio_config_t *pipeline, const char *group,
                                 const char *consumer, long claim_idle_ms, long max_pending,
                                 long block_ms, cio_worker_t **out);
cio_status_t cio_swig_worker_run(cio_worker_t *worker, long stop_timeout_ms);
void cio_worker_stop(cio_worker_t *worker);
void cio_worker_free(cio_worker_t *worker);
cio_status_t cio_swig_worker_stats(cio_worker_t *worker, char **json_out);
cio_status_t cio_swig_queue_stats(cio_client_t *client, const char *redis_url, int sink,
                                  const char *group, char **json_out);
cio_status_t cio_swig_dead_letters(cio_client_t *client, const char *redis_url, int sink,
                                   long count, char **json_out);
cio_status_t cio_swig_dead_letters_retry(cio_client_t *client, const char *redis_url, int sink,
                                         const char *id, long *done_out);
cio_status_t cio_swig_dead_letters_drop(cio_client_t *client, const char *redis_url, int sink,
                                        const char *id, long *done_out);
