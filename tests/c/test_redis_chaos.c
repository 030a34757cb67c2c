/*
 * Issue 18's chaos run: 8 producer processes (pipelines with redis_url and a spool each) and 3
 * worker processes against the emulator, which answers some requests with 503, 429 with
 * Retry-After, connection resets or a delay; meanwhile random workers are killed with SIGKILL
 * (often mid-request) and replaced, redis-server is killed with SIGKILL and restarted from its
 * append-only file, and producers are killed mid-write and replaced on the same spool. It passes
 * only when:
 * - every event a producer was told was accepted (cio_pipeline_enqueue returned CIO_OK; the
 *   producer's ledger file) reached the emulator with a 2xx answer: nothing lost;
 * - events that arrived more than once are no more than the one documented window allows (sent,
 *   not yet acknowledged when a worker died): at most a worker's in-flight requests' worth per
 *   worker or redis-server kill;
 * - the emulator's meter never saw more than the fleet's rate in any one-second window.
 * Short by default (ctest); CIO_CHAOS_SECONDS (make chaos) makes it longer, CIO_CHAOS_SEED
 * repeats a run's timings.
 */
#include "helpers.h"
#include "redis_server.h"

#include <customerio/redis.h>

#include <criterion/criterion.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PRODUCERS 8
#define WORKERS 3
#define FLEET_RATE 30.0 /* requests per second, the whole fleet */
#define BATCH_ITEMS 20
#define IN_FLIGHT 2

TestSuite(redis_chaos, .init = fx_setup, .fini = fx_teardown);

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char dir[256], redis_url[128];

static bool exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---------------------------------------------------------------- a producer process */

static void producer_main(int slot, int incarnation) {
    cio_client_options_t co = fx_options();
    cio_client_t *client = NULL;
    if (cio_client_new(&co, &client) != CIO_OK)
        _exit(3);
    char spool[300], ledger[300], stop[300];
    snprintf(spool, sizeof(spool), "%s/p%d.spool", dir, slot);
    snprintf(ledger, sizeof(ledger), "%s/p%d.ledger", dir, slot);
    snprintf(stop, sizeof(stop), "%s/stop", dir);
    cio_pipeline_options_t o = CIO_PIPELINE_OPTIONS_INIT;
    o.redis_url = redis_url;
    o.spool_path = spool;
    o.linger_ms = 20;
    o.retry_deadline_ms = 3600000;
    cio_pipeline_t *p = NULL;
    if (cio_pipeline_new(client, &o, &p) != CIO_OK)
        _exit(4);
    int fd = open(ledger, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0)
        _exit(5);
    for (int n = 0; !exists(stop); n++) {
        char op[200], line[64];
        int len = snprintf(line, sizeof(line), "c%d_%d_%d\n", slot, incarnation, n);
        snprintf(op, sizeof(op),
                 "{\"type\":\"person\",\"identifiers\":{\"id\":\"u%d\"},\"action\":\"event\","
                 "\"name\":\"%.*s\"}",
                 slot, len - 1, line);
        if (cio_pipeline_enqueue(p, op, NULL) == CIO_OK && write(fd, line, (size_t)len) != len)
            _exit(6);
        sleep_ms(5 + rand() % 20);
    }
    close(fd);
    /* what this run accepted reaches Redis before it goes (Redis is up at the end) */
    _exit(cio_pipeline_close(p, 120000) == CIO_OK ? 0 : 7);
}

/* ---------------------------------------------------------------- a worker process */

static cio_worker_t *running;

static void on_term(int sig) {
    (void)sig;
    cio_worker_stop(running);
}

