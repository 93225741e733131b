/* The page: template + styles + script + data (dash_html.c). */
#ifndef SAEG_DASH_HTML_H
#define SAEG_DASH_HTML_H

#include "core/status.h"
#include "dashboard/dash_jw.h"

sg_status dash_html_build(const char *title, const struct dash_jw *data, struct dash_jw *out);
sg_status dash_html_save(const char *path, const struct dash_jw *page);

#endif
