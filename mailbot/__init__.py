"""mailbot: runs the E-DE-F-010 action-plan process of a Colombian municipality by e-mail."""

__version__ = "0.1.0"
