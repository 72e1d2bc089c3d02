"""Mutation testing of the Prefect flows: small faults put into a flow one at a time, each of which some parity case
must notice (`make mutate`). `mutants` makes the faults (no engine), `runner` runs the cases on them, `command` is
the `cookbook mutate` subcommand."""
