/* YAML to JSON with libyaml's document API. */
#include "yaml_json.h"

#include "util.h"
#include "values.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH CLI_MAX_DEPTH
#define MAX_NODES 1000000

typedef struct ctx {
    yaml_document_t *doc;
    size_t nodes;
    char *err;
    size_t errlen;
} ctx_t;

static json_t *fail(ctx_t *c, const yaml_node_t *node, const char *what) {
    snprintf(c->err, c->errlen, "line %zu: %s", node != NULL ? node->start_mark.line + 1 : 0, what);
    return NULL;
}

static json_t *scalar(const yaml_node_t *node) {
    const char *s = (const char *)node->data.scalar.value;
    size_t len = node->data.scalar.length;
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return json_stringn(s, len);
    }
    if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
        strcmp(s, "NULL") == 0) {
        return json_null();
    }
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0) {
        return json_true();
    }
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0) {
        return json_false();
    }
    const char *num = s[0] == '+' ? s + 1 : s;
    json_t *number = NULL;
    if (value_is_json_number(num) && value_parse_number(num, &number) == 0) {
        return number;
    }
    return json_stringn(s, len);
}

static json_t *convert(ctx_t *c, yaml_node_t *node, int depth) {
    if (node == NULL) {
        return json_null();
    }
    if (depth > MAX_DEPTH || ++c->nodes > MAX_NODES) {
        return fail(c, node, "the document is nested too deeply or too large");
    }
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return scalar(node);
    case YAML_SEQUENCE_NODE: {
        json_t *arr = json_array();
        for (yaml_node_item_t *it = node->data.sequence.items.start;
             it < node->data.sequence.items.top; it++) {
            json_t *v = convert(c, yaml_document_get_node(c->doc, *it), depth + 1);
            if (v == NULL) {
                json_decref(arr);
                return NULL;
            }
            json_array_append_new(arr, v);
        }
        return arr;
    }
    case YAML_MAPPING_NODE: {
        json_t *obj = json_object();
        for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
            if (k == NULL || k->type != YAML_SCALAR_NODE) {
                json_decref(obj);
                return fail(c, k, "a mapping key must be a scalar");
            }
            char *key = strndup((const char *)k->data.scalar.value, k->data.scalar.length);
            if (key == NULL || json_object_get(obj, key) != NULL) {
                char msg[200];
                snprintf(msg, sizeof(msg), "key '%s' appears twice", key != NULL ? key : "?");
                free(key);
                json_decref(obj);
                return fail(c, k, msg);
            }
            json_t *v = convert(c, yaml_document_get_node(c->doc, p->value), depth + 1);
            if (v == NULL) {
                free(key);
                json_decref(obj);
                return NULL;
            }
            json_object_set_new(obj, key, v);
            free(key);
        }
        return obj;
    }
    default:
        return json_null();
    }
}

/*
 * Checks the nesting with libyaml's event parser before the document is built: deep nesting
 * costs libyaml's scanner quadratic time (200 KB of nested flow collections took 35 s of CPU in
 * yaml_parser_load), and the events stop at the first level too deep, after reading little more
 * than that far into the text.
 */
static int check_depth(const char *text, size_t len, char *err, size_t errlen) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "cannot start the YAML parser");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int depth = 0, rc = 0;
    for (bool done = false; !done && rc == 0;) {
        yaml_event_t event;
        if (!yaml_parser_parse(&parser, &event)) {
            snprintf(err, errlen, "line %zu: %s", parser.problem_mark.line + 1,
                     parser.problem != NULL ? parser.problem : "not YAML");
            rc = -1;
            break;
        }
        switch (event.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > MAX_DEPTH) {
                snprintf(err, errlen, "line %zu: nested deeper than %d levels",
                         event.start_mark.line + 1, MAX_DEPTH);
                rc = -1;
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    return rc;
}

json_t *yaml_to_json(const char *text, size_t len, char *err, size_t errlen) {
    yaml_parser_t parser;
    yaml_document_t doc;
    if (check_depth(text, len, err, errlen) != 0) {
        return NULL;
    }
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "cannot start the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "line %zu: %s", parser.problem_mark.line + 1,
                 parser.problem != NULL ? parser.problem : "not YAML");
        yaml_parser_delete(&parser);
        return NULL;
    }
    ctx_t c = {&doc, 0, err, errlen};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    json_t *out = root != NULL ? convert(&c, root, 0) : json_null();
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return out;
}
