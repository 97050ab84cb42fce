"""Data-quality assessment of collection and sharing (归集共享质效评估)."""
