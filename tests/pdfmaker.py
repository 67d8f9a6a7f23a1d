"""Small real PDFs for tests (the writer lives in evals/pdfwrite.py; the benchmark uses it too)."""

from evals.pdfwrite import make_pdf

__all__ = ["make_pdf"]
