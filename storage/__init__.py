"""Content-addressed blobs: ingest a stream while hashing, store, open, serve.

Imports nothing from `registry` or `formats` (tests/test_architecture.py holds this).
"""
