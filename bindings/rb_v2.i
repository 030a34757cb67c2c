/*
 * bindings/rb_v2.i - Ruby only: one Track v2 person operation from Ruby objects to the delivery
 * pipeline in one call (CustomerioNative::Pipeline's hot path: track, pageview, screen,
 * identify, also through Client.new(background: true)). Included by ruby.i.
 *
 *   Native.cio_rb_v2_person(guard, action, customer_id, name, data) -> seq, or nil
 *   Native.cio_rb_json(value) -> JSON text, or nil (Payload.json's first try; see the end)
 *
 * guard: the Pipeline's Native::Guard (its @ptr is read here, with the GVL held from
 * then until the operation is queued: no Ruby code runs in between, so #close, which takes @ptr
 * away under the GVL before it frees the pipeline, cannot free it meanwhile). action: 0
 * identify (name ignored), 1 event, 2 page, 3 screen. customer_id: as the Track v1 methods give
 * it ("cio_<x>" is the cio_id x, anything else the id). data: the attributes Hash, written as
 * JSON text here exactly as JSON.generate writes it (after Payload.plain, which changes nothing
 * in the values taken here). Then the core's builder for the action (cio_v2_person_*_request)
 * checks the arguments and writes the operation and cio_pipeline_try_enqueue_request queues it
 * (it never waits); a refusal of either raises Native::Error.
 *
 * nil, with nothing queued, whenever the gem's slower path (Pipeline#person) would do
 * something more or else: an id or name that is not a String or holds a NUL byte, a value that
 * is not a String (UTF-8 or US-ASCII, valid), Symbol key, Integer, finite Float, true, false,
 * nil, Hash or Array of those (a Time, a Symbol value, a subclass, deep nesting, ...), a closed
 * pipeline or one made in another process (its exception comes from there), a full queue (which
 * may be waited for there). The caller then takes that path, which does it all again.
 */

