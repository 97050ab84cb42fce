"""信易贷: credit-based lending for small firms on top of subject authorisations (grants)."""
