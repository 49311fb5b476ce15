"""The embedded default, for one person's machine: a moto server on 127.0.0.1, its recording, the links
server, the local worker and the outbox. Only the CLI (`convier.cli.target`) wires it in."""
