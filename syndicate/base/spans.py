"""Spans of text that no step may cut, translate or rewrite: URLs, @mentions, #hashtags and our
own ``<x id="N"/>`` placeholders.

One definition for every stage that must agree on them: translation protects exactly these
(:mod:`syndicate.localization.masking`), rendering never cuts inside them
(:mod:`syndicate.channels.rendering`), and attribution tags exactly the URLs translation kept
(:mod:`syndicate.intake.attribution`). Each pattern runs in linear time on any text.
"""

from __future__ import annotations

import re

__all__ = ["EXISTING_PLACEHOLDER", "HASHTAG", "MENTION", "PLACEHOLDER", "URL"]

#: An http(s) URL, without the punctuation that usually follows one in a sentence.
URL = re.compile(r"\bhttps?://[^\s<>\"'`]+[^\s<>\"'`.,;:!?)\]}]")
#: An @mention (``@name`` or ``@name/list``), not an e-mail address's ``@``.
MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{1,50}(?:/[A-Za-z0-9_-]{1,50})?")
#: A #hashtag that starts with a letter or digit, not an HTML entity's ``&#``.
HASHTAG = re.compile(r"(?<![\w#&])#[^\W_][\w]*", re.UNICODE)
#: A placeholder already in a text.
EXISTING_PLACEHOLDER = re.compile(r"<x\s+id=\"\d+\"\s*/>")
#: A placeholder, its id captured.
PLACEHOLDER = re.compile(r"<x\s+id=\"(\d+)\"\s*/>")
