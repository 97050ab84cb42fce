"""Subject authorisation (授权): grants to institutions, authorised queries, cross-border controls."""
