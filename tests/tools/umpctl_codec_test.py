#!/usr/bin/env python3
"""Drives the real umpctl binary with the cases in tests/vectors/umpctl_codec.txt.

One case a line:  arguments | exit code | expected stdout | expected stderr
- arguments are split like a shell would (shlex); `<<< TEXT` at the end feeds TEXT on stdin;
- stdout is compared exactly, with `\\n` standing for a line break (a final one is implied
  when stdout is not empty); `*` means "don't care";
- stderr must contain the given text (empty: stderr must be empty).
"""
import shlex
import subprocess
import sys


def main() -> int:
    umpctl, vectors = sys.argv[1], sys.argv[2]
    failures = 0
    cases = 0
    with open(f"{vectors}/umpctl_codec.txt", encoding="utf-8") as f:
        for line_no, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = [x.strip() for x in line.split("|")]
            if len(fields) != 4:
                print(f"umpctl_codec.txt:{line_no}: expected 4 fields, got {len(fields)}")
                return 1
            args, code, out, err = fields
            stdin = None
            if "<<<" in args:
                args, stdin = (x.strip() for x in args.split("<<<", 1))
                stdin = stdin.replace("\\n", "\n") + "\n"
            argv = [umpctl] + shlex.split(args)
            proc = subprocess.run(argv, input=stdin or "", capture_output=True, text=True, timeout=20)
            cases += 1
            problems = []
            if proc.returncode != int(code):
                problems.append(f"exit code {proc.returncode}, expected {code}")
            if out != "*":
                expected = out.replace("\\n", "\n") + ("\n" if out else "")
                if proc.stdout != expected:
                    problems.append(f"stdout:\n{proc.stdout}--- expected:\n{expected}---")
            if err == "":
                if proc.stderr:
                    problems.append(f"unexpected stderr: {proc.stderr!r}")
            elif err not in proc.stderr:
                problems.append(f"stderr {proc.stderr!r} does not contain {err!r}")
            if problems:
                failures += 1
                print(f"FAIL umpctl_codec.txt:{line_no}: umpctl {args}")
                for p in problems:
                    print("   ", p)
    print(f"{cases - failures} passed, {failures} failed")
    return 1 if failures or cases == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
