"""The public API is exactly what ``syndicate/__init__.py`` exports, and it stays sorted."""

from __future__ import annotations

import syndicate


def test_all_lists_the_public_names_sorted_and_each_exists() -> None:
    public = syndicate.__all__
    assert public == sorted(public)
    assert all(hasattr(syndicate, name) for name in public)


def test_every_public_error_is_a_syndicate_error_except_the_base() -> None:
    exported = [getattr(syndicate, n) for n in syndicate.__all__]
    errors = [e for e in exported if isinstance(e, type) and issubclass(e, BaseException)]
    assert len(errors) >= 15
    assert all(issubclass(e, syndicate.SyndicateError) for e in errors)
    assert not issubclass(syndicate.SyndicateError, (RuntimeError, ValueError))


def test_the_producer_api_and_adapter_contract_are_exported() -> None:
    for name in ("submit", "ContentItem", "Adapter", "Rendered", "Receipt", "Limits", "PostContent",
                 "PublicationRef", "Safety", "InDoubt", "RateLimited", "TransientError", "PermanentError",
                 "AuthError"):
        assert name in syndicate.__all__
