"""Routing: the jurisdiction, the assignment of reports to agencies, the staff workflow."""
