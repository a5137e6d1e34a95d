"""The worker's row writes alone, for several sets of `delivery` indexes (issue 14, migration
0019_delivery_index): N queued rows inserted, then N/1,000 rounds of the claim (SELECT … FOR UPDATE SKIP
LOCKED along the claim index, UPDATE of 1,000 rows to `sending` with a batch number) and the "sent" mark
(UPDATE of them to `sent`), on one connection. Prints the seconds, the index size and the HOT updates.

    python bench/delivery_writes.py [N]        (default 300,000)
"""

from __future__ import annotations

import secrets
import sys
import time

import psycopg
from _common import PG_ADMIN, machine

TABLE = """CREATE TABLE delivery (id serial PRIMARY KEY, message_id int NOT NULL, recipient varchar(128) NOT NULL,
  status varchar(16) NOT NULL, attempts int NOT NULL DEFAULT 0, not_before timestamptz,
  retry_at float NOT NULL DEFAULT 0, lease_until float NOT NULL DEFAULT 0, worker varchar(64),
  last_error varchar(500), created_at timestamptz, sent_at timestamptz, batch int, digest_id int,
  CONSTRAINT uq_delivery_message_recipient UNIQUE (message_id, recipient))"""
KEPT = ["CREATE INDEX ix_delivery_recipient ON delivery (recipient)",
        "CREATE INDEX ix_delivery_batch ON delivery (message_id, batch)"]
CLAIM = "CREATE INDEX ix_delivery_claim ON delivery (status, not_before)"
VARIANTS = {
    "six (before 0019)": [*KEPT, CLAIM, "CREATE INDEX ix_delivery_message_id ON delivery (message_id)"],
    "five (0019_delivery_index)": [*KEPT, CLAIM],
    "five, claim index partial": [*KEPT, CLAIM + " WHERE status IN ('queued', 'sending', 'folded')"],
}
SIZE = 1000


def run(conn: psycopg.Connection, n: int, ddl: list[str]) -> str:
    conn.execute("DROP TABLE IF EXISTS delivery")
    conn.execute(TABLE)
    for statement in ddl:
        conn.execute(statement)
    started = time.perf_counter()
    conn.execute("INSERT INTO delivery (message_id, recipient, status, not_before, created_at) "
                 "SELECT 1, 'm' || g, 'queued', now(), now() FROM generate_series(1, %s) g", (n,))
    conn.execute("ANALYZE delivery")
    inserted = time.perf_counter() - started
    started = time.perf_counter()
    for number in range(1, n // SIZE + 1):
        with conn.transaction():
            ids = [row[0] for row in conn.execute(
                "SELECT id FROM delivery WHERE status = 'queued' AND not_before <= now() ORDER BY not_before "
                "LIMIT %s FOR UPDATE SKIP LOCKED", (SIZE,))]
            conn.execute("UPDATE delivery SET status = 'sending', lease_until = 1e12, worker = 'w1', batch = %s "
                         "WHERE id = ANY(%s)", (number, ids))
        with conn.transaction():
            conn.execute("UPDATE delivery SET status = 'sent', sent_at = now(), attempts = attempts + 1, "
                         "lease_until = 0 WHERE id = ANY(%s)", (ids,))
    cycles = time.perf_counter() - started
    size = conn.execute("SELECT pg_size_pretty(pg_indexes_size('delivery'))").fetchone()
    hot = conn.execute("SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'delivery'").fetchone()
    return (f"INSERT {inserted:.1f} s; claim + sent x{n // SIZE}: {cycles:.1f} s "
            f"({cycles * 1000 / (n // SIZE):.0f} ms per batch); indexes {size[0] if size else '?'}; "
            f"HOT updates {hot[0] if hot else '?'} (statistics may lag)")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    machine(f"delivery row writes, {n:,} rows")
    name = f"bench_writes_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(PG_ADMIN.rsplit("/", 1)[0] + "/" + name, autocommit=True) as conn:
            for label, ddl in VARIANTS.items():
                print(f"{label:28s} {run(conn, n, ddl)}", flush=True)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