static void worker_main(int slot, int incarnation) {
    cio_client_options_t co = fx_options();
    char agent[64];
    snprintf(agent, sizeof(agent), "chaos-worker/%d", incarnation);
    co.user_agent = agent; /* the emulator's log tells which worker sent what */
    cio_client_t *client = NULL;
    if (cio_client_new(&co, &client) != CIO_OK)
        _exit(3);
    char name[64];
    snprintf(name, sizeof(name), "w%d_%d", slot, incarnation);
    cio_pipeline_options_t po = CIO_PIPELINE_OPTIONS_INIT;
    po.linger_ms = 20;
    po.max_batch_items = BATCH_ITEMS;
    po.max_in_flight = IN_FLIGHT;
    po.max_requests_per_second = FLEET_RATE;
    po.ratelimit_senders = WORKERS;
    po.retry_deadline_ms = 3600000;
    cio_worker_options_t o = CIO_WORKER_OPTIONS_INIT;
    o.redis_url = redis_url;
    o.consumer = name;
    o.claim_idle_ms = 4000; /* a loaded machine stalls a process for a second or two */
    o.block_ms = 50;
    o.pipeline = &po;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    /* Redis may be down right now: try again */
    for (int i = 0; i < 100 && cio_worker_new(client, &o, &running) != CIO_OK; i++)
        sleep_ms(100);
    if (running == NULL)
        _exit(4);
    cio_worker_run(running, 10000);
    cio_worker_free(running);
    cio_client_free(client);
    _exit(0);
}

static pid_t spawn(void (*fn)(int, int), int slot, int incarnation) {
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        srand((unsigned)getpid());
        fn(slot, incarnation);
        _exit(0);
    }
    return pid;
}

static void kill9(pid_t pid) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* ---------------------------------------------------------------- faults */

static void random_fault(void) {
    switch (rand() % 8) {
    case 0:
    case 1:
    case 2:
        mock_fault(1, 503, NULL, 0, NULL, NULL);
        break;
    case 3:
        mock_fault(1, 429, NULL, 0, "1", NULL);
        break;
    case 4:
    case 5:
        mock_fault(1, 0, NULL, 0, NULL, "reset");
        break;
    default: /* slow: widens the window a worker dies in */
        mock_fault(1, 0, NULL, 400, NULL, NULL);
        break;
    }
}

/* ---------------------------------------------------------------- checks */

typedef struct name_count {
    char name[64];
    int count;
    int sender;       /* the worker incarnation that sent it (its User-Agent) */
    int seq;          /* the emulator's log number of the request */
    char trail[96];   /* sender@seq of every arrival, for the message */
    int unsafe_sends; /* arrivals from workers that were not killed */
} name_count_t;

static bool killed[4096]; /* by worker incarnation */

static int cmp_names(const void *a, const void *b) {
    return strcmp(((const name_count_t *)a)->name, ((const name_count_t *)b)->name);
}

