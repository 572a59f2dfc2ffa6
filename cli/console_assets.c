/*
 * console_assets.c - the web console's files (server/web, issue 20),
 * embedded into the mamori binary at build time by scripts/embed_file.py,
 * as the table `mamori server` hands to lib/fleet: the console needs no
 * install path, no CDN and no network (air-gapped clusters).
 */
#include <stddef.h>

#include "mamori/fleet.h"
#include "cli.h"

#define ASSET(sym) extern const char sym[]; extern const size_t sym##_len;
ASSET(mm_console_index_html)
ASSET(mm_console_style_css)
ASSET(mm_console_app_js)
ASSET(mm_console_ui_js)
ASSET(mm_console_pages_js)
ASSET(mm_console_runtime_js)
ASSET(mm_console_hosts_js)
ASSET(mm_console_profiles_js)   /* issue 20a */
#undef ASSET

const mm_fleet_asset *cli_console_assets(size_t *n)
{
    static mm_fleet_asset a[8];
    static const char js[] = "text/javascript; charset=utf-8";
    a[0] = (mm_fleet_asset){"/", "text/html; charset=utf-8", mm_console_index_html,
                            mm_console_index_html_len};
    a[1] = (mm_fleet_asset){"/ui/style.css", "text/css; charset=utf-8", mm_console_style_css,
                            mm_console_style_css_len};
    a[2] = (mm_fleet_asset){"/ui/app.js", js, mm_console_app_js, mm_console_app_js_len};
    a[3] = (mm_fleet_asset){"/ui/ui.js", js, mm_console_ui_js, mm_console_ui_js_len};
    a[4] = (mm_fleet_asset){"/ui/pages.js", js, mm_console_pages_js, mm_console_pages_js_len};
    a[5] = (mm_fleet_asset){"/ui/runtime.js", js, mm_console_runtime_js,
                            mm_console_runtime_js_len};
    a[6] = (mm_fleet_asset){"/ui/hosts.js", js, mm_console_hosts_js, mm_console_hosts_js_len};
    a[7] = (mm_fleet_asset){"/ui/profiles.js", js, mm_console_profiles_js,
                            mm_console_profiles_js_len};
    *n = sizeof a / sizeof a[0];
    return a;
}
