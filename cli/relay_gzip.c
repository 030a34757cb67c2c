/* Request bodies sent with Content-Encoding: gzip (analytics-python's gzip=True), inflated under
 * the same limit as a plain body, so a small bomb cannot grow past --max-body. */
#include "relay.h"
#include "util.h"

#include <zlib.h>

int relay_gunzip(const char *in, size_t len, size_t max, char **out, size_t *out_len) {
    z_stream z = {0};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) { /* 16: the gzip wrapper, not zlib's */
        return -1;
    }
    sbuf_t b = {0};
    unsigned char chunk[16384];
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)len;
    int rc;
    do {
        z.next_out = chunk;
        z.avail_out = sizeof(chunk);
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            break;
        }
        size_t n = sizeof(chunk) - z.avail_out;
        if (b.len + n > max) {
            rc = 1; /* too large */
            break;
        }
        sb_append(&b, chunk, n);
    } while (rc != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
    inflateEnd(&z);
    if (rc != Z_STREAM_END || z.avail_in != 0) {
        sb_free(&b);
        return rc == 1 ? 1 : -1;
    }
    *out_len = b.len;
    *out = sb_take(&b);
    return 0;
}
