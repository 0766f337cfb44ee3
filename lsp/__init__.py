"""The language server (pygls). Built in the language-server issue; this package reserves its place."""
