"""Public disclosure (社会公开) of credit information."""
