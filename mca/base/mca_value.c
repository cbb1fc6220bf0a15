/* Text -> typed value for every MCA parameter type. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mca_internal.h"

static int parse_signed(const char *text, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0);
    if (end == text || *end != '\0' || errno == ERANGE || v < min || v > max) {
        return MRAIL_ERR_BAD_PARAM;
    }
    *out = v;
    return MRAIL_SUCCESS;
}

static int parse_unsigned(const char *text, unsigned long long max, unsigned long long *out,
                          char **end_out)
{
    const char *p = text;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    /* strtoull silently negates "-1"; refuse signs outright. */
    if (*p == '-' || *p == '+' || !isdigit((unsigned char)*p)) {
        return MRAIL_ERR_BAD_PARAM;
    }
    errno = 0;
    unsigned long long v = strtoull(p, end_out, 0);
    if (errno == ERANGE || v > max) {
        return MRAIL_ERR_BAD_PARAM;
    }
    *out = v;
    return MRAIL_SUCCESS;
}

static int parse_size(const char *text, size_t *out)
{
    char *end;
    unsigned long long v;
    if (parse_unsigned(text, ULLONG_MAX, &v, &end) != MRAIL_SUCCESS) {
        return MRAIL_ERR_BAD_PARAM;
    }
    unsigned shift = 0;
    switch (tolower((unsigned char)*end)) {
    case '\0': break;
    case 'k':
        shift = 10;
        end++;
        break;
    case 'm':
        shift = 20;
        end++;
        break;
    case 'g':
        shift = 30;
        end++;
        break;
    case 't':
        shift = 40;
        end++;
        break;
    default: return MRAIL_ERR_BAD_PARAM;
    }
    /* Accept the common spellings 64k, 64kb, 64KiB. */
    if (shift != 0 && tolower((unsigned char)end[0]) == 'i' &&
        tolower((unsigned char)end[1]) == 'b') {
        end += 2;
    } else if (shift != 0 && tolower((unsigned char)end[0]) == 'b') {
        end++;
    }
    if (*end != '\0' || (shift != 0 && v > (SIZE_MAX >> shift))) {
        return MRAIL_ERR_BAD_PARAM;
    }
    *out = (size_t)(v << shift);
    return MRAIL_SUCCESS;
}

static int parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes"};
    static const char *const no[] = {"0", "false", "no"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return MRAIL_SUCCESS;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return MRAIL_SUCCESS;
        }
    }
    return MRAIL_ERR_BAD_PARAM;
}

static int parse_enum(const char *text, const char *const *names, int *out)
{
    for (int i = 0; names != NULL && names[i] != NULL; i++) {
        if (strcasecmp(text, names[i]) == 0) {
            *out = i;
            return MRAIL_SUCCESS;
        }
    }
    return MRAIL_ERR_BAD_PARAM;
}

void mca_list_free(mrail_mca_list_t *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i]);
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

static char *trimmed_copy(const char *begin, const char *end)
{
    while (begin < end && isspace((unsigned char)*begin)) {
        begin++;
    }
    while (end > begin && isspace((unsigned char)end[-1])) {
        end--;
    }
    char *s = malloc((size_t)(end - begin) + 1);
    if (s != NULL) {
        memcpy(s, begin, (size_t)(end - begin));
        s[end - begin] = '\0';
    }
    return s;
}

static int parse_list(const char *text, mrail_mca_list_t *out, mrail_reason_t *why)
{
    mrail_mca_list_t list = {0, NULL};
    const char *p = text;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (*p == '\0') {
        *out = list;
        return MRAIL_SUCCESS;
    }
    size_t n = 1;
    for (const char *q = p; *q; q++) {
        n += (*q == ',');
    }
    list.items = calloc(n, sizeof(char *));
    if (list.items == NULL) {
        return MRAIL_ERR_OUT_OF_RESOURCE;
    }
    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        char *item = trimmed_copy(p, end);
        if (item == NULL) {
            mca_list_free(&list);
            return MRAIL_ERR_OUT_OF_RESOURCE;
        }
        list.items[list.count++] = item;
        if (item[0] == '\0') {
            size_t position = list.count;
            mca_list_free(&list);
            return mrail_reason_set(why, MRAIL_ERR_BAD_PARAM, "item %zu of the list is empty",
                                    position);
        }
        if (comma == NULL) {
            break;
        }
        p = comma + 1;
    }
    *out = list;
    return MRAIL_SUCCESS;
}

