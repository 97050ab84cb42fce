"""Exit and rights (退): credit repair (信用修复) and objections (异议)."""
