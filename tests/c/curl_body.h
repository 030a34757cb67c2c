/*
 * tests/c/curl_body.h - a response body collected from libcurl into a growing, NUL-terminated
 * buffer. Shared by the Criterion helpers and the soak test (which does not link Criterion).
 */
#ifndef CIO_TEST_CURL_BODY_H
#define CIO_TEST_CURL_BODY_H

#include <stddef.h>

typedef struct curl_body {
    char *data; /* malloc'd, NUL-terminated once anything arrived; NULL before */
    size_t len;
} curl_body_t;

/* A CURLOPT_WRITEFUNCTION; CURLOPT_WRITEDATA is a curl_body_t *. */
size_t curl_body_collect(char *ptr, size_t size, size_t nmemb, void *user);

#endif
