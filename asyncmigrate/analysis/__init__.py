"""Analysis: file discovery, facade call sites, name resolution, the reach summary, the call graph and signatures.

Reads code, never writes it."""
