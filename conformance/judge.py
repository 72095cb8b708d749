#!/usr/bin/env python3
"""Judges Autobahn TestSuite reports (reports/<role>/index.json).

    judge.py --cases CASES.txt [--pending expected-pending.txt] ROLE=INDEX.json [ROLE=INDEX.json ...]

A case passes when both `behavior` and `behaviorClose` are OK or INFORMATIONAL.
NON-STRICT, UNIMPLEMENTED, FAILED, WRONG CODE, UNCLEAN and missing cases fail, unless the
case id matches a line of the pending list (an exact id or a glob such as `12.*`): those are
reported as "pending (expected)" and do not fail the run.

Prints one line per case that is not OK, a summary line per role, and a last line
`N passed, M failed`. Exits 1 on any failure, 2 on a usage or input error.
"""

import argparse
import fnmatch
import json
import sys
from collections import Counter

PASSING = ("OK", "INFORMATIONAL")


def case_key(case_id):
    """Sort key: '9.10.2' -> (9, 10, 2)."""
    return tuple(int(part) for part in case_id.split("."))


def read_lines(path):
    """Non-empty, non-comment lines of a text file."""
    with open(path, encoding="utf-8") as f:
        lines = (line.split("#", 1)[0].strip() for line in f)
        return [line for line in lines if line]


def pending_pattern(case_id, patterns):
    """The first pending pattern that matches the case id, or None."""
    for pattern in patterns:
        if fnmatch.fnmatchcase(case_id, pattern):
            return pattern
    return None


def load_results(path, agent):
    """The case results of one agent from an index.json."""
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    if agent in index:
        return index[agent]
    if len(index) == 1:
        return next(iter(index.values()))
    raise ValueError(f"{path}: no agent {agent!r} among {sorted(index)}")


def judge_role(role, results, cases, patterns):
    """Prints the role's non-OK cases and summary; returns (passed, failed, pending).

    `results` is None when the role has no report: every case is missing, said in one line.
    """
    passed = failed = 0
    pending = {}
    quiet = results is None
    results = results or {}
    for case_id in cases:
        result = results.get(case_id)
        pattern = pending_pattern(case_id, patterns)
        if result is None:
            behavior = close = "MISSING"
            detail = "missing from the report"
        else:
            behavior = result.get("behavior", "MISSING")
            close = result.get("behaviorClose", "MISSING")
            detail = (
                f"behavior {behavior}, close {close}, "
                f"remote close code {result.get('remoteCloseCode')}"
            )
        ok = behavior in PASSING and close in PASSING
        if ok:
            passed += 1
            if pattern is not None:
                print(f"{role} {case_id}: passes but matches {pattern!r} in the pending list")
            elif behavior != "OK" or close != "OK":
                print(f"{role} {case_id}: pass ({detail})")
        elif pattern is not None:
            pending.setdefault(pattern, Counter())[behavior] += 1
        else:
            failed += 1
            if not quiet:
                print(f"{role} {case_id}: FAIL ({detail})")
    extra = sorted(set(results) - set(cases), key=case_key)
    if extra:
        print(f"{role}: {len(extra)} cases in the report but not in the case list: {' '.join(extra)}")
    n_pending = sum(sum(c.values()) for c in pending.values())
    if n_pending:
        parts = []
        for pattern, counter in pending.items():
            kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items()))
            parts.append(f"{pattern} ({kinds})")
        print(f"{role}: {n_pending} pending (expected): {'; '.join(parts)}")
    print(f"{role}: {passed} passed, {failed} failed")
    return passed, failed, n_pending


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", required=True, help="file with every case id, one a line")
    parser.add_argument("--pending", help="file with expected-pending case ids or globs")
    parser.add_argument("--agent", default="lowbit", help="agent name in index.json")
    parser.add_argument("reports", nargs="+", metavar="ROLE=INDEX.json")
    args = parser.parse_args()

    try:
        cases = sorted(set(read_lines(args.cases)), key=case_key)
        patterns = read_lines(args.pending) if args.pending else []
    except (OSError, ValueError) as err:
        print(f"judge.py: {err}", file=sys.stderr)
        return 2
    if not cases:
        print(f"judge.py: {args.cases} lists no cases", file=sys.stderr)
        return 2

    total_passed = total_failed = 0
    for spec in args.reports:
        role, sep, path = spec.partition("=")
        if not sep:
            parser.error(f"expected ROLE=INDEX.json, got {spec!r}")
        try:
            results = load_results(path, args.agent)
        except (OSError, ValueError) as err:
            # No usable report: every case of the role is missing.
            print(f"{role}: no report, every case is missing ({err})")
            results = None
        passed, failed, _ = judge_role(role, results, cases, patterns)
        total_passed += passed
        total_failed += failed
    print(f"{total_passed} passed, {total_failed} failed")
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
