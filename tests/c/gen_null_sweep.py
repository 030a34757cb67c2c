#!/usr/bin/env python3
"""Generates test_null_sweep.c: every exported function, called with NULL for each pointer argument.

Reads every CIO_EXTERN declaration in core/include/customerio/*.h and writes one Criterion test
per (function, pointer argument): that argument NULL, the others valid. A function returning
cio_status_t must return CIO_E_INVALID_ARGUMENT with a message unless OPTIONAL below says NULL
is accepted there (then: no crash, and a message if it fails); any other function must not
crash. Run by CMake at build time (tests/c/CMakeLists.txt), so a new public function is swept
without anyone listing it; one taking a pointer type the generator does not know (VALID) gets a
test that fails, naming what to add here.

    gen_null_sweep.py <include dir> <output .c>
"""
import glob
import os
import re
import sys
from typing import Dict, List, Optional, Tuple

# A valid value for a pointer type, by its spelling with the parameter name removed. "{name}" is
# the parameter name, for types whose valid value depends on it (strings); "{n}" a unique suffix
# for locals. Each entry: (declarations before the call, the argument, cleanup after the call).
VALID: Dict[str, Tuple[str, str, str]] = {
    "cio_client_t *": ("", "sweep_client()", ""),
    "const cio_client_t *": ("", "sweep_client()", ""),
    "cio_pipeline_t *": ("", "sweep_pipeline()", ""),
    "cio_queue_t *": ("", "sweep_queue()", ""),
    "const cio_request_t *": ("", "sweep_request()", ""),
    "const cio_request_t *const *": (
        "const cio_request_t *reqs{n}[] = {{sweep_request()}};", "reqs{n}", ""),
    "size_t *": ("size_t len{n} = 0;", "&len{n}", ""),
    "cio_request_t *": ("", "sweep_request_copy()", ""),
    "cio_request_t **": ("cio_request_t *req{n} = NULL;", "&req{n}", "cio_request_free(req{n});"),
    "const cio_queue_t *": ("", "sweep_queue()", ""),
    "cio_webhook_dedup_t *": ("", "sweep_dedup()", ""),
    "const cio_webhook_dedup_t *": ("", "sweep_dedup()", ""),
    "const char *": ("", "{string}", ""),
    "const char *const *": ("const char *arr{n}[] = {{{strings}}};", "arr{n}", ""),
    "char **": ("char *out{n} = NULL;", "&out{n}", "cio_free(out{n});"),
    "char *": ("char buf{n}[256] = {{0}};", "buf{n}", ""),
    "const cio_page_t *": ("cio_page_t page{n} = CIO_PAGE_INIT;", "&page{n}", ""),
    "const cio_delivery_filter_t *": (
        "cio_delivery_filter_t filter{n} = CIO_DELIVERY_FILTER_INIT;", "&filter{n}", ""),
    "const cio_attachment_t *": (
        'cio_attachment_t att{n} = {{"a.txt", "hi", 2}};', "&att{n}", ""),
    "const cio_cdp_options_t *": ("cio_cdp_options_t copt{n} = CIO_CDP_OPTIONS_INIT;",
                                  "&copt{n}", ""),
    "const cio_event_options_t *": ("cio_event_options_t eopt{n} = CIO_EVENT_OPTIONS_INIT;",
                                    "&eopt{n}", ""),
    "const cio_cdp_message_t *": (
        'cio_cdp_message_t msg{n} = CIO_CDP_MESSAGE_INIT; msg{n}.type = "track"; '
        'msg{n}.user_id = "1"; msg{n}.event = "e";', "&msg{n}", ""),
    "cio_cdp_stamp_t *": ("cio_cdp_stamp_t stamp{n};", "&stamp{n}", ""),
    "const cio_client_options_t *": ("cio_client_options_t copts{n} = sweep_client_options();",
                                     "&copts{n}", ""),
    "const cio_pipeline_options_t *": (
        "cio_pipeline_options_t popts{n} = CIO_PIPELINE_OPTIONS_INIT;", "&popts{n}", ""),
    "cio_client_t **": ("cio_client_t *client{n} = NULL;", "&client{n}",
                        "cio_client_free(client{n});"),
    "cio_pipeline_t **": ("cio_pipeline_t *pipe{n} = NULL;", "&pipe{n}",
                          "cio_pipeline_close(pipe{n}, 0);"),
    "cio_queue_t **": ("cio_queue_t *queue{n} = NULL;", "&queue{n}",
                       "if (queue{n} != NULL) cio_queue_free(queue{n});"),
    "cio_completion_t **": ("cio_completion_t *done{n} = NULL;", "&done{n}",
                            "if (done{n} != NULL) cio_completion_free(done{n});"),
    "cio_batch_result_t **": ("cio_batch_result_t *result{n} = NULL;", "&result{n}",
                              "cio_batch_result_free(result{n});"),
    "cio_webhook_events_t **": ("cio_webhook_events_t *events{n} = NULL;", "&events{n}",
                                "cio_webhook_events_free(events{n});"),
    "cio_webhook_dedup_t **": ("cio_webhook_dedup_t *dedup{n} = NULL;", "&dedup{n}",
                               "cio_webhook_dedup_free(dedup{n});"),
    "cio_config_t *": ("cio_config_t *cfg{n} = NULL; cio_config_new(CIO_CONFIG_CLIENT, &cfg{n});",
                       "cfg{n}", "cio_config_free(cfg{n});"),
    "const cio_config_t *": (
        "cio_config_t *cfg{n} = NULL; cio_config_new(CIO_CONFIG_CLIENT, &cfg{n});", "cfg{n}",
        "cio_config_free(cfg{n});"),
    "cio_config_t **": ("cio_config_t *cfg{n} = NULL;", "&cfg{n}", "cio_config_free(cfg{n});"),
    # issue 18 (redis.h): no Redis runs under the sweep, so a worker is never made; the one-
    # argument calls on a worker are only ever called with NULL
    "cio_worker_t *": ("", "NULL", ""),
    "const cio_worker_options_t *": (
        'cio_worker_options_t wopt{n} = CIO_WORKER_OPTIONS_INIT; '
        'wopt{n}.redis_url = "redis://127.0.0.1:1";', "&wopt{n}", ""),
    "cio_worker_t **": ("cio_worker_t *worker{n} = NULL;", "&worker{n}",
                        "cio_worker_free(worker{n});"),
    "cio_client_options_t *": ("cio_client_options_t cout{n};", "&cout{n}", ""),
    "cio_pipeline_options_t *": ("cio_pipeline_options_t pout{n};", "&pout{n}", ""),
    "cio_region_t *": ("cio_region_t region{n};", "&region{n}", ""),
    "cio_pipeline_stats_t *": ("cio_pipeline_stats_t stats{n};", "&stats{n}", ""),
    "uint64_t *": ("uint64_t u64_{n} = 0;", "&u64_{n}", ""),
    "int64_t *": ("int64_t i64_{n} = 0;", "&i64_{n}", ""),
    "int *": ("int int{n} = 0;", "&int{n}", ""),
    "const cio_json_value_t *": ("cio_json_value_t json{n} = sweep_json();", "&json{n}", ""),
    "cio_json_value_t *": ("cio_json_value_t jout{n};", "&jout{n}", ""),
    "const char **": ("const char *cursor{n} = NULL;", "&cursor{n}", ""),
    # only ever the single pointer argument of a free/getter: never needs a valid value
    "void *": ("", "NULL", ""),
    "cio_completion_t *": ("", "NULL", ""),
    "const cio_batch_result_t *": ("", "NULL", ""),
    "cio_batch_result_t *": ("", "NULL", ""),
    "const cio_webhook_events_t *": ("", "NULL", ""),
    "cio_webhook_events_t *": ("", "NULL", ""),
}

