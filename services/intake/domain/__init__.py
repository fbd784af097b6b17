"""Intake's domain: plain Python rules, no FastAPI, FastStream or PyMongo."""
