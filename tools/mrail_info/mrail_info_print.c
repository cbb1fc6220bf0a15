/* mrail_info output, for people and (--parsable) for scripts. The
 * parsable form is documented in docs/mrail_info.md: keep them in step. */
#include <string.h>

#include "mrail/btl.h"
#include "mrail_info.h"

static const char *level_name(int level)
{
    return level <= 3 ? "user" : level <= 6 ? "tuner" : "developer";
}

/* Parsable values stay on one line whatever a user put in them. */
static void print_escaped(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\n') {
            fputs("\\n", out);
        } else if (*s == '\\') {
            fputs("\\\\", out);
        } else {
            fputc(*s, out);
        }
    }
    fputc('\n', out);
}

static void print_wrapped(FILE *out, const char *text, int indent, int width)
{
    const char *p = text;
    while (*p) {
        int len = (int)strlen(p);
        int cut = len;
        if (len > width) {
            cut = width;
            while (cut > 0 && p[cut] != ' ') {
                cut--;
            }
            if (cut == 0) {
                cut = width;
            }
        }
        fprintf(out, "%*s%.*s\n", indent, "", cut, p);
        p += cut;
        while (*p == ' ') {
            p++;
        }
    }
}

static void print_entry(FILE *out, const mrail_framework_t *fw, const mrail_component_entry_t *e,
                        bool parsable)
{
    const char *fwn = fw->ops->name;
    const char *origin = e->plugin_path ? "plugin" : e->component ? "built-in" : "plugin";
    const char *version = e->version ? e->version : e->component ? e->component->version : "";
    const char *state = mrail_component_state_name(e->state);
    if (parsable) {
        fprintf(out, "component:%s:%s:origin:%s\n", fwn, e->name, origin);
        fprintf(out, "component:%s:%s:version:%s\n", fwn, e->name, version);
        fprintf(out, "component:%s:%s:state:%s\n", fwn, e->name, state);
        if (e->plugin_path) {
            fprintf(out, "component:%s:%s:path:", fwn, e->name);
            print_escaped(out, e->plugin_path);
        }
        if (e->reason) {
            fprintf(out, "component:%s:%s:reason:", fwn, e->name);
            print_escaped(out, e->reason);
        }
        if (fw->ops->policy == MRAIL_SELECT_ONE && e->component) {
            fprintf(out, "component:%s:%s:priority:%d\n", fwn, e->name, e->priority);
        }
        for (size_t m = 0; m < e->module_count; m++) {
            const mrail_btl_module_t *mod = e->modules[m];
            fprintf(out, "component:%s:%s:module:%s\n", fwn, e->name, mod->name);
            fprintf(out, "component:%s:%s:module_bandwidth:%s:%u\n", fwn, e->name, mod->name,
                    mod->config.bandwidth);
            fprintf(out, "component:%s:%s:module_bandwidth_source:%s:%s\n", fwn, e->name, mod->name,
                    mrail_btl_bw_source_name(mod->bandwidth_source));
            if (mod->note[0] != '\0') {
                fprintf(out, "component:%s:%s:module_note:%s:", fwn, e->name, mod->name);
                print_escaped(out, mod->note);
            }
        }
        return;
    }
    fprintf(out, "  %-8s %-8s %-7s %s", e->name, origin, version, state);
    if (e->module_count > 0) {
        fprintf(out, ": %zu module%s (", e->module_count, e->module_count > 1 ? "s" : "");
        for (size_t m = 0; m < e->module_count; m++) {
            const mrail_btl_module_t *mod = e->modules[m];
            fprintf(out, "%s%s", m ? ", " : "", mod->name);
        }
        fputc(')', out);
    } else if (fw->ops->policy == MRAIL_SELECT_ONE && e->state == MRAIL_COMPONENT_SELECTED) {
        fprintf(out, " (priority %d)", e->priority);
    }
    fputc('\n', out);
    if (e->reason) {
        print_wrapped(out, e->reason, 11, 68);
    }
    for (size_t m = 0; m < e->module_count; m++) {
        const mrail_btl_module_t *mod = e->modules[m];
        char line[400];
        if (mod->note[0] != '\0') {
            snprintf(line, sizeof(line), "%s: %s", mod->name, mod->note);
        } else { /* the note of a network module says it already, in words */
            snprintf(line, sizeof(line), "%s: %u MB/s (%s)", mod->name, mod->config.bandwidth,
                     mrail_btl_bw_source_name(mod->bandwidth_source));
        }
        print_wrapped(out, line, 11, 68);
    }
    if (e->plugin_path) {
        fprintf(out, "           %s\n", e->plugin_path);
    }
}

