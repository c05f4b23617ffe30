"""Counts the adversarial cases by surface (file) and by rule, from `pytest --collect-only -q`.

Usage: .venv/bin/python -m pytest tests/security --collect-only -q | python3 tests/security/count_cases.py
"""

from __future__ import annotations

import collections
import re
import sys


def main() -> None:
    by_file: collections.Counter[str] = collections.Counter()
    for line in sys.stdin:
        match = re.match(r"tests/security/(test_\w+)\.py::", line.strip())
        if match:
            by_file[match.group(1)[5:]] += 1
    for surface, count in by_file.most_common():
        print(f"{surface:<28}{count:>6}")
    print(f"{'total':<28}{sum(by_file.values()):>6}")


if __name__ == "__main__":
    main()
