# sqlite3 builds a 100k-row table with a recursive CTE, aggregates it, indexes it
# and joins it under lxmalloc; output must match the run without LD_PRELOAD.
. "$(dirname "$0")/common.sh"
lxt_need sqlite3
lxt_check_preload

cat >"$LXT_TMP/script.sql" <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL, blob BLOB);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO t SELECT x, x % 97, 'name-' || (x * 7919 % 100003), x * 0.25,
                     zeroblob(x % 300) FROM c;
SELECT count(*), sum(grp), min(name), max(name), total(val), sum(length(blob)) FROM t;
SELECT grp, count(*), avg(val), length(group_concat(id % 10, '')), sum(id % 10) FROM t
 WHERE grp < 5 GROUP BY grp ORDER BY grp;
CREATE INDEX t_name ON t(name);
CREATE TABLE g(grp INTEGER PRIMARY KEY, label TEXT);
WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < 96)
INSERT INTO g SELECT x, printf('group-%03d', x) FROM c;
SELECT g.label, count(t.id), sum(t.val) FROM t JOIN g ON g.grp = t.grp
 GROUP BY g.label ORDER BY sum(t.val) DESC LIMIT 5;
SELECT name, id FROM t WHERE name BETWEEN 'name-5000' AND 'name-5010' ORDER BY name, id;
SELECT count(DISTINCT name), length(group_concat(name)) FROM t;
UPDATE t SET name = upper(name) || hex(id) WHERE id % 3 = 0;
DELETE FROM t WHERE id % 5 = 0;
SELECT count(*), max(name) FROM t;
PRAGMA integrity_check;
SQL

# The script runs on an on-disk database, plainly and preloaded (each run writes
# its own file); the outputs must match, and the database written under lxmalloc
# must dump the same as the reference one (the dumps are read without LD_PRELOAD).
rm -f "$LXT_TMP/ref.db" "$LXT_TMP/lx.db"
lxt_compare script sh -c 'db=$1/ref.db; [ -n "$LD_PRELOAD" ] && db=$1/lx.db
    rm -f "$db" && exec sqlite3 "$db" ".read $1/script.sql"' sh "$LXT_TMP"
[ -n "$LXT_SO" ] || cp "$LXT_TMP/ref.db" "$LXT_TMP/lx.db"
sqlite3 "$LXT_TMP/ref.db" .dump >"$LXT_TMP/ref.dump"
sqlite3 "$LXT_TMP/lx.db" .dump >"$LXT_TMP/lx.dump"
cmp -s "$LXT_TMP/ref.dump" "$LXT_TMP/lx.dump" ||
    lxt_fail "database written under lxmalloc dumps differently from the reference one"
[ -s "$LXT_TMP/ref.dump" ] || lxt_fail "empty database dump"
# An in-memory database, and reading the file back under lxmalloc.
lxt_compare memory sqlite3 :memory: "CREATE TABLE a(x); WITH RECURSIVE c(i) AS (SELECT 1
    UNION ALL SELECT i + 1 FROM c WHERE i < 20000) INSERT INTO a SELECT printf('%08d', i) FROM c;
    SELECT count(*), min(x), max(x), sum(length(x)) FROM a;"
lxt_compare readback sqlite3 "$LXT_TMP/lx.db" "SELECT count(*), sum(id), max(name) FROM t;
    SELECT grp, count(*) FROM t GROUP BY grp ORDER BY 2 DESC, 1 LIMIT 3; PRAGMA integrity_check;"
exit 0
