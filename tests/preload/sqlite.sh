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

lxt_compare memory sqlite3 :memory: ".read $LXT_TMP/script.sql"

# On-disk databases: the one written under lxmalloc must dump the same as the
# reference one (the dump is read without LD_PRELOAD).
rm -f "$LXT_TMP/ref.db" "$LXT_TMP/lx.db"
sqlite3 "$LXT_TMP/ref.db" ".read $LXT_TMP/script.sql" >/dev/null 2>&1 ||
    lxt_fail "sqlite3 failed on the reference database"
lxt_pre sqlite3 "$LXT_TMP/lx.db" ".read $LXT_TMP/script.sql" >/dev/null 2>&1 ||
    lxt_fail "sqlite3 under lxmalloc failed writing a database"
sqlite3 "$LXT_TMP/ref.db" .dump >"$LXT_TMP/ref.dump"
sqlite3 "$LXT_TMP/lx.db" .dump >"$LXT_TMP/lx.dump"
cmp -s "$LXT_TMP/ref.dump" "$LXT_TMP/lx.dump" ||
    lxt_fail "database written under lxmalloc dumps differently from the reference one"
lxt_compare dump sqlite3 "$LXT_TMP/lx.db" ".dump"
exit 0
