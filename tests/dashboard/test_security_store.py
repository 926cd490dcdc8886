"""The dashboard survives its index being deleted or rebuilt while it runs."""

from __future__ import annotations

import shutil

from tests.dashboard.conftest import fill_data_dir, login, new_app, use_data_dir
from tests.dashboard.hostile import plant


def _mentions(at) -> str | None:
    return next((m.value for m in at.metric if m.label == "Đề cập 24 giờ"), None)


def test_security_store_index_deleted_then_rebuilt_while_the_dashboard_runs(tmp_path, monkeypatch):
    from core.settings import get_settings
    from dashboard import data

    data_dir = tmp_path / "data"
    expected = fill_data_dir(data_dir)
    use_data_dir(monkeypatch, data_dir)
    try:
        at = login(new_app(), "admin")
        assert _mentions(at) == str(expected["m24"])
        shutil.rmtree(data_dir / "index")  # deleted under the running dashboard
        data.clear_caches()  # as the cache's TTL or the refresh button do
        at.run()
        assert not at.exception, at.exception
        assert at.error and "index" in at.error[0].value and "missing" in at.error[0].value
        assert "iocwatch index load" in at.error[0].value
        assert not (data_dir / "index").exists()  # the dashboard does not recreate an empty index
        for page in ("search", "listening", "security"):  # every page: a message, not a traceback
            at.switch_page(f"pages/{page}.py").run()
            assert not at.exception, (page, at.exception)
            assert at.error, page
        fill_data_dir(tmp_path / "rebuilt")  # an index rebuilt elsewhere and moved into place
        shutil.move(tmp_path / "rebuilt" / "index", data_dir / "index")
        at.switch_page("pages/overview.py").run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert _mentions(at) == str(expected["m24"])
        # swapped for a rebuilt one with three more posts, with no moment of absence
        fill_data_dir(tmp_path / "bigger")
        plant(tmp_path / "bigger")
        (data_dir / "index").rename(tmp_path / "old-index")
        (tmp_path / "bigger" / "index").rename(data_dir / "index")
        data.clear_caches()
        at.run()
        assert not at.exception and not at.error
        assert _mentions(at) == str(expected["m24"] + 3)
    finally:
        get_settings.cache_clear()
