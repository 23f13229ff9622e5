"""Parsing: text to the model. The `ast` whitelist for expressions and numbers (expressions), the
hardened YAML reader and problem files (problems), the `layers:` shorthand (layers) and `data:`
(data). Nothing in an input is executed; every error names the file, key and line."""
