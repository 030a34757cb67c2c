/*
 * cio_rb_nogvl.h - the blocking libcustomerio calls, each through a twin that runs it without
 * Ruby's GVL (rb_thread_call_without_gvl), so that other Ruby threads run while one waits on the
 * network. Included by the SWIG wrapper (bindings/ruby.i) after
 * <customerio/customerio.h> and <ruby.h>.
 *
 * CIO_RB_NOGVLn(fn, T1, ..., Tn) defines cio_rb_nogvl_<fn>(T1, ..., Tn): it packs the arguments
 * into a struct on its stack, calls fn with them inside rb_thread_call_without_gvl() and returns
 * fn's status. CIO_RB_CHECK_SIGNATURE compares the listed types with the header's
 * declaration (a mismatch fails the build). The #define after each one makes the SWIG
 * wrappers, generated further down in the same file, call the twin instead of fn.
 *
 * Rules the twins rely on (kept by the typemaps): every argument is plain C data that Ruby will
 * not free, move or change while the call runs (see ruby.i), and nothing here touches the
 * Ruby API without the GVL. The unblocking function is NULL: a C call cannot be cancelled
 * half-way, so an interrupt (Thread#raise, Ctrl-C) is handled when it returns, after at most
 * the client's timeout times its attempts.
 *
 * A new blocking function in the public headers needs one line here; without it the call works
 * but holds the GVL.
 */
#ifndef CIO_RB_NOGVL_H
#define CIO_RB_NOGVL_H

#include <ruby/thread.h>

/* Fails the build when fn's type is not cio_status_t (*)(types). */
#if defined(__GNUC__) || defined(__clang__)
#define CIO_RB_CHECK_SIGNATURE(fn, types)                                                          \
    typedef char cio_rb_signature_of_##fn                                                          \
        [__builtin_types_compatible_p(__typeof__(&fn), cio_status_t(*) types) ? 1 : -1];
#else
#define CIO_RB_CHECK_SIGNATURE(fn, types)
#endif

#define CIO_RB_NOGVL2(fn, T1, T2)                                                                  \
    CIO_RB_CHECK_SIGNATURE(fn, (T1, T2))                                                           \
    typedef struct {                                                                               \
        T1 a1;                                                                                     \
        T2 a2;                                                                                     \
        cio_status_t r;                                                                            \
    } cio_rb_args_##fn;                                                                            \
    static inline void *cio_rb_run_##fn(void *p) {                                                 \
        cio_rb_args_##fn *a = (cio_rb_args_##fn *)p;                                               \
        a->r = fn(a->a1, a->a2);                                                                   \
        return NULL;                                                                               \
    }                                                                                              \
    static inline cio_status_t cio_rb_nogvl_##fn(T1 a1, T2 a2) {                                   \
        cio_rb_args_##fn a = {a1, a2, CIO_OK};                                                     \
        rb_thread_call_without_gvl(cio_rb_run_##fn, &a, NULL, NULL);                               \
        return a.r;                                                                                \
    }

#define CIO_RB_NOGVL3(fn, T1, T2, T3)                                                              \
    CIO_RB_CHECK_SIGNATURE(fn, (T1, T2, T3))                                                       \
    typedef struct {                                                                               \
        T1 a1;                                                                                     \
        T2 a2;                                                                                     \
        T3 a3;                                                                                     \
        cio_status_t r;                                                                            \
    } cio_rb_args_##fn;                                                                            \
    static inline void *cio_rb_run_##fn(void *p) {                                                 \
        cio_rb_args_##fn *a = (cio_rb_args_##fn *)p;                                               \
        a->r = fn(a->a1, a->a2, a->a3);                                                            \
        return NULL;                                                                               \
    }                                                                                              \
    static inline cio_status_t cio_rb_nogvl_##fn(T1 a1, T2 a2, T3 a3) {                            \
        cio_rb_args_##fn a = {a1, a2, a3, CIO_OK};                                                 \
        rb_thread_call_without_gvl(cio_rb_run_##fn, &a, NULL, NULL);                               \
        return a.r;                                                                                \
    }

