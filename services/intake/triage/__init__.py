"""Training and evaluating intake's category model (issue 14). Runs in its own process
(`python -m services.intake.triage train|eval`): scikit-learn is imported here only, never by
the serving process, which evaluates the exported model with `domain/triage.py`."""