# A valid string for a parameter, by name; anything else gets "1" (a valid id, name or value).
STRINGS: Dict[str, str] = {
    "request_json": '"{\\"transactional_message_id\\":1,\\"identifiers\\":{\\"id\\":\\"1\\"},'
                    '\\"to\\":\\"a@example.com\\"}"',
    "message_json": '"{\\"type\\":\\"track\\",\\"userId\\":\\"1\\",\\"event\\":\\"e\\"}"',
    "operation_json": '"{\\"type\\":\\"person\\",\\"action\\":\\"identify\\",'
                      '\\"identifiers\\":{\\"id\\":\\"1\\"}}"',
    "relationships_json": '"[{\\"identifiers\\":{\\"object_type_id\\":\\"1\\",'
                          '\\"object_id\\":\\"1\\"}}]"',
    "filter_json": '"{\\"and\\":[]}"',
    "email": '"a@example.com"',
    "event": '"opened"',
    "metric": '"delivered"',
    "platform": '"ios"',
    "period": '"days"',
    "language": '"en"',
    "url": '"https://example.com/"',
    "href": '"https://example.com/"',
    "signing_key": '"key"',
    "timestamp_header": '"1700000000"',
    "timestamp": '"1700000000"',
    "signature_header": '"' + "0" * 64 + '"',
    "body": '"{}"',
    "text": '"{\\"a\\":1}"',
}
JSON_NAMES = re.compile(r"_json$")