#define CIO_RB_NOGVL4(fn, T1, T2, T3, T4)                                                          \
    CIO_RB_CHECK_SIGNATURE(fn, (T1, T2, T3, T4))                                                   \
    typedef struct {                                                                               \
        T1 a1;                                                                                     \
        T2 a2;                                                                                     \
        T3 a3;                                                                                     \
        T4 a4;                                                                                     \
        cio_status_t r;                                                                            \
    } cio_rb_args_##fn;                                                                            \
    static inline void *cio_rb_run_##fn(void *p) {                                                 \
        cio_rb_args_##fn *a = (cio_rb_args_##fn *)p;                                               \
        a->r = fn(a->a1, a->a2, a->a3, a->a4);                                                     \
        return NULL;                                                                               \
    }                                                                                              \
    static inline cio_status_t cio_rb_nogvl_##fn(T1 a1, T2 a2, T3 a3, T4 a4) {                     \
        cio_rb_args_##fn a = {a1, a2, a3, a4, CIO_OK};                                             \
        rb_thread_call_without_gvl(cio_rb_run_##fn, &a, NULL, NULL);                               \
        return a.r;                                                                                \
    }

#define CIO_RB_NOGVL5(fn, T1, T2, T3, T4, T5)                                                      \
    CIO_RB_CHECK_SIGNATURE(fn, (T1, T2, T3, T4, T5))                                               \
    typedef struct {                                                                               \
        T1 a1;                                                                                     \
        T2 a2;                                                                                     \
        T3 a3;                                                                                     \
        T4 a4;                                                                                     \
        T5 a5;                                                                                     \
        cio_status_t r;                                                                            \
    } cio_rb_args_##fn;                                                                            \
    static inline void *cio_rb_run_##fn(void *p) {                                                 \
        cio_rb_args_##fn *a = (cio_rb_args_##fn *)p;                                               \
        a->r = fn(a->a1, a->a2, a->a3, a->a4, a->a5);                                              \
        return NULL;                                                                               \
    }                                                                                              \
    static inline cio_status_t cio_rb_nogvl_##fn(T1 a1, T2 a2, T3 a3, T4 a4, T5 a5) {              \
        cio_rb_args_##fn a = {a1, a2, a3, a4, a5, CIO_OK};                                         \
        rb_thread_call_without_gvl(cio_rb_run_##fn, &a, NULL, NULL);                               \
        return a.r;                                                                                \
    }

#define CIO_RB_NOGVL6(fn, T1, T2, T3, T4, T5, T6)                                                  \
    CIO_RB_CHECK_SIGNATURE(fn, (T1, T2, T3, T4, T5, T6))                                           \
    typedef struct {                                                                               \
        T1 a1;                                                                                     \
        T2 a2;                                                                                     \
        T3 a3;                                                                                     \
        T4 a4;                                                                                     \
        T5 a5;                                                                                     \
        T6 a6;                                                                                     \
        cio_status_t r;                                                                            \
    } cio_rb_args_##fn;                                                                            \
    static inline void *cio_rb_run_##fn(void *p) {                                                 \
        cio_rb_args_##fn *a = (cio_rb_args_##fn *)p;                                               \
        a->r = fn(a->a1, a->a2, a->a3, a->a4, a->a5, a->a6);                                       \
        return NULL;                                                                               \
    }                                                                                              \
    static inline cio_status_t cio_rb_nogvl_##fn(T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6) {       \
        cio_rb_args_##fn a = {a1, a2, a3, a4, a5, a6, CIO_OK};                                     \
        rb_thread_call_without_gvl(cio_rb_run_##fn, &a, NULL, NULL);                               \
        return a.r;                                                                                \
    }

