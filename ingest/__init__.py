"""Ingest: load files, clean their text, chunk them and write the index."""
