"""Vraagpunt's Streamlit pages and the helpers they share (resources, rendering, feedback store)."""
