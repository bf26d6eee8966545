"""DeepL's client sends through a bounded session: an answer dripped past the deadline is cut off."""

from __future__ import annotations

import pytest

from syndicate.errors import TranslationUnavailable
from tests.fakes.base import Fault
from tests.fakes.deepl import FakeDeepL
from tests.integration.test_translation_engines import DEEPL_KEY, OPTS, SEGMENTS, engine


def test_a_deepl_answer_dripped_slower_than_the_deadline_is_unavailable() -> None:
    # Given a DeepL server that drips its answer one byte every 50 ms (each byte within the 0.5 s
    # read timeout; the whole answer takes seconds), and a deadline of 0.5 + 0.5 s
    with FakeDeepL(DEEPL_KEY) as server:
        server.fail_next(Fault("drip", when="after", method="POST", seconds=0.05))
        # When a batch is translated, with no second try within the step (the retry is another test's)
        # Then the cut answer is reported as a transient failure
        with pytest.raises(TranslationUnavailable):
            engine("deepl", server, retry_attempts=1).translate(SEGMENTS, "en-US", "de-DE", OPTS)
