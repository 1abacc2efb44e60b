"""The ``casewire`` command: operator tools on top of everything else (tokens, demo data, imports, the
audit log, the compliance report, search indices, metrics tallies, dead letters, probes). It may import
any package; nothing but ``casewire/__main__.py`` imports it."""
