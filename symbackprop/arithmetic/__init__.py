"""Arithmetic: exact rationals and certified balls (certified), and how the values of a derivation
are carried, compared and written as correctly rounded decimals (numeric). Imports nothing of the
rest of the package, so every layer above can count on it."""
