# sqlite3 at scale under lxmalloc: a table of 2 million rows (10 million with
# LXT_SCALE=soak) built in memory, indexed, grouped, joined, sorted, windowed,
# updated and deleted from, with a large page cache; the results must match the
# run without LD_PRELOAD byte for byte.
. "$(dirname "$0")/common.sh"
lxt_need sqlite3
lxt_check_preload
ROWS=2000000
[ "${LXT_SCALE:-}" = soak ] && ROWS=10000000

cat >"$LXT_TMP/scale.sql" <<SQL
PRAGMA cache_size = -131072;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, k TEXT, v REAL, pad TEXT);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $ROWS)
INSERT INTO t SELECT x, (x * 2654435761) % 1009, printf('k%08d', (x * 40503) % $ROWS),
                     (x % 1000) * 0.5, substr('abcdefghijklmnopqrstuvwxyz', 1 + x % 26) FROM c;
SELECT count(*), sum(grp), min(k), max(k), total(v), sum(length(pad)) FROM t;
CREATE INDEX t_k ON t(k);
SELECT grp, count(*), round(avg(v), 3), min(k), max(k) FROM t GROUP BY grp
 ORDER BY count(*) DESC, grp LIMIT 10;
SELECT k, id FROM t WHERE k BETWEEN 'k00012345' AND 'k00012350' ORDER BY k, id;
CREATE TABLE g AS SELECT grp, sum(v) AS s, group_concat(id % 7, '') AS ids FROM t
 WHERE id % 97 = 0 GROUP BY grp;
SELECT count(*), round(sum(s), 2), sum(length(ids)) FROM g;
SELECT t.grp, count(*) FROM t JOIN g ON g.grp = t.grp WHERE t.id % 5 = 0
 GROUP BY t.grp ORDER BY 2 DESC, 1 LIMIT 5;
SELECT id, k, rank() OVER (PARTITION BY grp ORDER BY v DESC, id) AS r FROM t
 WHERE grp = 17 ORDER BY r LIMIT 5;
SELECT count(DISTINCT k) FROM t WHERE id % 2 = 0;
UPDATE t SET pad = upper(pad) || hex(id) WHERE id % 3 = 0;
DELETE FROM t WHERE id % 4 = 0;
SELECT count(*), sum(length(pad)), max(pad) FROM t;
SELECT k FROM t ORDER BY pad DESC, id LIMIT 3;
PRAGMA integrity_check;
SQL

lxt_compare scale sqlite3 :memory: ".read $LXT_TMP/scale.sql"
exit 0