%{
#include <math.h>
#include <ruby/encoding.h>

/* Nesting taken here; deeper values go the slower way (JSON.generate allows 100 levels). */
#define CIO_RB_JSON_DEPTH 64

/* The JSON text on the stack first (most attributes are small), grown on the heap. Its own
 * small buffer and escaper, not the core's private ones: the gem may link an installed
 * libcustomerio (--with-system-libcustomerio), which exports only the public API. The writer
 * calls no Ruby method that can raise (except Float#to_s and Integer#to_s for rare values,
 * which raise only NoMemoryError), so the buffer is always freed by its caller. */
typedef struct cio_rb_text {
    char *data;
    size_t len, cap;
    int ok; /* 0 once growing failed (out of memory) */
    char stack[1024];
} cio_rb_text_t;

static void cio_rb_text_init(cio_rb_text_t *t) {
    t->data = t->stack;
    t->len = 0;
    t->cap = sizeof(t->stack);
    t->ok = 1;
    t->stack[0] = '\0';
}

static void cio_rb_text_free(cio_rb_text_t *t) {
    if (t->data != t->stack) {
        free(t->data);
    }
    cio_rb_text_init(t);
}

/* Appends n bytes, kept NUL-terminated. */
static void cio_rb_add(cio_rb_text_t *t, const char *s, size_t n) {
    if (!t->ok) {
        return;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap * 2 > t->len + n + 1 ? t->cap * 2 : t->len + n + 1;
        char *p = t->data == t->stack ? malloc(cap) : realloc(t->data, cap);
        if (p == NULL) {
            t->ok = 0;
            return;
        }
        if (t->data == t->stack) {
            memcpy(p, t->stack, t->len);
        }
        t->data = p;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

/* s as a JSON string literal the way JSON.generate writes it (json 2.x, script_safe off) and
 * the core's escaper writes it too: '"', '\\' and the control characters escaped (\b \f \n \r
 * \t, else \u00XX in lower-case hex), every other byte as it is. */
static void cio_rb_json_escape(cio_rb_text_t *t, const char *s, long len) {
    static const char hex[] = "0123456789abcdef";
    long i, run = 0;
    cio_rb_add(t, "\"", 1);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t n = 2;
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        if (run > 0) {
            cio_rb_add(t, s + i - run, (size_t)run);
            run = 0;
        }
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        cio_rb_add(t, esc, n);
    }
    if (run > 0) {
        cio_rb_add(t, s + len - run, (size_t)run);
    }
    cio_rb_add(t, "\"", 1);
}

/* A String JSON.generate writes as it is (UTF-8 or US-ASCII, valid, no NUL): 1 written, 0 not
 * (another encoding, invalid bytes, a NUL: JSON.generate's own handling). */
static int cio_rb_json_string(cio_rb_text_t *t, VALUE s) {
    int enc = rb_enc_get_index(s);
    if ((enc != rb_utf8_encindex() && enc != rb_usascii_encindex()) ||
        rb_enc_str_coderange(s) == ENC_CODERANGE_BROKEN ||
        memchr(RSTRING_PTR(s), '\0', (size_t)RSTRING_LEN(s)) != NULL) {
        return 0;
    }
    cio_rb_json_escape(t, RSTRING_PTR(s), RSTRING_LEN(s));
    return 1;
}

/* The decimal digits of v into out (no NUL); returns how many. */
static int cio_rb_digits(unsigned long long v, char out[24]) {
    char rev[24];
    int n = 0, i;
    do {
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++) {
        out[i] = rev[n - 1 - i];
    }
    return n;
}

/*
 * A finite Float as Float#to_s writes it (what JSON.generate writes). From 1e-4 to 1e15 Ruby
 * writes fixed point with the shortest digits that read back as v, as Python's repr does, so
 * prices and amounts, exactly m / 10^k for an integer m and k <= 4 (the smallest such k), are
 * written from m as bindings/py_message.i writes them; zero as 0.0 or -0.0; the rest by
 * Float#to_s itself.
 */
static int cio_rb_json_float(cio_rb_text_t *t, VALUE v) {
    static const double pow10[] = {1.0, 10.0, 100.0, 1000.0, 10000.0};
    double d = RFLOAT_VALUE(v), a = d < 0 ? -d : d;
    VALUE text;
    int k;
    if (!isfinite(d)) {
        return 0; /* JSON.generate raises */
    }
    if (d == 0.0) {
        if (signbit(d)) {
            cio_rb_add(t, "-0.0", 4);
        } else {
            cio_rb_add(t, "0.0", 3);
        }
        return 1;
    }
    for (k = 0; a >= 1e-4 && a < 1e15 && k <= 4; k++) {
        double m = nearbyint(d * pow10[k]);
        if (m / pow10[k] == d && m > -9007199254740992.0 && m < 9007199254740992.0) {
            char digits[24], out[48];
            long long im = (long long)m;
            unsigned long long u = im < 0 ? (unsigned long long)(-im) : (unsigned long long)im;
            int n = cio_rb_digits(u, digits), o = 0, lead;
            if (im < 0) {
                out[o++] = '-';
            }
            if (k == 0) {
                memcpy(out + o, digits, (size_t)n);
                memcpy(out + o + n, ".0", 2);
                o += n + 2;
            } else if (n <= k) { /* 0.05: "0." and the zeros before the digits */
                out[o++] = '0';
                out[o++] = '.';
                for (lead = n; lead < k; lead++) {
                    out[o++] = '0';
                }
                memcpy(out + o, digits, (size_t)n);
                o += n;
            } else {
                memcpy(out + o, digits, (size_t)(n - k));
                o += n - k;
                out[o++] = '.';
                memcpy(out + o, digits + n - k, (size_t)k);
                o += k;
            }
            cio_rb_add(t, out, (size_t)o);
            return 1;
        }
    }
    text = rb_funcall(v, rb_intern("to_s"), 0);
    if (!RB_TYPE_P(text, T_STRING)) {
        return 0;
    }
    cio_rb_add(t, RSTRING_PTR(text), (size_t)RSTRING_LEN(text));
    return 1;
}

static int cio_rb_json_value(cio_rb_text_t *t, VALUE v, int depth);

typedef struct cio_rb_json_members {
    cio_rb_text_t *t;
    int depth;
    int first;
    int ok;
} cio_rb_json_members_t;

static int cio_rb_json_member(VALUE key, VALUE value, VALUE arg) {
    cio_rb_json_members_t *m = (cio_rb_json_members_t *)arg;
    VALUE name;
    if (RB_SYMBOL_P(key)) {
        name = rb_sym2str(key); /* JSON.generate writes a Symbol key as its name */
    } else if (RB_TYPE_P(key, T_STRING) && rb_obj_class(key) == rb_cString) {
        name = key;
    } else {
        m->ok = 0;
        return ST_STOP;
    }
    if (!m->first) {
        cio_rb_add(m->t, ",", 1);
    }
    m->first = 0;
    if (!cio_rb_json_string(m->t, name)) {
        m->ok = 0;
        return ST_STOP;
    }
    cio_rb_add(m->t, ":", 1);
    if (!cio_rb_json_value(m->t, value, m->depth + 1)) {
        m->ok = 0;
        return ST_STOP;
    }
    return ST_CONTINUE;
}

/* v as JSON.generate writes it: 1 written, 0 a value left to the slower path. */
static int cio_rb_json_value(cio_rb_text_t *t, VALUE v, int depth) {
    if (NIL_P(v)) {
        cio_rb_add(t, "null", 4);
        return 1;
    }
    if (v == Qtrue) {
        cio_rb_add(t, "true", 4);
        return 1;
    }
    if (v == Qfalse) {
        cio_rb_add(t, "false", 5);
        return 1;
    }
    if (RB_FIXNUM_P(v)) {
        char digits[24];
        long x = FIX2LONG(v);
        int n = 0;
        if (x < 0) {
            digits[n++] = '-';
        }
        n += cio_rb_digits(x < 0 ? 0ull - (unsigned long long)x : (unsigned long long)x,
                           digits + n);
        cio_rb_add(t, digits, (size_t)n);
        return 1;
    }
    if (RB_TYPE_P(v, T_BIGNUM)) {
        VALUE text = rb_big2str(v, 10);
        cio_rb_add(t, RSTRING_PTR(text), (size_t)RSTRING_LEN(text));
        return 1;
    }
    if (RB_FLOAT_TYPE_P(v)) {
        return cio_rb_json_float(t, v);
    }
    if (RB_TYPE_P(v, T_STRING)) {
        return rb_obj_class(v) == rb_cString && cio_rb_json_string(t, v);
    }
    if (depth >= CIO_RB_JSON_DEPTH) {
        return 0;
    }
    if (RB_TYPE_P(v, T_HASH) && rb_obj_class(v) == rb_cHash) {
        cio_rb_json_members_t m = {t, depth, 1, 1};
        cio_rb_add(t, "{", 1);
        rb_hash_foreach(v, cio_rb_json_member, (VALUE)&m);
        if (!m.ok) {
            return 0;
        }
        cio_rb_add(t, "}", 1);
        return 1;
    }
    if (RB_TYPE_P(v, T_ARRAY) && rb_obj_class(v) == rb_cArray) {
        long i;
        cio_rb_add(t, "[", 1);
        for (i = 0; i < RARRAY_LEN(v); i++) {
            if (i > 0) {
                cio_rb_add(t, ",", 1);
            }
            if (!cio_rb_json_value(t, RARRAY_AREF(v, i), depth + 1)) {
                return 0;
            }
        }
        cio_rb_add(t, "]", 1);
        return 1;
    }
    return 0;
}

/* A String argument as a NUL-terminated C string, or NULL for the slower path. */
static const char *cio_rb_v2_text(VALUE s) {
    if (!RB_TYPE_P(s, T_STRING) || memchr(RSTRING_PTR(s), '\0', (size_t)RSTRING_LEN(s)) != NULL ||
        RSTRING_PTR(s)[RSTRING_LEN(s)] != '\0') {
        return NULL;
    }
    return RSTRING_PTR(s);
}

static VALUE cio_rb_v2_person(VALUE self, VALUE guard, VALUE action, VALUE customer_id,
                              VALUE name, VALUE data) {
    const char *id, *event_name = NULL;
    cio_id_type_t id_type = CIO_ID_TYPE_ID;
    cio_rb_text_t text;
    cio_pipeline_t *pipeline;
    cio_request_t *req = NULL;
    cio_status_t st;
    uint64_t seq = 0;
    int act = NUM2INT(action), written;
    (void)self;
    if (act < 0 || act > 3) {
        rb_raise(rb_eArgError, "cio_rb_v2_person: action is 0 to 3");
    }
    if (!RB_TYPE_P(data, T_HASH) || rb_obj_class(data) != rb_cHash) {
        return Qnil;
    }
    /* every Ruby call (Float#to_s for an unusual Float) is made here, before the pipeline is
     * read */
    cio_rb_text_init(&text);
    written = cio_rb_json_value(&text, data, 0);
    id = cio_rb_v2_text(customer_id);
    if (act != 0) {
        event_name = cio_rb_v2_text(name);
    }
    pipeline = cio_rb_guard_pipeline(guard);
    if (!written || !text.ok || id == NULL || (act != 0 && event_name == NULL) ||
        pipeline == NULL) {
        cio_rb_text_free(&text);
        return Qnil; /* out of memory included: the slower path says it */
    }
    if (strncmp(id, "cio_", 4) == 0 && id[4] != '\0') { /* as Pipeline#person_ids */
        id_type = CIO_ID_TYPE_CIO_ID;
        id += 4;
    }
    switch (act) {
    case 0: st = cio_v2_person_identify_request(id_type, id, text.data, &req); break;
    case 1:
        st = cio_v2_person_event_request(id_type, id, event_name, text.data, NULL, &req);
        break;
    case 2:
        st = cio_v2_person_page_request(id_type, id, event_name, text.data, NULL, &req);
        break;
    default:
        st = cio_v2_person_screen_request(id_type, id, event_name, text.data, NULL, &req);
    }
    cio_rb_text_free(&text);
    if (st == CIO_OK) {
        st = cio_pipeline_try_enqueue_request(pipeline, req, &seq);
        cio_request_free(req);
        /* a full queue: the slower path waits for room or raises; closed: a pipeline made
         * before fork(), which the slower path refuses in its own words */
        if (st == CIO_E_QUEUE_FULL || st == CIO_E_CLOSED) {
            return Qnil;
        }
    }
    RB_GC_GUARD(customer_id);
    RB_GC_GUARD(name);
    if (st != CIO_OK) {
        cio_rb_raise(st);
    }
    return ULL2NUM((unsigned long long)seq);
}

/* Native.cio_rb_json(value): value as JSON.generate writes it (a UTF-8 String), or nil when it
 * holds something the writer above leaves to JSON.generate (Payload.json then takes its own
 * way). No Ruby object is made but the result. */
static VALUE cio_rb_json(VALUE self, VALUE value) {
    cio_rb_text_t text;
    VALUE out = Qnil;
    (void)self;
    cio_rb_text_init(&text);
    if (cio_rb_json_value(&text, value, 0) && text.ok) {
        out = rb_utf8_str_new(text.data, (long)text.len);
    }
    cio_rb_text_free(&text);
    return out;
}
%}

%init %{
    rb_define_module_function(rb_path2class("CustomerioNative::Native"), "cio_rb_v2_person",
                              cio_rb_v2_person, 5);
    rb_define_module_function(rb_path2class("CustomerioNative::Native"), "cio_rb_json",
                              cio_rb_json, 1);
%}
