"""The public surface, pinned as httpx pins its own (``tests/test_exported_members.py`` there).

``syndicate.__all__`` (the producer API, the item model, the errors, the adapter contract) and the
channel kit's ``syndicate.channels.__all__`` (everything an adapter author needs) are exactly the
names below, each importable from its package and defined in the module named. Adding, removing
or moving a public name fails here: change this list together with the docs that describe the name
(``README.md``, ``docs/writing-an-adapter.md``).
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

import pytest

import syndicate
import syndicate.channels

#: ``syndicate.__all__``: each name and the module that defines it.
SYNDICATE: dict[str, str] = {
    "AccountContext": "syndicate.channels.contract",
    "Adapter": "syndicate.channels.contract",
    "AuthError": "syndicate.errors",
    "CallToAction": "syndicate.model.item",
    "Cancellation": "syndicate.intake.producer",
    "ChannelError": "syndicate.errors",
    "ConfigError": "syndicate.errors",
    "ConfigProblem": "syndicate.errors",
    "ContentError": "syndicate.errors",
    "ContentItem": "syndicate.model.item",
    "Decision": "syndicate.operations.operator",
    "EndpointGone": "syndicate.errors",
    "InDoubt": "syndicate.errors",
    "IntakeLimits": "syndicate.model.item",
    "InvalidFilter": "syndicate.errors",
    "InvalidItem": "syndicate.model.item",
    "Limits": "syndicate.channels.contract",
    "LocalizationError": "syndicate.errors",
    "LocalizedFields": "syndicate.model.item",
    "Media": "syndicate.model.item",
    "MediaRef": "syndicate.channels.contract",
    "NoOptions": "syndicate.channels.contract",
    "NotApproved": "syndicate.errors",
    "NotOwner": "syndicate.errors",
    "Overrides": "syndicate.model.item",
    "PermanentError": "syndicate.errors",
    "PlaceholderMismatch": "syndicate.errors",
    "PostContent": "syndicate.channels.contract",
    "PublicationRef": "syndicate.channels.contract",
    "RateLimited": "syndicate.errors",
    "RateWindow": "syndicate.channels.contract",
    "Receipt": "syndicate.channels.contract",
    "Rendered": "syndicate.channels.contract",
    "Repeat": "syndicate.model.item",
    "ReplayPlan": "syndicate.operations.operator",
    "ReplayRow": "syndicate.operations.operator",
    "ResolveError": "syndicate.operations.operator",
    "Review": "syndicate.localization.review",
    "ReviewField": "syndicate.localization.review",
    "Runtime": "syndicate.runtime",
    "Safety": "syndicate.channels.contract",
    "Submission": "syndicate.intake.producer",
    "SyndicateError": "syndicate.errors",
    "TransientError": "syndicate.errors",
    "TranslationQuotaExceeded": "syndicate.errors",
    "TranslationRejected": "syndicate.errors",
    "TranslationUnavailable": "syndicate.errors",
    "approve_review": "syndicate.localization.review",
    "cancel": "syndicate",
    "reject_review": "syndicate.localization.review",
    "replay": "syndicate.operations.operator",
    "resolve": "syndicate.operations.operator",
    "show_review": "syndicate.localization.review",
    "submit": "syndicate",
}

#: ``syndicate.channels.__all__``: each name and the module that defines it.
CHANNELS: dict[str, str] = {
    "ELLIPSIS": "syndicate.channels.rendering",
    "MAX_ANSWER_BYTES": "syndicate.channels.http",
    "AccountContext": "syndicate.channels.contract",
    "AccountState": "syndicate.channels.state",
    "Adapter": "syndicate.channels.contract",
    "Capability": "syndicate.channels.contract",
    "AuthError": "syndicate.errors",
    "AwareDatetime": "syndicate.base.fields",
    "BoundedTransport": "syndicate.channels.http",
    "ChannelError": "syndicate.errors",
    "ConfigError": "syndicate.errors",
    "ConfigProblem": "syndicate.errors",
    "ContentError": "syndicate.errors",
    "DeadlineExceeded": "syndicate.channels.http",
    "Duration": "syndicate.base.fields",
    "EndpointGone": "syndicate.errors",
    "FetchRefused": "syndicate.errors",
    "FetchUnavailable": "syndicate.errors",
    "Fetched": "syndicate.channels.fetching",
    "Fitted": "syndicate.channels.rendering",
    "HttpAdapter": "syndicate.channels.httpadapter",
    "InDoubt": "syndicate.errors",
    "Limits": "syndicate.channels.contract",
    "LocaleTag": "syndicate.base.fields",
    "MediaRef": "syndicate.channels.contract",
    "MediaSpec": "syndicate.channels.media",
    "MediaStore": "syndicate.channels.media",
    "Medium": "syndicate.channels.media",
    "MemoryState": "syndicate.channels.state",
    "NoOptions": "syndicate.channels.contract",
    "Outcome": "syndicate.channels.errormap",
    "PermanentError": "syndicate.errors",
    "Post": "syndicate.channels.rendering",
    "PostContent": "syndicate.channels.contract",
    "PublicationRef": "syndicate.channels.contract",
    "RateLimited": "syndicate.errors",
    "RateWindow": "syndicate.channels.contract",
    "RevisionPolicy": "syndicate.channels.contract",
    "Receipt": "syndicate.channels.contract",
    "Rendered": "syndicate.channels.contract",
    "Safety": "syndicate.channels.contract",
    "SpanFinder": "syndicate.channels.rendering",
    "StatusMap": "syndicate.channels.errormap",
    "TransientError": "syndicate.errors",
    "WebUrl": "syndicate.base.fields",
    "answer_complete": "syndicate.channels.http",
    "answer_text": "syndicate.channels.httpadapter",
    "body_html": "syndicate.channels.markup",
    "body_text": "syndicate.channels.markup",
    "bounded_session": "syndicate.channels.http",
    "compose": "syndicate.channels.rendering",
    "fetch": "syndicate.channels.fetching",
    "fit_text": "syndicate.channels.rendering",
    "get_logger": "syndicate.base.logging",
    "hashtags": "syndicate.channels.rendering",
    "html_to_text": "syndicate.channels.markup",
    "images_to_attach": "syndicate.channels.media",
    "is_loopback": "syndicate.channels.http",
    "markdown_to_html": "syndicate.channels.markup",
    "nothing_sent": "syndicate.channels.http",
    "rate_limit_reset": "syndicate.channels.http",
    "redact": "syndicate.base.secrets",
    "render_post": "syndicate.channels.rendering",
    "request_error": "syndicate.channels.errormap",
    "retry_after": "syndicate.channels.http",
    "retry_delay": "syndicate.channels.http",
    "sanitize_html": "syndicate.channels.markup",
    "sniff_image_type": "syndicate.channels.media",
    "with_direction": "syndicate.channels.markup",
}

SURFACES = [(syndicate, SYNDICATE), (syndicate.channels, CHANNELS)]
IDS = ["syndicate", "syndicate.channels"]


@pytest.mark.parametrize(("package", "pinned"), SURFACES, ids=IDS)
def test_all_lists_exactly_the_pinned_names_once_each(package: ModuleType, pinned: dict[str, str]) -> None:
    # Given a package's __all__ / Then it names exactly the pinned names, none twice
    exported = list(package.__all__)
    assert len(exported) == len(set(exported)), sorted(n for n in exported if exported.count(n) > 1)
    assert sorted(set(exported) - set(pinned)) == [], "added without updating this list"
    assert sorted(set(pinned) - set(exported)) == [], "removed without updating this list"


@pytest.mark.parametrize(("package", "pinned"), SURFACES, ids=IDS)
def test_each_public_name_is_the_object_its_defining_module_holds(package: ModuleType, pinned: dict[str, str]) -> None:
    # Given each pinned name / When taken from the package and from the module listed for it
    for name, module in pinned.items():
        obj = getattr(package, name)
        # Then both are the same object, and a class or function says it was defined there
        assert getattr(importlib.import_module(module), name) is obj, f"{name} is not {module}.{name}"
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__module__ == module, f"{name} is defined in {obj.__module__}, not {module}"


@pytest.mark.parametrize(("package", "pinned"), SURFACES, ids=IDS)
def test_a_star_import_gives_exactly_the_public_names(package: ModuleType, pinned: dict[str, str]) -> None:
    # Given a fresh namespace / When the package is star-imported into it
    namespace: dict[str, object] = {}
    exec(f"from {package.__name__} import *", namespace)  # noqa: S102 - a fixed import statement
    # Then it holds the public names and nothing else
    assert set(namespace) - {"__builtins__"} == set(pinned)

