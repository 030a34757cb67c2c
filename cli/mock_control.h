/*
 * cli/mock_control.h - what cio-native mock does to a running emulator through its HTTP control
 * endpoints (mock/README.md): fault rules at start-up, and --state: the request log saved as
 * JSON on exit and replayed on the next start, which rebuilds the emulated workspace (people,
 * deliveries, segments) because the emulator derives its state from the requests it answered.
 */
#ifndef CIO_CLI_MOCK_CONTROL_H
#define CIO_CLI_MOCK_CONTROL_H

#include <stddef.h>
#include <stdint.h>

typedef struct mock_credentials {
    const char *site_id; /* Track Basic auth */
    const char *api_key;
    const char *app_api_key; /* App API Bearer */
    const char *cdp_api_key; /* Pipelines API (not replayed; redacted when saving) */
} mock_credentials_t;

/* POST /_mock/faults with rule_json. 0, or -1 with a message in err. */
int mock_add_fault(const char *base_url, const char *rule_json, char *err, size_t errlen);
/* POST /_mock/config (standing faults: fail_rate, fail_status, rate_limit); 0 on success. */
int mock_set_config(const char *base_url, const char *config_json, char *err, size_t errlen);

/*
 * Replays the requests saved in path (a JSON array of request-log entries; those answered 2xx
 * only) against base_url with the current credentials. A missing file is not an error (*count
 * = 0). 0 with *count replayed, or -1 with err.
 */
int mock_state_load(const char *base_url, const char *path, const mock_credentials_t *creds,
                    size_t *count, char *err, size_t errlen);

/*
 * Saves GET /_mock/requests to path, without requests that were not answered 2xx and without
 * any credential: the authorization header is dropped (the entry's "auth" says which kind a
 * replay needs), every other header outside a short list of harmless ones (content-type,
 * user-agent, ...) keeps its name with the value "[redacted]", query parameters whose name
 * looks like a credential (key, token, secret, password, auth, signature, ...) get the value
 * "REDACTED", and the keys in creds are replaced by "REDACTED" wherever else they appear
 * (path, query, headers, body). Written with write_file_atomic (mode 0600, no symlink
 * followed). 0 with *count saved and *dropped the requests the emulator's log had already
 * dropped (its bounds), or -1 with err.
 */
int mock_state_save(const char *base_url, const char *path, const mock_credentials_t *creds,
                    size_t *count, uint64_t *dropped, char *err, size_t errlen);

#endif
