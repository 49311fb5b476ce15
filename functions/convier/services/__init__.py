"""The use cases, one call per staff or recipient action; clients and hooks are handed in.

The CLI, the Lambda handlers and the console call these and nothing below them. Services never load
`convier.local` (the embedded default): what it adds (outbox copies, the moto recording) comes in as hooks.
"""
