"""Placeholder: filled in by the issue 15 work (see bench_distributed)."""


def main() -> None:
    raise SystemExit("not built yet")
