"""Helpers shared by several test modules (constants, stand-ins, builders of test inputs).

Test modules import them from here, never from one another; shared pytest fixtures live in
``tests/conftest.py`` (lightning-hydra-template's ``tests/helpers`` layout).
"""
