"""When a cached IAM token is refreshed. Pure: every call gets an explicit ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cloud.auth import IamToken, TokenCache

NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)


def test_an_empty_cache_needs_a_token() -> None:
    assert TokenCache().needs_refresh(NOW)


def test_a_twelve_hour_token_is_refreshed_after_about_an_hour() -> None:
    cache = TokenCache()
    cache.store(IamToken("t1", NOW + timedelta(hours=12)), NOW)
    assert not cache.needs_refresh(NOW + timedelta(minutes=59))
    assert cache.needs_refresh(NOW + timedelta(hours=1))


def test_a_short_lived_token_is_refreshed_at_half_its_life() -> None:
    cache = TokenCache()
    cache.store(IamToken("t1", NOW + timedelta(minutes=10)), NOW)
    assert not cache.needs_refresh(NOW + timedelta(minutes=4, seconds=59))
    assert cache.needs_refresh(NOW + timedelta(minutes=5))


def test_a_token_about_to_expire_is_not_usable() -> None:
    cache = TokenCache(expiry_margin=timedelta(seconds=30))
    cache.store(IamToken("t1", NOW + timedelta(hours=1)), NOW)
    assert cache.usable(NOW + timedelta(minutes=59))
    assert not cache.usable(NOW + timedelta(minutes=59, seconds=31))


def test_after_a_failed_refresh_the_old_token_serves_a_while() -> None:
    cache = TokenCache(retry_failed_after=timedelta(seconds=30))
    cache.store(IamToken("t1", NOW + timedelta(hours=12)), NOW)
    later = NOW + timedelta(hours=2)
    assert cache.needs_refresh(later)
    cache.note_failure(later)
    assert not cache.needs_refresh(later + timedelta(seconds=29))
    assert cache.needs_refresh(later + timedelta(seconds=30))


def test_a_failed_refresh_does_not_extend_an_expired_token() -> None:
    cache = TokenCache()
    cache.store(IamToken("t1", NOW + timedelta(minutes=2)), NOW)
    at_expiry = NOW + timedelta(minutes=2)
    cache.note_failure(at_expiry)
    assert cache.needs_refresh(at_expiry)


def test_invalidate_drops_only_the_token_that_was_refused() -> None:
    cache = TokenCache()
    cache.store(IamToken("new", NOW + timedelta(hours=12)), NOW)
    # A request that was refused with an older token must not throw away the newer one.
    assert not cache.invalidate("old")
    assert not cache.needs_refresh(NOW)
    assert cache.invalidate("new")
    assert cache.needs_refresh(NOW)


def test_the_cache_repr_shows_the_expiry_not_the_token() -> None:
    cache = TokenCache()
    cache.store(IamToken("t1.secret-value", NOW + timedelta(hours=12)), NOW)
    assert "t1.secret-value" not in repr(cache)
    assert "t1.secret-value" not in repr(cache.token)
    assert "2026-11-20T22:00:00+00:00" in repr(cache)
