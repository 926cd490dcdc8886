"""Credentials never reach output: the masking function, config show, logs and error messages."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.secrets import MASK, MaskingFilter, mask_secrets

ROOT = Path(__file__).resolve().parents[2]

CASES = [
    ("https://ops:hunter2@es.local:9200/", "hunter2"),
    ("http://u:p%40ss@host/x", "p%40ss"),
    ("https://hooks.example/x?token=tk-123456&v=1", "tk-123456"),
    ("https://api.example/v1?api_key=AKIA0000SECRET", "AKIA0000SECRET"),
    ("https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage",
     "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGciOiJIUzI1NiJ9"),
    ('password="s3cr3t-value"', "s3cr3t-value"),
    ("smtp password: Mk!9zz", "Mk!9zz"),
]


@pytest.mark.parametrize(("text", "secret"), CASES)
def test_secrets_mask_removes_the_credential(text, secret):
    masked = mask_secrets(text)
    assert secret not in masked
    assert MASK in masked
    assert mask_secrets(masked) == masked  # idempotent


def test_secrets_mask_keeps_ordinary_text():
    text = "Ngập sâu đường 30/4, quận Ninh Kiều; xem https://cantho.example/tin?id=42&page=2"
    assert mask_secrets(text) == text


def test_secrets_logging_filter_masks_library_messages(caplog):
    logger = logging.getLogger("elastic_transport.test")
    handler = logging.Handler()
    handler.addFilter(MaskingFilter())
    records = []
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        logger.warning("POST %s failed", "https://elastic:changeme-now@10.0.0.5:9200/_bulk")
    finally:
        logger.removeHandler(handler)
    assert "changeme-now" not in records[0].getMessage()


def _run(args, env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOCWATCH_")}
    env.update({"IOCWATCH_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}, **env_extra)
    return subprocess.run([sys.executable, "-m", "iocwatch", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


PLANTED = {
    "IOCWATCH_NOTIFY__WEBHOOK_URL": "https://hookuser:WebhookPass77@hooks.example/in?token=WebhookTok88",
    "IOCWATCH_NOTIFY__TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    "IOCWATCH_NOTIFY__SMTP_PASSWORD": "SmtpPass99",
    "IOCWATCH_INDEX__ES_API_KEY": "EsApiKey55",
    "IOCWATCH_ES_URL": "http://elastic:EsUrlPass66@127.0.0.1:9",  # nothing listens on port 9
}
SECRETS = ["WebhookPass77", "WebhookTok88", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "SmtpPass99",
           "EsApiKey55", "EsUrlPass66"]


def test_secrets_config_show_and_store_errors_never_print_planted_secrets(tmp_path):
    outputs = []
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = _run(args, PLANTED, tmp_path)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    shown = json.loads(_run(["config", "show", "--json"], PLANTED, tmp_path).stdout)
    assert shown["notify"]["webhook_url"].startswith("https://hookuser:")
    # an unreachable Elasticsearch named with a password in its URL
    failed = _run(["-v", "search", "ngập", "--json"], {**PLANTED, "IOCWATCH_STORE": "elasticsearch",
                                                      "IOCWATCH_INDEX__ES_TIMEOUT_S": "2"}, tmp_path)
    assert failed.returncode != 0
    outputs.append(failed.stdout + failed.stderr)
    everything = "\n".join(outputs)
    for secret in SECRETS:
        assert secret not in everything, secret
