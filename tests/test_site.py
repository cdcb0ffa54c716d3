"""Site and host ids (`qmsforms.site`) and the ``[site]`` and ``[paths]`` settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from qmsforms.config import Config, ConfigError
from qmsforms.site import (
    HOST_ENV,
    SITE_ENV,
    SITE_KEY,
    host_id,
    key_scope,
    natural_key,
    site_id,
    site_problem,
)
from qmsforms.workspace import Workspace


def _config(ws: Workspace, text: str) -> Workspace:
    path = ws.root / "qmsforms.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    return Workspace(ws.root)


def test_the_host_is_the_environments_or_the_machines_name_made_safe(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOST_ENV, "plant 2/宁波 line")
    assert host_id() == "plant-2-line"
    monkeypatch.setenv(HOST_ENV, "///")
    assert host_id() == "host"
    monkeypatch.delenv(HOST_ENV)
    assert host_id() and "/" not in host_id()


def test_site_ids_are_checked_where_they_are_given(ws: Workspace,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert site_problem("NB-2") is None and site_problem("nb_2") is None
    assert site_problem("-x") is not None and site_problem("a b") is not None
    assert site_problem("x" * 33) is not None
    assert site_id(ws) is None  # a company of one site: nothing stamped
    assert site_id(_config(ws, '[site]\nid = "NB"\n')) == "NB"
    monkeypatch.setenv(SITE_ENV, "SZ")
    assert site_id(Workspace(ws.root)) == "SZ"  # the environment wins
    monkeypatch.setenv(SITE_ENV, "bad id")
    with pytest.raises(ConfigError):
        site_id(Workspace(ws.root))


def test_a_malformed_site_or_a_per_site_key_on_a_linked_form_is_refused() -> None:
    with pytest.raises(ValueError, match="site"):
        Config.model_validate({"site": {"id": "宁波 一厂"}})
    with pytest.raises(ValueError, match="complaint"):
        Config.model_validate({"site": {"key_scope": {"complaint": "site"}}})
    with pytest.raises(ValueError):
        Config.model_validate({"site": {"key_scope": {"shipping-list": "plant"}}})
    ok = Config.model_validate({"site": {"key_scope": {"shipping-list": "company"}}})
    assert ok.site.key_scope == {"shipping-list": "company"}


def test_keys_are_per_site_unless_the_form_or_the_configuration_says_company(
        ws: Workspace) -> None:
    reg = ws.registry
    assert key_scope(ws, reg.get("satisfaction-monitoring")) == "site"
    assert key_scope(ws, reg.get("satisfaction-survey")) == "site"
    for linked in ("complaint", "8d-report", "corrective-action"):
        assert key_scope(ws, reg.get(linked)) == "company"
    data = {"customer": "Acme", "month": "2026-03", "performance_rate": 100}
    monitoring = reg.get("satisfaction-monitoring")
    assert natural_key(ws, monitoring, data, None) == {"customer": "Acme", "month": "2026-03"}
    assert natural_key(ws, monitoring, data, "NB") == {
        "customer": "Acme", "month": "2026-03", SITE_KEY: "NB"}
    assert natural_key(ws, reg.get("complaint"), {"ticket_no": "T1"}, "NB") == {
        "ticket_no": "T1"}
    ws = _config(ws, '[site.key_scope]\n"satisfaction-monitoring" = "company"\n')
    assert natural_key(ws, ws.registry.get("satisfaction-monitoring"), data, "NB") == {
        "customer": "Acme", "month": "2026-03"}


def test_a_questionnaire_may_file_its_key_company_wide(ws: Workspace) -> None:
    path = ws.schemas_dir / "questionnaires" / "satisfaction-survey.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("natural_key", 'key_scope = "company"\nnatural_key', 1),
                    encoding="utf-8")
    ws = Workspace(ws.root)
    assert ws.registry.get("satisfaction-survey").key_scope == "company"
    assert key_scope(ws, ws.registry.get("satisfaction-survey")) == "company"


def test_inbox_and_outbox_may_live_elsewhere(ws: Workspace, tmp_path: Path) -> None:
    assert ws.inbox == ws.root / "inbox" and ws.outbox == ws.root / "outbox"  # the defaults
    share = tmp_path / "share" / "inbox"
    moved = _config(ws, f'[paths]\ninbox = "{share.as_posix()}"\noutbox = "central/out"\n')
    assert moved.inbox == share
    assert moved.outbox == ws.root / "central" / "out"
