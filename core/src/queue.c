/*
 * Completion queues: a mutex-protected FIFO of completions and an eventfd that is readable
 * exactly while the FIFO is non-empty. Reference counted, so that a call in flight can finish
 * after its caller released the queue. Also the batch result a completion carries.
 */
#include "customerio/async.h"
#include "util/error.h"
#include "queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct node {
    cio_completion_t *completion;
    struct node *next;
} node_t;

struct cio_queue {
    pthread_mutex_t lock;
    int fd;
    size_t refs;
    size_t size;
    node_t *head, *tail;
};

cio_status_t cio_queue_new(cio_queue_t **out) {
    if (out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "queue: out is NULL");
    cio_queue_t *q = calloc(1, sizeof(*q));
    if (q == NULL)
        return cio__fail(CIO_E_NOMEM, "queue: out of memory");
    q->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->fd < 0) {
        free(q);
        return cio__fail(CIO_E_INTERNAL, "queue: eventfd failed");
    }
    pthread_mutex_init(&q->lock, NULL);
    q->refs = 1;
    *out = q;
    return cio__ok();
}

int cio_queue_fd(const cio_queue_t *queue) {
    return queue != NULL ? queue->fd : -1;
}

void cio__queue_retain(cio_queue_t *q) {
    pthread_mutex_lock(&q->lock);
    q->refs++;
    pthread_mutex_unlock(&q->lock);
}

static void queue_destroy(cio_queue_t *q) {
    for (node_t *n = q->head, *next; n != NULL; n = next) {
        next = n->next;
        cio_completion_free(n->completion);
        free(n);
    }
    close(q->fd);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static void queue_release(cio_queue_t *q) {
    pthread_mutex_lock(&q->lock);
    bool last = --q->refs == 0;
    pthread_mutex_unlock(&q->lock);
    if (last)
        queue_destroy(q);
}

void cio__queue_push_all(cio_queue_t *q, cio_completion_t **cs, size_t n) {
    node_t *first = NULL, **tail = &first;
    uint64_t pushed = 0;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (cs[i] == NULL)
            continue;
        node_t *node = malloc(sizeof(*node));
        ok = node != NULL;
        if (ok) {
            node->completion = cs[i];
            node->next = NULL;
            *tail = node;
            tail = &node->next;
            pushed++;
        }
    }
    pthread_mutex_lock(&q->lock);
    if (!ok || q->refs == 1 || pushed == 0) { /* out of memory, or nobody will poll */
        pthread_mutex_unlock(&q->lock);
        for (node_t *node = first, *next; node != NULL; node = next) {
            next = node->next;
            free(node);
        }
        for (size_t i = 0; i < n; i++)
            cio_completion_free(cs[i]);
        queue_release(q);
        return;
    }
    if (q->tail != NULL)
        q->tail->next = first;
    else
        q->head = first;
    for (node_t *node = first; node != NULL; node = node->next)
        q->tail = node;
    q->size += pushed;
    ssize_t w = write(q->fd, &pushed, sizeof(pushed));
    (void)w; /* the counter cannot overflow: it is drained whenever the FIFO empties */
    pthread_mutex_unlock(&q->lock);
    queue_release(q);
}

void cio__queue_push(cio_queue_t *q, cio_completion_t *c) {
    cio__queue_push_all(q, &c, 1);
}

cio_status_t cio_queue_poll(cio_queue_t *queue, cio_completion_t **out) {
    if (queue == NULL || out == NULL)
        return cio__fail(CIO_E_INVALID_ARGUMENT, "queue_poll: queue or out is NULL");
    pthread_mutex_lock(&queue->lock);
    node_t *n = queue->head;
    if (n != NULL) {
        queue->head = n->next;
        if (queue->head == NULL)
            queue->tail = NULL;
        queue->size--;
    }
    if (queue->head == NULL) {
        uint64_t count;
        ssize_t r = read(queue->fd, &count, sizeof(count)); /* no longer readable */
        (void)r;
    }
    pthread_mutex_unlock(&queue->lock);
    *out = n != NULL ? n->completion : NULL;
    free(n);
    return cio__ok();
}

size_t cio_queue_size(const cio_queue_t *queue) {
    if (queue == NULL)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&queue->lock);
    size_t n = queue->size;
    pthread_mutex_unlock((pthread_mutex_t *)&queue->lock);
    return n;
}

void cio_queue_free(cio_queue_t *queue) {
    if (queue != NULL)
        queue_release(queue);
}

void cio_completion_free(cio_completion_t *c) {
    if (c == NULL)
        return;
    free((char *)c->message);
    free((char *)c->response);
    free((char *)c->reason);
    free((char *)c->field);
    free((char *)c->server_code);
    free((char *)c->server_message);
    cio_batch_result_free(c->batch_result);
    free(c);
}

/* The batch result a completion may carry is freed with it: its accessors live here, below
 * batch.c, which fills it (the struct is in queue.h). */
size_t cio_batch_result_request_count(const cio_batch_result_t *result) {
    return result != NULL ? result->requests : 0;
}

size_t cio_batch_result_error_count(const cio_batch_result_t *result) {
    return result != NULL ? result->count : 0;
}

const cio_batch_item_error_t *cio_batch_result_error(const cio_batch_result_t *result, size_t i) {
    return (result != NULL && i < result->count) ? &result->errors[i] : NULL;
}

void cio_batch_result_free(cio_batch_result_t *result) {
    if (result == NULL)
        return;
    for (size_t i = 0; i < result->count; i++) {
        free((char *)result->errors[i].reason);
        free((char *)result->errors[i].field);
        free((char *)result->errors[i].message);
    }
    free(result->errors);
    free(result);
}
