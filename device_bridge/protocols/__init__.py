"""Pure parsers for indicator protocols: bytes in, readings out, no I/O."""
