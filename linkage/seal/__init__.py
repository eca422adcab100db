"""Keys and sealing: survivors' personal values are stored encrypted, never in clear.

Why a package of its own: the store, the ingest archive, exports and blocking all need the
same keys, and one place decides how a value is sealed, which key opened it, and who saw it.
"""
