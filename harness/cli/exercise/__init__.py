"""Exercises: a participant fixes a scenario's buggy Go file; the harness runs it and judges the fix."""