#define CIO_RB_NOGVL7(fn, T1, T2, T3, T4, T5, T6, T7)                                              \
    CIO_RB_CHECK_SIGNATURE(fn, (T1, T2, T3, T4, T5, T6, T7))                                       \
    typedef struct {                                                                               \
        T1 a1;                                                                                     \
        T2 a2;                                                                                     \
        T3 a3;                                                                                     \
        T4 a4;                                                                                     \
        T5 a5;                                                                                     \
        T6 a6;                                                                                     \
        T7 a7;                                                                                     \
        cio_status_t r;                                                                            \
    } cio_rb_args_##fn;                                                                            \
    static inline void *cio_rb_run_##fn(void *p) {                                                 \
        cio_rb_args_##fn *a = (cio_rb_args_##fn *)p;                                               \
        a->r = fn(a->a1, a->a2, a->a3, a->a4, a->a5, a->a6, a->a7);                                \
        return NULL;                                                                               \
    }                                                                                              \
    static inline cio_status_t cio_rb_nogvl_##fn(T1 a1, T2 a2, T3 a3, T4 a4, T5 a5, T6 a6,         \
                                                 T7 a7) {                                          \
        cio_rb_args_##fn a = {a1, a2, a3, a4, a5, a6, a7, CIO_OK};                                 \
        rb_thread_call_without_gvl(cio_rb_run_##fn, &a, NULL, NULL);                               \
        return a.r;                                                                                \
    }

/* Track API v1 (customerio/track.h) */
CIO_RB_NOGVL3(cio_identify, cio_client_t *, const char *, const char *)
#define cio_identify cio_rb_nogvl_cio_identify
CIO_RB_NOGVL2(cio_delete, cio_client_t *, const char *)
#define cio_delete cio_rb_nogvl_cio_delete
CIO_RB_NOGVL5(cio_track, cio_client_t *, const char *, const char *, const char *,
              const cio_event_options_t *)
#define cio_track cio_rb_nogvl_cio_track
CIO_RB_NOGVL5(cio_track_anonymous, cio_client_t *, const char *, const char *, const char *,
              const cio_event_options_t *)
#define cio_track_anonymous cio_rb_nogvl_cio_track_anonymous
CIO_RB_NOGVL5(cio_pageview, cio_client_t *, const char *, const char *, const char *,
              const cio_event_options_t *)
#define cio_pageview cio_rb_nogvl_cio_pageview
CIO_RB_NOGVL5(cio_screen, cio_client_t *, const char *, const char *, const char *,
              const cio_event_options_t *)
#define cio_screen cio_rb_nogvl_cio_screen
CIO_RB_NOGVL5(cio_backfill, cio_client_t *, const char *, const char *, int64_t, const char *)
#define cio_backfill cio_rb_nogvl_cio_backfill
CIO_RB_NOGVL6(cio_add_device, cio_client_t *, const char *, const char *, const char *, int64_t,
              const char *)
#define cio_add_device cio_rb_nogvl_cio_add_device
CIO_RB_NOGVL5(cio_add_device_fields, cio_client_t *, const char *, const char *, const char *,
              const char *)
#define cio_add_device_fields cio_rb_nogvl_cio_add_device_fields
CIO_RB_NOGVL3(cio_delete_device, cio_client_t *, const char *, const char *)
#define cio_delete_device cio_rb_nogvl_cio_delete_device
CIO_RB_NOGVL2(cio_suppress, cio_client_t *, const char *)
#define cio_suppress cio_rb_nogvl_cio_suppress
CIO_RB_NOGVL2(cio_unsuppress, cio_client_t *, const char *)
#define cio_unsuppress cio_rb_nogvl_cio_unsuppress
CIO_RB_NOGVL5(cio_merge_customers, cio_client_t *, cio_id_type_t, const char *, cio_id_type_t,
              const char *)
#define cio_merge_customers cio_rb_nogvl_cio_merge_customers
CIO_RB_NOGVL5(cio_track_push_event, cio_client_t *, const char *, const char *, const char *,
              int64_t)
#define cio_track_push_event cio_rb_nogvl_cio_track_push_event
CIO_RB_NOGVL7(cio_track_delivery_metric, cio_client_t *, const char *, const char *, int64_t,
              const char *, const char *, const char *)
#define cio_track_delivery_metric cio_rb_nogvl_cio_track_delivery_metric
CIO_RB_NOGVL5(cio_segment_add_customers, cio_client_t *, const char *, const char *const *, size_t,
              cio_id_type_t)
#define cio_segment_add_customers cio_rb_nogvl_cio_segment_add_customers
CIO_RB_NOGVL5(cio_segment_remove_customers, cio_client_t *, const char *, const char *const *,
              size_t, cio_id_type_t)
#define cio_segment_remove_customers cio_rb_nogvl_cio_segment_remove_customers

/* Track API v2 (customerio/track_v2.h) */
CIO_RB_NOGVL2(cio_v2_send_entity, cio_client_t *, const char *)
#define cio_v2_send_entity cio_rb_nogvl_cio_v2_send_entity
CIO_RB_NOGVL4(cio_v2_send_batch, cio_client_t *, const char *const *, size_t, cio_batch_result_t **)
#define cio_v2_send_batch cio_rb_nogvl_cio_v2_send_batch
CIO_RB_NOGVL4(cio_v2_person_identify, cio_client_t *, cio_id_type_t, const char *, const char *)
#define cio_v2_person_identify cio_rb_nogvl_cio_v2_person_identify
CIO_RB_NOGVL3(cio_v2_person_delete, cio_client_t *, cio_id_type_t, const char *)
#define cio_v2_person_delete cio_rb_nogvl_cio_v2_person_delete
CIO_RB_NOGVL6(cio_v2_person_event, cio_client_t *, cio_id_type_t, const char *, const char *,
              const char *, const cio_event_options_t *)
#define cio_v2_person_event cio_rb_nogvl_cio_v2_person_event
CIO_RB_NOGVL6(cio_v2_person_screen, cio_client_t *, cio_id_type_t, const char *, const char *,
              const char *, const cio_event_options_t *)
#define cio_v2_person_screen cio_rb_nogvl_cio_v2_person_screen
CIO_RB_NOGVL6(cio_v2_person_page, cio_client_t *, cio_id_type_t, const char *, const char *,
              const char *, const cio_event_options_t *)
#define cio_v2_person_page cio_rb_nogvl_cio_v2_person_page
CIO_RB_NOGVL7(cio_v2_person_add_device, cio_client_t *, cio_id_type_t, const char *, const char *,
              const char *, int64_t, const char *)
#define cio_v2_person_add_device cio_rb_nogvl_cio_v2_person_add_device
CIO_RB_NOGVL4(cio_v2_person_delete_device, cio_client_t *, cio_id_type_t, const char *,
              const char *)
#define cio_v2_person_delete_device cio_rb_nogvl_cio_v2_person_delete_device
CIO_RB_NOGVL4(cio_v2_person_add_relationships, cio_client_t *, cio_id_type_t, const char *,
              const char *)
#define cio_v2_person_add_relationships cio_rb_nogvl_cio_v2_person_add_relationships
CIO_RB_NOGVL4(cio_v2_person_delete_relationships, cio_client_t *, cio_id_type_t, const char *,
              const char *)
#define cio_v2_person_delete_relationships cio_rb_nogvl_cio_v2_person_delete_relationships
CIO_RB_NOGVL5(cio_v2_person_merge, cio_client_t *, cio_id_type_t, const char *, cio_id_type_t,
              const char *)
#define cio_v2_person_merge cio_rb_nogvl_cio_v2_person_merge
CIO_RB_NOGVL3(cio_v2_person_suppress, cio_client_t *, cio_id_type_t, const char *)
#define cio_v2_person_suppress cio_rb_nogvl_cio_v2_person_suppress
CIO_RB_NOGVL3(cio_v2_person_unsuppress, cio_client_t *, cio_id_type_t, const char *)
#define cio_v2_person_unsuppress cio_rb_nogvl_cio_v2_person_unsuppress
CIO_RB_NOGVL4(cio_v2_object_identify, cio_client_t *, const char *, const char *, const char *)
#define cio_v2_object_identify cio_rb_nogvl_cio_v2_object_identify
CIO_RB_NOGVL3(cio_v2_object_delete, cio_client_t *, const char *, const char *)
#define cio_v2_object_delete cio_rb_nogvl_cio_v2_object_delete
CIO_RB_NOGVL6(cio_v2_object_event, cio_client_t *, const char *, const char *, const char *,
              const char *, const cio_event_options_t *)
#define cio_v2_object_event cio_rb_nogvl_cio_v2_object_event
CIO_RB_NOGVL4(cio_v2_object_add_relationships, cio_client_t *, const char *, const char *,
              const char *)
#define cio_v2_object_add_relationships cio_rb_nogvl_cio_v2_object_add_relationships
CIO_RB_NOGVL4(cio_v2_object_delete_relationships, cio_client_t *, const char *, const char *,
              const char *)
#define cio_v2_object_delete_relationships cio_rb_nogvl_cio_v2_object_delete_relationships
CIO_RB_NOGVL5(cio_v2_delivery_event, cio_client_t *, const char *, const char *, const char *,
              const cio_event_options_t *)
#define cio_v2_delivery_event cio_rb_nogvl_cio_v2_delivery_event
/* App API (customerio/app.h) */
CIO_RB_NOGVL5(cio_send_email, cio_client_t *, const char *, const cio_attachment_t *, size_t,
              char **)
#define cio_send_email cio_rb_nogvl_cio_send_email
CIO_RB_NOGVL3(cio_send_push, cio_client_t *, const char *, char **)
#define cio_send_push cio_rb_nogvl_cio_send_push
CIO_RB_NOGVL5(cio_send_sms, cio_client_t *, const char *, const cio_attachment_t *, size_t, char **)
#define cio_send_sms cio_rb_nogvl_cio_send_sms
CIO_RB_NOGVL5(cio_send_inbox_message, cio_client_t *, const char *, const cio_attachment_t *,
              size_t, char **)
#define cio_send_inbox_message cio_rb_nogvl_cio_send_inbox_message
CIO_RB_NOGVL3(cio_send_in_app, cio_client_t *, const char *, char **)
#define cio_send_in_app cio_rb_nogvl_cio_send_in_app
CIO_RB_NOGVL5(cio_send_whatsapp, cio_client_t *, const char *, const cio_attachment_t *, size_t,
              char **)
#define cio_send_whatsapp cio_rb_nogvl_cio_send_whatsapp
CIO_RB_NOGVL4(cio_trigger_broadcast, cio_client_t *, const char *, const char *, char **)
#define cio_trigger_broadcast cio_rb_nogvl_cio_trigger_broadcast
CIO_RB_NOGVL4(cio_customers_get_attributes, cio_client_t *, cio_id_type_t, const char *, char **)
#define cio_customers_get_attributes cio_rb_nogvl_cio_customers_get_attributes
CIO_RB_NOGVL3(cio_customers_get_by_email, cio_client_t *, const char *, char **)
#define cio_customers_get_by_email cio_rb_nogvl_cio_customers_get_by_email
CIO_RB_NOGVL5(cio_customers_get_by_ids, cio_client_t *, cio_id_type_t, const char *const *, size_t,
              char **)
#define cio_customers_get_by_ids cio_rb_nogvl_cio_customers_get_by_ids
CIO_RB_NOGVL4(cio_customers_search, cio_client_t *, const char *, const cio_page_t *, char **)
#define cio_customers_search cio_rb_nogvl_cio_customers_search
CIO_RB_NOGVL4(cio_customers_get_segments, cio_client_t *, cio_id_type_t, const char *, char **)
#define cio_customers_get_segments cio_rb_nogvl_cio_customers_get_segments
CIO_RB_NOGVL7(cio_customers_get_messages, cio_client_t *, cio_id_type_t, const char *,
              const cio_page_t *, int64_t, int64_t, char **)
#define cio_customers_get_messages cio_rb_nogvl_cio_customers_get_messages
CIO_RB_NOGVL7(cio_customers_get_activities, cio_client_t *, cio_id_type_t, const char *,
              const cio_page_t *, const char *, const char *, char **)
#define cio_customers_get_activities cio_rb_nogvl_cio_customers_get_activities
CIO_RB_NOGVL5(cio_customers_get_relationships, cio_client_t *, cio_id_type_t, const char *,
              const cio_page_t *, char **)
#define cio_customers_get_relationships cio_rb_nogvl_cio_customers_get_relationships
CIO_RB_NOGVL5(cio_customers_get_subscription_preferences, cio_client_t *, cio_id_type_t,
              const char *, const char *, char **)
#define cio_customers_get_subscription_preferences                                                 \
    cio_rb_nogvl_cio_customers_get_subscription_preferences
CIO_RB_NOGVL2(cio_segments_list, cio_client_t *, char **)
#define cio_segments_list cio_rb_nogvl_cio_segments_list
CIO_RB_NOGVL3(cio_segments_get, cio_client_t *, const char *, char **)
#define cio_segments_get cio_rb_nogvl_cio_segments_get
CIO_RB_NOGVL4(cio_segments_create, cio_client_t *, const char *, const char *, char **)
#define cio_segments_create cio_rb_nogvl_cio_segments_create
CIO_RB_NOGVL3(cio_segments_delete, cio_client_t *, const char *, char **)
#define cio_segments_delete cio_rb_nogvl_cio_segments_delete
CIO_RB_NOGVL3(cio_segments_customer_count, cio_client_t *, const char *, char **)
#define cio_segments_customer_count cio_rb_nogvl_cio_segments_customer_count
CIO_RB_NOGVL4(cio_segments_membership, cio_client_t *, const char *, const cio_page_t *, char **)
#define cio_segments_membership cio_rb_nogvl_cio_segments_membership
CIO_RB_NOGVL3(cio_segments_used_by, cio_client_t *, const char *, char **)
#define cio_segments_used_by cio_rb_nogvl_cio_segments_used_by
CIO_RB_NOGVL2(cio_transactional_list, cio_client_t *, char **)
#define cio_transactional_list cio_rb_nogvl_cio_transactional_list
CIO_RB_NOGVL3(cio_transactional_get, cio_client_t *, const char *, char **)
#define cio_transactional_get cio_rb_nogvl_cio_transactional_get
CIO_RB_NOGVL3(cio_transactional_list_variants, cio_client_t *, const char *, char **)
#define cio_transactional_list_variants cio_rb_nogvl_cio_transactional_list_variants
CIO_RB_NOGVL4(cio_transactional_get_variant, cio_client_t *, const char *, const char *, char **)
#define cio_transactional_get_variant cio_rb_nogvl_cio_transactional_get_variant
CIO_RB_NOGVL5(cio_transactional_update_content, cio_client_t *, const char *, const char *,
              const char *, char **)
#define cio_transactional_update_content cio_rb_nogvl_cio_transactional_update_content
CIO_RB_NOGVL5(cio_transactional_update_variant, cio_client_t *, const char *, const char *,
              const char *, char **)
#define cio_transactional_update_variant cio_rb_nogvl_cio_transactional_update_variant
CIO_RB_NOGVL5(cio_transactional_metrics, cio_client_t *, const char *, const char *, int, char **)
#define cio_transactional_metrics cio_rb_nogvl_cio_transactional_metrics
CIO_RB_NOGVL6(cio_transactional_link_metrics, cio_client_t *, const char *, const char *, int, int,
              char **)
#define cio_transactional_link_metrics cio_rb_nogvl_cio_transactional_link_metrics
CIO_RB_NOGVL5(cio_transactional_deliveries, cio_client_t *, const char *, const cio_page_t *,
              const cio_delivery_filter_t *, char **)
#define cio_transactional_deliveries cio_rb_nogvl_cio_transactional_deliveries

/* Pipelines API (customerio/cdp.h) */
CIO_RB_NOGVL2(cio_cdp_send, cio_client_t *, const char *)
#define cio_cdp_send cio_rb_nogvl_cio_cdp_send
CIO_RB_NOGVL4(cio_cdp_batch, cio_client_t *, const char *const *, size_t, cio_batch_result_t **)
#define cio_cdp_batch cio_rb_nogvl_cio_cdp_batch
/* The delivery pipeline (customerio/pipeline.h): enqueue may wait for room (when_full block),
 * flush waits for the queue to drain, close for in-flight requests and the pipeline thread. */
CIO_RB_NOGVL3(cio_pipeline_enqueue, cio_pipeline_t *, const char *, uint64_t *)
#define cio_pipeline_enqueue cio_rb_nogvl_cio_pipeline_enqueue
CIO_RB_NOGVL3(cio_pipeline_enqueue_request, cio_pipeline_t *, const cio_request_t *, uint64_t *)
#define cio_pipeline_enqueue_request cio_rb_nogvl_cio_pipeline_enqueue_request
CIO_RB_NOGVL3(cio_request_send, cio_client_t *, const cio_request_t *, char **)
#define cio_request_send cio_rb_nogvl_cio_request_send
CIO_RB_NOGVL2(cio_pipeline_flush, cio_pipeline_t *, long)
#define cio_pipeline_flush cio_rb_nogvl_cio_pipeline_flush
CIO_RB_NOGVL2(cio_pipeline_close, cio_pipeline_t *, long)
#define cio_pipeline_close cio_rb_nogvl_cio_pipeline_close

/* cio_client_free waits for the engine thread to stop. */
static void *cio_rb_run_cio_client_free(void *client) {
    cio_client_free((cio_client_t *)client);
    return NULL;
}
static void cio_rb_nogvl_cio_client_free(cio_client_t *client) {
    rb_thread_call_without_gvl(cio_rb_run_cio_client_free, client, NULL, NULL);
}
#define cio_client_free cio_rb_nogvl_cio_client_free

#endif
