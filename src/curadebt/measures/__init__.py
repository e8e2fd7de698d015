"""Audit measures (one module per measure), the debt score and the audit runner."""
