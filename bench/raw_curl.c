/*
 * bench/raw_curl: the ceiling of one call = one request. One libcurl easy handle POSTs the same
 * Track v1 event N times in a row on its kept-alive connection, with the header lines cio_track
 * sends, and nothing else: no builder, no JSON, no retries, no error handling beyond the status.
 * Like the library, it writes the Authorization and User-Agent lines itself once (libcurl's
 * CURLOPT_USERNAME/PASSWORD would format them again per request, ~11,700 instructions: the
 * plain way is RAW_PLAIN=1). bench/peers.sh runs it next to `c_bench sync` and prints ours as
 * a percentage of it.
 *
 *   raw_curl URL N        (over https://, the CA in SSL_CERT_FILE; the emulator's site id and
 *                          key must be bench-site / bench-key)
 *
 * Prints one line as c_bench does: "raw_curl events=N seconds=S events_per_second=E cpu_us=C
 * rss_kb=R". Not a test.
 */
#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static long peak_rss_kb(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/* The answer is read and dropped (cio_track keeps it; its cost is ours to count, not this). */
static size_t discard(char *data, size_t size, size_t nmemb, void *user) {
    (void)data;
    (void)user;
    return size * nmemb;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: raw_curl URL N\n");
        return 2;
    }
    long n = atol(argv[2]);
    static const char body[] = "{\"name\":\"purchased\",\"data\":{\"price\":1.5,\"sku\":\"SKU-1\"},"
                               "\"id\":\"01HZX3Q6W8G0R6M2N1V9T4K7PB\"}";
    char url[512];
    snprintf(url, sizeof url, "%s/api/v1/customers/user-1/events", argv[1]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, "Content-Type: application/json");
    int plain = getenv("RAW_PLAIN") != NULL;
    if (!plain) {
        headers = curl_slist_append(headers, "User-Agent: raw-libcurl");
        /* base64("bench-site:bench-key"), bench/peers.sh's emulator credentials */
        headers = curl_slist_append(headers, "Authorization: Basic YmVuY2gtc2l0ZTpiZW5jaC1rZXk=");
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (plain) {
        curl_easy_setopt(h, CURLOPT_USERAGENT, "raw-libcurl");
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, "bench-site");
        curl_easy_setopt(h, CURLOPT_PASSWORD, "bench-key");
    }
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(sizeof body - 1));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    if (getenv("SSL_CERT_FILE") != NULL)
        curl_easy_setopt(h, CURLOPT_CAINFO, getenv("SSL_CERT_FILE"));
    double t0 = seconds_now(), cpu0 = cpu_seconds();
    for (long i = 0; i < n; i++) {
        CURLcode code = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (code != CURLE_OK || status != 200) {
            fprintf(stderr, "raw_curl: %s, HTTP %ld\n", curl_easy_strerror(code), status);
            return 1;
        }
    }
    double s = seconds_now() - t0;
    printf("raw_curl events=%ld seconds=%.3f events_per_second=%.0f cpu_us=%.2f rss_kb=%ld\n", n, s,
           n / s, (cpu_seconds() - cpu0) / n * 1e6, peak_rss_kb());
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return 0;
}
