"""Alembic's environment for the state schema (delivery/state_tables.py).

Run through ``delivery.statestore.migrate`` (``newsletter db migrate``), never with an
alembic.ini: the connection comes in ``config.attributes['connection']``.
"""
