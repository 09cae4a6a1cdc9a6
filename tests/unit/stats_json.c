/* lx_stats_json writes one JSON object: it parses (checked with python3's json
 * module when python3 is there), and its counters agree with lx_stats_get taken
 * at the same quiet moment, including a size class the test planted. */
#include "lxt.h"

#define N 1000

static void *blocks[N];

int main(void)
{
    for (int i = 0; i < N; i++)
        blocks[i] = lx_malloc(200); /* class 224 */
    char path[] = "/tmp/lxmalloc-json-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    lx_stats_t s;
    lx_stats_get(&s);
    lx_stats_json(fd);
    close(fd);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "reopen");
    static char text[65536];
    size_t len = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[len] = '\0';
    CHECK(len > 2 && text[0] == '{' && text[len - 2] == '}' && text[len - 1] == '\n',
          "not one JSON object and a newline: %.80s", text);
    char want[128];
    snprintf(want, sizeof(want), "\"malloc_count\": %llu,", s.malloc_count);
    CHECK(strstr(text, want) != NULL, "missing %s in %.200s", want, text);
    snprintf(want, sizeof(want), "\"live_bytes\": %llu,", s.live_bytes);
    CHECK(strstr(text, want) != NULL, "missing %s", want);
    CHECK(strstr(text, "{\"size\": 224, \"allocations\": ") != NULL, "class 224 missing");
    CHECK(strstr(text, "\"live\": 1000, \"live_bytes\": 224000}") != NULL,
          "class 224 does not show 1000 live blocks");
    if (system("command -v python3 >/dev/null 2>&1") == 0) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd),
                 "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                 "assert d[\"malloc_count\"] > 0 and isinstance(d[\"classes\"], list)' %s",
                 path);
        CHECK(system(cmd) == 0, "python3's json module rejects the output");
    }
    unlink(path);
    for (int i = 0; i < N; i++)
        lx_free(blocks[i]);
    printf("stats_json: ok\n");
    return 0;
}
