/*
 * fuzz_records: the cio-native command's import path on fuzzed file content (cli/records.c, then
 * cli/operation.c and cli/schema.c, the core's Track v2 builders, then cio_v2_prepare), linked
 * from the CLI's own objects.
 *
 * The first byte picks the reading options: bit 0 CSV or JSON Lines, bits 1-2 the CSV delimiter
 * (',', tab, ';', '|'), bit 3 a small record size limit (64 bytes), bit 4 the sample import
 * schema (examples/sample/schema.yaml: a column mapping, renames, typed, required and normalised
 * attributes, patterns), bit 5 a typed column mapping instead, bit 6 a default record type
 * ("identify"). The rest is the file.
 * - No crash, leak or undefined behaviour; reading always ends.
 * - Every record has a line number that grows; a readable one is a JSON object, an unreadable
 *   one has a reason and a message; raw text is bounded.
 * - An operation built from a record is one JSON object that cio_v2_prepare accepts.
 */
#include "fuzz_util.h"
#include "operation.h"
#include "records.h"
#include "schema.h"

#include <customerio/customerio.h>

#include <sys/mman.h>
#include <unistd.h>

static schema_t *sample_schema(void) {
    static schema_t *schema;
    static bool loaded;
    if (!loaded) {
        char err[300];
        schema = schema_load(CIO_FUZZ_SCHEMA, err, sizeof(err));
        FUZZ_CHECK(schema != NULL, "%s", err);
        loaded = true;
    }
    return schema;
}

static json_t *typed_columns(void) {
    static json_t *columns;
    if (columns == NULL) {
        columns = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:n}", "id", "id", "n", "n:number",
                            "i", "count:integer", "b", "flag:boolean", "t", "at:timestamp", "j",
                            "extra:json", "d", "device.token", "p", "device.platform", "x");
        FUZZ_CHECK(columns != NULL, "json_pack");
    }
    return columns;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    uint8_t flags = data[0];
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_records", 0);
        FUZZ_CHECK(fd >= 0, "memfd_create");
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, data + 1, size - 1, 0) == (ssize_t)(size - 1),
               "writing the file");

    static const char delimiters[] = {',', '\t', ';', '|'};
    const schema_t *schema = (flags & 16) ? sample_schema() : NULL;
    rec_options_t ro = {
        .format = (flags & 1) ? REC_CSV : REC_JSONL,
        .delimiter = delimiters[(flags >> 1) & 3],
        .max_record_bytes = (flags & 8) ? 64 : 0,
        .columns = schema != NULL ? schema_columns(schema)
                   : (flags & 32) ? typed_columns()
                                  : NULL,
    };
    const char *default_type = (flags & 64) ? "identify" : NULL;

    rec_reader_t *r = NULL;
    char err[400];
    if (rec_open(path, &ro, &r, err, sizeof(err)) != 0) {
        FUZZ_CHECK(ro.format == REC_CSV && err[0] != '\0', "open failed without a reason");
        return 0;
    }
    record_t rec;
    int rc;
    uint64_t last_line = 0;
    while ((rc = rec_next(r, &rec, err, sizeof(err))) == 1) {
        FUZZ_CHECK(rec.line > last_line, "line %llu after %llu", (unsigned long long)rec.line,
                   (unsigned long long)last_line);
        last_line = rec.line;
        FUZZ_CHECK(rec.raw != NULL && strlen(rec.raw) <= REC_RAW_KEEP + 3, "raw text");
        if (rec.error_reason != NULL) {
            FUZZ_CHECK(rec.value == NULL && rec.error_message[0] != '\0', "error %s",
                       rec.error_reason);
        } else {
            FUZZ_CHECK(json_is_object(rec.value), "a record that is not an object");
            op_error_t oe;
            cio_request_t *req = op_from_record(&rec, default_type, schema, &oe);
            if (req != NULL) {
                size_t len = 0;
                const char *op = cio_request_body(req, &len);
                cio_json_value_t v;
                FUZZ_CHECK(op != NULL && cio_json_scan(op, len, &v) == CIO_OK &&
                               v.kind == CIO_JSON_OBJECT,
                           "operation: %s", op != NULL ? op : "(no body)");
                char *prepared = NULL;
                FUZZ_CHECK(cio_v2_prepare(op, &prepared) == CIO_OK, "not valid: %s", op);
                cio_free(prepared);
                cio_request_free(req);
            } else {
                FUZZ_CHECK(oe.reason != NULL && oe.message[0] != '\0', "no reason");
            }
        }
        rec_clear(&rec);
    }
    FUZZ_CHECK(rc == 0, "read error: %s", err);
    FUZZ_CHECK(rec_bytes_read(r) == size - 1, "read %llu of %zu bytes",
               (unsigned long long)rec_bytes_read(r), size - 1);
    rec_close(r);
    return 0;
}
