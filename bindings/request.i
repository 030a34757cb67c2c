/*
 * bindings/request.i - request values (customerio/request.h) and their builders for the SWIG
 * bindings: every cio_v2_*_request / cio_cdp_*_request builder returns a request object, which
 * cio_pipeline_enqueue_request / cio_pipeline_try_enqueue_request queue and cio_request_send /
 * cio_request_send_async send. Included by bindings/core.i before the public headers, so
 * that these typemaps apply to the builders declared in track_v2.h and cdp.h and to the
 * executors of pipeline.h.
 *
 * A request object owns its cio_request_t and frees it when the interpreter collects it
 * (Python: a capsule named "customerio_native.request"; Ruby: a typed data object of class
 * CustomerioNative::NativeRequest); cio_request_free is not wrapped, so it cannot be freed twice.
 * The builders need no client and do no I/O: Python keeps the GIL for them. The bindings hold
 * no wire format: they pass (id type, value) and JSON text to these builders.
 */

/* ======================================================================================== */
#ifdef SWIGPYTHON
%{
#define CIO_PY_REQUEST_NAME "customerio_native.request"
static void cio_py_request_free(PyObject *capsule) {
    cio_request_free((cio_request_t *)PyCapsule_GetPointer(capsule, CIO_PY_REQUEST_NAME));
}
%}
%typemap(in, numinputs=0) cio_request_t **out (cio_request_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_request_t **out {
    PyObject *request = PyCapsule_New(*$1, CIO_PY_REQUEST_NAME, cio_py_request_free);
    if (request == NULL) {
        SWIG_fail; /* freearg frees it */
    }
    *$1 = NULL; /* the capsule's now */
    $result = SWIG_Python_AppendOutput($result, request);
}
%typemap(in) const cio_request_t *request {
    $1 = (cio_request_t *)PyCapsule_GetPointer($input, CIO_PY_REQUEST_NAME);
    if ($1 == NULL) {
        SWIG_fail; /* ValueError: not a request */
    }
}
%feature("nothread") cio_request_new;
%feature("nothread") cio_request_api;
%feature("nothread") cio_request_method;
%feature("nothread") cio_request_path;
%feature("nothread") cio_request_body;
%feature("nothread") cio_v2_entity_request;
%feature("nothread") cio_v2_person_identify_request;
%feature("nothread") cio_v2_person_delete_request;
%feature("nothread") cio_v2_person_event_request;
%feature("nothread") cio_v2_person_screen_request;
%feature("nothread") cio_v2_person_page_request;
%feature("nothread") cio_v2_person_add_device_request;
%feature("nothread") cio_v2_person_add_device_fields_request;
%feature("nothread") cio_v2_person_delete_device_request;
%feature("nothread") cio_v2_person_add_relationships_request;
%feature("nothread") cio_v2_person_delete_relationships_request;
%feature("nothread") cio_v2_person_merge_request;
%feature("nothread") cio_v2_person_suppress_request;
%feature("nothread") cio_v2_person_unsuppress_request;
%feature("nothread") cio_v2_object_identify_request;
%feature("nothread") cio_v2_object_delete_request;
%feature("nothread") cio_v2_object_event_request;
%feature("nothread") cio_v2_object_add_relationships_request;
%feature("nothread") cio_v2_object_delete_relationships_request;
%feature("nothread") cio_v2_delivery_event_request;
%feature("nothread") cio_cdp_message_request;
/* Track v1 (track.h) and App API (app.h) builders: no I/O either (the asyncio path builds
 * with them, see _core.py NativeClient.submit). */
%feature("nothread") cio_add_device_fields_request;
%feature("nothread") cio_add_device_request;
%feature("nothread") cio_backfill_request;
%feature("nothread") cio_customers_get_activities_request;
%feature("nothread") cio_customers_get_attributes_request;
%feature("nothread") cio_customers_get_by_email_request;
%feature("nothread") cio_customers_get_by_ids_request;
%feature("nothread") cio_customers_get_messages_request;
%feature("nothread") cio_customers_get_relationships_request;
%feature("nothread") cio_customers_get_segments_request;
%feature("nothread") cio_customers_get_subscription_preferences_request;
%feature("nothread") cio_customers_search_request;
%feature("nothread") cio_delete_device_request;
%feature("nothread") cio_delete_request;
%feature("nothread") cio_identify_request;
%feature("nothread") cio_merge_customers_request;
%feature("nothread") cio_pageview_request;
%feature("nothread") cio_screen_request;
%feature("nothread") cio_segment_add_customers_request;
%feature("nothread") cio_segment_remove_customers_request;
%feature("nothread") cio_segments_create_request;
%feature("nothread") cio_segments_customer_count_request;
%feature("nothread") cio_segments_delete_request;
%feature("nothread") cio_segments_get_request;
%feature("nothread") cio_segments_list_request;
%feature("nothread") cio_segments_membership_request;
%feature("nothread") cio_segments_used_by_request;
%feature("nothread") cio_send_email_request;
%feature("nothread") cio_send_in_app_request;
%feature("nothread") cio_send_inbox_message_request;
%feature("nothread") cio_send_push_request;
%feature("nothread") cio_send_sms_request;
%feature("nothread") cio_send_whatsapp_request;
%feature("nothread") cio_submit_form_request;
%feature("nothread") cio_suppress_request;
%feature("nothread") cio_track_anonymous_request;
%feature("nothread") cio_track_delivery_metric_request;
%feature("nothread") cio_track_push_event_request;
%feature("nothread") cio_track_region_request;
%feature("nothread") cio_track_request;
%feature("nothread") cio_transactional_deliveries_request;
%feature("nothread") cio_transactional_get_request;
%feature("nothread") cio_transactional_get_variant_request;
%feature("nothread") cio_transactional_link_metrics_request;
%feature("nothread") cio_transactional_list_request;
%feature("nothread") cio_transactional_list_variants_request;
%feature("nothread") cio_transactional_metrics_request;
%feature("nothread") cio_transactional_update_content_request;
%feature("nothread") cio_transactional_update_variant_request;
%feature("nothread") cio_trigger_broadcast_request;
%feature("nothread") cio_unsubscribe_request;
%feature("nothread") cio_unsuppress_request;
/* Hands the request to the engine and returns: no wait, so the GIL is kept. */
%feature("nothread") cio_request_send_async;
/* Never waits for room: keeps the GIL, like the gem's first try (see pipeline.i). */
%feature("nothread") cio_pipeline_try_enqueue_request;
#endif /* SWIGPYTHON */

/* ======================================================================================== */
#ifdef SWIGRUBY
%{
static void cio_rb_request_free(void *request) { cio_request_free((cio_request_t *)request); }
static const rb_data_type_t cio_rb_request_type = {
    "customerio_native.request", {NULL, cio_rb_request_free, NULL}, NULL, NULL,
    RUBY_TYPED_FREE_IMMEDIATELY};
static VALUE cio_rb_request_class = Qnil;
/* The request object: CustomerioNative::NativeRequest, made on first use (no allocator: only
 * builders make one). */
static VALUE cio_rb_request_wrap(cio_request_t *request) {
    if (NIL_P(cio_rb_request_class)) {
        cio_rb_request_class =
            rb_define_class_under(rb_define_module("CustomerioNative"), "NativeRequest",
                                  rb_cObject);
        rb_undef_alloc_func(cio_rb_request_class);
        rb_gc_register_mark_object(cio_rb_request_class);
    }
    return TypedData_Wrap_Struct(cio_rb_request_class, &cio_rb_request_type, request);
}
%}
%typemap(in, numinputs=0) cio_request_t **out (cio_request_t *tmp = NULL) { $1 = &tmp; }
%typemap(argout) cio_request_t **out {
    $result = SWIG_Ruby_AppendOutput($result, cio_rb_request_wrap(*$1));
    *$1 = NULL; /* the object's now */
}
%typemap(in) const cio_request_t *request {
    $1 = (cio_request_t *)rb_check_typeddata($input, &cio_rb_request_type);
}
/* A server's JSON answer (cio_request_send, and the App API's calls in app.i, which comes
 * later): a String, or nil when the call was made asynchronous. */
%typemap(in, numinputs=0) char **response_json (char *tmp = NULL) { $1 = &tmp; }
%typemap(argout) char **response_json {
    if (*$1 != NULL) {
        VALUE body = rb_utf8_str_new_cstr(*$1);
        cio_free(*$1);
        *$1 = NULL;
        $result = SWIG_Ruby_AppendOutput($result, body);
    } else {
        $result = SWIG_Ruby_AppendOutput($result, Qnil);
    }
}
#endif /* SWIGRUBY */

/* ======================================================================================== */
/* Language-neutral. */

/* A builder that failed raised before argout: its *out is NULL, nothing to free; one whose
 * object could not be made frees it here. */
%typemap(freearg) cio_request_t **out {
    if ($1 != NULL && *$1 != NULL) {
        cio_request_free(*$1);
    }
}
/* The body is NUL-terminated JSON text: returned as a string, its length not needed. */
%typemap(in, numinputs=0) size_t *len (size_t tmp = 0) { $1 = &tmp; }

/* Freed with its object; the typed Pipelines builders take a C options struct the bindings do
 * not wrap (messages from parts go through cio_py_message, see cdp.i). */
%ignore cio_request_free;
%ignore cio_cdp_identify_request;
%ignore cio_cdp_track_request;
%ignore cio_cdp_page_request;
%ignore cio_cdp_screen_request;
%ignore cio_cdp_group_request;
%ignore cio_cdp_alias_request;

%include "customerio/request.h"
