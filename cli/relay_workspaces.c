/* The relay's workspaces beyond the default one: a client made from a file of option names. */
#include "relay.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define WORKSPACE_MAX_BYTES ((size_t)64 << 10)

int relay_workspace_client(const char *path, cio_client_t **out, bool *track, bool *cdp, char *err,
                           size_t errlen) {
    char *text;
    size_t len;
    if (read_file_max(path, WORKSPACE_MAX_BYTES, &text, &len) != 0) {
        char why[64];
        snprintf(err, errlen, "cannot read %s: %s", path,
                 read_error(errno, WORKSPACE_MAX_BYTES, why, sizeof(why)));
        return -1;
    }
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!json_is_object(root)) {
        snprintf(err, errlen, "%s: not one JSON object of client options (line %d: %s)", path,
                 jerr.line, root == NULL ? jerr.text : "not an object");
        json_decref(root);
        return -1;
    }
    cio_config_t *cfg = NULL;
    cio_config_new(CIO_CONFIG_CLIENT, &cfg);
    int rc = cio_config_set(cfg, "ignore_env", "true") == CIO_OK ? 0 : -1;
    const char *name;
    json_t *v;
    json_object_foreach(root, name, v) {
        char number[64];
        const char *value = json_is_string(v) ? json_string_value(v) : NULL;
        if (json_is_integer(v)) {
            snprintf(number, sizeof(number), "%lld", (long long)json_integer_value(v));
            value = number;
        } else if (json_is_boolean(v)) {
            value = json_is_true(v) ? "true" : "false";
        }
        if (value == NULL) {
            snprintf(err, errlen, "%s: %s must be a string, an integer or a boolean", path, name);
            rc = -1;
            break;
        }
        if (cio_config_set(cfg, name, value) != CIO_OK) {
            snprintf(err, errlen, "%s: %s", path, cio_last_error()->message);
            rc = -1;
            break;
        }
    }
    json_decref(root);
    cio_client_options_t opts;
    if (rc == 0 && cio_config_client_options(cfg, &opts) == CIO_OK) {
        *track = opts.site_id != NULL && opts.api_key != NULL;
        *cdp = opts.cdp_api_key != NULL && opts.cdp_api_key[0] != '\0';
        if (cio_client_new(&opts, out) != CIO_OK) {
            snprintf(err, errlen, "%s: %s", path, cio_last_error()->message);
            rc = -1;
        }
    }
    cio_config_free(cfg);
    return rc;
}
