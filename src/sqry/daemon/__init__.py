"""daemon package (kept empty so importing it stays cheap)."""
