"""The operator's commands behind `cli.py`: errors, output, sync, release, cases (0086)."""
