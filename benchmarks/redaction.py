"""Redaction cost: CPU time to redact one log line, by number of registered secrets.

``redact`` looks for every registered secret as written, percent-encoded, JSON-escaped and
base64-encoded (see ``syndicate.base.secrets``). This measures it on 1 KB log lines with and without
escapes (a URL with ``%XX`` and ``+`` forces the decoded second scan), against the same run's
baseline: one regex alternation of the raw values plus the token-shape patterns, which is what
redaction did before it looked for encoded forms. CPU time (``time.process_time``), so the
machine's other load matters less.

    python -m benchmarks.redaction            # --secrets 10 100 1000 --lines 2000
"""

from __future__ import annotations

import argparse
import re
import secrets
import time
from collections.abc import Callable

from benchmarks._services import machine, table

LINE_PLAIN = ("x" * 200 + " worker publish done item=launch-2026 account=x-dach slot=0 status=201 " * 12)[:1024]
LINE_ESCAPED = ("GET /v2/translate?text=Hello%20world%2C%20this+is&lang=de&sig=abc%2Fdef%3D " * 14)[:1024]


def _cpu_per_call_us(fn: Callable[[str], str], line: str, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn(line)
    return (time.process_time() - start) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--secrets", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--lines", type=int, default=2000, help="lines redacted per measurement")
    args = ap.parse_args()
    from syndicate.base.secrets import _PATTERNS, _registry, add_secret, redact

    print(f"machine: {machine()}")
    rows = []
    for count in args.secrets:
        while len(_registry._values) < count:
            add_secret(secrets.token_urlsafe(30) + "+/=: " + secrets.token_hex(4))
        _registry._pattern = None
        start = time.process_time()
        _registry.pattern()
        compile_ms = (time.process_time() - start) * 1000
        raw = re.compile("|".join(re.escape(v) for v in sorted(_registry._values, key=len, reverse=True)))

        def baseline(text: str, raw: re.Pattern[str] = raw) -> str:
            text = raw.sub("[REDACTED]", text)
            for pat in _PATTERNS:
                text = pat.sub(lambda m: m.group(1) + "[REDACTED]", text)
            return text

        for name, line in (("plain", LINE_PLAIN), ("escaped", LINE_ESCAPED)):
            ours = _cpu_per_call_us(redact, line, args.lines)
            base = _cpu_per_call_us(baseline, line, args.lines)
            rows.append([count, name, f"{compile_ms:.0f}", f"{ours:.0f}", f"{base:.0f}", f"{ours / base:.1f}"])
    print(table(["secrets", "1 KB line", "compile ms", "redact µs/line", "before µs/line", "ratio"], rows))


if __name__ == "__main__":
    main()
