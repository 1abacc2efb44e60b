"""Intake: every detection hit becomes a structured, assigned, documented alert."""
