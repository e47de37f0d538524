"""The asyncio SPOP service HAProxy talks to: server, message handlers, metrics.

Uses ``agent.spop`` for the protocol and ``agent.engine`` for the work; nothing imports it back.
"""
