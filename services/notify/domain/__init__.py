"""Notify's domain: who hears what, status changes, retries, signatures. No framework imports."""
