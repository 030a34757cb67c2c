/* A small JSON writer: ordered keys, shortest round-trip reals, optional indentation. */
#include "jsonw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void jw_string(sbuf_t *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    sb_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                u[6] = '\0';
                esc = u;
            }
        }
        if (esc != NULL) {
            sb_append(b, s + start, i - start);
            sb_puts(b, esc);
            start = i + 1;
        }
    }
    sb_append(b, s + start, len - start);
    sb_putc(b, '"');
}

static void real(sbuf_t *b, double d) {
    if (!isfinite(d)) {
        sb_puts(b, "null");
        return;
    }
    char buf[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d) {
            break;
        }
    }
    sb_puts(b, buf);
}

static void newline(sbuf_t *b, int indent, int depth) {
    sb_putc(b, '\n');
    for (int i = 0; i < indent * depth; i++) {
        sb_putc(b, ' ');
    }
}

static void value(sbuf_t *b, const json_t *v, int indent, int depth) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (json_object_size(v) == 0) {
            sb_puts(b, "{}");
            return;
        }
        sb_putc(b, '{');
        const char *key;
        json_t *item;
        bool first = true;
        json_object_foreach((json_t *)v, key, item) {
            if (!first) {
                sb_putc(b, ',');
            }
            first = false;
            if (indent > 0) {
                newline(b, indent, depth + 1);
            }
            jw_string(b, key, strlen(key));
            sb_puts(b, indent > 0 ? ": " : ":");
            value(b, item, indent, depth + 1);
        }
        if (indent > 0) {
            newline(b, indent, depth);
        }
        sb_putc(b, '}');
        return;
    }
    case JSON_ARRAY: {
        if (json_array_size(v) == 0) {
            sb_puts(b, "[]");
            return;
        }
        sb_putc(b, '[');
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (i > 0) {
                sb_putc(b, ',');
            }
            if (indent > 0) {
                newline(b, indent, depth + 1);
            }
            value(b, item, indent, depth + 1);
        }
        if (indent > 0) {
            newline(b, indent, depth);
        }
        sb_putc(b, ']');
        return;
    }
    case JSON_STRING:
        jw_string(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        sb_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    case JSON_REAL:
        real(b, json_real_value(v));
        return;
    case JSON_TRUE:
        sb_puts(b, "true");
        return;
    case JSON_FALSE:
        sb_puts(b, "false");
        return;
    case JSON_NULL:
        sb_puts(b, "null");
        return;
    }
}

void jw_value(sbuf_t *b, const json_t *v, int indent) {
    value(b, v, indent, 0);
}

char *jw_dumps(const json_t *v, int indent) {
    sbuf_t b = {0};
    jw_value(&b, v, indent);
    return sb_take(&b);
}

void jw_print(FILE *f, const json_t *v, int indent) {
    sbuf_t b = {0};
    jw_value(&b, v, indent);
    sb_putc(&b, '\n');
    fwrite(b.data, 1, b.len, f);
    sb_free(&b);
}
