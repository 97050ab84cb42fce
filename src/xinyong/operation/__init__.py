"""Authorised operation (授权运营): aggregated data products for operators under a contract."""
