"""What a data officer reads and does in the UI, as plain functions over the store.

Why a package of its own: the Airflow plugin stays a thin layer of pages over these, the
same answers can be had from the command line or a test, and the core stays free of
Airflow. Every function returns ids, counts, rules and reasons; values of a row or a
record only when the caller asks for them, and then the asking is audited.
"""
