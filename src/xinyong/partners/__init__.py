"""Internet platform data partners (互联网平台数据合作): the list feed for joint constraint."""
