"""Checking a hand calculation: claims read (claims), judged to the digits written (judge), with the
quantities they name (answers), formulas by equivalence (equivalence), wrong numbers explained by
the common mistakes (mistakes) or by an earlier wrong claim (consequences), and the report."""
