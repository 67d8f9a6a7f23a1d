"""Vraagpunt: Dutch question answering over Leerpunt's documents with cited passages."""

__version__ = "0.1.0"
