"""`cli.py seed-demo`: a small, realistic world made through the HTTP API (every transition
through its workflow), so a newcomer sees every kind of case in the UI at once."""
