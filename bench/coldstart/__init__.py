"""`python -m bench.coldstart` (`make bench-cold`): what each function costs before its
first line runs.

For every function of the template: its zip's size packed and unpacked and what it
holds, the time to import its handler in a fresh interpreter laid out as Lambda lays it
out (the zip, then its layers, then the runtime's boto3), next to a bare ``import
boto3`` in the same run, and its first and second invocation against the emulator.
docs/performance.md has the figures and how to read them.
"""
