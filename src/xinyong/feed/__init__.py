"""Upward feed (向上级平台报送): records flow from this platform to a higher-level one, by cursor."""
