"""`python -m scripts.bench_store`: the CPU the Table Storage adapter spends per row, measured, not
asserted. Run it in the deployed package set: ``.venv-bench/bin/python -m scripts.bench_store``.

A tenant of ``BENCH_STORE_COUNT`` connectors (default 1,000) is created in Azurite the way
production creates it: the Graph simulator serves the connectors and two heartbeat sweeps record
their statuses, findings and baselines. Then, each figure the median of ``BENCH_STORE_RUNS``
rounds of process CPU time (``time.process_time``):

- read: ``StateStore.read`` of the statuses, findings and baselines (the sweep's big read): HTTP,
  azure-data-tables' parsing and our decoding, all in;
- decode: shared/store/codec.py alone, turning the entities that read fetched (kept in memory)
  into objects: ms per 1,000 rows;
- encode: codec.py alone, turning those objects back into entities: ms per 1,000 rows;
- query: ``StateStore.query`` of one kind, the statuses (as the status page and the API read);
- write: ``StateStore.commit`` of the statuses again (batches of 100): HTTP, azure-core's
  multipart batches and our encoding.

The split "read minus decode" is what azure-data-tables and the HTTP exchange cost, which this
app does not control beyond what it asks for.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts.azurite import Azurite
from scripts.bench import base_env, simulator

COUNT = int(os.environ.get("BENCH_STORE_COUNT", "1000"))
RUNS = int(os.environ.get("BENCH_STORE_RUNS", "9"))


def cpu_ms(work: Callable[[], object], runs: int = RUNS) -> float:
    """The median CPU milliseconds of ``runs`` calls of ``work``."""
    took = []
    for _ in range(runs):
        started = time.process_time()
        work()
        took.append((time.process_time() - started) * 1000)
    return statistics.median(took)


def measure(count: int) -> dict[str, Any]:
    """The figures of one tenant of ``count`` connectors (see the module's docstring)."""
    tenant = f"00000000-0000-0000-0000-{count:012d}"
    with Azurite() as azurite, simulator(count, tenant) as graph_url:
        os.environ.update(base_env(graph_url, azurite.connection_string, tenant))
        # Imported here: the settings are read from the environment just set.
        from shared import context
        from shared.configure.baseline import BASELINE_ROWS
        from shared.findings.model import FINDING_ROWS
        from shared.heartbeat.plan import CONNECTOR_STATUS_ROWS
        from shared.heartbeat.sweep import run_heartbeat_sweep
        from shared.store.codec import decode, encode
        from shared.store.rows import Select

        services = context.services()
        for _ in range(2):  # the first sweep records statuses and baselines, the second is steady
            run_heartbeat_sweep(
                services.settings, services.graph, services.store, services.channels, tenant_id=tenant
            )
        store = services.store
        selects = [Select(CONNECTOR_STATUS_ROWS), Select(FINDING_ROWS), Select(BASELINE_ROWS)]
        found = store.read(tenant, selects)
        objects = [(kind, obj) for kind, rows in found.items() for obj, _ in rows]
        # The entities as azure-data-tables hands them over (its datetime type, its metadata).
        raw = _fetched(store, tenant, selects)
        statuses = [[obj] for obj, _ in found[CONNECTOR_STATUS_ROWS]]

        def decode_all() -> None:
            for kind, entity in raw:
                decode(kind.type, entity)

        def encode_all() -> None:
            for kind, obj in objects:
                encode(obj, tenant, kind.row_key_of(obj))

        rows = len(objects)
        assert rows == len(raw), (rows, len(raw))
        return {
            "rows": rows,
            "kinds": {k.type.__name__: len(v) for k, v in found.items()},
            "read": cpu_ms(lambda: store.read(tenant, selects)),
            "query": cpu_ms(lambda: store.query(CONNECTOR_STATUS_ROWS, tenant)),
            "decode": cpu_ms(decode_all) * 1000 / rows,
            "encode": cpu_ms(encode_all) * 1000 / rows,
            "write": cpu_ms(lambda: store.commit(tenant, statuses), runs=max(3, RUNS // 3)),
            "written": len(statuses),
        }


def _fetched(store: Any, tenant: str, selects: list[Any]) -> list[tuple[Any, dict[str, Any]]]:
    """Each selected kind's entities as the SDK returns them, with the ETag as the store adds it."""
    fetched = []
    for select in selects:
        kind = select.kind
        start = kind.row_key("")
        pages = store.table(kind.table).query_entities(
            "PartitionKey eq @p and RowKey ge @s and RowKey lt @e",
            parameters={"p": tenant, "s": start, "e": start[:-1] + "}"},
            results_per_page=1000,
        )
        fetched += [(kind, {**e, "etag": str(e.metadata["etag"])}) for e in pages]
    return fetched


def main() -> int:
    logging.disable(logging.CRITICAL)  # the sweeps log one line per alert
    if Path(sys.prefix).name != ".venv-bench":
        print(f"note: running in {sys.prefix}, not .venv-bench (the deployed package set)\n")
    f = measure(COUNT)
    kinds = ", ".join(f"{n:,} {name}" for name, n in f["kinds"].items())
    print(f"Table Storage adapter, {COUNT:,}-connector tenant in Azurite (CPU, median of {RUNS} rounds)")
    print(f"    read of the sweep's state ({f['rows']:,} rows: {kinds}): {f['read']:.0f} ms")
    print(f"    decode (codec.py alone): {f['decode']:.1f} ms per 1,000 rows")
    print(f"    encode (codec.py alone): {f['encode']:.1f} ms per 1,000 rows")
    print(f"    query of one kind ({f['kinds']['ConnectorStatus']:,} ConnectorStatus): {f['query']:.0f} ms")
    print(f"    write of {f['written']:,} statuses (batches of 100): {f['write']:.0f} ms")
    share = f["read"] - f["decode"] * f["rows"] / 1000
    print(f"    read minus decode (azure-data-tables, azure-core, HTTP): {share:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
