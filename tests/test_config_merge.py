"""Three-way merge of configs (Settings saving over a file changed meanwhile)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.config import Config, ContactConfig, MonitorConfig, SiteConfig
from app.config_merge import MergeConflict, merge

SHOP = SiteConfig(name="shop", url="https://live-shop.example/")
BLOG = SiteConfig(name="blog", url="https://blog.example/")
DOCS = SiteConfig(name="docs", url="https://docs.example/")
BASE = Config(sites=(SHOP, BLOG))


def test_nothing_changed_there_keeps_mine_exactly() -> None:
    mine = replace(BASE, monitor=MonitorConfig(interval=30.0), sites=(BLOG,))
    assert merge(BASE, mine, BASE) == (mine, [])


def test_both_sides_changes_to_different_keys_and_sites_are_kept() -> None:
    mine = replace(BASE, monitor=MonitorConfig(interval=30.0),
                   sites=(replace(SHOP, environment="test"), BLOG))
    theirs = replace(BASE, contact=ContactConfig(email="ops@example.org"),
                     sites=(SHOP, BLOG, DOCS))
    merged, taken = merge(BASE, mine, theirs)
    assert merged.monitor.interval == 30.0
    assert merged.contact.email == "ops@example.org"
    assert merged.sites == (replace(SHOP, environment="test"), BLOG, DOCS)
    assert taken == ["contact.email", "site 'docs'"]


def test_a_site_removed_on_one_side_and_untouched_on_the_other_goes() -> None:
    assert merge(BASE, replace(BASE, sites=(SHOP,)), BASE)[0].sites == (SHOP,)
    merged, taken = merge(BASE, BASE, replace(BASE, sites=(BLOG,)))
    assert merged.sites == (BLOG,) and taken == ["site 'shop'"]


def test_an_edit_there_to_a_site_untouched_here_is_taken() -> None:
    edited = replace(BLOG, backend_url="https://blog.example/wp-login.php")
    merged, _ = merge(BASE, BASE, replace(BASE, sites=(SHOP, edited)))
    assert merged.sites == (SHOP, edited)


@pytest.mark.parametrize(
    ("mine", "theirs", "keys"),
    [
        (replace(BASE, monitor=MonitorConfig(interval=30.0)),
         replace(BASE, monitor=MonitorConfig(interval=45.0)), ["monitor.interval"]),
        (replace(BASE, sites=(replace(SHOP, environment="test"), BLOG)),
         replace(BASE, sites=(replace(SHOP, environment="dev"), BLOG)), ["site 'shop'"]),
        (replace(BASE, sites=(SHOP, BLOG, DOCS)),
         replace(BASE, sites=(SHOP, BLOG, replace(DOCS, url="https://other.example/"))),
         ["site 'docs'"]),
        (replace(BASE, sites=(SHOP,)),
         replace(BASE, sites=(SHOP, replace(BLOG, environment="test"))), ["site 'blog'"]),
    ],
    ids=["same-key", "same-site-edited", "same-name-added", "removed-here-edited-there"],
)
def test_both_sides_changing_the_same_thing_differently_is_a_conflict(
    mine: Config, theirs: Config, keys: list[str]
) -> None:
    with pytest.raises(MergeConflict) as caught:
        merge(BASE, mine, theirs)
    assert caught.value.keys == keys


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    both = replace(BASE, monitor=MonitorConfig(interval=30.0), sites=(SHOP, BLOG, DOCS))
    assert merge(BASE, both, both)[0] == both
