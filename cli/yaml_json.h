/*
 * cli/yaml_json.h - a YAML document (libyaml) as a jansson value, for schema files.
 *
 * Plain scalars are typed the YAML 1.2 core way (null, ~ and empty are null; true/false;
 * decimal integers and floats are numbers); quoted and block scalars are strings. Mapping keys
 * become strings; a repeated key is an error. Aliases are followed, up to a size limit.
 */
#ifndef CIO_CLI_YAML_JSON_H
#define CIO_CLI_YAML_JSON_H

#include <jansson.h>
#include <stddef.h>

/* The first document of text as a new reference, or NULL with a message ("line 3: ...") in
 * err. */
json_t *yaml_to_json(const char *text, size_t len, char *err, size_t errlen);

#endif
