"""diagnose: a rule-based troubleshooting expert system for cloud support questions."""

__version__ = "0.1.0"
