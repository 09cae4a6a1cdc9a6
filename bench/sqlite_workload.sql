-- SPDX-License-Identifier: MIT
-- sqlite3 workload for the lxmalloc benchmark suite. The runner starts
--   sqlite3 -batch -cmd 'PRAGMA temp_store = MEMORY' -cmd '.parameter set @n N' \
--           :memory: '.read bench/sqlite_workload.sql'
-- (@n is the number of orders; temp_store must be set before the parameter,
-- since changing it resets the temp schema that holds parameters). Nothing
-- touches disk: page cache, row and text values, sorter and temporary b-trees
-- all come from malloc. Only the last statement prints a line.

PRAGMA cache_size = -131072;

CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score REAL);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, amount INTEGER,
                    note TEXT);

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < @n / 10)
INSERT INTO customers
SELECT i, 'customer-' || i, 'city-' || (i * 7 % 97), (i * 37 % 1000) / 10.0 FROM seq;

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < @n)
INSERT INTO orders
SELECT i, 1 + (i * 7919 % (@n / 10)), i * 31 % 10007,
       printf('%.*c', 8 + i * 13 % 300, 'x') FROM seq;

CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX orders_amount ON orders(amount, note);
CREATE INDEX customers_city ON customers(city);

-- Join and aggregate, with string building per group.
CREATE TEMP TABLE by_city AS
SELECT c.city AS city, count(*) AS n, sum(o.amount) AS total,
       group_concat(substr(o.note, 1, 4) || o.id, ',') AS ids
FROM orders o JOIN customers c ON c.id = o.customer
GROUP BY c.city;

-- A big sort on computed text (sorter memory).
CREATE TEMP TABLE ranked AS
SELECT o.id AS id, c.name || ':' || o.note AS label
FROM orders o JOIN customers c ON c.id = o.customer
ORDER BY o.amount DESC, label
LIMIT @n / 2;

-- Updates that grow and shrink rows, deletes, then re-inserts of new shapes.
UPDATE orders SET note = upper(note) || printf('%.*c', id % 64, 'y') WHERE id % 3 = 0;
UPDATE orders SET note = substr(note, 1, 12) WHERE id % 3 = 1;
DELETE FROM orders WHERE id % 5 = 0;

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < @n / 5)
INSERT INTO orders(customer, amount, note)
SELECT 1 + (i * 104729 % (@n / 10)), i % 5000, printf('%.*c', 100 + i % 900, 'z') FROM seq;

-- Window functions and JSON.
CREATE TEMP TABLE running AS
SELECT customer, amount,
       sum(amount) OVER (PARTITION BY customer ORDER BY id) AS run
FROM orders;

CREATE TEMP TABLE docs AS
SELECT customer, json_group_array(json_object('id', id, 'amount', amount)) AS doc
FROM orders GROUP BY customer;

SELECT count(*), sum(amount), total(length(note)),
       (SELECT sum(n) FROM by_city), (SELECT count(*) FROM ranked),
       (SELECT max(run) FROM running), (SELECT total(length(doc)) FROM docs)
FROM orders;
