/*
 * bindings/core.i - the language-neutral part of the SWIG interfaces, %included at the end of
 * bindings/python.i and bindings/ruby.i (after their typemaps, which apply here): the public
 * headers, the option configs, and the App API, pipeline and Pipelines API pieces (app.i,
 * pipeline.i, cdp.i).
 *
 * Clients and pipelines are made from option configs set by name (customerio/options.h):
 * bindings pass their keyword arguments through cio_config_set(), so a new option needs no
 * change here or in the bindings.
 */

/* cio_client_new takes a struct of borrowed strings; bindings set a cio_config_t by name and
 * call cio_client_new_from_config. */
%ignore cio_client_new;
%ignore cio_client_options;
/* The struct forms of a config are C's; bindings list the rows through cio_config_option. */
%ignore cio_config_client_options;
%ignore cio_config_pipeline_options;
%ignore cio_option_info;
/* char out[CIO_ULID_BUFSIZE] has no natural mapping; events get ULIDs from the library. */
%ignore cio_ulid;

%include "customerio/common.h"
%include "customerio/types.h"
%include "customerio/errors.h"
/* request values and their typemaps: before the headers whose builders take cio_request_t ** */
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

%include "app.i"
%include "pipeline.i"
%include "redis.i"
%include "cdp.i"
%include "customerio/options.h"
