"""Pure CP-SAT scheduling models for the SME University.

Plain dataclasses in, plain dataclasses out; OR-Tools inside. Nothing here knows about the web
service or the database, and nothing here imports ``courses``.
"""