Test(redis_chaos, nothing_lost_at_most_once_within_the_rate, .timeout = 900) {
    const char *secs = getenv("CIO_CHAOS_SECONDS");
    int seconds = secs != NULL && atoi(secs) > 0 ? atoi(secs) : 8;
    const char *seed_env = getenv("CIO_CHAOS_SEED");
    unsigned seed = seed_env != NULL ? (unsigned)strtoul(seed_env, NULL, 10) : (unsigned)time(NULL);
    srand(seed);
    cr_log_info("redis chaos: %d s, seed %u (CIO_CHAOS_SEED)", seconds, seed);

    test_redis_t r;
    test_redis_start(&r, "--maxmemory-policy", "noeviction", NULL);
    snprintf(dir, sizeof(dir), "%s", r.dir);
    snprintf(redis_url, sizeof(redis_url), "%s", r.url);
    mock_control("DELETE", "/_mock/rate", NULL, NULL);

    pid_t producers[PRODUCERS], workers[WORKERS];
    int incarnation = 0, worker_kills = 0, producer_kills = 0, redis_kills = 0;
    for (int i = 0; i < PRODUCERS; i++)
        producers[i] = spawn(producer_main, i, incarnation++);
    int worker_incarnation[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        worker_incarnation[i] = incarnation;
        workers[i] = spawn(worker_main, i, incarnation++);
    }
    int64_t t0 = now_ms();

    int64_t end = now_ms() + seconds * 1000L;
    int64_t next_fault = 0, next_worker_kill = now_ms() + 1000,
            next_producer_kill = now_ms() + 1500, next_redis_kill = now_ms() + 2500;
    while (now_ms() < end) {
        int64_t now = now_ms();
        if (now >= next_fault) {
            random_fault();
            next_fault = now + 200 + rand() % 200;
        }
        if (now >= next_worker_kill) {
            int i = rand() % WORKERS;
            kill9(workers[i]);
            worker_kills++;
            killed[worker_incarnation[i]] = true;
            worker_incarnation[i] = incarnation;
            workers[i] = spawn(worker_main, i, incarnation++);
            next_worker_kill = now + 800 + rand() % 1200;
        }
        if (now >= next_producer_kill) {
            int i = rand() % PRODUCERS;
            kill9(producers[i]);
            producer_kills++;
            producers[i] = spawn(producer_main, i, incarnation++);
            next_producer_kill = now + 600 + rand() % 1200;
        }
        if (now >= next_redis_kill) {
            test_redis_kill9(&r);
            redis_kills++;
            cr_log_info("redis-server killed at %lld ms", (long long)(now - t0));
            sleep_ms(100 + rand() % 400);
            test_redis_restart(&r); /* from its append-only file */
            next_redis_kill = now + 2000 + rand() % 2000;
        }
        sleep_ms(20);
    }

    /* the end: producers stop and hand everything to Redis; workers drain it */
    char stop[300];
    snprintf(stop, sizeof(stop), "%s/stop", dir);
    FILE *f = fopen(stop, "w");
    cr_assert_not_null(f);
    fclose(f);
    for (int i = 0; i < PRODUCERS; i++) {
        int status = 0;
        waitpid(producers[i], &status, 0);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "producer %d ended with %d", i,
                  status);
    }
    mock_clear_faults();
    char *stats = NULL;
    for (int64_t until = now_ms() + 120000; now_ms() < until; sleep_ms(200)) {
        cio_free_string(stats);
        stats = cio_redis_queue_stats_json(fx.client, r.url, CIO_SINK_TRACK_V2, NULL);
        if (stats != NULL && strncmp(stats, "{\"length\":0,\"pending\":0,", 24) == 0)
            break;
    }
    cr_log_info("queue at the end: %s", stats ? stats : "(no answer)");
    cr_assert(stats != NULL && strncmp(stats, "{\"length\":0,\"pending\":0,", 24) == 0,
              "the queue did not drain: %s", stats ? stats : "");
    cr_assert_not_null(strstr(stats, "\"dead_letters\":0,"), "%s", stats);
    cio_free_string(stats);
    for (int i = 0; i < WORKERS; i++) {
        kill(workers[i], SIGTERM);
        waitpid(workers[i], NULL, 0);
    }

    /* what the emulator received, 2xx only, by event name */
    size_t cap = 1 << 16, n = 0;
    name_count_t *got = calloc(cap, sizeof(*got));
    json_t *log = mock_requests();
    size_t i;
    json_t *req;
    json_array_foreach(log, i, req) {
        if (strcmp(req_str(req, "path"), "/api/v2/batch") != 0 || req_status(req) != 200)
            continue;
        const char *agent = req_header(req, "user-agent");
        int sender =
            agent != NULL && strncmp(agent, "chaos-worker/", 13) == 0 ? atoi(agent + 13) : 0;
        json_t *body = req_body_json(req), *op;
        size_t j;
        json_array_foreach(json_object_get(body, "batch"), j, op) {
            if (n == cap) {
                cap *= 2;
                got = realloc(got, cap * sizeof(*got));
            }
            snprintf(got[n].name, sizeof(got[n].name), "%s",
                     json_string_value(json_object_get(op, "name")));
            got[n].sender = sender;
            got[n].seq = (int)json_integer_value(json_object_get(req, "seq"));
            got[n++].count = 1;
        }
        json_decref(body);
    }
    json_decref(log);
    qsort(got, n, sizeof(*got), cmp_names);
    /* An event may arrive more than once only in the documented window: every arrival but
     * the last came from a worker that was then killed (sent, not acknowledged). */
    size_t distinct = 0, duplicates = 0, outside_window = 0;
    for (size_t k = 0; k < n; k++) {
        if (distinct > 0 && strcmp(got[distinct - 1].name, got[k].name) == 0) {
            name_count_t *e = &got[distinct - 1];
            e->count++;
            duplicates++;
            e->unsafe_sends += !killed[got[k].sender];
            size_t tl = strlen(e->trail);
            snprintf(e->trail + tl, sizeof(e->trail) - tl, " w%d%s@%d", got[k].sender,
                     killed[got[k].sender] ? "(killed)" : "", got[k].seq);
            if (e->unsafe_sends > 1) {
                if (outside_window < 5)
                    cr_log_info("%s arrived %d times, %d from workers still alive:%s", e->name,
                                e->count, e->unsafe_sends, e->trail);
                outside_window++;
            }
        } else {
            got[distinct] = got[k];
            got[distinct].unsafe_sends = !killed[got[k].sender];
            snprintf(got[distinct].trail, sizeof(got[distinct].trail), "w%d%s@%d", got[k].sender,
                     killed[got[k].sender] ? "(killed)" : "", got[k].seq);
            distinct++;
        }
    }

    /* every accepted event arrived */
    size_t accepted = 0, lost = 0;
    for (int s = 0; s < PRODUCERS; s++) {
        char ledger[300], line[64];
        snprintf(ledger, sizeof(ledger), "%s/p%d.ledger", dir, s);
        FILE *lf = fopen(ledger, "r");
        cr_assert_not_null(lf);
        while (fgets(line, sizeof(line), lf) != NULL) {
            line[strcspn(line, "\n")] = '\0';
            name_count_t key;
            snprintf(key.name, sizeof(key.name), "%s", line);
            accepted++;
            if (bsearch(&key, got, distinct, sizeof(*got), cmp_names) == NULL) {
                if (lost < 5)
                    cr_log_info("lost: %s", line);
                lost++;
            }
        }
        fclose(lf);
    }
    long long requests = 0, max_in_window = 0;
    char *out = NULL;
    mock_control("GET", "/_mock/rate", NULL, &out);
    json_t *rate = json_loads(out, 0, NULL);
    json_t *ws = json_object_get(json_object_get(rate, "workspaces"), TEST_SITE_ID);
    requests = json_integer_value(json_object_get(ws, "requests"));
    max_in_window = json_integer_value(json_object_get(ws, "max_in_window"));
    long long max_at = json_integer_value(json_object_get(ws, "max_at_ms"));
    json_decref(rate);
    free(out);
    cr_log_info("accepted %zu, arrived %zu distinct, %zu more than once (%zu outside the "
                "window); kills: %d workers, %d producers, %d redis-server; %lld requests, at "
                "most %lld in a second (the one ending at %lld ms; rate %.0f)",
                accepted, distinct, duplicates, outside_window, worker_kills, producer_kills,
                redis_kills, requests, max_in_window, max_at, FLEET_RATE);
    cr_assert(accepted > 0);
    cr_assert_eq(lost, 0, "%zu accepted events never reached the emulator", lost);
    cr_assert_eq(outside_window, 0,
                 "%zu events arrived more than once outside the window (a worker killed)",
                 outside_window);
    cr_assert(max_in_window <= (long long)FLEET_RATE,
              "the meter saw %lld requests in one second (rate %.0f)", max_in_window, FLEET_RATE);
    free(got);
    test_redis_stop(&r);
}
