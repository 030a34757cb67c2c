/*
 * bindings/cdp.i - the Pipelines API (customerio/cdp.h) for the SWIG bindings. Included at the
 * end of bindings/core.i, after the language's typemaps (strings, string lists, batch
 * results, status -> exception), which apply here too.
 *
 * Wrapped: cio_cdp_prepare (validate and complete one message without sending: returns the JSON
 * text as a str / String), cio_cdp_send (one message to /v1/<type>) and cio_cdp_batch (a list
 * of messages to /v1/batch; returns (request_count, [(index, reason, field, message), ...]) like
 * cio_v2_send_batch). The typed helpers and their options struct are C conveniences: the
 * bindings build the message JSON themselves and pass it to these three.
 *
 * Python: cio_cdp_prepare keeps the GIL (no I/O); the sends release it. Ruby: the sends run
 * without the GVL through bindings/ruby/ext/customerio_native/cio_rb_nogvl.h.
 */

/* ======================================================================================== */
#ifdef SWIGPYTHON
%typemap(in, numinputs=0) char **prepared_json (char *tmp = NULL) { $1 = &tmp; }
%typemap(argout) char **prepared_json {
    PyObject *text = PyUnicode_FromString(*$1);
    cio_free(*$1);
    *$1 = NULL;
    if (text == NULL) {
        SWIG_fail;
    }
    $result = SWIG_Python_AppendOutput($result, text);
}
%feature("nothread") cio_cdp_prepare;

#endif /* SWIGPYTHON */

/* ======================================================================================== */
#ifdef SWIGRUBY
%typemap(in, numinputs=0) char **prepared_json (char *tmp = NULL) { $1 = &tmp; }
%typemap(argout) char **prepared_json {
    VALUE text = rb_utf8_str_new_cstr(*$1);
    cio_free(*$1);
    *$1 = NULL;
    $result = SWIG_Ruby_AppendOutput($result, text);
}
#endif /* SWIGRUBY */

/* ======================================================================================== */
/* Language-neutral. */

%ignore cio_cdp_options;
%ignore cio_cdp_identify;
%ignore cio_cdp_track;
%ignore cio_cdp_page;
%ignore cio_cdp_screen;
%ignore cio_cdp_group;
%ignore cio_cdp_alias;

/* Bindings pass a message's parts to cio_py_message (Python); the struct forms stay C's. */
%ignore cio_cdp_message;
%ignore cio_cdp_stamp;
%ignore cio_cdp_build;

%include "customerio/cdp.h"

#ifdef SWIGPYTHON
%include "py_message.i"
%include "py_v2.i"
#endif
