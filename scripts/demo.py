"""The main job behind `make demo` (filled in as parts land)."""
