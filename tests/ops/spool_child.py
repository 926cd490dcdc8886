"""Child process for the SIGKILL test: writes batches through a SpooledStore, printing each acknowledgement.

Usage: python -m tests.ops.spool_child DATA_DIR BATCHES SIZE DOWN_AFTER
After DOWN_AFTER batches the store behind the spool is switched off, so later batches
are acknowledged by the spool alone. The parent kills this process with SIGKILL.
"""

from __future__ import annotations

import sys
from pathlib import Path

from core.settings import load_settings
from index import open_store
from iocwatch.ops.spool import SpooledStore, open_spool
from tests.ops.faults import SwitchableStore
from tests.ops.producer import make_batch


def main() -> None:
    data_dir, batches, size, down_after = Path(sys.argv[1]), *map(int, sys.argv[2:5])
    settings = load_settings(data_dir=data_dir)
    store = SwitchableStore(open_store(settings))
    spooled = SpooledStore(store, open_spool(settings), retry_s=0.0, retry_max_s=0.0)
    for b in range(batches):
        if down_after >= 0 and b == down_after:
            store.down = True
        result = spooled.upsert_many("posts", make_batch(b, size))
        assert result.acknowledged == size, result
        sys.stdout.write(f"ack {b} stored={len(result.stored)} pending={len(result.pending)}\n")
        sys.stdout.flush()
    sys.stdout.write("done\n")
    sys.stdout.flush()
    spooled.close()


if __name__ == "__main__":
    main()