# Values for non-pointer parameters, by name; anything else gets 0 of its type.
SCALARS: Dict[str, str] = {
    "count": "1", "n_attachments": "1", "body_len": "2", "len": "7", "size": "256",
    "timestamp": "1700000000", "now": "1700000000", "tolerance_seconds": "300",
    "capacity": "8", "ttl_seconds": "60", "steps": "1", "token": "1", "id_type": "CIO_ID_TYPE_ID",
    "primary_type": "CIO_ID_TYPE_ID", "secondary_type": "CIO_ID_TYPE_ID",
}

# (function, parameter) where NULL is documented as accepted: the call must not crash, and must
# leave a message if it fails. Anything else NULL must be refused with CIO_E_INVALID_ARGUMENT.
OPTIONAL = {
    ("cio_customers_search", "page"), ("cio_customers_get_messages", "page"),
    ("cio_customers_get_activities", "page"), ("cio_customers_get_activities", "type"),
    ("cio_customers_get_activities", "name"), ("cio_customers_get_relationships", "page"),
    ("cio_customers_get_subscription_preferences", "language"),
    ("cio_segments_create", "description"), ("cio_segments_membership", "page"),
    ("cio_transactional_metrics", "period"), ("cio_transactional_link_metrics", "period"),
    ("cio_transactional_deliveries", "page"), ("cio_transactional_deliveries", "filter"),
    ("cio_cdp_build", "stamp"),
    ("cio_cdp_identify", "user_id"), ("cio_cdp_identify", "anonymous_id"),
    ("cio_cdp_identify", "traits_json"), ("cio_cdp_identify", "options"),
    ("cio_cdp_track", "user_id"), ("cio_cdp_track", "anonymous_id"),
    ("cio_cdp_track", "properties_json"), ("cio_cdp_track", "options"),
    ("cio_cdp_page", "user_id"), ("cio_cdp_page", "anonymous_id"), ("cio_cdp_page", "name"),
    ("cio_cdp_page", "properties_json"), ("cio_cdp_page", "options"),
    ("cio_cdp_screen", "user_id"), ("cio_cdp_screen", "anonymous_id"),
    ("cio_cdp_screen", "name"), ("cio_cdp_screen", "properties_json"),
    ("cio_cdp_screen", "options"),
    ("cio_cdp_group", "user_id"), ("cio_cdp_group", "anonymous_id"),
    ("cio_cdp_group", "traits_json"), ("cio_cdp_group", "options"), ("cio_cdp_alias", "options"),
    ("cio_cdp_batch", "result"), ("cio_v2_send_batch", "result"),
    ("cio_v2_send_batch_async", "result"),
    ("cio_pipeline_enqueue", "seq"), ("cio_pipeline_try_enqueue", "seq"),
    ("cio_pipeline_enqueue_message", "stamp"), ("cio_pipeline_enqueue_message", "seq"),
    ("cio_pipeline_try_enqueue_message", "stamp"), ("cio_pipeline_try_enqueue_message", "seq"),
    ("cio_pipeline_enqueue_requests", "seqs"), ("cio_pipeline_try_enqueue_requests", "seqs"),
    ("cio_pipeline_close", "pipeline"),  # NULL is a no-op returning CIO_OK
    ("cio_identify", "attributes_json"),
    ("cio_track", "data_json"), ("cio_track", "options"),
    ("cio_track_anonymous", "anonymous_id"), ("cio_track_anonymous", "data_json"),
    ("cio_track_anonymous", "options"),
    ("cio_pageview", "data_json"), ("cio_pageview", "options"),
    ("cio_screen", "data_json"), ("cio_screen", "options"), ("cio_backfill", "data_json"),
    ("cio_add_device", "attributes_json"), ("cio_add_device_fields", "fields_json"),
    ("cio_track_delivery_metric", "recipient"), ("cio_track_delivery_metric", "reason"),
    ("cio_track_delivery_metric", "href"),
    ("cio_v2_person_identify", "attributes_json"), ("cio_v2_person_event", "data_json"),
    ("cio_v2_person_event", "options"), ("cio_v2_person_screen", "data_json"),
    ("cio_v2_person_screen", "options"), ("cio_v2_person_page", "data_json"),
    ("cio_v2_person_page", "options"), ("cio_v2_person_add_device", "attributes_json"), ("cio_v2_person_add_device_fields", "fields_json"),
    ("cio_v2_object_identify", "attributes_json"),
    # object_type_id NULL: object_id is a cio_object_id
    ("cio_v2_object_identify", "object_type_id"), ("cio_v2_object_delete", "object_type_id"),
    ("cio_v2_object_event", "object_type_id"),
    ("cio_v2_object_add_relationships", "object_type_id"),
    ("cio_v2_object_delete_relationships", "object_type_id"),
    ("cio_v2_relationship_json", "object_type_id"),
    ("cio_v2_relationship_json", "relationship_attributes_json"),
    ("cio_v2_object_event", "data_json"), ("cio_v2_object_event", "options"),
    ("cio_v2_delivery_event", "data_json"), ("cio_v2_delivery_event", "options"),
    ("cio_request_new", "body"), ("cio_request_body", "len"), ("cio_request_send", "response_json"),
    ("cio_config_set", "value"),  # NULL = back to the default
    ("cio_pipeline_new_from_config", "report_queue"),  # NULL = no report queue
    ("cio_json_next", "key"), ("cio_json_scan", "root"), ("cio_trigger_broadcast", "request_json"),
    # issue 18: id NULL = every dead letter; done and group optional; stop/free NULL no-ops
    ("cio_redis_dead_letters_retry", "id"), ("cio_redis_dead_letters_retry", "done"),
    ("cio_redis_dead_letters_drop", "id"), ("cio_redis_dead_letters_drop", "done"),
    ("cio_redis_queue_stats_json", "group"), ("cio_worker_stop", "worker"),
    ("cio_worker_free", "worker"),
}
# Parameters optional wherever they appear (app.h: "Pass NULL when the answer is not needed").
OPTIONAL_NAMES = {"response_json"}