void info_print_components(FILE *out, mrail_frameworks_t *fws, bool parsable)
{
    for (size_t i = 0; i < mrail_frameworks_count(fws); i++) {
        const mrail_framework_t *fw = mrail_frameworks_at(fws, i);
        if (parsable) {
            fprintf(out, "framework:%s:policy:%s\n", fw->ops->name,
                    fw->ops->policy == MRAIL_SELECT_MANY ? "many" : "one");
            fprintf(out, "framework:%s:description:%s\n", fw->ops->name, fw->ops->description);
        } else {
            fprintf(out, "\nFramework %s: %s\n", fw->ops->name, fw->ops->description);
        }
        for (size_t k = 0; k < fw->entry_count; k++) {
            print_entry(out, fw, &fw->entries[k], parsable);
        }
    }
}

static bool param_shown(const mrail_mca_param_t *p, const info_filter_t *f)
{
    if (strcmp(f->framework, "all") != 0 && strcmp(f->framework, p->framework) != 0) {
        return false;
    }
    if (strcmp(f->component, "all") != 0 &&
        (p->component == NULL || strcmp(f->component, p->component) != 0)) {
        return false;
    }
    /* A value someone set is shown whatever its level: it is in effect. */
    return p->level <= f->level || p->source != MRAIL_MCA_SOURCE_DEFAULT;
}

static void print_param(FILE *out, const mrail_mca_param_t *p, bool parsable)
{
    if (parsable) {
        const char *n = p->full_name;
        fprintf(out, "param:%s:value:", n);
        print_escaped(out, p->value);
        fprintf(out, "param:%s:default:", n);
        print_escaped(out, p->default_value);
        fprintf(out, "param:%s:source:%s\n", n, mrail_mca_source_name(p->source));
        fprintf(out, "param:%s:origin:", n);
        print_escaped(out, p->origin);
        fprintf(out, "param:%s:type:%s\n", n, mrail_mca_type_name(p->type));
        fprintf(out, "param:%s:level:%d\n", n, p->level);
        fprintf(out, "param:%s:framework:%s\n", n, p->framework);
        fprintf(out, "param:%s:component:%s\n", n, p->component ? p->component : "");
        for (int i = 0; p->enum_names && p->enum_names[i]; i++) {
            fprintf(out, "param:%s:enum:%d:%s\n", n, i, p->enum_names[i]);
        }
        fprintf(out, "param:%s:help:", n);
        print_escaped(out, p->help);
        return;
    }
    fprintf(out, "%s = \"%s\"\n", p->full_name, p->value);
    if (p->source == MRAIL_MCA_SOURCE_DEFAULT) {
        fprintf(out, "    source: default\n");
    } else {
        fprintf(out, "    source: %s (%s)\n", mrail_mca_source_name(p->source), p->origin);
    }
    fprintf(out, "    type: %s, default: \"%s\", level: %d (%s)\n", mrail_mca_type_name(p->type),
            p->default_value, p->level, level_name(p->level));
    if (p->enum_names) {
        fprintf(out, "    values:");
        for (int i = 0; p->enum_names[i]; i++) {
            fprintf(out, "%s %s", i ? "," : "", p->enum_names[i]);
        }
        fputc('\n', out);
    }
    print_wrapped(out, p->help, 4, 76);
}

void info_print_params(FILE *out, const mrail_mca_t *mca, const info_filter_t *f, bool parsable)
{
    if (!parsable) {
        fprintf(out, "\nMCA parameters (framework %s, component %s, level <= %d):\n", f->framework,
                f->component, f->level);
    }
    for (size_t i = 0; i < mrail_mca_count(mca); i++) {
        const mrail_mca_param_t *p = mrail_mca_at(mca, i);
        if (param_shown(p, f)) {
            print_param(out, p, parsable);
        }
    }
}

void info_print_diags(FILE *err, const mrail_mca_t *mca, bool parsable)
{
    for (size_t i = 0; i < mrail_mca_diag_count(mca); i++) {
        mrail_diag_severity_t sev;
        const char *text = mrail_mca_diag_text(mca, i, &sev);
        const char *label = sev == MRAIL_DIAG_ERROR ? "error" : "warning";
        if (parsable) {
            fprintf(err, "%s:", label);
            print_escaped(err, text);
        } else {
            fprintf(err, "mrail_info: %s: %s\n", label, text);
        }
    }
}
