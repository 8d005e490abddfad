//! The table-table join: every cell of ADR 0006 §3.3's table for INNER, LEFT, RIGHT and FULL.
