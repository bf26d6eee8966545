"""CPU each text pattern spends on 100 kB of text built to make backtracking patterns explode.

For every pattern that meets item text (the list of ``tests/unit/test_pathological_text.py``),
feeds each pathological shape and prints the worst shape, its CPU time, and that time divided by a
linear scan of the same text; then the X renderer on the same shapes. CPU time of this process,
not wall-clock. The test asserts the ratio; this prints the figures ``docs/security.md`` quotes.

    python -m benchmarks.pathological_text [--size 100000]
"""

from __future__ import annotations

import argparse

from adapters.x import XAdapter
from tests.cpu import cpu_seconds, linear_scan_seconds
from tests.unit import test_pathological_text as cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=cases.SIZE)
    args = parser.parse_args()
    shapes = {name: (text * (args.size // len(text) + 1))[:args.size] if len(text) < args.size else text
              for name, text in cases.SHAPES.items()}
    print(f"{'pattern':32} {'worst shape':26} {'CPU s':>7} {'x scan':>7}")
    for name, fn in cases.PATTERNS.items():
        worst = max(((cpu_seconds(lambda f=fn, t=text: f(t), repeat=1), shape) for shape, text in shapes.items()))
        ratio = worst[0] / linear_scan_seconds(shapes[worst[1]])
        print(f"{name:32} {worst[1]:26} {worst[0]:7.3f} {ratio:7.1f}")
    for thread in (False, True):
        adapter = cases._x(thread=thread, include_body=thread)

        def render(text: str, adapter: XAdapter = adapter, thread: bool = thread) -> object:
            return adapter.render(cases._content("Summary.", text) if thread else cases._content(text))

        worst = max((cpu_seconds(lambda t=text: render(t), repeat=1), shape) for shape, text in shapes.items())
        ratio = worst[0] / linear_scan_seconds(shapes[worst[1]])
        print(f"{'x render (' + ('thread' if thread else 'post') + ')':32} {worst[1]:26} {worst[0]:7.3f} {ratio:7.1f}")


if __name__ == "__main__":
    main()
