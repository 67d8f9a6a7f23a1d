"""Retrieval: hybrid search over the index and answers composed from the hits."""
