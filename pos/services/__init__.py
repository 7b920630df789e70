"""The use cases: one function each, called alike by the cashier app, the CLI and the headless gate.

Every use case takes the runtime, the acting operator (an `Actor`) and plain values, checks the actor's role,
runs one transaction and returns plain data (dataclasses or JSON-ready dicts). Faces (`pos/screens`,
`pos/commands`) call only these; they never open a transaction or import the table models.
"""
