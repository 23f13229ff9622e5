"""Homework at class scale (issue 14): per-student variants drawn and checked, the class's files,
and the exports to Moodle, Canvas and Gradescope."""