# Functions whose status is not CIO_E_INVALID_ARGUMENT for a NULL argument, as documented.
OTHER_STATUS: Dict[Tuple[str, str], str] = {}

# Not called: stops the process-wide state the other calls use, or has no pointer to sweep.
SKIP = set()


def declarations(include_dir: str) -> List[Tuple[str, str, str, List[Tuple[str, str]]]]:
    out = []
    for path in sorted(glob.glob(os.path.join(include_dir, "*.h"))):
        text = re.sub(r"/\*.*?\*/", " ", open(path, encoding="utf-8").read(), flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        for m in re.finditer(r"CIO_EXTERN\s+([^;{}()]*?)\(([^;{}]*?)\)\s*;", text, flags=re.S):
            head = " ".join(m.group(1).split())
            name = re.search(r"(\w+)\s*$", head).group(1)
            ret = head[: -len(name)].strip()
            params = []
            raw = " ".join(m.group(2).split())
            if raw and raw != "void":
                for p in raw.split(","):
                    p = p.strip()
                    arr = re.match(r"(.*?)(\w+)\s*\[[^\]]*\]$", p)
                    if arr:  # "char out[N]" is a pointer
                        ptype, pname = arr.group(1).strip() + " *", arr.group(2)
                    else:
                        pm = re.match(r"(.*?)(\w+)$", p)
                        ptype, pname = pm.group(1).strip(), pm.group(2)
                    ptype = re.sub(r"\s*\*\s*", " *", ptype).replace("* *", "**")
                    ptype = re.sub(r"\*const \*", "*const *", ptype)
                    params.append((" ".join(ptype.split()), pname))
            out.append((os.path.basename(path), ret, name, params))
    return out


def string_for(name: str) -> str:
    if name in STRINGS:
        return STRINGS[name]
    if JSON_NAMES.search(name):
        return '"{}"'
    return '"1"'


def optional(fn: str, pname: str) -> bool:
    """NULL accepted there; a builder (cio_X_request) accepts what its call cio_X accepts."""
    base = fn[: -len("_request")] if fn.endswith("_request") else fn
    return (fn, pname) in OPTIONAL or (base, pname) in OPTIONAL or pname in OPTIONAL_NAMES


def render_test(ret: str, fn: str, params: List[Tuple[str, str]], null_index: int) -> str:
    decls, args, cleanup = [], [], []
    for i, (ptype, pname) in enumerate(params):
        if "*" not in ptype:
            args.append(SCALARS.get(pname, "0"))
            continue
        if i == null_index:
            args.append("NULL")
            continue
        before, arg, after = VALID[ptype]
        fmt = {"n": str(i), "name": pname, "string": string_for(pname),
               "strings": string_for(pname[:-1] if pname.endswith("s") else pname)}
        if ptype == "const char *const *":
            item = {"messages_json": "message_json", "operations_json": "operation_json"}
            fmt["strings"] = string_for(item.get(pname, "id"))
        decls.append(before.format(**fmt))
        args.append(arg.format(**fmt))
        cleanup.append(after.format(**fmt))
    pname = params[null_index][1]
    call = "{}({})".format(fn, ", ".join(args))
    lines = ["Test(null_sweep, {}__{}) {{".format(fn, pname)]
    lines += ["    " + d for d in decls if d]
    if ret == "cio_status_t":
        lines.append("    cio_status_t st = {};".format(call))
        if optional(fn, pname):
            lines.append('    expect_message_if_failed(st, "{}", "{}");'.format(fn, pname))
        else:
            want = OTHER_STATUS.get((fn, pname), "CIO_E_INVALID_ARGUMENT")
            lines.append('    expect_refused(st, {}, "{}", "{}");'.format(want, fn, pname))
    elif ret == "void":
        lines.append("    {};".format(call))
    else:
        lines.append("    (void){};".format(call))
    lines += ["    " + c for c in cleanup if c]
    lines.append("}")
    return "\n".join(lines)


PRELUDE = r'''/* Generated by tests/c/gen_null_sweep.py from the headers in core/include/customerio: do not edit. */
#include "null_sweep_fixture.h"

'''


def main() -> int:
    include_dir, out_path = sys.argv[1], sys.argv[2]
    decls = declarations(include_dir)
    if len(decls) < 50:  # the parser lost its way: fail loudly rather than sweep nothing
        sys.stderr.write("gen_null_sweep: found only {} declarations\n".format(len(decls)))
        return 1
    tests = []
    cases = 0
    for header, ret, fn, params in decls:
        if fn in SKIP:
            continue
        for i, (ptype, pname) in enumerate(params):
            if "*" not in ptype:
                continue
            unknown = [t for t, _ in params if "*" in t and t not in VALID]
            if unknown:
                tests.append('Test(null_sweep, {}__unknown_types) {{\n    cr_assert_fail("{} ({}) '
                             'takes {}, which tests/c/gen_null_sweep.py does not know: add a valid '
                             'value for it to VALID");\n}}'.format(fn, fn, header,
                                                                  ", ".join(unknown)))
                break
            tests.append(render_test(ret, fn, params, i))
            cases += 1
    with open(out_path + ".tmp", "w", encoding="utf-8") as f:
        f.write(PRELUDE)
        f.write("\n\n".join(tests))
        f.write("\n\n/* {} functions, {} NULL cases */\n".format(len(decls), cases))
    os.replace(out_path + ".tmp", out_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
