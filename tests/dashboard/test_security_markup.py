"""Collected text is data, never markup: ``ui.safe`` and the pages that show collected text.

The rendering checks use markdown-it (CommonMark, raw HTML allowed as with
``unsafe_allow_html``); GitHub's autolink literals, which it does not do, are checked on the
text. The real browser's DOM is checked in ``test_browser_session.py``.
"""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dashboard import ui
from tests.dashboard.conftest import fill_data_dir, login, new_app, use_data_dir
from tests.dashboard.hostile import EVIL, HOSTILE, HOSTILE_BLOCK, HOSTILE_URL, SAFE_URL, plant

MD = MarkdownIt("commonmark", {"html": True})
MARKUP = re.compile(r"<(?!/?(p|br|mark|small|strong|h3|h4)\b)[a-z/!]", re.I)  # tags other than ours
AUTOLINK = re.compile(r"(?i)\bwww\.|[a-z][a-z0-9+.-]*://|\b(mailto|xmpp):[\w.+-]|\w@\w")


def rendered(body: str) -> str:
    return MD.render(body)


def shown(body: str) -> str:
    """The text a reader sees, invisible word joiners included (what GitHub's autolinker scans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered(body)))


def visible(body: str) -> str:
    return shown(body).replace("\u2060", "")


def assert_inert(body: str, *, links: frozenset[str] = frozenset()) -> None:
    """No tag but ours, no link but to ``links``, nothing GitHub would autolink."""
    out = rendered(body)
    assert not MARKUP.search(re.sub(r'<a href="([^"]*)">([^<]*)</a>', lambda m: "" if m[1] in links else m[0],
                                    out)), out
    assert "<img" not in out and "<script" not in out
    assert not AUTOLINK.search(shown(re.sub(r"\[[^\]]*\]\(<[^>]*>\)", "", body))), body


def test_security_markup_safe_shows_every_character_and_no_markup():
    body = ui.safe(HOSTILE)
    assert_inert(body)
    assert visible(body).strip() == HOSTILE
    block = ui.safe(HOSTILE_BLOCK, block=True)
    assert_inert(block)
    assert [line.strip() for line in visible(block).splitlines()] == HOSTILE_BLOCK.splitlines()
    assert ui.safe(None) == "" and ui.safe(12.5) == "12\\.5"


PIECES = st.sampled_from(list("[]()!<>*_`#~|:=$^&;/@.-+\\\"' \nwhtpsmailo") + ["www.", "http://", "&amp;", "<a>"])


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join))
def test_security_markup_safe_property_any_text_stays_text(text):
    body = ui.safe(text)
    assert_inert(body)
    assert visible(body).strip() == " ".join(text.split())


def test_security_markup_highlight_keeps_only_its_marks():
    fragment = f"x &lt;b&gt; <mark>ngập</mark> [a](https://{EVIL}) www.{EVIL}"
    body = ui.safe_marked(fragment)
    assert body.count("<mark>") == 1 and body.count("</mark>") == 1
    assert_inert(body)
    assert visible(body).strip() == f"x <b> ngập [a](https://{EVIL}) www.{EVIL}"


def test_security_markup_links_only_from_http_url_fields():
    assert ui.safe_url(SAFE_URL) == SAFE_URL
    for bad in (HOSTILE_URL, "data:text/html,<b>x</b>", "//evil.example/x", "ftp://x.example/y", "/api/x",
                "https://x.example/a b", "https://x.example/\"onmouseover=1", None, 3):
        assert ui.safe_url(bad) is None, bad
        assert ui.md_link("↗", bad) == ""
    link = ui.md_link("↗", SAFE_URL)
    assert f'<a href="{SAFE_URL}">' in rendered(link)
    frame = ui.posts_frame([{"url": HOSTILE_URL, "title": "x"}, {"url": SAFE_URL, "title": "y"}], "UTC")
    assert list(frame[ui.t("common.link")]) == ["", SAFE_URL]


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("hostile") / "data"
    fill_data_dir(data_dir)
    return data_dir, plant(data_dir)


@pytest.fixture
def hostile_env(hostile_dir, monkeypatch):
    from core.settings import get_settings

    use_data_dir(monkeypatch, hostile_dir[0])
    yield hostile_dir[1]
    get_settings.cache_clear()


def _bodies(at, *, planted: bool = True) -> list[str]:
    """Markdown bodies on the page (``planted``: those showing planted text; the product's own
    help texts are Markdown on purpose). No body at all may link to the planted host."""
    bodies = [e.value for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning",
                                   "info", "success") for e in getattr(at, kind)]
    for body in bodies:
        assert not [h for h in re.findall(r'(?:href|src)="([^"]*)"', rendered(body)) if EVIL in h], body
    return [b for b in bodies if "bấm vào đây" in b] if planted else bodies


def test_security_markup_search_page_shows_planted_markup_as_text(hostile_env):
    at = login(new_app(), "analyst")
    at.switch_page("pages/search.py").run()
    assert not at.exception
    bodies = _bodies(at)
    assert len(bodies) >= 2  # both hostile hits are listed
    for body in bodies:
        assert_inert(body, links=frozenset({SAFE_URL}))
    links = {m for b in _bodies(at, planted=False) for m in re.findall(r'<a href="([^"]*)">', rendered(b))}
    assert SAFE_URL in links and HOSTILE_URL not in links  # the javascript: url field never became a link
    at.button(key=f"s_open_{hostile_env['post']}").click().run()  # the post's card
    assert not at.exception
    detail = [b for b in _bodies(at) if "ti\u00eau \u0111\u1ec1 gi\u1ea3" in b]
    assert detail, "the post's text is shown"
    for body in _bodies(at):
        assert_inert(body, links=frozenset({SAFE_URL}))
    assert not [b for b in at.get("link_button") if b.proto.url == HOSTILE_URL]


def test_security_markup_security_page_shows_planted_alert_as_text(hostile_env):
    at = login(new_app(), "security")
    at.switch_page("pages/security.py").run()
    assert not at.exception
    at.selectbox(key="sec_pick").set_value(hostile_env["alert"]).run()
    assert not at.exception
    bodies = _bodies(at)
    assert any("Cảnh báo" in b and "bấm vào đây" in b for b in bodies)
    for body in bodies:
        assert_inert(body)


@pytest.mark.parametrize("role,page", [("comms", "listening"), ("admin", "overview"), ("admin", "sources")])
def test_security_markup_other_pages_render_planted_data_inert(hostile_env, role, page):
    at = login(new_app(), role)
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    for body in _bodies(at):
        assert_inert(body)
