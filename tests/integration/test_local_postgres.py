"""The local MongoDB stand-in's PostgreSQL (scripts/ferretdb.sh, scripts/ferretdb-indexes.sql).

FerretDB turns each index into btrees PostgreSQL cannot use for FerretDB's own filters; the project
adds a GIN twin per indexed field. Every twin costs each insert a write, so a field gets one.
"""

import glob
import subprocess
import uuid
from collections import Counter

from pymongo import ASCENDING, DESCENDING

PG_PORT = "5433"  # scripts/ferretdb.sh's FERRETDB_PG_PORT, which the tests' servers keep


def psql(sql: str) -> list[str]:
    bin_dir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    command = [f"{bin_dir}/psql", "-h", "127.0.0.1", "-p", PG_PORT, "-U", "postgres", "-d", "ferretdb", "-tAc", sql]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()


def test_a_field_in_several_indexes_gets_one_gin_twin(mongo):
    database = f"twins_{uuid.uuid4().hex[:8]}"
    events = mongo[database]["events"]
    try:
        events.create_index([("seq", ASCENDING)], unique=True)
        events.create_index([("seq", DESCENDING), ("at", ASCENDING)])
        events.create_index([("actor", ASCENDING), ("seq", ASCENDING)])
        twins = psql(
            "SELECT pg_get_indexdef(i.indexrelid, 1, true) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
            f" JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.amname = 'gin' AND n.nspname = '{database}'"
        )
    finally:
        mongo.drop_database(database)
    fields = Counter(twin.split("'")[1] for twin in twins)
    assert fields == {"_id": 1, "seq": 1, "at": 1, "actor": 1}
