"""The monthly cost model: this design against API Gateway WebSockets and AppSync Events.

`python -m cost` (or `make cost`) prices the user's numbers; docs/cost.md explains the
model and works one example by hand, docs/capacity.md the limits it reports.
"""
