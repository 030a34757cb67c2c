/* The import record types (see record_types.h). */
#include "record_types.h"

#include <stdio.h>
#include <string.h>

static const record_type_t record_types[] = {
    {"identify", RK_IDENTIFY, RT_ATTRS, NULL},
    {"event", RK_EVENT, RT_ATTRS | RT_NAME | RT_EVENT, "event"},
    {"page", RK_PAGE, RT_ATTRS | RT_NAME | RT_EVENT, "url"},
    {"screen", RK_SCREEN, RT_ATTRS | RT_NAME | RT_EVENT, "screen"},
    {"delete", RK_DELETE, 0, NULL},
    {"device", RK_DEVICE, RT_DEVICE, NULL},
    {"delete_device", RK_DELETE_DEVICE, RT_DEVICE, NULL},
    {"suppress", RK_SUPPRESS, 0, NULL},
    {"unsuppress", RK_UNSUPPRESS, 0, NULL},
    {"relationships", RK_RELATIONSHIPS, RT_RELS, NULL},
    {"delete_relationships", RK_DELETE_RELATIONSHIPS, RT_RELS, NULL},
    {"merge", RK_MERGE, RT_MERGE, NULL},
    {"object", RK_OBJECT, RT_OBJECT | RT_ATTRS, NULL},
    {"object_delete", RK_OBJECT_DELETE, RT_OBJECT, NULL},
    {"object_event", RK_OBJECT_EVENT, RT_OBJECT | RT_ATTRS | RT_NAME | RT_EVENT, "event"},
    {"object_relationships", RK_OBJECT_RELATIONSHIPS, RT_OBJECT | RT_RELS, NULL},
    {"object_delete_relationships", RK_OBJECT_DELETE_RELATIONSHIPS, RT_OBJECT | RT_RELS, NULL},
    {"delivery_event", RK_DELIVERY_EVENT, RT_DELIVERY | RT_ATTRS | RT_NAME | RT_EVENT, "metric"},
};

#define N_RECORD_TYPES (sizeof(record_types) / sizeof(record_types[0]))

const record_type_t *record_type_find(const char *name) {
    for (size_t i = 0; i < N_RECORD_TYPES; i++) {
        if (strcmp(record_types[i].name, name) == 0) {
            return &record_types[i];
        }
    }
    return NULL;
}

bool record_type_known(const char *name) {
    return record_type_find(name) != NULL;
}

const char *record_type_list(void) {
    /* built on first use; the CLI calls this from its main thread only */
    static char list[512];
    if (list[0] == '\0') {
        size_t o = 0;
        for (size_t i = 0; i < N_RECORD_TYPES && o < sizeof(list); i++) {
            o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i == 0 ? "" : ", ",
                                  record_types[i].name);
        }
    }
    return list;
}
