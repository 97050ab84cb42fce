"""Xinyong (信用): an open public credit information platform."""

__version__ = "0.1.0"
