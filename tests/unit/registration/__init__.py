"""Unit tests of the grouped-device registration validator."""
