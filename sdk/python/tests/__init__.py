"""Tests of the Python SDK (run: /usr/bin/python3.11 -I -S -m unittest discover -s tests -t . in sdk/python)."""
