"""Walking repositories, chunking files with tree-sitter, and syncing the index."""
