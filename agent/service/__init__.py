"""The asyncio SPOP service HAProxy talks to: server, message handlers, metrics, and the supervisor that
keeps N agent processes running (restarts the dead, replaces the stalled).

Uses ``agent.spop`` for the protocol and ``agent.engine`` for the work; nothing imports it back.
"""
