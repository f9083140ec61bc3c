"""Linking: a member asks, the platform confirms; one member per platform account; a full audit trail."""

from __future__ import annotations

import pytest

from datalever.ledger.errors import BadRequest, Conflict, NotFound, UnknownMember
from datalever.ledger.posting import Ledger
from datalever.stipends import links
from tests.support.books import new_member


def _request(ledger: Ledger, member: int, platform: str, account: str, site: str | None = None) -> links.Link:
    with ledger.engine.begin() as conn:
        return links.request_link(conn, member, platform, site, account, "test", ledger.clock())


def _confirm(ledger: Ledger, link_id: int) -> links.Link:
    with ledger.engine.begin() as conn:
        return links.confirm_link(conn, link_id, "platform:test", ledger.clock())


def _unlink(ledger: Ledger, link_id: int, member: int | None = None) -> links.Link:
    with ledger.engine.begin() as conn:
        return links.unlink(conn, link_id, "test", ledger.clock(), member_id=member)


def test_request_then_confirm(ledger: Ledger) -> None:
    member, _ = new_member(ledger)
    link = _request(ledger, member, "GitHub", "5001")
    assert (link.status, link.platform, link.site, link.confirmed_at) == ("requested", "github", "github.com", None)
    confirmed = _confirm(ledger, link.id)
    assert confirmed.status == "confirmed" and confirmed.confirmed_by == "platform:test"
    assert confirmed.confirmed_at == ledger.clock()


def test_one_platform_account_links_to_at_most_one_member(ledger: Ledger) -> None:
    alice, _ = new_member(ledger)
    bob, _ = new_member(ledger)
    first = _request(ledger, alice, "wikipedia", "4242")
    second = _request(ledger, bob, "wikipedia", "4242")  # both may ask; the platform decides
    _confirm(ledger, first.id)
    with pytest.raises(Conflict, match="already linked to another member"):
        _confirm(ledger, second.id)
    with pytest.raises(Conflict, match="already linked to another member"):
        _request(ledger, bob, "wikipedia", "4242")
    assert _request(ledger, bob, "wikipedia", "4242", site="de.wikipedia.org").status == "requested"  # other wiki


def test_bad_requests(ledger: Ledger) -> None:
    member, _ = new_member(ledger)
    link = _request(ledger, member, "stackexchange", "17", site="bicycles.stackexchange.com")
    with pytest.raises(Conflict, match="duplicate link"):
        _request(ledger, member, "stackexchange", "17", site="Bicycles.StackExchange.com")
    with pytest.raises(BadRequest, match="unknown platform 'reddit'"):
        _request(ledger, member, "reddit", "17")
    with pytest.raises(BadRequest, match="give the site"):
        _request(ledger, member, "stackexchange", "17")
    with pytest.raises(BadRequest, match="account_id"):
        _request(ledger, member, "github", "   ")
    with pytest.raises(UnknownMember):
        _request(ledger, 999, "github", "1")
    with pytest.raises(NotFound):
        _confirm(ledger, 999)
    _confirm(ledger, link.id)
    with pytest.raises(Conflict, match="already confirmed"):
        _confirm(ledger, link.id)
    with pytest.raises(NotFound, match=f"link {link.id} does not exist for member"):
        _unlink(ledger, link.id, member=member + 1)


def test_unlink_and_relink_keep_an_audit_trail(ledger: Ledger) -> None:
    alice, _ = new_member(ledger)
    bob, _ = new_member(ledger)
    first = _request(ledger, alice, "github", "5001")
    _confirm(ledger, first.id)
    _unlink(ledger, first.id, member=alice)
    with pytest.raises(Conflict, match="already unlinked"):
        _unlink(ledger, first.id)
    with pytest.raises(Conflict, match="request a new link"):
        _confirm(ledger, first.id)
    second = _request(ledger, bob, "github", "5001")
    _confirm(ledger, second.id)
    with ledger.engine.connect() as conn:
        history = links.link_history(conn, "github", "github.com", "5001")
        assert [(h["member_id"], h["action"]) for h in history] == [
            (alice, "requested"),
            (alice, "confirmed"),
            (alice, "unlinked"),
            (bob, "requested"),
            (bob, "confirmed"),
        ]
        assert [link.status for link in links.member_links(conn, alice)] == ["unlinked"]
        assert [link.status for link in links.member_links(conn, bob)] == ["confirmed"]
