"""Credit commitments (信用承诺): made, published, kept or broken — a breach is a dishonesty record."""
