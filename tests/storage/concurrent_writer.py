"""One of two processes writing runs to the same database at once (see test_storage_concurrency).

Usage: python concurrent_writer.py URL NAME RUNS BARRIER_DIR. Each process, once imported,
creates BARRIER_DIR/NAME and waits for the other's file, so both write at the same moment; opens the store (a blank SQLite file is upgraded
by whichever process gets there first), stores RUNS runs of its own plus one run whose inputs
are the same in both processes, and prints the ids it got as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from storage_samples import payouts_for, score_output, score_record

from alignment_engine.storage import Store

PAYOUT_ROWS = 2_000
WRITERS = 2


def main() -> None:
    url, name, count, barrier = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    (barrier / name).touch()
    deadline = time.monotonic() + 60
    while len(list(barrier.iterdir())) < WRITERS and time.monotonic() < deadline:
        time.sleep(0.01)
    ids: dict[str, list[str]] = {"own": [], "shared": []}
    with Store.open(url) as store:
        for index in range(count):
            record = score_record(count=PAYOUT_ROWS, options={"writer": name, "index": index})
            payouts = payouts_for(record)
            stored = store.record_run(
                record, result_json=score_output(record, payouts), payouts=payouts
            )
            ids["own"].append(stored.id)
            if index == count // 2:
                shared = score_record(count=PAYOUT_ROWS, options={"writer": "both"})
                payouts = payouts_for(shared)
                result = store.record_run(
                    shared, result_json=score_output(shared, payouts), payouts=payouts
                )
                ids["shared"].append(result.id)
    print(json.dumps(ids))


if __name__ == "__main__":
    main()
