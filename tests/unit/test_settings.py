"""Settings that follow one another."""

from __future__ import annotations

import pytest

from pao_backend.settings import Settings


def test_links_and_the_demo_provisioner_follow_a_changed_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAO_PORT", "9001")
    settings = Settings(demo_provisioner=True)
    assert settings.base_url == "http://127.0.0.1:9001"
    assert settings.resolved_endpoints["provisioner"] == "http://127.0.0.1:9001/demo/provisioner"


def test_a_wildcard_host_is_linked_through_loopback() -> None:
    assert Settings(host="0.0.0.0", port=8100).base_url == "http://127.0.0.1:8100"
    assert Settings(host="::1", port=8100).base_url == "http://[::1]:8100"


def test_urls_that_are_set_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAO_PROVISIONER_URL", "https://provisioner.example.com/api")
    settings = Settings(port=9001, base_url="https://pao.example.com", demo_provisioner=True)
    assert settings.base_url == "https://pao.example.com"
    assert settings.provisioner_url == "https://provisioner.example.com/api"
