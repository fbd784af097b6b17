"""Routing's domain: plain Python, no framework or database imports."""
