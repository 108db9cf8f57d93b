"""Therapy: the prescription, the delivery modes and the dose limits (SPEC 3, 4, 9)."""
