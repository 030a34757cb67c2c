#include "curl_body.h"

#include <stdlib.h>
#include <string.h>

size_t curl_body_collect(char *ptr, size_t size, size_t nmemb, void *user) {
    curl_body_t *b = user;
    size_t n = size * nmemb;
    char *bigger = realloc(b->data, b->len + n + 1);
    if (bigger == NULL)
        return 0;
    memcpy(bigger + b->len, ptr, n);
    b->data = bigger;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}