void mca_value_forms(mrail_mca_type_t type, const char *const *enum_names, char *buf, size_t len)
{
    switch (type) {
    case MRAIL_MCA_INT: snprintf(buf, len, "an integer (e.g. -1, 0, 42, 0x10)"); break;
    case MRAIL_MCA_UNSIGNED: snprintf(buf, len, "a non-negative integer (e.g. 0, 8, 0x10)"); break;
    case MRAIL_MCA_SIZE:
        snprintf(buf, len,
                 "a size in bytes with an optional k, m, g or t suffix (powers of 1024), "
                 "e.g. 4096, 64k, 4m, 1g");
        break;
    case MRAIL_MCA_BOOL: snprintf(buf, len, "one of 1, 0, true, false, yes, no"); break;
    case MRAIL_MCA_STRING: snprintf(buf, len, "any text"); break;
    case MRAIL_MCA_LIST: snprintf(buf, len, "a comma-separated list of non-empty items"); break;
    case MRAIL_MCA_ENUM: {
        size_t used = (size_t)snprintf(buf, len, "one of");
        for (int i = 0; enum_names != NULL && enum_names[i] != NULL && used < len; i++) {
            used += (size_t)snprintf(buf + used, len - used, "%s %s", i ? "," : "", enum_names[i]);
        }
        break;
    }
    }
}

int mca_value_parse(mrail_mca_type_t type, const char *const *enum_names, const char *text,
                    void *dst, mrail_mca_list_t *list_storage, mrail_reason_t *why)
{
    int rc = MRAIL_ERR_BAD_PARAM;
    long long s;
    unsigned long long u;
    char *end;
    why->text[0] = '\0';
    switch (type) {
    case MRAIL_MCA_INT:
        rc = parse_signed(text, INT_MIN, INT_MAX, &s);
        if (rc == MRAIL_SUCCESS) {
            *(int *)dst = (int)s;
        }
        break;
    case MRAIL_MCA_UNSIGNED:
        rc = parse_unsigned(text, UINT_MAX, &u, &end);
        if (rc == MRAIL_SUCCESS && *end != '\0') {
            rc = MRAIL_ERR_BAD_PARAM;
        }
        if (rc == MRAIL_SUCCESS) {
            *(unsigned *)dst = (unsigned)u;
        }
        break;
    case MRAIL_MCA_SIZE: rc = parse_size(text, (size_t *)dst); break;
    case MRAIL_MCA_BOOL: rc = parse_bool(text, (bool *)dst); break;
    case MRAIL_MCA_ENUM: rc = parse_enum(text, enum_names, (int *)dst); break;
    case MRAIL_MCA_STRING:
        rc = MRAIL_SUCCESS; /* the registry points dst at its own copy */
        break;
    case MRAIL_MCA_LIST:
        rc = parse_list(text, list_storage, why);
        if (rc == MRAIL_SUCCESS) {
            *(mrail_mca_list_t *)dst = *list_storage;
        }
        break;
    }
    if (rc == MRAIL_ERR_BAD_PARAM) {
        char forms[400];
        mca_value_forms(type, enum_names, forms, sizeof(forms));
        if (why->text[0] != '\0') {
            char detail[sizeof(why->text)];
            snprintf(detail, sizeof(detail), "%s", why->text);
            mrail_reason_set(why, rc, "%s; expected %s", detail, forms);
        } else {
            mrail_reason_set(why, rc, "expected %s", forms);
        }
    }
    return rc;
}
