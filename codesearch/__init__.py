"""codesearch: semantic code search over your repositories."""
