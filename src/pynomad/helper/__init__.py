"""Helpers every other package may use: Go's text formats and the clock.

Imports nothing from pynomad (it is first in the layering order).
"""
