"""Helpers of ``benchmarks/run.py`` (one module per section plus shared utilities).

Not part of the installed package: ``run.py`` puts ``benchmarks/`` on
``sys.path`` (it is the script's directory) and imports ``ldbench`` from there.
"""
